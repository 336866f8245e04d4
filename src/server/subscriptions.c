#include "server/subscriptions.h"

#include "messaging/pubsub.h"
#include "server/connection.h"
#include "server/info.h"

static void hook_delivered(void *client)
{
    struct client *c = client;
    if (c->flags & CLIENT_CLOSE_ASAP) return;
    client_mark_pending_write(c);
    client_check_output_limits(c);
}

static void hook_subscriptions_changed(void *client, long long total)
{
    struct client *c = client;
    if (total > 0) c->flags |= CLIENT_PUBSUB;
    else c->flags &= ~CLIENT_PUBSUB;
}

static long long info_channels(void)
{
    return pubsub_registry_size(PUBSUB_CHANNEL);
}

static long long info_patterns(void)
{
    return pubsub_registry_size(PUBSUB_PATTERN);
}

static long long info_shard_channels(void)
{
    return pubsub_registry_size(PUBSUB_SHARD);
}

void subscriptions_init(void)
{
    pubsub_init();
    pubsub_hooks.delivered = hook_delivered;
    pubsub_hooks.subscriptions_changed = hook_subscriptions_changed;
    info_pubsub_counts[0] = info_channels;
    info_pubsub_counts[1] = info_patterns;
    info_pubsub_counts[2] = info_shard_channels;
}

void subscriptions_client_closing(struct client *c)
{
    pubsub_client_release(&c->subscriptions);
}
