/*
 * Small shared helpers: clocks, ids, hex, atomic file writes, growable buffers.
 */
#ifndef AIS_COMMON_UTIL_H
#define AIS_COMMON_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Wall clock in Unix nanoseconds. */
int64_t ais_now_ns(void);
/* Monotonic clock in nanoseconds (for deadlines and latencies). */
int64_t ais_mono_ns(void);

/* Fills out[0..n-1] with random [a-zA-Z0-9] and NUL-terminates (out needs n+1 bytes). */
void ais_rand_id(char *out, size_t n);
/* Cryptographically irrelevant 64-bit random value (getrandom, falls back to time). */
uint64_t ais_rand_u64(void);

/* Lowercase hex of a big-endian u64, 16 chars + NUL. */
void ais_hex_u64(uint64_t v, char out[17]);

/*
 * Writes data to path atomically: temp file in the same dir, fsync, rename, fsync dir.
 * Returns 0 or negative errno.
 */
__attribute__((warn_unused_result)) int ais_file_write_atomic(const char *path, const void *data,
                                                              size_t len);

/*
 * Reads a whole file of at most max bytes into a malloc'd NUL-terminated buffer (*out owned by
 * the caller). Returns 0, -ENOENT, -EFBIG or another negative errno.
 */
__attribute__((warn_unused_result)) int ais_file_read_all(const char *path, size_t max, char **out,
                                                          size_t *len);

/* mkdir -p with mode 0755. Returns 0 or negative errno. */
__attribute__((warn_unused_result)) int ais_mkdir_p(const char *path);

/* Growable byte buffer, capped at `cap_max` bytes. */
struct ais_buf {
    char *data;
    size_t len;
    size_t cap;
    size_t cap_max;
};

void ais_buf_init(struct ais_buf *b, size_t cap_max);
void ais_buf_fini(struct ais_buf *b);
/* Appends; returns 0, -EMSGSIZE past cap_max, -ENOMEM. Keeps data NUL-terminated. */
__attribute__((warn_unused_result)) int ais_buf_append(struct ais_buf *b, const void *p, size_t n);
__attribute__((format(printf, 2, 3))) int ais_buf_printf(struct ais_buf *b, const char *fmt, ...);

/* Parses a Go-style duration ("10s", "2m", "500ms", "1h", plain integer = seconds) into ms. */
int ais_duration_parse_ms(const char *s, int64_t *out_ms);

/* Parses true/false/1/0/t/f/yes/no/True/False (case-insensitive). Returns 1, 0 or -EINVAL. */
int ais_parse_bool(const char *s);

/* Nice value of background threads (jobs, rebalance senders and receivers): foreground
 * requests win the CPU whenever they want it, jobs take what is left. */
#define AIS_BG_NICE 10
/*
 * Marks the calling thread as background: nice AIS_BG_NICE and the lowest best-effort I/O
 * priority (honoured by the bfq/cfq schedulers). Best effort: failures are ignored (raising a
 * nice value needs no privilege, so it only fails where threads cannot be told apart).
 */
void ais_thread_background(void);

#endif
