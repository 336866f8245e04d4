/* outbuf: a client's queue of reply bytes not yet written to its socket.
 *
 * Bytes live in blocks; the queue is a ring of segments, each a byte range of
 * one block. A block is either private to one queue (replies are appended to
 * it in place) or shared by reference count: pub/sub encodes a message once
 * and every subscriber's queue holds a segment of that same block, so a slow
 * channel with 1,000 subscribers costs the message once, not 1,000 times.
 *
 * Each queue keeps one private "home" block that it reuses once flushed, so
 * small replies cost no allocation. The queue knows nothing of sockets; the
 * server flushes it with outbuf_write_conn. */
#ifndef RUNNEL_PROTOCOL_OUTBUF_H
#define RUNNEL_PROTOCOL_OUTBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "net/conn.h"

#define OUTBLOCK_SIZE (16 * 1024)

struct outblock {
    uint32_t refcount; /* segments referencing it, +1 for its owner */
    uint32_t used;
    uint32_t capacity;
    bool shared; /* made for several queues: never appended to in place */
    char data[];
};

struct outseg {
    struct outblock *block; /* NULL: a deferred-length placeholder not yet set */
    uint32_t start;
    uint32_t end;
};

struct outbuf {
    struct outseg *segs; /* ring */
    uint32_t head;
    uint32_t count;
    uint32_t capacity;
    struct outblock *home; /* reusable private block */
    size_t pending;        /* bytes queued, not yet written */
    size_t pending_shared; /* of which in shared blocks */
    uint8_t resp;          /* protocol version, 2 or 3 */
    bool muted;            /* CLIENT REPLY OFF/SKIP: appends are dropped */
    uint32_t errors;       /* error replies emitted, for error statistics */
    char last_error[48];   /* prefix of the last error reply ("ERR", "WRONGTYPE") */
};

void outbuf_init(struct outbuf *o);
void outbuf_free(struct outbuf *o);
/* Drops everything queued (a client being closed or reset). */
void outbuf_clear(struct outbuf *o);

/* Appends bytes to the queue, copying them into a private block. */
void outbuf_append(struct outbuf *o, const void *data, size_t len);
/* Returns a pointer where up to `len` bytes can be written directly; the
 * caller then commits what it wrote with outbuf_commit. */
char *outbuf_reserve(struct outbuf *o, size_t len);
void outbuf_commit(struct outbuf *o, size_t len);

/* Shared blocks: allocate, fill with outblock_append, queue to many outbufs
 * with outbuf_append_shared, and drop the creator's reference with
 * outblock_release. */
struct outblock *outblock_new(size_t capacity);
void outblock_append(struct outblock *b, const void *data, size_t len);
void outblock_release(struct outblock *b);
void outbuf_append_shared(struct outbuf *o, struct outblock *b);

/* A placeholder for bytes known only later (an array length counted while
 * the elements are written). Fill it exactly once with outbuf_fill_deferred
 * before the queue is flushed. */
typedef uint32_t outbuf_mark;
outbuf_mark outbuf_defer(struct outbuf *o);
void outbuf_fill_deferred(struct outbuf *o, outbuf_mark mark, const void *data, size_t len);

/* Writes as much as the connection takes (one writev of the segments); returns bytes written, 0
 * when the socket is full (EAGAIN), or -1 on a socket error. */
ssize_t outbuf_write_conn(struct outbuf *o, struct net_conn *conn);

/* Gives back the home block and the segment ring while nothing is queued
 * (idle clients then cost a few hundred bytes, not 16 KB). */
void outbuf_release_idle(struct outbuf *o);

/* Memory held by this queue (blocks it owns or shares), for CLIENT LIST omem. */
size_t outbuf_memory(const struct outbuf *o);

#endif
