/* list_node: one packed node of a list — a single allocation holding a small
 * header and a contiguous buffer of compactly encoded entries.
 *
 * Entry = <encoding and payload> <back-length>.
 *   0xxxxxxx                      integer 0..127 in the byte itself
 *   10llllll <bytes>              string of 0..63 bytes (1-byte header)
 *   110vvvvv vvvvvvvv             integer -4096..4095 (13 bits, two's complement, high bits first)
 *   1110llll llllllll <bytes>     string of up to 4095 bytes (2-byte header, length high bits first)
 *   11110000 <len:4> <bytes>      longer string (5-byte header)
 *   11110001 <2>  11110010 <3>    int16, int24
 *   11110011 <4>  11110100 <8>    int32, int64     (multi-byte fields little-endian)
 * The back-length is the size of <encoding and payload> in 1..5 bytes of 7
 * bits, written so that it reads from the right: the last byte holds the low
 * 7 bits and its high bit says whether another byte follows on its left. It
 * lets the node be walked backwards.
 *
 * A string becomes an integer entry only when it is the canonical decimal
 * form of a 64-bit integer ("7", "-12"; never "007", "+7" or "-0"), so the
 * bytes handed back are always exactly the bytes stored.
 *
 * Entries are addressed by their byte offset in data[]; offset == bytes is
 * the end. Functions that may grow or shrink the node return its (possibly
 * moved) address: the caller must use it from then on. The prev/next links
 * are the owning deque's; they are carried across moves and never read here.
 *
 * A node may be compressed (list_compress.h): data[] then holds `cap`
 * compressed bytes standing for `bytes` bytes of entries. Only
 * list_node_decompress, list_node_dup, list_node_free, list_node_alloc_size
 * and list_node_validate accept a compressed node; everything else needs it
 * decompressed first. */
#ifndef RUNNEL_TYPES_LIST_NODE_H
#define RUNNEL_TYPES_LIST_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct list_node {
    struct list_node *prev, *next; /* owned by the deque (list.c) */
    uint32_t count;                /* entries */
    uint32_t bytes;                /* bytes of encoded entries in data[] */
    uint32_t cap;                  /* bytes data[] can hold; compressed: bytes it holds */
    uint32_t flags;                /* LIST_NODE_* below, then the deque's own bits */
    unsigned char data[];
};

#define LIST_NODE_HEADER (sizeof(struct list_node))
#define LIST_NODE_COMPRESSED (1u << 0) /* data[] is compressed */
#define LIST_NODE_NOCOMPRESS (1u << 1) /* compression was tried and did not pay; cleared by any edit */
#define LIST_NODE_OWN_FLAGS (LIST_NODE_COMPRESSED | LIST_NODE_NOCOMPRESS)
/* Buffer size list_node_get needs to format an integer entry. */
#define LIST_NODE_INT_BUF 24
/* Largest encoded entry a node can hold (its byte count is 32 bits). */
#define LIST_NODE_MAX_BYTES (UINT32_MAX - 64)

/* A value searched for (LREM, LPOS, LINSERT): parsed once, compared with
 * many entries without decoding them into strings. */
struct list_needle {
    const char *p;
    size_t len;
    bool is_int;
    long long v;
};

/* Creates an empty node with room for about `hint` bytes of entries. */
struct list_node *list_node_new(size_t hint);
void list_node_free(struct list_node *n);
/* A copy of n (links cleared). */
struct list_node *list_node_dup(const struct list_node *n);
/* Bytes of memory the node occupies (header and entries, as allocated). */
size_t list_node_alloc_size(const struct list_node *n);

/* Size of the entry that would store p[0..len), back-length included. */
size_t list_node_entry_size(const char *p, size_t len);
/* Writes that entry into dst (which has list_node_entry_size bytes); returns its size. */
size_t list_node_encode(unsigned char *dst, const char *p, size_t len);

/* Inserts an element before the entry at `off` (off == n->bytes appends). */
struct list_node *list_node_insert(struct list_node *n, size_t off, const char *p, size_t len);
struct list_node *list_node_append(struct list_node *n, const char *p, size_t len);
struct list_node *list_node_prepend(struct list_node *n, const char *p, size_t len);
/* Deletes `count` entries starting with the one at `off`; they must exist. */
struct list_node *list_node_delete(struct list_node *n, size_t off, size_t count);
/* Replaces the entry at `off` with a new element. */
struct list_node *list_node_replace(struct list_node *n, size_t off, const char *p, size_t len);
/* Moves the entries from `off` on into a new node, which it returns; *np is
 * what remains (possibly moved). */
struct list_node *list_node_split(struct list_node **np, size_t off);
/* Appends b's entries to a and returns a (possibly moved); b is unchanged. */
struct list_node *list_node_merge(struct list_node *a, const struct list_node *b);

/* Walking. next: the offset after the entry at `off` (n->bytes past the
 * last). prev: the entry before `off`, which must be > 0. seek: the offset of
 * entry `index`, 0 <= index < count, walking from the nearer end. last: the
 * offset of the final entry of a non-empty node. */
size_t list_node_next(const struct list_node *n, size_t off);
size_t list_node_prev(const struct list_node *n, size_t off);
size_t list_node_seek(const struct list_node *n, size_t index);
size_t list_node_last(const struct list_node *n);

/* The bytes of the entry at `off`: strings point into the node, integers are
 * formatted into buf (LIST_NODE_INT_BUF bytes). Valid until the node changes. */
const char *list_node_get(const struct list_node *n, size_t off, char *buf, size_t *len);
/* Reports whether the entry at `off` is an integer, and its value. */
bool list_node_get_int(const struct list_node *n, size_t off, long long *v);
/* Size in bytes of the entry at `off`, back-length included. */
size_t list_node_entry_at_size(const struct list_node *n, size_t off);

void list_needle_init(struct list_needle *nd, const char *p, size_t len);
bool list_node_matches(const struct list_node *n, size_t off, const struct list_needle *nd);

/* Compresses a node in place when that saves memory (otherwise marks it
 * NOCOMPRESS and leaves it). Returns the node, possibly moved. */
struct list_node *list_node_compress(struct list_node *n);
/* Restores a compressed node's entries in place; a no-op on a plain node. */
struct list_node *list_node_decompress(struct list_node *n);
static inline bool list_node_is_compressed(const struct list_node *n)
{
    return n->flags & LIST_NODE_COMPRESSED;
}

/* Checks that the buffer is well formed: every entry decodes inside the
 * buffer in its canonical encoding, back-lengths agree with forward sizes,
 * the count is right. Safe on untrusted bytes (a node read from a file). */
bool list_node_validate(const struct list_node *n);
/* list_node_validate, and in the same walk: with distinct_stride > 0, that
 * the entries at positions 0, stride, 2*stride... (a set's members: 1; a
 * hash's fields: 2) all differ; with longest, the length of the longest
 * element. */
bool list_node_check(const struct list_node *n, size_t distinct_stride, size_t *longest);

struct codec_out;
struct codec_in;
/* Snapshots: writes the node as it is in memory — its own flags, entry
 * count, entry bytes, then the bytes it stores (compressed or not). */
void list_node_save(const struct list_node *n, struct codec_out *out);
/* Reads what list_node_save wrote and checks it with list_node_check (with
 * distinct_stride > 0 the node must be plain). NULL after reporting the
 * problem through the reader. */
struct list_node *list_node_load(struct codec_in *in, size_t distinct_stride, size_t *longest);

#endif
