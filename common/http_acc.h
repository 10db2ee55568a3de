/* The HTTP edge's acceptor (common/http_accept.c), internal to common/http.c. */
#ifndef AIS_COMMON_HTTP_ACC_H
#define AIS_COMMON_HTTP_ACC_H

#include <netinet/in.h>

struct MHD_Daemon;
struct ais_http_acc;

/* A listening socket bound to sa (SO_REUSEADDR). 0 or negative errno. */
int ais_http_acc_listen(const struct sockaddr_in *sa, int *out);
/* Accepts on lfd (owned from here) and hands connections to d; node_id is borrowed. */
int ais_http_acc_start(int lfd, struct MHD_Daemon *d, const char *node_id, unsigned max,
                       struct ais_http_acc **out);
/* Stops accepting and closes the listener and the connections still held. */
void ais_http_acc_stop(struct ais_http_acc *a);

#endif
