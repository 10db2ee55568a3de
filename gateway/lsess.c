/*
 * Design notes: without sessions, each page asked every target for a full page after the
 * continuation token and kept only the first `limit` of N*limit merged names, so every target
 * sent (and walked) N times what it contributed. A session keeps each target's surplus: a page
 * tops up only the targets whose buffer holds fewer than `limit` unreturned names (the caller
 * asks them for the difference, after the last name it fetched from them, which is exactly
 * where the target's own list cursor stands), then k-way merges the sorted buffers.
 *
 * The table is a fixed array under one mutex; a session is handed out exclusively (busy) and
 * the table lock is never held across RPCs. A session whose token, key or target set does not
 * match the request is reset, so a client that pages with an old token or a Smap change never
 * sees wrong results, only a fresh walk.
 */
#include "gateway/lsess.h"

#include "common/limits.h"
#include "common/util.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct gw_lsess {
    int used, busy, private_; /* private_: not in the table (freed on give) */
    char uuid[64];
    char *key;
    char *token;
    int64_t used_ns;
    size_t nt;
    struct gw_lsess_tgt *t;
};

struct gw_lsess_tab {
    pthread_mutex_t mu;
    struct gw_lsess s[AIS_LIST_SESSIONS_MAX];
};

int
gw_lsess_tab_new(struct gw_lsess_tab **out)
{
    struct gw_lsess_tab *t = calloc(1, sizeof(*t));
    if (t == NULL) {
        return -ENOMEM;
    }
    pthread_mutex_init(&t->mu, NULL);
    *out = t;
    return 0;
}

static void
sess_clear(struct gw_lsess *s)
{
    for (size_t i = 0; i < s->nt; i++) {
        rpc_list_page_fini(&s->t[i].buf);
        free(s->t[i].last);
    }
    free(s->t);
    free(s->key);
    free(s->token);
    s->t = NULL;
    s->key = NULL;
    s->token = NULL;
    s->nt = 0;
    s->used = 0;
}

void
gw_lsess_tab_free(struct gw_lsess_tab *t)
{
    if (t == NULL) {
        return;
    }
    for (size_t i = 0; i < AIS_LIST_SESSIONS_MAX; i++) {
        sess_clear(&t->s[i]);
    }
    pthread_mutex_destroy(&t->mu);
    free(t);
}

static int
sess_matches(const struct gw_lsess *s, const char *key, const char *token, const char *const *ids,
             size_t n)
{
    if (strcmp(s->key, key) != 0 || strcmp(s->token, token) != 0 || s->nt != n) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (strcmp(s->t[i].id, ids[i]) != 0) {
            return 0;
        }
    }
    return 1;
}

/* Fresh state: every target positioned after token. 0 or -ENOMEM. */
static int
sess_init(struct gw_lsess *s, const char *uuid, const char *key, const char *token,
          const char *const *ids, size_t n)
{
    sess_clear(s);
    snprintf(s->uuid, sizeof(s->uuid), "%s", uuid);
    s->key = strdup(key);
    s->token = strdup(token);
    s->t = calloc(n ? n : 1, sizeof(*s->t));
    if (s->key == NULL || s->token == NULL || s->t == NULL) {
        sess_clear(s);
        return -ENOMEM;
    }
    s->nt = n;
    for (size_t i = 0; i < n; i++) {
        snprintf(s->t[i].id, sizeof(s->t[i].id), "%s", ids[i]);
        s->t[i].more = 1;
        s->t[i].last = token[0] ? strdup(token) : NULL;
    }
    s->used = 1;
    return 0;
}

/* A free slot, else the least recently used idle one (evicted). Caller holds mu. */
static struct gw_lsess *
slot_pick(struct gw_lsess_tab *t)
{
    struct gw_lsess *best = NULL;
    int64_t now = ais_mono_ns();
    for (size_t i = 0; i < AIS_LIST_SESSIONS_MAX; i++) {
        struct gw_lsess *s = &t->s[i];
        if (s->used && !s->busy && now - s->used_ns > AIS_LIST_SESSION_IDLE_MS * 1000000LL) {
            sess_clear(s);
        }
        if (!s->used) {
            return s;
        }
        if (!s->busy && (best == NULL || s->used_ns < best->used_ns)) {
            best = s;
        }
    }
    return best;
}

struct gw_lsess *
gw_lsess_take(struct gw_lsess_tab *t, const char *uuid, const char *key, const char *token,
              const char *const *ids, size_t n)
{
    struct gw_lsess *s = NULL;
    pthread_mutex_lock(&t->mu);
    for (size_t i = 0; i < AIS_LIST_SESSIONS_MAX && s == NULL; i++) {
        if (t->s[i].used && strcmp(t->s[i].uuid, uuid) == 0) {
            s = &t->s[i];
        }
    }
    if (s != NULL && s->busy) {
        s = NULL; /* the same session twice at once: serve this one privately */
    } else if (s == NULL || !sess_matches(s, key, token, ids, n)) {
        s = s ? s : slot_pick(t);
        if (s != NULL && sess_init(s, uuid, key, token, ids, n) != 0) {
            s = NULL;
        }
    }
    if (s != NULL) {
        s->busy = 1;
        s->used_ns = ais_mono_ns();
    }
    pthread_mutex_unlock(&t->mu);
    if (s == NULL) {
        s = calloc(1, sizeof(*s));
        if (s != NULL && sess_init(s, uuid, key, token, ids, n) != 0) {
            free(s);
            s = NULL;
        }
        if (s != NULL) {
            s->private_ = 1;
        }
    }
    return s;
}

struct gw_lsess_tgt *
gw_lsess_tgt(struct gw_lsess *s, size_t i)
{
    return i < s->nt ? &s->t[i] : NULL;
}

int
gw_lsess_append(struct gw_lsess *s, size_t i, struct rpc_list_page *page)
{
    struct gw_lsess_tgt *x = &s->t[i];
    struct rpc_list_page *b = &x->buf;
    /* Drop what was returned: its strings die here, after the reply that used them. */
    struct rpc_list_page done = {.n = x->pos, .entries = b->entries};
    struct rpc_list_entry *keep = NULL;
    size_t nkeep = b->n - x->pos, n = nkeep + page->n;
    if (n > 0 && (keep = malloc(n * sizeof(*keep))) == NULL) {
        return -ENOMEM;
    }
    if (nkeep > 0) {
        memcpy(keep, b->entries + x->pos, nkeep * sizeof(*keep));
    }
    if (page->n > 0) {
        memcpy(keep + nkeep, page->entries, page->n * sizeof(*keep));
        char *last = strdup(page->entries[page->n - 1].name);
        if (last == NULL) {
            free(keep);
            return -ENOMEM;
        }
        free(x->last);
        x->last = last;
    }
    rpc_list_page_fini(&done); /* frees the returned entries' strings and the old array */
    free(page->entries);
    x->more = page->more;
    page->entries = NULL;
    page->n = 0;
    b->entries = keep;
    b->n = n;
    x->pos = 0;
    return 0;
}

size_t
gw_lsess_merge(struct gw_lsess *s, size_t limit, struct rpc_list_entry **out, int *more)
{
    size_t k = 0;
    while (k < limit) {
        struct rpc_list_entry *min = NULL;
        for (size_t i = 0; i < s->nt; i++) {
            struct gw_lsess_tgt *x = &s->t[i];
            if (x->pos < x->buf.n &&
                (min == NULL || strcmp(x->buf.entries[x->pos].name, min->name) < 0)) {
                min = &x->buf.entries[x->pos];
            }
        }
        if (min == NULL) {
            break;
        }
        out[k++] = min;
        /* Advance every buffer past this name: a copy on two targets is listed once. */
        char *name = min->name;
        for (size_t i = 0; i < s->nt; i++) {
            struct gw_lsess_tgt *x = &s->t[i];
            while (x->pos < x->buf.n && strcmp(x->buf.entries[x->pos].name, name) == 0) {
                x->pos++;
            }
        }
    }
    int m = 0;
    for (size_t i = 0; i < s->nt && !m; i++) {
        m = s->t[i].more || s->t[i].pos < s->t[i].buf.n;
    }
    *more = m;
    return k;
}

void
gw_lsess_give(struct gw_lsess_tab *t, struct gw_lsess *s, const char *token, int more)
{
    if (s->private_) {
        sess_clear(s);
        free(s);
        return;
    }
    pthread_mutex_lock(&t->mu);
    char *tok = more ? strdup(token) : NULL;
    if (tok == NULL) {
        sess_clear(s); /* listing done (or OOM): nothing to keep */
    } else {
        free(s->token);
        s->token = tok;
        s->used_ns = ais_mono_ns();
    }
    s->busy = 0;
    pthread_mutex_unlock(&t->mu);
}
