/*
 * Reads inside shards (AIS "archpath"): GET (and HEAD) of one member, GET of several members as
 * a TAR stream (archregx + archmode), and of the member list (also for list-objects with the
 * arch-dir flag), for .tar, .tgz/.tar.gz, .zip and .tar.lz4 objects; and the TAR member index
 * built while a .tar object is PUT.
 *
 * Query parameters (AIS api/apc): archpath=MEMBER, archmime=FORMAT (overrides detection by
 * extension), archregx=EXPR with archmode=regexp|prefix|suffix|substr|wdskey, and ours:
 * archlist=true (the member list as list-objects JSON).
 *
 * The index of a .tar object lives in the sidecar file <bucket>/%ix/<obj> (storage/sidecar.h)
 * of the mountpath holding the copy, and names the object identity it was built for (size,
 * mtime, inode, checksum, version): a read compares it with the file it holds open, so an
 * overwritten shard is never served from the old index. A missing or stale index is rebuilt by
 * a scan on the first read. Responses carry `Ais-Archive-Index: hit|scan|none`.
 */
#ifndef AIS_TARGET_ARCH_H
#define AIS_TARGET_ARCH_H

#include "common/http.h"
#include "storage/storage.h"

#include <stddef.h>
#include <stdint.h>

struct tgt;
struct tgt_arch_put;

/* 1 when a GET asks for something inside the object (archpath, archregx or archlist). */
int tgt_arch_wanted(struct ais_req *r);
/*
 * Serves the archive request of r from fd (the object as opened by the GET, md its metadata);
 * takes fd in all cases and responds exactly once. display/obj name the object in messages.
 * A HEAD with archpath answers the member's size as Content-Length without a body (404 naming
 * the member, as the GET). Blocks on local disk reads only.
 */
void tgt_arch_get(struct tgt *t, struct ais_req *r, const struct st_bck *bck, const char *display,
                  const char *obj, int fd, const struct st_obj_md *md);

/* One member for tgt_arch_members: its name (no leading "./" or "/") and size. */
typedef int (*tgt_arch_member_fn)(void *ctx, const char *name, uint64_t size);
/* 1 when obj's name has an archive extension (.tar, .tgz, .tar.gz, .zip, .tar.lz4). */
int tgt_arch_name_is(const char *obj);
/*
 * List-objects with the arch-dir flag: calls fn for each regular member of the shard in fd (md
 * its metadata), in archive order; a TAR without a valid index is scanned and indexed first,
 * as for a GET. Does not take fd. 0, -ENOTSUP (no archive extension), -EBADMSG (not a valid
 * archive), fn's non-zero value, or negative errno. Blocks on local disk reads only.
 */
int tgt_arch_members(struct tgt *t, const struct st_bck *bck, const char *obj, int fd,
                     const struct st_obj_md *md, tgt_arch_member_fn fn, void *ctx);

/*
 * PUT hook: for objects named *.tar, parses the body as it streams (feed) and writes the index
 * to a work file; finish stores it for the published object (md from st_put_finish). NULL when
 * not a tar name or on any failure (the first read then scans). Indexing never fails a PUT:
 * a body that is not a valid TAR just gets no index. One thread per PUT; all accept NULL.
 */
struct tgt_arch_put *tgt_arch_put_begin(struct tgt *t, const struct st_bck *bck, const char *obj,
                                        uint64_t digest);
void tgt_arch_put_feed(struct tgt_arch_put *ap, const void *data, size_t len);
/* Frees ap. */
void tgt_arch_put_finish(struct tgt_arch_put *ap, const struct st_obj_md *md);
/* Frees ap, dropping its work file. */
void tgt_arch_put_abort(struct tgt_arch_put *ap);
/*
 * Archived file path of the object open at fd (md its metadata; the descriptor stays the
 * caller's): *size its bytes and, when len > 0, up to len of them from off into buf (*got).
 * A TAR member is one pread; in a compressed archive the bytes before off are decompressed and
 * skipped. 0, -ENOENT (no such archived file), -EBADMSG (not an archive of that format),
 * -EINVAL (unknown format), or negative errno.
 */
int tgt_arch_read(struct tgt *t, const struct st_bck *bck, const char *obj, int fd,
                  const struct st_obj_md *md, const char *path, uint64_t off, void *buf,
                  size_t len, uint64_t *size, size_t *got);
/* The object was deleted: its member index (on any mountpath) goes too. Best effort. */
void tgt_arch_forget(struct tgt *t, const struct st_bck *bck, const char *obj);

#endif
