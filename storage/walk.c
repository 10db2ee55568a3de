/*
 * Sorted walk of one mountpath's %ob: names in strcmp order, one at a time, resumable.
 *
 * Design notes: depth-first order equals strcmp order if each directory's entries are sorted
 * with a directory keyed as its name plus '/': every name below "a/" shares that prefix, and
 * '/' then sorts it correctly against siblings such as "a-b" or "a0". So the walk keeps a stack
 * of frames, one per directory on the current path, each holding that directory's sorted
 * entries, and descends lazily when the next entry is a directory. A frame holds at most
 * AIS_LIST_DIR_CHUNK_MAX entries (and AIS_LIST_DIR_CHUNK_BYTES of names): a larger directory
 * is read again for the next chunk, keeping only entries whose key sorts after the last one
 * consumed, so memory is chunk x depth whatever the directory sizes. While reading, entries
 * that cannot yield a name > `after` or with the prefix are dropped, which makes a seek into
 * the middle of a bucket skip whole subtrees. Directories are read by path (opendir, closed at
 * once): nothing stays open between calls, so idle cursors cost no descriptors. Symlinks to
 * regular files count as objects; symlinked directories are never followed (no loops).
 */
#include "common/assert.h"
#include "common/limits.h"
#include "storage/storage.h"
#include "storage/storage_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum walk_kind { WALK_SKIP, WALK_FILE, WALK_DIR };

struct walk_ent {
    char *name; /* entry name within its directory */
    size_t len;
    int is_dir;
};

struct walk_frame {
    struct walk_ent *v; /* sorted ascending by key */
    size_t n, i, cap;   /* entries, next to consume, allocated */
    size_t bytes;       /* name bytes held */
    int more;           /* the directory had entries beyond this chunk */
    size_t rel_len;     /* this directory is rel[0..rel_len) ("" for %ob) */
    char *resume;       /* key of the last consumed entry of a previous chunk, or NULL */
    int resume_dir;
};

struct st_walk {
    uint32_t idx;
    size_t root_len;
    const char *prefix; /* borrowed from the iterator, which outlives the walk */
    size_t prefix_len;
    size_t depth; /* frames in use */
    int started;
    struct walk_frame frames[AIS_WALK_DEPTH_MAX];
    char root[AIS_PATH_BYTES_MAX];       /* %ob of this mountpath */
    char rel[AIS_OBJNAME_BYTES_MAX + 2]; /* current name (or dir), room for a trailing '/' */
};

/* strcmp of the keys a (+'/' if adir) and b (+'/' if bdir), without building them. */
static int
key_cmp(const char *a, int adir, const char *b, int bdir)
{
    size_t i = 0;
    while (a[i] != '\0' && a[i] == b[i]) {
        i++;
    }
    unsigned char ca = a[i] != '\0' ? (unsigned char)a[i] : adir ? '/' : 0;
    unsigned char cb = b[i] != '\0' ? (unsigned char)b[i] : bdir ? '/' : 0;
    if (ca != cb || ca == 0) {
        return (int)ca - (int)cb;
    }
    /* Both are '/' here: real in one, virtual in the other, or virtual in both. */
    if (a[i] == '\0' && b[i] == '\0') {
        return 0;
    }
    if (a[i] == '\0') {
        return b[i + 1] == '\0' && !bdir ? 0 : -1;
    }
    return a[i + 1] == '\0' && !adir ? 0 : 1;
}

static int
ent_cmp(const void *x, const void *y)
{
    const struct walk_ent *a = x, *b = y;
    return key_cmp(a->name, a->is_dir, b->name, b->is_dir);
}

static void
frame_clear(struct walk_frame *f)
{
    for (size_t i = 0; i < f->n; i++) {
        free(f->v[i].name);
    }
    free(f->v);
    f->v = NULL;
    f->n = f->i = f->cap = f->bytes = 0;
    f->more = 0;
}

static void
frame_fini(struct walk_frame *f)
{
    frame_clear(f);
    free(f->resume);
    f->resume = NULL;
}

static enum walk_kind
entry_kind(int dfd, const struct dirent *de)
{
    struct stat st;
    if (de->d_type == DT_REG || de->d_type == DT_DIR) {
        return de->d_type == DT_REG ? WALK_FILE : WALK_DIR;
    }
    if (de->d_type == DT_UNKNOWN) {
        if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
            return WALK_SKIP;
        }
        if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) {
            return S_ISREG(st.st_mode) ? WALK_FILE : WALK_DIR;
        }
        if (!S_ISLNK(st.st_mode)) {
            return WALK_SKIP;
        }
    } else if (de->d_type != DT_LNK) {
        return WALK_SKIP;
    }
    return fstatat(dfd, de->d_name, &st, 0) == 0 && S_ISREG(st.st_mode) ? WALK_FILE : WALK_SKIP;
}

/*
 * Whether the entry (its full name is in w->rel[0..len), a dir gets '/' appended here) can
 * yield a name that has the prefix and sorts after `after`.
 */
static int
ent_wanted(struct st_walk *w, size_t len, int is_dir, const char *after)
{
    if (!is_dir) {
        return strncmp(w->rel, w->prefix, w->prefix_len) == 0 && strcmp(w->rel, after) > 0;
    }
    w->rel[len] = '/';
    w->rel[len + 1] = '\0';
    size_t dlen = len + 1;
    size_t n = dlen < w->prefix_len ? dlen : w->prefix_len;
    int want = memcmp(w->rel, w->prefix, n) == 0 && strncmp(after, w->rel, dlen) <= 0;
    w->rel[len] = '\0';
    return want;
}

/* Max-heap by key of the frame's entries while reading (sorted ascending afterwards). */
static void
heap_down(struct walk_ent *h, size_t n, size_t i)
{
    for (;;) {
        size_t big = i, l = 2 * i + 1, r = 2 * i + 2;
        if (l < n && ent_cmp(&h[l], &h[big]) > 0) {
            big = l;
        }
        if (r < n && ent_cmp(&h[r], &h[big]) > 0) {
            big = r;
        }
        if (big == i) {
            return;
        }
        struct walk_ent t = h[i];
        h[i] = h[big];
        h[big] = t;
        i = big;
    }
}

static void
heap_up(struct walk_ent *h, size_t i)
{
    while (i > 0 && ent_cmp(&h[(i - 1) / 2], &h[i]) < 0) {
        struct walk_ent t = h[i];
        h[i] = h[(i - 1) / 2];
        h[(i - 1) / 2] = t;
        i = (i - 1) / 2;
    }
}

/* Drops the largest entry of the heap. */
static void
heap_pop(struct walk_frame *f)
{
    f->bytes -= f->v[0].len;
    free(f->v[0].name);
    f->v[0] = f->v[--f->n];
    heap_down(f->v, f->n, 0);
    f->more = 1;
}

/* Offers an entry to the chunk. 0 or -ENOMEM. */
static int
frame_offer(struct walk_frame *f, const char *name, int is_dir)
{
    struct walk_ent e = {.name = (char *)name, .len = strlen(name), .is_dir = is_dir};
    if (f->n == AIS_LIST_DIR_CHUNK_MAX || f->bytes + e.len > AIS_LIST_DIR_CHUNK_BYTES) {
        if (ent_cmp(&e, &f->v[0]) >= 0) {
            f->more = 1;
            return 0;
        }
    }
    if (f->n == f->cap && f->cap < AIS_LIST_DIR_CHUNK_MAX) {
        size_t cap = f->cap == 0 ? 64 : 2 * f->cap;
        cap = cap < AIS_LIST_DIR_CHUNK_MAX ? cap : AIS_LIST_DIR_CHUNK_MAX;
        struct walk_ent *v = realloc(f->v, cap * sizeof(*v));
        if (v == NULL) {
            return -ENOMEM;
        }
        f->v = v;
        f->cap = cap;
    }
    if ((e.name = strdup(name)) == NULL) {
        return -ENOMEM;
    }
    /* Bounded: each pop frees one slot and some bytes. */
    while (f->n > 0 &&
           (f->n == AIS_LIST_DIR_CHUNK_MAX || f->bytes + e.len > AIS_LIST_DIR_CHUNK_BYTES)) {
        heap_pop(f);
    }
    f->v[f->n] = e;
    f->bytes += e.len;
    heap_up(f->v, f->n++);
    return 0;
}

/* Considers one directory entry for frame f. 0 or -ENOMEM. */
static int
frame_consider(struct st_walk *w, struct walk_frame *f, int dfd, const struct dirent *de,
               const char *after)
{
    size_t depth = (size_t)(f - w->frames) + 1;
    enum walk_kind kind = entry_kind(dfd, de);
    if (kind == WALK_SKIP || (kind == WALK_DIR && depth >= AIS_WALK_DEPTH_MAX)) {
        return 0;
    }
    int is_dir = kind == WALK_DIR;
    if (f->resume != NULL && key_cmp(de->d_name, is_dir, f->resume, f->resume_dir) <= 0) {
        return 0;
    }
    size_t nlen = strlen(de->d_name);
    size_t len = f->rel_len + (f->rel_len > 0) + nlen;
    if (len > AIS_OBJNAME_BYTES_MAX) {
        return 0;
    }
    if (f->rel_len > 0) {
        w->rel[f->rel_len] = '/';
    }
    memcpy(w->rel + len - nlen, de->d_name, nlen + 1);
    if (!ent_wanted(w, len, is_dir, after)) {
        return 0;
    }
    return frame_offer(f, de->d_name, is_dir);
}

/* Reads the next chunk of frame f's directory. 0, -ENOENT (vanished), negative errno. */
static int
frame_fill(struct st_walk *w, struct walk_frame *f, const char *after)
{
    char path[AIS_PATH_BYTES_MAX];
    int n = f->rel_len == 0
                ? st_path_fmt(path, sizeof(path), "%s", w->root)
                : st_path_fmt(path, sizeof(path), "%s/%.*s", w->root, (int)f->rel_len, w->rel);
    if (n < 0) {
        return n;
    }
    frame_clear(f);
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (d == NULL) {
        int e = errno;
        if (fd >= 0) {
            close(fd);
        }
        return e == ENOENT || e == ENOTDIR || e == ELOOP ? -ENOENT : -e;
    }
    int err = 0;
    struct dirent *de;
    while (err == 0 && (de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
            err = frame_consider(w, f, dirfd(d), de, after);
        }
    }
    closedir(d);
    if (f->n > 0) {
        qsort(f->v, f->n, sizeof(f->v[0]), ent_cmp);
    }
    return err;
}

int
st_walk_new(const struct st_mpaths *mp, size_t i, const struct st_bck *bck, const char *prefix,
            struct st_walk **out)
{
    AIS_ASSERT(prefix != NULL);
    struct st_walk *w = calloc(1, sizeof(*w));
    if (w == NULL) {
        return -ENOMEM;
    }
    int n = st_bck_ct_dir(mp, i, bck, ST_DIR_OBJ, w->root, sizeof(w->root));
    struct stat st;
    if (n >= 0 && stat(w->root, &st) < 0) {
        n = errno == ENOENT || errno == ENOTDIR ? -ENOENT : -errno;
    } else if (n >= 0 && !S_ISDIR(st.st_mode)) {
        n = -ENOENT;
    }
    if (n < 0) {
        free(w);
        return n;
    }
    w->idx = (uint32_t)i;
    w->root_len = (size_t)n;
    w->prefix = prefix;
    w->prefix_len = strlen(prefix);
    *out = w;
    return 0;
}

void
st_walk_free(struct st_walk *w)
{
    if (w == NULL) {
        return;
    }
    for (size_t i = 0; i < w->depth; i++) {
        frame_fini(&w->frames[i]);
    }
    free(w);
}

/* Pushes the directory rel[0..len) and reads its first chunk; a vanished dir is skipped. */
static int
walk_push(struct st_walk *w, size_t len, const char *after)
{
    AIS_ASSERT(w->depth < AIS_WALK_DEPTH_MAX);
    struct walk_frame *f = &w->frames[w->depth++];
    memset(f, 0, sizeof(*f));
    f->rel_len = len;
    int err = frame_fill(w, f, after);
    if (err == -ENOENT) {
        frame_fini(f);
        w->depth--;
        err = 0;
    }
    return err;
}

/* Frame f is consumed: reads its next chunk (resuming after the last entry) or pops it. */
static int
walk_frame_done(struct st_walk *w, struct walk_frame *f, const char *after)
{
    if (f->more && f->n > 0) {
        struct walk_ent *last = &f->v[f->n - 1];
        free(f->resume);
        f->resume = last->name;
        f->resume_dir = last->is_dir;
        last->name = NULL;
        int err = frame_fill(w, f, after);
        if (err != -ENOENT) {
            return err;
        }
    }
    frame_fini(f);
    w->depth--;
    return 0;
}

int
st_walk_next(struct st_walk *w, const char *after)
{
    AIS_ASSERT(w != NULL);
    AIS_ASSERT(after != NULL);
    int err = 0;
    if (!w->started) {
        w->started = 1;
        err = walk_push(w, 0, after);
    }
    /* Bounded: every turn consumes an entry or pops a frame. */
    while (err == 0 && w->depth > 0) {
        struct walk_frame *f = &w->frames[w->depth - 1];
        if (f->i == f->n) {
            err = walk_frame_done(w, f, after);
            continue;
        }
        struct walk_ent *e = &f->v[f->i++];
        size_t len = f->rel_len + (f->rel_len > 0) + e->len;
        if (f->rel_len > 0) {
            w->rel[f->rel_len] = '/';
        }
        memcpy(w->rel + len - e->len, e->name, e->len + 1);
        if (!e->is_dir) {
            return 0;
        }
        err = walk_push(w, len, after);
    }
    return err < 0 ? err : 1;
}

const char *
st_walk_name(const struct st_walk *w)
{
    return w->rel;
}

uint32_t
st_walk_mpath(const struct st_walk *w)
{
    return w->idx;
}

int
st_walk_md(const struct st_walk *w, struct st_obj_md *md)
{
    char path[AIS_PATH_BYTES_MAX];
    if (st_path_fmt(path, sizeof(path), "%s/%s", w->root, w->rel) < 0) {
        return -ENAMETOOLONG;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        return -ENOENT;
    }
    struct stat st;
    int err = fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ? -ENOENT : 0;
    if (err == 0) {
        err = st_md_load_st(fd, &st, w->idx, md);
    }
    close(fd);
    return err;
}
