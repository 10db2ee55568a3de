/*
 * Goal: a dSort request body (POST /v1/sort, dsort/spec.c) is accepted or refused with a
 * message, never crashes; an accepted spec survives its normalized JSON (what the gateway sends
 * to targets) unchanged; its templates and sizes are bounded; an EKM text (fetched from a URL
 * the request names) is parsed or refused under every policy.
 * Method: the input is the JSON body; it is also used as an EKM text and as a template and a
 * size string.
 */
#include "test/fuzz/fuzz.h"

#include "dsort/dsort.h"

#include <errno.h>
#include <jansson.h>

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char msg[512];
    json_t *j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    if (j != NULL) {
        struct ds_spec s;
        msg[0] = '\0';
        if (ds_spec_parse(j, &s, msg, sizeof(msg)) == 0) {
            json_t *norm = ds_spec_to_json(&s);
            FUZZ_CHECK(norm != NULL);
            struct ds_spec s2;
            FUZZ_CHECK(ds_spec_parse(norm, &s2, msg, sizeof(msg)) == 0);
            FUZZ_CHECK(s2.shard_bytes == s.shard_bytes && s2.alg == s.alg &&
                       strcmp(s2.in_tmpl, s.in_tmpl) == 0 && strcmp(s2.out_fmt, s.out_fmt) == 0);
            json_t *norm2 = ds_spec_to_json(&s2);
            FUZZ_CHECK(norm2 != NULL && json_equal(norm, norm2));
            json_decref(norm2);
            json_decref(norm);
            ds_spec_fini(&s2);
            ds_spec_fini(&s);
        } else {
            FUZZ_CHECK(msg[0] != '\0'); /* a refusal names the problem */
        }
        json_decref(j);
    }
    char *t = fuzz_strndup(data, size > 512 ? 512 : size);
    uint64_t n = ds_tmpl_count(t);
    char name[1024];
    for (uint64_t i = 0; i < n && i < 3; i++) {
        int rc = ds_tmpl_name(t, i, name, sizeof(name));
        FUZZ_CHECK(rc == 0 || rc == -ENAMETOOLONG);
    }
    if (n > 0) {
        FUZZ_CHECK(ds_tmpl_name(t, n, name, sizeof(name)) != 0 || n == UINT64_MAX);
    }
    uint64_t sz;
    if (ds_size_parse(t, &sz) == 0) {
        FUZZ_CHECK(sz < (uint64_t)1.8e19); /* in range, as the parser promises */
    }
    free(t);
    for (int pol = DS_POLICY_IGNORE; pol <= DS_POLICY_ABORT; pol++) {
        size_t skipped = 0;
        json_t *m = ds_ekm_parse((const char *)data, size, pol == DS_POLICY_WARN ? "," : "\t",
                                 (enum ds_policy)pol, &skipped, msg, sizeof(msg));
        json_decref(m);
    }
    return 0;
}
