#include "server/subscriptions.h"

#include "db/db.h"
#include "messaging/notify.h"
#include "messaging/pubsub.h"
#include "server/connection.h"
#include "server/info.h"

/* A message was queued for a subscriber: flush it before the loop sleeps, and
 * close it now if it owes more than its output limit allows. A client already
 * being closed keeps its subscriptions until it is reaped, so its queue is
 * muted: messages published meanwhile must not pile up in it. */
static void hook_delivered(void *client)
{
    struct client *c = client;
    if (!(c->flags & CLIENT_CLOSE_ASAP)) {
        client_mark_pending_write(c);
        if (!client_check_output_limits(c)) return;
    }
    outbuf_clear(&c->out);
    c->out.muted = true;
}

static void hook_subscriptions_changed(void *client, long long total)
{
    struct client *c = client;
    if (total > 0) c->flags |= CLIENT_PUBSUB;
    else c->flags &= ~CLIENT_PUBSUB;
}

/* Lazy and active expiry both end here (db/ knows nothing of pub/sub). */
static void hook_key_expired(struct db *db, const char *key, size_t len)
{
    notify_keyspace_event(db->id, key, len, NOTIFY_EXPIRED, "expired");
}

static void hook_key_added(struct db *db, const char *key, size_t len)
{
    notify_keyspace_event(db->id, key, len, NOTIFY_NEW, "new");
}

static void hook_key_overwritten(struct db *db, const char *key, size_t len, int old_type, int new_type)
{
    notify_keyspace_event(db->id, key, len, NOTIFY_OVERWRITTEN, "overwritten");
    if (old_type != new_type) notify_keyspace_event(db->id, key, len, NOTIFY_TYPE_CHANGED, "type_changed");
}

static void hook_key_missed(struct db *db, const char *key, size_t len)
{
    notify_keyspace_event(db->id, key, len, NOTIFY_KEY_MISS, "keymiss");
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
    db_hooks.key_expired = hook_key_expired;
    db_hooks.key_added = hook_key_added;
    db_hooks.key_missed = hook_key_missed;
    db_hooks.key_overwritten = hook_key_overwritten;
    info_pubsub_counts[0] = info_channels;
    info_pubsub_counts[1] = info_patterns;
    info_pubsub_counts[2] = info_shard_channels;
}

void subscriptions_client_closing(struct client *c)
{
    pubsub_client_release(&c->subscriptions);
}
