/* etcd: a client of etcd's v3 JSON gateway (HTTP POST of JSON to
 * /v3/kv/range, /v3/kv/txn, /v3/lease/grant, /v3/watch...), driven by the
 * server's event loop through libcurl's multi interface: no thread, no
 * blocking call. Keys and values travel base64-encoded; etcd_b64 and the
 * JSON helpers below do that part.
 *
 * Requests go to the first endpoint that works; a request that fails at
 * the transport moves the client to the next endpoint for later ones. */
#ifndef RUNNEL_CLUSTER_ETCD_H
#define RUNNEL_CLUSTER_ETCD_H

#include <stdbool.h>
#include <stddef.h>

#include "util/str.h"

/* status: the HTTP status, or -1 when no answer came (the endpoint is down,
 * the timeout passed). body: the whole reply (NUL-terminated). */
typedef void etcd_done_fn(void *ctx, int status, const char *body, size_t len);
/* Each complete JSON message of a streamed reply (a watch), NUL-terminated. */
typedef void etcd_message_fn(void *ctx, const char *json, size_t len);

struct etcd_stream;

/* endpoints: "http://h1:2379,http://h2:2379". false if none is usable. */
bool etcd_init(const char *endpoints);
/* One request; `timeout_ms` 0 for the default (2 s). */
void etcd_post(const char *path, const char *json, long timeout_ms, etcd_done_fn *done, void *ctx);
/* A long-lived request whose reply is a stream of JSON messages. `ended`
 * is called once when it stops, after which the stream is gone; not after
 * etcd_stream_cancel, which must not be called from `on_message`. */
struct etcd_stream *etcd_stream_open(const char *path, const char *json, etcd_message_fn *on_message,
                                     etcd_done_fn *ended, void *ctx);
void etcd_stream_cancel(struct etcd_stream *s);
/* The endpoint requests go to now, for INFO and logs. */
const char *etcd_endpoint(void);

/* The JSON string of `len` bytes base64-encoded, quoted, ready to splice. */
str etcd_b64(const char *bytes, size_t len);
/* `"key":…,"range_end":…` selecting every key that starts with prefix. */
str etcd_prefix_range(const char *prefix);

#endif
