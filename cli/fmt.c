/*
 * Output people like to read: human sizes, times, durations, aligned tables, flattened JSON.
 *
 * Design notes: everything here is pure (no I/O besides the FILE* given to the table printer)
 * so the unit tests pin the exact text. Sizes use IEC units (1024) with two decimals because
 * that is what AIS users see elsewhere; parsing accepts both "MB" and "MiB" as 1024-based,
 * like AIS. Table widths count UTF-8 code points so object names with non-ASCII characters
 * stay aligned; the last column is never padded so lines carry no trailing blanks.
 */
#include "cli/cli_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static const char *const size_units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};

void
cli_fmt_size(uint64_t bytes, char *out, size_t n)
{
    if (bytes < 1024) {
        snprintf(out, n, "%lluB", (unsigned long long)bytes);
        return;
    }
    size_t u = 0;
    double v = (double)bytes;
    while (v >= 1024.0 && u + 1 < sizeof(size_units) / sizeof(size_units[0])) {
        v /= 1024.0;
        u++;
    }
    snprintf(out, n, "%.2f%s", v, size_units[u]);
}

static int
size_unit_shift(const char *u, unsigned *shift)
{
    static const struct {
        const char *name;
        unsigned shift;
    } units[] = {
        {"", 0},     {"b", 0},  {"k", 10},  {"kb", 10},  {"kib", 10}, {"m", 20},  {"mb", 20},
        {"mib", 20}, {"g", 30}, {"gb", 30}, {"gib", 30}, {"t", 40},   {"tb", 40}, {"tib", 40},
    };
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcasecmp(u, units[i].name) == 0) {
            *shift = units[i].shift;
            return 0;
        }
    }
    return CLI_EUSAGE;
}

int
cli_parse_size(const char *s, uint64_t *out)
{
    if (s == NULL || s[0] < '0' || s[0] > '9') {
        return CLI_EUSAGE;
    }
    errno = 0;
    char *end = NULL;
    unsigned long long whole = strtoull(s, &end, 10);
    if (errno != 0) {
        return CLI_EUSAGE;
    }
    /* Up to 9 fractional digits ("1.5MiB"); the fraction is scaled by the unit below. */
    uint64_t frac = 0;
    uint64_t frac_div = 1;
    if (*end == '.') {
        for (end++; *end >= '0' && *end <= '9'; end++) {
            if (frac_div < 1000000000ull) {
                frac = frac * 10 + (uint64_t)(*end - '0');
                frac_div *= 10;
            }
        }
    }
    unsigned shift = 0;
    if (size_unit_shift(end, &shift) < 0) {
        return CLI_EUSAGE;
    }
    if (shift > 0 && whole > (UINT64_MAX >> shift)) {
        return CLI_EUSAGE;
    }
    uint64_t v = (uint64_t)whole << shift;
    uint64_t add = (uint64_t)(((unsigned __int128)frac << shift) / frac_div);
    if (v > UINT64_MAX - add) {
        return CLI_EUSAGE;
    }
    *out = v + add;
    return 0;
}

void
cli_fmt_time_ns(int64_t ns, char *out, size_t n)
{
    if (ns <= 0) {
        snprintf(out, n, "-");
        return;
    }
    time_t t = (time_t)(ns / 1000000000);
    struct tm tm;
    if (localtime_r(&t, &tm) == NULL || strftime(out, n, "%Y-%m-%d %H:%M:%S", &tm) == 0) {
        snprintf(out, n, "%lld", (long long)ns);
    }
}

void
cli_fmt_duration_ms(int64_t ms, char *out, size_t n)
{
    if (ms < 0) {
        ms = 0;
    }
    long long s = ms / 1000;
    if (ms < 1000) {
        snprintf(out, n, "%lldms", (long long)ms);
    } else if (s < 60) {
        snprintf(out, n, "%llds", s);
    } else if (s < 3600) {
        snprintf(out, n, "%lldm%02llds", s / 60, s % 60);
    } else {
        snprintf(out, n, "%lldh%02lldm", s / 3600, (s % 3600) / 60);
    }
}

size_t
cli_str_width(const char *s)
{
    size_t w = 0;
    for (; *s != '\0'; s++) {
        if (((unsigned char)*s & 0xC0) != 0x80) {
            w++;
        }
    }
    return w;
}

void
cli_table_init(struct cli_table *t, size_t ncols, const char *const *hdrs)
{
    memset(t, 0, sizeof(*t));
    if (ncols > CLI_TABLE_COLS_MAX) {
        ncols = CLI_TABLE_COLS_MAX;
    }
    t->ncols = ncols;
    for (size_t i = 0; i < ncols; i++) {
        t->hdr[i] = hdrs[i];
    }
}

void
cli_table_fini(struct cli_table *t)
{
    if (t == NULL || t->cells == NULL) {
        return;
    }
    for (size_t i = 0; i < t->nrows * t->ncols; i++) {
        free(t->cells[i]);
    }
    free(t->cells);
    t->cells = NULL;
    t->nrows = 0;
    t->cap_rows = 0;
}

static int
table_grow(struct cli_table *t)
{
    size_t cap = t->cap_rows == 0 ? 16 : t->cap_rows * 2;
    char **cells = realloc(t->cells, cap * t->ncols * sizeof(*cells));
    if (cells == NULL) {
        return -ENOMEM;
    }
    t->cells = cells;
    t->cap_rows = cap;
    return 0;
}

int
cli_table_add(struct cli_table *t, const char *const *cells)
{
    if (t->nrows == t->cap_rows && table_grow(t) < 0) {
        return -ENOMEM;
    }
    char **row = t->cells + t->nrows * t->ncols;
    for (size_t i = 0; i < t->ncols; i++) {
        row[i] = strdup(cells[i] != NULL ? cells[i] : "-");
        if (row[i] == NULL) {
            for (size_t k = 0; k < i; k++) {
                free(row[k]);
            }
            return -ENOMEM;
        }
    }
    t->nrows++;
    return 0;
}

static void
table_line(const struct cli_table *t, FILE *f, const char *const *cells, const size_t *w)
{
    for (size_t c = 0; c < t->ncols; c++) {
        size_t cw = cli_str_width(cells[c]);
        size_t pad = w[c] > cw ? w[c] - cw : 0;
        bool last = c + 1 == t->ncols;
        if (t->right & (1u << c)) {
            fprintf(f, "%*s%s", (int)pad, "", cells[c]);
        } else {
            fprintf(f, "%s%*s", cells[c], last ? 0 : (int)pad, "");
        }
        fputs(last ? "\n" : "   ", f);
    }
}

void
cli_table_print(const struct cli_table *t, FILE *f, bool headers)
{
    size_t w[CLI_TABLE_COLS_MAX] = {0};
    for (size_t c = 0; c < t->ncols; c++) {
        w[c] = headers ? cli_str_width(t->hdr[c]) : 0;
    }
    for (size_t r = 0; r < t->nrows; r++) {
        for (size_t c = 0; c < t->ncols; c++) {
            size_t cw = cli_str_width(t->cells[r * t->ncols + c]);
            w[c] = cw > w[c] ? cw : w[c];
        }
    }
    if (headers) {
        table_line(t, f, t->hdr, w);
    }
    for (size_t r = 0; r < t->nrows; r++) {
        table_line(t, f, (const char *const *)(t->cells + r * t->ncols), w);
    }
}

size_t
cli_table_keep_prefix(struct cli_table *t, size_t col, const char *prefix)
{
    size_t keep = 0;
    size_t plen = strlen(prefix);
    for (size_t r = 0; r < t->nrows; r++) {
        char **row = t->cells + r * t->ncols;
        if (strncmp(row[col], prefix, plen) == 0) {
            if (keep != r) {
                memcpy(t->cells + keep * t->ncols, row, t->ncols * sizeof(*row));
            }
            keep++;
        } else {
            for (size_t c = 0; c < t->ncols; c++) {
                free(row[c]);
            }
        }
    }
    t->nrows = keep;
    return keep;
}

char *
cli_json_scalar(const json_t *v)
{
    char buf[64];
    switch (json_typeof(v)) {
    case JSON_STRING:
        return strdup(json_string_value(v));
    case JSON_INTEGER:
        snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
        return strdup(buf);
    case JSON_REAL:
        snprintf(buf, sizeof(buf), "%g", json_real_value(v));
        return strdup(buf);
    case JSON_TRUE:
        return strdup("true");
    case JSON_FALSE:
        return strdup("false");
    case JSON_NULL:
        return strdup("-");
    default:
        return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    }
}

int
cli_json_flatten(const json_t *j, const char *prefix, struct cli_table *t)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)j, key, v)
    {
        char path[512];
        snprintf(path, sizeof(path), "%s%s%s", prefix, prefix[0] != '\0' ? "." : "", key);
        int err;
        if (json_is_object(v) && json_object_size(v) > 0) {
            err = cli_json_flatten(v, path, t);
        } else {
            char *s = cli_json_scalar(v);
            if (s == NULL) {
                return -ENOMEM;
            }
            const char *cells[2] = {path, s};
            err = cli_table_add(t, cells);
            free(s);
        }
        if (err < 0) {
            return err;
        }
    }
    return 0;
}

int
cli_json_u64(const json_t *v, uint64_t *out)
{
    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        *out = (uint64_t)json_integer_value(v);
        return 0;
    }
    if (json_is_real(v) && json_real_value(v) >= 0) {
        *out = (uint64_t)json_real_value(v);
        return 0;
    }
    if (json_is_string(v)) {
        return cli_parse_uint(json_string_value(v), UINT64_MAX, out) < 0 ? -EINVAL : 0;
    }
    return -EINVAL;
}

/* Copies text quoting integer literals that do not fit int64 (jansson rejects them). */
static int
quote_big_ints(const char *s, size_t len, struct ais_buf *out)
{
    bool in_str = false;
    for (size_t i = 0; i < len;) {
        char c = s[i];
        if (in_str || c == '"') {
            if (in_str && c == '\\' && i + 1 < len) {
                if (ais_buf_append(out, s + i, 2) < 0) {
                    return -ENOMEM;
                }
                i += 2;
                continue;
            }
            in_str = c == '"' ? !in_str : in_str;
        } else if (c >= '0' && c <= '9' && (i == 0 || strchr(":[, \t\n\r", s[i - 1]))) {
            size_t k = i;
            while (k < len && s[k] >= '0' && s[k] <= '9') {
                k++;
            }
            bool plain = k == len || strchr(".eE", s[k]) == NULL;
            if (plain && k - i >= 19) {
                if (ais_buf_append(out, "\"", 1) < 0 || ais_buf_append(out, s + i, k - i) < 0 ||
                    ais_buf_append(out, "\"", 1) < 0) {
                    return -ENOMEM;
                }
                i = k;
                continue;
            }
        }
        if (ais_buf_append(out, &c, 1) < 0) {
            return -ENOMEM;
        }
        i++;
    }
    return 0;
}

json_t *
cli_json_loadb(const char *text, size_t len)
{
    json_error_t jerr;
    json_t *j = len > 0 ? json_loadb(text, len, JSON_DECODE_ANY, &jerr) : NULL;
    if (j != NULL || len == 0) {
        return j;
    }
    struct ais_buf b;
    ais_buf_init(&b, len * 2 + 16);
    if (quote_big_ints(text, len, &b) == 0 && b.len > 0) {
        j = json_loadb(b.data, b.len, JSON_DECODE_ANY, &jerr);
    }
    ais_buf_fini(&b);
    return j;
}
