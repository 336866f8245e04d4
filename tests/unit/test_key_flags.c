/* Unit tests for server/key_flags: which key-spec flags each key of a
 * command gets, by its position and (for SET) its arguments. */
#include <criterion/criterion.h>
#include <string.h>

#include "server/key_flags.h"

static struct command command_named(const char *full_name, uint32_t flags)
{
    return (struct command){.name = full_name, .full_name = full_name, .flags = flags};
}

/* The flags of key `index` as a NUL-terminated copy (static buffer). */
static const char *flags_of(const struct command *cmd, const struct arg *argv, int argc, int index)
{
    static char buf[64];
    size_t len;
    const char *p = key_flags_of(cmd, argv, argc, index, &len);
    cr_assert_lt(len, sizeof(buf));
    memcpy(buf, p, len);
    buf[len] = '\0';
    return buf;
}

Test(key_flags, one_spec_serves_every_key)
{
    struct command del = command_named("del", CMD_WRITE);
    cr_assert_str_eq(flags_of(&del, NULL, 0, 0), "RM delete");
    cr_assert_str_eq(flags_of(&del, NULL, 0, 5), "RM delete");
}

Test(key_flags, later_keys_take_the_last_spec)
{
    struct command store = command_named("zunionstore", CMD_WRITE);
    cr_assert_str_eq(flags_of(&store, NULL, 0, 0), "OW update");
    cr_assert_str_eq(flags_of(&store, NULL, 0, 1), "RO access");
    cr_assert_str_eq(flags_of(&store, NULL, 0, 3), "RO access");
    struct command move = command_named("lmove", CMD_WRITE);
    cr_assert_str_eq(flags_of(&move, NULL, 0, 0), "RW access delete");
    cr_assert_str_eq(flags_of(&move, NULL, 0, 1), "RW insert");
}

Test(key_flags, set_reads_only_with_get)
{
    struct command set = command_named("set", CMD_WRITE);
    struct arg plain[] = {{"SET", 3}, {"k", 1}, {"v", 1}, {"NX", 2}};
    struct arg with_get[] = {{"SET", 3}, {"k", 1}, {"v", 1}, {"get", 3}};
    struct arg value_get[] = {{"SET", 3}, {"k", 1}, {"GET", 3}};
    cr_assert_str_eq(flags_of(&set, plain, 4, 0), "OW update");
    cr_assert_str_eq(flags_of(&set, with_get, 4, 0), "RW access update");
    cr_assert_str_eq(flags_of(&set, value_get, 3, 0), "OW update"); /* the value, not the option */
}

Test(key_flags, unlisted_commands_by_their_flags)
{
    struct command reader = command_named("nosuch-read", CMD_READONLY);
    struct command writer = command_named("nosuch-write", CMD_WRITE);
    cr_assert_str_eq(flags_of(&reader, NULL, 0, 0), "RO access");
    cr_assert_str_eq(flags_of(&writer, NULL, 0, 0), "RW update");
}

Test(key_flags, sharded_channels_are_not_keys)
{
    struct command spublish = command_named("spublish", CMD_PUBSUB);
    struct command publish = command_named("publish", CMD_PUBSUB);
    struct command get = command_named("get", CMD_READONLY);
    cr_assert(key_flags_channels_only(&spublish));
    cr_assert_not(key_flags_channels_only(&publish));
    cr_assert_not(key_flags_channels_only(&get));
}
