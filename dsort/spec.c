/*
 * Design notes: the dSort request spec, templates, sizes and the external key map - pure code,
 * used by the gateway (to refuse a bad spec with 400 before any target is involved) and by the
 * targets (which parse the normalized spec the gateway forwards). Current AIS keys and the 2020
 * ones are both accepted; unknown keys are ignored as AIS does.
 */
#include "common/json.h"
#include "common/names.h"
#include "dsort/dsort.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- templates ---- */

struct tmpl_range {
    const char *open;  /* '{' */
    const char *close; /* '}' */
    uint64_t lo, n, step;
    int width; /* zero padding: digits of lo as written when it has a leading zero */
};

#define TMPL_RANGES_MAX 8

/* Parses the ranges of t. Count of ranges, or -1 for a malformed template. */
static int
tmpl_ranges(const char *t, struct tmpl_range *rg)
{
    int n = 0;
    for (const char *p = t; *p; p++) {
        if (*p == '}') {
            return -1;
        }
        if (*p != '{') {
            continue;
        }
        if (n == TMPL_RANGES_MAX) {
            return -1;
        }
        const char *q = p + 1;
        char *end;
        if (!isdigit((unsigned char)*q)) {
            return -1;
        }
        uint64_t lo = strtoull(q, &end, 10);
        int width = (end - q > 1 && *q == '0') ? (int)(end - q) : 0;
        if (end[0] != '.' || end[1] != '.' || !isdigit((unsigned char)end[2])) {
            return -1;
        }
        uint64_t hi = strtoull(end + 2, &end, 10);
        uint64_t step = 1;
        if (end[0] == '.' && end[1] == '.') {
            if (!isdigit((unsigned char)end[2])) {
                return -1;
            }
            step = strtoull(end + 2, &end, 10);
        }
        if (*end != '}' || hi < lo || step == 0 || hi - lo >= UINT64_MAX / 2) {
            return -1;
        }
        rg[n] = (struct tmpl_range){.open = p,
                                    .close = end,
                                    .lo = lo,
                                    .n = (hi - lo) / step + 1,
                                    .step = step,
                                    .width = width};
        n++;
        p = end;
    }
    return n;
}

uint64_t
ds_tmpl_count(const char *t)
{
    struct tmpl_range rg[TMPL_RANGES_MAX];
    int n = tmpl_ranges(t, rg);
    if (n < 0) {
        return 0;
    }
    uint64_t c = 1;
    for (int i = 0; i < n; i++) {
        if (c > UINT64_MAX / rg[i].n) {
            return 0;
        }
        c *= rg[i].n;
    }
    return c;
}

int
ds_tmpl_name(const char *t, uint64_t i, char *out, size_t cap)
{
    struct tmpl_range rg[TMPL_RANGES_MAX];
    int n = tmpl_ranges(t, rg);
    uint64_t c = ds_tmpl_count(t);
    if (n < 0 || c == 0 || i >= c) {
        return -EINVAL;
    }
    uint64_t idx[TMPL_RANGES_MAX];
    for (int k = n - 1; k >= 0; k--) {
        idx[k] = i % rg[k].n;
        i /= rg[k].n;
    }
    size_t o = 0;
    const char *p = t;
    for (int k = 0; k <= n; k++) {
        const char *lit_end = k < n ? rg[k].open : t + strlen(t);
        size_t l = (size_t)(lit_end - p);
        if (o + l >= cap) {
            return -ENAMETOOLONG;
        }
        memcpy(out + o, p, l);
        o += l;
        if (k == n) {
            break;
        }
        int w =
            snprintf(out + o, cap - o, "%0*" PRIu64, rg[k].width, rg[k].lo + idx[k] * rg[k].step);
        if (w < 0 || (size_t)w >= cap - o) {
            return -ENAMETOOLONG;
        }
        o += (size_t)w;
        p = rg[k].close + 1;
    }
    out[o] = '\0';
    return 0;
}

/* ---- sizes ---- */

int
ds_size_parse(const char *s, uint64_t *out)
{
    char *end;
    while (isspace((unsigned char)*s)) {
        s++;
    }
    if (!isdigit((unsigned char)*s)) {
        return -EINVAL;
    }
    double v = strtod(s, &end);
    while (isspace((unsigned char)*end)) {
        end++;
    }
    static const struct {
        const char *u;
        double m;
    } units[] = {{"", 1},
                 {"B", 1},
                 {"K", 1024.0},
                 {"KB", 1024.0},
                 {"KIB", 1024.0},
                 {"M", 1048576.0},
                 {"MB", 1048576.0},
                 {"MIB", 1048576.0},
                 {"G", 1073741824.0},
                 {"GB", 1073741824.0},
                 {"GIB", 1073741824.0},
                 {"T", 1099511627776.0},
                 {"TB", 1099511627776.0},
                 {"TIB", 1099511627776.0}};
    char u[8];
    size_t l = strlen(end);
    if (l >= sizeof(u)) {
        return -EINVAL;
    }
    for (size_t i = 0; i < l && i < sizeof(u) - 1; i++) {
        u[i] = (char)toupper((unsigned char)end[i]);
    }
    u[l] = '\0';
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcmp(u, units[i].u) == 0) {
            double b = v * units[i].m;
            if (!(b >= 0) || b >= 1.8e19) {
                return -EINVAL;
            }
            *out = (uint64_t)b;
            return 0;
        }
    }
    return -EINVAL;
}

/* ---- the spec ---- */

static const char *const exts[] = {".tar", ".tgz", ".tar.gz", ".zip", ".tar.lz4"};

static int
ext_ok(const char *e)
{
    for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
        if (strcmp(e, exts[i]) == 0) {
            return 1;
        }
    }
    return 0;
}

/* A string member (case-insensitive key) or dflt; non-strings count as absent. */
static const char *
sget(const json_t *o, const char *k, const char *dflt)
{
    const json_t *v = o ? ais_json_get_ci(o, k) : NULL;
    return json_is_string(v) ? json_string_value(v) : dflt;
}

static int
bget(const json_t *o, const char *k)
{
    const json_t *v = o ? ais_json_get_ci(o, k) : NULL;
    return json_is_true(v) || (json_is_string(v) && strcmp(json_string_value(v), "true") == 0);
}

/* Copies src into dst[cap]: 0, or -1 when it does not fit. */
static int
scopy(char *dst, size_t cap, const char *src)
{
    size_t l = strlen(src);
    if (l >= cap) {
        return -1;
    }
    memcpy(dst, src, l + 1);
    return 0;
}

static int
policy_parse(const json_t *cfg, const char *k, enum ds_policy dflt, enum ds_policy *out)
{
    const char *v = sget(cfg, k, "");
    if (v[0] == '\0') {
        *out = dflt;
    } else if (strcmp(v, "ignore") == 0) {
        *out = DS_POLICY_IGNORE;
    } else if (strcmp(v, "warn") == 0) {
        *out = DS_POLICY_WARN;
    } else if (strcmp(v, "abort") == 0) {
        *out = DS_POLICY_ABORT;
    } else {
        return -1;
    }
    return 0;
}

#define FAIL(...)                                                                                  \
    do {                                                                                           \
        snprintf(msg, cap, "dsort: " __VA_ARGS__);                                                 \
        goto bad;                                                                                  \
    } while (0)

/* A bucket: {"name","provider"} (current) or top-level 2020 name/provider keys. */
static int
bck_parse(const json_t *b, const char *name2020, const char *prov2020, char *prov, size_t pcap,
          char *name, size_t ncap)
{
    const char *n = json_is_object(b) ? sget(b, "name", "") : name2020;
    const char *p = json_is_object(b) ? sget(b, "provider", "") : prov2020;
    p = ais_provider_norm(p);
    if (p == NULL) {
        return -1;
    }
    return scopy(prov, pcap, p) || scopy(name, ncap, n) ? -1 : 0;
}

static int
input_parse(const json_t *j, struct ds_spec *s, char *msg, size_t cap)
{
    const json_t *f = ais_json_get_ci(j, "input_format");
    const char *t = json_is_string(f) ? json_string_value(f) : sget(f, "template", "");
    const json_t *names = json_is_object(f) ? ais_json_get_ci(f, "objnames") : NULL;
    if (json_is_array(names) && json_array_size(names) > 0) {
        size_t i;
        const json_t *v;
        if (json_array_size(names) > DS_INPUT_SHARDS_MAX) {
            FAIL("input_format.objnames: more than %u names", DS_INPUT_SHARDS_MAX);
        }
        json_array_foreach(names, i, v)
        {
            const char *why = NULL;
            if (!json_is_string(v) ||
                ais_obj_name_check(json_string_value(v), strlen(json_string_value(v)), &why)) {
                FAIL("input_format.objnames[%zu]: invalid object name%s%s", i, why ? ": " : "",
                     why ? why : "");
            }
        }
        s->in_names = json_incref((json_t *)names);
        return 0;
    }
    if (t[0] == '\0') {
        FAIL("input_format: a template (e.g. {\"template\":\"shard-{0..9}\"}) or objnames is "
             "required");
    }
    uint64_t n = ds_tmpl_count(t);
    if (n == 0 || scopy(s->in_tmpl, sizeof(s->in_tmpl), t)) {
        FAIL("input_format: bad template \"%.200s\"", t);
    }
    if (n > DS_INPUT_SHARDS_MAX) {
        FAIL("input_format: template \"%.200s\" names %" PRIu64 " shards (at most %u)", t, n,
             DS_INPUT_SHARDS_MAX);
    }
    return 0;
bad:
    return -EINVAL;
}

static int
alg_parse(const json_t *j, struct ds_spec *s, char *msg, size_t cap)
{
    const json_t *a = ais_json_get_ci(j, "algorithm");
    const char *k = sget(a, "kind", "");
    if (k[0] == '\0' || strcmp(k, "alphanumeric") == 0) {
        s->alg = DS_ALG_ALPHANUMERIC;
    } else if (strcmp(k, "shuffle") == 0) {
        s->alg = DS_ALG_SHUFFLE;
    } else if (strcmp(k, "content") == 0) {
        s->alg = DS_ALG_CONTENT;
    } else if (strcmp(k, "none") == 0) {
        s->alg = DS_ALG_NONE;
    } else {
        FAIL("algorithm.kind \"%.64s\" is not one of alphanumeric, shuffle, content, none", k);
    }
    s->decreasing = bget(a, "decreasing");
    if (scopy(s->seed, sizeof(s->seed), sget(a, "seed", ""))) {
        FAIL("algorithm.seed: too long");
    }
    if (s->alg != DS_ALG_CONTENT) {
        return 0;
    }
    const char *ext = sget(a, "extension", "");
    const char *kt = sget(a, "content_key_type", sget(a, "format_type", ""));
    if (ext[0] != '.' || scopy(s->content_ext, sizeof(s->content_ext), ext)) {
        FAIL("algorithm.extension: content sorting needs the extension (e.g. \".cls\") of the "
             "file that holds each record's key");
    }
    if (strcmp(kt, "int") == 0) {
        s->ckey = DS_CKEY_INT;
    } else if (strcmp(kt, "float") == 0) {
        s->ckey = DS_CKEY_FLOAT;
    } else if (strcmp(kt, "string") == 0) {
        s->ckey = DS_CKEY_STRING;
    } else {
        FAIL("algorithm.content_key_type \"%.32s\" is not one of int, float, string", kt);
    }
    return 0;
bad:
    return -EINVAL;
}

static int
limits_parse(const json_t *j, struct ds_spec *s, char *msg, size_t cap)
{
    const char *mm = sget(j, "max_mem_usage", "");
    uint64_t v;
    if (mm[0] != '\0') {
        size_t l = strlen(mm);
        char *end;
        double pct = l > 1 && mm[l - 1] == '%' ? strtod(mm, &end) : -1;
        int ok = mm[l - 1] == '%' ? (end == mm + l - 1 && pct > 0 && pct <= 100)
                                  : ds_size_parse(mm, &v) == 0 && v > 0;
        if (!ok || scopy(s->max_mem, sizeof(s->max_mem), mm)) {
            FAIL("max_mem_usage \"%.32s\" is neither a percentage (1%%..100%%) nor a size", mm);
        }
    } else {
        memcpy(s->max_mem, "80%", 4);
    }
    const char *keys[2] = {"extract_concurrency_max_limit", "create_concurrency_max_limit"};
    unsigned *dst[2] = {&s->extract_conc, &s->create_conc};
    for (int i = 0; i < 2; i++) {
        const json_t *c = ais_json_get_ci(j, keys[i]);
        if (c != NULL && !json_is_null(c) &&
            (!json_is_integer(c) || json_integer_value(c) < 0 || json_integer_value(c) > 1024)) {
            FAIL("%s must be an integer in 0..1024", keys[i]);
        }
        *dst[i] = json_is_integer(c) ? (unsigned)json_integer_value(c) : 0;
    }
    const json_t *cfg = ais_json_get_ci(j, "Config");
    if (policy_parse(cfg, "duplicated_records", DS_POLICY_IGNORE, &s->dup_records) ||
        policy_parse(cfg, "missing_shards", DS_POLICY_IGNORE, &s->missing_shards) ||
        policy_parse(cfg, "ekm_malformed_line", DS_POLICY_ABORT, &s->ekm_malformed) ||
        policy_parse(cfg, "ekm_missing_key", DS_POLICY_ABORT, &s->ekm_missing)) {
        FAIL("Config: a policy must be one of ignore, warn, abort");
    }
    return 0;
bad:
    return -EINVAL;
}

static int
output_parse(const json_t *j, struct ds_spec *s, char *msg, size_t cap)
{
    const char *of = sget(j, "output_format", "");
    if (scopy(s->ekm_url, sizeof(s->ekm_url), sget(j, "ekm_file", sget(j, "order_file", "")))) {
        FAIL("ekm_file: URL too long");
    }
    const char *sep = sget(j, "ekm_file_sep", sget(j, "ekm_sep", sget(j, "order_file_sep", "")));
    if (scopy(s->ekm_sep, sizeof(s->ekm_sep), sep[0] ? sep : "\t")) {
        FAIL("ekm_file_sep: too long");
    }
    if (s->ekm_url[0] && strncmp(s->ekm_url, "http://", 7) && strncmp(s->ekm_url, "https://", 8)) {
        FAIL("ekm_file \"%.200s\" must be an http:// or https:// URL", s->ekm_url);
    }
    if (of[0] == '\0' && s->ekm_url[0] == '\0') {
        FAIL("output_format (e.g. \"out-{00000..99999}\") is required unless ekm_file is given");
    }
    if (of[0] != '\0' && (ds_tmpl_count(of) == 0 || scopy(s->out_fmt, sizeof(s->out_fmt), of))) {
        FAIL("output_format: bad template \"%.200s\"", of);
    }
    const char *ss = sget(j, "output_shard_size", "");
    const json_t *ssj = ais_json_get_ci(j, "output_shard_size");
    uint64_t sz = 0;
    if (json_is_integer(ssj) && json_integer_value(ssj) > 0) {
        sz = (uint64_t)json_integer_value(ssj);
    } else if (ss[0] == '\0' || ds_size_parse(ss, &sz) != 0) {
        FAIL("output_shard_size \"%.32s\": a size is required (e.g. \"10MiB\")", ss);
    }
    if (sz == 0 || sz > DS_SHARD_BYTES_MAX) {
        FAIL("output_shard_size %" PRIu64 " out of range (1 byte .. 64 GiB)", sz);
    }
    s->shard_bytes = sz;
    return 0;
bad:
    return -EINVAL;
}

int
ds_spec_parse(const json_t *j, struct ds_spec *s, char *msg, size_t cap)
{
    memset(s, 0, sizeof(*s));
    if (!json_is_object(j)) {
        FAIL("the request spec must be a JSON object");
    }
    if (bck_parse(ais_json_get_ci(j, "input_bck"), sget(j, "bucket", ""), sget(j, "provider", ""),
                  s->in_provider, sizeof(s->in_provider), s->in_bck, sizeof(s->in_bck))) {
        FAIL("input_bck: unknown provider or a name too long");
    }
    const char *why = NULL;
    if (s->in_bck[0] == '\0' || ais_bck_name_check(s->in_bck, &why)) {
        FAIL("input_bck: %s", s->in_bck[0] ? (why ? why : "invalid name") : "a bucket is required");
    }
    const json_t *ob = ais_json_get_ci(j, "output_bck");
    const char *ob2020 = sget(j, "output_bucket", "");
    if ((json_is_object(ob) && sget(ob, "name", "")[0]) || ob2020[0]) {
        if (bck_parse(ob, ob2020, sget(j, "output_provider", s->in_provider), s->out_provider,
                      sizeof(s->out_provider), s->out_bck, sizeof(s->out_bck)) ||
            ais_bck_name_check(s->out_bck, &why)) {
            FAIL("output_bck: invalid bucket");
        }
    } else {
        memcpy(s->out_provider, s->in_provider, sizeof(s->out_provider));
        memcpy(s->out_bck, s->in_bck, sizeof(s->out_bck));
    }
    const char *ie = sget(j, "input_extension", sget(j, "extension", ""));
    const char *oe = sget(j, "output_extension", ie);
    if (!ext_ok(ie)) {
        FAIL("input_extension \"%.32s\" is not one of .tar, .tgz, .tar.gz, .zip, .tar.lz4", ie);
    }
    if (!ext_ok(oe)) {
        FAIL("output_extension \"%.32s\" is not one of .tar, .tgz, .tar.gz, .zip, .tar.lz4", oe);
    }
    memcpy(s->in_ext, ie, strlen(ie) + 1);
    memcpy(s->out_ext, oe, strlen(oe) + 1);
    if (scopy(s->desc, sizeof(s->desc), sget(j, "description", ""))) {
        FAIL("description: too long (at most %zu bytes)", sizeof(s->desc) - 1);
    }
    s->dry_run = bget(j, "dry_run");
    if (input_parse(j, s, msg, cap) || output_parse(j, s, msg, cap) || alg_parse(j, s, msg, cap) ||
        limits_parse(j, s, msg, cap)) {
        ds_spec_fini(s);
        return -EINVAL;
    }
    return 0;
bad:
    ds_spec_fini(s);
    return -EINVAL;
}

void
ds_spec_fini(struct ds_spec *s)
{
    if (s != NULL) {
        json_decref(s->in_names);
        s->in_names = NULL;
    }
}

static const char *
policy_name(enum ds_policy p)
{
    return p == DS_POLICY_ABORT ? "abort" : p == DS_POLICY_WARN ? "warn" : "ignore";
}

json_t *
ds_spec_to_json(const struct ds_spec *s)
{
    static const char *const algs[] = {"alphanumeric", "shuffle", "content", "none"};
    static const char *const ckeys[] = {"int", "float", "string"};
    json_t *in_fmt = s->in_names ? json_pack("{sO}", "objnames", s->in_names)
                                 : json_pack("{ss}", "template", s->in_tmpl);
    json_t *j = json_pack(
        "{s{ssss}s{ssss}sosssssssIs{sssbssssss}sssssssssbsisis{ssssssss}}", "input_bck", "name",
        s->in_bck, "provider", s->in_provider, "output_bck", "name", s->out_bck, "provider",
        s->out_provider, "input_format", in_fmt, "input_extension", s->in_ext, "output_extension",
        s->out_ext, "output_format", s->out_fmt, "output_shard_size", (json_int_t)s->shard_bytes,
        "algorithm", "kind", algs[s->alg], "decreasing", s->decreasing, "seed", s->seed,
        "extension", s->content_ext, "content_key_type", ckeys[s->ckey], "ekm_file", s->ekm_url,
        "ekm_file_sep", s->ekm_sep, "max_mem_usage", s->max_mem, "description", s->desc, "dry_run",
        s->dry_run, "extract_concurrency_max_limit", (int)s->extract_conc,
        "create_concurrency_max_limit", (int)s->create_conc, "Config", "duplicated_records",
        policy_name(s->dup_records), "missing_shards", policy_name(s->missing_shards),
        "ekm_malformed_line", policy_name(s->ekm_malformed), "ekm_missing_key",
        policy_name(s->ekm_missing));
    return j;
}

/* ---- external key map ---- */

static json_t *
ekm_json(const char *text, size_t len, char *msg, size_t cap)
{
    json_error_t e;
    json_t *j = json_loadb(text, len, 0, &e);
    json_t *out = j && json_is_object(j) ? json_object() : NULL;
    const char *fmt;
    json_t *keys;
    if (out == NULL) {
        snprintf(msg, cap, "dsort: ekm_file: not a JSON object {\"shard-format\": [keys]}: %s",
                 j ? "not an object" : e.text);
        json_decref(j);
        return NULL;
    }
    json_object_foreach(j, fmt, keys)
    {
        size_t i;
        json_t *k;
        if (!json_is_array(keys)) {
            snprintf(msg, cap, "dsort: ekm_file: the value of \"%.100s\" is not an array", fmt);
            json_decref(out);
            out = NULL;
            break;
        }
        json_array_foreach(keys, i, k)
        {
            if (json_is_string(k)) {
                json_object_set_new(out, json_string_value(k), json_string(fmt));
            }
        }
    }
    json_decref(j);
    return out;
}

json_t *
ds_ekm_parse(const char *text, size_t len, const char *sep, enum ds_policy malformed,
             size_t *skipped, char *msg, size_t cap)
{
    size_t i = 0;
    while (i < len && isspace((unsigned char)text[i])) {
        i++;
    }
    *skipped = 0;
    if (i < len && text[i] == '{') {
        return ekm_json(text, len, msg, cap);
    }
    json_t *out = json_object();
    size_t seplen = strlen(sep), lineno = 0;
    for (const char *p = text, *end = text + len; out && p < end; lineno++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        const char *cr = le > p && le[-1] == '\r' ? le - 1 : le;
        if (cr > p) {
            const char *s = seplen ? memmem(p, (size_t)(cr - p), sep, seplen) : NULL;
            if (s == NULL || s == p || s + seplen >= cr) {
                if (malformed == DS_POLICY_ABORT) {
                    snprintf(msg, cap, "dsort: ekm_file line %zu is malformed (want KEY%sFORMAT)",
                             lineno + 1, strcmp(sep, "\t") == 0 ? "<TAB>" : sep);
                    json_decref(out);
                    return NULL;
                }
                (*skipped)++;
            } else {
                json_t *f = json_stringn(s + seplen, (size_t)(cr - s - seplen));
                char *k = strndup(p, (size_t)(s - p));
                if (f == NULL || k == NULL || json_object_set_new(out, k, f) != 0) {
                    json_decref(out);
                    out = NULL;
                    snprintf(msg, cap, "dsort: ekm_file: out of memory");
                }
                free(k);
            }
        }
        p = le + 1;
    }
    return out;
}
