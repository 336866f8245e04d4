#include "server/command_table.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "db/dict.h"
#include "messaging/pubsub.h"
#include "server/acl.h"
#include "server/commands.h"
#include "types/dump.h"
#include "types/geo.h"
#include "types/hash.h"
#include "types/keys.h"
#include "types/list.h"
#include "types/set.h"
#include "types/stream.h"
#include "types/stream_idmp.h"
#include "types/stream_nack.h"
#include "types/stream_refs.h"
#include "types/string.h"
#include "types/bitmap.h"
#include "types/hyperloglog.h"
#include "types/sort.h"
#include "types/lcs.h"
#include "types/zset.h"
#include "util/mem.h"

static const struct dict_type command_dict_type = {.nocase = true, .owns_keys = true, .val_free = NULL};
static struct dict *commands;

static char *lowercase_dup(const char *s)
{
    char *d = mem_strdup(s);
    for (char *p = d; *p; p++) *p = (char)tolower((unsigned char)*p);
    return d;
}

static void command_prepare(struct command *cmd, struct command *parent)
{
    cmd->parent = parent;
    if (parent) {
        size_t n = strlen(parent->name) + strlen(cmd->name) + 2;
        char *full = mem_alloc(n);
        snprintf(full, n, "%s|%s", parent->name, cmd->name);
        for (char *p = full; *p; p++) *p = (char)tolower((unsigned char)*p);
        cmd->full_name = full;
    } else {
        cmd->full_name = lowercase_dup(cmd->name);
    }
    if (!cmd->subcommands) return;
    for (struct command *sub = cmd->subcommands; sub->name; sub++) command_prepare(sub, cmd);
}

void command_table_add(struct command *table)
{
    for (struct command *cmd = table; cmd->name; cmd++) {
        command_prepare(cmd, NULL);
        dict_add(commands, str_from_cstr(cmd->name), cmd);
    }
}

/* Every module's table; a new command family adds its table here. */
static struct command *const all_command_tables[] = {
    connection_commands, acl_commands, server_commands, introspection_commands, multi_commands, keys_commands, dump_commands,
    string_commands,     bitmap_commands, bitfield_commands, hyperloglog_commands, sort_commands, lcs_commands, pubsub_commands, list_commands, list_blocking_commands, stream_commands, stream_group_commands, stream_info_commands, stream_refs_commands, stream_nack_commands,
    stream_idmp_commands, zset_commands, zset_store_commands, zset_blocking_commands, geo_commands, hash_commands, hash_expiry_commands, set_commands, NULL,
};

void command_table_init(void)
{
    commands = dict_create(&command_dict_type);
    for (struct command *const *t = all_command_tables; *t; t++) command_table_add(*t);
}

struct command *command_lookup(const char *name, size_t len)
{
    struct dict_entry *e = dict_find(commands, name, len);
    return e ? e->v.ptr : NULL;
}

struct command *command_lookup_sub(struct command *parent, const char *name, size_t len)
{
    if (!parent->subcommands) return NULL;
    for (struct command *sub = parent->subcommands; sub->name; sub++)
        if (strlen(sub->name) == len && strncasecmp(sub->name, name, len) == 0) return sub;
    return NULL;
}

void command_table_each(void (*fn)(struct command *cmd, void *ctx), void *ctx)
{
    struct dict_iter it;
    dict_iter_init(&it, commands, false);
    struct dict_entry *e;
    while ((e = dict_iter_next(&it))) fn(e->v.ptr, ctx);
    dict_iter_done(&it);
}

size_t command_table_count(void)
{
    return dict_size(commands);
}

int command_key_positions(struct command *cmd, struct arg *argv, int argc, int *positions, int max)
{
    if (cmd->keys) return cmd->keys(cmd, argv, argc, positions, max);
    if (cmd->first_key <= 0) return 0;
    int last = cmd->last_key < 0 ? argc + cmd->last_key : cmd->last_key;
    int step = cmd->key_step > 0 ? cmd->key_step : 1;
    int n = 0;
    for (int i = cmd->first_key; i <= last && i < argc && n < max; i += step) positions[n++] = i;
    return n;
}
