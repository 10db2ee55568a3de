/*
 * Goal: a list-range template from a client ("shard-{000..999}.tar", the template of
 * delete/evict/prefetch/copy-listrange ActMsgs) expands into a bounded list of names with no
 * crash, overflow or runaway loop, whatever the numbers and nesting.
 * Method: the input (as a C string) goes to gw_tmpl_expand with a cap of 256 names. On success
 * every item is a string; -E2BIG means the cap was reached, never more.
 */
#include "test/fuzz/fuzz.h"

#include "gateway/gw_int.h"

#include <errno.h>
#include <jansson.h>

#define TMPL_NAMES_CAP 256
#define TMPL_INPUT_BYTES_MAX 2048

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > TMPL_INPUT_BYTES_MAX) {
        return 0;
    }
    char *t = fuzz_strndup(data, size);
    json_t *out = json_array();
    FUZZ_CHECK(out != NULL);
    int rc = gw_tmpl_expand(t, out, TMPL_NAMES_CAP);
    FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -E2BIG || rc == -ENOMEM);
    FUZZ_CHECK(json_array_size(out) <= TMPL_NAMES_CAP);
    if (rc == 0) {
        size_t i;
        json_t *v;
        FUZZ_CHECK(json_array_size(out) >= 1);
        json_array_foreach(out, i, v) {
            FUZZ_CHECK(json_is_string(v));
        }
    }
    json_decref(out);
    free(t);
    return 0;
}
