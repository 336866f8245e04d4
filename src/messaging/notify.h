/* notify: keyspace notifications (`notify-keyspace-events`). Types and the
 * expiry cycle report events here; when the event's class is enabled it is
 * published as __keyspace@<db>__:<key> and/or __keyevent@<db>__:<event>. */
#ifndef RUNNEL_MESSAGING_NOTIFY_H
#define RUNNEL_MESSAGING_NOTIFY_H

#include <stddef.h>

enum notify_class {
    NOTIFY_KEYSPACE = 1 << 0, /* K */
    NOTIFY_KEYEVENT = 1 << 1, /* E */
    NOTIFY_GENERIC = 1 << 2,  /* g */
    NOTIFY_STRING = 1 << 3,   /* $ */
    NOTIFY_LIST = 1 << 4,     /* l */
    NOTIFY_SET = 1 << 5,      /* s */
    NOTIFY_HASH = 1 << 6,     /* h */
    NOTIFY_ZSET = 1 << 7,     /* z */
    NOTIFY_EXPIRED = 1 << 8,  /* x */
    NOTIFY_EVICTED = 1 << 9,  /* e */
    NOTIFY_STREAM = 1 << 10,  /* t */
    NOTIFY_KEY_MISS = 1 << 11, /* m (not part of A) */
    NOTIFY_LOADED = 1 << 12,  /* module key loaded; unused */
    NOTIFY_MODULE = 1 << 13,  /* d */
    NOTIFY_NEW = 1 << 14,     /* n (not part of A) */
    NOTIFY_OVERWRITTEN = 1 << 15,  /* o: a key's value replaced whole (not part of A) */
    NOTIFY_TYPE_CHANGED = 1 << 16, /* c: ... by a value of another type (not part of A) */
    NOTIFY_ALL = NOTIFY_GENERIC | NOTIFY_STRING | NOTIFY_LIST | NOTIFY_SET | NOTIFY_HASH | NOTIFY_ZSET |
                 NOTIFY_EXPIRED | NOTIFY_EVICTED | NOTIFY_STREAM | NOTIFY_MODULE, /* A */
};

/* The enabled classes; 0 disables notifications (the default). */
extern int notify_flags;

/* Also told of every event whose class is enabled, whether or not K or E
 * is (the server's keyspace-events stream, server/keyspace_stream.c);
 * NULL when unused. */
extern void (*notify_record_hook)(int db, const char *key, size_t len, const char *event);

/* Reports an event on a key of database `db`: when `class` is enabled the
 * keyspace and keyevent messages are published (and the event recorded). */
void notify_keyspace_event(int db, const char *key, size_t len, int class, const char *event);

/* Parses a class string such as "KEA" or "Kgx"; returns -1 on an unknown letter. */
int notify_parse_classes(const char *classes);
/* Writes the canonical class string for `flags` into buf (at least 32 bytes). */
void notify_format_classes(int flags, char *buf);

#endif
