/*
 * Design notes: S3 XML both ways. Responses are written straight into a bounded ais_buf with
 * text escaped (S3 documents are flat and small). Request bodies (DeleteObjects,
 * CompleteMultipartUpload, CreateBucketConfiguration) are parsed with expat, never by hand:
 * the parser reports the children of the root one at a time with the texts of their named
 * children, so a handler sees records, not a tree. A DOCTYPE (and so any entity definition)
 * stops the parse: S3 bodies never have one and entity expansion is the classic XML bomb.
 */
#include "s3/s3_int.h"

#include <errno.h>
#include <expat.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
s3_xml_esc(struct ais_buf *b, const char *s, size_t n)
{
    size_t from = 0;
    int err = 0;
    for (size_t i = 0; i < n && err == 0; i++) {
        const char *rep = NULL;
        char num[8];
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '&':
            rep = "&amp;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\'':
            rep = "&apos;";
            break;
        default:
            if (c < 0x20 && c != '\t' && c != '\n') {
                snprintf(num, sizeof(num), "&#x%X;", c);
                rep = num;
            }
        }
        if (rep != NULL) {
            err = ais_buf_append(b, s + from, i - from);
            err = err ? err : ais_buf_append(b, rep, strlen(rep));
            from = i + 1;
        }
    }
    return err ? err : ais_buf_append(b, s + from, n - from);
}

int
s3_xml_el(struct ais_buf *b, const char *tag, const char *text)
{
    int err = ais_buf_printf(b, "<%s>", tag);
    err = err ? err : s3_xml_esc(b, text, strlen(text));
    return err ? err : ais_buf_printf(b, "</%s>", tag);
}

int
s3_xml_begin(struct ais_buf *b, const char *root)
{
    return ais_buf_printf(b,
                          "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                          "<%s xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">",
                          root);
}

int
s3_xml_any(void *arg, const char *elem, const struct s3_xml_item *it)
{
    (void)arg;
    (void)elem;
    (void)it;
    return 0;
}

struct xp {
    XML_Parser p;
    const char *root;
    const char *const *fields;
    size_t nfields;
    s3_xml_fn fn;
    void *arg;
    int depth;
    int field; /* index of the depth-3 field being read, -1 none */
    int rc;    /* fn's result or -EBADMSG */
    char elem[64];
    char text[S3_XML_TEXT_MAX + 1]; /* text of the depth-2 element */
    size_t text_len;
    char vals[S3_XML_FIELDS_MAX][S3_XML_TEXT_MAX + 1];
    size_t val_len[S3_XML_FIELDS_MAX];
    int have[S3_XML_FIELDS_MAX];
};

static void
xp_fail(struct xp *x, int rc)
{
    if (x->rc == 0) {
        x->rc = rc;
    }
    XML_StopParser(x->p, XML_FALSE);
}

/* Local name: "s3:Key" and "Key" are the same element. */
static const char *
local(const char *name)
{
    const char *c = strrchr(name, ':');
    return c ? c + 1 : name;
}

static void XMLCALL
xp_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
    struct xp *x = ud;
    (void)attrs;
    name = local(name);
    x->depth++;
    if (x->depth == 1 && strcmp(name, x->root) != 0) {
        xp_fail(x, -EBADMSG);
    } else if (x->depth == 2) {
        snprintf(x->elem, sizeof(x->elem), "%s", name);
        x->text_len = 0;
        memset(x->have, 0, sizeof(x->have));
        memset(x->val_len, 0, sizeof(x->val_len));
    } else if (x->depth == 3) {
        x->field = -1;
        for (size_t i = 0; i < x->nfields; i++) {
            if (strcmp(name, x->fields[i]) == 0) {
                x->field = (int)i;
                x->have[i] = 1;
                x->val_len[i] = 0;
            }
        }
    } else if (x->depth > 8) {
        xp_fail(x, -EBADMSG);
    }
}

static void
append(struct xp *x, char *dst, size_t *len, const char *s, int n)
{
    if (*len + (size_t)n > S3_XML_TEXT_MAX) {
        xp_fail(x, -EBADMSG);
        return;
    }
    memcpy(dst + *len, s, (size_t)n);
    *len += (size_t)n;
}

static void XMLCALL
xp_text(void *ud, const XML_Char *s, int n)
{
    struct xp *x = ud;
    if (x->depth == 2) {
        append(x, x->text, &x->text_len, s, n);
    } else if (x->depth == 3 && x->field >= 0) {
        append(x, x->vals[x->field], &x->val_len[x->field], s, n);
    }
}

static void XMLCALL
xp_end(void *ud, const XML_Char *name)
{
    struct xp *x = ud;
    (void)name;
    if (x->depth == 3) {
        x->field = -1;
    } else if (x->depth == 2 && x->rc == 0) {
        struct s3_xml_item it = {.text = x->text};
        x->text[x->text_len] = '\0';
        for (size_t i = 0; i < x->nfields; i++) {
            x->vals[i][x->val_len[i]] = '\0';
            it.vals[i] = x->have[i] ? x->vals[i] : NULL;
        }
        int rc = x->fn(x->arg, x->elem, &it);
        if (rc != 0) {
            xp_fail(x, rc);
        }
    }
    x->depth--;
}

static void XMLCALL
xp_doctype(void *ud, const XML_Char *name, const XML_Char *sysid, const XML_Char *pubid,
           int internal)
{
    (void)name;
    (void)sysid;
    (void)pubid;
    (void)internal;
    xp_fail(ud, -EBADMSG);
}

int
s3_xml_parse(const char *body, size_t len, const char *root, const char *const *fields,
             size_t nfields, s3_xml_fn fn, void *arg)
{
    if (nfields > S3_XML_FIELDS_MAX || len > AIS_S3_XML_BYTES_MAX || len > INT32_MAX) {
        return -EBADMSG;
    }
    struct xp *x = calloc(1, sizeof(*x));
    if (x == NULL) {
        return -ENOMEM;
    }
    x->p = XML_ParserCreate("UTF-8");
    if (x->p == NULL) {
        free(x);
        return -ENOMEM;
    }
    x->root = root;
    x->fields = fields;
    x->nfields = nfields;
    x->fn = fn;
    x->arg = arg;
    x->field = -1;
    XML_SetUserData(x->p, x);
    XML_SetElementHandler(x->p, xp_start, xp_end);
    XML_SetCharacterDataHandler(x->p, xp_text);
    XML_SetStartDoctypeDeclHandler(x->p, xp_doctype);
    enum XML_Status st = XML_Parse(x->p, body, (int)len, XML_TRUE);
    int rc = x->rc;
    if (rc == 0 && (st != XML_STATUS_OK || len == 0)) {
        rc = -EBADMSG;
    }
    XML_ParserFree(x->p);
    free(x);
    return rc;
}
