/*
 * Object payloads without per-op allocation: one read-only random pattern of AL_PATTERN_BYTES,
 * built once; byte i of the object named N is pattern[(seed(N) + i) mod AL_PATTERN_BYTES].
 * Content depends only on the name (and --seed), so a GET can verify what any earlier PUT of
 * that name wrote, whatever its size, without remembering anything per object.
 */
#ifndef AIS_BENCH_PATTERN_H
#define AIS_BENCH_PATTERN_H

#include <stddef.h>
#include <stdint.h>

struct al_pattern;

/* Builds the pattern from seed into *out (caller frees). 0 or -ENOMEM. */
__attribute__((warn_unused_result)) int al_pattern_new(uint64_t seed, struct al_pattern **out);
/* Frees; accepts NULL. */
void al_pattern_free(struct al_pattern *p);

/* Start offset of a name in the pattern (FNV-1a of the name, masked). Pure function. */
uint32_t al_pattern_name_seed(const char *name);

/*
 * Copies n bytes of the object with name seed ns, starting at object offset off, into dst.
 * Thread-safe (the pattern is read-only).
 */
void al_pattern_copy(const struct al_pattern *p, uint32_t ns, uint64_t off, void *dst, size_t n);

/* Returns 1 when src[0..n) equals the object bytes at offset off, else 0. Thread-safe. */
int al_pattern_check(const struct al_pattern *p, uint32_t ns, uint64_t off, const void *src,
                     size_t n);

#endif
