/* json: streaming writer (see json.h). */
#include "json.h"

#include <math.h>

void json_init(struct json_writer *w, FILE *f)
{
    w->f = f;
    w->depth = 0;
    w->has_items[0] = false;
}

static void json_escaped(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

/* Writes the separator, indentation and key that precede any value. */
static void json_prefix(struct json_writer *w, const char *key)
{
    if (w->has_items[w->depth])
        fputc(',', w->f);
    if (w->depth > 0) {
        fputc('\n', w->f);
        for (int i = 0; i < w->depth; i++)
            fputs("  ", w->f);
    }
    w->has_items[w->depth] = true;
    if (key) {
        json_escaped(w->f, key);
        fputs(": ", w->f);
    }
}

static void json_open(struct json_writer *w, const char *key, char bracket)
{
    json_prefix(w, key);
    fputc(bracket, w->f);
    if (w->depth + 1 < JSON_MAX_DEPTH)
        w->depth++;
    w->has_items[w->depth] = false;
}

static void json_close(struct json_writer *w, char bracket)
{
    bool had = w->has_items[w->depth];
    if (w->depth > 0)
        w->depth--;
    if (had) {
        fputc('\n', w->f);
        for (int i = 0; i < w->depth; i++)
            fputs("  ", w->f);
    }
    fputc(bracket, w->f);
    if (w->depth == 0)
        fputc('\n', w->f);
}

void json_begin_object(struct json_writer *w, const char *key)
{
    json_open(w, key, '{');
}

void json_end_object(struct json_writer *w)
{
    json_close(w, '}');
}

void json_begin_array(struct json_writer *w, const char *key)
{
    json_open(w, key, '[');
}

void json_end_array(struct json_writer *w)
{
    json_close(w, ']');
}

void json_string(struct json_writer *w, const char *key, const char *value)
{
    json_prefix(w, key);
    json_escaped(w->f, value);
}

void json_number(struct json_writer *w, const char *key, double value)
{
    json_prefix(w, key);
    if (isfinite(value) && fabs(value) < 1e15 && value == (double)(long long)value)
        fprintf(w->f, "%.0f", value);
    else if (isfinite(value))
        fprintf(w->f, "%.10g", value);
    else
        fputs("null", w->f);
}

void json_integer(struct json_writer *w, const char *key, long long value)
{
    json_prefix(w, key);
    fprintf(w->f, "%lld", value);
}

void json_bool(struct json_writer *w, const char *key, bool value)
{
    json_prefix(w, key);
    fputs(value ? "true" : "false", w->f);
}
