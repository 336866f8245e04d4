/* api_access: what the user a request authenticated as must be allowed to
 * run to read each document. Every GET of /metrics and /api/... stands for
 * the command a client would run to learn the same (INFO for /metrics and
 * the overview, XINFO STREAM <key> for a stream's page, CLIENT LIST for
 * the clients...), checked with the user's ACL rules through the console's
 * client (console_exec_as), so a refusal is logged in ACL LOG as that
 * command's. Lists of keys (streams, queues, per-key series) also leave out
 * the keys the user may not read. */
#ifndef RUNNEL_HTTP_API_ACCESS_H
#define RUNNEL_HTTP_API_ACCESS_H

#include <stddef.h>

/* NULL when the user may read the document at path[0..len) (with its
 * query string), else the NOPERM text (in buf when formatted). Paths
 * that are no document (the console's files, /api/session) need nothing. */
const char *api_access_refusal(const char *path, size_t len, const char *query, size_t query_len, char *buf,
                               size_t size);

#endif
