#include "replication/repl_buffer.h"

#include <errno.h>
#include <string.h>
#include <sys/uio.h>

#include "util/mem.h"

#define REPL_BLOCK_SIZE (64 * 1024)
#define REPL_WRITE_IOV 16

struct repl_block {
    struct repl_block *next;
    long long start; /* offset of data[0] */
    size_t used;
    size_t cap;
    char data[];
};

static struct {
    bool active;
    struct repl_block *head, *tail;
    long long start, end;
    size_t memory;
} buf;

void repl_buffer_free(void)
{
    struct repl_block *b = buf.head;
    while (b) {
        struct repl_block *next = b->next;
        mem_free(b);
        b = next;
    }
    buf.head = buf.tail = NULL;
    buf.memory = 0;
    buf.active = false;
}

void repl_buffer_reset(long long offset)
{
    repl_buffer_free();
    buf.active = true;
    buf.start = buf.end = offset;
}

bool repl_buffer_active(void)
{
    return buf.active;
}

static struct repl_block *block_new(long long start)
{
    struct repl_block *b = mem_alloc(sizeof(*b) + REPL_BLOCK_SIZE);
    b->next = NULL;
    b->start = start;
    b->used = 0;
    b->cap = REPL_BLOCK_SIZE;
    buf.memory += sizeof(*b) + REPL_BLOCK_SIZE;
    if (buf.tail) buf.tail->next = b;
    else buf.head = b;
    buf.tail = b;
    return b;
}

void repl_buffer_append(const char *bytes, size_t len)
{
    if (!buf.active) return;
    while (len > 0) {
        struct repl_block *b = buf.tail;
        if (!b || b->used == b->cap) b = block_new(buf.end);
        size_t n = b->cap - b->used < len ? b->cap - b->used : len;
        memcpy(b->data + b->used, bytes, n);
        b->used += n;
        buf.end += (long long)n;
        bytes += n;
        len -= n;
    }
}

long long repl_buffer_end(void)
{
    return buf.end;
}

long long repl_buffer_start(void)
{
    return buf.head ? buf.head->start : buf.end;
}

bool repl_buffer_covers(long long pos)
{
    return buf.active && pos >= repl_buffer_start() && pos <= buf.end;
}

size_t repl_buffer_memory(void)
{
    return buf.memory;
}

/* A block is kept while it holds the byte at `keep_from` or later, and the
 * tail always (new bytes go there; a cursor at the end points to it). */
void repl_buffer_trim(long long backlog_size, long long oldest_cursor)
{
    long long keep_from = buf.end - backlog_size;
    if (oldest_cursor < keep_from) keep_from = oldest_cursor;
    while (buf.head && buf.head != buf.tail && buf.head->start + (long long)buf.head->used <= keep_from) {
        struct repl_block *b = buf.head;
        buf.head = b->next;
        buf.memory -= sizeof(*b) + b->cap;
        mem_free(b);
    }
}

void repl_cursor_seek(struct repl_cursor *c, long long pos)
{
    c->pos = pos;
    c->block = buf.head;
    while (c->block && c->block->next && c->block->start + (long long)c->block->used <= pos) c->block = c->block->next;
}

long long repl_cursor_pending(const struct repl_cursor *c)
{
    return buf.end - c->pos;
}

ssize_t repl_cursor_write(struct repl_cursor *c, struct net_conn *conn)
{
    if (c->pos >= buf.end) return 0;
    if (!c->block) repl_cursor_seek(c, c->pos);
    struct iovec iov[REPL_WRITE_IOV];
    int n = 0;
    for (struct repl_block *b = c->block; b && n < REPL_WRITE_IOV; b = b->next) {
        long long from = c->pos > b->start ? c->pos - b->start : 0;
        if ((size_t)from >= b->used) continue;
        iov[n].iov_base = b->data + from;
        iov[n].iov_len = b->used - (size_t)from;
        n++;
    }
    ssize_t w;
    do {
        w = net_conn_writev(conn, iov, n);
    } while (w < 0 && errno == EINTR);
    if (w < 0) return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -1;
    c->pos += w;
    while (c->block->next && c->block->start + (long long)c->block->used <= c->pos) c->block = c->block->next;
    return w;
}
