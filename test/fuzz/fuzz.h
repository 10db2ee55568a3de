/*
 * Shared by the fuzz harnesses: the libFuzzer entry point (one per harness) and small helpers.
 * Each harness is built twice: as a libFuzzer binary (clang, AIS_FUZZ=ON) and with driver.c,
 * which feeds it the files of its seed corpus (every tree, ctest label "unit").
 */
#ifndef AIS_TEST_FUZZ_FUZZ_H
#define AIS_TEST_FUZZ_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken invariant is a finding: say which, then abort so the fuzzer keeps the input. */
#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz: check failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__);        \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* NUL-terminated malloc'd copy of n input bytes (embedded NULs end the C string early). */
static inline char *
fuzz_strndup(const uint8_t *p, size_t n)
{
    char *s = malloc(n + 1);
    if (s == NULL) {
        abort();
    }
    if (n > 0) {
        memcpy(s, p, n);
    }
    s[n] = '\0';
    return s;
}

/*
 * Splits the input at the next byte equal to sep: *field gets a malloc'd NUL-terminated copy of
 * the bytes before it (or of all that is left), and the cursor (p, n) moves past it.
 */
static inline char *
fuzz_field(const uint8_t **p, size_t *n, uint8_t sep)
{
    const uint8_t *e = *n ? memchr(*p, sep, *n) : NULL;
    size_t len = e ? (size_t)(e - *p) : *n;
    char *s = fuzz_strndup(*p, len);
    *p += e ? len + 1 : len;
    *n -= e ? len + 1 : len;
    return s;
}

#endif
