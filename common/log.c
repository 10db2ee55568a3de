/*
 * Design notes: a line is formatted on the caller's stack, then written with one write(2)
 * under g_mu, so concurrent lines stay whole and the size count is exact. Rotation happens in
 * the writer that passes log.max_size, under the same mutex: a few renames (bounded by
 * AIS_LOG_FILES_MAX, usually max_total / max_size), an open and dup2 onto stdout/stderr, so
 * the datapath waits at most that long, and only when a file fills. Sizes of the rotated files
 * are stat'ed at rotation, never tracked, so a file an operator removed or truncated is simply
 * not counted. Readers (what=log) open the current path on their own fd and never take the
 * mutex: a rotation under them leaves their fd on the renamed file, which is still whole.
 * The level, limits and rotation count are relaxed atomics read on every line.
 */
#include "common/log.h"

#include "common/assert.h"
#include "common/http.h"
#include "common/limits.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LOG_NAME "aisnode.log"

/* Read on every log call by every thread and changed by setconfig: relaxed atomics. */
static int g_level = AIS_LOG_LVL_INFO;
static int64_t g_max_size = 4 << 20;
static int64_t g_max_total = 64 << 20;
static uint64_t g_rotations;

/* Under g_mu: the tag, the file and its size. */
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static char g_tag[AIS_DAEMON_ID_BYTES_MAX + 8] = "-";
static char g_role[8] = "-";
static char g_path[AIS_PATH_BYTES_MAX]; /* "" = stderr */
static int g_fd = -1;
static int g_console = -1; /* the original stderr, when it is not the log file */
static int64_t g_size;

void
ais_log_init(enum ais_log_level level, const char *node_tag)
{
    ais_log_level_set(level);
    if (node_tag != NULL) {
        pthread_mutex_lock(&g_mu);
        snprintf(g_role, sizeof(g_role), "%s", node_tag);
        snprintf(g_tag, sizeof(g_tag), "%s", node_tag);
        pthread_mutex_unlock(&g_mu);
    }
}

void
ais_log_node_set(const char *node_id)
{
    pthread_mutex_lock(&g_mu);
    snprintf(g_tag, sizeof(g_tag), "%s[%s]", g_role, node_id);
    pthread_mutex_unlock(&g_mu);
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
ais_log_max_size_set(int64_t bytes)
{
    __atomic_store_n(&g_max_size, bytes, __ATOMIC_RELAXED);
}

void
ais_log_max_total_set(int64_t bytes)
{
    __atomic_store_n(&g_max_total, bytes, __ATOMIC_RELAXED);
}

uint64_t
ais_log_rotations(void)
{
    return __atomic_load_n(&g_rotations, __ATOMIC_RELAXED);
}

/* ---- the file ---- */

static void
write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            return; /* a full disk loses lines, never blocks or kills the node */
        }
        p += w;
        n -= (size_t)w;
    }
}

/* Opens g_path for appending and points stdout/stderr at it. Under g_mu. */
static int
file_reopen(void)
{
    struct stat st;
    int fd = open(g_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
        return -errno;
    }
    if (g_fd >= 0) {
        close(g_fd);
    }
    g_fd = fd;
    g_size = fstat(fd, &st) == 0 ? (int64_t)st.st_size : 0;
    (void)dup2(fd, STDOUT_FILENO);
    (void)dup2(fd, STDERR_FILENO);
    return 0;
}

static void
rotated_name(int i, char *out, size_t cap)
{
    if (i == 0) {
        snprintf(out, cap, "%s", g_path);
    } else {
        snprintf(out, cap, "%s.%d", g_path, i);
    }
}

/* Deletes rotated files from the first that would take the total (starting at the current
 * file's) past max_total, and any past AIS_LOG_FILES_MAX. */
static void
prune(int64_t total, int64_t max_total)
{
    char name[AIS_PATH_BYTES_MAX + 16];
    int over = 0;
    for (int i = 1; i <= AIS_LOG_FILES_MAX + 1; i++) {
        struct stat st;
        rotated_name(i, name, sizeof(name));
        if (stat(name, &st) != 0) {
            continue;
        }
        total += (int64_t)st.st_size;
        over = over || total > max_total || i > AIS_LOG_FILES_MAX;
        if (over) {
            (void)unlink(name);
        }
    }
}

/* aisnode.log -> .1 -> .2 ...; a new aisnode.log; then the total bound. Under g_mu. */
static void
rotate(void)
{
    char from[AIS_PATH_BYTES_MAX + 16], to[AIS_PATH_BYTES_MAX + 16];
    for (int i = AIS_LOG_FILES_MAX; i >= 1; i--) {
        rotated_name(i - 1, from, sizeof(from));
        rotated_name(i, to, sizeof(to));
        if (rename(from, to) != 0 && errno != ENOENT) {
            return; /* keep writing the current file; the next line tries again */
        }
    }
    if (file_reopen() == 0) {
        __atomic_add_fetch(&g_rotations, 1, __ATOMIC_RELAXED);
    }
    /* The new file counts as full: the bound holds until the next rotation too. */
    int64_t cur = __atomic_load_n(&g_max_size, __ATOMIC_RELAXED);
    prune(cur > g_size ? cur : g_size, __atomic_load_n(&g_max_total, __ATOMIC_RELAXED));
}

int
ais_log_file_open(const char *dir, int64_t max_size, int64_t max_total)
{
    struct stat a, b;
    int err = ais_mkdir_p(dir);
    if (err != 0) {
        return err;
    }
    ais_log_max_size_set(max_size);
    ais_log_max_total_set(max_total);
    pthread_mutex_lock(&g_mu);
    int n = snprintf(g_path, sizeof(g_path), "%s/%s", dir, LOG_NAME);
    int console = dup(STDERR_FILENO);
    err = n > 0 && (size_t)n < sizeof(g_path) ? file_reopen() : -ENAMETOOLONG;
    if (err != 0) {
        g_path[0] = '\0';
    }
    /* The start-up stderr keeps ERR lines only when it is somewhere else (a terminal). */
    if (err == 0 && console >= 0 && fstat(console, &a) == 0 && fstat(g_fd, &b) == 0 &&
        (a.st_dev != b.st_dev || a.st_ino != b.st_ino)) {
        g_console = console;
        console = -1;
    }
    if (console >= 0) {
        close(console);
    }
    pthread_mutex_unlock(&g_mu);
    return err;
}

void
ais_log_file_close(void)
{
    pthread_mutex_lock(&g_mu);
    if (g_console >= 0) {
        (void)dup2(g_console, STDERR_FILENO);
        close(g_console);
        g_console = -1;
    }
    if (g_fd >= 0) {
        close(g_fd);
        g_fd = -1;
    }
    g_path[0] = '\0';
    pthread_mutex_unlock(&g_mu);
}

void
ais_log_write(enum ais_log_level level, const char *file, int line, const char *fmt, ...)
{
    static const char lvl_ch[] = {'E', 'W', 'I', 'D'};
    char msg[AIS_LOG_LINE_BYTES_MAX], out[AIS_LOG_LINE_BYTES_MAX + 256];
    struct timespec ts;
    struct tm tm;
    va_list ap;
    const char *base = strrchr(file, '/');

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&g_mu);
    int n = snprintf(out, sizeof(out), "%c %02d:%02d:%02d.%06ld %s %s:%d %s\n", lvl_ch[level],
                     tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000, g_tag,
                     base ? base + 1 : file, line, msg);
    size_t len = n < 0 ? 0 : (size_t)n < sizeof(out) ? (size_t)n : sizeof(out) - 1;
    if (len > 0 && out[len - 1] != '\n') {
        out[len - 1] = '\n'; /* truncated: still one line */
    }
    write_all(g_fd >= 0 ? g_fd : STDERR_FILENO, out, len);
    if (g_console >= 0 && level == AIS_LOG_LVL_ERR) {
        write_all(g_console, out, len);
    }
    if (g_fd >= 0) {
        g_size += (int64_t)len;
        if (g_size > __atomic_load_n(&g_max_size, __ATOMIC_RELAXED)) {
            rotate();
        }
    }
    pthread_mutex_unlock(&g_mu);
}

_Noreturn void
ais_assert_fail(const char *expr, const char *file, int line)
{
    fprintf(stderr, "ASSERT failed: %s at %s:%d\n", expr, file, line);
    fflush(stderr);
    abort();
}

/* ---- reading it back (what=log) ---- */

/* Moves a tail's start past the first newline, so it begins with a whole line. */
static void
to_line_start(struct ais_log_span *s)
{
    char buf[4096];
    ssize_t n = pread(s->fd, buf, sizeof(buf), (off_t)s->off);
    const char *nl = n > 0 ? memchr(buf, '\n', (size_t)n) : NULL;
    if (nl != NULL) {
        uint64_t skip = (uint64_t)(nl - buf) + 1;
        s->off += skip;
        s->len -= skip < s->len ? skip : s->len;
    }
}

int
ais_log_span_open(int64_t offset, int all, struct ais_log_span *out)
{
    char path[AIS_PATH_BYTES_MAX];
    struct stat st;
    pthread_mutex_lock(&g_mu);
    snprintf(path, sizeof(path), "%s", g_path);
    pthread_mutex_unlock(&g_mu);
    if (path[0] == '\0') {
        return -ENOENT;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return -errno;
    }
    if (fstat(fd, &st) != 0) {
        int err = -errno;
        close(fd);
        return err;
    }
    struct ais_log_span s = {.fd = fd, .size = (uint64_t)st.st_size};
    if (offset >= 0 && (uint64_t)offset > s.size) {
        close(fd);
        return -ERANGE;
    }
    uint64_t want = all ? s.size : AIS_LOG_TAIL_BYTES;
    want = want < AIS_LOG_SERVE_BYTES_MAX ? want : AIS_LOG_SERVE_BYTES_MAX;
    if (offset >= 0) {
        s.off = (uint64_t)offset;
        s.len = s.size - s.off < AIS_LOG_SERVE_BYTES_MAX ? s.size - s.off : AIS_LOG_SERVE_BYTES_MAX;
    } else {
        s.off = s.size > want ? s.size - want : 0;
        s.len = s.size - s.off;
        if (s.off > 0) {
            to_line_start(&s);
        }
    }
    *out = s;
    return 0;
}

/* offset text: "" or absent = tail; else a non-negative decimal. 0 or -EINVAL. */
static int
offset_parse(const char *s, int64_t *out)
{
    char *end;
    if (s == NULL || s[0] == '\0') {
        *out = -1;
        return 0;
    }
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end != '\0' || errno != 0 || v < 0) {
        return -EINVAL;
    }
    *out = v;
    return 0;
}

static int
span_status(int err)
{
    return err == -ENOENT ? 404 : err == -ERANGE ? 416 : err == -EINVAL ? 400 : 500;
}

static const char *
span_why(int err)
{
    if (err == -ENOENT) {
        return "this node logs to stderr (no log_dir): no log file to serve";
    }
    if (err == -ERANGE) {
        return "offset past the end of the log (it likely rotated)";
    }
    return err == -EINVAL ? "invalid offset (want bytes >= 0)" : strerror(-err);
}

static void
span_headers(struct ais_req *r, const struct ais_log_span *s)
{
    char v[24];
    ais_resp_header(r, "Content-Type", "text/plain; charset=utf-8");
    snprintf(v, sizeof(v), "%" PRIu64, s->off);
    ais_resp_header(r, "Ais-Log-Offset", v);
    snprintf(v, sizeof(v), "%" PRIu64, s->size);
    ais_resp_header(r, "Ais-Log-Size", v);
}

void
ais_log_serve(struct ais_req *r)
{
    struct ais_log_span s;
    int64_t off = -1;
    int err = offset_parse(ais_req_query(r, "offset"), &off);
    int all = ais_parse_bool(ais_req_query(r, "all")) == 1;
    err = err ? err : ais_log_span_open(off, all, &s);
    if (err != 0) {
        ais_resp_err(r, span_status(err), "what=log: %s", span_why(err));
        return;
    }
    if (ais_resp_fd(r, 200, s.fd, s.off, s.len) == 0) {
        span_headers(r, &s);
    }
}

int
ais_log_is_query(const char *what)
{
    return what != NULL && strncmp(what, "log", 3) == 0 && (what[3] == '\0' || what[3] == '?');
}

void
ais_log_query_what(struct ais_req *r, char *out, size_t cap)
{
    const char *off = ais_req_query(r, "offset");
    const char *all = ais_req_query(r, "all");
    int64_t v = -1;
    int n = snprintf(out, cap, "log");
    if (offset_parse(off, &v) != 0) {
        n += snprintf(out + n, cap - (size_t)n, "?offset=bad"); /* the node says why */
    } else if (v >= 0) {
        n += snprintf(out + n, cap - (size_t)n, "?offset=%" PRId64, v);
    }
    if (all != NULL && ais_parse_bool(all) == 1 && (size_t)n < cap) {
        snprintf(out + n, cap - (size_t)n, "%call=true", strchr(out, '?') ? '&' : '?');
    }
}

/* The value of key in "k=v&k2=v2" (into out), or "" when absent. */
static void
arg_get(const char *args, const char *key, char *out, size_t cap)
{
    size_t kl = strlen(key);
    out[0] = '\0';
    for (const char *p = args; p != NULL && *p != '\0';) {
        if (strncmp(p, key, kl) == 0 && p[kl] == '=') {
            size_t vl = strcspn(p + kl + 1, "&");
            snprintf(out, cap, "%.*s", (int)(vl < cap ? vl : cap - 1), p + kl + 1);
            return;
        }
        p = strchr(p, '&');
        p = p ? p + 1 : NULL;
    }
}

/* Reads the span into a NUL-terminated string, bytes that are not UTF-8 turned into '?'. */
static char *
span_text(const struct ais_log_span *s)
{
    char *buf = malloc(s->len + 1);
    size_t got = 0;
    while (buf != NULL && got < s->len) {
        ssize_t n = pread(s->fd, buf + got, s->len - got, (off_t)(s->off + got));
        if (n <= 0) {
            break; /* a shorter file (truncated under us): what there is */
        }
        got += (size_t)n;
    }
    if (buf == NULL) {
        return NULL;
    }
    buf[got] = '\0';
    json_t *probe = json_stringn(buf, got);
    if (probe == NULL) {
        for (size_t i = 0; i < got; i++) {
            buf[i] = ((unsigned char)buf[i] >= 0x80 || buf[i] == '\0') ? '?' : buf[i];
        }
    }
    json_decref(probe);
    return buf;
}

json_t *
ais_log_query_json(const char *what)
{
    char off_s[32], all_s[8];
    struct ais_log_span s;
    int64_t off = -1;
    if (!ais_log_is_query(what)) {
        return NULL;
    }
    const char *args = what[3] == '?' ? what + 4 : "";
    arg_get(args, "offset", off_s, sizeof(off_s));
    arg_get(args, "all", all_s, sizeof(all_s));
    int err = offset_parse(off_s, &off);
    err = err ? err : ais_log_span_open(off, ais_parse_bool(all_s[0] ? all_s : "0") == 1, &s);
    if (err != 0) {
        return json_pack("{s:s, s:i}", "error", span_why(err), "status", span_status(err));
    }
    char *text = span_text(&s);
    json_t *j = text ? json_pack("{s:s, s:I, s:I}", "log", text, "offset", (json_int_t)s.off,
                                 "size", (json_int_t)s.size)
                     : NULL;
    free(text);
    close(s.fd);
    return j;
}

void
ais_log_resp_from_json(struct ais_req *r, const char *json)
{
    json_t *j = json ? json_loads(json, 0, NULL) : NULL;
    const char *text = json_string_value(json_object_get(j, "log"));
    if (text == NULL) {
        json_t *st = json_object_get(j, "status");
        const char *why = json_string_value(json_object_get(j, "error"));
        ais_resp_err(r, json_is_integer(st) ? (int)json_integer_value(st) : 502, "what=log: %s",
                     why ? why : "malformed reply from the node");
        json_decref(j);
        return;
    }
    struct ais_log_span s = {
        .off = (uint64_t)json_integer_value(json_object_get(j, "offset")),
        .size = (uint64_t)json_integer_value(json_object_get(j, "size")),
    };
    if (ais_resp_buf(r, 200, NULL, text, strlen(text)) == 0) {
        span_headers(r, &s);
    }
    json_decref(j);
}
