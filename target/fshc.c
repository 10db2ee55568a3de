/*
 * FSHC, the filesystem health checker: finds a mountpath whose disk failed and takes it out.
 *
 * Design notes: one thread per target probes every available mountpath every
 * AIS_FSHC_PERIOD_MS, and at once when a request hit an I/O error (tgt_fshc_kick). A probe
 * writes AIS_FSHC_PROBE_BYTES to a file in the mountpath root, fsyncs, reads it back and
 * compares, then removes it; a root that is gone or not a directory, or any I/O error on the
 * way, fails the mountpath. A full disk (ENOSPC, EDQUOT) is not a failure. A failed mountpath is
 * disabled through the same path an admin's disable takes (tgt_mpath_fault: persisted, marked
 * faulty so a restart retries it, resilver started), so its objects are re-protected from the
 * redundancy that remains (mirror copies on the other mountpaths) and new objects go elsewhere;
 * the last available mountpath is never disabled (logged instead). The probe runs on this
 * thread, never on a request's.
 */
#include "common/log.h"
#include "common/util.h"
#include "target/target_int.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct tgt_fshc {
    struct tgt *t;
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* CLOCK_MONOTONIC */
    int kicked, stopping;
    uint64_t probes, failed; /* under mu */
};

/* 0 healthy (or full), else the negative errno of the step that failed; *step names it. */
static int
probe(const char *root, const char **step)
{
    char path[AIS_PATH_BYTES_MAX];
    struct stat st;
    static const char pattern[] = "ais-fshc-probe";
    char *buf = malloc(2 * AIS_FSHC_PROBE_BYTES);
    *step = "stat";
    if (buf == NULL) {
        return 0; /* our memory, not the disk: nothing to conclude */
    }
    int err = stat(root, &st) < 0 ? -errno : S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
    int fd = -1;
    if (err == 0) {
        *step = "create";
        snprintf(path, sizeof(path), "%s/.ais.fshc.%ld", root, (long)getpid());
        fd = open(path, O_CREAT | O_TRUNC | O_RDWR | O_CLOEXEC, 0600);
        err = fd < 0 ? -errno : 0;
    }
    for (size_t i = 0; i < AIS_FSHC_PROBE_BYTES; i++) {
        buf[i] = pattern[i % (sizeof(pattern) - 1)];
    }
    if (err == 0) {
        *step = "write";
        ssize_t w = pwrite(fd, buf, AIS_FSHC_PROBE_BYTES, 0);
        err = w < 0 ? -errno : w != (ssize_t)AIS_FSHC_PROBE_BYTES ? -EIO : 0;
    }
    if (err == 0) {
        *step = "fsync";
        err = fsync(fd) < 0 ? -errno : 0;
    }
    if (err == 0) {
        *step = "read";
        ssize_t n = pread(fd, buf + AIS_FSHC_PROBE_BYTES, AIS_FSHC_PROBE_BYTES, 0);
        err = n < 0 ? -errno
              : n != (ssize_t)AIS_FSHC_PROBE_BYTES ||
                      memcmp(buf, buf + AIS_FSHC_PROBE_BYTES, AIS_FSHC_PROBE_BYTES) != 0
                  ? -EIO
                  : 0;
    }
    if (fd >= 0) {
        close(fd);
        unlink(path);
    }
    free(buf);
    return err == -ENOSPC || err == -EDQUOT ? 0 : err;
}

static void
probe_all(struct tgt_fshc *f)
{
    struct tgt *t = f->t;
    size_t n = st_mpaths_count(t->mp);
    for (size_t i = 0; i < n; i++) {
        const char *root = st_mpaths_path(t->mp, i);
        const char *step = "";
        if (root == NULL || st_mpaths_state(t->mp, i) != ST_MPATH_AVAIL) {
            continue;
        }
        int err = probe(root, &step);
        pthread_mutex_lock(&f->mu);
        f->probes++;
        f->failed += err != 0;
        pthread_mutex_unlock(&f->mu);
        if (err != 0) {
            char why[160];
            snprintf(why, sizeof(why), "%s failed: %s", step, strerror(-err));
            tgt_mpath_fault(t, i, why);
        }
    }
}

static void *
fshc_main(void *arg)
{
    struct tgt_fshc *f = arg;
    ais_thread_background();
    pthread_mutex_lock(&f->mu);
    while (!f->stopping) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += AIS_FSHC_PERIOD_MS / 1000;
        until.tv_nsec += (long)(AIS_FSHC_PERIOD_MS % 1000) * 1000000;
        if (until.tv_nsec >= 1000000000) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000;
        }
        /* Bounded: ends at the period, a kick or stop. */
        while (!f->stopping && !f->kicked &&
               pthread_cond_timedwait(&f->cv, &f->mu, &until) != ETIMEDOUT) {
        }
        if (f->stopping) {
            break;
        }
        f->kicked = 0;
        pthread_mutex_unlock(&f->mu);
        probe_all(f);
        pthread_mutex_lock(&f->mu);
    }
    pthread_mutex_unlock(&f->mu);
    return NULL;
}

int
tgt_fshc_start(struct tgt *t, struct tgt_fshc **out)
{
    struct tgt_fshc *f = calloc(1, sizeof(*f));
    pthread_condattr_t ca;
    if (f == NULL) {
        return -ENOMEM;
    }
    f->t = t;
    pthread_mutex_init(&f->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&f->cv, &ca);
    pthread_condattr_destroy(&ca);
    int rc = pthread_create(&f->th, NULL, fshc_main, f);
    if (rc != 0) {
        pthread_cond_destroy(&f->cv);
        pthread_mutex_destroy(&f->mu);
        free(f);
        return -rc;
    }
    *out = f;
    return 0;
}

void
tgt_fshc_stop(struct tgt_fshc *f)
{
    if (f == NULL) {
        return;
    }
    pthread_mutex_lock(&f->mu);
    f->stopping = 1;
    pthread_cond_signal(&f->cv);
    pthread_mutex_unlock(&f->mu);
    pthread_join(f->th, NULL);
    pthread_cond_destroy(&f->cv);
    pthread_mutex_destroy(&f->mu);
    free(f);
}

void
tgt_fshc_kick(struct tgt *t, int err)
{
    struct tgt_fshc *f = __atomic_load_n(&t->fshc, __ATOMIC_ACQUIRE);
    if (f == NULL || (err != -EIO && err != -EROFS && err != -ENXIO && err != -ENODEV)) {
        return; /* not a sign of a failing disk */
    }
    pthread_mutex_lock(&f->mu);
    f->kicked = 1;
    pthread_cond_signal(&f->cv);
    pthread_mutex_unlock(&f->mu);
}
