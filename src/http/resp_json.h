/* resp_json: a RESP2 or RESP3 reply (the bytes a command wrote to a
 * client's output) turned into JSON for the console: strings, numbers,
 * booleans and null as themselves, arrays, sets and pushes as arrays, maps
 * as objects (a non-string key written as its JSON text), errors as
 * {"error": "<text>"}. */
#ifndef RUNNEL_HTTP_RESP_JSON_H
#define RUNNEL_HTTP_RESP_JSON_H

#include <json-c/json.h>
#include <stddef.h>

#include <stdbool.h>

/* Parses the one reply at buf[0..len) into *out (json-c's NULL stands for
 * a null reply); *used says how many bytes it took. False when the bytes
 * are not one whole, well-formed reply, nested at most 32 deep. */
bool resp_json_parse(const char *buf, size_t len, size_t *used, json_object **out);

#endif
