/*
 * dsort_base: the single-process baseline of the dSort benchmark (bench/dsort.py).
 *
 * Design notes: one process does what a dSort job does, over the same local shard files, with
 * nothing in between: read every input shard (libarchive, names in sorted order), group the
 * members into records by key (the member name without its extension: up to the last '.' of the
 * last path element), sort the records (alphanumeric by key, or a seeded shuffle), and write the
 * records in that order into output shards out-00000<ext>, out-00001<ext>, ... each cut once its
 * size reaches --shard-size, counted as dSort counts it (per member a 512-byte header plus the
 * content padded to 512); every output shard and the output dir are fsynced before the write
 * phase ends (unless --no-fsync). Record bytes stay in memory in 64 MiB chunks up to --mem-max;
 * beyond that they go to one unlinked temp file in the output dir, so the baseline never needs more
 * memory than asked for. Members of one record keep their input order. Prints one JSON line
 * with the wall time and each phase's time (read, sort, write) in seconds, the record count and
 * the content bytes. Bad input (a shard that does not parse) fails the run: exit 1.
 */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* In-memory store chunk: large enough that per-chunk overhead vanishes, small enough to waste
 * little at the end. */
#define DB_CHUNK_BYTES (64u << 20)
/* Bounce buffer for spill-file I/O and the libarchive read block. */
#define DB_IO_BYTES (1u << 20)
/* Input shards in one run: names are kept in one sorted array. */
#define DB_SHARDS_MAX (1u << 20)
/* Members (and so records) in one run: indices are 32-bit. */
#define DB_MEMBERS_MAX (1u << 30)
/* A path of an input or output shard. */
#define DB_PATH_BYTES_MAX 4096
/* Output shard names are out-%05u: more than this would need a wider template. */
#define DB_OUT_SHARDS_MAX 100000u

struct opts {
    const char *in, *ext, *out;
    uint64_t shard_bytes, mem_max_bytes, seed;
    int shuffle, no_fsync;
};

/* Record bytes: chunks in memory for offsets below mem_cap, the spill file above. */
struct store {
    uint8_t **chunks;
    size_t nchunks_max;
    uint64_t mem_cap, used;
    int spill_fd;
    uint8_t *io;
};

struct member {
    char *name;
    uint64_t off, size;
    time_t mtime;
    uint32_t next; /* next member of the same record, UINT32_MAX at the end */
};

struct record {
    char *key;
    uint64_t tar_bytes; /* header + padded content of each member, as dSort counts a shard */
    uint32_t first, last;
};

struct run {
    struct opts o;
    struct store st;
    struct member *mem;
    size_t nmem, cap_mem;
    struct record *rec;
    size_t nrec, cap_rec;
    uint32_t *hash; /* record index + 1; 0 is an empty slot */
    size_t hash_cap;
    unsigned shards_in, shards_out;
};

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
usage(const char *argv0)
{
    fprintf(stderr,
            "usage: %s --in DIR --out DIR --shard-size BYTES [--ext .tar] "
            "[--alg alphanumeric|shuffle] [--seed N] [--mem-max BYTES (8GiB)] [--no-fsync]\n"
            "  sizes take an optional KiB, MiB or GiB suffix\n",
            argv0);
    return 2;
}

static int
parse_size(const char *s, uint64_t *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s) {
        return -EINVAL;
    }
    unsigned shift = 0;
    if (strcmp(end, "KiB") == 0) {
        shift = 10;
    } else if (strcmp(end, "MiB") == 0) {
        shift = 20;
    } else if (strcmp(end, "GiB") == 0) {
        shift = 30;
    } else if (*end != '\0' && strcmp(end, "B") != 0) {
        return -EINVAL;
    }
    if (v > (UINT64_MAX >> shift)) {
        return -ERANGE;
    }
    *out = (uint64_t)v << shift;
    return 0;
}

static int
parse_args(int argc, char **argv, struct opts *o)
{
    *o = (struct opts){.ext = ".tar", .mem_max_bytes = 8ull << 30};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--no-fsync") == 0) {
            o->no_fsync = 1;
            continue;
        }
        if (v == NULL) {
            return -EINVAL;
        }
        i++;
        int err = 0;
        if (strcmp(a, "--in") == 0) {
            o->in = v;
        } else if (strcmp(a, "--out") == 0) {
            o->out = v;
        } else if (strcmp(a, "--ext") == 0) {
            o->ext = v;
        } else if (strcmp(a, "--shard-size") == 0) {
            err = parse_size(v, &o->shard_bytes);
        } else if (strcmp(a, "--mem-max") == 0) {
            err = parse_size(v, &o->mem_max_bytes);
        } else if (strcmp(a, "--seed") == 0) {
            err = parse_size(v, &o->seed);
        } else if (strcmp(a, "--alg") == 0) {
            o->shuffle = strcmp(v, "shuffle") == 0;
            err = o->shuffle || strcmp(v, "alphanumeric") == 0 ? 0 : -EINVAL;
        } else {
            err = -EINVAL;
        }
        if (err < 0) {
            return err;
        }
    }
    return o->in && o->out && o->shard_bytes > 0 && o->ext[0] != '\0' ? 0 : -EINVAL;
}

/* ---- store ---- */

static int
store_init(struct store *st, uint64_t mem_max_bytes)
{
    *st = (struct store){.spill_fd = -1};
    st->nchunks_max = (size_t)(mem_max_bytes / DB_CHUNK_BYTES);
    st->mem_cap = (uint64_t)st->nchunks_max * DB_CHUNK_BYTES;
    st->chunks = calloc(st->nchunks_max + 1, sizeof(*st->chunks));
    st->io = malloc(DB_IO_BYTES);
    if (st->chunks == NULL || st->io == NULL) {
        return -ENOMEM;
    }
    return 0;
}

static void
store_fini(struct store *st)
{
    for (size_t i = 0; st->chunks != NULL && i < st->nchunks_max; i++) {
        free(st->chunks[i]);
    }
    free(st->chunks);
    free(st->io);
    if (st->spill_fd >= 0) {
        close(st->spill_fd);
    }
}

/* The spill file: created on first use in the output dir (same filesystem), unlinked at once. */
static int
store_spill_open(struct store *st, const char *dir)
{
    char path[DB_PATH_BYTES_MAX];
    if (snprintf(path, sizeof(path), "%s/.dsort_base.spill.XXXXXX", dir) >= (int)sizeof(path)) {
        return -ENAMETOOLONG;
    }
    st->spill_fd = mkstemp(path);
    if (st->spill_fd < 0) {
        return -errno;
    }
    unlink(path);
    return 0;
}

/* Where the next n bytes at offset off go in memory (n clipped to the chunk), or NULL when off
 * is in the spill region. */
static uint8_t *
store_mem_at(struct store *st, uint64_t off, uint64_t *n)
{
    if (off >= st->mem_cap) {
        return NULL;
    }
    size_t c = (size_t)(off / DB_CHUNK_BYTES), in = (size_t)(off % DB_CHUNK_BYTES);
    if (st->chunks[c] == NULL) {
        st->chunks[c] = malloc(DB_CHUNK_BYTES);
        if (st->chunks[c] == NULL) {
            return NULL;
        }
    }
    if (*n > DB_CHUNK_BYTES - in) {
        *n = DB_CHUNK_BYTES - in;
    }
    return st->chunks[c] + in;
}

/* Appends the current entry's size bytes from a; their offset is st->used before the call. */
static int
store_append_entry(struct store *st, const char *dir, struct archive *a, uint64_t size)
{
    uint64_t left = size;
    while (left > 0) {
        uint64_t n = left;
        uint8_t *dst = store_mem_at(st, st->used, &n);
        int spill = dst == NULL;
        if (spill && st->used < st->mem_cap) {
            return -ENOMEM;
        }
        int err = spill && st->spill_fd < 0 ? store_spill_open(st, dir) : 0;
        if (err < 0) {
            return err;
        }
        if (spill) {
            dst = st->io;
            n = n > DB_IO_BYTES ? DB_IO_BYTES : n;
        }
        la_ssize_t got = archive_read_data(a, dst, (size_t)n);
        if (got <= 0) {
            return -EIO;
        }
        if (spill && pwrite(st->spill_fd, dst, (size_t)got, (off_t)(st->used - st->mem_cap)) !=
                         (ssize_t)got) {
            return -EIO;
        }
        st->used += (uint64_t)got;
        left -= (uint64_t)got;
    }
    return 0;
}

/* Writes size bytes at off into the current entry of a. */
static int
store_write_entry(struct store *st, struct archive *a, uint64_t off, uint64_t size)
{
    while (size > 0) {
        uint64_t n = size;
        const uint8_t *src = store_mem_at(st, off, &n);
        if (src == NULL) {
            n = n > DB_IO_BYTES ? DB_IO_BYTES : n;
            if (pread(st->spill_fd, st->io, (size_t)n, (off_t)(off - st->mem_cap)) != (ssize_t)n) {
                return -EIO;
            }
            src = st->io;
        }
        if (archive_write_data(a, src, (size_t)n) != (la_ssize_t)n) {
            return -EIO;
        }
        off += n;
        size -= n;
    }
    return 0;
}

/* ---- records ---- */

static uint64_t
hash_key(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        h = (h ^ (uint8_t)s[i]) * 1099511628211ull;
    }
    return h;
}

/* Length of the key of a member name: up to the last '.' of its last path element. */
static size_t
key_len(const char *name)
{
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    const char *dot = strrchr(base, '.');
    return dot ? (size_t)(dot - name) : strlen(name);
}

static int
hash_grow(struct run *r)
{
    size_t cap = r->hash_cap ? r->hash_cap * 2 : 1024;
    uint32_t *h = calloc(cap, sizeof(*h));
    if (h == NULL) {
        return -ENOMEM;
    }
    for (size_t i = 0; i < r->nrec; i++) {
        const char *k = r->rec[i].key;
        size_t s = (size_t)hash_key(k, strlen(k)) & (cap - 1);
        while (h[s] != 0) {
            s = (s + 1) & (cap - 1);
        }
        h[s] = (uint32_t)i + 1;
    }
    free(r->hash);
    r->hash = h;
    r->hash_cap = cap;
    return 0;
}

/* The record of key name[0..n), created when new; its index in *idx. */
static int
record_of(struct run *r, const char *name, size_t n, size_t *idx)
{
    if (2 * (r->nrec + 1) > r->hash_cap && hash_grow(r) < 0) {
        return -ENOMEM;
    }
    size_t s = (size_t)hash_key(name, n) & (r->hash_cap - 1);
    for (; r->hash[s] != 0; s = (s + 1) & (r->hash_cap - 1)) {
        const char *k = r->rec[r->hash[s] - 1].key;
        if (strncmp(k, name, n) == 0 && k[n] == '\0') {
            *idx = r->hash[s] - 1;
            return 0;
        }
    }
    if (r->nrec == r->cap_rec) {
        size_t cap = r->cap_rec ? r->cap_rec * 2 : 1024;
        struct record *nr = realloc(r->rec, cap * sizeof(*nr));
        if (nr == NULL) {
            return -ENOMEM;
        }
        r->rec = nr;
        r->cap_rec = cap;
    }
    char *key = strndup(name, n);
    if (key == NULL) {
        return -ENOMEM;
    }
    r->rec[r->nrec] = (struct record){.key = key, .first = UINT32_MAX, .last = UINT32_MAX};
    r->hash[s] = (uint32_t)r->nrec + 1;
    *idx = r->nrec++;
    return 0;
}

/* Adds the current entry of a (a regular file named name) as a member of its record. */
static int
member_add(struct run *r, struct archive *a, struct archive_entry *e)
{
    if (r->nmem == DB_MEMBERS_MAX) {
        return -E2BIG;
    }
    if (r->nmem == r->cap_mem) {
        size_t cap = r->cap_mem ? r->cap_mem * 2 : 4096;
        struct member *nm = realloc(r->mem, cap * sizeof(*nm));
        if (nm == NULL) {
            return -ENOMEM;
        }
        r->mem = nm;
        r->cap_mem = cap;
    }
    const char *name = archive_entry_pathname(e);
    if (name == NULL || archive_entry_size(e) < 0) {
        return -EINVAL;
    }
    uint64_t size = (uint64_t)archive_entry_size(e);
    size_t ri = 0;
    int err = record_of(r, name, key_len(name), &ri);
    if (err < 0) {
        return err;
    }
    struct member *m = &r->mem[r->nmem];
    *m = (struct member){.name = strdup(name),
                         .off = r->st.used,
                         .size = size,
                         .mtime = archive_entry_mtime(e),
                         .next = UINT32_MAX};
    if (m->name == NULL) {
        return -ENOMEM;
    }
    err = store_append_entry(&r->st, r->o.out, a, size);
    if (err < 0) {
        free(m->name);
        return err;
    }
    struct record *rec = &r->rec[ri];
    if (rec->last == UINT32_MAX) {
        rec->first = (uint32_t)r->nmem;
    } else {
        r->mem[rec->last].next = (uint32_t)r->nmem;
    }
    rec->last = (uint32_t)r->nmem;
    rec->tar_bytes += 512 + (size + 511) / 512 * 512;
    r->nmem++;
    return 0;
}

/* ---- phases ---- */

static int
read_shard(struct run *r, const char *path)
{
    struct archive *a = archive_read_new();
    struct archive_entry *e = NULL;
    int err = -ENOMEM;
    if (a == NULL) {
        goto out;
    }
    archive_read_support_format_tar(a);
    err = -EIO;
    if (archive_read_open_filename(a, path, DB_IO_BYTES) != ARCHIVE_OK) {
        const char *why = archive_error_string(a);
        fprintf(stderr, "dsort_base: %s: %s\n", path, why ? why : "open error");
        goto out;
    }
    int rc;
    while ((rc = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
        if (archive_entry_filetype(e) != AE_IFREG) {
            continue;
        }
        err = member_add(r, a, e);
        if (err < 0) {
            const char *name = archive_entry_pathname(e);
            fprintf(stderr, "dsort_base: %s: %s: %s\n", path, name ? name : "?", strerror(-err));
            goto out;
        }
    }
    err = rc == ARCHIVE_EOF ? 0 : -EIO;
    if (err < 0) {
        const char *why = archive_error_string(a);
        fprintf(stderr, "dsort_base: %s: %s\n", path, why ? why : "read error");
    }
out:
    archive_read_free(a);
    return err;
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(names[i]);
    }
    free(names);
}

/* Sorted names of the files in dir that end with ext. */
static int
list_shards(const char *dir, const char *ext, char ***names_out, size_t *n_out)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        return -errno;
    }
    char **names = NULL;
    size_t n = 0, cap = 0, el = strlen(ext);
    int err = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL && err == 0) {
        size_t l = strlen(de->d_name);
        if (l <= el || strcmp(de->d_name + l - el, ext) != 0) {
            continue;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 256;
            char **nn = cap <= DB_SHARDS_MAX ? realloc(names, cap * sizeof(*nn)) : NULL;
            err = nn == NULL ? -ENOMEM : 0;
            names = nn ? nn : names;
        }
        if (err == 0 && (names[n] = strdup(de->d_name)) != NULL) {
            n++;
        } else {
            err = -ENOMEM;
        }
    }
    closedir(d);
    if (err < 0) {
        free_names(names, n);
        return err;
    }
    qsort(names, n, sizeof(*names), cmp_str);
    *names_out = names;
    *n_out = n;
    return 0;
}

static int
read_all(struct run *r)
{
    char **names = NULL;
    size_t n = 0;
    int err = list_shards(r->o.in, r->o.ext, &names, &n);
    if (err < 0) {
        fprintf(stderr, "dsort_base: %s: %s\n", r->o.in, strerror(-err));
        return err;
    }
    for (size_t i = 0; i < n && err == 0; i++) {
        char path[DB_PATH_BYTES_MAX];
        if (snprintf(path, sizeof(path), "%s/%s", r->o.in, names[i]) >= (int)sizeof(path)) {
            err = -ENAMETOOLONG;
            break;
        }
        err = read_shard(r, path);
    }
    r->shards_in = (unsigned)n;
    free_names(names, n);
    return err;
}

static int
cmp_rec(const void *a, const void *b)
{
    return strcmp(((const struct record *)a)->key, ((const struct record *)b)->key);
}

static void
sort_records(struct run *r)
{
    if (!r->o.shuffle) {
        qsort(r->rec, r->nrec, sizeof(*r->rec), cmp_rec);
        return;
    }
    uint64_t x = r->o.seed * 0x9E3779B97F4A7C15ull + 1; /* xorshift64*, seeded Fisher-Yates */
    for (size_t i = r->nrec; i > 1; i--) {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        size_t j = (size_t)((x * 0x2545F4914F6CDD1Dull) % i);
        struct record t = r->rec[i - 1];
        r->rec[i - 1] = r->rec[j];
        r->rec[j] = t;
    }
}

static int
write_member(struct run *r, struct archive *a, struct archive_entry *e, const struct member *m)
{
    archive_entry_clear(e);
    archive_entry_set_pathname(e, m->name);
    archive_entry_set_size(e, (la_int64_t)m->size);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_mtime(e, m->mtime, 0);
    if (archive_write_header(a, e) != ARCHIVE_OK) {
        return -EIO;
    }
    return store_write_entry(&r->st, a, m->off, m->size);
}

/* One output shard: records [*next, ...) until its content bytes reach the shard size. */
static int
write_shard(struct run *r, size_t *next)
{
    char path[DB_PATH_BYTES_MAX];
    if (r->shards_out >= DB_OUT_SHARDS_MAX ||
        snprintf(path, sizeof(path), "%s/out-%05u%s", r->o.out, r->shards_out, r->o.ext) >=
            (int)sizeof(path)) {
        return -ENAMETOOLONG;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    struct archive *a = archive_write_new();
    struct archive_entry *e = archive_entry_new();
    int err = fd < 0 ? -errno : (a == NULL || e == NULL) ? -ENOMEM : 0;
    if (err < 0) {
        goto out;
    }
    archive_write_set_format_pax_restricted(a);
    archive_write_set_bytes_per_block(a, 64 << 10);
    archive_write_set_bytes_in_last_block(a, 1);
    err = archive_write_open_fd(a, fd) == ARCHIVE_OK ? 0 : -EIO;
    uint64_t bytes = 0;
    while (err == 0 && *next < r->nrec && bytes < r->o.shard_bytes) {
        const struct record *rec = &r->rec[(*next)++];
        for (uint32_t i = rec->first; i != UINT32_MAX && err == 0; i = r->mem[i].next) {
            err = write_member(r, a, e, &r->mem[i]);
        }
        bytes += rec->tar_bytes;
    }
    if (archive_write_close(a) != ARCHIVE_OK && err == 0) {
        err = -EIO;
    }
    if (err == 0 && !r->o.no_fsync && fsync(fd) < 0) {
        err = -errno;
    }
    r->shards_out++;
out:
    if (err < 0) {
        const char *why = a ? archive_error_string(a) : NULL;
        fprintf(stderr, "dsort_base: %s: %s\n", path, why ? why : strerror(-err));
    }
    archive_entry_free(e);
    archive_write_free(a);
    if (fd >= 0) {
        close(fd);
    }
    return err;
}

static int
write_all(struct run *r)
{
    int err = 0;
    for (size_t next = 0; next < r->nrec && err == 0;) {
        err = write_shard(r, &next);
    }
    int dfd = open(r->o.out, O_RDONLY | O_DIRECTORY);
    if (dfd < 0 || (!r->o.no_fsync && fsync(dfd) < 0)) {
        err = err ? err : -errno;
    }
    if (dfd >= 0) {
        close(dfd);
    }
    return err;
}

static void
run_fini(struct run *r)
{
    for (size_t i = 0; i < r->nmem; i++) {
        free(r->mem[i].name);
    }
    for (size_t i = 0; i < r->nrec; i++) {
        free(r->rec[i].key);
    }
    free(r->mem);
    free(r->rec);
    free(r->hash);
    store_fini(&r->st);
}

int
main(int argc, char **argv)
{
    struct run r = {0};
    if (parse_args(argc, argv, &r.o) < 0) {
        return usage(argv[0]);
    }
    if (mkdir(r.o.out, 0755) < 0 && errno != EEXIST) {
        fprintf(stderr, "dsort_base: %s: %s\n", r.o.out, strerror(errno));
        return 1;
    }
    int err = store_init(&r.st, r.o.mem_max_bytes);
    double t0 = now_s(), t1 = t0, t2 = t0, t3 = t0;
    if (err == 0) {
        err = read_all(&r);
        t1 = now_s();
    }
    free(r.hash); /* the key index is of no use past the read phase */
    r.hash = NULL;
    if (err == 0) {
        sort_records(&r);
        t2 = now_s();
        err = write_all(&r);
        t3 = now_s();
    }
    if (err == 0) {
        printf("{\"wall_s\":%.6f,\"read_s\":%.6f,\"sort_s\":%.6f,\"write_s\":%.6f,"
               "\"records\":%zu,\"members\":%zu,\"bytes\":%llu,\"shards_in\":%u,"
               "\"shards_out\":%u,\"spilled_bytes\":%llu}\n",
               t3 - t0, t1 - t0, t2 - t1, t3 - t2, r.nrec, r.nmem, (unsigned long long)r.st.used,
               r.shards_in, r.shards_out,
               (unsigned long long)(r.st.used > r.st.mem_cap ? r.st.used - r.st.mem_cap : 0));
    } else {
        fprintf(stderr, "dsort_base: failed: %s\n", strerror(-err));
    }
    run_fini(&r);
    return err == 0 ? 0 : 1;
}
