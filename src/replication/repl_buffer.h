/* repl_buffer: the replication stream kept in memory — one list of blocks
 * that serves as the backlog (the last repl-backlog-size bytes, for partial
 * resyncs) and as every replica's output queue at once. A replica is a
 * cursor into the list, so a stream sent to N replicas is held once, not N
 * times; a block is freed when the backlog no longer needs it and every
 * cursor has passed it.
 *
 * Offsets count stream bytes from the beginning of the replication history
 * (Redis's master_repl_offset); the byte at offset p is the (p+1)-th. */
#ifndef RUNNEL_REPLICATION_REPL_BUFFER_H
#define RUNNEL_REPLICATION_REPL_BUFFER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "net/conn.h"

struct repl_block;

struct repl_cursor {
    struct repl_block *block; /* holds `pos`, or NULL until first used */
    long long pos;            /* next byte to send */
};

/* Starts an empty stream at `offset` (dropping any previous one). */
void repl_buffer_reset(long long offset);
bool repl_buffer_active(void);
void repl_buffer_free(void);

void repl_buffer_append(const char *bytes, size_t len);
/* Offset after the last byte held (master_repl_offset). */
long long repl_buffer_end(void);
/* Offset of the first byte still held. */
long long repl_buffer_start(void);
/* Whether a replica may continue from `pos`: the bytes from there are held. */
bool repl_buffer_covers(long long pos);
size_t repl_buffer_memory(void);

/* Frees the blocks that lie wholly before both the backlog's window
 * (`backlog_size` bytes back from the end) and `oldest_cursor`. */
void repl_buffer_trim(long long backlog_size, long long oldest_cursor);

void repl_cursor_seek(struct repl_cursor *c, long long pos);
/* Bytes from the cursor to the end. */
long long repl_cursor_pending(const struct repl_cursor *c);
/* Writes from the cursor to the connection (writev) and advances it: bytes written, 0
 * when the socket is full, -1 on a socket error. */
ssize_t repl_cursor_write(struct repl_cursor *c, struct net_conn *conn);

#endif
