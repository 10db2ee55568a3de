/*
 * Design notes: ListObjects replies are parsed with expat (never by hand): element text is
 * collected for the few fields we keep (Key, Size, ETag, LastModified inside Contents, and
 * IsTruncated), bounded per field. The next token is the last key of a truncated page, which
 * the next request passes as start-after: the same name-based tokens AIS listings use.
 */
#include "backend/bk_int.h"

#include <errno.h>
#include <expat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TEXT_BYTES 2048

struct lp {
    struct bk_page *out;
    size_t cap;
    int in_contents;
    int truncated;
    int err;
    char text[TEXT_BYTES];
    size_t tlen;
    struct bk_entry cur;
};

static void XMLCALL
on_start(void *arg, const XML_Char *name, const XML_Char **attrs)
{
    (void)attrs;
    struct lp *p = arg;
    p->tlen = 0;
    p->text[0] = '\0';
    if (strcmp(name, "Contents") == 0) {
        p->in_contents = 1;
        memset(&p->cur, 0, sizeof(p->cur));
    }
}

static void XMLCALL
on_text(void *arg, const XML_Char *s, int len)
{
    struct lp *p = arg;
    size_t room = TEXT_BYTES - 1 - p->tlen;
    size_t n = (size_t)len < room ? (size_t)len : room;
    memcpy(p->text + p->tlen, s, n);
    p->tlen += n;
    p->text[p->tlen] = '\0';
}

static int64_t
iso_ns(const char *s)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    const char *e = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    return e ? (int64_t)timegm(&tm) * 1000000000LL : 0;
}

static int
push(struct lp *p)
{
    struct bk_page *o = p->out;
    if (p->cur.name == NULL) {
        return -EIO;
    }
    if (o->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 64;
        struct bk_entry *v = realloc(o->v, cap * sizeof(*v));
        if (v == NULL) {
            return -ENOMEM;
        }
        o->v = v;
        p->cap = cap;
    }
    o->v[o->n++] = p->cur;
    memset(&p->cur, 0, sizeof(p->cur));
    return 0;
}

static void XMLCALL
on_end(void *arg, const XML_Char *name)
{
    struct lp *p = arg;
    if (p->err != 0) {
        return;
    }
    if (p->in_contents) {
        if (strcmp(name, "Key") == 0 && p->cur.name == NULL) {
            p->cur.name = strdup(p->text);
            p->err = p->cur.name ? 0 : -ENOMEM;
        } else if (strcmp(name, "Size") == 0) {
            p->cur.size = strtoull(p->text, NULL, 10);
        } else if (strcmp(name, "ETag") == 0) {
            const char *t = p->text;
            size_t n = strlen(t);
            if (n >= 2 && t[0] == '"' && t[n - 1] == '"') {
                t++;
                n -= 2;
            }
            snprintf(p->cur.etag, sizeof(p->cur.etag), "%.*s", (int)n, t);
        } else if (strcmp(name, "LastModified") == 0) {
            p->cur.mtime_ns = iso_ns(p->text);
        } else if (strcmp(name, "Contents") == 0) {
            p->in_contents = 0;
            p->err = push(p);
        }
    } else if (strcmp(name, "IsTruncated") == 0) {
        p->truncated = strcmp(p->text, "true") == 0;
    }
    p->tlen = 0;
    p->text[0] = '\0';
}

void
bk_page_fini(struct bk_page *pg)
{
    if (pg == NULL) {
        return;
    }
    for (size_t i = 0; i < pg->n; i++) {
        free(pg->v[i].name);
    }
    free(pg->v);
    free(pg->next);
    memset(pg, 0, sizeof(*pg));
}

int
bk_list_parse(const char *xml, size_t len, struct bk_page *out)
{
    struct bk_page pg = {0};
    struct lp p = {.out = &pg};
    XML_Parser x = XML_ParserCreate("UTF-8");
    if (x == NULL) {
        return -ENOMEM;
    }
    XML_SetUserData(x, &p);
    XML_SetElementHandler(x, on_start, on_end);
    XML_SetCharacterDataHandler(x, on_text);
    int ok = XML_Parse(x, xml, (int)len, 1) == XML_STATUS_OK;
    XML_ParserFree(x);
    free(p.cur.name);
    int rc = !ok ? -EIO : p.err;
    if (rc == 0 && p.truncated && pg.n == 0) {
        rc = -EIO;
    }
    if (rc == 0) {
        pg.next = strdup(p.truncated ? pg.v[pg.n - 1].name : "");
        rc = pg.next ? 0 : -ENOMEM;
    }
    if (rc != 0) {
        bk_page_fini(&pg);
        return rc;
    }
    *out = pg;
    return 0;
}
