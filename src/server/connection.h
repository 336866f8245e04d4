/* connection: accepting clients, reading their requests, queuing their
 * replies and flushing them before the loop sleeps. */
#ifndef RUNNEL_SERVER_CONNECTION_H
#define RUNNEL_SERVER_CONNECTION_H

#include "server/client.h"

/* Binds the configured addresses on port and tls-port; returns -1 (logged, nothing left open)
 * when a required one or every one fails. */
int listeners_open(void);
void listeners_close(void);
/* CONFIG SET hooks of port, tls-port and bind: rebind when the values changed; -1
 * with Redis's reason when the new sockets could not be opened (the caller
 * rolls the call back, which rebinds the old values). */
int listeners_port_hook(const char **err);
int listeners_bind_hook(const char **err);
/* A non-blocking TCP socket listening on addr:port ("*" and "::*" mean
 * every IPv4 or IPv6 address), or -1 with errno set. The HTTP endpoint
 * binds its own port with it. */
int listener_bind(const char *addr, int port);

/* A client for an open connection (which it then owns), or with NULL a
 * socketless one (AOF and snapshot loading, scripts): that one is not in
 * the client list, so CLIENT LIST does not show it, CLIENT KILL can't free
 * it under its owner, and it does not count as a connection. */
struct client *client_create(struct net_conn *conn);
/* Frees now, or later if the client is executing a command. */
void client_close(struct client *c);
void client_close_async(struct client *c);
/* Queues the client for a flush before the next sleep. */
void client_mark_pending_write(struct client *c);
/* Runs the commands already in the client's query buffer (after a read, or
 * after it was unblocked). */
void client_process_input(struct client *c);
/* Appends bytes to the client's query buffer as if read from its socket,
 * and runs the commands they complete (a replica's first stream bytes,
 * read with the primary's reply). */
void client_feed_input(struct client *c, const char *bytes, size_t len);
/* Queues bytes for the client's socket even while its replies are off
 * (CLIENT_REPLY_OFF): what the server itself sends a replica (its snapshot,
 * shared by all receivers as one block) or a primary (ACKs). */
void client_send_raw(struct client *c, const void *bytes, size_t len);
void client_send_block(struct client *c, struct outblock *b);
/* Bytes the client is owed: replies, and for a replica its unsent stream. */
size_t client_output_pending(struct client *c);
/* Flushes every pending client; registers EV_WRITE for those whose socket is full. */
void connections_flush_pending(void);
/* Closes clients marked CLOSE_ASAP. */
void connections_reap(void);
struct client *client_by_id(uint64_t id);
/* Runs the command a CLIENT PAUSE held back, then the rest of the input. */
void client_resume_pending_command(struct client *c);
void client_select_db(struct client *c, int index);
/* Formats one CLIENT LIST / CLIENT INFO line (no trailing newline). */
str client_info_line(struct client *c, str s);
/* Idle timeouts and output-limit checks, from the cron. */
void connections_cron(void);
/* Enforces client-output-buffer-limit for one client; true if it was closed. */
bool client_check_output_limits(struct client *c);

#endif
