/* pubsub: channels, patterns and sharded channels, and delivery to their
 * subscribers.
 *
 * Classic channels, patterns and sharded channels are three kinds served by
 * the same functions through a small table of their differences (reply
 * names, registry, which counts a reply reports). A published message is
 * encoded once per protocol version into a shared, reference-counted block
 * that every subscriber's output queue references: fan-out costs one copy of
 * the message plus a few bytes per subscriber, however slow they read. */
#ifndef RUNNEL_MESSAGING_PUBSUB_H
#define RUNNEL_MESSAGING_PUBSUB_H

#include <stdbool.h>
#include <stddef.h>

#include "protocol/command.h"
#include "protocol/outbuf.h"

enum pubsub_kind { PUBSUB_CHANNEL = 0, PUBSUB_PATTERN = 1, PUBSUB_SHARD = 2, PUBSUB_KINDS = 3 };

struct pubsub_client;

/* How pub/sub reaches the server; set at start-up. */
struct pubsub_hooks {
    /* A message was queued on this client's output: flush it, check limits. */
    void (*delivered)(void *client);
    /* The client's subscription total changed (0 leaves subscribed mode). */
    void (*subscriptions_changed)(void *client, long long total);
};
extern struct pubsub_hooks pubsub_hooks;

void pubsub_init(void);
/* Drops every subscription of a client (disconnect, RESET) without replies. */
void pubsub_client_release(void **slot);
/* Subscription counts of a client, for CLIENT LIST. */
long long pubsub_client_count(void *const *slot, enum pubsub_kind kind);
/* True when fn holds for every name of `kind` the client owning `slot` is
 * subscribed to (stops at the first that does not): ACL re-checks. */
bool pubsub_client_all(void *const *slot, enum pubsub_kind kind, bool (*fn)(const char *name, size_t len, void *ctx),
                       void *ctx);

/* Delivers a message to subscribers of `channel` (and, for classic channels,
 * of matching patterns); returns how many deliveries were made. */
long long pubsub_publish(enum pubsub_kind kind, const char *channel, size_t clen, const char *msg, size_t mlen);

/* (Un)subscribes the client owning `slot` and replies one push per name. */
void pubsub_subscribe_names(void **slot, void *client, struct outbuf *out, enum pubsub_kind kind,
                            const struct arg *names, int count);
void pubsub_unsubscribe_names(void **slot, void *client, struct outbuf *out, enum pubsub_kind kind,
                              const struct arg *names, int count, bool reply);
/* PUBSUB CHANNELS / SHARDCHANNELS: names of `kind` matching the optional pattern. */
void pubsub_reply_channels(struct outbuf *out, enum pubsub_kind kind, const struct arg *pattern);
long long pubsub_subscriber_count(enum pubsub_kind kind, const char *name, size_t len);

/* Unsubscribes every client from the names of `kind` that `match` picks,
 * with the unsubscribe push each would get from UNSUBSCRIBE. */
void pubsub_drop_names(enum pubsub_kind kind, bool (*match)(const char *name, size_t len, void *ctx), void *ctx);

/* Registry sizes for INFO: channels, patterns, shard channels. */
long long pubsub_registry_size(enum pubsub_kind kind);

extern struct command pubsub_commands[];

/* Set by the cluster: forwards a published message to the other nodes;
 * true when it did (the replication stream then does not carry it). */
extern bool (*pubsub_cluster_forward)(bool shard, const char *channel, size_t clen, const char *msg, size_t mlen);

#endif
