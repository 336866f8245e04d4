/* commands: the command tables of the server layer (connection, server
 * administration, introspection, transactions). */
#ifndef RUNNEL_SERVER_COMMANDS_H
#define RUNNEL_SERVER_COMMANDS_H

#include "protocol/command.h"

extern struct command connection_commands[];    /* cmd_connection.c: PING ECHO AUTH HELLO CLIENT SELECT ... */
extern struct command server_commands[];        /* cmd_server.c: DBSIZE FLUSHALL SHUTDOWN DEBUG CONFIG ... */
extern struct command introspection_commands[]; /* cmd_introspection.c: INFO COMMAND SLOWLOG LATENCY MEMORY MONITOR */
extern struct command multi_commands[];         /* multi.c: MULTI EXEC DISCARD WATCH UNWATCH */

#endif
