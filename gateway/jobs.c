/*
 * Design notes: jobs that finish within the request (delete-listrange) still get an id and a
 * record, because clients (the Python SDK's job.wait) poll by id. Records live in a fixed ring
 * of GW_JOBS_MAX; the oldest are forgotten first.
 */
#include "common/util.h"
#include "gateway/gw_int.h"

#include <stdio.h>
#include <string.h>

void
gw_job_record(struct gw *g, const char *kind, int64_t start_ns, const char *err, char out[16])
{
    pthread_mutex_lock(&g->jobs_mu);
    struct gw_job *j = &g->jobs[g->njobs % GW_JOBS_MAX];
    g->njobs++;
    j->id[0] = 'j';
    ais_rand_id(j->id + 1, 9);
    snprintf(j->kind, sizeof(j->kind), "%s", kind);
    j->start_ns = start_ns;
    j->end_ns = ais_now_ns();
    snprintf(j->err, sizeof(j->err), "%s", err ? err : "");
    memcpy(out, j->id, sizeof(j->id));
    pthread_mutex_unlock(&g->jobs_mu);
}

static json_t *
job_status(const struct gw_job *j)
{
    return json_pack("{s:s, s:s, s:s, s:I, s:b}", "uuid", j->id, "kind", j->kind, "err", j->err,
                     "end_time", (json_int_t)j->end_ns, "aborted", 0);
}

static json_t *
job_snap(const struct gw_job *j)
{
    return json_pack("{s:s, s:s, s:I, s:I, s:b, s:b}", "id", j->id, "kind", j->kind,
                     "start-time", (json_int_t)j->start_ns, "end-time", (json_int_t)j->end_ns,
                     "aborted", 0, "is_idle", 1);
}

json_t *
gw_job_query(struct gw *g, const char *what, const char *id)
{
    json_t *out = NULL;
    pthread_mutex_lock(&g->jobs_mu);
    size_t n = g->njobs < GW_JOBS_MAX ? g->njobs : GW_JOBS_MAX;
    if (strcmp(what, "status_all") == 0) {
        out = json_array();
        for (size_t i = 0; i < n; i++) {
            json_array_append_new(out, job_status(&g->jobs[i]));
        }
    }
    for (size_t i = 0; out == NULL && i < n; i++) {
        const struct gw_job *j = &g->jobs[i];
        if (strcmp(j->id, id) != 0) {
            continue;
        }
        if (strcmp(what, "status") == 0) {
            out = job_status(j);
        } else {
            out = json_pack("{s:[o]}", g->self.id, job_snap(j));
        }
    }
    pthread_mutex_unlock(&g->jobs_mu);
    return out;
}
