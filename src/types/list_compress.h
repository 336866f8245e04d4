/* list_compress: a small LZ77 byte compressor for the interior nodes of long
 * lists (list-compress-depth). Fast and modest: a node of small similar
 * messages shrinks a few times, random bytes do not shrink and are kept as
 * they are.
 *
 * Format: a sequence of tokens.
 *   0lllllll <l+1 bytes>            literal run of 1..128 bytes
 *   1mmmmmmm [extra...] <d:2 LE>    copy m+4 bytes from d+1 bytes back; when
 *                                   m == 127 extra bytes follow, each added
 *                                   to the length, until one is below 255 */
#ifndef RUNNEL_TYPES_LIST_COMPRESS_H
#define RUNNEL_TYPES_LIST_COMPRESS_H

#include <stdbool.h>
#include <stddef.h>

/* Compresses src[0..len) into dst; returns the compressed size, or 0 when
 * the result would not fit in `cap` bytes (the caller keeps the original). */
size_t list_compress(const unsigned char *src, size_t len, unsigned char *dst, size_t cap);
/* Decompresses src[0..len) into exactly out_len bytes at dst; false when the
 * input is malformed or does not produce exactly out_len bytes. */
bool list_decompress(const unsigned char *src, size_t len, unsigned char *dst, size_t out_len);

#endif
