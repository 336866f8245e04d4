/* hll: HyperLogLog registers in Redis's layout (see hll.h). The sparse
 * update follows Redis step for step — split the opcode that covers the
 * register, then merge equal neighbours in a window of five opcodes — so
 * that the bytes stay identical to what Redis builds from the same adds. */
#include "types/hll.h"

#include <math.h>
#include <string.h>

#define HLL_P 14
#define HLL_Q (64 - HLL_P)
#define HLL_SEED 0xadc83b19ULL
#define SPARSE_VAL_MAX_VALUE 32
#define SPARSE_VAL_MAX_LEN 4
#define SPARSE_ZERO_MAX_LEN 64

long long hll_sparse_max_bytes = 3000;

uint64_t hll_hash(const void *data, size_t len, uint64_t seed)
{
    const uint64_t m = 0xc6a4a7935bd1e995ULL;
    const uint8_t *p = data;
    uint64_t h = seed ^ ((uint64_t)len * m);
    size_t blocks = len / 8;
    for (size_t i = 0; i < blocks; i++, p += 8) {
        uint64_t k = 0;
        for (int b = 7; b >= 0; b--) k = (k << 8) | p[b]; /* little endian, on any host */
        k *= m;
        k ^= k >> 47;
        k *= m;
        h ^= k;
        h *= m;
    }
    size_t tail = len & 7;
    if (tail) {
        for (size_t b = tail; b-- > 0;) h ^= (uint64_t)p[b] << (8 * b);
        h *= m;
    }
    h ^= h >> 47;
    h *= m;
    h ^= h >> 47;
    return h;
}

int hll_pattern(const void *ele, size_t len, long *index)
{
    uint64_t h = hll_hash(ele, len, HLL_SEED);
    *index = (long)(h & (HLL_REGISTERS - 1));
    h = (h >> HLL_P) | ((uint64_t)1 << HLL_Q); /* bounds the count to Q + 1 */
    return __builtin_ctzll(h) + 1;
}

/* ---- header ---- */

static uint8_t *hll_registers(char *p)
{
    return (uint8_t *)p + HLL_HEADER_SIZE;
}

str hll_new(void)
{
    size_t len = HLL_HEADER_SIZE + 2;
    str s = str_resize(str_empty(len), len);
    memcpy(s, "HYLL", 4);
    s[4] = HLL_SPARSE;
    /* one XZERO opcode covering every register */
    s[HLL_HEADER_SIZE] = (char)(0x40 | ((HLL_REGISTERS - 1) >> 8));
    s[HLL_HEADER_SIZE + 1] = (char)((HLL_REGISTERS - 1) & 0xff);
    return s;
}

bool hll_is_valid(const char *p, size_t len)
{
    if (len < HLL_HEADER_SIZE || memcmp(p, "HYLL", 4) != 0) return false;
    if ((uint8_t)p[4] > HLL_SPARSE) return false;
    return p[4] != HLL_DENSE || len == HLL_DENSE_SIZE;
}

bool hll_cache_get(const char *p, uint64_t *card)
{
    const uint8_t *c = (const uint8_t *)p + 8;
    if (c[7] & 0x80) return false;
    *card = 0;
    for (int i = 7; i >= 0; i--) *card = (*card << 8) | c[i];
    return true;
}

void hll_cache_set(char *p, uint64_t card)
{
    for (int i = 0; i < 8; i++) p[8 + i] = (char)((card >> (8 * i)) & 0xff);
}

void hll_cache_invalidate(char *p)
{
    p[15] = (char)((uint8_t)p[15] | 0x80);
}

/* ---- dense ---- */

int hll_dense_get(const uint8_t *registers, long index)
{
    unsigned long bit = (unsigned long)index * 6;
    unsigned shift = bit & 7;
    const uint8_t *b = registers + bit / 8;
    unsigned v = b[0] >> shift;
    if (shift > 2) v |= (unsigned)b[1] << (8 - shift);
    return (int)(v & 63);
}

static void hll_dense_put(uint8_t *registers, long index, int value)
{
    unsigned long bit = (unsigned long)index * 6;
    unsigned shift = bit & 7;
    uint8_t *b = registers + bit / 8;
    b[0] = (uint8_t)((b[0] & ~(63u << shift)) | ((unsigned)value << shift));
    if (shift > 2) b[1] = (uint8_t)((b[1] & ~(63u >> (8 - shift))) | ((unsigned)value >> (8 - shift)));
}

static int hll_dense_set(uint8_t *registers, long index, int count)
{
    if (hll_dense_get(registers, index) >= count) return 0;
    hll_dense_put(registers, index, count);
    return 1;
}

/* ---- sparse opcodes ---- */

#define OP_IS_ZERO(p) (((p)[0] & 0xc0) == 0)
#define OP_IS_XZERO(p) (((p)[0] & 0xc0) == 0x40)
#define OP_IS_VAL(p) (((p)[0] & 0x80) != 0)
#define OP_ZERO_LEN(p) (((p)[0] & 0x3f) + 1)
#define OP_XZERO_LEN(p) (((((p)[0] & 0x3f) << 8) | (p)[1]) + 1)
#define OP_VAL_VALUE(p) ((((p)[0] >> 2) & 0x1f) + 1)
#define OP_VAL_LEN(p) (((p)[0] & 0x3) + 1)

/* Registers an opcode covers, and its size in bytes. */
static long op_span(const uint8_t *p, int *size)
{
    *size = OP_IS_XZERO(p) ? 2 : 1;
    if (OP_IS_ZERO(p)) return OP_ZERO_LEN(p);
    if (OP_IS_VAL(p)) return OP_VAL_LEN(p);
    return OP_XZERO_LEN(p);
}

static uint8_t op_val(int value, long len)
{
    return (uint8_t)(0x80 | ((value - 1) << 2) | (len - 1));
}

/* Writes a run of `len` empty registers as ZERO or XZERO; returns bytes. */
static int op_put_zeros(uint8_t *out, long len)
{
    if (len <= SPARSE_ZERO_MAX_LEN) {
        out[0] = (uint8_t)(len - 1);
        return 1;
    }
    out[0] = (uint8_t)(0x40 | ((len - 1) >> 8));
    out[1] = (uint8_t)((len - 1) & 0xff);
    return 2;
}

/* Calls fn(ctx, first, len, value) for each run of the sparse value;
 * false when the runs do not cover exactly the 16384 registers. */
typedef void hll_run_fn(void *ctx, long first, long len, int value);
static bool hll_sparse_walk(const uint8_t *p, const uint8_t *end, hll_run_fn *fn, void *ctx)
{
    long at = 0;
    while (p < end) {
        int size;
        long span = op_span(p, &size);
        if (at + span > HLL_REGISTERS || p + size > end) return false;
        fn(ctx, at, span, OP_IS_VAL(p) ? OP_VAL_VALUE(p) : 0);
        at += span;
        p += size;
    }
    return at == HLL_REGISTERS;
}

static void run_to_dense(void *ctx, long first, long len, int value)
{
    for (long i = 0; value && i < len; i++) hll_dense_put(ctx, first + i, value);
}

bool hll_to_dense(str *s)
{
    if ((*s)[4] == HLL_DENSE) return true;
    str dense = str_resize(str_empty(HLL_DENSE_SIZE), HLL_DENSE_SIZE);
    memcpy(dense, *s, HLL_HEADER_SIZE);
    dense[4] = HLL_DENSE;
    const uint8_t *p = hll_registers(*s);
    if (!hll_sparse_walk(p, (const uint8_t *)*s + str_len(*s), run_to_dense, hll_registers(dense))) {
        str_free(dense);
        return false;
    }
    str_free(*s);
    *s = dense;
    return true;
}

/* Merges equal VAL neighbours in the five opcodes from p on, as Redis
 * does after an update; returns the new end. */
static uint8_t *hll_sparse_merge_window(uint8_t *p, uint8_t *end)
{
    int scan = 5;
    while (p < end && scan--) {
        if (OP_IS_XZERO(p)) {
            p += 2;
            continue;
        }
        if (OP_IS_ZERO(p)) {
            p++;
            continue;
        }
        if (p + 1 < end && OP_IS_VAL(p + 1) && OP_VAL_VALUE(p) == OP_VAL_VALUE(p + 1)) {
            long len = OP_VAL_LEN(p) + OP_VAL_LEN(p + 1);
            if (len <= SPARSE_VAL_MAX_LEN) {
                p[1] = op_val(OP_VAL_VALUE(p), len);
                memmove(p, p + 1, (size_t)(end - p - 1));
                end--;
                continue; /* the merged opcode may merge again with the next */
            }
        }
        p++;
    }
    return end;
}

/* The opcodes replacing the one at p (covering first..first+span-1) once
 * register `index` holds `count`; returns their size (at most 5). */
static int hll_sparse_split(const uint8_t *p, long first, long span, long index, int count, uint8_t *seq)
{
    long last = first + span - 1;
    int n = 0;
    bool zero = !OP_IS_VAL(p);
    int cur = zero ? 0 : OP_VAL_VALUE(p);
    if (index != first) n += zero ? op_put_zeros(seq + n, index - first) : (seq[n] = op_val(cur, index - first), 1);
    seq[n++] = op_val(count, 1);
    if (index != last) n += zero ? op_put_zeros(seq + n, last - index) : (seq[n] = op_val(cur, last - index), 1);
    return n;
}

static int hll_promote(str *s, long index, int count)
{
    if (!hll_to_dense(s)) return -1;
    return hll_dense_set(hll_registers(*s), index, count);
}

static int hll_sparse_set(str *s, long index, int count)
{
    if (count > SPARSE_VAL_MAX_VALUE) return hll_promote(s, index, count);
    uint8_t *start = hll_registers(*s), *end = (uint8_t *)*s + str_len(*s), *p = start, *prev = NULL;
    long first = 0, span = 0;
    int size = 1;
    while (p < end) {
        span = op_span(p, &size);
        if (index <= first + span - 1) break;
        prev = p;
        p += size;
        first += span;
    }
    if (span == 0 || p >= end) return -1;
    if (OP_IS_VAL(p) && OP_VAL_VALUE(p) >= count) return 0;
    if ((OP_IS_VAL(p) || OP_IS_ZERO(p)) && span == 1) {
        *p = op_val(count, 1);
    } else {
        uint8_t seq[5];
        int n = hll_sparse_split(p, first, span, index, count, seq);
        long delta = n - size;
        if (delta > 0 && (long long)str_len(*s) + delta > hll_sparse_max_bytes) return hll_promote(s, index, count);
        size_t at = (size_t)(p - (uint8_t *)*s), tail = (size_t)(end - p) - (size_t)size;
        size_t prev_at = prev ? (size_t)(prev - (uint8_t *)*s) : 0;
        if (delta > 0) *s = str_resize(*s, str_len(*s) + (size_t)delta);
        p = (uint8_t *)*s + at;
        memmove(p + n, p + size, tail);
        memcpy(p, seq, (size_t)n);
        if (delta < 0) str_set_len(*s, str_len(*s) - (size_t)-delta);
        start = hll_registers(*s);
        end = (uint8_t *)*s + str_len(*s);
        prev = prev ? (uint8_t *)*s + prev_at : NULL;
    }
    uint8_t *new_end = hll_sparse_merge_window(prev ? prev : start, end);
    str_set_len(*s, (size_t)(new_end - (uint8_t *)*s));
    return 1;
}

int hll_set(str *s, long index, int count)
{
    if ((*s)[4] == HLL_DENSE) return hll_dense_set(hll_registers(*s), index, count);
    return hll_sparse_set(s, index, count);
}

int hll_add(str *s, const void *ele, size_t len)
{
    long index;
    int count = hll_pattern(ele, len, &index);
    return hll_set(s, index, count);
}

/* ---- merging and counting ---- */

static void run_to_max(void *ctx, long first, long len, int value)
{
    uint8_t *max = ctx;
    for (long i = 0; value && i < len; i++)
        if (max[first + i] < value) max[first + i] = (uint8_t)value;
}

bool hll_merge(uint8_t *max, const char *p, size_t len)
{
    const uint8_t *regs = (const uint8_t *)p + HLL_HEADER_SIZE;
    if (p[4] == HLL_SPARSE) return hll_sparse_walk(regs, (const uint8_t *)p + len, run_to_max, max);
    for (long i = 0; i < HLL_REGISTERS; i++) run_to_max(max, i, 1, hll_dense_get(regs, i));
    return true;
}

/* Ertl's sigma and tau series (arXiv:1702.01284), summed until the
 * double stops changing, as Redis sums them. */
static double hll_sigma(double x)
{
    if (x == 1.) return INFINITY;
    double y = 1, z = x, prev;
    do {
        x *= x;
        prev = z;
        z += x * y;
        y += y;
    } while (prev != z);
    return z;
}

static double hll_tau(double x)
{
    if (x == 0. || x == 1.) return 0.;
    double y = 1.0, z = 1 - x, prev;
    do {
        x = sqrt(x);
        prev = z;
        y *= 0.5;
        z -= pow(1 - x, 2) * y;
    } while (prev != z);
    return z / 3;
}

/* The estimate from a histogram of register values (0..Q+1). */
static uint64_t hll_estimate(const int *histo)
{
    double m = HLL_REGISTERS;
    double z = m * hll_tau((m - histo[HLL_Q + 1]) / m);
    for (int j = HLL_Q; j >= 1; j--) {
        z += histo[j];
        z *= 0.5;
    }
    z += m * hll_sigma(histo[0] / m);
    return (uint64_t)llroundl(0.721347520444481703680 * m * m / z);
}

uint64_t hll_count_registers(const uint8_t *registers)
{
    int histo[64] = {0};
    for (long i = 0; i < HLL_REGISTERS; i++) histo[registers[i] & 63]++;
    return hll_estimate(histo);
}

static void run_to_histogram(void *ctx, long first, long len, int value)
{
    (void)first;
    ((int *)ctx)[value] += (int)len;
}

bool hll_count(const char *p, size_t len, uint64_t *card)
{
    int histo[64] = {0};
    const uint8_t *regs = (const uint8_t *)p + HLL_HEADER_SIZE;
    if (p[4] == HLL_SPARSE) {
        if (!hll_sparse_walk(regs, (const uint8_t *)p + len, run_to_histogram, histo)) return false;
    } else {
        for (long i = 0; i < HLL_REGISTERS; i++) histo[hll_dense_get(regs, i)]++;
    }
    *card = hll_estimate(histo);
    return true;
}
