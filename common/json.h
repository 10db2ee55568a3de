/*
 * JSON helpers over jansson: unsigned 64-bit numbers (jansson's integers are signed),
 * compact dumping, and case-insensitive key lookup (Go's decoder matches keys that way).
 */
#ifndef AIS_COMMON_JSON_H
#define AIS_COMMON_JSON_H

#include <jansson.h>
#include <stdint.h>

/* A value that ais_json_dumps writes as a bare unsigned number. New reference. */
json_t *ais_json_u64(uint64_t v);
/* Compact serialisation (malloc'd, caller frees), with ais_json_u64 values as numbers. */
char *ais_json_dumps(const json_t *j);
/* Object member by key, exact match first, then case-insensitive. Borrowed; NULL if absent. */
json_t *ais_json_get_ci(const json_t *obj, const char *key);
/* Reads a JSON file of at most max bytes. 0, -ENOENT/-EFBIG/..., or AIS_EBADJSON. */
__attribute__((warn_unused_result)) int ais_json_load_file(const char *path, size_t max,
                                                           json_t **out);
/* Writes j (ais_json_dumps form) to path atomically (temp file, fsync, rename). */
__attribute__((warn_unused_result)) int ais_json_save_file(const char *path, const json_t *j);
/* String member (case-insensitive) or dflt. */
const char *ais_json_str(const json_t *obj, const char *key, const char *dflt);

#endif
