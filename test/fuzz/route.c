/*
 * Goal: the HTTP route table lookup answers every request line with a row, a 405 with a
 * non-empty Allow set, or a 404, and the Allow text never overflows its buffer.
 * Method: the input's first line is "METHOD path"; it is matched against tables shaped like the
 * gateway's and the target's (common/http.h semantics, patterns copied from gateway/h_gw.c and
 * target/h_obj.c), then against a table built from the following lines ("<mask byte><pattern>",
 * at most 16 rows). Results are checked against a direct reading of the pattern rules.
 */
#include "test/fuzz/fuzz.h"

#include "common/http.h"

#include <errno.h>

#define ROUTE_ROWS_MAX 16

static void
h_none(struct ais_req *r, void *ctx)
{
    (void)r;
    (void)ctx;
}

#define S3M (AIS_M_GET | AIS_M_HEAD | AIS_M_PUT | AIS_M_POST | AIS_M_DELETE)
static const struct ais_route gw_like[] = {
    {AIS_M_GET | AIS_M_HEAD, "/v1/health", h_none},
    {S3M, "/v1/objects/*", h_none},
    {AIS_M_GET, "/v1/buckets", h_none},
    {S3M | AIS_M_PATCH, "/v1/buckets/*", h_none},
    {AIS_M_GET | AIS_M_PUT, "/v1/cluster", h_none},
    {AIS_M_PUT, "/v1/cluster/setconfig", h_none},
    {AIS_M_PUT, "/v1/cluster/proxy/*", h_none},
    {AIS_M_GET | AIS_M_PUT, "/v1/daemon", h_none},
    {AIS_M_PUT, "/v1/daemon/setconfig", h_none},
    {AIS_M_PUT | AIS_M_POST | AIS_M_DELETE, "/v1/daemon/mountpaths", h_none},
    {AIS_M_GET | AIS_M_POST, "/v1/download", h_none},
    {AIS_M_DELETE, "/v1/download/*", h_none},
    {AIS_M_GET, "/metrics", h_none},
    {S3M, "/s3", h_none},
    {S3M, "/s3/*", h_none},
};
static const struct ais_route tgt_like[] = {
    {AIS_M_GET | AIS_M_HEAD, "/v1/health", h_none},
    {AIS_M_GET | AIS_M_PUT | AIS_M_HEAD | AIS_M_DELETE, "/v1/objects/*", h_none},
    {AIS_M_GET | AIS_M_PUT, "/v1/daemon", h_none},
    {AIS_M_PUT, "/v1/daemon/setconfig", h_none},
    {AIS_M_GET, "/metrics", h_none},
};

/* The pattern rule of common/http.h, restated. */
static int
matches(const char *pat, const char *path)
{
    size_t n = strlen(pat);
    if (n >= 2 && pat[n - 2] == '/' && pat[n - 1] == '*') {
        return strncmp(pat, path, n - 1) == 0;
    }
    return strcmp(pat, path) == 0;
}

static void
check_table(const struct ais_route *t, size_t n, const char *method, const char *path)
{
    unsigned allow = 0xdead;
    unsigned bit = ais_http_method_bit(method);
    int i = ais_route_match(t, n, method, path, &allow);
    FUZZ_CHECK(i == -ENOENT || i == -EPERM || (i >= 0 && (size_t)i < n));
    if (i >= 0) {
        FUZZ_CHECK(matches(t[i].pattern, path) && (t[i].methods & bit) != 0);
        for (int k = 0; k < i; k++) {
            FUZZ_CHECK(!matches(t[k].pattern, path) || (t[k].methods & bit) == 0);
        }
    } else if (i == -EPERM) {
        char buf[64];
        unsigned seen = 0;
        for (size_t k = 0; k < n; k++) {
            FUZZ_CHECK(!matches(t[k].pattern, path) || (t[k].methods & bit) == 0);
            seen |= matches(t[k].pattern, path) ? t[k].methods : 0;
        }
        FUZZ_CHECK(allow == seen);
        FUZZ_CHECK(strlen(ais_http_allow_str(allow, buf, sizeof(buf))) < sizeof(buf));
    } else {
        for (size_t k = 0; k < n; k++) {
            FUZZ_CHECK(!matches(t[k].pattern, path));
        }
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *p = data;
    size_t n = size;
    char *line = fuzz_field(&p, &n, '\n');
    char *sp = strchr(line, ' ');
    const char *method = line, *path = "";
    if (sp != NULL) {
        *sp = '\0';
        path = sp + 1;
    }
    check_table(gw_like, sizeof(gw_like) / sizeof(gw_like[0]), method, path);
    check_table(tgt_like, sizeof(tgt_like) / sizeof(tgt_like[0]), method, path);

    struct ais_route rows[ROUTE_ROWS_MAX];
    char *pats[ROUTE_ROWS_MAX];
    size_t nr = 0;
    while (n > 0 && nr < ROUTE_ROWS_MAX) {
        pats[nr] = fuzz_field(&p, &n, '\n');
        rows[nr].methods = pats[nr][0] ? (unsigned char)pats[nr][0] & 0x3fu : 0;
        rows[nr].pattern = pats[nr][0] ? pats[nr] + 1 : pats[nr];
        rows[nr].fn = h_none;
        nr++;
    }
    check_table(rows, nr, method, path);

    /* Allow text of any mask, any buffer size (tiny ones truncate at whole names). */
    char small[40];
    unsigned mask = size ? data[0] : 0;
    size_t cap = size > 1 ? data[1] % sizeof(small) : 0;
    ais_http_allow_str(mask, small, cap);
    FUZZ_CHECK(cap == 0 || strlen(small) < cap);

    for (size_t k = 0; k < nr; k++) {
        free(pats[k]);
    }
    free(line);
    return 0;
}
