#include "common/log.h"

#include "common/assert.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Read on every log call by every thread and changed by setconfig: relaxed atomics. */
static int g_level = AIS_LOG_LVL_INFO;
static char g_tag[48] = "-";

void
ais_log_init(enum ais_log_level level, const char *node_tag)
{
    ais_log_level_set(level);
    if (node_tag != NULL) {
        snprintf(g_tag, sizeof(g_tag), "%s", node_tag);
    }
}

void
ais_log_level_set(enum ais_log_level level)
{
    __atomic_store_n(&g_level, (int)level, __ATOMIC_RELAXED);
}

int
ais_log_level_parse(const char *s, enum ais_log_level *out)
{
    static const char *const names[] = {"error", "warning", "info", "debug"};
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(s, names[i]) == 0 || (s[0] == '0' + i && s[1] == '\0')) {
            *out = (enum ais_log_level)i;
            return 0;
        }
    }
    if (strcasecmp(s, "warn") == 0) {
        *out = AIS_LOG_LVL_WARN;
        return 0;
    }
    return -EINVAL;
}

int
ais_log_enabled(enum ais_log_level level)
{
    return (int)level <= __atomic_load_n(&g_level, __ATOMIC_RELAXED);
}

void
ais_log_write(enum ais_log_level level, const char *file, int line, const char *fmt, ...)
{
    static const char lvl_ch[] = {'E', 'W', 'I', 'D'};
    char msg[1024];
    struct timespec ts;
    struct tm tm;
    va_list ap;
    const char *base = strrchr(file, '/');

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    /* One fprintf per line keeps concurrent lines whole (stdio locks the stream). */
    fprintf(stderr, "%c %02d:%02d:%02d.%06ld %s %s:%d %s\n", lvl_ch[level], tm.tm_hour, tm.tm_min,
            tm.tm_sec, ts.tv_nsec / 1000, g_tag, base ? base + 1 : file, line, msg);
}

_Noreturn void
ais_assert_fail(const char *expr, const char *file, int line)
{
    fprintf(stderr, "ASSERT failed: %s at %s:%d\n", expr, file, line);
    fflush(stderr);
    abort();
}
