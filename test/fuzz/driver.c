/*
 * Design notes: a main() for the fuzz harnesses where libFuzzer is not available (gcc, the
 * regular ASan/TSan trees). Each argument is a file or a directory of files; every file is read
 * into a buffer of exactly its size (so a read past the end is an ASan report, as under
 * libFuzzer) and passed to LLVMFuzzerTestOneInput once. No inputs at all is an error: an empty
 * or misnamed corpus directory must not pass silently.
 */
#include "test/fuzz/fuzz.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DRIVER_INPUT_BYTES_MAX (1u << 20)

static int
run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "driver: %s: %s\n", path, strerror(errno));
        return -1;
    }
    uint8_t *buf = malloc(DRIVER_INPUT_BYTES_MAX);
    size_t n = buf ? fread(buf, 1, DRIVER_INPUT_BYTES_MAX, f) : 0;
    int bad = buf == NULL || ferror(f) || !feof(f);
    fclose(f);
    if (bad) {
        fprintf(stderr, "driver: %s: unreadable or over %u bytes\n", path, DRIVER_INPUT_BYTES_MAX);
        free(buf);
        return -1;
    }
    /* Exact-size copy: the harness sees the same bounds libFuzzer would give it. */
    uint8_t *exact = malloc(n ? n : 1);
    if (exact == NULL) {
        free(buf);
        return -1;
    }
    memcpy(exact, buf, n);
    free(buf);
    LLVMFuzzerTestOneInput(exact, n);
    free(exact);
    return 0;
}

static int
run_dir(const char *dir, size_t *count)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        fprintf(stderr, "driver: %s: %s\n", dir, strerror(errno));
        return -1;
    }
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        char path[4096];
        struct stat st;
        if (e->d_name[0] == '.') {
            continue;
        }
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            rc = run_file(path);
            (*count)++;
        }
    }
    closedir(d);
    return rc;
}

int
main(int argc, char **argv)
{
    size_t count = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "driver: %s: %s\n", argv[i], strerror(errno));
            return 1;
        }
        int rc = S_ISDIR(st.st_mode) ? run_dir(argv[i], &count) : run_file(argv[i]);
        count += S_ISDIR(st.st_mode) ? 0 : 1;
        if (rc != 0) {
            return 1;
        }
    }
    if (count == 0) {
        fprintf(stderr, "usage: %s FILE|DIR... (found no inputs)\n", argv[0]);
        return 1;
    }
    printf("driver: %s: %zu inputs ran\n", argv[0], count);
    return 0;
}
