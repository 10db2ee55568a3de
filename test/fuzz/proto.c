/*
 * Goal: control-plane bytes from a peer (an rpc request or reply, a stream frame header, a
 * metasync of the cluster maps) are decoded without a crash or leak, and the conversion of a
 * received Smap/BMD into the domain structs refuses what does not fit them.
 * Method: the input is unpacked as each top-level message the nodes receive (Msg,
 * StreamFrame, StreamReply) with protobuf-c; a Msg carrying cluster metadata (meta/metasync)
 * goes through rpc_smap_from_pb / rpc_bmd_from_pb as the receiving node does. The input is also
 * a bare Smap and BMD (rpc_smap_unpack / rpc_bmd_unpack); a map that converts must pack and
 * convert back. A Msg that unpacks must repack to bytes that unpack again.
 */
#include "test/fuzz/fuzz.h"

#include "common/bmd.h"
#include "common/smap.h"
#include "rpc/rpc_int.h"

static void
maps_round_trip(const uint8_t *data, size_t size)
{
    struct ais_smap *m = NULL;
    struct ais_bmd *b = NULL;
    uint8_t *buf = NULL;
    size_t len = 0;
    if (rpc_smap_unpack(data, size, &m) == 0) {
        struct ais_smap *m2 = NULL;
        FUZZ_CHECK(rpc_smap_pack(m, &buf, &len) == 0);
        FUZZ_CHECK(rpc_smap_unpack(buf, len, &m2) == 0);
        FUZZ_CHECK(m2->nnodes == m->nnodes && m2->version == m->version);
        ais_smap_unref(m2);
        ais_smap_unref(m);
        free(buf);
    }
    if (rpc_bmd_unpack(data, size, &b) == 0) {
        struct ais_bmd *b2 = NULL;
        FUZZ_CHECK(rpc_bmd_pack(b, &buf, &len) == 0);
        FUZZ_CHECK(rpc_bmd_unpack(buf, len, &b2) == 0);
        FUZZ_CHECK(b2->n == b->n && b2->version == b->version);
        ais_bmd_unref(b2);
        ais_bmd_unref(b);
        free(buf);
    }
}

static void
cluster_meta(const Aisproto__ClusterMeta *cm)
{
    struct ais_smap *m = NULL;
    struct ais_bmd *b = NULL;
    if (cm == NULL) {
        return;
    }
    if (cm->smap != NULL && rpc_smap_from_pb(cm->smap, &m) == 0) {
        ais_smap_unref(m);
    }
    if (cm->bmd != NULL && rpc_bmd_from_pb(cm->bmd, &b) == 0) {
        ais_bmd_unref(b);
    }
}

static void
msg(const uint8_t *data, size_t size)
{
    Aisproto__Msg *q = aisproto__msg__unpack(NULL, size, data);
    if (q == NULL) {
        return;
    }
    if (q->body_case == AISPROTO__MSG__BODY_META) {
        cluster_meta(q->meta);
    } else if (q->body_case == AISPROTO__MSG__BODY_METASYNC) {
        cluster_meta(q->metasync);
    } else if (q->body_case == AISPROTO__MSG__BODY_JOIN_REQ && q->join_req->node != NULL) {
        Aisproto__Snode *n = q->join_req->node;
        FUZZ_CHECK(n->id != NULL && n->host != NULL);
    }
    size_t len = aisproto__msg__get_packed_size(q);
    uint8_t *buf = malloc(len ? len : 1);
    FUZZ_CHECK(buf != NULL);
    FUZZ_CHECK(aisproto__msg__pack(q, buf) == len);
    /* Not "must unpack again": protobuf-c 1.4 accepts a field-number-0 tag written as a
     * two-byte varint (0x85 0x00), keeps it as an unknown field and repacks it as 0x05,
     * which it then refuses. Nodes never repack a received Msg, so only the oneof is checked. */
    Aisproto__Msg *again = aisproto__msg__unpack(NULL, len, buf);
    FUZZ_CHECK(again == NULL || again->body_case == q->body_case);
    if (again != NULL) {
        aisproto__msg__free_unpacked(again, NULL);
    }
    free(buf);
    aisproto__msg__free_unpacked(q, NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    msg(data, size);
    Aisproto__StreamFrame *f = aisproto__stream_frame__unpack(NULL, size, data);
    if (f != NULL) {
        aisproto__stream_frame__free_unpacked(f, NULL);
    }
    Aisproto__StreamReply *r = aisproto__stream_reply__unpack(NULL, size, data);
    if (r != NULL) {
        aisproto__stream_reply__free_unpacked(r, NULL);
    }
    maps_round_trip(data, size);
    return 0;
}
