/* lua_cmsgpack: MessagePack for scripts, as Redis's cmsgpack behaves (see
 * the header for the rules). */
#include "scripting/lua_cmsgpack.h"

#include <float.h>
#include <lauxlib.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "util/mem.h"

/* Tables deeper than this are written as nil (and cycles end there). */
#define MP_MAX_NESTING 16
/* A pack buffer larger than this is given back after the call. */
#define MP_KEEP_BYTES (64 * 1024)

/* --- writing ---------------------------------------------------------------- */

/* The bytes pack is building. One buffer serves every call (the server has
 * one thread and packing runs no Lua code); an error that unwinds a pack
 * leaves it allocated for the next one. */
static struct {
    unsigned char *p;
    size_t len, cap;
} out;

static void out_add(const void *bytes, size_t n)
{
    if (out.cap - out.len < n) {
        size_t need = out.len + n;
        size_t cap = out.cap ? out.cap : 256;
        while (cap < need) cap *= 2;
        out.p = mem_realloc(out.p, cap);
        out.cap = cap;
    }
    memcpy(out.p + out.len, bytes, n);
    out.len += n;
}

/* Writes `tag` then the low `size` bytes of v, most significant first. */
static void out_tagged(unsigned char tag, uint64_t v, int size)
{
    unsigned char b[9];
    b[0] = tag;
    for (int i = 0; i < size; i++) b[1 + i] = (unsigned char)(v >> (8 * (size - 1 - i)));
    out_add(b, (size_t)size + 1);
}

static void write_int(int64_t n)
{
    if (n >= 0) {
        if (n <= 127) out_tagged((unsigned char)n, 0, 0);
        else if (n <= 0xff) out_tagged(0xcc, (uint64_t)n, 1);
        else if (n <= 0xffff) out_tagged(0xcd, (uint64_t)n, 2);
        else if (n <= 0xffffffffLL) out_tagged(0xce, (uint64_t)n, 4);
        else out_tagged(0xcf, (uint64_t)n, 8);
    } else {
        if (n >= -32) out_tagged((unsigned char)(0xe0 | (n & 0x1f)), 0, 0);
        else if (n >= -128) out_tagged(0xd0, (uint64_t)n, 1);
        else if (n >= -32768) out_tagged(0xd1, (uint64_t)n, 2);
        else if (n >= INT32_MIN) out_tagged(0xd2, (uint64_t)n, 4);
        else out_tagged(0xd3, (uint64_t)n, 8);
    }
}

/* True when d converts to float and back unchanged (infinities do). */
static bool fits_float(double d)
{
    if (isnan(d)) return false;
    if (!isinf(d) && fabs(d) > FLT_MAX) return false;
    return (double)(float)d == d;
}

static void write_float(double d)
{
    if (fits_float(d)) {
        float f = (float)d;
        uint32_t bits;
        memcpy(&bits, &f, 4);
        out_tagged(0xca, bits, 4);
    } else {
        uint64_t bits;
        memcpy(&bits, &d, 8);
        out_tagged(0xcb, bits, 8);
    }
}

/* A number equal to a 64-bit integer (not an infinity) is an integer. */
static void write_number(lua_Number n)
{
    if (n >= -9223372036854775808.0 && n < 9223372036854775808.0 && (lua_Number)(int64_t)n == n)
        write_int((int64_t)n);
    else
        write_float((double)n);
}

static void write_string(const char *s, size_t len)
{
    if (len < 32) out_tagged((unsigned char)(0xa0 | len), 0, 0);
    else if (len <= 0xff) out_tagged(0xd9, len, 1);
    else if (len <= 0xffff) out_tagged(0xda, len, 2);
    else out_tagged(0xdb, len, 4);
    out_add(s, len);
}

/* The header of an array (fix_tag 0x90, big_tag 0xdc) or a map (0x80,
 * 0xde) of n elements; the 32-bit form's tag follows the 16-bit one. */
static void write_header(unsigned char fix_tag, unsigned char big_tag, size_t n)
{
    if (n <= 15) out_tagged((unsigned char)(fix_tag | n), 0, 0);
    else if (n <= 0xffff) out_tagged(big_tag, n, 2);
    else out_tagged((unsigned char)(big_tag + 1), n, 4);
}

/* True when the table at the top has exactly the keys 1..n (n >= 0), each
 * a number equal to an int. */
static bool table_is_array(lua_State *L)
{
    int top = lua_gettop(L);
    long long count = 0, max = 0;
    luaL_checkstack(L, 2, "in function table_is_array");
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        lua_pop(L, 1);
        lua_Number k;
        if (lua_type(L, -1) != LUA_TNUMBER || (k = lua_tonumber(L, -1)) <= 0 || k > INT_MAX ||
            (lua_Number)(int)k != k) {
            lua_settop(L, top);
            return false;
        }
        if (k > max) max = (long long)k;
        count++;
    }
    return max == count;
}

static void write_value(lua_State *L, int level);

static void write_table(lua_State *L, int level)
{
    if (table_is_array(L)) {
        size_t n = lua_objlen(L, -1);
        write_header(0x90, 0xdc, n);
        luaL_checkstack(L, 1, "in function write_table");
        for (size_t i = 1; i <= n; i++) {
            lua_rawgeti(L, -1, (int)i);
            write_value(L, level + 1);
        }
        return;
    }
    size_t n = 0;
    luaL_checkstack(L, 3, "in function write_table");
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        lua_pop(L, 1);
        n++;
    }
    write_header(0x80, 0xde, n);
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        lua_pushvalue(L, -2);
        write_value(L, level + 1); /* the key */
        write_value(L, level + 1); /* the value */
    }
}

/* Writes the value at the top of the stack and pops it. */
static void write_value(lua_State *L, int level)
{
    int type = lua_type(L, -1);
    if (type == LUA_TTABLE && level >= MP_MAX_NESTING) type = LUA_TNIL;
    switch (type) {
    case LUA_TSTRING: {
        size_t len;
        const char *s = lua_tolstring(L, -1, &len);
        write_string(s, len);
        break;
    }
    case LUA_TBOOLEAN: out_tagged(lua_toboolean(L, -1) ? 0xc3 : 0xc2, 0, 0); break;
    case LUA_TNUMBER: write_number(lua_tonumber(L, -1)); break;
    case LUA_TTABLE: write_table(L, level); break;
    default: out_tagged(0xc0, 0, 0); break;
    }
    lua_pop(L, 1);
}

static int mp_pack(lua_State *L)
{
    int nargs = lua_gettop(L);
    if (nargs == 0) return luaL_argerror(L, 0, "MessagePack pack needs input.");
    if (!lua_checkstack(L, nargs)) return luaL_argerror(L, 0, "Too many arguments for MessagePack pack.");
    out.len = 0;
    for (int i = 1; i <= nargs; i++) {
        lua_pushvalue(L, i);
        write_value(L, 0);
    }
    lua_pushlstring(L, (const char *)out.p, out.len);
    if (out.cap > MP_KEEP_BYTES) {
        mem_free(out.p);
        out.p = NULL;
        out.cap = 0;
    }
    out.len = 0;
    return 1;
}

/* --- reading ---------------------------------------------------------------- */

enum mp_error { MP_OK, MP_TRUNCATED, MP_BAD_FORMAT };

struct mp_cursor {
    const unsigned char *p;
    size_t left;
    enum mp_error err;
};

/* Reads `size` bytes after the tag, most significant first; false (with
 * the cursor marked truncated) when they are not all there. */
static bool read_be(struct mp_cursor *c, int size, uint64_t *v)
{
    if (c->left < (size_t)size + 1) {
        c->err = MP_TRUNCATED;
        return false;
    }
    uint64_t x = 0;
    for (int i = 1; i <= size; i++) x = (x << 8) | c->p[i];
    *v = x;
    c->p += size + 1;
    c->left -= (size_t)size + 1;
    return true;
}

static void read_value(lua_State *L, struct mp_cursor *c);

static void read_string(lua_State *L, struct mp_cursor *c, size_t len)
{
    if (c->left < len) {
        c->err = MP_TRUNCATED;
        return;
    }
    lua_pushlstring(L, (const char *)c->p, len);
    c->p += len;
    c->left -= len;
}

/* Each element takes at least a byte, so the input bounds the presize. */
static int presize(const struct mp_cursor *c, uint64_t n)
{
    uint64_t cap = n < c->left ? n : c->left;
    return cap > INT_MAX ? INT_MAX : (int)cap;
}

/* Holds each index on the stack while its element is read: how deep
 * arrays nest before the stack runs out, and the message, are Redis's. */
static void read_array(lua_State *L, struct mp_cursor *c, uint64_t n)
{
    lua_createtable(L, presize(c, n), 0);
    luaL_checkstack(L, 1, "in function mp_decode_to_lua_array");
    for (uint64_t i = 1; i <= n; i++) {
        lua_pushinteger(L, (lua_Integer)i);
        read_value(L, c);
        if (c->err) return;
        lua_rawset(L, -3);
    }
}

static void read_map(lua_State *L, struct mp_cursor *c, uint64_t n)
{
    lua_createtable(L, 0, presize(c, n / 2));
    for (uint64_t i = 0; i < n; i++) {
        read_value(L, c);
        if (c->err) return;
        read_value(L, c);
        if (c->err) return;
        lua_settable(L, -3);
    }
}

/* Sizes of the fixed-width tags 0xcc..0xd3 and 0xca, 0xcb. */
static int int_size(unsigned char tag)
{
    switch (tag) {
    case 0xcc: case 0xd0: return 1;
    case 0xcd: case 0xd1: return 2;
    case 0xce: case 0xd2: case 0xca: return 4;
    default: return 8;
    }
}

/* Integers and floats: tags 0xca..0xd3. */
static void read_number(lua_State *L, struct mp_cursor *c, unsigned char tag)
{
    uint64_t v;
    if (!read_be(c, int_size(tag), &v)) return;
    switch (tag) {
    case 0xca: {
        uint32_t bits = (uint32_t)v;
        float f;
        memcpy(&f, &bits, 4);
        lua_pushnumber(L, f);
        break;
    }
    case 0xcb: {
        double d;
        memcpy(&d, &v, 8);
        lua_pushnumber(L, d);
        break;
    }
    case 0xd0: lua_pushinteger(L, (int8_t)v); break;
    case 0xd1: lua_pushinteger(L, (int16_t)v); break;
    case 0xd2: lua_pushinteger(L, (int32_t)v); break;
    case 0xd3: lua_pushnumber(L, (lua_Number)(int64_t)v); break;
    default: lua_pushinteger(L, (lua_Integer)v); break; /* unsigned; above 2^63-1 wraps */
    }
}

/* Reads a length (1, 2 or 4 bytes) then `what` of that length. */
static void read_sized(lua_State *L, struct mp_cursor *c, int size, char what)
{
    uint64_t n;
    if (!read_be(c, size, &n)) return;
    if (what == 's') read_string(L, c, n);
    else if (what == 'a') read_array(L, c, n);
    else read_map(L, c, n);
}

/* Pushes the object at the cursor; on failure sets c->err (what was pushed
 * is left for the caller's error to discard). */
static void read_value(lua_State *L, struct mp_cursor *c)
{
    if (c->left == 0) {
        c->err = MP_TRUNCATED;
        return;
    }
    luaL_checkstack(L, 1, "too many return values at once; use unpack_one or unpack_limit instead.");
    unsigned char tag = c->p[0];
    if (tag <= 0x7f || tag >= 0xe0 || (tag >= 0x80 && tag <= 0xbf) || (tag >= 0xc0 && tag <= 0xc3)) {
        c->p++;
        c->left--;
        if (tag <= 0x7f) lua_pushinteger(L, tag);
        else if (tag >= 0xe0) lua_pushinteger(L, (int8_t)tag);
        else if (tag == 0xc0) lua_pushnil(L);
        else if (tag == 0xc2 || tag == 0xc3) lua_pushboolean(L, tag == 0xc3);
        else if (tag == 0xc1) c->err = MP_BAD_FORMAT; /* never used */
        else if (tag >= 0xa0) read_string(L, c, tag & 0x1f);
        else if (tag >= 0x90) read_array(L, c, tag & 0x0f);
        else read_map(L, c, tag & 0x0f);
        return;
    }
    switch (tag) {
    case 0xca: case 0xcb: case 0xcc: case 0xcd: case 0xce: case 0xcf:
    case 0xd0: case 0xd1: case 0xd2: case 0xd3: read_number(L, c, tag); break;
    case 0xd9: read_sized(L, c, 1, 's'); break;
    case 0xda: read_sized(L, c, 2, 's'); break;
    case 0xdb: read_sized(L, c, 4, 's'); break;
    case 0xdc: read_sized(L, c, 2, 'a'); break;
    case 0xdd: read_sized(L, c, 4, 'a'); break;
    case 0xde: read_sized(L, c, 2, 'm'); break;
    case 0xdf: read_sized(L, c, 4, 'm'); break;
    default: c->err = MP_BAD_FORMAT; break; /* binary, extensions */
    }
}

/* unpack, unpack_one and unpack_limit: at most `limit` objects from byte
 * `offset` (limit and offset both 0: every object, and no offset returned).
 * The string is argument 1 and the only value on the stack. */
static int unpack_from(lua_State *L, lua_Integer limit, lua_Integer offset)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    bool all = limit == 0 && offset == 0;
    /* Redis's message prints the input's length where it says limit. */
    if (offset < 0 || limit < 0)
        return luaL_error(L, "Invalid request to unpack with offset of %d and limit of %d.", (int)offset, (int)len);
    if ((size_t)offset > len)
        return luaL_error(L, "Start offset %d greater than input length %d.", (int)offset, (int)len);
    if (all) limit = INT_MAX;
    struct mp_cursor c = {(const unsigned char *)s + offset, len - (size_t)offset, MP_OK};
    int count = 0;
    for (; c.left > 0 && count < limit; count++) {
        read_value(L, &c);
        if (c.err == MP_TRUNCATED) return luaL_error(L, "Missing bytes in input.");
        if (c.err == MP_BAD_FORMAT) return luaL_error(L, "Bad data format in input.");
    }
    if (all) return count;
    luaL_checkstack(L, 1, "in function unpack_from");
    lua_pushinteger(L, c.left == 0 ? -1 : (lua_Integer)(len - c.left));
    lua_insert(L, 2);
    return count + 1;
}

static int mp_unpack(lua_State *L)
{
    return unpack_from(L, 0, 0);
}

static int mp_unpack_one(lua_State *L)
{
    lua_Integer offset = luaL_optinteger(L, 2, 0);
    lua_settop(L, 1);
    return unpack_from(L, 1, offset);
}

static int mp_unpack_limit(lua_State *L)
{
    lua_Integer limit = luaL_checkinteger(L, 2);
    lua_Integer offset = luaL_optinteger(L, 3, 0);
    lua_settop(L, 1);
    return unpack_from(L, limit, offset);
}

int lua_cmsgpack_open(lua_State *L)
{
    static const luaL_Reg functions[] = {
        {"pack", mp_pack},
        {"unpack", mp_unpack},
        {"unpack_one", mp_unpack_one},
        {"unpack_limit", mp_unpack_limit},
    };
    static const char *const about[][2] = {
        {"_NAME", "cmsgpack"},
        {"_VERSION", "lua-cmsgpack 0.4.0"},
        {"_COPYRIGHT", "Copyright (C) 2012, Salvatore Sanfilippo"},
        {"_DESCRIPTION", "MessagePack C implementation for Lua"},
    };
    lua_createtable(L, 0, 8);
    for (size_t i = 0; i < sizeof(functions) / sizeof(functions[0]); i++) {
        lua_pushcfunction(L, functions[i].func);
        lua_setfield(L, -2, functions[i].name);
    }
    for (size_t i = 0; i < sizeof(about) / sizeof(about[0]); i++) {
        lua_pushstring(L, about[i][1]);
        lua_setfield(L, -2, about[i][0]);
    }
    return 1;
}
