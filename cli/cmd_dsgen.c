/*
 * `ais dsort gen BUCKET/TEMPLATE.EXT`: a test dataset for dSort - shards of records, PUT like
 * any object.
 *
 * Design notes: every name of the template is one shard in the format its extension names
 * (.tar, .tgz/.tar.gz, .zip, .tar.lz4), written by libarchive. A record is one file per
 * --exts extension sharing a key ("rec-00000042.jpg" + "rec-00000042.cls"); record i of the
 * whole dataset (shard s, slot r: i = s * records + r) gets key (i * mul + seed) mod total with
 * mul coprime with total and near total / phi, so keys are unique across shards yet out of order
 * inside each one and sorting is observable. ".cls" files hold a decimal integer (for content
 * sorting), the others --record-size pseudo-random bytes; one xorshift stream seeded by --seed
 * drives both and entry times are fixed, so the same flags give the same bytes. A shard is built in
 * an unlinked temporary file (never whole in memory) and PUT through the normal upload path via
 * /proc/self/fd. The bucket is created first when it is an ais:// bucket that is missing.
 */
#include "cli/cli_int.h"
#include "common/archw.h"
#include "common/err.h"

#include <archive.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Entry times in generated shards: fixed, so shards are byte-for-byte reproducible. */
#define GEN_MTIME 1700000000
/* Content files (the number a content sort reads) and the range of their values. */
#define GEN_CONTENT_EXT ".cls"
#define GEN_CONTENT_MAX 1000000u
/* Multipliers tried for a coprime one: coprimes are dense, so a few suffice. */
#define GEN_MUL_TRIES 4096

const char *
cli_ds_shard_ext(const char *name)
{
    static const char *const exts[] = {".tar.gz", ".tar.lz4", ".tgz", ".zip", ".tar"};
    size_t l = strlen(name);
    for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
        size_t el = strlen(exts[i]);
        if (l > el && strcmp(name + l - el, exts[i]) == 0 && name[l - el - 1] != '/') {
            return exts[i];
        }
    }
    return NULL;
}

int
cli_ds_exts_parse(const char *s, char *buf, size_t cap, const char **exts, size_t *n)
{
    size_t cnt = 0;
    if (strlen(s) >= cap) {
        return CLI_EUSAGE;
    }
    memcpy(buf, s, strlen(s) + 1);
    for (char *p = buf, *tok; (tok = strsep(&p, ",")) != NULL;) {
        size_t tl = strlen(tok);
        if (tok[0] != '.' || tl < 2 || tl > CLI_DS_GEN_EXT_BYTES_MAX || strchr(tok, '/') != NULL ||
            cnt == CLI_DS_GEN_EXTS_MAX) {
            return CLI_EUSAGE;
        }
        for (size_t i = 0; i < cnt; i++) {
            if (strcmp(exts[i], tok) == 0) {
                return CLI_EUSAGE;
            }
        }
        exts[cnt++] = tok;
    }
    *n = cnt;
    return 0;
}

static uint64_t
gcd(uint64_t a, uint64_t b)
{
    while (b != 0) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

uint64_t
cli_ds_gen_mul(uint64_t total, uint64_t seed)
{
    /* Near total / phi, consecutive records land far apart and alternate up and down (a
     * small multiplier such as 2 would keep each shard's keys in order). */
    uint64_t m = (uint64_t)((double)total * 0.6180339887498949) + seed % (total / 8 + 1);
    for (int i = 0; i < GEN_MUL_TRIES && total > 2; i++, m++) {
        if (m % total > 1 && gcd(m % total, total) == 1) {
            return m % total;
        }
    }
    return total > 2 ? total - 1 : 1; /* coprime with any total; reverses the order */
}

uint64_t
cli_ds_gen_key(uint64_t i, uint64_t mul, uint64_t seed, uint64_t total)
{
    if (total == 0) {
        return 0;
    }
    /* i and mul are below total (up to 1e11): the product needs 128 bits. */
    unsigned __int128 k = (unsigned __int128)(i % total) * (mul % total) + seed % total;
    return (uint64_t)(k % total);
}

/* ---- generating ---- */

struct gen {
    uint64_t nrec, rec_bytes, seed, total, mul, rng, bytes;
    const char *exts[CLI_DS_GEN_EXTS_MAX];
    size_t nexts;
    char extbuf[CLI_DS_GEN_EXTS_MAX * (CLI_DS_GEN_EXT_BYTES_MAX + 1) + 1];
    char *buf; /* one record file */
    int fd;    /* the shard being made: an unlinked temporary file */
    char path[32];
};

static uint64_t
gen_rand(struct gen *g)
{
    g->rng ^= g->rng << 13;
    g->rng ^= g->rng >> 7;
    g->rng ^= g->rng << 17;
    return g->rng;
}

static int
gen_entry(struct archive *a, const char *name, const char *data, size_t len)
{
    int rc = ais_archw_entry(a, name, len, GEN_MTIME);
    return rc ? rc : ais_archw_data(a, data, len);
}

/* The files of the record with key number key. */
static int
gen_record(struct gen *g, struct archive *a, uint64_t key)
{
    int rc = 0;
    for (size_t e = 0; rc == 0 && e < g->nexts; e++) {
        char name[64];
        size_t len = (size_t)g->rec_bytes;
        snprintf(name, sizeof(name), "rec-%08" PRIu64 "%s", key, g->exts[e]);
        if (strcmp(g->exts[e], GEN_CONTENT_EXT) == 0) {
            len = (size_t)snprintf(g->buf, 32, "%" PRIu64 "\n", gen_rand(g) % GEN_CONTENT_MAX);
        } else {
            for (size_t i = 0; i < len; i += 8) {
                uint64_t v = gen_rand(g);
                memcpy(g->buf + i, &v, len - i < 8 ? len - i : 8);
            }
        }
        rc = gen_entry(a, name, g->buf, len);
    }
    return rc;
}

/* Writes shard s (records s*nrec .. s*nrec+nrec-1) into g->fd, truncated first. */
static int
gen_shard(struct cli_ctx *ctx, struct gen *g, const char *name, uint64_t s)
{
    struct archive *a = archive_write_new();
    int rc = a != NULL ? 0 : -ENOMEM;
    if (rc == 0 && (ftruncate(g->fd, 0) < 0 || lseek(g->fd, 0, SEEK_SET) < 0)) {
        rc = -errno;
    }
    rc = rc ? rc : ais_archw_format(a, cli_ds_shard_ext(name));
    if (rc == 0 && archive_write_open_fd(a, g->fd) != ARCHIVE_OK) {
        rc = -EIO;
    }
    for (uint64_t r = 0; rc == 0 && r < g->nrec; r++) {
        rc = gen_record(g, a, cli_ds_gen_key(s * g->nrec + r, g->mul, g->seed, g->total));
    }
    if (a != NULL && archive_write_close(a) != ARCHIVE_OK && rc == 0) {
        rc = -EIO;
    }
    if (rc < 0) {
        cli_errorf(ctx, "cannot make shard %.200s: %s", name,
                   a != NULL && archive_error_string(a) != NULL ? archive_error_string(a)
                                                                : ais_strerror(rc));
    }
    archive_write_free(a);
    return rc;
}

static int
gen_opts(struct cli_ctx *ctx, const struct cli_args *a, struct gen *g)
{
    const char *exts = cli_flag_on(a, CLI_F_EXTS) ? a->val[CLI_F_EXTS] : ".jpg," GEN_CONTENT_EXT;
    g->nrec = 100;
    g->rec_bytes = 10u << 10;
    g->seed = 1;
    if (cli_flag_on(a, CLI_F_RECORDS) &&
        (cli_parse_uint(a->val[CLI_F_RECORDS], CLI_DS_GEN_RECORDS_MAX, &g->nrec) < 0 ||
         g->nrec == 0)) {
        cli_errorf(ctx, "invalid --records \"%s\": 1..%u", a->val[CLI_F_RECORDS],
                   CLI_DS_GEN_RECORDS_MAX);
        return CLI_EUSAGE;
    }
    if (cli_flag_on(a, CLI_F_RECORD_SIZE) &&
        (cli_parse_size(a->val[CLI_F_RECORD_SIZE], &g->rec_bytes) < 0 ||
         g->rec_bytes > CLI_DS_GEN_RECORD_BYTES_MAX)) {
        cli_errorf(ctx, "invalid --record-size \"%s\": a size up to 32MiB, e.g. 10KiB",
                   a->val[CLI_F_RECORD_SIZE]);
        return CLI_EUSAGE;
    }
    if (cli_flag_on(a, CLI_F_SEED) && cli_parse_uint(a->val[CLI_F_SEED], UINT32_MAX, &g->seed)) {
        cli_errorf(ctx, "invalid --seed \"%s\": 0..%u", a->val[CLI_F_SEED], UINT32_MAX);
        return CLI_EUSAGE;
    }
    if (cli_ds_exts_parse(exts, g->extbuf, sizeof(g->extbuf), g->exts, &g->nexts) < 0) {
        cli_errorf(ctx,
                   "invalid --exts \"%s\": up to %d distinct extensions such as .jpg,.cls "
                   "(each starts with '.')",
                   exts, CLI_DS_GEN_EXTS_MAX);
        return CLI_EUSAGE;
    }
    g->rng = g->seed * 0x9E3779B97F4A7C15ull + 1;
    return 0;
}

/* The shard names of BUCKET/TEMPLATE.EXT into *names (checked: one format for all). */
static int
gen_names(struct cli_ctx *ctx, const char *arg, struct cli_bck *b, json_t **names)
{
    const char *why = NULL;
    if (cli_bck_parse(arg, b, &why) < 0 || b->obj == NULL || cli_ds_shard_ext(b->obj) == NULL) {
        cli_errorf(ctx,
                   "expected BUCKET/TEMPLATE.EXT, e.g. ais://src/shard-{0..9}.tar (.tar, .tgz, "
                   ".tar.gz, .zip, .tar.lz4), not \"%s\"%s%s",
                   arg, why != NULL ? ": " : "", why != NULL ? why : "");
        return why != NULL ? AIS_EBADNAME : CLI_EUSAGE;
    }
    *names = json_array();
    int err = *names != NULL ? cli_tmpl_expand(b->obj, *names, CLI_DS_GEN_SHARDS_MAX) : -ENOMEM;
    if (err == CLI_EUSAGE || err == -E2BIG) {
        cli_errorf(ctx, "invalid template \"%s\": {FIRST..LAST} ranges naming at most %u shards",
                   b->obj, CLI_DS_GEN_SHARDS_MAX);
        err = CLI_EUSAGE;
    }
    return err;
}

/* POST create-bck for an ais:// bucket; one that exists already is fine. */
static int
gen_bucket(struct cli_ctx *ctx, const struct cli_bck *b)
{
    struct ais_buf p;
    char q[64];
    if (strcmp(b->provider, "ais") != 0) {
        return 0;
    }
    json_t *msg = cli_actmsg("create-bck", NULL);
    ais_buf_init(&p, AIS_URI_BYTES_MAX);
    cli_bck_query(b, q, sizeof(q));
    int err = msg != NULL ? cli_bck_path(b, &p) : -ENOMEM;
    err = err ? err : cli_http_json(ctx, "POST", p.data, q, msg, NULL);
    if (err == -EEXIST) {
        ctx->conn.errmsg[0] = '\0';
        err = 0;
    }
    ais_buf_fini(&p);
    json_decref(msg);
    return err;
}

/* Makes and PUTs every shard, one at a time, through one temporary file. */
static int
gen_put_all(struct cli_ctx *ctx, struct gen *g, const struct cli_bck *b, const json_t *names)
{
    char tmp[] = "/tmp/ais-dsort-gen-XXXXXX";
    size_t n = json_array_size(names);
    g->fd = mkstemp(tmp);
    if (g->fd < 0) {
        cli_errorf(ctx, "cannot make a temporary file: %s", strerror(errno));
        return -errno;
    }
    unlink(tmp);
    snprintf(g->path, sizeof(g->path), "/proc/self/fd/%d", g->fd);
    struct cli_progress *p =
        cli_progress_wanted(ctx) ? cli_progress_start(ctx->err, "dsort gen", 0, (uint32_t)n) : NULL;
    int err = 0;
    for (size_t i = 0; err == 0 && i < n; i++) {
        const char *name = json_string_value(json_array_get(names, i));
        err = gen_shard(ctx, g, name, i);
        off_t sz = err == 0 ? lseek(g->fd, 0, SEEK_END) : 0;
        g->bytes += sz > 0 ? (uint64_t)sz : 0;
        /* The bar's total: shards so far plus the rest estimated by this one's size. */
        cli_progress_set_total(p, g->bytes + (uint64_t)(n - i - 1) * (uint64_t)(sz > 0 ? sz : 0));
        err = err ? err : cli_obj_put_file(&ctx->conn, b, name, g->path, p);
        if (err < 0 && ctx->conn.errmsg[0] != '\0' && strstr(ctx->conn.errmsg, name) == NULL) {
            char prev[CLI_ERRMSG_BYTES];
            memcpy(prev, ctx->conn.errmsg, sizeof(prev));
            cli_errorf(ctx, "PUT %.200s: %.700s", name, prev);
        }
        cli_progress_file_done(p);
    }
    cli_progress_stop(p);
    close(g->fd);
    return err;
}

int
cli_cmd_dsort_gen(struct cli_ctx *ctx, const struct cli_args *a)
{
    struct cli_bck b;
    json_t *names = NULL;
    struct gen *g = calloc(1, sizeof(*g));
    int err = g != NULL ? gen_opts(ctx, a, g) : -ENOMEM;
    err = err ? err : gen_names(ctx, a->pos[0], &b, &names);
    if (err == 0) {
        g->total = json_array_size(names) * g->nrec;
        g->mul = cli_ds_gen_mul(g->total, g->seed);
        g->buf = malloc(g->rec_bytes + 64);
        err = g->buf != NULL ? 0 : -ENOMEM;
    }
    err = err ? err : gen_bucket(ctx, &b);
    err = err ? err : gen_put_all(ctx, g, &b, names);
    if (err == 0) {
        char bck[AIS_BCKNAME_BYTES_MAX + 16], sz[32];
        cli_bck_str(&b, bck, sizeof(bck));
        cli_fmt_size(g->bytes, sz, sizeof(sz));
        fprintf(ctx->out, "Made %zu shards (%" PRIu64 " records of %zu files, %s) in %s\n",
                json_array_size(names), g->total, g->nexts, sz, bck);
    }
    if (g != NULL) {
        free(g->buf);
    }
    free(g);
    json_decref(names);
    return err;
}
