/* multi: transactions — MULTI queues commands, EXEC runs them with no other
 * client in between, WATCH makes EXEC conditional on keys left unchanged. */
#ifndef RUNNEL_SERVER_MULTI_H
#define RUNNEL_SERVER_MULTI_H

#include "server/client.h"

/* Copies the client's current command into its transaction queue. */
void multi_queue(struct client *c, struct command *cmd);
/* Drops the queue and the watches, leaving MULTI state (DISCARD, RESET, close). */
void multi_discard(struct client *c);

#endif
