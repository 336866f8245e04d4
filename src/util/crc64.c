#include "util/crc64.h"

#include <stdbool.h>

/* 0xad93d23594c935a9 with its bits reversed: the reflected algorithm
 * shifts right, so it works with the mirrored polynomial. */
#define CRC64_JONES_REFLECTED 0x95ac9329ac4bc9b5ULL

/* table[0] is the classic byte table; table[k][b] is the CRC of byte b
 * followed by k zero bytes, which lets one step fold in eight bytes. */
static uint64_t table[8][256];
static bool table_ready;

static void crc64_build_tables(void)
{
    for (unsigned b = 0; b < 256; b++) {
        uint64_t crc = b;
        for (int bit = 0; bit < 8; bit++) crc = (crc & 1) ? (crc >> 1) ^ CRC64_JONES_REFLECTED : crc >> 1;
        table[0][b] = crc;
    }
    for (unsigned b = 0; b < 256; b++)
        for (int k = 1; k < 8; k++) table[k][b] = (table[k - 1][b] >> 8) ^ table[0][table[k - 1][b] & 0xff];
    table_ready = true;
}

/* Reads eight bytes as a little-endian integer, whatever the host order
 * and alignment. */
static uint64_t load_le64(const unsigned char *p)
{
    return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
           (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56;
}

uint64_t crc64(uint64_t crc, const void *data, size_t len)
{
    if (!table_ready) crc64_build_tables();
    const unsigned char *p = data;
    while (len >= 8) {
        uint64_t v = crc ^ load_le64(p);
        crc = table[7][v & 0xff] ^ table[6][(v >> 8) & 0xff] ^ table[5][(v >> 16) & 0xff] ^
              table[4][(v >> 24) & 0xff] ^ table[3][(v >> 32) & 0xff] ^ table[2][(v >> 40) & 0xff] ^
              table[1][(v >> 48) & 0xff] ^ table[0][v >> 56];
        p += 8;
        len -= 8;
    }
    while (len--) crc = table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return crc;
}
