#include "protocol/outbuf.h"

#include <errno.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "util/mem.h"

#define OUTBUF_MAX_IOV 128

static struct outblock *outblock_alloc(size_t capacity, bool shared)
{
    struct outblock *b = mem_alloc(sizeof(*b) + capacity);
    b->refcount = 1;
    b->used = 0;
    b->capacity = (uint32_t)capacity;
    b->shared = shared;
    return b;
}

struct outblock *outblock_new(size_t capacity)
{
    return outblock_alloc(capacity, true);
}

void outblock_append(struct outblock *b, const void *data, size_t len)
{
    memcpy(b->data + b->used, data, len);
    b->used += (uint32_t)len;
}

void outblock_release(struct outblock *b)
{
    if (b && --b->refcount == 0) mem_free(b);
}

void outbuf_init(struct outbuf *o)
{
    memset(o, 0, sizeof(*o));
    o->resp = 2;
}

static struct outseg *outbuf_seg_at(struct outbuf *o, uint32_t offset)
{
    return &o->segs[(o->head + offset) % o->capacity];
}

void outbuf_clear(struct outbuf *o)
{
    for (uint32_t i = 0; i < o->count; i++) outblock_release(outbuf_seg_at(o, i)->block);
    o->head = o->count = 0;
    o->pending = o->pending_shared = 0;
    if (o->home) o->home->used = 0;
}

void outbuf_free(struct outbuf *o)
{
    outbuf_clear(o);
    mem_free(o->segs);
    outblock_release(o->home);
    o->segs = NULL;
    o->home = NULL;
    o->capacity = 0;
}

/* Adds a segment at the tail, taking a reference on its block; the ring grows
 * (keeping order, head back at 0) when full. */
static struct outseg *outbuf_push_seg(struct outbuf *o, struct outblock *b, uint32_t start, uint32_t end)
{
    if (o->count == o->capacity) {
        uint32_t cap = o->capacity ? o->capacity * 2 : 8;
        struct outseg *segs = mem_alloc(sizeof(*segs) * cap);
        for (uint32_t i = 0; i < o->count; i++) segs[i] = *outbuf_seg_at(o, i);
        mem_free(o->segs);
        o->segs = segs;
        o->capacity = cap;
        o->head = 0;
    }
    struct outseg *s = &o->segs[(o->head + o->count) % o->capacity];
    o->count++;
    s->block = b;
    s->start = start;
    s->end = end;
    if (b) b->refcount++;
    return s;
}

/* A tail segment that `need` more bytes can be appended to in place: its
 * block is private with room, and the segment ends where the block's bytes
 * end (else a new segment on the same block is started). NULL if none. */
static struct outseg *outbuf_writable_tail(struct outbuf *o, size_t need)
{
    if (o->count == 0) return NULL;
    struct outseg *s = outbuf_seg_at(o, o->count - 1);
    struct outblock *b = s->block;
    if (!b || b->shared || b->capacity - b->used < need) return NULL;
    if (s->end == b->used) return s;
    return outbuf_push_seg(o, b, b->used, b->used);
}

/* Starts a tail segment on a private block with room for `need` bytes: the
 * home block when nothing references it, else a new block. */
static struct outseg *outbuf_new_tail(struct outbuf *o, size_t need)
{
    if (!o->home) o->home = outblock_alloc(OUTBLOCK_SIZE, false);
    if (o->home->refcount == 1 && need <= o->home->capacity) {
        o->home->used = 0;
        return outbuf_push_seg(o, o->home, 0, 0);
    }
    struct outblock *b = outblock_alloc(need > OUTBLOCK_SIZE ? need : OUTBLOCK_SIZE, false);
    struct outseg *s = outbuf_push_seg(o, b, 0, 0);
    b->refcount--; /* the segment's reference is the only one */
    return s;
}

static struct outseg *outbuf_tail_for(struct outbuf *o, size_t need)
{
    struct outseg *s = outbuf_writable_tail(o, need);
    return s ? s : outbuf_new_tail(o, need);
}

char *outbuf_reserve(struct outbuf *o, size_t len)
{
    struct outseg *s = outbuf_tail_for(o, len);
    return s->block->data + s->block->used;
}

void outbuf_commit(struct outbuf *o, size_t len)
{
    if (o->muted) return;
    struct outseg *s = outbuf_seg_at(o, o->count - 1);
    s->block->used += (uint32_t)len;
    s->end += (uint32_t)len;
    o->pending += len;
}

/* Copies bytes in, filling the tail block and spilling into new blocks, so a
 * large reply is split over blocks rather than needing one huge block. */
void outbuf_append(struct outbuf *o, const void *data, size_t len)
{
    if (o->muted) return;
    const char *p = data;
    while (len > 0) {
        struct outseg *s = outbuf_writable_tail(o, 1);
        if (!s) s = outbuf_new_tail(o, len < OUTBLOCK_SIZE ? len : OUTBLOCK_SIZE);
        struct outblock *b = s->block;
        size_t room = b->capacity - b->used;
        size_t n = len < room ? len : room;
        memcpy(b->data + b->used, p, n);
        b->used += (uint32_t)n;
        s->end += (uint32_t)n;
        o->pending += n;
        p += n;
        len -= n;
    }
}

void outbuf_append_shared(struct outbuf *o, struct outblock *b)
{
    if (o->muted || b->used == 0) return;
    outbuf_push_seg(o, b, 0, b->used);
    o->pending += b->used;
    o->pending_shared += b->used;
}

outbuf_mark outbuf_defer(struct outbuf *o)
{
    if (o->muted) return UINT32_MAX;
    outbuf_push_seg(o, NULL, 0, 0);
    return o->count - 1;
}

/* Writes the placeholder's bytes at the end of a private block and points the
 * placeholder segment at them; later appends start a segment of their own. */
void outbuf_fill_deferred(struct outbuf *o, outbuf_mark mark, const void *data, size_t len)
{
    if (mark == UINT32_MAX || o->muted) return;
    struct outseg *tail = outbuf_tail_for(o, len);
    struct outblock *b = tail->block;
    uint32_t start = b->used;
    memcpy(b->data + start, data, len);
    b->used += (uint32_t)len;
    struct outseg *s = outbuf_seg_at(o, mark);
    s->block = b;
    s->start = start;
    s->end = start + (uint32_t)len;
    b->refcount++;
    o->pending += len;
    if (tail->start == tail->end) { /* the tail we made was only for the header */
        outblock_release(b);
        o->count--;
    }
}

/* Drops the first `n` written bytes from the queue. */
static void outbuf_consume(struct outbuf *o, size_t n)
{
    o->pending -= n;
    while (o->count > 0) {
        struct outseg *s = outbuf_seg_at(o, 0);
        if (!s->block) break;
        size_t seg_len = s->end - s->start;
        size_t take = n < seg_len ? n : seg_len;
        if (s->block->shared) o->pending_shared -= take;
        n -= take;
        if (take < seg_len) {
            s->start += (uint32_t)take;
            break;
        }
        outblock_release(s->block);
        o->head = (o->head + 1) % o->capacity;
        o->count--;
    }
    if (o->count == 0) {
        o->head = 0;
        if (o->capacity > 1024) {
            mem_free(o->segs);
            o->segs = NULL;
            o->capacity = 0;
        }
    }
}

ssize_t outbuf_write_conn(struct outbuf *o, struct net_conn *conn)
{
    struct iovec iov[OUTBUF_MAX_IOV];
    size_t total = 0;
    while (o->pending > 0) {
        int n = 0;
        size_t offered = 0;
        for (uint32_t i = 0; i < o->count && n < OUTBUF_MAX_IOV; i++) {
            struct outseg *s = outbuf_seg_at(o, i);
            if (!s->block) break;
            if (s->end == s->start) continue;
            iov[n].iov_base = s->block->data + s->start;
            iov[n].iov_len = s->end - s->start;
            offered += iov[n].iov_len;
            n++;
        }
        if (n == 0) break;
        ssize_t w = net_conn_writev(conn, iov, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) break;
            return -1;
        }
        total += (size_t)w;
        outbuf_consume(o, (size_t)w);
        if ((size_t)w < offered) break;
    }
    if (o->pending == 0) outbuf_consume(o, 0); /* drop empty segments */
    return (ssize_t)total;
}

void outbuf_release_idle(struct outbuf *o)
{
    if (o->count > 0) return;
    mem_free(o->segs);
    o->segs = NULL;
    o->capacity = 0;
    o->head = 0;
    if (o->home && o->home->refcount == 1) {
        outblock_release(o->home);
        o->home = NULL;
    }
}

size_t outbuf_memory(const struct outbuf *o)
{
    size_t bytes = o->home ? sizeof(struct outblock) + o->home->capacity : 0;
    bytes += o->capacity * sizeof(struct outseg);
    for (uint32_t i = 0; i < o->count; i++) {
        const struct outseg *s = &o->segs[(o->head + i) % o->capacity];
        if (s->block && s->block != o->home && !s->block->shared) bytes += s->block->capacity;
    }
    return bytes;
}
