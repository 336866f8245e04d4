/* tracking: client-side caching (CLIENT TRACKING). A tracking client is
 * told when keys it may have cached change: in the default mode, the keys
 * it read (remembered in a table of key -> client ids, dropped once
 * invalidated); in BCAST mode, every key under its prefixes. Invalidations
 * are RESP3 pushes (">2 invalidate [keys]") or, redirected to a RESP2
 * client subscribed to __redis__:invalidate, messages on that channel; a
 * flush sends a null instead of keys.
 *
 * Keys reach it through the same path as WATCH: db/watch.c calls
 * db_hooks.key_touched for every changed key and db_hooks.db_flushed for
 * every emptied database; both are installed only while some client
 * tracks, so that nobody else pays for them. */
#ifndef RUNNEL_SERVER_TRACKING_H
#define RUNNEL_SERVER_TRACKING_H

#include <stdbool.h>
#include <stddef.h>

#include "protocol/command.h"
#include "util/str.h"

struct client;

void tracking_init(void);

/* Around each command dispatch runs: push marks c as the caller unless an
 * outer command is running (EXEC, a script), pop remembers the keys a
 * read-only command read for the caller, ends a CLIENT CACHING yes/no that
 * applied to this command, and after the outermost command delivers what
 * the caller is owed (its own invalidations come after its reply). */
struct client *tracking_push(struct client *c);
void tracking_pop(struct client *outer, struct client *c, struct command *cmd, int argc, struct arg *argv);
/* Whether any client tracks (or a command began while one did): without
 * one, commands pay nothing but this test. */
extern bool tracking_active;

static inline struct client *tracking_caller_push(struct client *c)
{
    return tracking_active ? tracking_push(c) : NULL;
}

static inline void tracking_caller_pop(struct client *outer, struct client *c, struct command *cmd, int argc,
                                       struct arg *argv)
{
    if (tracking_active) tracking_pop(outer, c, cmd, argc, argv);
}

/* Before the loop sleeps: BCAST invalidations collected this iteration, and
 * a flush's nulls. */
void tracking_before_sleep(void);
/* The client is closing or RESET: tracking off for it. */
void tracking_client_closing(struct client *c);

/* CLIENT LIST / INFO: appends t, R, B as Redis's flags do; the redirect id
 * (-1 when tracking is off). */
char *tracking_client_flags(const struct client *c, char *p);
long long tracking_redirect_id(const struct client *c);
/* INFO: clients with tracking on, keys and (key, client) items in the
 * table, BCAST prefixes. */
long long tracking_clients_count(void);
str tracking_info_stats(str s);

/* CLIENT TRACKING, CACHING, GETREDIR, TRACKINGINFO. */
void cmd_client_tracking(struct request *req);
void cmd_client_caching(struct request *req);
void cmd_client_getredir(struct request *req);
void cmd_client_trackinginfo(struct request *req);

#endif
