/*
 * Goal: the name checks that guard every REST path and S3 key never read out of bounds, never
 * fail without a reason, and only let through names the rest of the system can hold.
 * Method: the input is "provider\nnamespace\nbucket\nobject" (missing fields are empty). The
 * object name is checked with its exact length straight from the fuzzer's buffer (embedded NULs
 * included); accepted names go on to the uname, HRW digest and display form, as
 * ais_objref_parse does (which itself needs a live MHD request). The same text also goes
 * through the query-value parsers (bool, duration, log level).
 */
#include "test/fuzz/fuzz.h"

#include "common/bmd.h"
#include "common/err.h"
#include "common/hrw.h"
#include "common/limits.h"
#include "common/log.h"
#include "common/names.h"
#include "common/util.h"

#include <errno.h>

static void
check_values(const char *s)
{
    int64_t ms = 0;
    enum ais_log_level lvl;
    int b = ais_parse_bool(s);
    FUZZ_CHECK(b == 0 || b == 1 || b == -EINVAL);
    (void)ais_duration_parse_ms(s, &ms);
    (void)ais_log_level_parse(s, &lvl);
}

static void
check_obj(const uint8_t *p, size_t n)
{
    const char *why = NULL;
    int rc = ais_obj_name_check((const char *)p, n, &why);
    FUZZ_CHECK(rc == 0 || why != NULL);
    FUZZ_CHECK(rc == 0 || rc == AIS_EBADNAME || rc == -ENAMETOOLONG);
    if (rc == 0) {
        FUZZ_CHECK(n <= AIS_OBJNAME_BYTES_MAX && memchr(p, '\0', n) == NULL);
        FUZZ_CHECK(p[0] != '/' && p[n - 1] != '/');
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *p = data;
    size_t n = size;
    char *prov = fuzz_field(&p, &n, '\n');
    char *ns = fuzz_field(&p, &n, '\n');
    char *bck = fuzz_field(&p, &n, '\n');
    const uint8_t *obj_p = p;
    size_t obj_n = n;
    char *obj = fuzz_strndup(p, n);
    const char *why = NULL;

    check_values(prov);
    check_obj(obj_p, obj_n);
    const char *canon = ais_provider_norm(prov);
    int brc = ais_bck_name_check(bck, &why);
    FUZZ_CHECK(brc == 0 || (brc == AIS_EBADNAME && why != NULL));
    FUZZ_CHECK(brc != 0 || strlen(bck) <= AIS_BCKNAME_BYTES_MAX);
    if (canon != NULL && brc == 0 && strlen(ns) < AIS_NS_BYTES_MAX) {
        char display[AIS_BCKNAME_BYTES_MAX + AIS_NS_BYTES_MAX + 16];
        char uname[AIS_OBJNAME_BYTES_MAX + AIS_BCKNAME_BYTES_MAX + AIS_NS_BYTES_MAX + 32];
        uint64_t digest = 0;
        /* A short cap too: the display form must truncate, not overflow. */
        ais_bck_display(canon, ns, bck, display, 1 + (size % sizeof(display)));
        FUZZ_CHECK(strlen(display) < sizeof(display));
        int len = ais_uname(uname, sizeof(uname), canon, ns, bck, obj);
        FUZZ_CHECK(len == -ENAMETOOLONG || (len >= 0 && (size_t)len == strlen(uname)));
        int drc = ais_obj_digest(canon, ns, bck, obj, &digest);
        FUZZ_CHECK(drc == 0 || drc == -ENAMETOOLONG);
    }
    free(prov);
    free(ns);
    free(bck);
    free(obj);
    return 0;
}
