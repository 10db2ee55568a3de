/*
 * Design notes: three locks with one job each, so a reader never waits behind I/O.
 * - spin: held for a pointer load plus a reference increment (readers) or a pointer store
 *   (installer). The installer drops the replaced snapshot's reference only after the store,
 *   outside the spinlock, so a reader that loaded the old pointer under the lock has already
 *   made its own reference: the count can never reach zero under a reader.
 * - apply_mu: serialises installers. The version check, the swap and the listener call are
 *   one critical section, so listeners see (old, new) pairs in version order and a pair is
 *   exactly what was installed, not whatever is current when the listener runs.
 * - persist_mu: writes the newest snapshot not yet written; a slow fsync delays the next
 *   writer only. Installing first and persisting after means a crash can lose a version the
 *   node served; the primary re-pushes and keepalives catch the node up.
 */
#include "common/meta.h"

#include "common/log.h"
#include "common/util.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
spin_lock(int *s)
{
    while (__atomic_exchange_n(s, 1, __ATOMIC_ACQUIRE) != 0) {
        while (__atomic_load_n(s, __ATOMIC_RELAXED) != 0) {
            sched_yield();
        }
    }
}

static void
spin_unlock(int *s)
{
    __atomic_store_n(s, 0, __ATOMIC_RELEASE);
}

int
ais_meta_init(struct ais_meta *m, const char *confdir)
{
    memset(m, 0, sizeof(*m));
    pthread_mutex_init(&m->apply_mu, NULL);
    pthread_mutex_init(&m->persist_mu, NULL);
    m->inited = 1;
    snprintf(m->smap_path, sizeof(m->smap_path), "%s/.ais.smap", confdir);
    snprintf(m->bmd_path, sizeof(m->bmd_path), "%s/.ais.bmd", confdir);
    int err = ais_mkdir_p(confdir);
    if (err != 0) {
        return err;
    }
    err = ais_smap_load(m->smap_path, &m->smap);
    if (err != 0 && err != -ENOENT) {
        AIS_LOG_WARN("req=meta-load path=%s err=\"%d\" msg=\"starting with an empty Smap\"",
                     m->smap_path, err);
    }
    err = ais_bmd_load(m->bmd_path, &m->bmd);
    if (err != 0 && err != -ENOENT) {
        AIS_LOG_WARN("req=meta-load path=%s err=\"%d\" msg=\"starting with an empty BMD\"",
                     m->bmd_path, err);
    }
    if (m->smap == NULL) {
        m->smap = ais_smap_new();
    }
    if (m->bmd == NULL) {
        m->bmd = ais_bmd_new();
    }
    if (m->smap == NULL || m->bmd == NULL) {
        return -ENOMEM;
    }
    m->smap_saved = m->smap->version;
    m->bmd_saved = m->bmd->version;
    return 0;
}

void
ais_meta_fini(struct ais_meta *m)
{
    if (m == NULL || !m->inited) {
        return;
    }
    ais_smap_unref(m->smap);
    ais_bmd_unref(m->bmd);
    m->smap = NULL;
    m->bmd = NULL;
    pthread_mutex_destroy(&m->apply_mu);
    pthread_mutex_destroy(&m->persist_mu);
    m->inited = 0;
}

void
ais_meta_listen(struct ais_meta *m, ais_meta_changed_fn fn, void *ctx)
{
    pthread_mutex_lock(&m->apply_mu);
    m->fn = fn;
    m->fn_ctx = ctx;
    pthread_mutex_unlock(&m->apply_mu);
}

struct ais_smap *
ais_meta_smap(struct ais_meta *m)
{
    spin_lock(&m->spin);
    struct ais_smap *s = ais_smap_ref(m->smap);
    spin_unlock(&m->spin);
    return s;
}

struct ais_bmd *
ais_meta_bmd(struct ais_meta *m)
{
    spin_lock(&m->spin);
    struct ais_bmd *b = ais_bmd_ref(m->bmd);
    spin_unlock(&m->spin);
    return b;
}

void
ais_meta_vers(struct ais_meta *m, struct ais_meta_vers *out)
{
    spin_lock(&m->spin);
    out->smap = m->smap->version;
    out->bmd = m->bmd->version;
    spin_unlock(&m->spin);
}

int
ais_meta_install(struct ais_meta *m, struct ais_smap *smap, struct ais_bmd *bmd,
                 struct ais_meta_vers *installed)
{
    struct ais_meta_change c = {0};
    struct ais_smap *old_smap = NULL;
    struct ais_bmd *old_bmd = NULL;
    pthread_mutex_lock(&m->apply_mu);
    /* Only installers write the pointers, and they hold apply_mu: plain reads are safe here. */
    int take_smap = smap != NULL && smap->version > m->smap->version;
    int take_bmd = bmd != NULL && bmd->version > m->bmd->version;
    spin_lock(&m->spin);
    if (take_smap) {
        old_smap = m->smap;
        m->smap = smap;
    }
    if (take_bmd) {
        old_bmd = m->bmd;
        m->bmd = bmd;
    }
    spin_unlock(&m->spin);
    if (take_smap) {
        c.old_smap = old_smap;
        c.new_smap = smap;
        smap = NULL;
    }
    if (take_bmd) {
        c.old_bmd = old_bmd;
        c.new_bmd = bmd;
        bmd = NULL;
    }
    if ((take_smap || take_bmd) && m->fn != NULL) {
        m->fn(m->fn_ctx, &c);
    }
    if (installed != NULL) {
        installed->smap = m->smap->version;
        installed->bmd = m->bmd->version;
    }
    pthread_mutex_unlock(&m->apply_mu);
    ais_smap_unref(old_smap);
    ais_bmd_unref(old_bmd);
    ais_smap_unref(smap);
    ais_bmd_unref(bmd);
    return take_smap | (take_bmd << 1);
}

int
ais_meta_persist(struct ais_meta *m)
{
    int rc = 0;
    pthread_mutex_lock(&m->persist_mu);
    struct ais_smap *s = ais_meta_smap(m);
    struct ais_bmd *b = ais_meta_bmd(m);
    if (s->version > m->smap_saved) {
        rc = ais_smap_save(s, m->smap_path);
        if (rc == 0) {
            m->smap_saved = s->version;
        } else {
            AIS_LOG_WARN("req=meta-save path=%s err=\"%d\" msg=\"cannot persist Smap\"",
                         m->smap_path, rc);
        }
    }
    if (b->version > m->bmd_saved) {
        int err = ais_bmd_save(b, m->bmd_path);
        if (err == 0) {
            m->bmd_saved = b->version;
        } else {
            AIS_LOG_WARN("req=meta-save path=%s err=\"%d\" msg=\"cannot persist BMD\"", m->bmd_path,
                         err);
            rc = rc ? rc : err;
        }
    }
    pthread_mutex_unlock(&m->persist_mu);
    ais_smap_unref(s);
    ais_bmd_unref(b);
    return rc;
}

int
ais_meta_apply(struct ais_meta *m, struct ais_smap *smap, struct ais_bmd *bmd,
               struct ais_meta_vers *installed)
{
    int changed = ais_meta_install(m, smap, bmd, installed);
    if (changed != 0) {
        (void)ais_meta_persist(m);
    }
    return changed;
}

/* S3 secrets never leave the node: "ID:SECRET" is answered as "ID:****". */
static void
redact_secrets(json_t *j)
{
    json_t *keys = json_object_get(json_object_get(j, "s3"), "access_keys");
    size_t i;
    json_t *v;
    json_array_foreach(keys, i, v)
    {
        const char *s = json_string_value(v);
        const char *c = s ? strchr(s, ':') : NULL;
        if (c != NULL) {
            char buf[AIS_S3_KEY_BYTES_MAX + 8];
            snprintf(buf, sizeof(buf), "%.*s:****", (int)(c - s), s);
            json_string_set(v, buf);
        }
    }
}

json_t *
ais_meta_query_json(struct ais_meta *m, const struct ais_config *cfg, const struct ais_snode *self,
                    const char *what)
{
    json_t *j = NULL;
    if (strcmp(what, "smap") == 0) {
        struct ais_smap *s = ais_meta_smap(m);
        j = ais_smap_to_json(s);
        ais_smap_unref(s);
    } else if (strcmp(what, "bmd") == 0) {
        struct ais_bmd *b = ais_meta_bmd(m);
        j = ais_bmd_to_json(b);
        ais_bmd_unref(b);
    } else if (strcmp(what, "config") == 0 || strcmp(what, "cluster_config") == 0) {
        j = ais_config_to_json(cfg);
        redact_secrets(j);
    } else if (strcmp(what, "snode") == 0) {
        j = ais_snode_to_json(self);
    }
    return j;
}

int
ais_node_self_init(const struct ais_config *cfg, struct ais_snode *self)
{
    char path[AIS_PATH_BYTES_MAX + 32];
    char *text = NULL;
    size_t len = 0;
    memset(self, 0, sizeof(*self));
    snprintf(path, sizeof(path), "%s/.ais.daemon_id", cfg->confdir);
    int err = ais_mkdir_p(cfg->confdir);
    if (err != 0) {
        return err;
    }
    if (cfg->daemon_id[0] != '\0') {
        snprintf(self->id, sizeof(self->id), "%s", cfg->daemon_id);
    } else if (ais_file_read_all(path, sizeof(self->id) - 1, &text, &len) == 0 && len > 0) {
        snprintf(self->id, sizeof(self->id), "%.*s", (int)strcspn(text, "\n"), text);
    } else {
        self->id[0] = cfg->role == AIS_ROLE_TARGET ? 't' : 'p';
        ais_rand_id(self->id + 1, 7);
    }
    free(text);
    err = ais_file_write_atomic(path, self->id, strlen(self->id));
    if (err != 0) {
        return err;
    }
    self->is_target = cfg->role == AIS_ROLE_TARGET;
    snprintf(self->host, sizeof(self->host), "%s", cfg->hostname);
    if (strcmp(cfg->hostname_intra, cfg->hostname) != 0) {
        snprintf(self->ctrl_host, sizeof(self->ctrl_host), "%s", cfg->hostname_intra);
    }
    self->port = cfg->port;
    self->ctrl_port = cfg->ctrl_port;
    ais_snode_init_digest(self);
    return 0;
}
