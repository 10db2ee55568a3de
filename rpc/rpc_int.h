/* Shared within rpc/ only: protobuf <-> domain conversions, nng errors and the generic call. */
#ifndef AIS_RPC_RPC_INT_H
#define AIS_RPC_RPC_INT_H

#include "proto/ais.pb-c.h"
#include "rpc/rpc.h"

/* Builds a protobuf Smap/Bmd tree (malloc'd); free with the matching _free. */
Aisproto__Smap *rpc_smap_to_pb(const struct ais_smap *m);
void rpc_smap_pb_free(Aisproto__Smap *p);
int rpc_smap_from_pb(const Aisproto__Smap *p, struct ais_smap **out);
Aisproto__Bmd *rpc_bmd_to_pb(const struct ais_bmd *b);
void rpc_bmd_pb_free(Aisproto__Bmd *p);
int rpc_bmd_from_pb(const Aisproto__Bmd *p, struct ais_bmd **out);

/* nng result code -> negative errno (0 stays 0). The only place nng codes are mapped. */
int rpc_nng_err(int rv);

/* rpc_call flags. */
#define RPC_CALL_IDEMPOTENT 1u /* safe to re-send after a connection reset */

/*
 * Sends req to url over the pooled socket and waits for the reply (unpacked into *resp, free
 * with aisproto__msg__free_unpacked). timeout_ms bounds the whole call, retries included
 * (see rpc.h for which errors retry). An Err reply becomes its code (and err->msg).
 */
int rpc_call(const char *url, int timeout_ms, unsigned flags, const Aisproto__Msg *req,
             Aisproto__Msg **resp, struct rpc_err *err);

#endif
