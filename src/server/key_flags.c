/* A command's key flags are listed as Redis's key specifications give them:
 * an access word (RO read, RW read-write, OW overwrite, RM remove), then what
 * is done to the value (access: returned, update, insert, delete), or
 * `not_key` for a channel that only routes like a key. Specs are separated
 * by '|': a command's first key takes the first spec, its second key the
 * second, and every later key the last one (ZUNIONSTORE: the destination,
 * then any number of sources). Commands absent from the table read their
 * keys ("RO access") or, if they write, update them. */
#include "server/key_flags.h"

#include <string.h>
#include <strings.h>

static const struct {
    const char *command;
    const char *specs;
} key_flags_table[] = {
    {"append", "RW insert"},
    {"blmove", "RW access delete|RW insert"},
    {"blmovem", "RW access delete|RW insert"},
    {"blmpop", "RW access delete"},
    {"blpop", "RW access delete"},
    {"brpop", "RW access delete"},
    {"brpoplpush", "RW access delete|RW insert"},
    {"bzmpop", "RW access delete"},
    {"bzpopmax", "RW access delete"},
    {"bzpopmin", "RW access delete"},
    {"copy", "RO access|OW update"},
    {"decr", "RW access update"},
    {"decrby", "RW access update"},
    {"del", "RM delete"},
    {"eval", "RW access update"},
    {"evalsha", "RW access update"},
    {"exists", "RO"},
    {"expire", "RW update"},
    {"expireat", "RW update"},
    {"geoadd", "RW update"},
    {"georadius", "RO access|OW update"},
    {"georadiusbymember", "RO access|OW update"},
    {"geosearchstore", "OW update|RO access"},
    {"getdel", "RW access delete"},
    {"getex", "RW access update"},
    {"getset", "RW access update"},
    {"hdel", "RW delete"},
    {"hexists", "RO"},
    {"hexpire", "RW update"},
    {"hexpireat", "RW update"},
    {"hgetdel", "RW access delete"},
    {"hgetex", "RW access update"},
    {"hincrby", "RW access update"},
    {"hincrbyfloat", "RW access update"},
    {"hlen", "RO"},
    {"hmset", "RW update"},
    {"hpersist", "RW update"},
    {"hpexpire", "RW update"},
    {"hpexpireat", "RW update"},
    {"hset", "RW update"},
    {"hsetex", "RW update"},
    {"hsetnx", "RW insert"},
    {"hstrlen", "RO"},
    {"incr", "RW access update"},
    {"incrby", "RW access update"},
    {"incrbyfloat", "RW access update"},
    {"linsert", "RW insert"},
    {"llen", "RO"},
    {"lmove", "RW access delete|RW insert"},
    {"lmovem", "RW access delete|RW insert"},
    {"lmpop", "RW access delete"},
    {"lpop", "RW access delete"},
    {"lpush", "RW insert"},
    {"lpushx", "RW insert"},
    {"lrem", "RW delete"},
    {"lset", "RW update"},
    {"ltrim", "RW delete"},
    {"memory|usage", "RO"},
    {"move", "RW access update"},
    {"mset", "OW update"},
    {"msetnx", "OW insert"},
    {"object|encoding", "RO"},
    {"object|freq", "RO"},
    {"object|idletime", "RO"},
    {"object|refcount", "RO"},
    {"persist", "RW update"},
    {"pexpire", "RW update"},
    {"pexpireat", "RW update"},
    {"psetex", "OW update"},
    {"rename", "RW access delete|OW update"},
    {"renamenx", "RW access delete|OW insert"},
    {"restore", "OW update"},
    {"restore-asking", "OW update"},
    {"rpop", "RW access delete"},
    {"rpoplpush", "RW access delete|RW insert"},
    {"rpush", "RW insert"},
    {"rpushx", "RW insert"},
    {"sadd", "RW insert"},
    {"scard", "RO"},
    {"sdiffstore", "OW update|RO access"},
    {"set", "RW access update"},
    {"setex", "OW update"},
    {"setnx", "OW insert"},
    {"setrange", "RW update"},
    {"sinterstore", "RW update|RO access"},
    {"sismember", "RO"},
    {"smove", "RW access delete|RW insert"},
    {"sort", "RO access|OW update"},
    {"spop", "RW access delete"},
    {"spublish", "not_key"},
    {"srem", "RW delete"},
    {"ssubscribe", "not_key"},
    {"strlen", "RO"},
    {"sunionstore", "OW update|RO access"},
    {"sunsubscribe", "not_key"},
    {"touch", "RO"},
    {"type", "RO"},
    {"unlink", "RM delete"},
    {"watch", "RO"},
    {"xack", "RW update"},
    {"xadd", "RW update"},
    {"xautoclaim", "RW delete"},
    {"xclaim", "RW update"},
    {"xdel", "RW delete"},
    {"xgroup|create", "RW insert|RW insert"},
    {"xgroup|createconsumer", "RW insert"},
    {"xgroup|delconsumer", "RW delete"},
    {"xgroup|destroy", "RW delete"},
    {"xgroup|setdlq", "RW update|RW insert"},
    {"xgroup|setid", "RW update"},
    {"xlen", "RO"},
    {"xsetid", "RW update"},
    {"xtrim", "RW delete"},
    {"zadd", "RW update"},
    {"zcard", "RO"},
    {"zdiffstore", "OW update|RO access"},
    {"zincrby", "RW access update"},
    {"zinterstore", "OW update|RO access"},
    {"zmpop", "RW access delete"},
    {"zpopmax", "RW access delete"},
    {"zpopmin", "RW access delete"},
    {"zrangestore", "OW update|RO access"},
    {"zrem", "RW delete"},
    {"zremrangebylex", "RW delete"},
    {"zremrangebyrank", "RW delete"},
    {"zremrangebyscore", "RW delete"},
    {"zunionstore", "OW update|RO access"},
    /* writes whose keys Redis 7.0 lists as only read */
    {"xreadgroup", "RO access"},
    /* Redis 8's stream commands, by the nearest 7.0 command */
    {"xackdel", "RW update"},
    {"xcfgset", "RW update"},
    {"xdelex", "RW delete"},
    {"xidmprecord", "RW update"},
    {"xnack", "RW update"},
};

/* SET reads the old value only with GET (7.0's "variable flags"). */
static const char *key_flags_set(const struct arg *argv, int argc)
{
    for (int i = 3; i < argc; i++)
        if (argv[i].len == 3 && strncasecmp(argv[i].ptr, "GET", 3) == 0) return "RW access update";
    return "OW update";
}

static const char *key_flags_specs(const struct command *cmd, const struct arg *argv, int argc)
{
    if (strcmp(cmd->full_name, "set") == 0) return key_flags_set(argv, argc);
    for (size_t i = 0; i < sizeof(key_flags_table) / sizeof(key_flags_table[0]); i++)
        if (strcmp(key_flags_table[i].command, cmd->full_name) == 0) return key_flags_table[i].specs;
    return (cmd->flags & CMD_WRITE) ? "RW update" : "RO access";
}

bool key_flags_channels_only(const struct command *cmd)
{
    return strcmp(key_flags_specs(cmd, NULL, 0), "not_key") == 0;
}

const char *key_flags_of(const struct command *cmd, const struct arg *argv, int argc, int index, size_t *len)
{
    const char *spec = key_flags_specs(cmd, argv, argc);
    for (const char *bar; index > 0 && (bar = strchr(spec, '|')); index--) spec = bar + 1;
    *len = strcspn(spec, "|");
    return spec;
}
