/*
 * Object locks: a striped table of reader/writer locks keyed by the object's name digest.
 *
 * Design notes: one table per mountpath set, fixed at AIS_OBJ_LOCK_STRIPES stripes, so the
 * memory is constant and lookup is one multiply. Two objects that share a stripe only
 * serialise their exclusive sections, and those are kept short on purpose: a PUT streams
 * into its work file unlocked and takes the exclusive lock only for the version
 * read-modify-write, the xattr and the rename; a GET holds the shared lock only across open and
 * metadata read (the descriptor keeps the inode after that). Locks are writer-preferring so a
 * stream of GETs cannot starve a PUT's finish. A thread holds at most one object lock at a
 * time, which is what makes the table deadlock-free (no lock ordering needed).
 */
#include "common/assert.h"
#include "common/limits.h"
#include "storage/storage.h"
#include "storage/storage_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

static_assert((AIS_OBJ_LOCK_STRIPES & (AIS_OBJ_LOCK_STRIPES - 1)) == 0,
              "stripe count must be a power of two");

struct st_locks {
    pthread_rwlock_t stripes[AIS_OBJ_LOCK_STRIPES];
};

int
st_locks_new(struct st_locks **out)
{
    AIS_ASSERT(out != NULL);
    pthread_rwlockattr_t attr;
    struct st_locks *l = calloc(1, sizeof(*l));
    if (l == NULL) {
        return -ENOMEM;
    }
    int rc = pthread_rwlockattr_init(&attr);
    if (rc != 0) {
        free(l);
        return -rc;
    }
    (void)pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    size_t i = 0;
    for (; i < AIS_OBJ_LOCK_STRIPES && rc == 0; i++) {
        rc = pthread_rwlock_init(&l->stripes[i], &attr);
    }
    pthread_rwlockattr_destroy(&attr);
    if (rc != 0) {
        for (size_t j = 0; j + 1 < i; j++) {
            pthread_rwlock_destroy(&l->stripes[j]);
        }
        free(l);
        return -rc;
    }
    *out = l;
    return 0;
}

void
st_locks_free(struct st_locks *l)
{
    if (l == NULL) {
        return;
    }
    for (size_t i = 0; i < AIS_OBJ_LOCK_STRIPES; i++) {
        pthread_rwlock_destroy(&l->stripes[i]);
    }
    free(l);
}

/* Fibonacci hashing: the high bits of digest * 2^64/phi spread any digest pattern evenly. */
static pthread_rwlock_t *
stripe_of(const struct st_mpaths *mp, uint64_t digest)
{
    AIS_ASSERT(mp != NULL);
    AIS_ASSERT(mp->locks != NULL);
    uint64_t h = digest * 0x9e3779b97f4a7c15ull;
    return &mp->locks->stripes[(h >> 32) & (AIS_OBJ_LOCK_STRIPES - 1)];
}

void
st_obj_lock_rd(const struct st_mpaths *mp, uint64_t digest)
{
    int rc = pthread_rwlock_rdlock(stripe_of(mp, digest));
    AIS_ASSERT(rc == 0); /* EDEADLK/EAGAIN are programmer errors (nested or leaked locks) */
}

void
st_obj_lock_wr(const struct st_mpaths *mp, uint64_t digest)
{
    int rc = pthread_rwlock_wrlock(stripe_of(mp, digest));
    AIS_ASSERT(rc == 0);
}

int
st_obj_trylock_wr(const struct st_mpaths *mp, uint64_t digest)
{
    int rc = pthread_rwlock_trywrlock(stripe_of(mp, digest));
    AIS_ASSERT(rc == 0 || rc == EBUSY);
    return -rc;
}

void
st_obj_unlock(const struct st_mpaths *mp, uint64_t digest)
{
    int rc = pthread_rwlock_unlock(stripe_of(mp, digest));
    AIS_ASSERT(rc == 0);
}
