/*
 * One-line key=value logging to stderr. Level by fault: client error DBG,
 * environment WARN, our bug ERR.
 */
#ifndef AIS_COMMON_LOG_H
#define AIS_COMMON_LOG_H

enum ais_log_level { AIS_LOG_LVL_ERR, AIS_LOG_LVL_WARN, AIS_LOG_LVL_INFO, AIS_LOG_LVL_DBG };

/* Sets the global level and the node tag printed on each line. Call once at startup. */
void ais_log_init(enum ais_log_level level, const char *node_tag);
/* Changes the level at runtime (setconfig log.level); thread-safe. */
void ais_log_level_set(enum ais_log_level level);

/* Parses "error|warning|info|debug" (or 0..3). Returns 0 or -EINVAL. */
int ais_log_level_parse(const char *s, enum ais_log_level *out);

int ais_log_enabled(enum ais_log_level level);

__attribute__((format(printf, 4, 5))) void ais_log_write(enum ais_log_level level, const char *file,
                                                         int line, const char *fmt, ...);

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
