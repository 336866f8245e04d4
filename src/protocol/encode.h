/* encode: a command as a client sends it (a RESP array of bulk strings),
 * for the server's own connections to other servers: a replica's link to
 * its primary, the cluster's links and MIGRATE. */
#ifndef RUNNEL_PROTOCOL_ENCODE_H
#define RUNNEL_PROTOCOL_ENCODE_H

#include <stddef.h>

#include "util/str.h"

/* Appends the command; lens may be NULL when every argument is a C string. */
str encode_command(str out, int argc, const char *const *argv, const size_t *lens);

#endif
