/*
 * Goal: S3 request bodies (DeleteObjects, CompleteMultipartUpload, CreateBucketConfiguration)
 * are parsed by s3_xml_parse with bounded texts and depth, DOCTYPEs (entity bombs) refused, and
 * no crash or leak on malformed XML; keys echoed back in the XML reply are escaped safely.
 * Method: input byte 0 picks the document (root and fields as s3/bck.c and s3/mpu.c pass
 * them), the rest is the body. The record callbacks do what the handlers do with each record
 * minus the storage: DeleteObjects keys through ais_obj_name_check and into a DeleteResult
 * (s3_xml_el), part numbers and ETags as CompleteMultipartUpload reads them.
 */
#include "test/fuzz/fuzz.h"

#include "common/limits.h"
#include "common/names.h"
#include "s3/s3_int.h"

#include <errno.h>
#include <strings.h>

struct rec {
    struct ais_buf out;
    size_t n;
    int quiet;
};

static int
on_delete(void *arg, const char *elem, const struct s3_xml_item *it)
{
    struct rec *r = arg;
    const char *why = NULL;
    FUZZ_CHECK(it->text != NULL && strlen(it->text) <= S3_XML_TEXT_MAX);
    if (strcmp(elem, "Quiet") == 0) {
        r->quiet = strcasecmp(it->text, "true") == 0;
        return 0;
    }
    if (strcmp(elem, "Object") != 0) {
        return 0;
    }
    if (it->vals[0] == NULL || ++r->n > 1000) {
        return -EBADMSG;
    }
    FUZZ_CHECK(strlen(it->vals[0]) <= S3_XML_TEXT_MAX);
    int rc = ais_obj_name_check(it->vals[0], strlen(it->vals[0]), &why);
    int err = s3_xml_el(&r->out, "Key", it->vals[0]);
    err = err ? err : s3_xml_el(&r->out, "Message", rc == 0 ? "ok" : why);
    return err ? -ENOMEM : 0;
}

static int
on_complete(void *arg, const char *elem, const struct s3_xml_item *it)
{
    struct rec *r = arg;
    if (strcmp(elem, "Part") != 0) {
        return 0;
    }
    if (it->vals[0] == NULL || it->vals[1] == NULL || r->n == AIS_S3_PARTS_MAX) {
        return -EBADMSG;
    }
    char *end;
    long v = strtol(it->vals[0], &end, 10);
    if (*end != '\0' || v < 1 || v > AIS_S3_PARTS_MAX) {
        return -EBADMSG;
    }
    r->n++;
    return s3_xml_el(&r->out, "ETag", it->vals[1]) ? -ENOMEM : 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const del_fields[] = {"Key", "VersionId"};
    static const char *const mpu_fields[] = {"PartNumber", "ETag"};
    if (size == 0) {
        return 0;
    }
    struct rec r;
    memset(&r, 0, sizeof(r));
    ais_buf_init(&r.out, 1u << 20);
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    int rc;
    switch (data[0] % 3) {
    case 0:
        rc = s3_xml_parse(body, len, "Delete", del_fields, 2, on_delete, &r);
        break;
    case 1:
        rc = s3_xml_parse(body, len, "CompleteMultipartUpload", mpu_fields, 2, on_complete, &r);
        break;
    default:
        rc = s3_xml_parse(body, len, "CreateBucketConfiguration", NULL, 0, s3_xml_any, NULL);
        break;
    }
    FUZZ_CHECK(rc == 0 || rc == -EBADMSG || rc == -ENOMEM);
    /* The reply is XML text: no raw markup characters from the request survive escaping. */
    FUZZ_CHECK(r.out.len == 0 || r.out.data[r.out.len] == '\0');
    ais_buf_fini(&r.out);
    return 0;
}
