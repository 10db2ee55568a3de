#include "common/archw.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <string.h>

int
ais_archw_format(struct archive *a, const char *ext)
{
    int zip = strcmp(ext, ".zip") == 0;
    int rc = zip ? archive_write_set_format_zip(a) : archive_write_set_format_pax_restricted(a);
    if (rc == ARCHIVE_OK && zip) {
        rc = archive_write_set_options(a, "zip:compression=store");
    } else if (rc == ARCHIVE_OK && (strcmp(ext, ".tgz") == 0 || strcmp(ext, ".tar.gz") == 0)) {
        rc = archive_write_add_filter_gzip(a);
    } else if (rc == ARCHIVE_OK && strcmp(ext, ".tar.lz4") == 0) {
        rc = archive_write_add_filter_lz4(a);
    } else if (rc == ARCHIVE_OK && strcmp(ext, ".tar") != 0) {
        return -ENOTSUP;
    }
    if (rc == ARCHIVE_OK) {
        rc = archive_write_set_bytes_in_last_block(a, 1);
    }
    return rc == ARCHIVE_OK || rc == ARCHIVE_WARN ? 0 : -ENOTSUP;
}

int
ais_archw_entry(struct archive *a, const char *name, uint64_t size, int64_t mtime_s)
{
    struct archive_entry *e = archive_entry_new();
    if (e == NULL) {
        return -ENOMEM;
    }
    archive_entry_set_pathname_utf8(e, name);
    archive_entry_set_size(e, (la_int64_t)size);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_mtime(e, mtime_s, 0);
    int rc = archive_write_header(a, e);
    archive_entry_free(e);
    return rc == ARCHIVE_OK || rc == ARCHIVE_WARN ? 0 : -EIO;
}

int
ais_archw_data(struct archive *a, const void *p, size_t n)
{
    while (n > 0) {
        la_ssize_t w = archive_write_data(a, p, n);
        if (w <= 0) {
            return -EIO;
        }
        p = (const char *)p + w;
        n -= (size_t)w;
    }
    return 0;
}
