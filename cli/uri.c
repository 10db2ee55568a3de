/*
 * Bucket and object names as users type them, and their REST paths.
 *
 * Design notes: users write "ais://bucket/obj/name" as AIS tools print it, or just
 * "bucket/obj". The bucket part is validated with the shared name rules (common/names.h) so a
 * typo fails locally with a reason instead of as a server 400. The object part is borrowed
 * from the input; the caller validates it only where a name (not a prefix) is required.
 * Escaping keeps '/' in object names, as the spec's clients do (Python quote()).
 */
#include "cli/cli_int.h"
#include "common/err.h"
#include "common/names.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Schemes users type and the canonical provider they mean. */
static const struct {
    const char *scheme;
    const char *provider;
} schemes[] = {
    {"ais", "ais"}, {"aws", "aws"},  {"s3", "aws"},      {"gcp", "gcp"},
    {"gs", "gcp"},  {"az", "azure"}, {"azure", "azure"}, {"oci", "oci"},
    {"ht", "ht"},
};

static int
scheme_parse(const char *s, size_t len, struct cli_bck *out, const char **why)
{
    for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
        if (strlen(schemes[i].scheme) == len && strncmp(schemes[i].scheme, s, len) == 0) {
            snprintf(out->provider, sizeof(out->provider), "%s", schemes[i].provider);
            return 0;
        }
    }
    *why = "unknown provider (use ais://, aws://, s3://, gcp://, gs://, ht://, azure://, oci://)";
    return AIS_EBADNAME;
}

int
cli_bck_parse(const char *s, struct cli_bck *out, const char **why)
{
    struct cli_bck b;
    const char *dummy = NULL;
    if (why == NULL) {
        why = &dummy;
    }
    memset(&b, 0, sizeof(b));
    snprintf(b.provider, sizeof(b.provider), "ais");
    const char *sep = strstr(s, "://");
    if (sep != NULL) {
        int err = scheme_parse(s, (size_t)(sep - s), &b, why);
        if (err < 0) {
            return err;
        }
        b.scheme = true;
        s = sep + 3;
    }
    const char *slash = strchr(s, '/');
    size_t len = slash != NULL ? (size_t)(slash - s) : strlen(s);
    if (len == 0) {
        *why = "missing bucket name";
        return AIS_EBADNAME;
    }
    if (len > AIS_BCKNAME_BYTES_MAX) {
        *why = "bucket name too long";
        return AIS_EBADNAME;
    }
    memcpy(b.name, s, len);
    b.name[len] = '\0';
    int err = ais_bck_name_check(b.name, why);
    if (err < 0) {
        return err;
    }
    b.obj = slash != NULL ? slash + 1 : NULL;
    *out = b;
    return 0;
}

void
cli_bck_str(const struct cli_bck *b, char *out, size_t n)
{
    snprintf(out, n, "%s://%s", b->provider, b->name);
}

static bool
unreserved(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

int
cli_url_escape(struct ais_buf *buf, const char *s, bool keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        int err;
        if (unreserved(*p) || (keep_slash && *p == '/')) {
            err = ais_buf_append(buf, p, 1);
        } else {
            char enc[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            err = ais_buf_append(buf, enc, 3);
        }
        if (err < 0) {
            return err;
        }
    }
    return 0;
}

int
cli_bck_path(const struct cli_bck *b, struct ais_buf *out)
{
    int err = ais_buf_append(out, "/v1/buckets/", 12);
    if (err < 0) {
        return err;
    }
    return cli_url_escape(out, b->name, false);
}

int
cli_obj_path(const struct cli_bck *b, const char *obj, struct ais_buf *out)
{
    int err = ais_buf_append(out, "/v1/objects/", 12);
    if (err < 0) {
        return err;
    }
    err = cli_url_escape(out, b->name, false);
    if (err < 0) {
        return err;
    }
    err = ais_buf_append(out, "/", 1);
    if (err < 0) {
        return err;
    }
    return cli_url_escape(out, obj, true);
}

void
cli_bck_query(const struct cli_bck *b, char *out, size_t n)
{
    snprintf(out, n, "provider=%s", b->provider);
}
