/* key_flags: what a command does with each of its keys, in the words of
 * Redis's key specifications, for COMMAND GETKEYSANDFLAGS. */
#ifndef RUNNEL_SERVER_KEY_FLAGS_H
#define RUNNEL_SERVER_KEY_FLAGS_H

#include <stdbool.h>
#include <stddef.h>

#include "protocol/command.h"

/* The flags of the key at `index` (0-based, in the order of
 * command_key_positions) of `cmd` called with argv[0..argc): words separated
 * by single spaces ("RW access delete"), `*len` bytes, not NUL-terminated. */
const char *key_flags_of(const struct command *cmd, const struct arg *argv, int argc, int index, size_t *len);

/* True for the sharded pub/sub commands, whose "keys" are channels that
 * route like keys in a cluster but are not keys (Redis's `not_key`). */
bool key_flags_channels_only(const struct command *cmd);

#endif
