/* subscriptions: the server's side of pub/sub — subscribed mode, flushing
 * subscribers as messages arrive, and their output limits. */
#ifndef RUNNEL_SERVER_SUBSCRIPTIONS_H
#define RUNNEL_SERVER_SUBSCRIPTIONS_H

#include "server/client.h"

void subscriptions_init(void);
void subscriptions_client_closing(struct client *c);

#endif
