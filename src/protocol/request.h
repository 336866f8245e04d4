/* request: one command being executed — its arguments, where its reply goes,
 * and the context a command implementation may read. The server fills it;
 * command code in types/ and messaging/ sees only this, never a connection. */
#ifndef RUNNEL_PROTOCOL_REQUEST_H
#define RUNNEL_PROTOCOL_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <strings.h>

#include "protocol/outbuf.h"
#include "protocol/reply.h"

struct db;

struct arg {
    char *ptr;
    size_t len;
};

enum request_flags {
    REQ_IN_MULTI = 1 << 0,   /* inside EXEC: blocking commands must not block */
    REQ_REPLAYING = 1 << 1,  /* replayed from the AOF: no client is waiting */
    REQ_DIRTY = 1 << 2,      /* the command changed the dataset */
    REQ_PROPAGATED = 1 << 3, /* the command logged its own effect (db/oplog.h) */
};

struct request {
    int argc;
    struct arg *argv;
    struct outbuf *out;
    struct db *db;
    void *client;      /* opaque to layers below server/ */
    void **pubsub;     /* the client's subscription state slot (messaging/pubsub) */
    uint64_t client_id;
    uint32_t flags;
    long long dirty;   /* changes made, for `save` rules and the AOF */
};

#define ARG_IS(req, i, literal) \
    ((req)->argv[i].len == sizeof(literal) - 1 && strncasecmp((req)->argv[i].ptr, literal, sizeof(literal) - 1) == 0)

/* Reads argument i as an integer; on failure replies Redis's error and returns false. */
bool request_ll(struct request *req, int i, long long *out);
/* Same, with a custom error message when not an integer or out of range. */
bool request_ll_msg(struct request *req, int i, long long *out, const char *msg);
bool request_ll_range(struct request *req, int i, long long min, long long max, long long *out, const char *msg);
bool request_double(struct request *req, int i, double *out);
/* Reads a timeout in seconds with decimals (BLPOP): replies and returns false
 * when negative or not a number; 0 means forever. Result in milliseconds. */
bool request_timeout_ms(struct request *req, int i, long long *out_ms, bool in_seconds);

/* The *MPOP family's arguments (LMPOP, ZMPOP and their blocking forms):
 * numkeys at argv[index] followed by that many keys, and after the side word
 * an optional COUNT n (1 when absent). Reply Redis's error and return false
 * when malformed. */
bool request_mpop_keys(struct request *req, int index, int *first_key, int *numkeys);
bool request_mpop_count(struct request *req, int first, long long *count);

void reply_wrong_type(struct outbuf *o);
void reply_syntax_error(struct outbuf *o);
void reply_wrong_arity(struct outbuf *o, const char *command);

#define ERR_WRONGTYPE "WRONGTYPE Operation against a key holding the wrong kind of value"
#define ERR_SYNTAX "ERR syntax error"
#define ERR_NOT_INTEGER "ERR value is not an integer or out of range"
#define ERR_NOT_FLOAT "ERR value is not a valid float"
#define ERR_NO_KEY "ERR no such key"
#define ERR_OVERFLOW "ERR increment or decrement would overflow"
#define ERR_LOADING "LOADING Runnel is loading the dataset in memory"
#define ERR_BUSY_SCRIPT "BUSY Runnel is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
#define ERR_BUSY_FUNCTION "BUSY Runnel is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE."

#endif
