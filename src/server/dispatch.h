/* dispatch: runs one parsed command for a client — lookup, the checks every
 * command shares (arity, auth, subscribed mode, MULTI queuing, maxmemory,
 * pause), the call itself, and the bookkeeping after it (statistics,
 * slowlog, monitors, transactions). */
#ifndef RUNNEL_SERVER_DISPATCH_H
#define RUNNEL_SERVER_DISPATCH_H

#include "server/client.h"

void dispatch_command(struct client *c);
/* Re-reads the wall clock that commands' time is derived from. */
void dispatch_refresh_clock(void);
/* Executes a command for a client with arguments it already checked (EXEC). */
void dispatch_call(struct client *c, struct command *cmd, int argc, struct arg *argv, uint32_t req_flags);
/* Counts the error replies a blocked or held client got when it was let go
 * (a group destroyed, CLIENT UNBLOCK ERROR, a refused cluster change...) in
 * INFO errorstats and its command's failed_calls, as Redis does. */
void dispatch_count_late_errors(struct client *c);
/* Releases per-client state owned by other modules (transaction, watches,
 * subscriptions, blocking) before the client is freed. */
void dispatch_client_closing(struct client *c);
void dispatch_subscription_counts(struct client *c, int *sub, int *psub, int *ssub);
/* Resumes clients held by CLIENT PAUSE once it ends. */
void dispatch_resume_paused(void);

#endif
