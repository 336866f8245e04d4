/* conn_uring: the connection type for accepted plain TCP sockets when the
 * loop runs on io_uring (see conn_uring.c). For net/ only: the rest of the
 * server gets these through net_conn_create. */
#ifndef RUNNEL_NET_CONN_URING_H
#define RUNNEL_NET_CONN_URING_H

#include "net/conn.h"

struct net_conn *net_uring_conn_create(struct event_loop *loop, int fd);
/* Serves connections with input their handler has not taken yet, or a
 * write handler waiting for room (from net_conn_process_pending). */
void net_uring_conn_process_pending(void);

#endif
