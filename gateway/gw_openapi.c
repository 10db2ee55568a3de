/*
 * Design notes: GET /v1/openapi.yaml serves docs/openapi.yaml (OpenAPI 3.0) as built into the
 * binary by gateway/embed.cmake, so the spec a client fetches is the one this gateway was
 * built with. test/integration/test_openapi.py validates it and checks that every route of
 * gw_routes[] and tgt_routes[] is described.
 */
#include "common/http.h"
#include "gateway/gw_int.h"

extern const unsigned char ais_openapi_yaml[];
extern const unsigned long ais_openapi_yaml_len;

void
gw_r_openapi(struct ais_req *r, void *ctx)
{
    (void)ctx;
    ais_resp_buf(r, 200, "application/yaml", ais_openapi_yaml, (size_t)ais_openapi_yaml_len);
}
