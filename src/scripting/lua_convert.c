/* lua_convert: replies to Lua values (a small RESP2/RESP3 reader over the
 * bytes a command wrote) and Lua values to replies (through the reply
 * writer, so the caller's protocol is honoured). The rules are listed in
 * lua_convert.h. */
#include "scripting/lua_convert.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "protocol/reply.h"
#include "util/numbers.h"
#include "util/str.h"

/* Nesting deeper than this is refused both ways: the conversions recurse. */
#define CONVERT_MAX_DEPTH 1000

long long lua_convert_number(lua_Number n)
{
    if (n != n || n >= 9223372036854775808.0 || n < -9223372036854775808.0) return LLONG_MIN;
    return (long long)n;
}

/* --- replies to Lua ---------------------------------------------------- */

struct resp_reader {
    const char *p;
    const char *end;
    int depth;
};

/* Reads up to the next CRLF; the line excludes it. */
static bool reader_line(struct resp_reader *r, const char **line, size_t *len)
{
    const char *crlf = memmem(r->p, (size_t)(r->end - r->p), "\r\n", 2);
    if (!crlf) return false;
    *line = r->p;
    *len = (size_t)(crlf - r->p);
    r->p = crlf + 2;
    return true;
}

static bool reader_count(struct resp_reader *r, long long *n)
{
    const char *line;
    size_t len;
    return reader_line(r, &line, &len) && parse_ll(line, len, n);
}

/* Reads a length-prefixed payload (bulk, verbatim, blob error) of n bytes. */
static bool reader_payload(struct resp_reader *r, long long n, const char **data)
{
    if (n < 0 || r->end - r->p < n + 2 || r->p[n] != '\r' || r->p[n + 1] != '\n') return false;
    *data = r->p;
    r->p += n + 2;
    return true;
}

/* Pushes {name=<value at top>}, replacing the value. */
static void wrap_in_field(lua_State *L, const char *name)
{
    lua_createtable(L, 0, 1);
    lua_insert(L, -2);
    lua_setfield(L, -2, name);
}

static bool push_value(lua_State *L, struct resp_reader *r);

static bool push_array(lua_State *L, struct resp_reader *r)
{
    long long n;
    if (!reader_count(r, &n)) return false;
    if (n < 0) {
        lua_pushboolean(L, 0);
        return true;
    }
    lua_createtable(L, n < 1024 ? (int)n : 1024, 0);
    for (long long i = 1; i <= n; i++) {
        if (!push_value(L, r)) return false;
        lua_rawseti(L, -2, (int)i);
    }
    return true;
}

/* A map's pairs, or a set's members (each mapped to true), as a table. */
static bool push_pairs(lua_State *L, struct resp_reader *r, bool is_set)
{
    long long n;
    if (!reader_count(r, &n) || n < 0) return false;
    lua_newtable(L);
    for (long long i = 0; i < n; i++) {
        if (!push_value(L, r)) return false;
        if (is_set) lua_pushboolean(L, 1);
        else if (!push_value(L, r)) return false;
        if (lua_isnil(L, -2)) lua_pop(L, 2); /* a nil key cannot be stored */
        else lua_rawset(L, -3);
    }
    wrap_in_field(L, is_set ? "set" : "map");
    return true;
}

static bool push_bulk(lua_State *L, struct resp_reader *r)
{
    long long n;
    const char *data;
    if (!reader_count(r, &n)) return false;
    if (n < 0) {
        lua_pushboolean(L, 0);
        return true;
    }
    if (!reader_payload(r, n, &data)) return false;
    lua_pushlstring(L, data, (size_t)n);
    return true;
}

/* "=<n>\r\nfmt:text\r\n" -> {verbatim_string={format=fmt, string=text}} */
static bool push_verbatim(lua_State *L, struct resp_reader *r)
{
    long long n;
    const char *data;
    if (!reader_count(r, &n) || n < 4 || !reader_payload(r, n, &data)) return false;
    lua_createtable(L, 0, 2);
    lua_pushlstring(L, data, 3);
    lua_setfield(L, -2, "format");
    lua_pushlstring(L, data + 4, (size_t)n - 4);
    lua_setfield(L, -2, "string");
    wrap_in_field(L, "verbatim_string");
    return true;
}

static bool push_double(lua_State *L, const char *line, size_t len)
{
    char buf[64];
    if (len == 0 || len >= sizeof(buf)) return false;
    memcpy(buf, line, len);
    buf[len] = '\0';
    char *end;
    double d = strtod(buf, &end);
    if (*end != '\0') return false;
    lua_pushnumber(L, d);
    wrap_in_field(L, "double");
    return true;
}

static bool push_blob_error(lua_State *L, struct resp_reader *r)
{
    long long n;
    const char *data;
    if (!reader_count(r, &n) || !reader_payload(r, n, &data)) return false;
    lua_convert_push_error(L, data, (size_t)n);
    return true;
}

/* Attributes carry no value of their own: read and drop them, then read
 * the value they annotate. */
static bool skip_attribute(lua_State *L, struct resp_reader *r)
{
    long long n;
    if (!reader_count(r, &n) || n < 0) return false;
    for (long long i = 0; i < 2 * n; i++) {
        if (!push_value(L, r)) return false;
        lua_pop(L, 1);
    }
    return push_value(L, r);
}

/* Types whose whole value is on the header line. */
static bool push_line_value(lua_State *L, char type, const char *line, size_t len)
{
    long long ll;
    switch (type) {
    case '+':
        lua_pushlstring(L, line, len);
        wrap_in_field(L, "ok");
        return true;
    case '-':
        lua_convert_push_error(L, line - 1, len + 1); /* keep the dash: the text is "-CODE msg" */
        return true;
    case ':':
        if (!parse_ll(line, len, &ll)) return false;
        lua_pushnumber(L, (lua_Number)ll);
        return true;
    case '_':
        lua_pushnil(L);
        return true;
    case '#':
        if (len != 1 || (line[0] != 't' && line[0] != 'f')) return false;
        lua_pushboolean(L, line[0] == 't');
        return true;
    case ',':
        return push_double(L, line, len);
    case '(':
        lua_pushlstring(L, line, len);
        wrap_in_field(L, "big_number");
        return true;
    }
    return false;
}

/* Pushes one value; on failure the stack is as it was. */
static bool push_value(lua_State *L, struct resp_reader *r)
{
    if (r->p >= r->end || r->depth >= CONVERT_MAX_DEPTH || !lua_checkstack(L, 6)) return false;
    int top = lua_gettop(L);
    char type = *r->p++;
    bool ok;
    const char *line;
    size_t len;
    r->depth++;
    switch (type) {
    case '*':
    case '>': ok = push_array(L, r); break;
    case '%': ok = push_pairs(L, r, false); break;
    case '~': ok = push_pairs(L, r, true); break;
    case '$': ok = push_bulk(L, r); break;
    case '=': ok = push_verbatim(L, r); break;
    case '!': ok = push_blob_error(L, r); break;
    case '|': ok = skip_attribute(L, r); break;
    default: ok = reader_line(r, &line, &len) && push_line_value(L, type, line, len); break;
    }
    r->depth--;
    if (!ok) lua_settop(L, top);
    return ok;
}

bool lua_convert_push_reply(lua_State *L, const char *buf, size_t len)
{
    struct resp_reader r = {.p = buf, .end = buf + len};
    if (!push_value(L, &r)) return false;
    if (r.p != r.end) {
        lua_pop(L, 1);
        return false;
    }
    return true;
}

static bool is_crlf(char ch)
{
    return ch == '\r' || ch == '\n';
}

void lua_convert_push_error(lua_State *L, const char *text, size_t len)
{
    const char *code = "ERR";
    size_t code_len = 3;
    const char *msg = text;
    size_t msg_len = len;
    if (len > 0 && text[0] == '-') {
        const char *space = memchr(text, ' ', len);
        if (space) {
            code = text + 1;
            code_len = (size_t)(space - text) - 1;
            msg = space + 1;
            msg_len = len - (size_t)(msg - text);
        } else {
            msg = text + 1;
            msg_len = len - 1;
        }
    }
    while (msg_len > 0 && is_crlf(msg[0])) msg++, msg_len--;
    while (msg_len > 0 && is_crlf(msg[msg_len - 1])) msg_len--;
    lua_createtable(L, 0, 1);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    luaL_addlstring(&b, code, code_len);
    luaL_addchar(&b, ' ');
    luaL_addlstring(&b, msg, msg_len);
    luaL_pushresult(&b);
    lua_setfield(L, -2, "err");
}

/* --- Lua to replies ---------------------------------------------------- */

struct reply_writer {
    lua_State *L;
    struct outbuf *o;
    int resp;       /* the script's protocol, for booleans */
    int depth;
    int uncounted;  /* error replies left out of the statistics */
};

static void write_value(struct reply_writer *w);

/* Pushes t[name] (raw) for the table at absolute index t; returns its type. */
static int field_type(lua_State *L, int t, const char *name)
{
    lua_pushstring(L, name);
    lua_rawget(L, t);
    return lua_type(L, -1);
}

/* A copy of s with CR and LF turned into spaces: status lines and big
 * numbers travel on one line. */
static str one_line(const char *s, size_t len)
{
    str copy = str_new(s, len);
    for (size_t i = 0; i < len; i++)
        if (is_crlf(copy[i])) copy[i] = ' ';
    return copy;
}

/* The writers of the special one-field tables: the field's value is at the
 * top of the stack, its table at `t`; they leave the stack as it is and
 * return false when the value does not fit after all. */

static bool write_error_field(struct reply_writer *w, int t)
{
    reply_error(w->o, lua_tostring(w->L, -1));
    bool counted_already = field_type(w->L, t, "ignore_error_stats_update") == LUA_TBOOLEAN && lua_toboolean(w->L, -1);
    lua_pop(w->L, 1);
    if (counted_already) {
        w->o->errors--;
        w->uncounted++;
    }
    return true;
}

static bool write_status_field(struct reply_writer *w, int t)
{
    (void)t;
    size_t len;
    const char *s = lua_tolstring(w->L, -1, &len);
    str line = one_line(s, len);
    reply_simple(w->o, line);
    str_free(line);
    return true;
}

static bool write_double_field(struct reply_writer *w, int t)
{
    (void)t;
    reply_double(w->o, lua_tonumber(w->L, -1));
    return true;
}

static bool write_big_number_field(struct reply_writer *w, int t)
{
    (void)t;
    size_t len;
    const char *s = lua_tolstring(w->L, -1, &len);
    if (w->o->resp < 3) {
        reply_bulk(w->o, s, len);
        return true;
    }
    str line = one_line(s, len);
    reply_raw(w->o, "(", 1);
    reply_raw(w->o, line, len);
    reply_raw(w->o, "\r\n", 2);
    str_free(line);
    return true;
}

/* The table at the top is a map (pairs) or a set (keys only). */
static void write_pairs(struct reply_writer *w, bool is_set)
{
    lua_State *L = w->L;
    long long n = 0;
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        n++;
        lua_pop(L, 1);
    }
    if (is_set) reply_set(w->o, n);
    else reply_map(w->o, n);
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        lua_pushvalue(L, -2);
        write_value(w); /* the key */
        if (!is_set) {
            lua_pushvalue(L, -1);
            write_value(w);
        }
        lua_pop(L, 1);
    }
}

static bool write_map_field(struct reply_writer *w, int t)
{
    (void)t;
    write_pairs(w, false);
    return true;
}

static bool write_set_field(struct reply_writer *w, int t)
{
    (void)t;
    write_pairs(w, true);
    return true;
}

/* {verbatim_string={format=..., string=...}}, both strings. */
static bool write_verbatim_field(struct reply_writer *w, int t)
{
    (void)t;
    lua_State *L = w->L;
    int v = lua_gettop(L);
    bool ok = field_type(L, v, "format") == LUA_TSTRING && field_type(L, v, "string") == LUA_TSTRING;
    if (ok) {
        size_t len, fmt_len;
        const char *s = lua_tolstring(L, -1, &len);
        const char *fmt = lua_tolstring(L, -2, &fmt_len);
        char ext[4] = "txt";
        for (size_t i = 0; i < 3; i++) ext[i] = i < fmt_len ? fmt[i] : ' ';
        reply_verbatim(w->o, s, len, ext);
    }
    lua_settop(L, v);
    return ok;
}

static void write_array(struct reply_writer *w)
{
    lua_State *L = w->L;
    long long n = 0;
    for (;;) {
        lua_rawgeti(L, -1, (int)(n + 1));
        bool end = lua_isnil(L, -1);
        lua_pop(L, 1);
        if (end) break;
        n++;
    }
    reply_array(w->o, n);
    for (long long i = 1; i <= n; i++) {
        lua_rawgeti(L, -1, (int)i);
        write_value(w);
    }
}

/* The special tables, in the order Redis tries them. */
static const struct {
    const char *name;
    int type;
    bool (*write)(struct reply_writer *w, int t);
} special_fields[] = {
    {"err", LUA_TSTRING, write_error_field},
    {"ok", LUA_TSTRING, write_status_field},
    {"double", LUA_TNUMBER, write_double_field},
    {"big_number", LUA_TSTRING, write_big_number_field},
    {"map", LUA_TTABLE, write_map_field},
    {"set", LUA_TTABLE, write_set_field},
    {"verbatim_string", LUA_TTABLE, write_verbatim_field},
};

/* Writes the table at the top as the first special form it matches, or as
 * an array; the stack is left as it was. */
static void write_table(struct reply_writer *w)
{
    lua_State *L = w->L;
    int t = lua_gettop(L);
    for (size_t i = 0; i < sizeof(special_fields) / sizeof(special_fields[0]); i++) {
        bool done = field_type(L, t, special_fields[i].name) == special_fields[i].type && special_fields[i].write(w, t);
        lua_settop(L, t);
        if (done) return;
    }
    write_array(w);
}

/* Writes the value at the top of the stack and pops it. */
static void write_value(struct reply_writer *w)
{
    lua_State *L = w->L;
    switch (lua_type(L, -1)) {
    case LUA_TSTRING: {
        size_t len;
        const char *s = lua_tolstring(L, -1, &len);
        reply_bulk(w->o, s, len);
        break;
    }
    case LUA_TNUMBER: reply_int(w->o, lua_convert_number(lua_tonumber(L, -1))); break;
    case LUA_TBOOLEAN:
        if (w->resp >= 3) reply_bool(w->o, lua_toboolean(L, -1));
        else if (lua_toboolean(L, -1)) reply_int(w->o, 1);
        else reply_null(w->o);
        break;
    case LUA_TTABLE:
        if (w->depth >= CONVERT_MAX_DEPTH || !lua_checkstack(L, 8)) {
            reply_error(w->o, "ERR reached lua stack limit");
            break;
        }
        w->depth++;
        write_table(w);
        w->depth--;
        break;
    default: reply_null(w->o); break;
    }
    lua_pop(L, 1);
}

int lua_convert_write_reply(lua_State *L, struct outbuf *o, int script_resp)
{
    struct reply_writer w = {.L = L, .o = o, .resp = script_resp};
    lua_pushvalue(L, -1);
    write_value(&w);
    return w.uncounted;
}
