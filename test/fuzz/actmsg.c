/*
 * Goal: an ActMsg body ({"action","name","value"}) of any shape is decoded the way the gateway
 * and targets decode it without a crash, a leak or an unbounded result: the action and name
 * lookups (case-insensitive keys), a set-config value flattened into name=value pairs and
 * checked against the knob table (never applied: that would be state across runs), JobArgs
 * read into an xact filter, and a JobSnap parsed back (as the gateway merges targets' job
 * snapshots) and re-serialised.
 * Method: the input is parsed with jansson as the HTTP edge does (JSON_REJECT_DUPLICATES);
 * non-JSON inputs stop there. Both the whole document and its "value" go through each decoder.
 */
#include "test/fuzz/fuzz.h"

#include "common/config.h"
#include "common/json.h"
#include "common/limits.h"
#include "xact/xact.h"

#include <errno.h>
#include <jansson.h>

static void
config_pairs(const json_t *v)
{
    const char *names[AIS_CONFIG_SET_MAX], *values[AIS_CONFIG_SET_MAX];
    char buf[4096], msg[1024];
    int n = ais_config_flatten(v, names, values, AIS_CONFIG_SET_MAX, buf, sizeof(buf));
    FUZZ_CHECK(n <= AIS_CONFIG_SET_MAX);
    if (n > 0) {
        for (int i = 0; i < n; i++) {
            FUZZ_CHECK(names[i] != NULL && values[i] != NULL);
        }
        (void)ais_config_check_many(names, values, (size_t)n, msg, sizeof(msg));
        FUZZ_CHECK(strlen(msg) < sizeof(msg));
    }
}

static void
jobs(const json_t *v)
{
    struct xa_filter f;
    struct xa_snap s;
    memset(&f, 0, sizeof(f));
    xa_filter_from_json(v, &f);
    FUZZ_CHECK(f.id != NULL && f.kind != NULL && f.bck != NULL);
    if (xa_snap_from_json(v, &s) == 0) {
        struct xa_snap back;
        json_t *j = xa_snap_to_json(&s);
        json_t *st = xa_status_to_json(&s);
        char *txt = j ? ais_json_dumps(j) : NULL;
        /* What we write we must read back. */
        FUZZ_CHECK(j == NULL || xa_snap_from_json(j, &back) == 0);
        free(txt);
        json_decref(j);
        json_decref(st);
    }
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
    const char *action = ais_json_str(j, "action", "");
    const char *name = ais_json_str(j, "name", "");
    FUZZ_CHECK(action != NULL && name != NULL);
    json_t *value = ais_json_get_ci(j, "value");
    config_pairs(j);
    jobs(j);
    if (value != NULL) {
        config_pairs(value);
        jobs(value);
        if (json_is_string(value) && name[0] != '\0') {
            /* 2020 form: {"action":"setconfig","name":N,"value":V}. */
            (void)ais_config_check(name, json_string_value(value));
        }
    }
    char *txt = ais_json_dumps(j);
    FUZZ_CHECK(txt != NULL);
    free(txt);
    json_decref(j);
    return 0;
}
