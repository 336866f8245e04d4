/* crc16: the CRC16 (XMODEM polynomial 0x1021) that maps keys and sharded
 * channels to one of 16384 cluster slots, with {hash tag} support. */
#ifndef RUNNEL_UTIL_CRC16_H
#define RUNNEL_UTIL_CRC16_H

#include <stddef.h>
#include <stdint.h>

uint16_t crc16(const char *buf, size_t len);
/* The cluster slot of a key: CRC16 of the whole key, or of the part inside
 * the first non-empty {...}, modulo 16384. */
unsigned key_hash_slot(const char *key, size_t len);

#endif
