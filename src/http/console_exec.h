/* console_exec: runs a command for the console through the command table,
 * as one socketless client of the server's own (so every check, the
 * operation log, the AOF and replicas see it as any client's command), and
 * hands back its reply as JSON. A command runs whole on the server's
 * thread: callers bound its work with COUNT-style arguments. */
#ifndef RUNNEL_HTTP_CONSOLE_EXEC_H
#define RUNNEL_HTTP_CONSOLE_EXEC_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/str.h"

/* The reply to argv[0..argc) (C strings) run in database `db`, converted
 * by resp_json_parse; an error reply, or a refusal (CLIENT PAUSE holding
 * this command), is {"error": "<text>"}. The caller owns the result. */
json_object *console_exec(int db, bool writes, int argc, const char *const *argv);

struct outbuf;
/* The one reply queued in `o` as JSON (as console_exec gives it), and `o`
 * emptied: for replies written straight by a lower layer's function. */
json_object *console_exec_take_reply(struct outbuf *o);
/* The bytes queued in `o` (a new str), and `o` emptied. */
str console_exec_take_bytes(struct outbuf *o);

/* True when the document is an {"error": ...} reply. */
bool console_exec_failed(json_object *reply);

/* Frees the console's client (server shutdown). */
void console_exec_shutdown(void);

#endif
