/*
 * Sidecar paths (storage/sidecar.h): the bucket dir of one slot plus a content dir and a name.
 */
#include "storage/sidecar.h"

#include "common/assert.h"
#include "storage/storage_int.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

static_assert(sizeof(ST_DIR_WORK_PUB) == sizeof(ST_DIR_WORK), "public work dir name matches");

int
st_sidecar_path(const struct st_mpaths *mp, size_t slot, const struct st_bck *bck, const char *ct,
                const char *obj, char *out, size_t cap)
{
    AIS_ASSERT(mp != NULL);
    AIS_ASSERT(ct != NULL && ct[0] == '%');
    int n = st_bck_ct_dir(mp, slot, bck, ct, out, cap);
    if (n < 0 || obj == NULL) {
        return n;
    }
    int m = snprintf(out + n, cap - (size_t)n, "/%s", obj);
    if (m < 0 || (size_t)m >= cap - (size_t)n) {
        return -ENAMETOOLONG;
    }
    return n + m;
}
