/*
 * Trash: destroyed buckets are renamed into <mpath>/.trash/<name>.<random> and removed by one
 * background thread per mountpath set.
 *
 * Design notes: the rename is atomic on one filesystem, so a destroy is O(mountpaths) and the
 * bucket vanishes for readers at once; the BMD callback that destroys a bucket never walks a
 * tree. The remover sleeps on a condition variable and, when kicked, empties every mountpath's
 * trash entry by entry; the pass at startup removes what a crash left behind. Removal checks a
 * stop flag between files (nftw has no context argument, so the flag reaches the callback
 * through a thread-local pointer: only the remover thread ever sets it), which makes stop
 * prompt even in the middle of a huge tree; the rest is removed at the next open. `passes`
 * counts completed passes so a waiter can tell "a pass that started after my kick finished".
 */
#include "common/assert.h"
#include "common/log.h"
#include "common/util.h"
#include "storage/storage.h"
#include "storage/storage_int.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* nftw keeps at most this many directory fds open while removing one tree. */
#define ST_TRASH_NFTW_FDS_MAX 16

struct st_trash {
    const struct st_mpaths *mp;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cond;      /* kick or stop (remover waits) */
    pthread_cond_t done_cond; /* a pass ended (waiters wait) */
    int started;
    int stop;         /* atomic: read by the remover between files */
    uint64_t kicks;   /* under mu: kicks requested */
    uint64_t handled; /* under mu: kicks seen by the last pass that started */
    uint64_t passes;  /* under mu: completed passes */
    int busy;         /* under mu: a pass is running */
};

static _Thread_local const int *trash_stop_flag;

static int
trash_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (trash_stop_flag != NULL && __atomic_load_n(trash_stop_flag, __ATOMIC_ACQUIRE)) {
        return ECANCELED;
    }
    int rc = flag == FTW_DP ? rmdir(path) : unlink(path);
    return rc < 0 && errno != ENOENT ? errno : 0;
}

/* Empties <mpath>/.trash (keeps the dir). Stops early on stop; errors are logged. */
static void
trash_empty_one(struct st_trash *tr, const char *root)
{
    char dir[AIS_PATH_BYTES_MAX], path[AIS_PATH_BYTES_MAX];
    if (st_path_fmt(dir, sizeof(dir), "%s/%s", root, ST_DIR_TRASH) < 0) {
        return;
    }
    DIR *d = opendir(dir);
    if (d == NULL) {
        return;
    }
    struct dirent *de;
    while (!__atomic_load_n(&tr->stop, __ATOMIC_ACQUIRE) && (de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
            st_path_fmt(path, sizeof(path), "%s/%s", dir, de->d_name) < 0) {
            continue;
        }
        int rc = nftw(path, trash_rm_one, ST_TRASH_NFTW_FDS_MAX, FTW_DEPTH | FTW_PHYS);
        if (rc != 0 && rc != ECANCELED && !(rc < 0 && errno == ENOENT)) {
            AIS_LOG_WARN("req=- msg=\"trash removal failed\" path=%s err=%d", path,
                         rc < 0 ? -errno : -rc);
        }
    }
    closedir(d);
}

static void *
trash_main(void *arg)
{
    struct st_trash *tr = arg;
    trash_stop_flag = &tr->stop;
    pthread_mutex_lock(&tr->mu);
    for (;;) {
        while (!tr->stop && tr->handled == tr->kicks) {
            pthread_cond_wait(&tr->cond, &tr->mu);
        }
        if (tr->stop) {
            break;
        }
        tr->handled = tr->kicks;
        tr->busy = 1;
        pthread_mutex_unlock(&tr->mu);
        const struct st_mpset *s = st_mpset_ref(tr->mp);
        for (size_t i = 0; i < s->nslots; i++) {
            if (s->paths[i] != NULL) {
                trash_empty_one(tr, s->paths[i]); /* interned: valid after the unref too */
            }
        }
        st_mpset_unref(tr->mp, s);
        pthread_mutex_lock(&tr->mu);
        tr->busy = 0;
        tr->passes++;
        pthread_cond_broadcast(&tr->done_cond);
    }
    pthread_mutex_unlock(&tr->mu);
    return NULL;
}

int
st_trash_start(const struct st_mpaths *mp, struct st_trash **out)
{
    AIS_ASSERT(mp != NULL);
    AIS_ASSERT(out != NULL);
    struct st_trash *tr = calloc(1, sizeof(*tr));
    if (tr == NULL) {
        return -ENOMEM;
    }
    tr->mp = mp;
    tr->kicks = 1; /* the first pass sweeps crash leftovers */
    int rc = pthread_mutex_init(&tr->mu, NULL);
    if (rc == 0 && (rc = pthread_cond_init(&tr->cond, NULL)) != 0) {
        pthread_mutex_destroy(&tr->mu);
    }
    if (rc == 0 && (rc = pthread_cond_init(&tr->done_cond, NULL)) != 0) {
        pthread_cond_destroy(&tr->cond);
        pthread_mutex_destroy(&tr->mu);
    }
    if (rc == 0 && (rc = pthread_create(&tr->thread, NULL, trash_main, tr)) != 0) {
        pthread_cond_destroy(&tr->done_cond);
        pthread_cond_destroy(&tr->cond);
        pthread_mutex_destroy(&tr->mu);
    }
    if (rc != 0) {
        AIS_LOG_ERR("req=start msg=\"cannot start trash remover\" err=%d", rc);
        free(tr);
        return -rc;
    }
    tr->started = 1;
    *out = tr;
    return 0;
}

void
st_trash_stop(struct st_trash *tr)
{
    if (tr == NULL) {
        return;
    }
    pthread_mutex_lock(&tr->mu);
    __atomic_store_n(&tr->stop, 1, __ATOMIC_RELEASE);
    pthread_cond_broadcast(&tr->cond);
    pthread_mutex_unlock(&tr->mu);
    if (tr->started) {
        pthread_join(tr->thread, NULL);
    }
    pthread_cond_destroy(&tr->done_cond);
    pthread_cond_destroy(&tr->cond);
    pthread_mutex_destroy(&tr->mu);
    free(tr);
}

void
st_trash_kick(struct st_trash *tr)
{
    AIS_ASSERT(tr != NULL);
    pthread_mutex_lock(&tr->mu);
    tr->kicks++;
    pthread_cond_signal(&tr->cond);
    pthread_mutex_unlock(&tr->mu);
}

/* 1 when every mountpath's trash is missing or empty. */
static int
trash_is_empty(const struct st_mpaths *mp)
{
    char dir[AIS_PATH_BYTES_MAX];
    size_t n = st_mpaths_count(mp);
    for (size_t i = 0; i < n; i++) {
        const char *root = st_mpaths_path(mp, i);
        if (root == NULL || st_path_fmt(dir, sizeof(dir), "%s/%s", root, ST_DIR_TRASH) < 0) {
            continue;
        }
        DIR *d = opendir(dir);
        if (d == NULL) {
            continue;
        }
        struct dirent *de;
        int found = 0;
        while (!found && (de = readdir(d)) != NULL) {
            found = strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
        }
        closedir(d);
        if (found) {
            return 0;
        }
    }
    return 1;
}

int
st_trash_wait(const struct st_mpaths *mp, int timeout_ms)
{
    AIS_ASSERT(mp != NULL);
    AIS_ASSERT(mp->trash != NULL);
    AIS_ASSERT(timeout_ms >= 0);
    struct st_trash *tr = mp->trash;
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    int rc = 0;
    pthread_mutex_lock(&tr->mu);
    /* Waits for a pass that started after every kick so far. */
    uint64_t want = tr->kicks;
    while (rc == 0 && (tr->handled < want || tr->busy)) {
        rc = pthread_cond_timedwait(&tr->done_cond, &tr->mu, &deadline);
    }
    pthread_mutex_unlock(&tr->mu);
    if (rc != 0) {
        return -ETIMEDOUT;
    }
    return trash_is_empty(mp) ? 0 : -ENOTEMPTY;
}

int
st_trash_move(const struct st_mpaths *mp, size_t i, const char *dir, const char *tag)
{
    AIS_ASSERT(mp != NULL);
    const char *root = st_mpaths_path(mp, i);
    if (root == NULL) {
        return 0; /* dropped meanwhile: nothing of ours there any more */
    }
    char trash[AIS_PATH_BYTES_MAX], id[17];
    int err = st_path_fmt(trash, sizeof(trash), "%s/%s", root, ST_DIR_TRASH);
    if (err >= 0 && mkdir(trash, 0755) < 0 && errno != EEXIST) {
        err = -errno;
    }
    if (err < 0) {
        return err;
    }
    ais_hex_u64(ais_rand_u64(), id);
    err = st_path_fmt(trash, sizeof(trash), "%s/%s/%s.%s", root, ST_DIR_TRASH, tag, id);
    if (err < 0) {
        return err;
    }
    if (rename(dir, trash) < 0) {
        return errno == ENOENT ? 0 : -errno;
    }
    return 1;
}
