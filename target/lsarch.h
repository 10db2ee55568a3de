/*
 * List-objects with the arch-dir flag (AIS apc.LsArchDir, `ais ls BUCKET --archive`): one
 * target's page of objects in which every shard (.tar, .tgz, .tar.gz, .zip, .tar.lz4 by name)
 * is followed by its members as entries "<shard>/<member>" (flags 128, in-archive; the shard
 * gets 512, is-archive), the whole page in strcmp order and resumable after any name in it.
 */
#ifndef AIS_TARGET_LSARCH_H
#define AIS_TARGET_LSARCH_H

#include "rpc/rpc.h"
#include "storage/storage.h"

struct tgt;

/*
 * Fills page with the next q->limit (1..AIS_LIST_PAGE_MAX) entries after q->after and sets
 * *more when entries remain; members count toward the limit. Uses and keeps the list cursor
 * of the listing (lcache.h). Memory: about two pages of names, whatever the member counts.
 * A shard that cannot be read is listed without members (and without flag 512). Blocks on
 * local disk reads (each shard with members in the page is read once). 0, -ENOENT (no bucket
 * dirs), -E2BIG (more than 16 shards at once whose names extend each other, each with members
 * still to list), -ENOMEM, or a walk error; on error page may hold entries (the caller's
 * rpc_list_page_fini frees them).
 */
__attribute__((warn_unused_result)) int tgt_lsarch_page(struct tgt *t, const struct st_bck *b,
                                                        const struct rpc_list_req *q,
                                                        struct rpc_list_page *page, int *more);

#endif
