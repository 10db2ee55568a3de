#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int64_t
ais_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t
ais_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

uint64_t
ais_rand_u64(void)
{
    uint64_t v;
    if (getrandom(&v, sizeof(v), 0) != (ssize_t)sizeof(v)) {
        v = (uint64_t)ais_now_ns() * 0x9e3779b97f4a7c15ull ^ (uint64_t)getpid();
    }
    return v;
}

void
ais_rand_id(char *out, size_t n)
{
    static const char abc[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    for (size_t i = 0; i < n; i++) {
        out[i] = abc[ais_rand_u64() % (sizeof(abc) - 1)];
    }
    out[n] = '\0';
}

void
ais_hex_u64(uint64_t v, char out[17])
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 15; i >= 0; i--) {
        out[i] = hex[v & 0xf];
        v >>= 4;
    }
    out[16] = '\0';
}

static int
fsync_dir_of(const char *path)
{
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s", path);
    int fd = open(dirname(tmp), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        return -errno;
    }
    int err = fsync(fd) < 0 ? -errno : 0;
    close(fd);
    return err;
}

int
ais_file_write_atomic(const char *path, const void *data, size_t len)
{
    char tmp[4096];
    int n = snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
    if (n < 0 || (size_t)n >= sizeof(tmp)) {
        return -ENAMETOOLONG;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        return -errno;
    }
    int err = 0;
    const char *p = data;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR) {
                continue;
            }
            err = -errno;
            break;
        }
        p += w;
        len -= (size_t)w;
    }
    if (err == 0 && fsync(fd) < 0) {
        err = -errno;
    }
    close(fd);
    if (err == 0 && rename(tmp, path) < 0) {
        err = -errno;
    }
    if (err != 0) {
        unlink(tmp);
        return err;
    }
    return fsync_dir_of(path);
}

int
ais_file_read_all(const char *path, size_t max, char **out, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return -errno;
    }
    struct stat st;
    int err = 0;
    char *buf = NULL;
    if (fstat(fd, &st) < 0) {
        err = -errno;
        goto out;
    }
    if ((size_t)st.st_size > max) {
        err = -EFBIG;
        goto out;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (buf == NULL) {
        err = -ENOMEM;
        goto out;
    }
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            err = r < 0 ? -errno : -EIO;
            goto out;
        }
        got += (size_t)r;
    }
    buf[got] = '\0';
    *out = buf;
    *len = got;
    buf = NULL;
out:
    free(buf);
    close(fd);
    return err;
}

int
ais_mkdir_p(const char *path)
{
    char tmp[4096];
    size_t len = strlen(path);
    if (len == 0 || len >= sizeof(tmp)) {
        return -ENAMETOOLONG;
    }
    memcpy(tmp, path, len + 1);
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, 0755) < 0 && errno != EEXIST) {
                return -errno;
            }
            *p = '/';
        }
    }
    if (mkdir(tmp, 0755) < 0 && errno != EEXIST) {
        return -errno;
    }
    return 0;
}

void
ais_buf_init(struct ais_buf *b, size_t cap_max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->cap_max = cap_max;
}

void
ais_buf_fini(struct ais_buf *b)
{
    if (b == NULL) {
        return;
    }
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

int
ais_buf_append(struct ais_buf *b, const void *p, size_t n)
{
    if (b->len + n + 1 > b->cap_max) {
        return -EMSGSIZE;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1) {
            cap *= 2;
        }
        if (cap > b->cap_max) {
            cap = b->cap_max;
        }
        char *d = realloc(b->data, cap);
        if (d == NULL) {
            return -ENOMEM;
        }
        b->data = d;
        b->cap = cap;
    }
    if (n > 0) {
        memcpy(b->data + b->len, p, n);
    }
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int
ais_buf_printf(struct ais_buf *b, const char *fmt, ...)
{
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0) {
        return -EINVAL;
    }
    if ((size_t)n < sizeof(small)) {
        return ais_buf_append(b, small, (size_t)n);
    }
    char *big = malloc((size_t)n + 1);
    if (big == NULL) {
        return -ENOMEM;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    int err = ais_buf_append(b, big, (size_t)n);
    free(big);
    return err;
}

int
ais_duration_parse_ms(const char *s, int64_t *out_ms)
{
    if (s == NULL || *s == '\0') {
        return -EINVAL;
    }
    int64_t total = 0;
    const char *p = s;
    while (*p) {
        char *end;
        errno = 0;
        double v = strtod(p, &end);
        if (end == p || errno != 0 || !(v >= 0)) { /* !(v >= 0) also refuses "nan" */
            return -EINVAL;
        }
        double mult;
        if (*end == '\0') {
            mult = (p == s) ? 1000 : -1;
        } else if (strncmp(end, "ms", 2) == 0) {
            mult = 1;
            end += 2;
        } else if (*end == 's') {
            mult = 1000;
            end++;
        } else if (*end == 'm') {
            mult = 60000;
            end++;
        } else if (*end == 'h') {
            mult = 3600000;
            end++;
        } else {
            return -EINVAL;
        }
        /* The sum is bounded too: "1e15s1e15s..." must not overflow total. */
        if (mult < 0 || v * mult > 1e15 - (double)total) {
            return -EINVAL;
        }
        total += (int64_t)(v * mult);
        p = end;
    }
    *out_ms = total;
    return 0;
}

int
ais_parse_bool(const char *s)
{
    static const char *const yes[] = {"true", "1", "t", "yes", "y", "on"};
    static const char *const no[] = {"false", "0", "f", "no", "n", "off", ""};
    if (s == NULL) {
        return -EINVAL;
    }
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            return 1;
        }
    }
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
        if (strcasecmp(s, no[i]) == 0) {
            return 0;
        }
    }
    return -EINVAL;
}

void
ais_thread_background(void)
{
    pid_t tid = (pid_t)syscall(SYS_gettid);
    (void)setpriority(PRIO_PROCESS, (id_t)tid, AIS_BG_NICE);
    /* ioprio_set(IOPRIO_WHO_PROCESS = 1, tid, class BE (2) << 13 | level 7): no glibc wrapper. */
    (void)syscall(SYS_ioprio_set, 1, (int)tid, (2 << 13) | 7);
}
