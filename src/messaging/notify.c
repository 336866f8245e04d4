#include "messaging/notify.h"

#include <stdio.h>
#include <string.h>

#include "messaging/pubsub.h"
#include "util/str.h"

int notify_flags = 0;

/* Publishes "__keyspace@<db>__:<key>" -> event and "__keyevent@<db>__:<event>"
 * -> key, each when its flag is on. */
void notify_keyspace_event(int db, const char *key, size_t len, int class, const char *event)
{
    if (!(notify_flags & class)) return;
    char prefix[64];
    size_t elen = strlen(event);
    if (notify_flags & NOTIFY_KEYSPACE) {
        int n = snprintf(prefix, sizeof(prefix), "__keyspace@%d__:", db);
        str channel = str_new(prefix, (size_t)n);
        channel = str_append(channel, key, len);
        pubsub_publish(PUBSUB_CHANNEL, channel, str_len(channel), event, elen);
        str_free(channel);
    }
    if (notify_flags & NOTIFY_KEYEVENT) {
        int n = snprintf(prefix, sizeof(prefix), "__keyevent@%d__:", db);
        str channel = str_new(prefix, (size_t)n);
        channel = str_append(channel, event, elen);
        pubsub_publish(PUBSUB_CHANNEL, channel, str_len(channel), key, len);
        str_free(channel);
    }
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
        default: return -1;
        }
    }
    return flags;
}

/* Redis's order: classes (or A), n, then K E m. Redis drops 'n' when 'A' is
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
    if (flags & NOTIFY_KEYSPACE) *p++ = 'K';
    if (flags & NOTIFY_KEYEVENT) *p++ = 'E';
    if (flags & NOTIFY_KEY_MISS) *p++ = 'm';
    *p = '\0';
}
