/* api_console: the /api/... documents the console's pages read beyond
 * api.c's overview, streams and queues — one stream with its groups and
 * consumers, a page of its entries, a page of a group's pending list,
 * pub/sub channels and subscribers, clients, the slow log and latency, the
 * replication and cluster topology, the per-second history — and the
 * POST actions on pending entries and streams. Every document reads a
 * bounded amount: pages of at most API_CONSOLE_MAX_PAGE entries, at most
 * API_CONSOLE_MAX_ROWS rows of clients or channels. */
#ifndef RUNNEL_HTTP_API_CONSOLE_H
#define RUNNEL_HTTP_API_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>

#include "util/str.h"

#define API_CONSOLE_MAX_PAGE 200
#define API_CONSOLE_MAX_ROWS 500

/* The JSON document for GET path[0..len) with its query string, or NULL
 * when there is none. */
str api_console_render(const char *path, size_t len, const char *query, size_t query_len);

/* Runs the POST action at path[0..len) ("/api/action/ack", "claim",
 * "delete", "trim") as the console's user (console_exec_as); *status is
 * 200, 400 (bad parameters or a refused command: the document says why),
 * 403 (the user's ACL rules refuse one of the action's commands or its key:
 * nothing ran, and the denial is in ACL LOG) or 404 (no such action). */
str api_console_action(const char *path, size_t len, const char *query, size_t query_len, int *status);

#endif
