/*
 * Design notes: the pattern is filled by xorshift64* from the seed, so runs with the same
 * --seed produce the same objects (a later --verify run can check an earlier run's PUTs).
 * Copies are at most two memcpy calls per pattern lap, so a PUT costs one copy into curl's
 * upload buffer and nothing else.
 */
#include "bench/pattern.h"

#include "bench/bench_limits.h"
#include "common/assert.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static_assert((AL_PATTERN_BYTES & (AL_PATTERN_BYTES - 1)) == 0, "pattern is a power of two");
static_assert(AL_PATTERN_BYTES % 8 == 0, "pattern is filled 8 bytes at a time");

struct al_pattern {
    unsigned char bytes[AL_PATTERN_BYTES];
};

int
al_pattern_new(uint64_t seed, struct al_pattern **out)
{
    AIS_ASSERT(out != NULL);
    struct al_pattern *p = malloc(sizeof(*p));
    if (p == NULL) {
        return -ENOMEM;
    }
    uint64_t x = seed ? seed : 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < AL_PATTERN_BYTES; i += 8) {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        uint64_t v = x * 0x2545f4914f6cdd1dull;
        memcpy(p->bytes + i, &v, 8);
    }
    *out = p;
    return 0;
}

void
al_pattern_free(struct al_pattern *p)
{
    free(p);
}

uint32_t
al_pattern_name_seed(const char *name)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (const unsigned char *s = (const unsigned char *)name; *s; s++) {
        h ^= *s;
        h *= 0x100000001b3ull;
    }
    return (uint32_t)(h & (AL_PATTERN_BYTES - 1));
}

void
al_pattern_copy(const struct al_pattern *p, uint32_t ns, uint64_t off, void *dst, size_t n)
{
    unsigned char *d = dst;
    size_t pos = (size_t)((ns + off) & (AL_PATTERN_BYTES - 1));
    while (n > 0) {
        size_t chunk = AL_PATTERN_BYTES - pos;
        if (chunk > n) {
            chunk = n;
        }
        memcpy(d, p->bytes + pos, chunk);
        d += chunk;
        n -= chunk;
        pos = 0;
    }
}

int
al_pattern_check(const struct al_pattern *p, uint32_t ns, uint64_t off, const void *src, size_t n)
{
    const unsigned char *s = src;
    size_t pos = (size_t)((ns + off) & (AL_PATTERN_BYTES - 1));
    while (n > 0) {
        size_t chunk = AL_PATTERN_BYTES - pos;
        if (chunk > n) {
            chunk = n;
        }
        if (memcmp(s, p->bytes + pos, chunk) != 0) {
            return 0;
        }
        s += chunk;
        n -= chunk;
        pos = 0;
    }
    return 1;
}
