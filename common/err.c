#include "common/err.h"

#include <errno.h>
#include <string.h>

static const char *const domain_msgs[] = {
    [-(AIS_EBADCKSUM - AIS_EBASE)] = "checksum mismatch",
    [-(AIS_EBADNAME - AIS_EBASE)] = "invalid name",
    [-(AIS_EBADRANGE - AIS_EBASE)] = "range not satisfiable",
    [-(AIS_EBADJSON - AIS_EBASE)] = "malformed JSON",
    [-(AIS_ENOTREADY - AIS_EBASE)] = "node is not ready",
    [-(AIS_ENOTPRIMARY - AIS_EBASE)] = "not the primary gateway",
    [-(AIS_EBADMSG - AIS_EBASE)] = "malformed internal message",
    [-(AIS_ECONFIG - AIS_EBASE)] = "invalid configuration",
};

const char *
ais_strerror(int err)
{
    if (err == 0) {
        return "success";
    }
    if (err < AIS_EBASE && err > AIS_ELAST) {
        return domain_msgs[-(err - AIS_EBASE)];
    }
    if (err < 0 && err > -4096) {
        /* strerror is thread-safe for known codes in glibc (static table). */
        return strerror(-err);
    }
    return "unknown error";
}

int
ais_http_status(int err)
{
    switch (err) {
    case 0:
        return 200;
    case -ENOENT:
        return 404;
    case -EEXIST:
    case -ENOTEMPTY:
    case -EISDIR:
    case -ENOTDIR:
        return 409;
    case -EINVAL:
    case -ENAMETOOLONG:
    case AIS_EBADCKSUM:
    case AIS_EBADNAME:
    case AIS_EBADJSON:
        return 400;
    case -EACCES:
    case -EPERM:
        return 403;
    case -EFBIG:
    case -E2BIG:
    case -EMSGSIZE:
        return 413;
    case AIS_EBADRANGE:
        return 416;
    case -EAGAIN:
    case -ECONNREFUSED:
    case AIS_ENOTREADY:
        return 503;
    case -ETIMEDOUT:
        return 504;
    case -ENOSPC:
        return 507;
    case -ENOTSUP:
        return 501;
    default:
        return 500;
    }
}
