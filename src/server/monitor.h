/* monitor: MONITOR streams every command the server runs to the clients
 * that asked, as "+<time> [<db> <addr>] "arg" ..." lines. */
#ifndef RUNNEL_SERVER_MONITOR_H
#define RUNNEL_SERVER_MONITOR_H

#include "server/client.h"

void monitor_add(struct client *c);
void monitor_remove(struct client *c);
void monitor_feed(struct client *c, int argc, struct arg *argv);

#endif
