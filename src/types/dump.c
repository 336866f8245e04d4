/* dump: DUMP key, and RESTORE key ttl payload [REPLACE] [ABSTTL]
 * [IDLETIME seconds] [FREQ frequency], with Redis's checks in Redis's order
 * (options, an existing key, the TTL, the payload's trailer, its value).
 *
 * RESTORE is logged with an absolute deadline (RESTORE ... ABSTTL) so that
 * a replay recreates the key expiring when the original did; a RESTORE
 * whose deadline has already passed creates nothing and, when REPLACE
 * removed a key, is logged as the DEL it amounted to. */
#include "types/dump.h"

#include <limits.h>

#include "db/db.h"
#include "db/dump_payload.h"
#include "db/oplog.h"
#include "types/keyspace_events.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/numbers.h"

static void cmd_dump(struct request *req)
{
    struct object *o = db_find_read(req->db, req->argv[1].ptr, req->argv[1].len);
    if (!o) {
        reply_null(req->out);
        return;
    }
    str payload = dump_payload_create(o);
    if (!payload) {
        reply_errorf(req->out, "ERR values of type %s cannot be dumped", object_type_name(o));
        return;
    }
    reply_bulk(req->out, payload, str_len(payload));
    str_free(payload);
}

struct restore_args {
    bool replace;
    bool absttl;
    long long idle_s; /* -1: not given */
    long long freq;   /* -1: not given */
    long long ttl;
};

/* The options after the payload; IDLETIME and FREQ exclude each other (the
 * second one is a syntax error, as in Redis). */
static bool parse_restore_options(struct request *req, struct restore_args *a)
{
    for (int i = 4; i < req->argc; i++) {
        bool has_value = i + 1 < req->argc;
        if (ARG_IS(req, i, "REPLACE")) {
            a->replace = true;
        } else if (ARG_IS(req, i, "ABSTTL")) {
            a->absttl = true;
        } else if (ARG_IS(req, i, "IDLETIME") && has_value && a->freq == -1) {
            if (!request_ll(req, ++i, &a->idle_s)) return false;
            if (a->idle_s < 0) {
                reply_error(req->out, "ERR Invalid IDLETIME value, must be >= 0");
                return false;
            }
        } else if (ARG_IS(req, i, "FREQ") && has_value && a->idle_s == -1) {
            if (!request_ll(req, ++i, &a->freq)) return false;
            if (a->freq < 0 || a->freq > 255) {
                reply_error(req->out, "ERR Invalid FREQ value, must be >= 0 and <= 255");
                return false;
            }
        } else {
            reply_syntax_error(req->out);
            return false;
        }
    }
    return true;
}

/* Options, then BUSYKEY, then the TTL: Redis's order of refusals. */
static bool parse_restore(struct request *req, struct restore_args *a)
{
    *a = (struct restore_args){.idle_s = -1, .freq = -1};
    if (!parse_restore_options(req, a)) return false;
    if (!a->replace && db_find(req->db, req->argv[1].ptr, req->argv[1].len)) {
        reply_error(req->out, "BUSYKEY Target key name already exists.");
        return false;
    }
    if (!request_ll(req, 2, &a->ttl)) return false;
    if (a->ttl < 0) {
        reply_error(req->out, "ERR Invalid TTL value, must be >= 0");
        return false;
    }
    return true;
}

static struct object *decode_payload(struct request *req)
{
    struct object *o;
    char why[256];
    switch (dump_payload_load(req->argv[3].ptr, req->argv[3].len, &o, why, sizeof(why))) {
    case DUMP_PAYLOAD_OK: return o;
    case DUMP_PAYLOAD_BAD_TRAILER: reply_error(req->out, "ERR DUMP payload version or checksum are wrong"); break;
    case DUMP_PAYLOAD_BAD_DATA:
        log_verbose("RESTORE refused a payload: %s", why);
        reply_error(req->out, "ERR Bad data format");
        break;
    }
    return NULL;
}

/* Logs the request with its relative TTL turned into the deadline and
 * ABSTTL appended, so that replay expires the key when this one does. */
static void propagate_absolute(struct request *req, long long deadline)
{
    struct arg *argv = mem_alloc(sizeof(*argv) * (size_t)(req->argc + 1));
    for (int i = 0; i < req->argc; i++) argv[i] = req->argv[i];
    char ms[24];
    argv[2] = (struct arg){ms, format_ll(ms, deadline)};
    argv[req->argc] = (struct arg){"ABSTTL", 6};
    oplog_propagate(req, req->argc + 1, argv);
    mem_free(argv);
}

static void cmd_restore(struct request *req)
{
    struct arg *k = &req->argv[1];
    struct restore_args a;
    if (!parse_restore(req, &a)) return;
    struct object *o = decode_payload(req);
    if (!o) return;
    struct object *old = a.replace ? db_find(req->db, k->ptr, k->len) : NULL;
    int old_type = old ? (int)old->type : -1;
    bool deleted = a.replace && db_delete(req->db, k->ptr, k->len);
    long long deadline = a.ttl;
    if (deadline && !a.absttl) deadline = a.ttl > LLONG_MAX - db_now_ms ? LLONG_MAX : a.ttl + db_now_ms;
    /* a replay adds a key already past its deadline: later logged commands
     * may still touch it, and its expiry was logged as a DEL */
    if (deadline && deadline <= db_now_ms && !(req->flags & REQ_REPLAYING)) {
        object_free(o);
        if (deleted) {
            key_changed(req, k->ptr, k->len, NOTIFY_GENERIC, "del");
            struct arg del[2] = {{"DEL", 3}, *k};
            oplog_propagate(req, 2, del);
        }
        reply_ok(req->out);
        return;
    }
    db_add(req->db, k->ptr, k->len, o);
    object_set_access(o, a.idle_s, (int)a.freq);
    if (deadline) {
        db_set_expire(req->db, k->ptr, k->len, deadline);
        if (!a.absttl) propagate_absolute(req, deadline);
    }
    if (old_type != -1) db_report_overwrite(req->db, k->ptr, k->len, old_type, o->type);
    key_changed(req, k->ptr, k->len, NOTIFY_GENERIC, "restore");
    reply_ok(req->out);
}

struct command dump_commands[] = {
    {"dump", cmd_dump, 2, CMD_READONLY, 1, 1, 1, "@keyspace @read @slow", "generic",
     "Return a serialized version of the value stored at the specified key.", "2.6.0",
     "O(1) to access the key and additional O(N*M) to serialize it, where N is the number of Redis objects composing "
     "the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is "
     "small, so simply O(1)."},
    {"restore", cmd_restore, -4, CMD_WRITE | CMD_DENYOOM, 1, 1, 1, "@keyspace @write @slow @dangerous", "generic",
     "Create a key using the provided serialized value, previously obtained using DUMP.", "2.6.0",
     "O(1) to create the new key and additional O(N*M) to reconstruct the serialized value, where N is the number of "
     "Redis objects composing the value and M their average size. For small string values the time complexity is "
     "thus O(1)+O(1*M) where M is small, so simply O(1). However for sorted set values the complexity is "
     "O(N*M*log(N)) because inserting values into sorted sets is O(log(N))."},
    {"restore-asking", cmd_restore, -4, CMD_WRITE | CMD_DENYOOM, 1, 1, 1, "@keyspace @write @slow @dangerous", "generic",
     "Create a key using the provided serialized value, previously obtained using DUMP.", "3.0.0",
     "O(1) to create the new key and additional O(N*M) to reconstruct the serialized value, where N is the number of "
     "Redis objects composing the value and M their average size. For small string values the time complexity is "
     "thus O(1)+O(1*M) where M is small, so simply O(1). However for sorted set values the complexity is "
     "O(N*M*log(N)) because inserting values into sorted sets is O(log(N))."},
    {0},
};
