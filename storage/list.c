/*
 * Listing a bucket: one page of names in strcmp order, across all mountpaths.
 *
 * Design notes: the walk visits %ob of every mountpath with openat/fdopendir (no absolute
 * paths to rebuild, depth bounded by AIS_WALK_DEPTH_MAX) and offers each matching name to a
 * max-heap of at most `limit` entries, so memory is O(limit) whatever the bucket size: once
 * full, a smaller name replaces the largest and marks `more`. Directories are pruned when no
 * name below them can match: their path (with the trailing '/') disagrees with the prefix,
 * sorts wholly before `after`, or wholly after the current page once we know there is more.
 * The heap is then sorted; a name present on two mountpaths (left over from a mountpath
 * change) is emitted once. Symlinks to regular files count as objects, symlinked directories
 * are never followed (no loops). Entries that vanish between walk and emit are skipped.
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

enum list_kind { LIST_SKIP, LIST_FILE, LIST_DIR };

struct list_ent {
    char *name;
    uint32_t mpath_idx;
};

struct list_ctx {
    const struct st_mpaths *mp;
    const struct st_bck *bck;
    const char *prefix;
    size_t prefix_len;
    const char *after;
    size_t limit;
    struct list_ent *heap; /* max-heap by name, n <= limit */
    size_t n;
    int more;
    uint32_t mpath_idx;
    char rel[AIS_OBJNAME_BYTES_MAX + 2]; /* name being built, room for a trailing '/' */
};

static void
heap_swap(struct list_ent *h, size_t a, size_t b)
{
    struct list_ent t = h[a];
    h[a] = h[b];
    h[b] = t;
}

static void
heap_sift_up(struct list_ent *h, size_t i)
{
    while (i > 0 && strcmp(h[(i - 1) / 2].name, h[i].name) < 0) {
        heap_swap(h, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static void
heap_sift_down(struct list_ent *h, size_t n, size_t i)
{
    for (;;) {
        size_t big = i, l = 2 * i + 1, r = 2 * i + 2;
        if (l < n && strcmp(h[l].name, h[big].name) > 0) {
            big = l;
        }
        if (r < n && strcmp(h[r].name, h[big].name) > 0) {
            big = r;
        }
        if (big == i) {
            return;
        }
        heap_swap(h, i, big);
        i = big;
    }
}

/* Offers c->rel (a matching name) to the page. 0 or -ENOMEM. */
static int
list_offer(struct list_ctx *c)
{
    if (c->n == c->limit) {
        int cmp = strcmp(c->rel, c->heap[0].name);
        if (cmp >= 0) {
            c->more |= cmp > 0; /* equal: the same name on another mountpath */
            return 0;
        }
        c->more = 1;
    }
    char *name = strdup(c->rel);
    if (name == NULL) {
        return -ENOMEM;
    }
    if (c->n == c->limit) {
        free(c->heap[0].name);
        c->heap[0] = (struct list_ent){name, c->mpath_idx};
        heap_sift_down(c->heap, c->n, 0);
    } else {
        c->heap[c->n] = (struct list_ent){name, c->mpath_idx};
        heap_sift_up(c->heap, c->n++);
    }
    return 0;
}

static int
name_matches(const struct list_ctx *c, const char *name)
{
    return strncmp(name, c->prefix, c->prefix_len) == 0 && strcmp(name, c->after) > 0;
}

/* Whether a name below directory c->rel[0..len) can land on this page. */
static int
dir_wanted(struct list_ctx *c, size_t len)
{
    c->rel[len] = '/';
    c->rel[len + 1] = '\0';
    size_t dlen = len + 1;
    size_t n = dlen < c->prefix_len ? dlen : c->prefix_len;
    int want = memcmp(c->rel, c->prefix, n) == 0 && strncmp(c->after, c->rel, dlen) <= 0;
    if (want && c->n == c->limit && c->more) {
        want = strcmp(c->rel, c->heap[0].name) < 0;
    }
    c->rel[len] = '\0';
    return want;
}

static enum list_kind
entry_kind(int dfd, const struct dirent *de)
{
    struct stat st;
    if (de->d_type == DT_REG) {
        return LIST_FILE;
    }
    if (de->d_type == DT_DIR) {
        return LIST_DIR;
    }
    if (de->d_type == DT_UNKNOWN) {
        if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
            return LIST_SKIP;
        }
        if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) {
            return S_ISREG(st.st_mode) ? LIST_FILE : LIST_DIR;
        }
        if (!S_ISLNK(st.st_mode)) {
            return LIST_SKIP;
        }
    } else if (de->d_type != DT_LNK) {
        return LIST_SKIP;
    }
    return fstatat(dfd, de->d_name, &st, 0) == 0 && S_ISREG(st.st_mode) ? LIST_FILE : LIST_SKIP;
}

/* Appends '/'+name (or name at the top) to c->rel; new length, or 0 if it is too long. */
static size_t
rel_append(struct list_ctx *c, size_t rel_len, const char *name)
{
    size_t nlen = strlen(name);
    size_t len = rel_len + (rel_len > 0) + nlen;
    if (len > AIS_OBJNAME_BYTES_MAX) {
        return 0;
    }
    if (rel_len > 0) {
        c->rel[rel_len] = '/';
    }
    memcpy(c->rel + len - nlen, name, nlen + 1);
    return len;
}

static int list_walk(struct list_ctx *c, int dfd, size_t rel_len, int depth);

static int
list_descend(struct list_ctx *c, int dfd, const char *name, size_t len, int depth)
{
    int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        return errno == ENOENT || errno == ENOTDIR ? 0 : -errno;
    }
    return list_walk(c, fd, len, depth);
}

/* Walks the directory fd (taken over) whose name is c->rel[0..rel_len). */
static int
list_walk(struct list_ctx *c, int dfd, size_t rel_len, int depth)
{
    DIR *d = fdopendir(dfd);
    if (d == NULL) {
        int e = -errno;
        close(dfd);
        return e;
    }
    int err = 0;
    struct dirent *de;
    while (err == 0 && (de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) {
            continue;
        }
        enum list_kind kind = entry_kind(dirfd(d), de);
        size_t len = kind == LIST_SKIP ? 0 : rel_append(c, rel_len, de->d_name);
        if (len == 0) {
            continue;
        }
        if (kind == LIST_FILE && name_matches(c, c->rel)) {
            err = list_offer(c);
        } else if (kind == LIST_DIR && depth < AIS_WALK_DEPTH_MAX && dir_wanted(c, len)) {
            err = list_descend(c, dirfd(d), de->d_name, len, depth + 1);
        }
    }
    closedir(d);
    return err;
}

/* Walks %ob of every mountpath. -ENOENT when none has the bucket. */
static int
list_collect(struct list_ctx *c)
{
    char path[AIS_PATH_BYTES_MAX];
    size_t found = 0;
    int err = 0;
    for (size_t i = 0; i < c->mp->n && err == 0; i++) {
        err = st_bck_ct_dir(c->mp, i, c->bck, ST_DIR_OBJ, path, sizeof(path));
        if (err < 0) {
            break;
        }
        int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
            err = errno == ENOENT || errno == ENOTDIR ? 0 : -errno;
            continue;
        }
        found++;
        c->mpath_idx = (uint32_t)i;
        c->rel[0] = '\0';
        err = list_walk(c, fd, 0, 1);
    }
    if (err == 0 && found == 0) {
        err = -ENOENT;
    }
    return err < 0 ? err : 0;
}

static int
ent_cmp(const void *a, const void *b)
{
    const struct list_ent *x = a, *y = b;
    int cmp = strcmp(x->name, y->name);
    return cmp != 0 ? cmp : (x->mpath_idx > y->mpath_idx) - (x->mpath_idx < y->mpath_idx);
}

/* Metadata of one listed entry. -ENOENT if it vanished or is no longer a regular file. */
static int
ent_md(const struct list_ctx *c, const struct list_ent *e, struct st_obj_md *md)
{
    char path[AIS_PATH_BYTES_MAX];
    int n = st_bck_ct_dir(c->mp, e->mpath_idx, c->bck, ST_DIR_OBJ, path, sizeof(path));
    if (n < 0 || st_path_fmt(path + n, sizeof(path) - (size_t)n, "/%s", e->name) < 0) {
        return -ENAMETOOLONG;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        return -ENOENT;
    }
    struct stat st;
    int err = fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ? -ENOENT : 0;
    if (err == 0) {
        err = st_md_load_fd(fd, e->mpath_idx, md);
    }
    close(fd);
    return err;
}

static int
list_emit(struct list_ctx *c, int with_md, st_list_fn fn, void *ctx)
{
    struct st_obj_md md;
    qsort(c->heap, c->n, sizeof(c->heap[0]), ent_cmp);
    for (size_t i = 0; i < c->n; i++) {
        if (i > 0 && strcmp(c->heap[i].name, c->heap[i - 1].name) == 0) {
            continue;
        }
        if (with_md) {
            int err = ent_md(c, &c->heap[i], &md);
            if (err == -ENOENT) {
                continue;
            }
            if (err < 0) {
                return err;
            }
        }
        int rc = fn(ctx, c->heap[i].name, with_md ? &md : NULL);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

int
st_bck_list(const struct st_mpaths *mp, const struct st_bck *bck, const char *prefix,
            const char *after, size_t limit, int with_md, st_list_fn fn, void *ctx, int *more_out)
{
    AIS_ASSERT(mp != NULL);
    AIS_ASSERT(bck != NULL);
    AIS_ASSERT(fn != NULL);
    struct list_ctx *c = NULL;
    int err = 0;
    if (limit == 0 || limit > AIS_LIST_PAGE_MAX) {
        err = -EINVAL;
        goto out;
    }
    c = calloc(1, sizeof(*c));
    if (c == NULL || (c->heap = calloc(limit, sizeof(c->heap[0]))) == NULL) {
        err = -ENOMEM;
        goto out;
    }
    c->mp = mp;
    c->bck = bck;
    c->prefix = prefix != NULL ? prefix : "";
    c->prefix_len = strlen(c->prefix);
    c->after = after != NULL ? after : "";
    c->limit = limit;
    err = list_collect(c);
    if (err == 0) {
        err = list_emit(c, with_md, fn, ctx);
    }
    if (err == 0 && more_out != NULL) {
        *more_out = c->more;
    }
out:
    for (size_t i = 0; c != NULL && i < c->n; i++) {
        free(c->heap[i].name);
    }
    if (c != NULL) {
        free(c->heap);
    }
    free(c);
    return err;
}
