/* function_meta: the "#!lua name=<lib>" line (see function_meta.h). */
#include "scripting/function_meta.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "util/mem.h"

static bool is_space(char c)
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\v' || c == '\f';
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    c = (char)tolower((unsigned char)c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* One escape inside double quotes at p (a backslash): appends its byte and
 * returns how many input bytes it used. */
static size_t unescape(const char *p, const char *end, str *out)
{
    if (end - p >= 4 && p[1] == 'x' && hex_value(p[2]) >= 0 && hex_value(p[3]) >= 0) {
        char c = (char)(hex_value(p[2]) * 16 + hex_value(p[3]));
        *out = str_append(*out, &c, 1);
        return 4;
    }
    char c = p[1];
    switch (c) {
    case 'n': c = '\n'; break;
    case 'r': c = '\r'; break;
    case 't': c = '\t'; break;
    case 'b': c = '\b'; break;
    case 'a': c = '\a'; break;
    default: break;
    }
    *out = str_append(*out, &c, 1);
    return 2;
}

/* Reads the quoted part of a token starting at the quote *p; false when it
 * is unterminated or its closing quote is followed by something other
 * than a blank. */
static bool read_quoted(const char **pp, const char *end, str *out)
{
    const char *p = *pp;
    char quote = *p++;
    while (p < end) {
        if (quote == '"' && *p == '\\' && p + 1 < end) {
            p += unescape(p, end, out);
        } else if (quote == '\'' && *p == '\\' && p + 1 < end && p[1] == '\'') {
            *out = str_append(*out, "'", 1);
            p += 2;
        } else if (*p == quote) {
            if (p + 1 < end && !is_space(p[1])) return false;
            *pp = p + 1;
            return true;
        } else {
            *out = str_append(*out, p, 1);
            p++;
        }
    }
    return false;
}

/* The next token from *pp, or NULL at the end; *bad when a quote is
 * malformed. */
static str next_token(const char **pp, const char *end, bool *bad)
{
    const char *p = *pp;
    while (p < end && is_space(*p)) p++;
    if (p == end) return NULL;
    str tok = str_empty(16);
    while (p < end && !is_space(*p)) {
        if (*p == '"' || *p == '\'') {
            if (!read_quoted(&p, end, &tok)) {
                *bad = true;
                str_free(tok);
                return NULL;
            }
            break;
        }
        tok = str_append(tok, p, 1);
        p++;
    }
    *pp = p;
    return tok;
}

/* One "key=value" token after the engine. */
static bool read_option(struct function_meta *meta, str tok, char *err, size_t errlen)
{
    if (str_len(tok) >= 5 && strncasecmp(tok, "name=", 5) == 0) {
        if (meta->name) {
            snprintf(err, errlen, "Invalid metadata value, name argument was given multiple times");
            return false;
        }
        meta->name = str_new(tok + 5, str_len(tok) - 5);
        return true;
    }
    snprintf(err, errlen, "Invalid metadata value given: %.*s", (int)(str_len(tok) > 200 ? 200 : str_len(tok)), tok);
    return false;
}

bool function_meta_parse(const char *code, size_t len, struct function_meta *meta, char *err, size_t errlen)
{
    *meta = (struct function_meta){0};
    if (len < 2 || code[0] != '#' || code[1] != '!') {
        snprintf(err, errlen, "Missing library metadata");
        return false;
    }
    const char *nl = memchr(code, '\n', len);
    if (!nl) {
        snprintf(err, errlen, "Invalid library metadata");
        return false;
    }
    /* the line is read as a C string: a NUL ends it */
    const char *nul = memchr(code, '\0', (size_t)(nl - code));
    const char *p = code, *end = nul ? nul : nl;
    bool bad = false, ok = true;
    str tok;
    for (int i = 0; ok && (tok = next_token(&p, end, &bad)); i++) {
        if (i == 0) meta->engine = str_new(tok + 2, str_len(tok) - 2);
        else ok = read_option(meta, tok, err, errlen);
        str_free(tok);
    }
    if (ok && (bad || !meta->engine)) {
        snprintf(err, errlen, "Invalid library metadata");
        ok = false;
    }
    if (ok && !meta->name) {
        snprintf(err, errlen, "Library name was not given");
        ok = false;
    }
    if (!ok) {
        function_meta_free(meta);
        return false;
    }
    meta->body_offset = (size_t)(nl - code);
    return true;
}

void function_meta_free(struct function_meta *meta)
{
    str_free(meta->engine);
    str_free(meta->name);
    meta->engine = meta->name = NULL;
}

bool function_name_valid(const char *name, size_t len)
{
    if (len == 0) return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (!isalnum(c) && c != '_') return false;
    }
    return true;
}
