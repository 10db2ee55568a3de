/*
 * Goal: a config document (the node's config file, and what setconfig and the CLI exchange) is
 * loaded with every key checked against the knob table and no crash, leak or overflow of the
 * fixed-size fields; what a node prints about its config it accepts back.
 * Method: the input is parsed as JSON and loaded into a heap ais_config (defaults first, as at
 * startup), then validated. When it loads, every knob's value as text
 * (ais_config_get_text, what `ais config` shows) must pass ais_config_check unless the knob is
 * read-only, and the whole config as JSON must load again.
 */
#include "test/fuzz/fuzz.h"

#include "common/config.h"
#include "common/err.h"
#include "common/json.h"
#include "common/limits.h"

#include <errno.h>
#include <jansson.h>

static void
round_trip(const struct ais_config *cfg)
{
    char text[8192], why[512];
    for (size_t i = 0; ais_knob_at(i) != NULL; i++) {
        const struct ais_knob *k = ais_knob_at(i);
        if (ais_config_get_text(cfg, k->name, text, sizeof(text)) != 0) {
            continue;
        }
        int rc = ais_config_check(k->name, text);
        if (rc != 0 && rc != -EPERM) {
            fprintf(stderr, "fuzz: knob %s: own text \"%s\" refused: %d\n", k->name, text, rc);
        }
        FUZZ_CHECK(rc == 0 || rc == -EPERM);
    }
    json_t *j = ais_config_to_json(cfg);
    FUZZ_CHECK(j != NULL);
    struct ais_config *again = calloc(1, sizeof(*again));
    FUZZ_CHECK(again != NULL);
    int rc = ais_config_load_json(again, j, why, sizeof(why));
    if (rc != 0) {
        fprintf(stderr, "fuzz: own config JSON refused: %s\n", why);
    }
    FUZZ_CHECK(rc == 0);
    free(again);
    json_decref(j);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t jerr;
    char why[512];
    if (size > AIS_CTRL_BODY_BYTES_MAX) {
        return 0;
    }
    json_t *j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
    if (j == NULL) {
        return 0;
    }
    struct ais_config *cfg = calloc(1, sizeof(*cfg));
    FUZZ_CHECK(cfg != NULL);
    why[0] = '\0';
    int rc = ais_config_load_json(cfg, j, why, sizeof(why));
    FUZZ_CHECK(rc == 0 || (rc == AIS_ECONFIG && why[0] != '\0'));
    if (rc == 0) {
        why[0] = '\0';
        int vrc = ais_config_validate(cfg, why, sizeof(why));
        FUZZ_CHECK(vrc == 0 || (vrc == AIS_ECONFIG && why[0] != '\0'));
        round_trip(cfg);
    }
    free(cfg);
    json_decref(j);
    return 0;
}
