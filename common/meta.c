#include "common/meta.h"

#include "common/log.h"
#include "common/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
ais_meta_init(struct ais_meta *m, const char *confdir)
{
    pthread_mutex_init(&m->mu, NULL);
    m->smap = NULL;
    m->bmd = NULL;
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
    return (m->smap && m->bmd) ? 0 : -ENOMEM;
}

void
ais_meta_fini(struct ais_meta *m)
{
    ais_smap_unref(m->smap);
    ais_bmd_unref(m->bmd);
    m->smap = NULL;
    m->bmd = NULL;
    pthread_mutex_destroy(&m->mu);
}

struct ais_smap *
ais_meta_smap(struct ais_meta *m)
{
    pthread_mutex_lock(&m->mu);
    struct ais_smap *s = ais_smap_ref(m->smap);
    pthread_mutex_unlock(&m->mu);
    return s;
}

struct ais_bmd *
ais_meta_bmd(struct ais_meta *m)
{
    pthread_mutex_lock(&m->mu);
    struct ais_bmd *b = ais_bmd_ref(m->bmd);
    pthread_mutex_unlock(&m->mu);
    return b;
}

int
ais_meta_apply(struct ais_meta *m, struct ais_smap *smap, struct ais_bmd *bmd,
               struct ais_bmd **old_bmd)
{
    int changed = 0;
    pthread_mutex_lock(&m->mu);
    if (smap != NULL && smap->version > m->smap->version) {
        if (ais_smap_save(smap, m->smap_path) != 0) {
            AIS_LOG_WARN("req=meta-save path=%s msg=\"cannot persist Smap\"", m->smap_path);
        }
        ais_smap_unref(m->smap);
        m->smap = smap;
        smap = NULL;
        changed |= 1;
    }
    if (bmd != NULL && bmd->version > m->bmd->version) {
        if (ais_bmd_save(bmd, m->bmd_path) != 0) {
            AIS_LOG_WARN("req=meta-save path=%s msg=\"cannot persist BMD\"", m->bmd_path);
        }
        if (old_bmd != NULL) {
            *old_bmd = m->bmd;
        } else {
            ais_bmd_unref(m->bmd);
        }
        m->bmd = bmd;
        bmd = NULL;
        changed |= 2;
    }
    pthread_mutex_unlock(&m->mu);
    ais_smap_unref(smap);
    ais_bmd_unref(bmd);
    return changed;
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
    self->port = cfg->port;
    self->ctrl_port = cfg->ctrl_port;
    ais_snode_init_digest(self);
    return 0;
}
