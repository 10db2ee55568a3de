/*
 * Writing archives with libarchive: one setup of a writer for a shard format and one way to
 * add a regular member, shared by dSort's shard builder (dsort/create.c), the archive job
 * (target/arch_bck.c) and batch GET's compressed replies (target/moss.c).
 */
#ifndef AIS_COMMON_ARCHW_H
#define AIS_COMMON_ARCHW_H

#include <stddef.h>
#include <stdint.h>

struct archive;

/*
 * Sets the format of writer a by extension: ".tar" (pax restricted: ustar unless a name or
 * size needs pax records), ".tgz"/".tar.gz" (gzip), ".tar.lz4" (lz4), ".zip" (stored, not
 * deflated: shards hold compressed media); the last block is not padded. 0 or -ENOTSUP.
 */
int ais_archw_format(struct archive *a, const char *ext);
/* Writes the header of a regular member (mode 0644). 0, -ENOMEM or -EIO. */
int ais_archw_entry(struct archive *a, const char *name, uint64_t size, int64_t mtime_s);
/* Writes n bytes of the current member's data. 0 or -EIO. */
int ais_archw_data(struct archive *a, const void *p, size_t n);

#endif
