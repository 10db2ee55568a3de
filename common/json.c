/*
 * Design notes: jansson stores integers as json_int_t (int64), but AIS clients expect uint64
 * fields such as Snode.id_digest as plain JSON numbers. We carry them as strings with a marker
 * prefix (a control byte no valid value contains; names with control bytes are refused) and
 * strip the quotes while dumping.
 */
#include "common/json.h"

#include "common/err.h"
#include "common/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define U64_MARK "\x01u64:"
#define U64_MARK_ESC "\"\\u0001u64:"

json_t *
ais_json_u64(uint64_t v)
{
    char buf[32];
    snprintf(buf, sizeof(buf), U64_MARK "%llu", (unsigned long long)v);
    return json_string(buf);
}

char *
ais_json_dumps(const json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT);
    if (s == NULL) {
        return NULL;
    }
    char *w = s;
    const char *r = s;
    size_t mlen = strlen(U64_MARK_ESC);
    while (*r) {
        if (strncmp(r, U64_MARK_ESC, mlen) == 0) {
            r += mlen;
            while (*r && *r != '"') {
                *w++ = *r++;
            }
            if (*r == '"') {
                r++;
            }
            continue;
        }
        *w++ = *r++;
    }
    *w = '\0';
    return s;
}

json_t *
ais_json_get_ci(const json_t *obj, const char *key)
{
    if (!json_is_object(obj)) {
        return NULL;
    }
    json_t *v = json_object_get(obj, key);
    if (v != NULL) {
        return v;
    }
    const char *k;
    json_t *val;
    json_object_foreach((json_t *)obj, k, val)
    {
        if (strcasecmp(k, key) == 0) {
            return val;
        }
    }
    return NULL;
}

int
ais_json_load_file(const char *path, size_t max, json_t **out)
{
    char *text = NULL;
    size_t len = 0;
    int err = ais_file_read_all(path, max, &text, &len);
    if (err != 0) {
        return err;
    }
    json_t *j = json_loadb(text, len, 0, NULL);
    free(text);
    if (j == NULL) {
        return AIS_EBADJSON;
    }
    *out = j;
    return 0;
}

int
ais_json_save_file(const char *path, const json_t *j)
{
    char *s = j ? ais_json_dumps(j) : NULL;
    int err = s ? ais_file_write_atomic(path, s, strlen(s)) : -ENOMEM;
    free(s);
    return err;
}

const char *
ais_json_str(const json_t *obj, const char *key, const char *dflt)
{
    const char *s = json_string_value(ais_json_get_ci(obj, key));
    return s ? s : dflt;
}
