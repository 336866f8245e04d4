/* command: the specification of one command — its name, implementation,
 * arity, flags and key positions. Each module exports a table of these
 * (terminated by an entry with a NULL name); the server's command table
 * gathers them, and dispatch checks arity and flags once, from here. */
#ifndef RUNNEL_PROTOCOL_COMMAND_H
#define RUNNEL_PROTOCOL_COMMAND_H

#include <stdint.h>

#include "protocol/request.h"

enum command_flags {
    CMD_WRITE = 1 << 0,
    CMD_READONLY = 1 << 1,
    CMD_DENYOOM = 1 << 2,    /* refused when over maxmemory */
    CMD_ADMIN = 1 << 3,
    CMD_PUBSUB = 1 << 4,
    CMD_NOSCRIPT = 1 << 5,
    CMD_BLOCKING = 1 << 6,
    CMD_LOADING = 1 << 7,    /* allowed while loading */
    CMD_STALE = 1 << 8,
    CMD_SKIP_MONITOR = 1 << 9,
    CMD_SKIP_SLOWLOG = 1 << 10,
    CMD_FAST = 1 << 11,
    CMD_NO_AUTH = 1 << 12,   /* allowed before AUTH */
    CMD_MAY_REPLICATE = 1 << 13,
    CMD_NO_MULTI = 1 << 14,  /* refused inside MULTI */
    CMD_ALLOW_BUSY = 1 << 15,
    CMD_SUBSCRIBED_OK = 1 << 16, /* allowed in RESP2 subscribed mode */
    CMD_MULTI_CONTROL = 1 << 17, /* EXEC, DISCARD, MULTI, WATCH: run even when queuing */
    CMD_MOVABLE_KEYS = 1 << 18,
};

/* Per-command latency histogram (LATENCY HISTOGRAM), in Redis's points
 * (server/latency.h): counter 0 holds calls of 0 µs, counter 1 calls of
 * 1 µs, counter k + 1 (k >= 1) calls of more than point k - 1 and at most
 * point k; the last also takes everything slower. */
#define COMMAND_LATENCY_BUCKETS 22

struct command;
/* Finds the key argument positions of a request whose keys move with its
 * arguments (numkeys, STREAMS ...); fills up to `max` positions, returns the count. */
typedef int command_keys_fn(const struct command *cmd, struct arg *argv, int argc, int *positions, int max);
/* The flags one call really has when they depend on its arguments (EVAL:
 * what its script's shebang declares). */
typedef uint32_t command_flags_fn(const struct command *cmd, const struct arg *argv, int argc);

struct command {
    const char *name;
    void (*proc)(struct request *req);
    int arity; /* exact argc if > 0; at least -arity if < 0 */
    uint32_t flags;
    int first_key, last_key, key_step; /* last_key -1: the last argument */
    const char *acl_categories;        /* "@read @string @fast" */
    const char *group;                 /* "string", "generic", ... for COMMAND DOCS */
    const char *summary;
    const char *since;
    const char *complexity;
    struct command *subcommands; /* NULL-name terminated, or NULL */
    command_keys_fn *keys;       /* for CMD_MOVABLE_KEYS */
    command_flags_fn *flags_of;  /* NULL: every call has `flags` */

    /* statistics, kept by dispatch */
    const char *full_name; /* "config|get" for subcommands */
    struct command *parent;
    long long calls;
    long long usec;
    long long rejected_calls;
    long long failed_calls;
    long long latency_hist[COMMAND_LATENCY_BUCKETS];
    /* scripting: whether redis.call may run it, decided at its first call
     * (0: not yet, 1: allowed, -1: refused) */
    signed char script_verdict;
    /* ACL (server/acl_rules.c fills them once every table is known): the
     * command's number in users' command bitmaps, its category bits, and
     * what its keys need (enum acl_perm bits) by key-spec index, the last
     * entry standing for every later key */
    int acl_id;
    uint64_t acl_cats;
    uint8_t acl_key_perms[4];
    uint8_t acl_traits; /* enum acl_traits of server/acl_user.h */
};

#endif
