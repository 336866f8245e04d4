/* rdb_packed: Redis's packed blobs as they travel inside RDB strings —
 * ziplists, listpacks, intsets — walked element by element with every bound
 * checked, and LZF decompression. Nothing here allocates except
 * rdb_lzf_decompress's output. */
#ifndef RUNNEL_PERSISTENCE_RDB_PACKED_H
#define RUNNEL_PERSISTENCE_RDB_PACKED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One element of a ziplist, listpack or intset: bytes (p, len) or an
 * integer (is_int, v); rdb_elem_bytes gives the bytes either way. */
struct rdb_elem {
    const char *p;
    size_t len;
    long long v;
    bool is_int;
    char buf[24];
};
/* Points e->p/len at the element's bytes (an integer formatted into buf). */
void rdb_elem_bytes(struct rdb_elem *e);

/* A walk over a ziplist (ZIPLIST) or a listpack (LISTPACK). init checks the
 * header against the blob's size; next hands out the following element
 * (false at the end or on damage, which sets `bad` with a reason). */
enum rdb_packed_kind { RDB_PACKED_ZIPLIST, RDB_PACKED_LISTPACK };
struct rdb_packed_iter {
    enum rdb_packed_kind kind;
    const unsigned char *p, *end; /* end: the 0xFF terminator */
    const unsigned char *start;
    size_t count;    /* elements handed out so far */
    size_t declared; /* header's count; SIZE_MAX when the header does not know */
    bool done;
    const char *bad; /* why the blob was refused, NULL while it is sound */
};
bool rdb_packed_init(struct rdb_packed_iter *it, enum rdb_packed_kind kind, const void *blob, size_t len);
bool rdb_packed_next(struct rdb_packed_iter *it, struct rdb_elem *e);
/* After next returned false: true when the walk ended cleanly at the
 * terminator with the header's count (when it declared one). */
bool rdb_packed_ok(const struct rdb_packed_iter *it);

/* An intset: checks its header and size; then rdb_intset_get reads
 * element i (< *count). */
bool rdb_intset_open(const void *blob, size_t len, unsigned *width, uint32_t *count);
long long rdb_intset_get(const void *blob, unsigned width, uint32_t i);

/* LZF: decompresses in[0..inlen) into exactly outlen bytes at out; false
 * when the data is damaged or does not fill exactly outlen. */
bool rdb_lzf_decompress(const void *in, size_t inlen, void *out, size_t outlen);

#endif
