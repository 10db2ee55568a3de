/*
 * Design notes: flags follow the real aisloader where it has one (--bucket, --duration,
 * --pctput, --minsize/--maxsize, --cleanup, --json, --numworkers as an alias of --workers),
 * spelled GNU-style. Parsing writes into a local struct; cross-flag rules run after the loop
 * (check_combination) so the order of flags never matters. Every rejection names the flag.
 */
#include "bench/args.h"

#include "common/assert.h"
#include "common/util.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum {
    OPT_ENDPOINT = 256,
    OPT_IP,
    OPT_PORT,
    OPT_BASELINE,
    OPT_DIRECT,
    OPT_BUCKET,
    OPT_PROVIDER,
    OPT_DURATION,
    OPT_MAX_OPS,
    OPT_WORKERS,
    OPT_PCTPUT,
    OPT_SIZE,
    OPT_MINSIZE,
    OPT_MAXSIZE,
    OPT_NUM_OBJECTS,
    OPT_PREFIX,
    OPT_SEQ,
    OPT_FILL,
    OPT_EXISTING,
    OPT_CLEANUP,
    OPT_VERIFY,
    OPT_JSON,
    OPT_STATS_INTERVAL,
    OPT_TIMEOUT,
    OPT_SEED,
    OPT_NO_CREATE,
    OPT_QUIET,
    OPT_EXPECT,
    OPT_HELP,
};

static const struct option long_opts[] = {
    {"endpoint", required_argument, NULL, OPT_ENDPOINT},
    {"ip", required_argument, NULL, OPT_IP},
    {"port", required_argument, NULL, OPT_PORT},
    {"baseline-url", required_argument, NULL, OPT_BASELINE},
    {"direct", no_argument, NULL, OPT_DIRECT},
    {"bucket", required_argument, NULL, OPT_BUCKET},
    {"provider", required_argument, NULL, OPT_PROVIDER},
    {"duration", required_argument, NULL, OPT_DURATION},
    {"max-ops", required_argument, NULL, OPT_MAX_OPS},
    {"workers", required_argument, NULL, OPT_WORKERS},
    {"numworkers", required_argument, NULL, OPT_WORKERS},
    {"pctput", required_argument, NULL, OPT_PCTPUT},
    {"size", required_argument, NULL, OPT_SIZE},
    {"minsize", required_argument, NULL, OPT_MINSIZE},
    {"maxsize", required_argument, NULL, OPT_MAXSIZE},
    {"num-objects", required_argument, NULL, OPT_NUM_OBJECTS},
    {"prefix", required_argument, NULL, OPT_PREFIX},
    {"seq", no_argument, NULL, OPT_SEQ},
    {"fill", no_argument, NULL, OPT_FILL},
    {"existing", no_argument, NULL, OPT_EXISTING},
    {"cleanup", no_argument, NULL, OPT_CLEANUP},
    {"verify", no_argument, NULL, OPT_VERIFY},
    {"json", no_argument, NULL, OPT_JSON},
    {"stats-interval", required_argument, NULL, OPT_STATS_INTERVAL},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"seed", required_argument, NULL, OPT_SEED},
    {"no-create", no_argument, NULL, OPT_NO_CREATE},
    {"quiet", no_argument, NULL, OPT_QUIET},
    {"expect-continue", no_argument, NULL, OPT_EXPECT},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

/* Which of the flags that interact were given explicitly. */
struct seen {
    bool endpoint, ip, port, baseline, duration, size, minsize, maxsize;
    char ip_val[64];
    uint64_t port_val;
};

__attribute__((format(printf, 3, 4))) static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

const char *
al_mode_name(enum al_mode m)
{
    switch (m) {
    case AL_MODE_GATEWAY:
        return "gateway";
    case AL_MODE_DIRECT:
        return "direct";
    case AL_MODE_BASELINE:
        return "baseline";
    }
    return "?";
}

int
al_uint_parse(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
    if (s == NULL || *s < '0' || *s > '9') {
        return -EINVAL;
    }
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < lo || v > hi) {
        return -EINVAL;
    }
    *out = v;
    return 0;
}

static uint64_t
unit_mult(const char *u)
{
    static const struct {
        const char *name;
        uint64_t mult;
    } units[] = {
        {"", 1},
        {"b", 1},
        {"k", 1ull << 10},
        {"kib", 1ull << 10},
        {"m", 1ull << 20},
        {"mib", 1ull << 20},
        {"g", 1ull << 30},
        {"gib", 1ull << 30},
        {"t", 1ull << 40},
        {"tib", 1ull << 40},
        {"kb", 1000ull},
        {"mb", 1000000ull},
        {"gb", 1000000000ull},
        {"tb", 1000000000000ull},
    };
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcasecmp(u, units[i].name) == 0) {
            return units[i].mult;
        }
    }
    return 0;
}

int
al_size_parse(const char *s, uint64_t *out)
{
    if (s == NULL || *s < '0' || *s > '9') {
        return -EINVAL;
    }
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0) {
        return -EINVAL;
    }
    uint64_t mult = unit_mult(end);
    if (mult == 0 || (v != 0 && mult > AL_OBJ_BYTES_MAX / v)) {
        return -EINVAL;
    }
    uint64_t bytes = v * mult;
    if (bytes > AL_OBJ_BYTES_MAX) {
        return -EINVAL;
    }
    *out = bytes;
    return 0;
}

static void
defaults(struct al_args *a)
{
    memset(a, 0, sizeof(*a));
    snprintf(a->endpoint, sizeof(a->endpoint), "http://127.0.0.1:8080");
    snprintf(a->bucket, sizeof(a->bucket), "aisloader");
    snprintf(a->provider, sizeof(a->provider), "ais");
    snprintf(a->prefix, sizeof(a->prefix), "al-");
    a->mode = AL_MODE_GATEWAY;
    a->duration_ms = 60000;
    a->workers = 4;
    a->pct_put = 50;
    a->size_min = a->size_max = 1u << 20;
    a->num_objects = 1000;
    a->stats_interval_ms = 5000;
    a->timeout_ms = 60000;
    a->seed = 1;
    a->create_bucket = true;
}

static bool
chars_ok(const char *s, const char *extra)
{
    for (; *s; s++) {
        char c = *s;
        bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum && strchr(extra, c) == NULL) {
            return false;
        }
    }
    return true;
}

/* Copies an http(s) URL without trailing slashes; rejects control bytes and spaces. */
static int
url_set(char *dst, size_t cap, const char *url)
{
    size_t n = strlen(url);
    if ((strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) || n >= cap) {
        return -EINVAL;
    }
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)url[i] <= ' ' || url[i] == 0x7f) {
            return -EINVAL;
        }
    }
    while (n > 0 && url[n - 1] == '/') {
        n--;
    }
    if (n <= 8) {
        return -EINVAL;
    }
    memcpy(dst, url, n);
    dst[n] = '\0';
    return 0;
}

static int
prefix_set(struct al_args *a, const char *p)
{
    if (strlen(p) > AL_PREFIX_BYTES_MAX || !chars_ok(p, "._-/") || p[0] == '/' ||
        strstr(p, "//") != NULL || strstr(p, "..") != NULL) {
        return -EINVAL;
    }
    snprintf(a->prefix, sizeof(a->prefix), "%s", p);
    return 0;
}

static int
duration_set(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
    int64_t ms = 0;
    if (ais_duration_parse_ms(s, &ms) != 0 || ms < lo || ms > hi) {
        return -EINVAL;
    }
    *out = ms;
    return 0;
}

/* Flags with a value that only needs a range check. */
static int
apply_number(int opt, const char *v, struct al_args *a, struct seen *s)
{
    uint64_t u = 0;
    switch (opt) {
    case OPT_PORT:
        s->port = true;
        return al_uint_parse(v, 1, 65535, &s->port_val);
    case OPT_MAX_OPS:
        return al_uint_parse(v, 1, UINT64_MAX / 2, &a->max_ops);
    case OPT_WORKERS:
        if (al_uint_parse(v, 1, AL_WORKERS_MAX, &u) != 0) {
            return -EINVAL;
        }
        a->workers = (unsigned)u;
        return 0;
    case OPT_PCTPUT:
        if (al_uint_parse(v, 0, 100, &u) != 0) {
            return -EINVAL;
        }
        a->pct_put = (unsigned)u;
        return 0;
    case OPT_NUM_OBJECTS:
        return al_uint_parse(v, 1, AL_NUM_OBJECTS_MAX, &a->num_objects);
    case OPT_SEED:
        return al_uint_parse(v, 0, UINT64_MAX, &a->seed);
    case OPT_DURATION:
        s->duration = true;
        return duration_set(v, 0, 24 * 3600 * 1000LL, &a->duration_ms);
    case OPT_STATS_INTERVAL:
        return duration_set(v, 0, 3600 * 1000LL, &a->stats_interval_ms);
    case OPT_TIMEOUT:
        return duration_set(v, 1, 3600 * 1000LL, &a->timeout_ms);
    }
    AIS_ASSERT(0 && "unhandled numeric flag");
    return -EINVAL;
}

/* Flags with a string or size value. */
static int
apply_value(int opt, const char *v, struct al_args *a, struct seen *s)
{
    switch (opt) {
    case OPT_ENDPOINT:
        s->endpoint = true;
        return url_set(a->endpoint, sizeof(a->endpoint), v);
    case OPT_BASELINE:
        s->baseline = true;
        return url_set(a->endpoint, sizeof(a->endpoint), v);
    case OPT_IP:
        s->ip = true;
        if (*v == '\0' || strlen(v) >= sizeof(s->ip_val) || !chars_ok(v, ".-:[]")) {
            return -EINVAL;
        }
        snprintf(s->ip_val, sizeof(s->ip_val), "%s", v);
        return 0;
    case OPT_BUCKET:
        if (*v == '\0' || strlen(v) > AIS_BCKNAME_BYTES_MAX || !chars_ok(v, "._-") ||
            strcmp(v, ".") == 0 || strcmp(v, "..") == 0) {
            return -EINVAL;
        }
        snprintf(a->bucket, sizeof(a->bucket), "%s", v);
        return 0;
    case OPT_PROVIDER:
        if (*v == '\0' || strlen(v) >= sizeof(a->provider) || !chars_ok(v, "")) {
            return -EINVAL;
        }
        snprintf(a->provider, sizeof(a->provider), "%s", v);
        return 0;
    case OPT_PREFIX:
        return prefix_set(a, v);
    case OPT_SIZE:
        s->size = true;
        if (al_size_parse(v, &a->size_min) != 0) {
            return -EINVAL;
        }
        a->size_max = a->size_min;
        return 0;
    case OPT_MINSIZE:
        s->minsize = true;
        return al_size_parse(v, &a->size_min);
    case OPT_MAXSIZE:
        s->maxsize = true;
        return al_size_parse(v, &a->size_max);
    }
    return apply_number(opt, v, a, s);
}

static void
apply_flag(int opt, struct al_args *a)
{
    switch (opt) {
    case OPT_DIRECT:
        a->mode = AL_MODE_DIRECT;
        break;
    case OPT_SEQ:
        a->seq = true;
        break;
    case OPT_FILL:
        a->fill = true;
        break;
    case OPT_EXISTING:
        a->existing = true;
        break;
    case OPT_CLEANUP:
        a->cleanup = true;
        break;
    case OPT_VERIFY:
        a->verify = true;
        break;
    case OPT_JSON:
        a->json = true;
        break;
    case OPT_NO_CREATE:
        a->create_bucket = false;
        break;
    case OPT_QUIET:
        a->quiet = true;
        break;
    case OPT_EXPECT:
        a->expect_continue = true;
        break;
    case OPT_HELP:
        a->help = true;
        break;
    default:
        AIS_ASSERT(0 && "unhandled flag");
    }
}

static int
check_combination(struct al_args *a, const struct seen *s, char *err, size_t errlen)
{
    if (s->baseline && (s->endpoint || s->ip || s->port || a->mode == AL_MODE_DIRECT)) {
        return fail(err, errlen, "--baseline-url excludes --endpoint, --ip, --port, --direct");
    }
    if (s->endpoint && (s->ip || s->port)) {
        return fail(err, errlen, "--endpoint excludes --ip/--port");
    }
    if (s->baseline) {
        a->mode = AL_MODE_BASELINE;
    }
    if (s->ip || s->port) {
        snprintf(a->endpoint, sizeof(a->endpoint), "http://%s:%llu",
                 s->ip ? s->ip_val : "127.0.0.1",
                 (unsigned long long)(s->port ? s->port_val : 8080));
    }
    if (s->size && (s->minsize || s->maxsize)) {
        return fail(err, errlen, "--size excludes --minsize/--maxsize");
    }
    if (s->minsize && !s->maxsize) {
        a->size_max = a->size_min;
    } else if (s->maxsize && !s->minsize) {
        a->size_min = a->size_max;
    }
    if (a->size_min > a->size_max) {
        return fail(err, errlen, "--minsize is above --maxsize");
    }
    if (a->max_ops > 0 && !s->duration) {
        a->duration_ms = 0;
    }
    if (a->duration_ms == 0 && a->max_ops == 0) {
        return fail(err, errlen, "unbounded run: give --duration > 0 or --max-ops");
    }
    if (a->pct_put == 0 && !a->fill && !a->existing) {
        return fail(err, errlen, "--pctput 0 reads only: add --fill or --existing");
    }
    return 0;
}

int
al_args_parse(int argc, char **argv, struct al_args *out, char *err, size_t errlen)
{
    AIS_ASSERT(argv != NULL);
    AIS_ASSERT(out != NULL);
    AIS_ASSERT(err != NULL && errlen > 0);
    struct al_args a;
    struct seen s;
    defaults(&a);
    memset(&s, 0, sizeof(s));
    err[0] = '\0';
    optind = 0; /* GNU: full re-initialisation, so the parser can run again */
    opterr = 0;
    for (;;) {
        int idx = -1;
        int opt = getopt_long(argc, argv, "h", long_opts, &idx);
        if (opt == -1) {
            break;
        }
        if (opt == '?' || opt == ':') {
            return fail(err, errlen, "unknown flag or missing value: %s", argv[optind - 1]);
        }
        if (opt == 'h') {
            opt = OPT_HELP;
        }
        if (idx >= 0 && long_opts[idx].has_arg == required_argument) {
            if (apply_value(opt, optarg, &a, &s) != 0) {
                return fail(err, errlen, "invalid value for --%s: '%s'", long_opts[idx].name,
                            optarg);
            }
        } else {
            apply_flag(opt, &a);
        }
    }
    if (optind < argc) {
        return fail(err, errlen, "unexpected argument: '%s'", argv[optind]);
    }
    if (!a.help) {
        int rc = check_combination(&a, &s, err, errlen);
        if (rc != 0) {
            return rc;
        }
    }
    *out = a;
    return 0;
}

void
al_args_usage(const char *prog)
{
    printf("Usage: %s [flags]\n"
           "Load generator for the AIS object datapath (and plain HTTP baselines).\n\n"
           "Target:\n"
           "  --endpoint URL       AIS gateway (or target) URL [http://127.0.0.1:8080]\n"
           "  --ip IP --port N     same as --endpoint http://IP:N\n"
           "  --direct             resolve each name's target once (first 307), then go direct\n"
           "  --baseline-url URL   plain HTTP server: GET/PUT/DELETE URL/NAME (e.g. nginx DAV)\n"
           "  --bucket NAME        [aisloader]; created first unless --no-create (409 is fine)\n"
           "  --provider P         [ais]\n"
           "Load:\n"
           "  --workers N          threads, one keep-alive connection set each [4] (1..%d)\n"
           "  --pctput P           percent of ops that are PUT, 0..100 [50]\n"
           "  --size S             fixed object size [1MiB]; units B,KiB,MiB,GiB (1024) KB,MB,GB\n"
           "  --minsize S --maxsize S   uniformly random size in [min,max]\n"
           "  --duration D         e.g. 30s, 2m [60s, or unbounded when only --max-ops is given]\n"
           "  --max-ops N          stop after N ops in total\n"
           "  --num-objects N      name space size: PREFIX0000000000.. [1000]\n"
           "  --prefix P           object name prefix [al-]\n"
           "  --seq                names in order (default: uniformly random)\n"
           "  --fill               PUT every name once before the timed phase (not timed)\n"
           "  --existing           treat every name as present (filled by an earlier run)\n"
           "  --verify             GET checks the bytes against the pattern PUT wrote\n"
           "  --cleanup            DELETE every name this run wrote, after the report\n"
           "  --timeout D          per request [60s]\n"
           "  --expect-continue    PUT waits for 100-continue (a gateway can 307 before the body)\n"
           "  --seed N             payload and name choice [1]\n"
           "Output:\n"
           "  --stats-interval D   periodic lines [5s], 0 = off;  --quiet: none\n"
           "  --json               final report as JSON on stdout (periodic lines go to stderr)\n"
           "Exit: 0 ok, 1 setup failed, 2 usage, 3 the run had errors.\n",
           prog, AL_WORKERS_MAX);
}
