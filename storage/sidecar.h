/*
 * Sidecar files: per-object records that services keep next to an object, in a content dir of
 * its bucket that listing never shows:
 *   <mpath>/@<provider>/[<ns>/]<bucket>/<ct>/<objname>
 * e.g. ST_DIR_ARCH_IX, the member index of a TAR shard (target/arch.h). The owning service does
 * the file I/O (write a work file in ST_DIR_WORK, rename into place) and decides when a record
 * is stale; storage only names the paths. Destroying the bucket removes them with its dirs.
 */
#ifndef AIS_STORAGE_SIDECAR_H
#define AIS_STORAGE_SIDECAR_H

#include "storage/storage.h"

#include <stddef.h>

#define ST_DIR_ARCH_IX "%ix"
#define ST_DIR_WORK_PUB "%wk"
#define ST_DIR_DSORT_WORK "%dw" /* dSort work files (dsort/) */

/*
 * Writes `<bucket dir of slot>/<ct>` and, when obj is not NULL, `/<obj>` to out (cap bytes).
 * Returns the length, -ENAMETOOLONG, or -ENOENT when the slot is free. Thread-safe.
 */
__attribute__((warn_unused_result)) int st_sidecar_path(const struct st_mpaths *mp, size_t slot,
                                                        const struct st_bck *bck, const char *ct,
                                                        const char *obj, char *out, size_t cap);

#endif
