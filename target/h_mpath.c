/*
 * Mountpath management on a target: PUT|POST|DELETE /v1/daemon/mountpaths
 * {"action": "attach-mp"|"enable-mp"|"disable-mp"|"detach-mp", "value": "/path"},
 * GET /v1/daemon?what=mountpaths, the persisted list and the start with a mountpath missing.
 *
 * Design notes: the target's intent (which mountpaths, which disabled) is persisted in
 * <confdir>/.ais.mpaths after every change, atomically; when present it overrides config
 * fspaths, so run-time attach/detach survive a restart. On a restart a missing root is not
 * created (its disk may be gone): storage opens the set with that mountpath disabled and the
 * reason logged, the target remembers the slot as "faulty" (still persisted as available, so
 * it comes back by itself once the disk does) and resilvers; the file's "degraded" flag makes
 * the next start resilver too, when the disk may be back. Every change runs under mpath_mu,
 * then starts a resilver (which supersedes a running one); attach/enable first create the
 * bucket dirs on the new mountpath so the resilver and PUTs find them.
 */
#include "common/err.h"
#include "common/json.h"
#include "common/log.h"
#include "common/util.h"
#include "target/target_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MPATH_FILE ".ais.mpaths"
#define MPATH_FILE_BYTES_MAX (AIS_MPATHS_MAX * (AIS_PATH_BYTES_MAX + 64) + 256)

static const char *const state_names[] = {[ST_MPATH_NONE] = "",
                                          [ST_MPATH_AVAIL] = "available",
                                          [ST_MPATH_DISABLED] = "disabled",
                                          [ST_MPATH_DETACHING] = "detaching"};

static int
state_of(const char *name)
{
    for (int i = ST_MPATH_AVAIL; i <= ST_MPATH_DETACHING; i++) {
        if (strcmp(name, state_names[i]) == 0) {
            return i;
        }
    }
    return ST_MPATH_AVAIL;
}

static int
file_path(const struct tgt *t, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%s/%s", t->cfg->confdir, MPATH_FILE);
    return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

/* Under mpath_mu. Faulty slots keep their intent ("available"). */
static int
persist_locked(struct tgt *t)
{
    char path[AIS_PATH_BYTES_MAX];
    json_t *arr = json_array();
    size_t n = st_mpaths_count(t->mp);
    for (size_t i = 0; i < n; i++) {
        int st = st_mpaths_state(t->mp, i);
        if (st == ST_MPATH_NONE) {
            continue;
        }
        st = (t->mp_faulty >> i) & 1 ? ST_MPATH_AVAIL : st;
        json_array_append_new(arr, json_pack("{s:s, s:s}", "path", st_mpaths_path(t->mp, i),
                                             "state", state_names[st]));
    }
    json_t *j = json_pack("{s:i, s:b, s:o}", "version", 1, "degraded", t->mp_faulty != 0,
                          "mountpaths", arr);
    char *s = j ? ais_json_dumps(j) : NULL;
    int rc = s == NULL ? -ENOMEM : file_path(t, path, sizeof(path));
    rc = rc ? rc : ais_file_write_atomic(path, s, strlen(s));
    if (rc != 0) {
        AIS_LOG_WARN("req=mountpath msg=\"cannot persist mountpaths\" file=%s err=\"%s\"", path,
                     ais_strerror(rc));
    }
    free(s);
    json_decref(j);
    return rc;
}

void
tgt_mpaths_dropped(void *ctx)
{
    struct tgt *t = ctx;
    pthread_mutex_lock(&t->mpath_mu);
    (void)persist_locked(t);
    pthread_mutex_unlock(&t->mpath_mu);
}

struct mp_conf {
    size_t n;
    int from_file, degraded;
    const char *paths[AIS_MPATHS_MAX];
    uint8_t states[AIS_MPATHS_MAX];
    json_t *doc;
};

/* The persisted list, if any (-ENOENT: none), else -EINVAL for a broken file. */
static int
conf_load(struct tgt *t, struct mp_conf *c)
{
    char path[AIS_PATH_BYTES_MAX], *buf = NULL;
    size_t len = 0;
    int rc = file_path(t, path, sizeof(path));
    rc = rc ? rc : ais_file_read_all(path, MPATH_FILE_BYTES_MAX, &buf, &len);
    if (rc != 0) {
        return rc;
    }
    c->doc = json_loadb(buf, len, 0, NULL);
    free(buf);
    json_t *arr = c->doc ? json_object_get(c->doc, "mountpaths") : NULL;
    if (!json_is_array(arr) || json_array_size(arr) == 0 || json_array_size(arr) > AIS_MPATHS_MAX) {
        AIS_LOG_ERR("req=start msg=\"bad mountpath list\" file=%s", path);
        return -EINVAL;
    }
    for (size_t i = 0; i < json_array_size(arr); i++) {
        json_t *e = json_array_get(arr, i);
        c->paths[i] = ais_json_str(e, "path", "");
        c->states[i] = (uint8_t)state_of(ais_json_str(e, "state", "available"));
    }
    c->n = json_array_size(arr);
    c->from_file = 1;
    c->degraded = json_is_true(json_object_get(c->doc, "degraded"));
    return 0;
}

int
tgt_mpaths_open(struct tgt *t, int *need_rsl)
{
    struct mp_conf c = {0};
    int rc = conf_load(t, &c);
    if (rc == -ENOENT) {
        rc = 0;
        c.n = t->cfg->nfspaths;
        for (size_t i = 0; i < c.n; i++) {
            c.paths[i] = t->cfg->fspaths[i];
            c.states[i] = ST_MPATH_AVAIL;
        }
    }
    struct st_mpaths_opts o = {.states = c.states, .no_create = c.from_file, .tolerate = 1};
    rc = rc ? rc : st_mpaths_open_opts(c.paths, c.n, t->self.id, &o, &t->mp);
    if (rc != 0) {
        AIS_LOG_ERR("req=start msg=\"cannot open mountpaths\" err=\"%s\"", ais_strerror(rc));
        json_decref(c.doc);
        return rc;
    }
    int pending = c.degraded;
    for (size_t i = 0; i < c.n; i++) {
        int st = st_mpaths_state(t->mp, i);
        if (st != c.states[i]) {
            t->mp_faulty |= 1ull << i;
            AIS_LOG_WARN("req=start msg=\"mountpath unusable: started without it (reported "
                         "disabled), resilvering\" path=%s",
                         st_mpaths_path(t->mp, i));
        }
        pending |= st != ST_MPATH_AVAIL;
    }
    json_decref(c.doc);
    (void)persist_locked(t); /* no other thread yet */
    *need_rsl = pending;
    return 0;
}

json_t *
tgt_mpaths_json(struct tgt *t)
{
    json_t *arr[ST_MPATH_DETACHING + 1] = {NULL, json_array(), json_array(), json_array()};
    size_t n = st_mpaths_count(t->mp);
    for (size_t i = 0; i < n; i++) {
        int st = st_mpaths_state(t->mp, i);
        if (st != ST_MPATH_NONE) {
            json_array_append_new(arr[st], json_string(st_mpaths_path(t->mp, i)));
        }
    }
    return json_pack("{s:o, s:o, s:o}", "available", arr[ST_MPATH_AVAIL], "disabled",
                     arr[ST_MPATH_DISABLED], "waiting_dd", arr[ST_MPATH_DETACHING]);
}

/* Bucket dirs of every BMD bucket on the mountpaths now available. */
static void
bucket_dirs_all(struct tgt *t)
{
    struct ais_bmd *bmd = ais_meta_bmd(&t->meta);
    for (size_t i = 0; i < bmd->n; i++) {
        const struct ais_bck_md *k = &bmd->bcks[i];
        struct st_bck b = {.provider = k->provider, .ns = k->ns, .name = k->name};
        if (tgt_bck_dirs_ensure(t, &b) < 0) {
            AIS_LOG_WARN("req=mountpath bck=%s msg=\"cannot create bucket dirs\"", k->name);
        }
    }
    ais_bmd_unref(bmd);
}

/* One change under mpath_mu. 0 changed (*rsl_id started), 1 no-op, negative errno. */
static int
mpath_apply(struct tgt *t, const char *action, const char *path, char rsl_id[XA_ID_BYTES])
{
    int rc = -EINVAL, slot = st_mpaths_find(t->mp, path);
    pthread_mutex_lock(&t->mpath_mu);
    if (strcmp(action, "attach-mp") == 0) {
        rc = st_mpaths_attach(t->mp, path, 1, NULL);
    } else if (strcmp(action, "enable-mp") == 0) {
        rc = st_mpaths_enable(t->mp, path);
    } else if (strcmp(action, "disable-mp") == 0) {
        rc = st_mpaths_disable(t->mp, path);
    } else if (strcmp(action, "detach-mp") == 0) {
        rc = st_mpaths_detach(t->mp, path);
    }
    if (rc == 0 && slot >= 0) {
        t->mp_faulty &= ~(1ull << slot); /* the admin decided about it now */
    }
    if (rc == 0 && (action[0] == 'a' || action[0] == 'e')) {
        bucket_dirs_all(t);
    }
    if (rc == 0) {
        (void)persist_locked(t);
        int e = reb_rsl_start(t->rsl, rsl_id);
        if (e != 0) {
            rsl_id[0] = '\0';
        }
    }
    pthread_mutex_unlock(&t->mpath_mu);
    return rc;
}

void
tgt_mpath_fault(struct tgt *t, size_t slot, const char *why)
{
    char id[XA_ID_BYTES] = "";
    pthread_mutex_lock(&t->mpath_mu);
    const char *path = st_mpaths_path(t->mp, slot);
    int rc = path != NULL ? st_mpaths_disable(t->mp, path) : -ENOENT;
    if (rc == 0) {
        t->mp_faulty |= 1ull << slot; /* intent stays "available": a restart tries it again */
        (void)persist_locked(t);
        if (reb_rsl_start(t->rsl, id) != 0) {
            id[0] = '\0';
        }
    }
    pthread_mutex_unlock(&t->mpath_mu);
    if (rc == 0) {
        AIS_LOG_ERR("req=fshc path=%s msg=\"mountpath failed its health check: disabled, "
                    "resilvering\" why=\"%s\" resilver=%s",
                    path, why, id);
    } else if (rc != 1) {
        AIS_LOG_ERR("req=fshc path=%s msg=\"mountpath failed its health check, left enabled\" "
                    "why=\"%s\" err=\"%s\"",
                    path ? path : "", why,
                    rc == -EBUSY ? "the last available mountpath" : ais_strerror(rc));
    }
}

static void
mpath_done(struct ais_req *r, void *arg)
{
    struct tgt *t = arg;
    json_t *body = NULL;
    char id[XA_ID_BYTES] = "";
    if (ais_req_body_json(r, &body) != 0 || !json_is_object(body)) {
        ais_resp_err(r, 400, "mountpaths: expected {\"action\": ..., \"value\": \"/path\"}");
        json_decref(body);
        return;
    }
    const char *def = ais_req_is(r, "DELETE") ? "detach-mp" : "";
    const char *action = ais_json_str(body, "action", def);
    const char *path = ais_json_str(body, "value", "");
    int rc = path[0] == '\0' ? -EINVAL : mpath_apply(t, action, path, id);
    if (rc < 0) {
        int status = rc == -EALREADY || rc == -EBUSY ? 409 : ais_http_status(rc);
        ais_resp_err(r, status, "mountpath %s %s: %s", action, path,
                     rc == -EINVAL     ? "bad action or path (attach-mp, enable-mp, disable-mp, "
                                         "detach-mp)"
                     : rc == -EALREADY ? "already attached"
                     : rc == -EBUSY    ? "busy (the last available mountpath, or detaching)"
                     : rc == -EEXIST   ? "owned by another target"
                                       : ais_strerror(rc));
    } else {
        AIS_LOG_INFO("req=mountpath action=%s path=%s rc=%d resilver=%s", action, path, rc, id);
        ais_resp_buf(r, 200, "text/plain", id, strlen(id)); /* the resilver job id, or "" */
    }
    json_decref(body);
}

void
tgt_r_mountpaths(struct ais_req *r, void *ctx)
{
    ais_req_body_buffer(r, AIS_CTRL_BODY_BYTES_MAX, mpath_done, ctx);
}
