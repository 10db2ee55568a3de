/*
 * AIS_ASSERT is on in every build: programmer errors only, never bad input.
 */
#ifndef AIS_COMMON_ASSERT_H
#define AIS_COMMON_ASSERT_H

#include <assert.h>

_Noreturn void ais_assert_fail(const char *expr, const char *file, int line);

#define AIS_ASSERT(expr)                                                                           \
    do {                                                                                           \
        if (!(expr)) {                                                                             \
            ais_assert_fail(#expr, __FILE__, __LINE__);                                            \
        }                                                                                          \
    } while (0)

#ifdef NDEBUG
#define AIS_DASSERT(expr) ((void)0)
#else
#define AIS_DASSERT(expr) AIS_ASSERT(expr)
#endif

#endif
