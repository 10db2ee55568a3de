/*
 * One worker's HTTP client: a libcurl easy handle (its connection cache gives keep-alive to the
 * gateway and to every target it was redirected to), with PUT bodies cut from the shared
 * pattern and GET bodies counted (and optionally verified) in place, never buffered.
 * A client is used by one thread at a time.
 */
#ifndef AIS_BENCH_CLIENT_H
#define AIS_BENCH_CLIENT_H

#include "bench/args.h"
#include "bench/pattern.h"
#include "bench/stats.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct al_client;

/* Outcome of one request: ok, or the error kind and code to count. */
struct al_result {
    bool ok;
    enum al_errkind kind;
    long code;
    uint64_t bytes; /* body bytes moved when ok */
};

/*
 * Creates a client for args (borrowed, must outlive it) using pattern p (borrowed).
 * 0, -ENOMEM or -EIO (curl refused an option). Call curl_global_init first.
 */
__attribute__((warn_unused_result)) int
al_client_new(const struct al_args *args, const struct al_pattern *p, struct al_client **out);
/* Frees; accepts NULL. Closes the client's connections. */
void al_client_free(struct al_client *c);

/* PUTs size bytes of the pattern for name to url, following a 307 with the body re-sent. */
void al_client_put(struct al_client *c, const char *url, const char *name, uint64_t size,
                   struct al_result *res);
/* GETs url (following 307), counting the body; compares it with name's pattern if --verify. */
void al_client_get(struct al_client *c, const char *url, const char *name, struct al_result *res);
/* DELETEs url (following 307). */
void al_client_delete(struct al_client *c, const char *url, struct al_result *res);
/*
 * Sends GET url without following and, on a 307, writes the Location's scheme://host:port into
 * base[0..cap). On anything else res says why (AL_ERR_RESOLVE with the status, or transport).
 */
void al_client_resolve(struct al_client *c, const char *url, char *base, size_t cap,
                       struct al_result *res);
/* POST create-bck to url; 200 and 409 (exists) are ok. */
void al_client_create_bucket(struct al_client *c, const char *url, struct al_result *res);

#endif
