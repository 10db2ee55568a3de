/*
 * TAR member index: a streaming TAR header parser and the on-disk index format (pure code,
 * no I/O; target/arch.c stores and serves it).
 *
 * Parser: fed the archive's bytes in pieces of any size (a PUT body as it arrives, or a file
 * read in chunks), it reports every regular member with its name, data offset and size. It
 * understands ustar (name + prefix), GNU long names ('L'), pax extended headers ('x': path=,
 * size=), octal and base-256 sizes, and skips data and 512-byte padding without buffering it.
 * Memory is bounded: one 512-byte block plus one long name or pax record of at most
 * TGT_TAR_NAME_BYTES_MAX / TGT_TAR_PAX_BYTES_MAX.
 *
 * Index file: a 512-byte text header naming the object identity it was built for (size, mtime,
 * inode, checksum, version) and the member count, then one record per member:
 *   u16 name length (LE), u64 data offset (LE), u64 size (LE), name bytes.
 * A reader compares the identity with the object it holds open, so an index can never describe
 * another version of the object.
 */
#ifndef AIS_TARGET_TARIX_H
#define AIS_TARGET_TARIX_H

#include <stddef.h>
#include <stdint.h>

/* Longest member name kept (PATH_MAX): longer names make the archive unindexable. */
#define TGT_TAR_NAME_BYTES_MAX 4096
/* Largest pax extended header read (several records of that name size). */
#define TGT_TAR_PAX_BYTES_MAX 65536
#define TGT_TARIX_HDR_BYTES 512
/* One index record at most. */
#define TGT_TARIX_REC_BYTES_MAX (18 + TGT_TAR_NAME_BYTES_MAX)

struct tgt_tar_member {
    const char *name; /* NUL-terminated, valid for the callback */
    size_t name_len;
    uint64_t off;  /* of the first data byte in the archive */
    uint64_t size; /* data bytes */
};

/* A regular member was parsed: 0 to go on, non-zero stops (returned by feed). */
typedef int (*tgt_tar_member_fn)(void *arg, const struct tgt_tar_member *m);

struct tgt_tar_parser;

/* 0 and *out, -ENOMEM. */
__attribute__((warn_unused_result)) int tgt_tar_parser_new(tgt_tar_member_fn fn, void *arg,
                                                           struct tgt_tar_parser **out);
void tgt_tar_parser_free(struct tgt_tar_parser *p);
/*
 * Parses len more bytes. 0 (go on; bytes after the end-of-archive blocks are ignored),
 * -EBADMSG (not a TAR: bad header checksum, negative size), -ENAMETOOLONG (a name longer than
 * TGT_TAR_NAME_BYTES_MAX or a pax header over TGT_TAR_PAX_BYTES_MAX), or the callback's value.
 * After an error the parser stays failed and returns the same value.
 */
__attribute__((warn_unused_result)) int tgt_tar_parser_feed(struct tgt_tar_parser *p,
                                                            const void *data, size_t len);
/*
 * Input is over: 0 when it ended on a header boundary (with or without end-of-archive blocks),
 * -EBADMSG when truncated inside a header or a member, or the sticky error of feed.
 */
__attribute__((warn_unused_result)) int tgt_tar_parser_finish(struct tgt_tar_parser *p);
/* Members reported so far. */
uint64_t tgt_tar_parser_count(const struct tgt_tar_parser *p);
/*
 * Where the archive's content ends: the offset of its first end-of-archive (zero) block, or,
 * with no such block yet, the bytes fed when they end on a header boundary; UINT64_MAX inside
 * a member or header (or failed). An append writes its new member there.
 */
uint64_t tgt_tar_parser_end(const struct tgt_tar_parser *p);

/* Bytes tgt_tar_hdr_encode writes for a name of name_len bytes (a multiple of 512). */
size_t tgt_tar_hdr_bytes(size_t name_len);
/*
 * Writes the header of one regular member (ustar, mode 0644, uid/gid 0; a GNU 'L' record
 * first for names of 100 bytes or more, as Go's and GNU tar read them) to out, which has
 * tgt_tar_hdr_bytes(strlen(name)) bytes. Returns that count. Data and its padding follow.
 */
size_t tgt_tar_hdr_encode(char *out, const char *name, uint64_t size, int64_t mtime_s);

/* Identity of the object an index was built for (see st_obj_md). */
struct tgt_tarix_key {
    uint64_t size;
    int64_t mtime_ns;
    uint64_t ino;
    char cksum[160]; /* "type:value" */
    char version[32];
};

/* Writes the header (exactly TGT_TARIX_HDR_BYTES, zero-padded). 0 or -ENAMETOOLONG. */
__attribute__((warn_unused_result)) int tgt_tarix_hdr_encode(const struct tgt_tarix_key *k,
                                                             uint64_t count,
                                                             char out[TGT_TARIX_HDR_BYTES]);
/* Parses a header. 0 with *k and *count, or -EBADMSG. */
__attribute__((warn_unused_result)) int tgt_tarix_hdr_decode(const char in[TGT_TARIX_HDR_BYTES],
                                                             struct tgt_tarix_key *k,
                                                             uint64_t *count);
/* 1 when a and b name the same object version. */
int tgt_tarix_key_eq(const struct tgt_tarix_key *a, const struct tgt_tarix_key *b);
/* Encodes one record into out (cap bytes). Its length, or -ENAMETOOLONG / -ENOSPC. */
int tgt_tarix_rec_encode(const struct tgt_tar_member *m, char *out, size_t cap);
/*
 * Decodes one record from in[0..len): its length with *m (name points into in and is NOT
 * NUL-terminated; use name_len), 0 when in holds only part of a record, -EBADMSG.
 */
int tgt_tarix_rec_decode(const char *in, size_t len, struct tgt_tar_member *m);

#endif
