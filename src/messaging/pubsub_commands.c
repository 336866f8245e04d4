/* Pub/sub commands: SUBSCRIBE UNSUBSCRIBE PSUBSCRIBE PUNSUBSCRIBE SSUBSCRIBE
 * SUNSUBSCRIBE PUBLISH SPUBLISH PUBSUB. Classic, pattern and sharded forms
 * differ only in the kind they pass. */
#include "db/oplog.h"
#include "messaging/pubsub.h"

#include "protocol/reply.h"

static void subscribe_kind(struct request *req, enum pubsub_kind kind)
{
    pubsub_subscribe_names(req->pubsub, req->client, req->out, kind, req->argv + 1, req->argc - 1);
}

static void unsubscribe_kind(struct request *req, enum pubsub_kind kind)
{
    pubsub_unsubscribe_names(req->pubsub, req->client, req->out, kind, req->argv + 1, req->argc - 1, true);
}

static void cmd_subscribe(struct request *req)
{
    subscribe_kind(req, PUBSUB_CHANNEL);
}

static void cmd_psubscribe(struct request *req)
{
    subscribe_kind(req, PUBSUB_PATTERN);
}

static void cmd_ssubscribe(struct request *req)
{
    subscribe_kind(req, PUBSUB_SHARD);
}

static void cmd_unsubscribe(struct request *req)
{
    unsubscribe_kind(req, PUBSUB_CHANNEL);
}

static void cmd_punsubscribe(struct request *req)
{
    unsubscribe_kind(req, PUBSUB_PATTERN);
}

static void cmd_sunsubscribe(struct request *req)
{
    unsubscribe_kind(req, PUBSUB_SHARD);
}

bool (*pubsub_cluster_forward)(bool shard, const char *channel, size_t clen, const char *msg, size_t mlen);

/* Subscribers elsewhere receive what is published here: in a cluster
 * through the links between nodes (which reach replicas too), otherwise
 * through the replication stream (never the AOF). */
static void publish_kind(struct request *req, enum pubsub_kind kind)
{
    const struct arg *ch = &req->argv[1], *msg = &req->argv[2];
    bool forwarded = pubsub_cluster_forward &&
                     pubsub_cluster_forward(kind == PUBSUB_SHARD, ch->ptr, ch->len, msg->ptr, msg->len);
    if (!forwarded && oplog_feeds_replication()) oplog_append_repl_only(-1, req->argc, req->argv);
    reply_int(req->out, pubsub_publish(kind, ch->ptr, ch->len, msg->ptr, msg->len));
}

static void cmd_publish(struct request *req)
{
    publish_kind(req, PUBSUB_CHANNEL);
}

static void cmd_spublish(struct request *req)
{
    publish_kind(req, PUBSUB_SHARD);
}

/* CHANNELS takes at most one pattern; Redis words the refusal as a
 * subcommand syntax error naming the subcommand as it was typed. */
static void channels_kind(struct request *req, enum pubsub_kind kind)
{
    if (req->argc > 3) {
        reply_errorf(req->out, "ERR unknown subcommand or wrong number of arguments for '%.128s'. Try PUBSUB HELP.",
                     req->argv[1].ptr);
        return;
    }
    pubsub_reply_channels(req->out, kind, req->argc == 3 ? &req->argv[2] : NULL);
}

static void cmd_pubsub_channels(struct request *req)
{
    channels_kind(req, PUBSUB_CHANNEL);
}

static void cmd_pubsub_shardchannels(struct request *req)
{
    channels_kind(req, PUBSUB_SHARD);
}

/* A flat array of name, count pairs in RESP3 too (as Redis 7 replies). */
static void numsub_kind(struct request *req, enum pubsub_kind kind)
{
    reply_array(req->out, 2LL * (req->argc - 2));
    for (int i = 2; i < req->argc; i++) {
        reply_bulk(req->out, req->argv[i].ptr, req->argv[i].len);
        reply_int(req->out, pubsub_subscriber_count(kind, req->argv[i].ptr, req->argv[i].len));
    }
}

static void cmd_pubsub_numsub(struct request *req)
{
    numsub_kind(req, PUBSUB_CHANNEL);
}

static void cmd_pubsub_shardnumsub(struct request *req)
{
    numsub_kind(req, PUBSUB_SHARD);
}

static void cmd_pubsub_numpat(struct request *req)
{
    reply_int(req->out, pubsub_registry_size(PUBSUB_PATTERN));
}

static void cmd_pubsub_help(struct request *req)
{
    static const char *const lines[] = {
        "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CHANNELS [<pattern>]",
        "    Return the currently active channels matching a <pattern> (default: '*').",
        "NUMPAT",
        "    Return number of subscriptions to patterns.",
        "NUMSUB [<channel> ...]",
        "    Return the number of subscribers for the specified channels, excluding",
        "    pattern subscriptions(default: no channels).",
        "SHARDCHANNELS [<pattern>]",
        "    Return the currently active shard level channels matching a <pattern> (default: '*').",
        "SHARDNUMSUB [<shardchannel> ...]",
        "    Return the number of subscribers for the specified shard level channel(s)",
        "HELP",
        "    Print this help.",
    };
    reply_help(req->out, lines, sizeof(lines) / sizeof(lines[0]));
}

#define PS (CMD_PUBSUB | CMD_LOADING | CMD_STALE)
#define SUB_FLAGS (PS | CMD_NOSCRIPT | CMD_SUBSCRIBED_OK)
static struct command pubsub_subcommands[] = {
    {"channels", cmd_pubsub_channels, -2, PS, 0, 0, 0, "@pubsub @slow", "pubsub", "Returns the active channels.",
     "2.8.0", "O(N) where N is the number of active channels"},
    {"numsub", cmd_pubsub_numsub, -2, PS, 0, 0, 0, "@pubsub @slow", "pubsub",
     "Returns a count of subscribers to channels.", "2.8.0", "O(N) for the NUMSUB subcommand"},
    {"numpat", cmd_pubsub_numpat, 2, PS, 0, 0, 0, "@pubsub @slow", "pubsub",
     "Returns a count of unique pattern subscriptions.", "2.8.0", "O(1)"},
    {"shardchannels", cmd_pubsub_shardchannels, -2, PS, 0, 0, 0, "@pubsub @slow", "pubsub",
     "Returns the active shard channels.", "7.0.0", "O(N) where N is the number of active shard channels"},
    {"shardnumsub", cmd_pubsub_shardnumsub, -2, PS, 0, 0, 0, "@pubsub @slow", "pubsub",
     "Returns the count of subscribers of shard channels.", "7.0.0", "O(N) for the SHARDNUMSUB subcommand"},
    {"help", cmd_pubsub_help, 2, CMD_LOADING | CMD_STALE, 0, 0, 0, "@slow", "pubsub",
     "Returns helpful text about the different subcommands.", "6.2.0", "O(1)"},
    {0},
};

struct command pubsub_commands[] = {
    {"subscribe", cmd_subscribe, -2, SUB_FLAGS, 0, 0, 0, "@pubsub @slow", "pubsub",
     "Listens for messages published to channels.", "2.0.0", "O(N) where N is the number of channels"},
    {"unsubscribe", cmd_unsubscribe, -1, SUB_FLAGS, 0, 0, 0, "@pubsub @slow", "pubsub",
     "Stops listening to messages posted to channels.", "2.0.0", "O(N) where N is the number of channels"},
    {"psubscribe", cmd_psubscribe, -2, SUB_FLAGS, 0, 0, 0, "@pubsub @slow", "pubsub",
     "Listens for messages published to channels that match one or more patterns.", "2.0.0",
     "O(N) where N is the number of patterns"},
    {"punsubscribe", cmd_punsubscribe, -1, SUB_FLAGS, 0, 0, 0, "@pubsub @slow", "pubsub",
     "Stops listening to messages published to channels that match one or more patterns.", "2.0.0",
     "O(N) where N is the number of patterns"},
    {"ssubscribe", cmd_ssubscribe, -2, SUB_FLAGS, 1, -1, 1, "@pubsub @slow", "pubsub",
     "Listens for messages published to shard channels.", "7.0.0", "O(N) where N is the number of shard channels"},
    {"sunsubscribe", cmd_sunsubscribe, -1, SUB_FLAGS, 1, -1, 1, "@pubsub @slow", "pubsub",
     "Stops listening to messages posted to shard channels.", "7.0.0",
     "O(N) where N is the number of shard channels"},
    {"publish", cmd_publish, 3, PS | CMD_FAST | CMD_MAY_REPLICATE, 0, 0, 0, "@pubsub @fast", "pubsub",
     "Posts a message to a channel.", "2.0.0",
     "O(N+M) where N is the number of clients subscribed to the receiving channel and M is the total number of "
     "subscribed patterns (by any client)."},
    {"spublish", cmd_spublish, 3, PS | CMD_FAST | CMD_MAY_REPLICATE, 1, 1, 1, "@pubsub @fast", "pubsub",
     "Post a message to a shard channel", "7.0.0",
     "O(N) where N is the number of clients subscribed to the receiving shard channel."},
    {"pubsub", NULL, -2, 0, 0, 0, 0, "@slow", "pubsub", "A container for Pub/Sub commands.", "2.8.0",
     "Depends on subcommand.", pubsub_subcommands},
    {0},
};
