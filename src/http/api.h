/* api: GET /api/... — the facts of /metrics as JSON, for a console or a
 * script: /api/overview (INFO's fields by section, keys per database),
 * /api/streams (streams, their groups and consumers), /api/queues (lists
 * matching metrics-list-patterns). Streams and queues are bounded by
 * metrics-max-series, with "omitted" counting the rest. */
#ifndef RUNNEL_HTTP_API_H
#define RUNNEL_HTTP_API_H

#include <json-c/json.h>
#include <stddef.h>

#include "util/str.h"

/* The JSON document for path[0..len), or NULL when there is none. */
str api_render(const char *path, size_t len);

/* INFO's text as {"server": {"redis_version": "7.2.4", ...}, ...}: the
 * default sections when name is NULL, else the one named (INFO <name>). */
json_object *api_info_sections(const char *name);
/* The document as one line of JSON text, and the document freed. */
str api_json_text(json_object *doc);

#endif
