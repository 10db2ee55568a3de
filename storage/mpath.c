/*
 * Mountpaths: opening, ownership, crash cleanup, the run-time changeable set, HRW choice.
 *
 * Design notes: readers (every GET/PUT) take a reference to the current set, an immutable
 * struct swapped by pointer under a spinlock that covers only the load and the increment, so
 * a change never blocks or tears a reader; changes are serialised by a mutex readers never
 * take. A mountpath keeps its slot from attach to drop (object metadata names a slot), and
 * path strings are interned once per handle (bounded by AIS_MPATH_NAMES_MAX) so a pointer
 * handed out stays valid however the set changes. A replaced set stays alive while someone
 * holds it; a PUT holds its set from begin to finish, so "no replaced set is alive"
 * (st_mpaths_drain) means no PUT can still publish on a mountpath that left the placement.
 * Paths are cleaned lexically like Go's filepath.Clean because the HRW digest of the cleaned
 * string must match AIS's. Ownership is an xattr on the root, claimed with XATTR_CREATE so two
 * daemons racing for one disk cannot both win. Crash leftovers are bounded by the layout:
 * work files live only in <mp>/@<prov>/[<ns>/]<bucket>/%wk, so cleanup walks a fixed depth
 * instead of the whole disk; destroyed buckets in <mp>/.trash are left to the background
 * remover (trash.c), so a large leftover does not delay startup.
 */
#include "common/assert.h"
#include "common/hrw.h"
#include "common/limits.h"
#include "common/log.h"
#include "common/util.h"
#include "storage/storage.h"
#include "storage/storage_int.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <time.h>

struct st_mpcur {
    int spin;               /* guards loads/stores of set and its reference count */
    struct st_mpset *set;   /* current */
    int retired;            /* atomic: replaced sets still referenced */
    pthread_mutex_t chg_mu; /* serialises changes */
    int chg_inited;
    char daemon_id[AIS_DAEMON_ID_BYTES_MAX + 1];
    size_t nnames; /* under chg_mu (readers only follow pointers already published) */
    char *names[AIS_MPATH_NAMES_MAX];
    uint64_t name_digests[AIS_MPATH_NAMES_MAX];
};

typedef int (*st_dirent_fn)(void *ctx, const char *path, const char *name);

/* Lexical clean: collapses "//", drops "." and trailing '/', resolves ".." (Go semantics). */
static void
path_clean(const char *in, char *out)
{
    size_t n = strlen(in), r = 0, w = 0, dotdot = 0;
    int rooted = n > 0 && in[0] == '/';
    if (rooted) {
        out[w++] = '/';
        r = dotdot = 1;
    }
    while (r < n) {
        if (in[r] == '/') {
            r++;
        } else if (in[r] == '.' && (r + 1 == n || in[r + 1] == '/')) {
            r++;
        } else if (in[r] == '.' && in[r + 1] == '.' && (r + 2 == n || in[r + 2] == '/')) {
            r += 2;
            if (w > dotdot) {
                for (w--; w > dotdot && out[w] != '/'; w--) {
                }
            } else if (!rooted) {
                if (w > 0) {
                    out[w++] = '/';
                }
                out[w++] = '.';
                out[w++] = '.';
                dotdot = w;
            }
        } else {
            if ((rooted && w != 1) || (!rooted && w != 0)) {
                out[w++] = '/';
            }
            for (; r < n && in[r] != '/'; r++) {
                out[w++] = in[r];
            }
        }
    }
    if (w == 0) {
        out[w++] = '.';
    }
    out[w] = '\0';
}

static int
daemon_id_claim(const char *root, const char *id)
{
    char cur[AIS_DAEMON_ID_BYTES_MAX + 1];
    size_t id_len = strlen(id);
    ssize_t n = getxattr(root, ST_XATTR_DAEMON_ID, cur, sizeof(cur) - 1);
    if (n >= 0) {
        return (size_t)n == id_len && memcmp(cur, id, id_len) == 0 ? 0 : -EEXIST;
    }
    if (errno == ERANGE) {
        return -EEXIST; /* longer than any id we would write: someone else's */
    }
    if (errno != ENODATA) {
        return -errno;
    }
    if (setxattr(root, ST_XATTR_DAEMON_ID, id, id_len, XATTR_CREATE) < 0) {
        return -errno; /* EEXIST: another daemon claimed it just now */
    }
    return 0;
}

/* Calls fn for every entry of dir except "." and "..". A missing dir or a file is empty. */
static int
dir_each(const char *dir, st_dirent_fn fn, void *ctx)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        return errno == ENOENT || errno == ENOTDIR ? 0 : -errno;
    }
    char path[AIS_PATH_BYTES_MAX];
    int err = 0;
    struct dirent *de;
    while (err == 0 && (de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) {
            continue;
        }
        err = st_path_fmt(path, sizeof(path), "%s/%s", dir, de->d_name);
        if (err >= 0) {
            err = fn(ctx, path, de->d_name);
        }
    }
    closedir(d);
    return err;
}

static int
wk_entry_remove(void *ctx, const char *path, const char *name)
{
    (void)ctx;
    AIS_LOG_INFO("req=- msg=\"removing leftover work file\" path=%s", path);
    return st_tree_remove(path);
}

static int
bck_wk_clean(void *ctx, const char *path, const char *name)
{
    char wk[AIS_PATH_BYTES_MAX];
    int err = st_path_fmt(wk, sizeof(wk), "%s/%s", path, ST_DIR_WORK);
    return err < 0 ? err : dir_each(wk, wk_entry_remove, ctx);
}

/* An entry under @<prov> is a namespace (starts with '#' or '@') or a bucket. */
static int
prov_entry_clean(void *ctx, const char *path, const char *name)
{
    if (name[0] == '#' || name[0] == '@') {
        return dir_each(path, bck_wk_clean, ctx);
    }
    return bck_wk_clean(ctx, path, name);
}

/* The trash is left to the remover thread, which sweeps it first thing (trash.c). */
static int
root_entry_clean(void *ctx, const char *path, const char *name)
{
    if (name[0] == '@') {
        return dir_each(path, prov_entry_clean, ctx);
    }
    return 0;
}

static int
mpath_prepare(const char *root, const char *daemon_id, int create)
{
    struct stat st;
    int err = create ? ais_mkdir_p(root) : 0;
    if (err == 0 && stat(root, &st) < 0) {
        err = -errno;
    }
    if (err == 0 && !S_ISDIR(st.st_mode)) {
        err = -ENOTDIR;
    }
    if (err == 0) {
        err = daemon_id_claim(root, daemon_id);
    }
    if (err == 0) {
        err = dir_each(root, root_entry_clean, NULL);
    }
    if (err < 0) {
        AIS_LOG_WARN("req=- msg=\"mountpath unusable\" path=%s err=\"%s\"", root, strerror(-err));
    }
    return err;
}

/* ---- the current set ---- */

static void
spin_lock(int *spin)
{
    /* Bounded in practice: the holder only loads a pointer and bumps a counter. */
    while (__atomic_exchange_n(spin, 1, __ATOMIC_ACQUIRE)) {
        while (__atomic_load_n(spin, __ATOMIC_RELAXED)) {
        }
    }
}

static void
spin_unlock(int *spin)
{
    __atomic_store_n(spin, 0, __ATOMIC_RELEASE);
}

const struct st_mpset *
st_mpset_ref(const struct st_mpaths *mp)
{
    AIS_ASSERT(mp != NULL);
    struct st_mpcur *c = mp->cur;
    spin_lock(&c->spin);
    struct st_mpset *s = c->set;
    __atomic_add_fetch(&s->refs, 1, __ATOMIC_RELAXED);
    spin_unlock(&c->spin);
    return s;
}

void
st_mpset_unref(const struct st_mpaths *mp, const struct st_mpset *cs)
{
    struct st_mpset *s = (struct st_mpset *)cs;
    if (s == NULL || __atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) != 0) {
        return;
    }
    if (s->retired) {
        __atomic_sub_fetch(&mp->cur->retired, 1, __ATOMIC_RELEASE);
    }
    free(s);
}

size_t
st_mpset_pick(const struct st_mpset *s, uint64_t digest)
{
    AIS_ASSERT(s->navail > 0);
    return s->avail[ais_hrw_pick(s->digests, s->navail, digest)];
}

size_t
st_mpset_rank(const struct st_mpset *s, uint64_t digest, size_t n, uint32_t *out)
{
    AIS_ASSERT(s->navail > 0);
    size_t k = ais_hrw_rank(s->digests, s->navail, digest, n, out);
    for (size_t i = 0; i < k; i++) {
        out[i] = s->avail[out[i]];
    }
    return k;
}

/* Recomputes nslots and the available list of s from paths[] and state[]. */
static void
set_index(struct st_mpset *s)
{
    s->nslots = 0;
    s->navail = 0;
    for (size_t i = 0; i < AIS_MPATHS_MAX; i++) {
        if (s->paths[i] == NULL) {
            continue;
        }
        s->nslots = i + 1;
        if (s->state[i] == ST_MPATH_AVAIL) {
            s->avail[s->navail] = (uint32_t)i;
            s->digests[s->navail] = s->slot_digests[i];
            s->navail++;
        }
    }
}

/* Publishes next (refs 1, held by the holder) and retires the old set. Under chg_mu. */
static void
set_publish(struct st_mpaths *mp, struct st_mpset *next)
{
    struct st_mpcur *c = mp->cur;
    set_index(next);
    next->refs = 1;
    next->retired = 0;
    spin_lock(&c->spin);
    struct st_mpset *old = c->set;
    if (old != NULL) {
        old->retired = 1; /* still under the spin and our reference: no unref frees it yet */
        __atomic_add_fetch(&c->retired, 1, __ATOMIC_RELAXED);
    }
    c->set = next;
    spin_unlock(&c->spin);
    st_mpset_unref(mp, old);
}

/* A private copy of the current set to edit (under chg_mu). NULL on OOM. */
static struct st_mpset *
set_clone(const struct st_mpaths *mp)
{
    const struct st_mpset *cur = mp->cur->set; /* chg_mu: nobody else publishes meanwhile */
    struct st_mpset *s = calloc(1, sizeof(*s));
    if (s != NULL) {
        s->gen = cur->gen + 1;
        memcpy(s->paths, cur->paths, sizeof(s->paths));
        memcpy(s->slot_digests, cur->slot_digests, sizeof(s->slot_digests));
        memcpy(s->state, cur->state, sizeof(s->state));
        set_index(s);
    }
    return s;
}

/* Interns a cleaned path (under chg_mu): its permanent string, or NULL (-ENOSPC / -ENOMEM). */
static const char *
name_intern(struct st_mpcur *c, const char *clean, int *err)
{
    for (size_t k = 0; k < c->nnames; k++) {
        if (strcmp(c->names[k], clean) == 0) {
            return c->names[k];
        }
    }
    if (c->nnames == AIS_MPATH_NAMES_MAX) {
        *err = -ENOSPC;
        return NULL;
    }
    char *dup = strdup(clean);
    if (dup == NULL) {
        *err = -ENOMEM;
        return NULL;
    }
    c->names[c->nnames] = dup;
    c->name_digests[c->nnames] = ais_hrw_digest(dup, strlen(dup));
    c->nnames++;
    return dup;
}

/* Cleans path into out (AIS_PATH_BYTES_MAX + 2). -EINVAL empty, -ENAMETOOLONG. */
static int
clean_of(const char *path, char *out)
{
    size_t len = path != NULL ? strlen(path) : 0;
    if (len == 0 || len >= AIS_PATH_BYTES_MAX) {
        return len == 0 ? -EINVAL : -ENAMETOOLONG;
    }
    path_clean(path, out);
    return 0;
}

static int
slot_find(const struct st_mpset *s, const char *clean)
{
    for (size_t i = 0; i < s->nslots; i++) {
        if (s->paths[i] != NULL && strcmp(s->paths[i], clean) == 0) {
            return (int)i;
        }
    }
    return -ENOENT;
}

/* ---- open / free ---- */

/* Runtime state: lock table, walk counter, trash remover (started last: it reads mp). */
static int
mpaths_rt_init(struct st_mpaths *mp)
{
    int err = st_locks_new(&mp->locks);
    if (err == 0 && (mp->list_walks = calloc(1, sizeof(*mp->list_walks))) == NULL) {
        err = -ENOMEM;
    }
    if (err == 0 && (mp->reads = calloc(AIS_MPATHS_MAX, sizeof(*mp->reads))) == NULL) {
        err = -ENOMEM;
    }
    if (err == 0) {
        err = st_trash_start(mp, &mp->trash);
    }
    return err;
}

static int
cur_new(const char *daemon_id, struct st_mpcur **out)
{
    struct st_mpcur *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        return -ENOMEM;
    }
    int rc = pthread_mutex_init(&c->chg_mu, NULL);
    if (rc != 0) {
        free(c);
        return -rc;
    }
    c->chg_inited = 1;
    snprintf(c->daemon_id, sizeof(c->daemon_id), "%s", daemon_id);
    *out = c;
    return 0;
}

/* Adds path i of the open to the initial set s: slot i. -EINVAL for a duplicate. */
static int
open_add(struct st_mpaths *mp, struct st_mpset *s, size_t i, const char *path, int state)
{
    char clean[AIS_PATH_BYTES_MAX + 2];
    int err = clean_of(path, clean);
    if (err < 0) {
        return err;
    }
    for (size_t k = 0; k < i; k++) {
        if (strcmp(s->paths[k], clean) == 0) {
            return -EINVAL;
        }
    }
    const char *name = name_intern(mp->cur, clean, &err);
    if (name == NULL) {
        return err;
    }
    s->paths[i] = name;
    s->slot_digests[i] = ais_hrw_digest(name, strlen(name));
    s->state[i] = (uint8_t)(state != 0 ? state : ST_MPATH_AVAIL);
    return 0;
}

/* Prepares every root; under tolerate a failing one is disabled. */
static int
open_prepare(struct st_mpaths *mp, struct st_mpset *s, size_t n, const struct st_mpaths_opts *o)
{
    for (size_t i = 0; i < n; i++) {
        int err = mpath_prepare(s->paths[i], mp->cur->daemon_id, !o->no_create);
        if (err < 0 && !o->tolerate) {
            return err;
        }
        if (err < 0) {
            AIS_LOG_WARN("req=start msg=\"starting without mountpath: disabled\" path=%s "
                         "err=\"%s\"",
                         s->paths[i], strerror(-err));
            if (s->state[i] == ST_MPATH_AVAIL) {
                s->state[i] = ST_MPATH_DISABLED;
            }
        }
    }
    return 0;
}

int
st_mpaths_open_opts(const char *const *paths, size_t n, const char *daemon_id,
                    const struct st_mpaths_opts *o, struct st_mpaths **out)
{
    AIS_ASSERT(paths != NULL || n == 0);
    AIS_ASSERT(daemon_id != NULL);
    AIS_ASSERT(out != NULL);
    static const struct st_mpaths_opts defaults = {0};
    struct st_mpaths *mp = NULL;
    struct st_mpset *s = NULL;
    size_t id_len = strlen(daemon_id);
    int err = 0;
    o = o != NULL ? o : &defaults;
    if (n == 0 || n > AIS_MPATHS_MAX || id_len == 0 || id_len > AIS_DAEMON_ID_BYTES_MAX) {
        err = -EINVAL;
        goto out;
    }
    mp = calloc(1, sizeof(*mp));
    s = calloc(1, sizeof(*s));
    err = mp == NULL || s == NULL ? -ENOMEM : cur_new(daemon_id, &mp->cur);
    for (size_t i = 0; i < n && err == 0; i++) {
        err = open_add(mp, s, i, paths[i], o->states != NULL ? o->states[i] : ST_MPATH_AVAIL);
    }
    if (err == 0) {
        err = open_prepare(mp, s, n, o);
    }
    if (err == 0) {
        set_index(s);
        err = s->navail > 0 ? 0 : -ENODEV;
    }
    if (err == 0) {
        set_publish(mp, s);
        s = NULL;
        err = mpaths_rt_init(mp);
    }
    if (err == 0) {
        *out = mp;
        mp = NULL;
    }
out:
    free(s);
    st_mpaths_free(mp);
    return err;
}

int
st_mpaths_open(const char *const *paths, size_t n, const char *daemon_id, struct st_mpaths **out)
{
    return st_mpaths_open_opts(paths, n, daemon_id, NULL, out);
}

void
st_mpaths_free(struct st_mpaths *mp)
{
    if (mp == NULL) {
        return;
    }
    st_trash_stop(mp->trash); /* first: the remover reads mp */
    st_locks_free(mp->locks);
    free(mp->list_walks);
    free(mp->reads);
    struct st_mpcur *c = mp->cur;
    if (c != NULL) {
        free(c->set); /* no other thread may hold a set any more */
        for (size_t k = 0; k < c->nnames; k++) {
            free(c->names[k]);
        }
        if (c->chg_inited) {
            pthread_mutex_destroy(&c->chg_mu);
        }
        free(c);
    }
    free(mp);
}

/* ---- readers ---- */

size_t
st_mpaths_count(const struct st_mpaths *mp)
{
    const struct st_mpset *s = st_mpset_ref(mp);
    size_t n = s->nslots;
    st_mpset_unref(mp, s);
    return n;
}

uint64_t
st_mpaths_list_walks(const struct st_mpaths *mp)
{
    AIS_ASSERT(mp != NULL);
    return __atomic_load_n(mp->list_walks, __ATOMIC_RELAXED);
}

const char *
st_mpaths_path(const struct st_mpaths *mp, size_t i)
{
    if (i >= AIS_MPATHS_MAX) {
        return NULL;
    }
    const struct st_mpset *s = st_mpset_ref(mp);
    const char *p = s->paths[i]; /* interned: outlives the set */
    st_mpset_unref(mp, s);
    return p;
}

int
st_mpaths_state(const struct st_mpaths *mp, size_t i)
{
    if (i >= AIS_MPATHS_MAX) {
        return ST_MPATH_NONE;
    }
    const struct st_mpset *s = st_mpset_ref(mp);
    int st = s->paths[i] != NULL ? s->state[i] : ST_MPATH_NONE;
    st_mpset_unref(mp, s);
    return st;
}

int
st_mpaths_find(const struct st_mpaths *mp, const char *path)
{
    char clean[AIS_PATH_BYTES_MAX + 2];
    int err = clean_of(path, clean);
    if (err < 0) {
        return -ENOENT;
    }
    const struct st_mpset *s = st_mpset_ref(mp);
    int slot = slot_find(s, clean);
    st_mpset_unref(mp, s);
    return slot;
}

uint64_t
st_mpaths_gen(const struct st_mpaths *mp)
{
    const struct st_mpset *s = st_mpset_ref(mp);
    uint64_t g = s->gen;
    st_mpset_unref(mp, s);
    return g;
}

size_t
st_mpaths_rank(const struct st_mpaths *mp, uint64_t digest, size_t n, uint32_t *out)
{
    const struct st_mpset *s = st_mpset_ref(mp);
    size_t k = st_mpset_rank(s, digest, n, out);
    st_mpset_unref(mp, s);
    return k;
}

void
st_mpaths_read_end(const struct st_mpaths *mp, uint32_t slot)
{
    AIS_ASSERT(slot < AIS_MPATHS_MAX);
    int64_t left = __atomic_sub_fetch(&mp->reads[slot], 1, __ATOMIC_RELAXED);
    AIS_ASSERT(left >= 0);
}

size_t
st_mpaths_pick(const struct st_mpaths *mp, uint64_t digest)
{
    const struct st_mpset *s = st_mpset_ref(mp);
    size_t i = st_mpset_pick(s, digest);
    st_mpset_unref(mp, s);
    return i;
}

int
st_mpaths_capacity(const struct st_mpaths *mp, size_t i, uint64_t *total_bytes,
                   uint64_t *avail_bytes)
{
    const char *path = st_mpaths_path(mp, i);
    struct statvfs vfs;
    if (path == NULL) {
        return -ENOENT;
    }
    if (statvfs(path, &vfs) < 0) {
        return -errno;
    }
    if (total_bytes != NULL) {
        *total_bytes = (uint64_t)vfs.f_blocks * vfs.f_frsize;
    }
    if (avail_bytes != NULL) {
        *avail_bytes = (uint64_t)vfs.f_bavail * vfs.f_frsize;
    }
    return 0;
}

/* ---- changes ---- */

/* Runs one change under chg_mu: fn edits a clone of the current set, which is published when
 * fn returns 0 (fn returning 1 = nothing to change, negative = error; the clone is dropped). */
typedef int (*set_edit_fn)(struct st_mpaths *mp, struct st_mpset *s, const char *clean, void *arg);

static int
set_change(struct st_mpaths *mp, const char *path, set_edit_fn fn, void *arg)
{
    AIS_ASSERT(mp != NULL);
    char clean[AIS_PATH_BYTES_MAX + 2];
    int err = clean_of(path, clean);
    if (err < 0) {
        return err;
    }
    pthread_mutex_lock(&mp->cur->chg_mu);
    struct st_mpset *s = set_clone(mp);
    err = s == NULL ? -ENOMEM : fn(mp, s, clean, arg);
    if (err == 0) {
        set_publish(mp, s);
        s = NULL;
    }
    pthread_mutex_unlock(&mp->cur->chg_mu);
    free(s);
    return err;
}

struct attach_arg {
    int enable;
    size_t slot;
};

static int
edit_attach(struct st_mpaths *mp, struct st_mpset *s, const char *clean, void *arg)
{
    struct attach_arg *a = arg;
    int slot = slot_find(s, clean);
    if (slot >= 0) {
        return s->state[slot] == ST_MPATH_DETACHING ? -EBUSY : -EALREADY;
    }
    size_t free_slot = 0;
    while (free_slot < AIS_MPATHS_MAX && s->paths[free_slot] != NULL) {
        free_slot++;
    }
    if (free_slot == AIS_MPATHS_MAX) {
        return -ENOSPC;
    }
    int err = mpath_prepare(clean, mp->cur->daemon_id, 0);
    const char *name = err < 0 ? NULL : name_intern(mp->cur, clean, &err);
    if (name == NULL) {
        return err;
    }
    s->paths[free_slot] = name;
    s->slot_digests[free_slot] = ais_hrw_digest(name, strlen(name));
    s->state[free_slot] = a->enable ? ST_MPATH_AVAIL : ST_MPATH_DISABLED;
    a->slot = free_slot;
    return 0;
}

int
st_mpaths_attach(struct st_mpaths *mp, const char *path, int enable, size_t *slot_out)
{
    struct attach_arg a = {.enable = enable};
    int err = set_change(mp, path, edit_attach, &a);
    if (err == 0) {
        AIS_LOG_INFO("req=mountpath msg=attached path=%s slot=%zu enabled=%d", path, a.slot,
                     enable);
        if (slot_out != NULL) {
            *slot_out = a.slot;
        }
    }
    return err;
}

/* Sets the state of an existing slot; to = AVAIL re-checks the root first. */
static int
edit_state(struct st_mpaths *mp, struct st_mpset *s, const char *clean, void *arg)
{
    int to = *(const int *)arg;
    int slot = slot_find(s, clean);
    if (slot < 0) {
        return slot;
    }
    int from = s->state[slot];
    if (from == to) {
        return 1;
    }
    if (from == ST_MPATH_DETACHING) {
        return -EBUSY;
    }
    if (from == ST_MPATH_AVAIL && s->navail == 1) {
        return -EBUSY; /* the last available mountpath: nowhere to put objects */
    }
    if (to == ST_MPATH_AVAIL) {
        int err = mpath_prepare(clean, mp->cur->daemon_id, 0);
        if (err < 0) {
            return err;
        }
    }
    s->state[slot] = (uint8_t)to;
    return 0;
}

static int
state_change(struct st_mpaths *mp, const char *path, int to, const char *what)
{
    int err = set_change(mp, path, edit_state, &to);
    if (err == 0) {
        AIS_LOG_INFO("req=mountpath msg=%s path=%s", what, path);
    }
    return err;
}

int
st_mpaths_enable(struct st_mpaths *mp, const char *path)
{
    return state_change(mp, path, ST_MPATH_AVAIL, "enabled");
}

int
st_mpaths_disable(struct st_mpaths *mp, const char *path)
{
    return state_change(mp, path, ST_MPATH_DISABLED, "disabled");
}

int
st_mpaths_detach(struct st_mpaths *mp, const char *path)
{
    return state_change(mp, path, ST_MPATH_DETACHING, "detaching");
}

static int
edit_drop(struct st_mpaths *mp, struct st_mpset *s, const char *clean, void *arg)
{
    (void)mp;
    (void)clean;
    size_t slot = *(const size_t *)arg;
    if (slot >= AIS_MPATHS_MAX || s->paths[slot] == NULL || s->state[slot] != ST_MPATH_DETACHING) {
        return -EINVAL;
    }
    s->paths[slot] = NULL;
    s->state[slot] = ST_MPATH_NONE;
    s->slot_digests[slot] = 0;
    return 0;
}

int
st_mpaths_drop(struct st_mpaths *mp, size_t slot)
{
    const char *path = st_mpaths_path(mp, slot);
    if (path == NULL) {
        return -EINVAL;
    }
    int err = set_change(mp, path, edit_drop, &slot);
    if (err == 0) {
        AIS_LOG_INFO("req=mountpath msg=detached path=%s slot=%zu", path, slot);
    }
    return err;
}

int
st_mpaths_drain(const struct st_mpaths *mp, int timeout_ms)
{
    AIS_ASSERT(mp != NULL);
    AIS_ASSERT(timeout_ms >= 0);
    /* Bounded: one check per millisecond of the timeout. */
    for (int waited = 0;; waited++) {
        if (__atomic_load_n(&mp->cur->retired, __ATOMIC_ACQUIRE) == 0) {
            return 0;
        }
        if (waited >= timeout_ms) {
            return -ETIMEDOUT;
        }
        struct timespec ts = {0, 1000000L};
        nanosleep(&ts, NULL);
    }
}
