/* command_table: every command Runnel knows, gathered from the tables each
 * module exports, looked up case-insensitively by name. */
#ifndef RUNNEL_SERVER_COMMAND_TABLE_H
#define RUNNEL_SERVER_COMMAND_TABLE_H

#include <stddef.h>

#include "protocol/command.h"

void command_table_init(void);
/* Adds a table owned by a higher layer (persistence) after init. */
void command_table_add(struct command *table);
struct command *command_lookup(const char *name, size_t len);
struct command *command_lookup_sub(struct command *parent, const char *name, size_t len);
/* Calls fn for every top-level command. */
void command_table_each(void (*fn)(struct command *cmd, void *ctx), void *ctx);
size_t command_table_count(void);
/* Key positions of a request (COMMAND GETKEYS, ACL-free key checks). */
int command_key_positions(struct command *cmd, struct arg *argv, int argc, int *positions, int max);

#endif
