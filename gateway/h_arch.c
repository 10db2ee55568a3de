/*
 * Design notes: "archive", the gateway's half (PUT /v1/buckets/<src> with ActMsg {"action":
 * "archive","value": ArchiveBckMsg {"tobck":{"name","provider"},"archname","mime","objnames" |
 * "template","isbn","bnonly","aate","coer"}}, AIS cmn.ArchiveBckMsg / apc.ArchiveMsg). One
 * shard is built by one target, the owner of the shard's name under HRW, so the shard is
 * written where it will be read and the gateway holds nothing while it runs. The gateway checks
 * the request (both buckets, the format, every name: 400 before anything starts), expands a
 * template, and starts the job on the owner with rpc_objs_op "archive" under an id it makes;
 * the owner runs it on its job registry (kind "archive", `ais job ls`), pulling the sources it
 * does not hold from their owners (target/arch_bck.c). Answers the id as text/plain, as AIS.
 * Not done: an empty list and template (AIS: the whole bucket) and archives of more than
 * AIS_ARCH_NAMES_MAX objects.
 */
#include "common/err.h"
#include "common/hrw.h"
#include "common/json.h"
#include "common/limits.h"
#include "common/names.h"
#include "common/objref.h"
#include "common/util.h"
#include "gateway/gw_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int
jbool(const json_t *o, const char *key)
{
    const json_t *b = ais_json_get_ci(o, key);
    return json_is_true(b) || (json_is_string(b) && strcmp(json_string_value(b), "true") == 0);
}

static int
ends_with(const char *s, const char *suf)
{
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && strcasecmp(s + n - m, suf) == 0;
}

/* RPC_ARCHIVE_FMT_* of a mime value or a name; 0 when it is none of the formats. */
static unsigned
fmt_of(const char *s)
{
    if (ends_with(s, ".tar.gz") || ends_with(s, ".tgz") || strcasecmp(s, "tgz") == 0 ||
        strcasecmp(s, "tar.gz") == 0) {
        return RPC_ARCHIVE_FMT_TGZ;
    }
    if (ends_with(s, ".tar.lz4") || strcasecmp(s, "tar.lz4") == 0) {
        return RPC_ARCHIVE_FMT_TLZ4;
    }
    if (ends_with(s, ".zip") || strcasecmp(s, "zip") == 0) {
        return RPC_ARCHIVE_FMT_ZIP;
    }
    if (ends_with(s, ".tar") || strcasecmp(s, "tar") == 0) {
        return RPC_ARCHIVE_FMT_TAR;
    }
    return 0;
}

/* The destination bucket of ArchiveBckMsg.tobck. 0 or an HTTP status with msg. */
static int
tobck_parse(struct gw *g, const json_t *v, struct ais_objref *dst, char *msg, size_t cap)
{
    const json_t *tb = ais_json_get_ci(v, "tobck");
    const char *name = ais_json_str(tb, "name", "");
    const char *prov = ais_provider_norm(ais_json_str(tb, "provider", "ais"));
    const json_t *ns = ais_json_get_ci(tb, "namespace");
    const char *why = "empty";
    memset(dst, 0, sizeof(*dst));
    if (!json_is_object(tb) || prov == NULL || ais_bck_name_check(name, &why) != 0 ||
        strlen(name) >= sizeof(dst->bck)) {
        snprintf(msg, cap, "archive: invalid destination bucket (value.tobck \"%.200s\": %s)", name,
                 prov == NULL ? "unknown provider" : why);
        return 400;
    }
    if (ais_json_str(ns, "name", "")[0] || ais_json_str(ns, "uuid", "")[0]) {
        snprintf(msg, cap, "archive: namespaces are not supported (value.tobck)");
        return 400;
    }
    dst->provider = prov;
    memcpy(dst->bck, name, strlen(name) + 1);
    ais_bck_display(prov, "", name, dst->display, sizeof(dst->display));
    return gw_bck_resolve(g, dst, msg, cap);
}

/* The source names: objnames, or the template expanded (a new reference). NULL with msg. */
static json_t *
names_of(const json_t *v, char *msg, size_t cap)
{
    json_t *names = ais_json_get_ci(v, "objnames");
    const char *tmpl = ais_json_str(v, "template", "");
    if (json_is_array(names) && json_array_size(names) > 0 && tmpl[0]) {
        snprintf(msg, cap, "archive: give either objnames or template, not both");
        return NULL;
    }
    if (json_is_array(names) && json_array_size(names) > 0) {
        names = json_incref(names);
    } else if (tmpl[0]) {
        names = json_array();
        int rc = names ? gw_tmpl_expand(tmpl, names, AIS_ARCH_NAMES_MAX) : -ENOMEM;
        if (rc != 0) {
            snprintf(msg, cap, "archive: invalid template \"%.300s\"%s", tmpl,
                     rc == -E2BIG ? " (expands to too many names)" : "");
            json_decref(names);
            return NULL;
        }
    } else {
        snprintf(msg, cap,
                 "archive: value needs objnames (a list) or template: archiving a "
                 "whole bucket is not supported");
        return NULL;
    }
    if (json_array_size(names) > AIS_ARCH_NAMES_MAX) {
        snprintf(msg, cap, "archive: %zu names, at most %u", json_array_size(names),
                 (unsigned)AIS_ARCH_NAMES_MAX);
        json_decref(names);
        return NULL;
    }
    size_t bytes = 0;
    for (size_t i = 0; i < json_array_size(names); i++) {
        const char *why = "object name must be a string";
        const char *s = json_string_value(json_array_get(names, i));
        bytes += s ? strlen(s) + 8 : 0;
        if (bytes > AIS_RPC_MSG_BYTES_MAX / 2) {
            why = "the names add up to too many bytes for one archive";
        }
        if (s == NULL || ais_obj_name_check(s, strlen(s), &why) != 0 ||
            bytes > AIS_RPC_MSG_BYTES_MAX / 2) {
            snprintf(msg, cap, "archive: invalid object name #%zu: %s", i, why);
            json_decref(names);
            return NULL;
        }
    }
    return names;
}

/* Starts the job on the shard's owner. 0 with id, or an HTTP status with msg. */
static int
start_on_owner(struct gw *g, struct rpc_objs_args *a, const struct ais_objref *dst, char *msg,
               size_t cap)
{
    uint64_t digest;
    if (ais_obj_digest(dst->provider, dst->ns, dst->bck, a->prepend, &digest) != 0) {
        snprintf(msg, cap, "archive: archname is too long");
        return 400;
    }
    struct ais_smap *smap = ais_meta_smap(&g->meta);
    const struct ais_snode *owner = ais_smap_hrw_target(smap, digest);
    char url[128] = "";
    if (owner != NULL) {
        ais_snode_ctrl_url(owner, url, sizeof(url));
    }
    ais_smap_unref(smap);
    if (url[0] == '\0') {
        snprintf(msg, cap, "archive: no target in the cluster map");
        return 503;
    }
    struct rpc_objs_res res = {0};
    struct rpc_err err = {0};
    int rc = rpc_objs_op(url, (int)g->cfg->rpc_timeout_ms, a, &res, &err);
    rpc_objs_res_fini(&res);
    if (rc != 0) {
        snprintf(msg, cap, "archive: %s", err.msg[0] ? err.msg : ais_strerror(rc));
        return rc == -EINVAL ? 400 : rc == -EAGAIN ? 503 : 500;
    }
    return 0;
}

void
gw_archive_bck(struct gw *g, struct ais_req *r, const struct ais_objref *ref, const json_t *v)
{
    char msg[600] = "", id[XA_ID_BYTES], rnd[9];
    struct ais_objref dst;
    const char *archname = ais_json_str(v, "archname", "");
    const char *mime = ais_json_str(v, "mime", "");
    const char *why = "empty";
    int st = tobck_parse(g, v, &dst, msg, sizeof(msg));
    if (st == 0 && ais_obj_name_check(archname, strlen(archname), &why) != 0) {
        snprintf(msg, sizeof(msg), "archive: invalid archname \"%.300s\": %s", archname, why);
        st = 400;
    }
    unsigned fmt = fmt_of(mime[0] ? mime : archname);
    if (st == 0 && fmt == 0) {
        snprintf(msg, sizeof(msg),
                 "archive: unknown format of \"%.300s\" (.tar, .tgz, .tar.gz, "
                 ".zip or .tar.lz4; or set value.mime)",
                 mime[0] ? mime : archname);
        st = 400;
    }
    if (st == 0 && strcmp(dst.provider, "ais") != 0) {
        snprintf(msg, sizeof(msg), "archive: into ais:// buckets only (%s is remote)", dst.display);
        st = 501;
    }
    st = st ? st : gw_bck_access(g, r, &dst, AIS_ACCESS_PUT) ? -1 : 0;
    json_t *names = st == 0 ? names_of(v, msg, sizeof(msg)) : NULL;
    st = st ? st : names == NULL ? 400 : 0;
    size_t n = json_array_size(names);
    const char **v_names = st == 0 ? calloc(n, sizeof(*v_names)) : NULL;
    if (st == 0 && v_names == NULL) {
        snprintf(msg, sizeof(msg), "out of memory");
        st = 500;
    }
    for (size_t i = 0; st == 0 && i < n; i++) {
        v_names[i] = json_string_value(json_array_get(names, i));
    }
    ais_rand_id(rnd, 8);
    snprintf(id, sizeof(id), "a%s", rnd);
    struct rpc_objs_args a = {.op = "archive",
                              .provider = ref->provider,
                              .ns = ref->ns,
                              .bck = ref->bck,
                              .names = v_names,
                              .n = n,
                              .dst_provider = dst.provider,
                              .dst_ns = dst.ns,
                              .dst_bck = dst.bck,
                              .prepend = archname,
                              .job_id = id,
                              .flags = fmt << RPC_ARCHIVE_FMT_SHIFT |
                                       (jbool(v, "coer") ? RPC_ARCHIVE_COER : 0) |
                                       (jbool(v, "isbn") ? RPC_ARCHIVE_ISBN : 0) |
                                       (jbool(v, "bnonly") ? RPC_ARCHIVE_BNONLY : 0) |
                                       (jbool(v, "aate") ? RPC_ARCHIVE_AATE : 0)};
    st = st ? st : start_on_owner(g, &a, &dst, msg, sizeof(msg));
    free(v_names);
    json_decref(names);
    if (st > 0) {
        ais_resp_err(r, st, "%s", msg);
    } else if (st == 0) {
        ais_resp_buf(r, 200, "text/plain", id, strlen(id));
    } /* st < 0: gw_bck_access answered */
}
