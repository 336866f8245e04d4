/* blocked: the server's side of blocking commands — marking clients
 * blocked, their deadlines on the loop's timer heap, resuming them, and
 * CLIENT UNBLOCK. */
#ifndef RUNNEL_SERVER_BLOCKED_H
#define RUNNEL_SERVER_BLOCKED_H

#include "protocol/request.h"
#include "server/client.h"

void blocked_init(void);
/* Releases a client's wait when it disconnects. */
void blocked_client_closing(struct client *c);
/* Runs the input of clients unblocked since the last call (before sleeping). */
void blocked_resume_unblocked(void);
/* Holds a client blocked on something other than keys (WAIT, WAITAOF):
 * its pipelined input waits. blocked_release ends it once the reply is
 * queued; the rest of its input runs before the loop sleeps. */
void blocked_hold(struct client *c);
void blocked_release(struct client *c);
/* A client whose next command CLIENT PAUSE holds (CLIENT_PAUSED): counted
 * as blocked, as Redis counts it, until blocked_unpause. */
void blocked_pause(struct client *c);
void blocked_unpause(struct client *c);
void cmd_client_unblock(struct request *req);
long long blocked_client_count(void);

#endif
