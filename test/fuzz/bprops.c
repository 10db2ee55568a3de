/*
 * Goal: bucket props from a client (create-bck / set-bprops ActMsg values, PATCH bodies) and
 * cluster maps read back from JSON are validated without a crash, a leak or a half-applied
 * patch: a refused patch leaves the bucket's props as they were.
 * Method: the input is parsed as JSON. As a props patch it creates a bucket in a fresh BMD
 * (ais_bmd_add), is applied again on top (ais_bmd_set_props, reset off and on) and the BMD is
 * serialised; the props JSON kept for the bucket must re-apply cleanly (ais_bmd_put_raw, as a
 * BMD received from the wire does). As a Smap document it goes through ais_smap_from_json.
 */
#include "test/fuzz/fuzz.h"

#include "common/bmd.h"
#include "common/json.h"
#include "common/limits.h"
#include "common/smap.h"

#include <errno.h>
#include <jansson.h>

static void
props(const json_t *patch, int reset)
{
    const char *why = NULL;
    struct ais_bmd *b = ais_bmd_new();
    FUZZ_CHECK(b != NULL);
    int rc = ais_bmd_add(b, "ais", "", "b", "xxhash", patch, &why);
    FUZZ_CHECK(rc == 0 || (rc == -EINVAL && why != NULL) || rc == -ENOMEM);
    if (rc == 0) {
        const struct ais_bck_md *k = ais_bmd_find(b, "ais", "", "b");
        FUZZ_CHECK(k != NULL && k->props_json != NULL);
        char *before = strdup(k->props_json);
        rc = ais_bmd_set_props(b, "ais", "", "b", patch, reset, "xxhash", &why);
        k = ais_bmd_find(b, "ais", "", "b");
        FUZZ_CHECK(rc == 0 || strcmp(before, k->props_json) == 0);
        /* The stored form is what other nodes receive: it must be accepted as is. */
        struct ais_bmd *c = ais_bmd_new();
        FUZZ_CHECK(c != NULL);
        rc = ais_bmd_put_raw(c, k, k->props_json);
        FUZZ_CHECK(rc == 0 || rc == -ENOMEM);
        json_t *j = ais_bmd_to_json(b);
        char *txt = j ? ais_json_dumps(j) : NULL;
        free(txt);
        json_decref(j);
        ais_bmd_unref(c);
        free(before);
    }
    ais_bmd_unref(b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t jerr;
    if (size > AIS_CTRL_BODY_BYTES_MAX) {
        return 0;
    }
    json_t *j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
    if (j == NULL) {
        return 0;
    }
    props(j, size & 1);
    struct ais_smap *m = NULL;
    if (ais_smap_from_json(j, &m) == 0) {
        json_t *back = ais_smap_to_json(m);
        char *txt = back ? ais_json_dumps(back) : NULL;
        free(txt);
        json_decref(back);
        ais_smap_unref(m);
    }
    json_decref(j);
    return 0;
}
