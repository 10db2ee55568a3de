/*
 * Design notes: the JSON shapes are the ones AIS clients parse (api.md §5.7): JobSnap for
 * what=qryxstats, Status for what=status / status_all. Times in JobSnap are RFC 3339 with
 * nanoseconds (Go's time.Time); end-time of a running job is Go's zero time. Snapshots from
 * other nodes come back through xa_snap_from_json, so the two directions stay symmetric.
 */
#include "common/json.h"
#include "xact/xact.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ZERO_TIME "0001-01-01T00:00:00Z"

static void
rfc3339(int64_t ns, char *out, size_t cap)
{
    if (ns <= 0) {
        snprintf(out, cap, "%s", ZERO_TIME);
        return;
    }
    time_t s = (time_t)(ns / 1000000000);
    struct tm tm;
    char base[32];
    gmtime_r(&s, &tm);
    strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, cap, "%s.%09lldZ", base, (long long)(ns % 1000000000));
}

static int64_t
rfc3339_parse(const char *s)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    if (s == NULL || strcmp(s, ZERO_TIME) == 0) {
        return 0;
    }
    const char *rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (rest == NULL) {
        return 0;
    }
    /* A peer's time before 1970 or after 2262 does not fit int64 nanoseconds: unknown. */
    time_t secs = timegm(&tm);
    if (secs < 0 || (int64_t)secs > INT64_MAX / 1000000000 - 1) {
        return 0;
    }
    int64_t ns = (int64_t)secs * 1000000000;
    if (*rest == '.') {
        int64_t frac = 0, scale = 100000000;
        for (rest++; *rest >= '0' && *rest <= '9'; rest++, scale /= 10) {
            frac += (*rest - '0') * scale;
        }
        ns += frac;
    }
    return ns;
}

/* "ais://b" -> {"name":"b","provider":"ais","namespace":{...}}; NULL for "". */
static json_t *
bck_json(const char *bck)
{
    const char *sep = strstr(bck, "://");
    if (bck[0] == '\0') {
        return NULL;
    }
    char prov[32] = "ais";
    if (sep != NULL) {
        snprintf(prov, sizeof(prov), "%.*s", (int)(sep - bck), bck);
    }
    return json_pack("{s:s, s:s, s:{s:s, s:s}}", "name", sep ? sep + 3 : bck, "provider", prov,
                     "namespace", "uuid", "", "name", "");
}

static const char *const ctr_names[XA_CTR_N] = {"loc", "out", "in"};

json_t *
xa_snap_to_json(const struct xa_snap *s)
{
    char st[48], et[48], key[32];
    rfc3339(s->start_ns, st, sizeof(st));
    rfc3339(s->end_ns, et, sizeof(et));
    json_t *stats = json_object();
    for (int c = 0; c < XA_CTR_N; c++) {
        snprintf(key, sizeof(key), "%s-objs", ctr_names[c]);
        json_object_set_new(stats, key, json_integer((json_int_t)s->objs[c]));
        snprintf(key, sizeof(key), "%s-bytes", ctr_names[c]);
        json_object_set_new(stats, key, json_integer((json_int_t)s->bytes[c]));
    }
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:o, s:b, s:b, s:s, s:s, s:s}", "id", s->id, "kind",
                          s->kind, "start-time", st, "end-time", et, "stats", stats, "aborted",
                          s->state == XA_ABORTED, "is_idle", s->state != XA_RUNNING, "abort-err",
                          s->state == XA_ABORTED ? s->err : "", "state", xa_state_name(s->state),
                          "node", s->node_id);
    json_t *b = bck_json(s->bck);
    if (b != NULL) {
        json_object_set_new(j, "bck", b);
    }
    json_object_set_new(j, "err", json_string(s->err));
    json_object_set_new(j, "total-objs", json_integer((json_int_t)s->total_objs));
    json_object_set_new(j, "total-bytes", json_integer((json_int_t)s->total_bytes));
    json_object_set_new(j, "eta-ns", json_integer((json_int_t)s->eta_ns));
    return j;
}

json_t *
xa_status_to_json(const struct xa_snap *s)
{
    json_t *j = json_pack("{s:s, s:s, s:s, s:I, s:b, s:s}", "uuid", s->id, "kind", s->kind, "err",
                          s->err, "end_time", (json_int_t)s->end_ns, "aborted",
                          s->state == XA_ABORTED, "state", xa_state_name(s->state));
    json_t *b = bck_json(s->bck);
    if (b != NULL) {
        json_object_set_new(j, "bck", b);
    }
    return j;
}

static uint64_t
u64_of(const json_t *o, const char *key)
{
    json_int_t v = json_integer_value(json_object_get(o, key));
    return v > 0 ? (uint64_t)v : 0;
}

static enum xa_state
state_of(const char *name)
{
    for (int s = XA_RUNNING; s <= XA_ERROR; s++) {
        if (strcmp(name, xa_state_name((enum xa_state)s)) == 0) {
            return (enum xa_state)s;
        }
    }
    return XA_RUNNING;
}

int
xa_snap_from_json(const json_t *j, struct xa_snap *out)
{
    char key[32];
    const char *id = ais_json_str(j, "id", NULL);
    if (!json_is_object(j) || id == NULL) {
        return -EINVAL;
    }
    memset(out, 0, sizeof(*out));
    snprintf(out->id, sizeof(out->id), "%s", id);
    snprintf(out->kind, sizeof(out->kind), "%s", ais_json_str(j, "kind", ""));
    snprintf(out->node_id, sizeof(out->node_id), "%s", ais_json_str(j, "node", ""));
    snprintf(out->err, sizeof(out->err), "%s", ais_json_str(j, "err", ""));
    const json_t *b = json_object_get(j, "bck");
    if (json_is_object(b)) {
        snprintf(out->bck, sizeof(out->bck), "%s://%s", ais_json_str(b, "provider", "ais"),
                 ais_json_str(b, "name", ""));
    }
    out->start_ns = rfc3339_parse(ais_json_str(j, "start-time", NULL));
    out->end_ns = rfc3339_parse(ais_json_str(j, "end-time", NULL));
    out->state = state_of(ais_json_str(j, "state", "running"));
    const json_t *stats = json_object_get(j, "stats");
    for (int c = 0; c < XA_CTR_N; c++) {
        snprintf(key, sizeof(key), "%s-objs", ctr_names[c]);
        out->objs[c] = u64_of(stats, key);
        snprintf(key, sizeof(key), "%s-bytes", ctr_names[c]);
        out->bytes[c] = u64_of(stats, key);
    }
    out->total_objs = u64_of(j, "total-objs");
    out->total_bytes = u64_of(j, "total-bytes");
    out->eta_ns = (int64_t)json_integer_value(json_object_get(j, "eta-ns"));
    return 0;
}

void
xa_filter_from_json(const json_t *j, struct xa_filter *f)
{
    memset(f, 0, sizeof(*f));
    f->id = ais_json_str(j, "ID", "");
    f->kind = ais_json_str(j, "Kind", "");
    const json_t *b = ais_json_get_ci(j, "Bck");
    f->bck = json_is_object(b) ? ais_json_str(b, "name", "") : "";
    const json_t *only = ais_json_get_ci(j, "OnlyRunning");
    if (only == NULL) {
        only = ais_json_get_ci(j, "show_active");
    }
    f->only_running = json_is_true(only);
}
