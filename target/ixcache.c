/*
 * Design notes: the cache is a list of at most AIS_ARCH_IXC_N_MAX shards in LRU order under one
 * mutex; a lookup (hash of the shard name, identity compare, then an open-addressing probe of
 * the member table) holds it for a microsecond or so. Each shard's index is one names blob, an
 * array of records and a power-of-two table of record numbers (load <= 1/2), built while the
 * stored index is walked once (arch.c) and immutable once inserted.
 */
#include "target/ixcache.h"

#include "common/limits.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

struct rec {
    uint64_t off, size, h;
    uint32_t name_off, name_len;
};

struct tgt_ixc_build {
    char *names;
    size_t nlen, ncap;
    struct rec *recs;
    size_t n, cap;
    uint32_t *tab; /* record number + 1; 0 = empty */
    size_t tcap;
};

struct ixc_ent {
    struct ixc_ent *prev, *next; /* LRU: head is the most recent */
    char *shard;
    uint64_t sh;
    struct tgt_tarix_key k;
    struct tgt_ixc_build *b;
    size_t bytes;
};

struct tgt_ixc {
    pthread_mutex_t mu;
    struct ixc_ent *head, *tail;
    size_t n, bytes;
    uint64_t hits;
};

int
tgt_ixc_new(struct tgt_ixc **out)
{
    struct tgt_ixc *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        return -ENOMEM;
    }
    pthread_mutex_init(&c->mu, NULL);
    *out = c;
    return 0;
}

void
tgt_ixc_build_free(struct tgt_ixc_build *b)
{
    if (b != NULL) {
        free(b->names);
        free(b->recs);
        free(b->tab);
        free(b);
    }
}

static void
ent_free(struct ixc_ent *e)
{
    tgt_ixc_build_free(e->b);
    free(e->shard);
    free(e);
}

void
tgt_ixc_free(struct tgt_ixc *c)
{
    if (c == NULL) {
        return;
    }
    for (struct ixc_ent *e = c->head, *nx; e != NULL; e = nx) {
        nx = e->next;
        ent_free(e);
    }
    pthread_mutex_destroy(&c->mu);
    free(c);
}

static size_t
build_bytes(const struct tgt_ixc_build *b)
{
    return b->ncap + b->cap * sizeof(struct rec) + b->tcap * sizeof(uint32_t);
}

/* The record of name in b (hash h), or NULL. */
static const struct rec *
probe(const struct tgt_ixc_build *b, const char *name, size_t nl, uint64_t h)
{
    if (b->tcap == 0) {
        return NULL;
    }
    for (size_t i = (size_t)h & (b->tcap - 1);; i = (i + 1) & (b->tcap - 1)) {
        uint32_t v = b->tab[i];
        if (v == 0) {
            return NULL;
        }
        const struct rec *r = &b->recs[v - 1];
        if (r->h == h && r->name_len == nl && memcmp(b->names + r->name_off, name, nl) == 0) {
            return r;
        }
    }
}

static void
tab_put(struct tgt_ixc_build *b, uint32_t idx)
{
    for (size_t i = (size_t)b->recs[idx].h & (b->tcap - 1);; i = (i + 1) & (b->tcap - 1)) {
        if (b->tab[i] == 0) {
            b->tab[i] = idx + 1;
            return;
        }
    }
}

struct tgt_ixc_build *
tgt_ixc_build_new(void)
{
    return calloc(1, sizeof(struct tgt_ixc_build));
}

/* Grows *p (elements of sz bytes, capacity *cap) to hold want. 0 or -ENOMEM. */
static int
grow(void **p, size_t *cap, size_t want, size_t sz, size_t first)
{
    if (want <= *cap) {
        return 0;
    }
    size_t n = *cap ? *cap : first;
    while (n < want) {
        n *= 2;
    }
    void *q = realloc(*p, n * sz);
    if (q == NULL) {
        return -ENOMEM;
    }
    *p = q;
    *cap = n;
    return 0;
}

int
tgt_ixc_build_add(struct tgt_ixc_build *b, const char *name, uint64_t off, uint64_t size)
{
    size_t nl = strlen(name);
    uint64_t h = XXH3_64bits(name, nl);
    if (probe(b, name, nl, h) != NULL) {
        return 0; /* a later member of the same name: a read gets the first, as a walk does */
    }
    if (nl > UINT32_MAX || b->nlen + nl > UINT32_MAX) {
        return -E2BIG;
    }
    void *names = b->names, *recs = b->recs;
    if (grow(&names, &b->ncap, b->nlen + nl, 1, 4096) != 0) {
        return -ENOMEM;
    }
    b->names = names;
    if (grow(&recs, &b->cap, b->n + 1, sizeof(struct rec), 64) != 0) {
        return -ENOMEM;
    }
    b->recs = recs;
    if (2 * (b->n + 1) > b->tcap) {
        size_t tcap = b->tcap ? 2 * b->tcap : 128;
        uint32_t *tab = calloc(tcap, sizeof(*tab));
        if (tab == NULL) {
            return -ENOMEM;
        }
        free(b->tab);
        b->tab = tab;
        b->tcap = tcap;
        for (size_t i = 0; i < b->n; i++) {
            tab_put(b, (uint32_t)i);
        }
    }
    if (build_bytes(b) > AIS_ARCH_IXC_SHARD_BYTES_MAX) {
        return -E2BIG;
    }
    memcpy(b->names + b->nlen, name, nl);
    b->recs[b->n] = (struct rec){
        .off = off, .size = size, .h = h, .name_off = (uint32_t)b->nlen, .name_len = (uint32_t)nl};
    b->nlen += nl;
    tab_put(b, (uint32_t)b->n);
    b->n++;
    return 0;
}

static void
unlink_ent(struct tgt_ixc *c, struct ixc_ent *e)
{
    if (e->prev != NULL) {
        e->prev->next = e->next;
    } else {
        c->head = e->next;
    }
    if (e->next != NULL) {
        e->next->prev = e->prev;
    } else {
        c->tail = e->prev;
    }
    e->prev = e->next = NULL;
    c->n--;
    c->bytes -= e->bytes;
}

static void
push_front(struct tgt_ixc *c, struct ixc_ent *e)
{
    e->next = c->head;
    e->prev = NULL;
    if (c->head != NULL) {
        c->head->prev = e;
    }
    c->head = e;
    if (c->tail == NULL) {
        c->tail = e;
    }
    c->n++;
    c->bytes += e->bytes;
}

/* The entry of shard (under mu), or NULL. */
static struct ixc_ent *
find_ent(struct tgt_ixc *c, const char *shard, uint64_t sh)
{
    for (struct ixc_ent *e = c->head; e != NULL; e = e->next) {
        if (e->sh == sh && strcmp(e->shard, shard) == 0) {
            return e;
        }
    }
    return NULL;
}

int
tgt_ixc_find(struct tgt_ixc *c, const char *shard, const struct tgt_tarix_key *k, const char *name,
             uint64_t *off, uint64_t *size)
{
    uint64_t sh = XXH3_64bits(shard, strlen(shard));
    size_t nl = strlen(name);
    uint64_t h = XXH3_64bits(name, nl);
    int rc = -ENOENT;
    pthread_mutex_lock(&c->mu);
    struct ixc_ent *e = find_ent(c, shard, sh);
    if (e != NULL && tgt_tarix_key_eq(&e->k, k)) {
        const struct rec *r = probe(e->b, name, nl, h);
        if (r != NULL) {
            *off = r->off;
            *size = r->size;
        }
        rc = r != NULL;
        c->hits++;
        if (e != c->head) {
            unlink_ent(c, e);
            push_front(c, e);
        }
    }
    pthread_mutex_unlock(&c->mu);
    return rc;
}

void
tgt_ixc_insert(struct tgt_ixc *c, const char *shard, const struct tgt_tarix_key *k,
               struct tgt_ixc_build *b)
{
    struct ixc_ent *e = calloc(1, sizeof(*e));
    char *s = strdup(shard);
    if (e == NULL || s == NULL) {
        free(e);
        free(s);
        tgt_ixc_build_free(b);
        return;
    }
    e->shard = s;
    e->sh = XXH3_64bits(shard, strlen(shard));
    e->k = *k;
    e->b = b;
    e->bytes = build_bytes(b) + strlen(shard) + sizeof(*e);
    pthread_mutex_lock(&c->mu);
    struct ixc_ent *old = find_ent(c, shard, e->sh);
    if (old != NULL) {
        unlink_ent(c, old);
        ent_free(old);
    }
    while (c->tail != NULL &&
           (c->n >= AIS_ARCH_IXC_N_MAX || c->bytes + e->bytes > AIS_ARCH_IXC_BYTES_MAX)) {
        struct ixc_ent *lru = c->tail;
        unlink_ent(c, lru);
        ent_free(lru);
    }
    push_front(c, e);
    pthread_mutex_unlock(&c->mu);
}

uint64_t
tgt_ixc_hits(struct tgt_ixc *c)
{
    pthread_mutex_lock(&c->mu);
    uint64_t h = c->hits;
    pthread_mutex_unlock(&c->mu);
    return h;
}
