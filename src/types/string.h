/* string: string values and their commands. */
#ifndef RUNNEL_TYPES_STRING_H
#define RUNNEL_TYPES_STRING_H

#include "protocol/command.h"

struct object;

extern struct command string_commands[];
/* Largest string APPEND/SETRANGE may build (proto-max-bulk-len). */
extern long long string_max_len;

/* Makes the string value o of `key` private and raw (a str) so its bytes
 * can be edited, replacing the key's value (keeping its TTL); returns it. */
struct object *string_unshare(struct request *req, struct arg *key, struct object *o);

#endif
