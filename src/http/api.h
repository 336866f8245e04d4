/* api: GET /api/... — the facts of /metrics as JSON, for a console or a
 * script: /api/overview (INFO's fields by section, keys per database),
 * /api/streams (streams, their groups and consumers), /api/queues (lists
 * matching metrics-list-patterns). Streams and queues are bounded by
 * metrics-max-series, with "omitted" counting the rest. */
#ifndef RUNNEL_HTTP_API_H
#define RUNNEL_HTTP_API_H

#include <stddef.h>

#include "util/str.h"

/* The JSON document for path[0..len), or NULL when there is none. */
str api_render(const char *path, size_t len);

#endif
