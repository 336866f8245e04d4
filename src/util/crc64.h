/* crc64: CRC-64 with the Jones polynomial (0xad93d23594c935a9), reflected,
 * initial value 0, no final xor — the variant Redis uses for RDB files.
 * The check value of "123456789" is 0xe9c6d914c4b8d9ca. Table-driven,
 * eight bytes per step (slicing-by-8). */
#ifndef RUNNEL_UTIL_CRC64_H
#define RUNNEL_UTIL_CRC64_H

#include <stddef.h>
#include <stdint.h>

/* Continues a checksum over len more bytes; start with crc = 0. The tables
 * are built on first use, which must not race with another thread's first
 * use (the server calls it from the main thread or a forked child only). */
uint64_t crc64(uint64_t crc, const void *data, size_t len);

#endif
