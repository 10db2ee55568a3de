/*
 * Design notes: jobs that finish within the request (delete-listrange) still get an id and a
 * record, because clients (the Python SDK's job.wait) poll by id. Records live in a fixed ring
 * of GW_JOBS_MAX; the oldest are forgotten first.
 */
#include "common/util.h"
#include "gateway/gw_int.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

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

/* RFC 3339 with nanoseconds, as Go marshals time.Time. */
static void
rfc3339(int64_t ns, char *out, size_t cap)
{
    time_t s = (time_t)(ns / 1000000000);
    struct tm tm;
    char base[32];
    gmtime_r(&s, &tm);
    strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, cap, "%s.%09lldZ", base, (long long)(ns % 1000000000));
}

static json_t *
job_snap(const struct gw_job *j)
{
    char st[48], et[48];
    rfc3339(j->start_ns, st, sizeof(st));
    rfc3339(j->end_ns, et, sizeof(et));
    return json_pack("{s:s, s:s, s:s, s:s, s:b, s:b, s:s}", "id", j->id, "kind", j->kind,
                     "start-time", st, "end-time", et, "aborted", 0, "is_idle", 1, "abort-err",
                     j->err);
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
