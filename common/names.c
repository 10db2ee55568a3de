#include "common/names.h"

#include "common/err.h"
#include "common/limits.h"

#include <errno.h>
#include <string.h>

static void
set_why(const char **why, const char *s)
{
    if (why != NULL) {
        *why = s;
    }
}

int
ais_bck_name_check(const char *name, const char **why)
{
    size_t len = name ? strlen(name) : 0;
    if (len == 0) {
        set_why(why, "bucket name is empty");
        return AIS_EBADNAME;
    }
    if (len > AIS_BCKNAME_BYTES_MAX) {
        set_why(why, "bucket name is too long (max 64 bytes)");
        return AIS_EBADNAME;
    }
    if (strcmp(name, ".") == 0 || strstr(name, "..") != NULL) {
        set_why(why, "bucket name may not be '.' or contain '..'");
        return AIS_EBADNAME;
    }
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '-' || c == '_' || c == '.';
        if (!ok) {
            set_why(why, "bucket name may contain only letters, digits, '-', '_' and '.'");
            return AIS_EBADNAME;
        }
    }
    return 0;
}

static int
segment_check(const char *seg, size_t len, const char **why)
{
    if (len == 0) {
        set_why(why, "object name has an empty path segment (leading, trailing or double '/')");
        return AIS_EBADNAME;
    }
    if ((len == 1 && seg[0] == '.') || (len == 2 && seg[0] == '.' && seg[1] == '.')) {
        set_why(why, "object name may not contain '.' or '..' path segments");
        return AIS_EBADNAME;
    }
    if (len > AIS_NAME_COMPONENT_BYTES_MAX) {
        set_why(why, "object name has a path segment longer than 255 bytes");
        return -ENAMETOOLONG;
    }
    return 0;
}

int
ais_obj_name_check(const char *name, size_t len, const char **why)
{
    if (name == NULL || len == 0) {
        set_why(why, "object name is empty");
        return AIS_EBADNAME;
    }
    if (len > AIS_OBJNAME_BYTES_MAX) {
        set_why(why, "object name is too long (max 1024 bytes)");
        return -ENAMETOOLONG;
    }
    size_t seg = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c == 0) {
            set_why(why, "object name contains a NUL byte");
            return AIS_EBADNAME;
        }
        if (c < 0x20 || c == 0x7f) {
            set_why(why, "object name contains a control character");
            return AIS_EBADNAME;
        }
        if (c == '/') {
            int err = segment_check(name + seg, i - seg, why);
            if (err != 0) {
                return err;
            }
            seg = i + 1;
        }
    }
    return segment_check(name + seg, len - seg, why);
}

const char *
ais_provider_norm(const char *p)
{
    if (p == NULL || p[0] == '\0' || strcmp(p, "ais") == 0 || strcmp(p, "local") == 0) {
        return "ais";
    }
    if (strcmp(p, "aws") == 0 || strcmp(p, "s3") == 0 || strcmp(p, "cloud") == 0) {
        return "aws";
    }
    if (strcmp(p, "gcp") == 0 || strcmp(p, "gs") == 0) {
        return "gcp";
    }
    if (strcmp(p, "azure") == 0 || strcmp(p, "az") == 0) {
        return "azure";
    }
    if (strcmp(p, "oci") == 0) {
        return "oci";
    }
    if (strcmp(p, "ht") == 0) {
        return "ht";
    }
    return NULL;
}
