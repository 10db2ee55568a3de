/* Shared within backend/ only. */
#ifndef AIS_BACKEND_BK_INT_H
#define AIS_BACKEND_BK_INT_H

#include "backend/backend.h"

#include <stddef.h>

/* A list reply of 1000 keys is ~300 KiB; anything past this is not a list page. */
#define BK_LIST_REPLY_BYTES_MAX (8u << 20)

/*
 * Parses a ListObjects (v1 or v2) reply (ListBucketResult XML) into out, in the order given. A
 * reply that is not well-formed XML, or says IsTruncated without a key to continue from, is -EIO.
 */
__attribute__((warn_unused_result)) int bk_list_parse(const char *xml, size_t len,
                                                      struct bk_page *out);

#endif
