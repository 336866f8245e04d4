#include "messaging/notify.h"

#include <stdio.h>
#include <string.h>

#include "messaging/pubsub.h"
#include "util/mem.h"

int notify_flags = 0;
void (*notify_record_hook)(int db, const char *key, size_t len, const char *event);

/* Publishes `payload` on "<prefix><db>__:<suffix>"; the channel name is built
 * on the stack unless the suffix is long. */
static void notify_publish(const char *prefix, int db, const char *suffix, size_t slen, const char *payload,
                           size_t plen)
{
    char stack[256];
    char head[48];
    int n = snprintf(head, sizeof(head), "%s%d__:", prefix, db);
    size_t len = (size_t)n + slen;
    char *channel = len <= sizeof(stack) ? stack : mem_alloc(len);
    memcpy(channel, head, (size_t)n);
    memcpy(channel + n, suffix, slen);
    pubsub_publish(PUBSUB_CHANNEL, channel, len, payload, plen);
    if (channel != stack) mem_free(channel);
}

/* Publishes "__keyspace@<db>__:<key>" -> event and "__keyevent@<db>__:<event>"
 * -> key, each when its flag is on. Nothing is built while nobody listens on
 * any classic channel or pattern. */
void notify_keyspace_event(int db, const char *key, size_t len, int class, const char *event)
{
    if (!(notify_flags & class)) return;
    if (notify_record_hook) notify_record_hook(db, key, len, event);
    if (pubsub_registry_size(PUBSUB_CHANNEL) == 0 && pubsub_registry_size(PUBSUB_PATTERN) == 0) return;
    size_t elen = strlen(event);
    if (notify_flags & NOTIFY_KEYSPACE) notify_publish("__keyspace@", db, key, len, event, elen);
    if (notify_flags & NOTIFY_KEYEVENT) notify_publish("__keyevent@", db, event, elen, key, len);
}

int notify_parse_classes(const char *classes)
{
    int flags = 0;
    for (const char *p = classes; *p; p++) {
        switch (*p) {
        case 'A': flags |= NOTIFY_ALL; break;
        case 'g': flags |= NOTIFY_GENERIC; break;
        case '$': flags |= NOTIFY_STRING; break;
        case 'l': flags |= NOTIFY_LIST; break;
        case 's': flags |= NOTIFY_SET; break;
        case 'h': flags |= NOTIFY_HASH; break;
        case 'z': flags |= NOTIFY_ZSET; break;
        case 'x': flags |= NOTIFY_EXPIRED; break;
        case 'e': flags |= NOTIFY_EVICTED; break;
        case 'K': flags |= NOTIFY_KEYSPACE; break;
        case 'E': flags |= NOTIFY_KEYEVENT; break;
        case 't': flags |= NOTIFY_STREAM; break;
        case 'm': flags |= NOTIFY_KEY_MISS; break;
        case 'd': flags |= NOTIFY_MODULE; break;
        case 'n': flags |= NOTIFY_NEW; break;
        case 'o': flags |= NOTIFY_OVERWRITTEN; break;
        case 'c': flags |= NOTIFY_TYPE_CHANGED; break;
        default: return -1;
        }
    }
    return flags;
}

/* Redis's order: classes (or A), n, o, c, then K E m. Redis drops 'n' when 'A' is
 * shown, so CONFIG REWRITE would lose it; it is kept here. */
void notify_format_classes(int flags, char *buf)
{
    char *p = buf;
    if ((flags & NOTIFY_ALL) == NOTIFY_ALL) {
        *p++ = 'A';
    } else {
        static const struct { int flag; char letter; } letters[] = {
            {NOTIFY_GENERIC, 'g'}, {NOTIFY_STRING, '$'}, {NOTIFY_LIST, 'l'},    {NOTIFY_SET, 's'},
            {NOTIFY_HASH, 'h'},    {NOTIFY_ZSET, 'z'},   {NOTIFY_EXPIRED, 'x'}, {NOTIFY_EVICTED, 'e'},
            {NOTIFY_STREAM, 't'},  {NOTIFY_MODULE, 'd'},
        };
        for (size_t i = 0; i < sizeof(letters) / sizeof(letters[0]); i++)
            if (flags & letters[i].flag) *p++ = letters[i].letter;
    }
    if (flags & NOTIFY_NEW) *p++ = 'n';
    if (flags & NOTIFY_OVERWRITTEN) *p++ = 'o';
    if (flags & NOTIFY_TYPE_CHANGED) *p++ = 'c';
    if (flags & NOTIFY_KEYSPACE) *p++ = 'K';
    if (flags & NOTIFY_KEYEVENT) *p++ = 'E';
    if (flags & NOTIFY_KEY_MISS) *p++ = 'm';
    *p = '\0';
}
