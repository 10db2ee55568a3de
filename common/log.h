/*
 * One-line key=value logging. Level by fault: client error DBG, environment WARN, our bug ERR.
 * A line: `I 12:03:13.133496 T[t1x2] target.c:315 req=... msg=...` (level, UTC time, role and
 * node id, source, message). By default lines go to stderr; ais_log_file_open makes the node
 * write <dir>/aisnode.log itself and rotate it by size (aisnode.log.1, .2, ...; the total
 * bounded, the oldest deleted), and what=log serves it (ais_log_serve).
 */
#ifndef AIS_COMMON_LOG_H
#define AIS_COMMON_LOG_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct ais_req;

enum ais_log_level { AIS_LOG_LVL_ERR, AIS_LOG_LVL_WARN, AIS_LOG_LVL_INFO, AIS_LOG_LVL_DBG };

/* Sets the global level and the role tag ("T", "G") printed on each line. Call once at
 * startup, before other threads run. */
void ais_log_init(enum ais_log_level level, const char *node_tag);
/* Adds the node id to the tag ("T" becomes "T[t1x2]") once the id is known. Thread-safe. */
void ais_log_node_set(const char *node_id);
/* Changes the level at runtime (setconfig log.level); thread-safe. */
void ais_log_level_set(enum ais_log_level level);

/* Parses "error|warning|info|debug" (or 0..3). Returns 0 or -EINVAL. */
int ais_log_level_parse(const char *s, enum ais_log_level *out);

int ais_log_enabled(enum ais_log_level level);

__attribute__((format(printf, 4, 5))) void ais_log_write(enum ais_log_level level, const char *file,
                                                         int line, const char *fmt, ...);

/*
 * From now on lines go to <dir>/aisnode.log (created, or appended to), and stdout and stderr
 * point at the current file too (sanitizer reports, assertions), after every rotation. The
 * stderr the process started with keeps getting ERR lines when it is another file (a
 * terminal), as glog does. Once the file passes max_size bytes it becomes aisnode.log.1 (the
 * older ones shift up) and a new one is opened; rotated files are deleted, oldest first, while
 * the current one and those kept would exceed max_total bytes (and past AIS_LOG_FILES_MAX).
 * Call once at startup. 0, or a negative errno (the dir cannot be created or the file opened).
 */
__attribute__((warn_unused_result)) int ais_log_file_open(const char *dir, int64_t max_size,
                                                          int64_t max_total);
/* Runtime changes of log.max_size / log.max_total (setconfig); take effect at the next line. */
void ais_log_max_size_set(int64_t bytes);
void ais_log_max_total_set(int64_t bytes);
/* Back to stderr only; closes the file (tests; the daemon keeps it until exit). Accepts no
 * file open. */
void ais_log_file_close(void);
/* Rotations done since start (tests, metrics). */
uint64_t ais_log_rotations(void);

/* A part of the current log file: fd (owned by the caller) from off for len bytes; size is
 * the file's size when it was opened. */
struct ais_log_span {
    int fd;
    uint64_t off, len, size;
};

/*
 * Opens the current log file for reading: from offset (bytes, >= 0) to its end, or with
 * offset < 0 the last AIS_LOG_TAIL_BYTES from a line start (all: the whole file); at most
 * AIS_LOG_SERVE_BYTES_MAX either way (the first ones past offset; the last ones of a tail).
 * 0; -ENOENT (the log goes to stderr); -ERANGE (offset past the end: the file rotated); or
 * an errno of open/fstat.
 */
int ais_log_span_open(int64_t offset, int all, struct ais_log_span *out);

/*
 * GET /v1/daemon?what=log[&offset=N][&all=true]: the span as text/plain with headers
 * Ais-Log-Offset (where it starts) and Ais-Log-Size (the file's size); 404 when the log goes
 * to stderr, 416 for an offset past the end, 400 for a bad offset.
 */
void ais_log_serve(struct ais_req *r);
/*
 * The same over RPC (what = "log", "log?offset=N", "log?all=true"): {"log": text, "offset":
 * N, "size": N} (bytes that are not UTF-8 become '?'), or {"error": msg, "status": code}.
 * New reference; NULL when what is not a log query or on ENOMEM.
 */
json_t *ais_log_query_json(const char *what);
/* 1 if what (an RPC query) asks for the log ("log" or "log?..."). */
int ais_log_is_query(const char *what);
/* Builds the RPC what ("log?offset=N&all=true") from an HTTP request's query into out. */
void ais_log_query_what(struct ais_req *r, char *out, size_t cap);
/* Answers r from an ais_log_query_json reply (JSON text from a node): text/plain as
 * ais_log_serve, or the node's error. */
void ais_log_resp_from_json(struct ais_req *r, const char *json);

#define AIS_LOG_(lvl, ...)                                                                         \
    do {                                                                                           \
        if (ais_log_enabled(lvl)) {                                                                \
            ais_log_write(lvl, __FILE__, __LINE__, __VA_ARGS__);                                   \
        }                                                                                          \
    } while (0)
#define AIS_LOG_ERR(...) AIS_LOG_(AIS_LOG_LVL_ERR, __VA_ARGS__)
#define AIS_LOG_WARN(...) AIS_LOG_(AIS_LOG_LVL_WARN, __VA_ARGS__)
#define AIS_LOG_INFO(...) AIS_LOG_(AIS_LOG_LVL_INFO, __VA_ARGS__)
#define AIS_LOG_DBG(...) AIS_LOG_(AIS_LOG_LVL_DBG, __VA_ARGS__)

#endif
