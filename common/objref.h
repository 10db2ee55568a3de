/*
 * Parsing of the bucket/object part of REST paths (/v1/objects/<bck>/<obj>,
 * /v1/buckets/<bck>) plus provider and namespace query parameters, with validation.
 */
#ifndef AIS_COMMON_OBJREF_H
#define AIS_COMMON_OBJREF_H

#include "common/http.h"
#include "common/limits.h"

#include <stdint.h>

struct ais_objref {
    const char *provider; /* canonical static string */
    char ns[AIS_NS_BYTES_MAX];
    char bck[AIS_BCKNAME_BYTES_MAX + 1];
    char obj[AIS_OBJNAME_BYTES_MAX + 1]; /* "" when the path names only a bucket */
    uint64_t digest;                     /* HRW digest of the uname (objects only) */
    char display[AIS_BCKNAME_BYTES_MAX + AIS_NS_BYTES_MAX + 16]; /* "ais://bck" */
};

/*
 * Parses the path after `prefix` ("/v1/objects/" or "/v1/buckets/"). need_obj: 1 object
 * required, 0 bucket only (a trailing object part is an error), -1 optional.
 * Returns 0, or an HTTP status (400/404...) with a message in why (static or in msg).
 */
int ais_objref_parse(const struct ais_req *r, const char *prefix, int need_obj,
                     struct ais_objref *out, char *msg, size_t msg_cap);

#endif
