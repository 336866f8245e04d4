/* hll: HyperLogLog registers as Redis lays them out inside a string, so
 * that values move between Runnel and Redis (GET/SET, DUMP tools) and
 * estimates match Redis's to the unit.
 *
 * A value is a 16-byte header — "HYLL", an encoding byte (0 dense,
 * 1 sparse), three unused bytes, the cached cardinality as 8 bytes little
 * endian whose top bit marks it stale — followed by 16384 registers of
 * 6 bits. Dense: the registers packed least significant bit first (12288
 * bytes). Sparse: run-length opcodes — ZERO 00xxxxxx (1..64 empty
 * registers), XZERO 01xxxxxx yyyyyyyy (1..16384), VAL 1vvvvvxx (1..4
 * registers holding 1..32). A sparse value turns dense when a register
 * needs more than 32 or when it would grow past hll_sparse_max_bytes.
 * Elements hash with MurmurHash64A (seed 0xadc83b19): the low 14 bits pick
 * the register, the trailing zeros of the rest (+1) are its candidate. */
#ifndef RUNNEL_TYPES_HLL_H
#define RUNNEL_TYPES_HLL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/str.h"

#define HLL_REGISTERS 16384
#define HLL_HEADER_SIZE 16
#define HLL_DENSE_SIZE (HLL_HEADER_SIZE + HLL_REGISTERS * 6 / 8)
enum hll_encoding { HLL_DENSE = 0, HLL_SPARSE = 1 };

/* The sparse size past which a value turns dense (hll-sparse-max-bytes). */
extern long long hll_sparse_max_bytes;

/* MurmurHash64A, as Redis hashes elements. */
uint64_t hll_hash(const void *data, size_t len, uint64_t seed);
/* The register an element falls in and the value it offers (1..51). */
int hll_pattern(const void *ele, size_t len, long *index);

/* A new, empty sparse value (its cached cardinality valid and 0). */
str hll_new(void);
/* Whether bytes look like a HyperLogLog: header, known encoding, and the
 * exact size when dense. The sparse opcodes are checked as they are read. */
bool hll_is_valid(const char *p, size_t len);

/* Adds an element / raises a register to `count` (if lower) in the value
 * *s, which may move or turn dense. 1: changed, 0: no change, -1: the
 * sparse opcodes are corrupt. The cache is the caller's to invalidate. */
int hll_add(str *s, const void *ele, size_t len);
int hll_set(str *s, long index, int count);
/* Turns a sparse value dense (a dense one is left alone); false when the
 * opcodes are corrupt. */
bool hll_to_dense(str *s);

/* Raises each of the 16384 byte-wide registers of max to the value's;
 * false when a sparse value is corrupt. */
bool hll_merge(uint8_t *max, const char *p, size_t len);
/* The estimate (Ertl's improved estimator, as Redis 5+): of a value
 * (false when corrupt), or of byte-wide registers. */
bool hll_count(const char *p, size_t len, uint64_t *card);
uint64_t hll_count_registers(const uint8_t *registers);

/* The cached cardinality: read (false when stale), store, mark stale. */
bool hll_cache_get(const char *p, uint64_t *card);
void hll_cache_set(char *p, uint64_t card);
void hll_cache_invalidate(char *p);

/* One dense register. */
int hll_dense_get(const uint8_t *registers, long index);

#endif
