/*
 * Design notes: the orders of dSort and the cutting of an ordered record list into shards -
 * pure code. Every target sorts its own records with ds_items_sort; the leader merges the
 * sorted runs (k-way, one pass) and cuts the result. Shuffle is an order too (a seeded hash of
 * the key), so it needs no shared random state and gives the same result on every run with
 * the same seed.
 */
#include "dsort/ds_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

uint64_t
ds_shuffle_hash(const char *seed, const char *key)
{
    uint64_t s = XXH64(seed, strlen(seed), 0x5eed);
    return XXH64(key, strlen(key), s);
}

static int
cmp_u64(uint64_t a, uint64_t b)
{
    return a < b ? -1 : a > b;
}

static int
tie(const struct ds_item *a, const struct ds_item *b)
{
    int c = strcmp(a->key, b->key);
    if (c == 0) {
        c = cmp_u64(a->sidx, b->sidx);
    }
    return c ? c : cmp_u64(a->pos, b->pos);
}

int
ds_item_cmp(const struct ds_order *o, const struct ds_item *a, const struct ds_item *b)
{
    int c = 0;
    switch (o->alg) {
    case DS_ALG_ALPHANUMERIC:
        c = tie(a, b);
        break;
    case DS_ALG_SHUFFLE:
        c = cmp_u64(a->hash, b->hash);
        c = c ? c : tie(a, b);
        break;
    case DS_ALG_NONE:
        c = cmp_u64(a->sidx, b->sidx);
        c = c ? c : cmp_u64(a->pos, b->pos);
        break;
    case DS_ALG_CONTENT:
        if (o->ckey == DS_CKEY_INT) {
            c = a->cint < b->cint ? -1 : a->cint > b->cint;
        } else if (o->ckey == DS_CKEY_FLOAT) {
            c = a->cflt < b->cflt ? -1 : a->cflt > b->cflt;
        } else {
            c = strcmp(a->cstr ? a->cstr : "", b->cstr ? b->cstr : "");
        }
        c = c ? c : tie(a, b);
        break;
    }
    return o->decreasing && o->alg != DS_ALG_SHUFFLE && o->alg != DS_ALG_NONE ? -c : c;
}

static _Thread_local const struct ds_order *sort_order;

static int
qcmp(const void *a, const void *b)
{
    return ds_item_cmp(sort_order, a, b);
}

void
ds_items_sort(const struct ds_order *o, struct ds_item *v, size_t n)
{
    sort_order = o;
    qsort(v, n, sizeof(*v), qcmp);
    sort_order = NULL;
}

/* A binary min-heap of run heads, by item order (run index breaks ties: stable). */
struct heap {
    const struct ds_order *o;
    struct ds_item *const *runs;
    size_t *at; /* next item of each run */
    size_t *h;  /* run indices */
    size_t n;
};

static int
heap_less(const struct heap *hp, size_t x, size_t y)
{
    int c = ds_item_cmp(hp->o, &hp->runs[x][hp->at[x]], &hp->runs[y][hp->at[y]]);
    return c < 0 || (c == 0 && x < y);
}

static void
heap_down(struct heap *hp, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < hp->n && heap_less(hp, hp->h[l], hp->h[m])) {
            m = l;
        }
        if (r < hp->n && heap_less(hp, hp->h[r], hp->h[m])) {
            m = r;
        }
        if (m == i) {
            return;
        }
        size_t t = hp->h[i];
        hp->h[i] = hp->h[m];
        hp->h[m] = t;
        i = m;
    }
}

void
ds_items_merge(const struct ds_order *o, struct ds_item *const *runs, const size_t *lens,
               size_t nruns, struct ds_item *out)
{
    size_t at_s[64], h_s[64];
    size_t *at = nruns <= 64 ? at_s : calloc(nruns, sizeof(*at));
    size_t *h = nruns <= 64 ? h_s : calloc(nruns, sizeof(*h));
    struct heap hp = {.o = o, .runs = runs, .at = at, .h = h, .n = 0};
    size_t k = 0;
    if (at == NULL || h == NULL) { /* no memory for the heap: concatenate and sort */
        for (size_t i = 0; i < nruns; i++) {
            memcpy(out + k, runs[i], lens[i] * sizeof(*out));
            k += lens[i];
        }
        ds_items_sort(o, out, k);
        goto out;
    }
    for (size_t i = 0; i < nruns; i++) {
        at[i] = 0;
        if (lens[i] > 0) {
            h[hp.n++] = i;
        }
    }
    for (size_t i = hp.n; i-- > 0;) {
        heap_down(&hp, i);
    }
    while (hp.n > 0) {
        size_t r = h[0];
        out[k++] = runs[r][at[r]++];
        if (at[r] == lens[r]) {
            h[0] = h[--hp.n];
        }
        heap_down(&hp, 0);
    }
out:
    if (at != at_s) {
        free(at);
    }
    if (h != h_s) {
        free(h);
    }
}

size_t
ds_items_cut(const struct ds_item *v, size_t n, uint64_t shard_bytes, size_t *starts)
{
    size_t ns = 0;
    uint64_t acc = 0;
    for (size_t i = 0; i < n; i++) {
        if (acc == 0) {
            starts[ns++] = i;
        }
        acc += v[i].size;
        if (acc >= shard_bytes) {
            acc = 0;
        }
    }
    return ns;
}

uint64_t
ds_tar_member_bytes(const char *name, uint64_t size)
{
    size_t l = strlen(name);
    uint64_t hdr = 512;
    if (l > 99) { /* a pax header carries the long name */
        hdr += 512 + ((l + 64 + 511) / 512) * 512;
    }
    return hdr + (size + 511) / 512 * 512;
}

const char *
ds_name_ext(const char *name)
{
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    const char *dot = strrchr(base, '.');
    return dot && dot != base ? dot : name + strlen(name);
}

size_t
ds_key_len(const char *name)
{
    return (size_t)(ds_name_ext(name) - name);
}

int
ds_ekm_name(const char *fmt, uint64_t n, char *out, size_t cap)
{
    const char *p = strchr(fmt, '%');
    if (p == NULL) {
        return -EINVAL;
    }
    const char *q = p + 1;
    int width = 0;
    int zero = *q == '0';
    while (*q >= '0' && *q <= '9') {
        width = width * 10 + (*q - '0');
        q++;
        if (width > 32) {
            return -EINVAL;
        }
    }
    if (*q != 'd' || strchr(q, '%') != NULL) {
        return -EINVAL;
    }
    int w =
        snprintf(out, cap, "%.*s%0*" PRIu64 "%s", (int)(p - fmt), fmt, zero ? width : 0, n, q + 1);
    if (!zero && width > 0) {
        w = snprintf(out, cap, "%.*s%*" PRIu64 "%s", (int)(p - fmt), fmt, width, n, q + 1);
    }
    return w < 0 || (size_t)w >= cap ? -ENAMETOOLONG : 0;
}
