#include "common/objref.h"

#include "common/bmd.h"
#include "common/hrw.h"
#include "common/names.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int
parse_ns(const char *q, char *out, size_t cap)
{
    if (q == NULL || q[0] == '\0' || strcmp(q, "@#") == 0) {
        out[0] = '\0';
        return 0;
    }
    if ((q[0] != '@' && q[0] != '#') || strchr(q, '#') == NULL || strchr(q, '/') != NULL ||
        strlen(q) + 2 >= cap) {
        return -EINVAL;
    }
    /* Canonical form "@uuid#name" (uuid may be empty), as in the uname. */
    snprintf(out, cap, "%s%s", q[0] == '#' ? "@" : "", q);
    return 0;
}

int
ais_objref_parse(const struct ais_req *r, const char *prefix, int need_obj, struct ais_objref *out,
                 char *msg, size_t cap)
{
    const char *why = NULL;
    const char *p = ais_req_path(r) + strlen(prefix);
    const char *slash = strchr(p, '/');
    size_t blen = slash ? (size_t)(slash - p) : strlen(p);
    memset(out, 0, sizeof(*out));
    out->provider = ais_provider_norm(ais_req_query(r, "provider"));
    if (out->provider == NULL) {
        snprintf(msg, cap, "invalid provider \"%s\"", ais_req_query(r, "provider"));
        return 400;
    }
    if (parse_ns(ais_req_query(r, "namespace"), out->ns, sizeof(out->ns)) != 0) {
        snprintf(msg, cap, "invalid namespace (expected @uuid#name)");
        return 400;
    }
    if (blen > AIS_BCKNAME_BYTES_MAX) {
        snprintf(msg, cap, "bucket name is too long (max %d bytes)", AIS_BCKNAME_BYTES_MAX);
        return 400;
    }
    memcpy(out->bck, p, blen);
    out->bck[blen] = '\0';
    if (ais_bck_name_check(out->bck, &why) != 0) {
        snprintf(msg, cap, "invalid bucket name \"%s\": %s", out->bck, why);
        return 400;
    }
    ais_bck_display(out->provider, out->ns, out->bck, out->display, sizeof(out->display));
    const char *obj = slash ? slash + 1 : NULL;
    if (obj != NULL && obj[0] == '\0' && need_obj <= 0) {
        obj = NULL; /* "/v1/buckets/b/" */
    }
    if (obj == NULL) {
        if (need_obj > 0) {
            snprintf(msg, cap, "object name is missing in %s", ais_req_path(r));
            return 400;
        }
        return 0;
    }
    if (need_obj == 0) {
        snprintf(msg, cap, "unexpected object name after bucket %s", out->display);
        return 400;
    }
    if (ais_req_path_has_nul(r)) {
        snprintf(msg, cap, "invalid object name: object name contains a NUL byte");
        return 400;
    }
    int err = ais_obj_name_check(obj, strlen(obj), &why);
    if (err != 0) {
        snprintf(msg, cap, "invalid object name: %s", why);
        return 400;
    }
    strcpy(out->obj, obj);
    if (ais_obj_digest(out->provider, out->ns, out->bck, out->obj, &out->digest) != 0) {
        snprintf(msg, cap, "object name too long");
        return 400;
    }
    return 0;
}
