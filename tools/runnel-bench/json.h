/* json: a small streaming JSON writer that tracks commas and nesting. */
#ifndef RUNNEL_BENCH_JSON_H
#define RUNNEL_BENCH_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 16

struct json_writer {
    FILE *f;
    int depth;
    bool has_items[JSON_MAX_DEPTH];
};

void json_init(struct json_writer *w, FILE *f);
/* key is NULL inside arrays and at the top level. */
void json_begin_object(struct json_writer *w, const char *key);
void json_end_object(struct json_writer *w);
void json_begin_array(struct json_writer *w, const char *key);
void json_end_array(struct json_writer *w);
void json_string(struct json_writer *w, const char *key, const char *value);
/* Non-finite numbers are written as null. */
void json_number(struct json_writer *w, const char *key, double value);
void json_integer(struct json_writer *w, const char *key, long long value);
void json_bool(struct json_writer *w, const char *key, bool value);

#endif
