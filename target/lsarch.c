/*
 * List-objects with the arch-dir flag (target/lsarch.h).
 *
 * Design notes: the gateway merges the targets' pages by strcmp and continues after the last
 * name it returned, so a target's page must be in strcmp order, hold exactly `limit` entries
 * when more follow, and be resumable after any name in it. Members do not simply follow their
 * shard: archives store them in any order, and "s.tar/x" sorts after "s.tar.1" ('.' < '/'),
 * so other objects (shards too) can come between a shard and its members. A page is thus a
 * merge of the object walk (the listing's cursor, lcache.h) with a small stack of open shards,
 * each holding the members that can still go into this page: one pass over the shard keeps
 * the smallest names after the floor in a bounded max-heap (at most the room left in the
 * page), then sorts them. When the entries held across the stack exceed the room left, only
 * the smallest `room` are kept: whatever was dropped sorts after all of them, so the page is
 * full before it would be needed. Memory stays at about two pages of names whatever the
 * member counts. A page that ends inside a shard's members says more=1, and the next one
 * finds that shard again as a prefix of the continuation token: every prefix of the token
 * that is followed by a char <= '/' (or is the token) and names a local shard can still have
 * members after the token. Each shard with members in a page is read once for that page (an
 * index read for TAR, a decompression pass for the others).
 */
#include "target/lsarch.h"

#include "common/assert.h"
#include "common/err.h"
#include "common/hrw.h"
#include "common/limits.h"
#include "common/log.h"
#include "target/arch.h"
#include "target/target_int.h"
#include "target/tarix.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LSA_DEPTH_MAX 16 /* shards open at once (each name extends the previous one) */
#define LSA_NAME_BYTES (AIS_OBJNAME_BYTES_MAX + 1 + TGT_TAR_NAME_BYTES_MAX + 1)
#define LSA_F_IN_ARCH 128u /* AIS apc.EntryInArch */
#define LSA_F_IS_ARCH 512u /* AIS apc.EntryIsArchive */

struct lsa_shard {
    struct rpc_list_page m; /* members still to list, sorted; m.entries[pos] is next */
    size_t pos;
    int cut; /* the shard has more members than held */
};

struct lsa {
    struct tgt *t;
    const struct st_bck *bck;
    const struct rpc_list_req *q;
    struct st_list_iter *it;
    struct rpc_list_page objs; /* the walk's current chunk; objs.entries[opos] is next */
    size_t opos;
    int omore;
    int cut_any; /* a shard dropped from the stack still had members */
    struct lsa_shard st[LSA_DEPTH_MAX];
    size_t depth;
    struct rpc_list_page *out;
};

/* ---- one shard's members: the cap smallest names after floor ---- */

struct lsa_sel {
    const char *shard, *floor;
    size_t cap, n, alloc;
    struct rpc_list_entry *h; /* max-heap by name */
    int cut;
    char name[LSA_NAME_BYTES];
};

static int
ent_cmp(const struct rpc_list_entry *a, const struct rpc_list_entry *b)
{
    return strcmp(a->name, b->name);
}

static void
heap_down(struct rpc_list_entry *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && ent_cmp(&h[l], &h[m]) > 0) {
            m = l;
        }
        if (r < n && ent_cmp(&h[r], &h[m]) > 0) {
            m = r;
        }
        if (m == i) {
            return;
        }
        struct rpc_list_entry x = h[i];
        h[i] = h[m];
        h[m] = x;
        i = m;
    }
}

static void
heap_up(struct rpc_list_entry *h, size_t i)
{
    while (i > 0 && ent_cmp(&h[(i - 1) / 2], &h[i]) < 0) {
        struct rpc_list_entry x = h[i];
        h[i] = h[(i - 1) / 2];
        h[(i - 1) / 2] = x;
        i = (i - 1) / 2;
    }
}

/* tgt_arch_member_fn */
static int
sel_member(void *ctx, const char *member, uint64_t size)
{
    struct lsa_sel *s = ctx;
    int w = snprintf(s->name, sizeof(s->name), "%s/%s", s->shard, member);
    if (w < 0 || (size_t)w >= sizeof(s->name) || strcmp(s->name, s->floor) <= 0) {
        return 0; /* (a name too long cannot happen: both parts are bounded) */
    }
    if (s->n == s->cap) {
        s->cut = 1;
        if (s->n == 0 || strcmp(s->name, s->h[0].name) >= 0) {
            return 0;
        }
        char *dup = strdup(s->name);
        if (dup == NULL) {
            return -ENOMEM;
        }
        free(s->h[0].name);
        s->h[0] = (struct rpc_list_entry){.name = dup, .size = size, .flags = LSA_F_IN_ARCH};
        heap_down(s->h, s->n, 0);
        return 0;
    }
    if (s->n == s->alloc) {
        size_t na = s->alloc ? s->alloc * 2 : 16;
        na = na > s->cap ? s->cap : na;
        struct rpc_list_entry *v = realloc(s->h, na * sizeof(*v));
        if (v == NULL) {
            return -ENOMEM;
        }
        s->h = v;
        s->alloc = na;
    }
    s->h[s->n] = (struct rpc_list_entry){.name = strdup(s->name), .size = size};
    s->h[s->n].flags = LSA_F_IN_ARCH;
    if (s->h[s->n].name == NULL) {
        return -ENOMEM;
    }
    heap_up(s->h, s->n++);
    return 0;
}

static int
qsort_ent(const void *a, const void *b)
{
    return ent_cmp(a, b);
}

/*
 * Reads the members of local shard name after floor (at most cap) into out, sorted. 0, or an
 * error of tgt_arch_members / st_obj_open (the shard is then listed without members).
 */
static int
shard_read(struct lsa *a, const char *name, const char *floor, size_t cap, struct lsa_shard *out)
{
    struct st_obj_md md;
    uint64_t digest = 0;
    int fd = -1;
    struct lsa_sel *s = calloc(1, sizeof(*s));
    int rc = s != NULL ? 0 : -ENOMEM;
    if (rc == 0) {
        rc = ais_obj_digest(a->bck->provider, a->bck->ns, a->bck->name, name, &digest);
    }
    if (rc == 0) {
        rc = st_obj_open(a->t->mp, a->bck, name, digest, &fd, &md);
    }
    if (rc == 0) {
        *s = (struct lsa_sel){.shard = name, .floor = floor, .cap = cap};
        rc = tgt_arch_members(a->t, a->bck, name, fd, &md, sel_member, s);
        close(fd);
    }
    if (rc == 0) {
        if (s->n > 1) {
            qsort(s->h, s->n, sizeof(*s->h), qsort_ent);
        }
        *out = (struct lsa_shard){.m = {.n = s->n, .entries = s->h}, .cut = s->cut};
    } else if (s != NULL) {
        struct rpc_list_page drop = {.n = s->n, .entries = s->h};
        rpc_list_page_fini(&drop);
    }
    free(s);
    return rc;
}

/* ---- the stack of open shards ---- */

static void
shard_fini(struct lsa_shard *s)
{
    rpc_list_page_fini(&s->m);
    s->pos = 0;
}

/* Keeps only the room smallest members held across the stack (the others are cut). */
static void
stack_trim(struct lsa *a, size_t room)
{
    size_t total = 0, pos[LSA_DEPTH_MAX];
    for (size_t i = 0; i < a->depth; i++) {
        pos[i] = a->st[i].pos;
        total += a->st[i].m.n - pos[i];
    }
    for (size_t k = 0; total > room && k < room; k++) {
        size_t m = a->depth;
        for (size_t i = 0; i < a->depth; i++) {
            const struct lsa_shard *s = &a->st[i];
            if (pos[i] < s->m.n && (m == a->depth || strcmp(s->m.entries[pos[i]].name,
                                                            a->st[m].m.entries[pos[m]].name) < 0)) {
                m = i;
            }
        }
        pos[m]++;
    }
    for (size_t i = 0; total > room && i < a->depth; i++) {
        struct lsa_shard *s = &a->st[i];
        for (size_t j = pos[i]; j < s->m.n; j++) {
            free(s->m.entries[j].name);
            s->cut = 1;
        }
        s->m.n = pos[i];
    }
}

/* Drops shards with nothing left to list here (remembering whether they had more). */
static void
stack_pop_done(struct lsa *a)
{
    size_t k = 0;
    for (size_t i = 0; i < a->depth; i++) {
        struct lsa_shard *s = &a->st[i];
        if (s->pos < s->m.n) {
            a->st[k++] = *s;
            continue;
        }
        a->cut_any |= s->cut;
        shard_fini(s);
    }
    a->depth = k;
}

/*
 * Opens shard name on the stack with its members after floor, at most cap of them. 1 when the
 * shard was read (it is an archive), 0 when it is listed without members, or -ENOMEM/-E2BIG.
 */
static int
stack_push(struct lsa *a, const char *name, const char *floor, size_t cap)
{
    struct lsa_shard s;
    stack_pop_done(a);
    if (a->depth == LSA_DEPTH_MAX) {
        return -E2BIG;
    }
    int rc = shard_read(a, name, floor, cap, &s);
    if (rc == -ENOMEM) {
        return rc;
    }
    if (rc != 0 && rc != -ENOENT) { /* -ENOENT: a token's prefix that is no object here */
        AIS_LOG_DBG("req=list obj=%s/%s msg=\"shard listed without members\" err=\"%s\"",
                    a->bck->name, name, ais_strerror(rc));
    }
    if (rc != 0) {
        return 0;
    }
    a->st[a->depth++] = s;
    stack_trim(a, cap);
    return 1;
}

/* The open shard with the smallest next member, or NULL. */
static struct lsa_shard *
stack_min(struct lsa *a)
{
    struct lsa_shard *m = NULL;
    for (size_t i = 0; i < a->depth; i++) {
        struct lsa_shard *s = &a->st[i];
        if (s->pos < s->m.n &&
            (m == NULL || strcmp(s->m.entries[s->pos].name, m->m.entries[m->pos].name) < 0)) {
            m = s;
        }
    }
    return m;
}

/* Shards listed before the token whose members can still follow it (see the notes). */
static int
stack_from_token(struct lsa *a)
{
    const char *tok = a->q->after != NULL ? a->q->after : "";
    const char *prefix = a->q->prefix != NULL ? a->q->prefix : "";
    size_t len = strlen(tok), plen = strlen(prefix);
    char name[AIS_OBJNAME_BYTES_MAX + 1];
    for (size_t i = plen > 0 ? plen : 1; i <= len && i <= AIS_OBJNAME_BYTES_MAX; i++) {
        if ((unsigned char)tok[i] > '/') { /* tok[len] is the NUL */
            continue;
        }
        memcpy(name, tok, i);
        name[i] = '\0';
        if (strncmp(name, prefix, plen) != 0 || !tgt_arch_name_is(name)) {
            continue;
        }
        int rc = stack_push(a, name, tok, a->q->limit);
        if (rc < 0) {
            return rc;
        }
    }
    return 0;
}

/* ---- the object walk ---- */

/* st_list_fn: one name of the walk into the chunk (names up to the token are skipped). */
static int
walk_one(void *ctx, const char *name, const struct st_obj_md *md)
{
    struct lsa *a = ctx;
    if (a->q->after != NULL && strcmp(name, a->q->after) <= 0) {
        return 0; /* the cursor was seeked to a shorter token: see tgt_lsarch_page */
    }
    struct rpc_list_entry e = tgt_list_entry(name, md);
    return rpc_list_page_add(&a->objs, &e);
}

static int
walk_refill(struct lsa *a)
{
    rpc_list_page_fini(&a->objs);
    a->opos = 0;
    size_t room = a->q->limit - a->out->n;
    return st_list_iter_next_page(a->it, room, walk_one, a, &a->omore);
}

/* Lists object o; a shard's members go on the stack first (they follow it in the merge). */
static int
emit_obj(struct lsa *a, const struct rpc_list_entry *o)
{
    struct rpc_list_entry e = *o;
    if (tgt_arch_name_is(o->name)) {
        int rc = stack_push(a, o->name, o->name, a->q->limit - a->out->n - 1);
        if (rc < 0) {
            return rc;
        }
        e.flags |= rc == 1 ? LSA_F_IS_ARCH : 0;
    }
    return rpc_list_page_add(a->out, &e);
}

static int
lsa_run(struct lsa *a)
{
    int rc = stack_from_token(a);
    while (rc == 0 && a->out->n < a->q->limit) {
        if (a->opos == a->objs.n && a->omore) {
            rc = walk_refill(a);
            continue;
        }
        struct lsa_shard *s = stack_min(a);
        const struct rpc_list_entry *o = a->opos < a->objs.n ? &a->objs.entries[a->opos] : NULL;
        if (s != NULL && (o == NULL || strcmp(s->m.entries[s->pos].name, o->name) < 0)) {
            rc = rpc_list_page_add(a->out, &s->m.entries[s->pos++]);
        } else if (o != NULL) {
            a->opos++;
            rc = emit_obj(a, o);
        } else {
            break;
        }
    }
    return rc;
}

int
tgt_lsarch_page(struct tgt *t, const struct st_bck *b, const struct rpc_list_req *q,
                struct rpc_list_page *page, int *more)
{
    AIS_ASSERT(q->limit >= 1 && q->limit <= AIS_LIST_PAGE_MAX);
    struct lsa *a = calloc(1, sizeof(*a));
    char seek[AIS_OBJNAME_BYTES_MAX + 1];
    const char *after = q->after != NULL ? q->after : "";
    if (a == NULL) {
        return -ENOMEM;
    }
    /* A member name may be longer than any object name: the cursor seeks to its head. */
    size_t n = strlen(after) > AIS_OBJNAME_BYTES_MAX ? AIS_OBJNAME_BYTES_MAX : strlen(after);
    memcpy(seek, after, n);
    seek[n] = '\0';
    *a = (struct lsa){.t = t, .bck = b, .q = q, .out = page, .omore = 1};
    int rc = tgt_lcache_take(t->lcache, t->mp, b, q->prefix, q->with_md, seek, &a->it);
    if (rc == 0) {
        rc = lsa_run(a);
    }
    int m = a->opos < a->objs.n || a->omore || a->cut_any;
    for (size_t i = 0; i < a->depth; i++) {
        m |= a->st[i].pos < a->st[i].m.n || a->st[i].cut;
        shard_fini(&a->st[i]);
    }
    /* Kept when it walked: the gateway may use only part of the page, then seeks back. */
    if (rc == 0 && st_list_iter_last(a->it)[0] != '\0') {
        tgt_lcache_give(t->lcache, a->it);
    } else {
        st_list_iter_close(a->it);
    }
    rpc_list_page_fini(&a->objs);
    free(a);
    if (rc == 0) {
        *more = m;
    }
    return rc;
}
