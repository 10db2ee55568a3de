/*
 * Errors: functions return 0 or a negative errno; domain codes from -1000 down.
 */
#ifndef AIS_COMMON_ERR_H
#define AIS_COMMON_ERR_H

enum {
    AIS_EBASE = -1000,
    AIS_EBADCKSUM = -1001, /* checksum mismatch (client-supplied or stored) */
    AIS_EBADNAME = -1002,  /* invalid bucket or object name */
    AIS_EBADRANGE = -1003, /* unsatisfiable Range */
    AIS_EBADJSON = -1004,  /* malformed JSON body */
    AIS_ENOTREADY = -1005, /* node has not joined the cluster yet */
    AIS_ENOTPRIMARY = -1006,
    AIS_EBADMSG = -1007, /* malformed internal message */
    AIS_ECONFIG = -1008, /* invalid configuration */
    AIS_ELAST = -1009,
};

/* Text for a negative errno or domain code. Never NULL. Thread-safe. */
const char *ais_strerror(int err);

/* The one errno -> HTTP status map. 0 maps to 200. */
int ais_http_status(int err);

#endif
