/*
 * Goal: the TAR header parser that indexes every .tar PUT body (target/tarix.c) never reads out
 * of bounds, reports members that lie inside the bytes fed, in increasing order, and gives the
 * same members however the body is split into pieces (PUT bodies arrive in pieces of any size).
 * Method: the first input byte picks a piece size (1..256, or the whole input); the rest is the
 * body, fed once whole and once in pieces; the two runs must agree (count, each member's name,
 * offset and size, result), and every index record round-trips through its encoder.
 */
#include "test/fuzz/fuzz.h"

#include "target/tarix.h"

#define MEMBERS_MAX 64

struct seen {
    size_t n;
    uint64_t total, off[MEMBERS_MAX], size[MEMBERS_MAX];
    char name[MEMBERS_MAX][64];
    uint64_t fed; /* bytes of input, a bound for every member */
};

static int
on_member(void *arg, const struct tgt_tar_member *m)
{
    struct seen *s = arg;
    FUZZ_CHECK(m->name_len == strlen(m->name) && m->name_len <= TGT_TAR_NAME_BYTES_MAX);
    FUZZ_CHECK(m->off % 512 == 0 && m->off <= s->fed);
    if (s->n > 0 && s->n <= MEMBERS_MAX) {
        FUZZ_CHECK(m->off > s->off[s->n - 1]);
    }
    char rec[TGT_TARIX_REC_BYTES_MAX];
    int len = tgt_tarix_rec_encode(m, rec, sizeof(rec));
    FUZZ_CHECK(len > 0);
    struct tgt_tar_member back;
    FUZZ_CHECK(tgt_tarix_rec_decode(rec, (size_t)len, &back) == len);
    FUZZ_CHECK(back.name_len == m->name_len && back.off == m->off && back.size == m->size &&
               memcmp(back.name, m->name, m->name_len) == 0);
    if (s->n < MEMBERS_MAX) {
        s->off[s->n] = m->off;
        s->size[s->n] = m->size;
        snprintf(s->name[s->n], sizeof(s->name[s->n]), "%s", m->name);
    }
    s->n++;
    return 0;
}

static int
run(const uint8_t *body, size_t len, size_t piece, struct seen *s)
{
    struct tgt_tar_parser *p = NULL;
    FUZZ_CHECK(tgt_tar_parser_new(on_member, s, &p) == 0);
    s->fed = len;
    int rc = 0;
    for (size_t at = 0; at < len && rc == 0; at += piece) {
        size_t n = len - at < piece ? len - at : piece;
        rc = tgt_tar_parser_feed(p, body + at, n);
    }
    int fin = tgt_tar_parser_finish(p);
    FUZZ_CHECK(rc == 0 || fin == rc);
    FUZZ_CHECK(tgt_tar_parser_count(p) == s->n);
    tgt_tar_parser_free(p);
    return fin;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    size_t piece = data[0] == 0 ? size : (size_t)data[0];
    struct seen *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
    FUZZ_CHECK(a != NULL && b != NULL);
    int ra = run(data + 1, size - 1, size, a);
    int rb = run(data + 1, size - 1, piece, b);
    FUZZ_CHECK(ra == rb && a->n == b->n);
    for (size_t i = 0; i < a->n && i < MEMBERS_MAX; i++) {
        FUZZ_CHECK(a->off[i] == b->off[i] && a->size[i] == b->size[i] &&
                   strcmp(a->name[i], b->name[i]) == 0);
    }
    free(a);
    free(b);
    return 0;
}
