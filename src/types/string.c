/* string: string values.
 *
 * Encoding: a value that is a canonical 64-bit integer is held in the object
 * itself (ENC_INT, no allocation beyond the object); a string up to 44 bytes
 * shares one allocation with its object (ENC_EMBSTR); longer or modified
 * strings are a separate growable str (ENC_RAW). See db/object.c.
 *
 * Commands: SET (EX PX EXAT PXAT NX XX KEEPTTL GET) GET GETDEL GETEX GETSET
 * MGET MSET MSETNX SETNX SETEX PSETEX APPEND STRLEN GETRANGE SUBSTR SETRANGE
 * INCR DECR INCRBY DECRBY INCRBYFLOAT. */
#include "types/string.h"

#include <limits.h>
#include <math.h>
#include <string.h>

#include "db/db.h"
#include "db/oplog.h"
#include "types/keyspace_events.h"
#include "util/numbers.h"
#include "util/str.h"

/* ---- low-level API ---- */

/* Looks up a key that must hold a string; replies WRONGTYPE (and returns
 * false) when it holds something else. *out is NULL when the key is missing.
 * Reads count keyspace hits and misses; writes do not, as in Redis. */
static bool string_lookup(struct request *req, int key_index, bool write, struct object **out)
{
    struct arg *k = &req->argv[key_index];
    struct object *o = write ? db_find(req->db, k->ptr, k->len) : db_find_read(req->db, k->ptr, k->len);
    if (o && o->type != OBJ_STRING) {
        reply_wrong_type(req->out);
        return false;
    }
    *out = o;
    return true;
}

static bool string_find(struct request *req, int key_index, struct object **out)
{
    return string_lookup(req, key_index, false, out);
}

static bool string_find_write(struct request *req, int key_index, struct object **out)
{
    return string_lookup(req, key_index, true, out);
}

static void reply_string_object(struct outbuf *out, const struct object *o)
{
    char buf[24];
    size_t len;
    const char *p = object_string_bytes(o, buf, &len);
    reply_bulk(out, p, len);
}

long long string_max_len = 512LL * 1024 * 1024;

static bool string_too_big(struct request *req, long long total)
{
    if (total <= string_max_len) return false;
    reply_error(req->out, "ERR string exceeds maximum allowed size (proto-max-bulk-len)");
    return true;
}

/* ---- SET and its family ---- */

enum set_flags {
    SET_NX = 1 << 0,
    SET_XX = 1 << 1,
    SET_GET = 1 << 2,
    SET_KEEPTTL = 1 << 3,
    SET_EX = 1 << 4,
    SET_PX = 1 << 5,
    SET_EXAT = 1 << 6,
    SET_PXAT = 1 << 7,
    SET_PERSIST = 1 << 8,
};

#define SET_EXPIRE_FLAGS (SET_EX | SET_PX | SET_EXAT | SET_PXAT)

struct expire_option {
    const char *name;
    int flag;
};

static const struct expire_option expire_options[] = {
    {"EX", SET_EX}, {"PX", SET_PX}, {"EXAT", SET_EXAT}, {"PXAT", SET_PXAT},
};

/* Turns an EX/PX/EXAT/PXAT amount into an absolute ms deadline; replies
 * Redis's error (naming `command`) when it is not positive or overflows. */
static bool expire_deadline(struct request *req, int flag, int arg_index, const char *command, long long *when)
{
    long long v;
    if (!request_ll(req, arg_index, &v)) return false;
    bool seconds = flag == SET_EX || flag == SET_EXAT;
    bool relative = flag == SET_EX || flag == SET_PX;
    if (v <= 0 || (seconds && v > LLONG_MAX / 1000)) {
        reply_errorf(req->out, "ERR invalid expire time in '%s' command", command);
        return false;
    }
    if (seconds) v *= 1000;
    if (relative) {
        if (v > LLONG_MAX - db_now_ms) {
            reply_errorf(req->out, "ERR invalid expire time in '%s' command", command);
            return false;
        }
        v += db_now_ms;
    }
    *when = v;
    return true;
}

/* Parses SET/GETEX options from argv[first..]; `allowed` limits which. */
static bool parse_set_options(struct request *req, int first, int allowed, int *flags, int *expire_arg)
{
    for (int i = first; i < req->argc; i++) {
        int flag = 0;
        bool takes_value = false;
        if (ARG_IS(req, i, "NX")) flag = SET_NX;
        else if (ARG_IS(req, i, "XX")) flag = SET_XX;
        else if (ARG_IS(req, i, "GET")) flag = SET_GET;
        else if (ARG_IS(req, i, "KEEPTTL")) flag = SET_KEEPTTL;
        else if (ARG_IS(req, i, "PERSIST")) flag = SET_PERSIST;
        else
            for (size_t j = 0; j < sizeof(expire_options) / sizeof(expire_options[0]); j++)
                if (req->argv[i].len == strlen(expire_options[j].name) &&
                    strncasecmp(req->argv[i].ptr, expire_options[j].name, req->argv[i].len) == 0) {
                    flag = expire_options[j].flag;
                    takes_value = true;
                }
        /* Repeating an option is allowed (the last EX value wins), as in
         * Redis; only different options of one group conflict. */
        int ttl_group = SET_EXPIRE_FLAGS | SET_KEEPTTL | SET_PERSIST;
        bool conflicts = (flag == SET_NX && (*flags & SET_XX)) || (flag == SET_XX && (*flags & SET_NX)) ||
                         ((flag & ttl_group) && (*flags & ttl_group & ~flag));
        if (!(flag & allowed) || conflicts || (takes_value && i + 1 >= req->argc)) {
            reply_syntax_error(req->out);
            return false;
        }
        *flags |= flag;
        if (takes_value) *expire_arg = ++i;
    }
    return true;
}

static int expire_flag(int flags)
{
    return flags & SET_EXPIRE_FLAGS;
}

/* The core of every SET variant: stores value under key honouring NX/XX,
 * KEEPTTL and an optional deadline, then replies as the variant expects. */
/* Deadlines reach the log as absolute PXAT/PEXPIREAT times, so a replay
 * lands on the same instant however much later it runs. */
static void propagate_with_deadline(struct request *req, const char *cmd, struct arg *key, struct arg *value,
                                    long long when)
{
    char ms[24];
    struct arg deadline = {ms, format_ll(ms, when)};
    if (value) {
        struct arg argv[5] = {{(char *)cmd, strlen(cmd)}, *key, *value, {"PXAT", 4}, deadline};
        oplog_propagate(req, 5, argv);
    } else {
        struct arg argv[3] = {{(char *)cmd, strlen(cmd)}, *key, deadline};
        oplog_propagate(req, 3, argv);
    }
}

static void propagate_key_command(struct request *req, const char *cmd, struct arg *key)
{
    struct arg argv[2] = {{(char *)cmd, strlen(cmd)}, *key};
    oplog_propagate(req, 2, argv);
}

static void string_set(struct request *req, struct arg *key, struct arg *value, int flags, long long when,
                       const char *ok_reply)
{
    struct object *old = NULL;
    if (flags & SET_GET) {
        if (!string_find(req, (int)(key - req->argv), &old)) return;
    } else {
        old = db_find(req->db, key->ptr, key->len);
    }
    bool exists = old != NULL;
    if ((flags & SET_NX && exists) || (flags & SET_XX && !exists)) {
        if (flags & SET_GET) {
            if (old) reply_string_object(req->out, old);
            else reply_null(req->out);
        } else {
            reply_null(req->out);
        }
        return;
    }
    if (flags & SET_GET) {
        if (old) reply_string_object(req->out, old);
        else reply_null(req->out);
    }
    db_overwrite(req->db, key->ptr, key->len, object_string(value->ptr, value->len), flags & SET_KEEPTTL);
    key_changed(req, key->ptr, key->len, NOTIFY_STRING, "set");
    if (when > 0) {
        db_set_expire(req->db, key->ptr, key->len, when);
        key_changed(req, key->ptr, key->len, NOTIFY_GENERIC, "expire");
        propagate_with_deadline(req, "SET", key, value, when);
    }
    if (!(flags & SET_GET) && ok_reply) reply_simple(req->out, ok_reply);
}

static void cmd_set(struct request *req)
{
    int flags = 0, expire_arg = 0;
    if (!parse_set_options(req, 3, SET_NX | SET_XX | SET_GET | SET_KEEPTTL | SET_EXPIRE_FLAGS, &flags, &expire_arg))
        return;
    long long when = 0;
    if (expire_flag(flags) && !expire_deadline(req, expire_flag(flags), expire_arg, "set", &when)) return;
    string_set(req, &req->argv[1], &req->argv[2], flags, when, "OK");
}

static void cmd_setnx(struct request *req)
{
    bool exists = db_find(req->db, req->argv[1].ptr, req->argv[1].len) != NULL;
    if (!exists) string_set(req, &req->argv[1], &req->argv[2], 0, 0, NULL);
    reply_int(req->out, exists ? 0 : 1);
}

static void set_with_expire(struct request *req, int flag, const char *command)
{
    long long when;
    if (!expire_deadline(req, flag, 2, command, &when)) return;
    string_set(req, &req->argv[1], &req->argv[3], 0, when, "OK");
}

static void cmd_setex(struct request *req)
{
    set_with_expire(req, SET_EX, "setex");
}

static void cmd_psetex(struct request *req)
{
    set_with_expire(req, SET_PX, "psetex");
}

static void cmd_getset(struct request *req)
{
    string_set(req, &req->argv[1], &req->argv[2], SET_GET, 0, NULL);
}

static void cmd_get(struct request *req)
{
    struct object *o;
    if (!string_find(req, 1, &o)) return;
    if (o) reply_string_object(req->out, o);
    else reply_null(req->out);
}

static void cmd_getdel(struct request *req)
{
    struct object *o;
    if (!string_find(req, 1, &o)) return;
    if (!o) {
        reply_null(req->out);
        return;
    }
    reply_string_object(req->out, o);
    db_delete(req->db, req->argv[1].ptr, req->argv[1].len);
    key_changed(req, req->argv[1].ptr, req->argv[1].len, NOTIFY_GENERIC, "del");
}

static void cmd_getex(struct request *req)
{
    int flags = 0, expire_arg = 0;
    struct object *o;
    if (!parse_set_options(req, 2, SET_EXPIRE_FLAGS | SET_PERSIST, &flags, &expire_arg)) return;
    /* Redis's order: a missing key answers nil and a wrong type WRONGTYPE
     * before the expire value is validated. */
    if (!string_find(req, 1, &o)) return;
    if (!o) {
        reply_null(req->out);
        return;
    }
    long long when = 0;
    if (expire_flag(flags) && !expire_deadline(req, expire_flag(flags), expire_arg, "getex", &when)) return;
    reply_string_object(req->out, o);
    struct arg *k = &req->argv[1];
    if (when > 0 && when <= db_now_ms) {
        /* EXAT/PXAT in the past: the key goes now, as a deletion (Redis
         * propagates DEL and notifies "del"), after its value was read. */
        db_delete(req->db, k->ptr, k->len);
        key_changed(req, k->ptr, k->len, NOTIFY_GENERIC, "del");
        propagate_key_command(req, "DEL", k);
    } else if (when > 0) {
        db_set_expire(req->db, k->ptr, k->len, when);
        key_changed(req, k->ptr, k->len, NOTIFY_GENERIC, "expire");
        propagate_with_deadline(req, "PEXPIREAT", k, NULL, when);
    } else if ((flags & SET_PERSIST) && db_persist(req->db, k->ptr, k->len)) {
        key_changed(req, k->ptr, k->len, NOTIFY_GENERIC, "persist");
        propagate_key_command(req, "PERSIST", k);
    }
}

static void cmd_mget(struct request *req)
{
    reply_array(req->out, req->argc - 1);
    for (int i = 1; i < req->argc; i++) {
        struct object *o = db_find_read(req->db, req->argv[i].ptr, req->argv[i].len);
        if (o && o->type == OBJ_STRING) reply_string_object(req->out, o);
        else reply_null(req->out);
    }
}

static bool mset_arity_ok(struct request *req, const char *name)
{
    if (req->argc % 2 == 1) return true;
    reply_wrong_arity(req->out, name);
    return false;
}

static void mset_all(struct request *req)
{
    for (int i = 1; i < req->argc; i += 2)
        string_set(req, &req->argv[i], &req->argv[i + 1], 0, 0, NULL);
}

static void cmd_mset(struct request *req)
{
    if (!mset_arity_ok(req, "mset")) return;
    mset_all(req);
    reply_ok(req->out);
}

static void cmd_msetnx(struct request *req)
{
    if (!mset_arity_ok(req, "msetnx")) return;
    for (int i = 1; i < req->argc; i += 2) {
        if (db_find(req->db, req->argv[i].ptr, req->argv[i].len)) {
            reply_int(req->out, 0);
            return;
        }
    }
    mset_all(req);
    reply_int(req->out, 1);
}

/* ---- in-place edits ---- */

struct object *string_unshare(struct request *req, struct arg *key, struct object *o)
{
    if (o->encoding == ENC_RAW) return o;
    char buf[24];
    size_t len;
    const char *p = object_string_bytes(o, buf, &len);
    struct object *raw = object_new(OBJ_STRING, ENC_RAW, str_new(p, len));
    db_replace(req->db, dict_find(req->db->keys, key->ptr, key->len), raw);
    return raw;
}

static void cmd_append(struct request *req)
{
    struct arg *key = &req->argv[1], *value = &req->argv[2];
    struct object *o;
    if (!string_find_write(req, 1, &o)) return;
    if (!o) {
        db_add(req->db, key->ptr, key->len, object_string(value->ptr, value->len));
        key_changed(req, key->ptr, key->len, NOTIFY_STRING, "append");
        reply_int(req->out, (long long)value->len);
        return;
    }
    if (string_too_big(req, (long long)(object_string_len(o) + value->len))) return;
    o = string_unshare(req, key, o);
    o->v.ptr = str_append(o->v.ptr, value->ptr, value->len);
    key_changed(req, key->ptr, key->len, NOTIFY_STRING, "append");
    reply_int(req->out, (long long)str_len(o->v.ptr));
}

static void cmd_strlen(struct request *req)
{
    struct object *o;
    if (!string_find(req, 1, &o)) return;
    reply_int(req->out, o ? (long long)object_string_len(o) : 0);
}

static void cmd_getrange(struct request *req)
{
    long long start, end;
    if (!request_ll(req, 2, &start) || !request_ll(req, 3, &end)) return;
    struct object *o;
    if (!string_find(req, 1, &o)) return;
    if (!o) {
        reply_bulk(req->out, "", 0);
        return;
    }
    char buf[24];
    size_t slen;
    const char *p = object_string_bytes(o, buf, &slen);
    long long len = (long long)slen;
    if (start < 0 && end < 0 && start > end) {
        reply_bulk(req->out, "", 0);
        return;
    }
    if (start < 0) start += len;
    if (end < 0) end += len;
    if (start < 0) start = 0;
    if (end < 0) end = 0;
    if (end >= len) end = len - 1;
    if (len == 0 || start > end) {
        reply_bulk(req->out, "", 0);
        return;
    }
    reply_bulk(req->out, p + start, (size_t)(end - start + 1));
}

static void cmd_setrange(struct request *req)
{
    struct arg *key = &req->argv[1], *value = &req->argv[3];
    long long offset;
    if (!request_ll(req, 2, &offset)) return;
    if (offset < 0) {
        reply_error(req->out, "ERR offset is out of range");
        return;
    }
    struct object *o;
    if (!string_find_write(req, 1, &o)) return;
    /* An empty value changes nothing, whatever the offset: Redis answers
     * the current length before checking the size limit. */
    if (value->len == 0) {
        reply_int(req->out, o ? (long long)object_string_len(o) : 0);
        return;
    }
    /* offset + len would overflow for offsets near LLONG_MAX */
    if (offset > string_max_len - (long long)value->len) {
        string_too_big(req, LLONG_MAX);
        return;
    }
    if (!o) {
        o = object_new(OBJ_STRING, ENC_RAW, str_empty(0));
        db_add(req->db, key->ptr, key->len, o);
    } else {
        o = string_unshare(req, key, o);
    }
    size_t need = (size_t)offset + value->len;
    if (str_len(o->v.ptr) < need) o->v.ptr = str_resize(o->v.ptr, need);
    memcpy((char *)o->v.ptr + offset, value->ptr, value->len);
    key_changed(req, key->ptr, key->len, NOTIFY_STRING, "setrange");
    reply_int(req->out, (long long)str_len(o->v.ptr));
}

/* ---- counters ---- */

/* Reads the key's value as an integer (0 when missing); replies the error
 * when it is not a string holding one. */
static bool counter_value(struct request *req, struct object **o, long long *value)
{
    if (!string_find_write(req, 1, o)) return false;
    *value = 0;
    if (!*o) return true;
    if ((*o)->encoding == ENC_INT) {
        *value = (*o)->v.i;
        return true;
    }
    if (parse_ll((*o)->v.ptr, str_len((*o)->v.ptr), value)) return true;
    reply_error(req->out, ERR_NOT_INTEGER);
    return false;
}

static void counter_add(struct request *req, long long delta)
{
    struct object *o;
    long long value;
    if (!counter_value(req, &o, &value)) return;
    if ((delta < 0 && value < 0 && delta < LLONG_MIN - value) ||
        (delta > 0 && value > 0 && delta > LLONG_MAX - value)) {
        reply_error(req->out, ERR_OVERFLOW);
        return;
    }
    value += delta;
    struct arg *key = &req->argv[1];
    if (o && o->encoding == ENC_INT) o->v.i = value; /* in place: the hot path allocates nothing */
    else db_set(req->db, key->ptr, key->len, object_string_ll(value), true);
    key_changed(req, key->ptr, key->len, NOTIFY_STRING, "incrby");
    reply_int(req->out, value);
}

static void cmd_incr(struct request *req)
{
    counter_add(req, 1);
}

static void cmd_decr(struct request *req)
{
    counter_add(req, -1);
}

static void cmd_incrby(struct request *req)
{
    long long delta;
    if (request_ll(req, 2, &delta)) counter_add(req, delta);
}

static void cmd_decrby(struct request *req)
{
    long long delta;
    if (!request_ll(req, 2, &delta)) return;
    if (delta == LLONG_MIN) {
        reply_error(req->out, "ERR decrement would overflow");
        return;
    }
    counter_add(req, -delta);
}

static void cmd_incrbyfloat(struct request *req)
{
    long double delta, value = 0;
    if (!parse_ld(req->argv[2].ptr, req->argv[2].len, &delta)) {
        reply_error(req->out, ERR_NOT_FLOAT);
        return;
    }
    struct object *o;
    if (!string_find_write(req, 1, &o)) return;
    if (o) {
        char buf[24];
        size_t len;
        const char *p = object_string_bytes(o, buf, &len);
        if (!parse_ld(p, len, &value)) {
            reply_error(req->out, ERR_NOT_FLOAT);
            return;
        }
    }
    value += delta;
    if (isnan(value) || isinf(value)) {
        reply_error(req->out, "ERR increment would produce NaN or Infinity");
        return;
    }
    char out[5200];
    size_t n = format_ld(out, sizeof(out), value);
    struct arg *key = &req->argv[1];
    /* Stored as text even when integral ("3"): OBJECT ENCODING says embstr, as in Redis. */
    db_set(req->db, key->ptr, key->len, object_string_plain(out, n), true);
    key_changed(req, key->ptr, key->len, NOTIFY_STRING, "incrbyfloat");
    struct arg as_set[4] = {{"SET", 3}, *key, {out, n}, {"KEEPTTL", 7}};
    oplog_propagate(req, 4, as_set); /* float formatting must not differ on replay */
    reply_bulk(req->out, out, n);
}

#define W (CMD_WRITE | CMD_DENYOOM)
#define R (CMD_READONLY)
#define F (CMD_FAST)
struct command string_commands[] = {
    {"get", cmd_get, 2, R | F, 1, 1, 1, "@read @string @fast", "string", "Returns the string value of a key.",
     "1.0.0", "O(1)"},
    {"set", cmd_set, -3, W, 1, 1, 1, "@write @string @slow", "string",
     "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.", "1.0.0",
     "O(1)"},
    {"setnx", cmd_setnx, 3, W | F, 1, 1, 1, "@write @string @fast", "string",
     "Set the string value of a key only when the key doesn't exist.", "1.0.0", "O(1)"},
    {"setex", cmd_setex, 4, W, 1, 1, 1, "@write @string @slow", "string",
     "Sets the string value and expiration time of a key. Creates the key if it doesn't exist.", "2.0.0", "O(1)"},
    {"psetex", cmd_psetex, 4, W, 1, 1, 1, "@write @string @slow", "string",
     "Sets both string value and expiration time in milliseconds of a key.", "2.6.0", "O(1)"},
    {"getset", cmd_getset, 3, W | F, 1, 1, 1, "@write @string @fast", "string",
     "Returns the previous string value of a key after setting it to a new value.", "1.0.0", "O(1)"},
    {"getdel", cmd_getdel, 2, CMD_WRITE | F, 1, 1, 1, "@write @string @fast", "string",
     "Returns the string value of a key after deleting the key.", "6.2.0", "O(1)"},
    {"getex", cmd_getex, -2, CMD_WRITE | F, 1, 1, 1, "@write @string @fast", "string",
     "Returns the string value of a key after setting its expiration time.", "6.2.0", "O(1)"},
    {"mget", cmd_mget, -2, R | F, 1, -1, 1, "@read @string @fast", "string",
     "Atomically returns the string values of one or more keys.", "1.0.0", "O(N)"},
    {"mset", cmd_mset, -3, W, 1, -1, 2, "@write @string @slow", "string",
     "Atomically creates or modifies the string values of one or more keys.", "1.0.1", "O(N)"},
    {"msetnx", cmd_msetnx, -3, W, 1, -1, 2, "@write @string @slow", "string",
     "Atomically modifies the string values of one or more keys only when all keys don't exist.", "1.0.1",
     "O(N)"},
    {"append", cmd_append, 3, W | F, 1, 1, 1, "@write @string @fast", "string",
     "Appends a string to the value of a key. Creates the key if it doesn't exist.", "2.0.0", "O(1)"},
    {"strlen", cmd_strlen, 2, R | F, 1, 1, 1, "@read @string @fast", "string",
     "Returns the length of a string value.", "2.2.0", "O(1)"},
    {"getrange", cmd_getrange, 4, R, 1, 1, 1, "@read @string @slow", "string",
     "Returns a substring of the string stored at a key.", "2.4.0", "O(N)"},
    {"substr", cmd_getrange, 4, R, 1, 1, 1, "@read @string @slow", "string",
     "Returns a substring from a string value.", "1.0.0", "O(N)"},
    {"setrange", cmd_setrange, 4, W, 1, 1, 1, "@write @string @slow", "string",
     "Overwrites a part of a string value with another by an offset. Creates the key if it doesn't exist.",
     "2.2.0", "O(1)"},
    {"incr", cmd_incr, 2, W | F, 1, 1, 1, "@write @string @fast", "string",
     "Increments the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.", "1.0.0",
     "O(1)"},
    {"decr", cmd_decr, 2, W | F, 1, 1, 1, "@write @string @fast", "string",
     "Decrements the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.", "1.0.0",
     "O(1)"},
    {"incrby", cmd_incrby, 3, W | F, 1, 1, 1, "@write @string @fast", "string",
     "Increments the integer value of a key by a number. Uses 0 as initial value if the key doesn't exist.",
     "1.0.0", "O(1)"},
    {"decrby", cmd_decrby, 3, W | F, 1, 1, 1, "@write @string @fast", "string",
     "Decrements a number from the integer value of a key. Uses 0 as initial value if the key doesn't exist.",
     "1.0.0", "O(1)"},
    {"incrbyfloat", cmd_incrbyfloat, 3, W | F, 1, 1, 1, "@write @string @fast", "string",
     "Increment the floating point value of a key by a number. Uses 0 as initial value if the key doesn't exist.",
     "2.6.0", "O(1)"},
    {0},
};
