/* lua_struct: binary packing for scripts, as Redis's struct library
 * behaves (see the header for the format). */
#include "scripting/lua_struct.h"

#include <ctype.h>
#include <lauxlib.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define STRUCT_MAX_INT_SIZE 32
#define STRUCT_MAX_ALIGN 8 /* what a double needs on x86-64 */

enum { ORDER_BIG, ORDER_LITTLE };

struct layout {
    int order;
    int align;
};

static int native_order(void)
{
    const uint16_t one = 1;
    return *(const unsigned char *)&one ? ORDER_LITTLE : ORDER_BIG;
}

static void layout_init(struct layout *h)
{
    h->order = native_order();
    h->align = 1;
}

/* Reads the decimal number at *fmt, or returns `def` when none is there. */
static int read_count(lua_State *L, const char **fmt, int def)
{
    if (!isdigit((unsigned char)**fmt)) return def;
    int n = 0;
    do {
        int digit = *(*fmt)++ - '0';
        if (n > (INT_MAX - digit) / 10) luaL_error(L, "integral size overflow");
        n = n * 10 + digit;
    } while (isdigit((unsigned char)**fmt));
    return n;
}

/* The size of option `opt`, reading its count from *fmt; 0 for the options
 * that take no room (and for unknown ones, refused later). */
static size_t option_size(lua_State *L, char opt, const char **fmt)
{
    switch (opt) {
    case 'b': case 'B': return sizeof(char);
    case 'h': case 'H': return sizeof(short);
    case 'l': case 'L': return sizeof(long);
    case 'T': return sizeof(size_t);
    case 'f': return sizeof(float);
    case 'd': return sizeof(double);
    case 'x': return 1;
    case 'c': return (size_t)read_count(L, fmt, 1);
    case 'i': case 'I': {
        int n = read_count(L, fmt, sizeof(int));
        if (n > STRUCT_MAX_INT_SIZE)
            luaL_error(L, "integral size %d is larger than limit of %d", n, STRUCT_MAX_INT_SIZE);
        return (size_t)n;
    }
    default: return 0;
    }
}

/* Padding before an item of `size` bytes at offset `pos`. */
static size_t padding(size_t pos, const struct layout *h, char opt, size_t size)
{
    if (size == 0 || opt == 'c') return 0;
    if (size > (size_t)h->align) size = (size_t)h->align;
    return (size - (pos & (size - 1))) & (size - 1);
}

/* The options that change the layout rather than hold a value. */
static void layout_option(lua_State *L, char opt, const char **fmt, struct layout *h)
{
    switch (opt) {
    case ' ': return;
    case '>': h->order = ORDER_BIG; return;
    case '<': h->order = ORDER_LITTLE; return;
    case '!': {
        int a = read_count(L, fmt, STRUCT_MAX_ALIGN);
        if (a <= 0 || (a & (a - 1)) != 0) luaL_error(L, "alignment %d is not a power of 2", a);
        h->align = a;
        return;
    }
    default: {
        const char *msg = lua_pushfstring(L, "invalid format option '%c'", opt);
        luaL_argerror(L, 1, msg);
    }
    }
}

/* The low 64 bits of n as x86-64 converts a double: out of range (and NaN)
 * gives 2^63, except [2^63, 2^64) which is exact and 2^64 and above, 0. */
static uint64_t number_bits(lua_Number n)
{
    if (n < 0) return n >= -9223372036854775808.0 ? (uint64_t)(int64_t)n : UINT64_C(1) << 63;
    if (n < 9223372036854775808.0) return (uint64_t)(int64_t)n;
    if (n < 18446744073709551616.0) return (uint64_t)n;
    return n == n ? 0 : UINT64_C(1) << 63;
}

static void put_integer(lua_State *L, luaL_Buffer *b, int arg, int order, size_t size)
{
    uint64_t v = number_bits(luaL_checknumber(L, arg));
    char bytes[STRUCT_MAX_INT_SIZE];
    for (size_t i = 0; i < size; i++) {
        bytes[order == ORDER_LITTLE ? i : size - 1 - i] = (char)(v & 0xff);
        v >>= 8;
    }
    luaL_addlstring(b, bytes, size);
}

/* Reverses a float's bytes when `order` is not the machine's. */
static void fix_order(char *p, size_t size, int order)
{
    if (order == native_order()) return;
    for (size_t i = 0; i < size / 2; i++) {
        char t = p[i];
        p[i] = p[size - 1 - i];
        p[size - 1 - i] = t;
    }
}

static int struct_pack(lua_State *L)
{
    const char *fmt = luaL_checkstring(L, 1);
    struct layout h;
    layout_init(&h);
    int arg = 2;
    size_t total = 0;
    lua_pushnil(L); /* keeps the buffer above the arguments: a missing one reads as nil */
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    while (*fmt) {
        char opt = *fmt++;
        size_t size = option_size(L, opt, &fmt);
        size_t pad = padding(total, &h, opt, size);
        total += pad;
        while (pad-- > 0) luaL_addchar(&b, '\0');
        switch (opt) {
        case 'b': case 'B': case 'h': case 'H': case 'l': case 'L': case 'T': case 'i': case 'I':
            put_integer(L, &b, arg++, h.order, size);
            break;
        case 'x': luaL_addchar(&b, '\0'); break;
        case 'f': {
            float f = (float)luaL_checknumber(L, arg++);
            fix_order((char *)&f, sizeof(f), h.order);
            luaL_addlstring(&b, (char *)&f, sizeof(f));
            break;
        }
        case 'd': {
            double d = luaL_checknumber(L, arg++);
            fix_order((char *)&d, sizeof(d), h.order);
            luaL_addlstring(&b, (char *)&d, sizeof(d));
            break;
        }
        case 'c': case 's': {
            size_t len;
            const char *s = luaL_checklstring(L, arg++, &len);
            if (size == 0) size = len;
            luaL_argcheck(L, len >= size, arg, "string too short"); /* names the next argument, as Redis */
            luaL_addlstring(&b, s, size);
            if (opt == 's') {
                luaL_addchar(&b, '\0');
                size++;
            }
            break;
        }
        default: layout_option(L, opt, &fmt, &h);
        }
        total += size;
    }
    luaL_pushresult(&b);
    return 1;
}

static lua_Number get_integer(const char *p, int order, bool is_signed, size_t size)
{
    uint64_t v = 0;
    for (size_t i = 0; i < size; i++) {
        v <<= 8;
        v |= (unsigned char)p[order == ORDER_BIG ? i : size - 1 - i];
    }
    if (!is_signed) return (lua_Number)v;
    /* The sign bit; the shift wraps at 64 as x86 does (sizes 0 and > 8). */
    uint64_t mask = ~UINT64_C(0) << ((size * 8 - 1) & 63);
    if (v & mask) v |= mask;
    return (lua_Number)(int64_t)v;
}

/* Pushes the value of option `opt` (one that holds a value) found at
 * data[pos], which the caller checked holds `size` bytes; returns its size
 * (for 's' and 'c0', known only now). `n` counts the values pushed. */
static size_t unpack_item(lua_State *L, char opt, size_t size, int order, const char *data, size_t len,
                          size_t pos, int *n)
{
    switch (opt) {
    case 'f': case 'd': {
        union { float f; double d; char bytes[8]; } u;
        memcpy(u.bytes, data + pos, size);
        fix_order(u.bytes, size, order);
        lua_pushnumber(L, opt == 'f' ? (lua_Number)u.f : u.d);
        break;
    }
    case 'c':
        if (size == 0) {
            if (*n == 0 || !lua_isnumber(L, -1)) luaL_error(L, "format 'c0' needs a previous size");
            size = (size_t)(int64_t)lua_tonumber(L, -1);
            lua_pop(L, 1);
            (*n)--;
            luaL_argcheck(L, size <= len && pos <= len - size, 2, "data string too short");
        }
        lua_pushlstring(L, data + pos, size);
        break;
    case 's': {
        const char *end = memchr(data + pos, '\0', len - pos);
        if (!end) luaL_error(L, "unfinished string in data");
        size = (size_t)(end - (data + pos)) + 1;
        lua_pushlstring(L, data + pos, size - 1);
        break;
    }
    default: /* the integers */
        lua_pushnumber(L, get_integer(data + pos, order, islower((unsigned char)opt), size));
        break;
    }
    (*n)++;
    return size;
}

static bool holds_value(char opt)
{
    return opt && strchr("bBhHlLTiIfdcs", opt);
}

static int struct_unpack(lua_State *L)
{
    const char *fmt = luaL_checkstring(L, 1);
    size_t len;
    const char *data = luaL_checklstring(L, 2, &len);
    size_t pos = (size_t)luaL_optinteger(L, 3, 1);
    luaL_argcheck(L, pos > 0, 3, "offset must be 1 or greater");
    pos--;
    int n = 0;
    struct layout h;
    layout_init(&h);
    while (*fmt) {
        char opt = *fmt++;
        size_t size = option_size(L, opt, &fmt);
        pos += padding(pos, &h, opt, size);
        luaL_argcheck(L, size <= len && pos <= len - size, 2, "data string too short");
        luaL_checkstack(L, 2, "too many results");
        if (holds_value(opt)) size = unpack_item(L, opt, size, h.order, data, len, pos, &n);
        else if (opt != 'x') layout_option(L, opt, &fmt, &h);
        pos += size;
    }
    lua_pushinteger(L, (lua_Integer)(pos + 1));
    return n + 1;
}

/* The size of a layout; 's' and 'c0' have none. Unknown letters and
 * digits count as nothing, as in Redis; other unknown characters are
 * refused. */
static int struct_size(lua_State *L)
{
    const char *fmt = luaL_checkstring(L, 1);
    struct layout h;
    layout_init(&h);
    size_t pos = 0;
    while (*fmt) {
        char opt = *fmt++;
        size_t size = option_size(L, opt, &fmt);
        pos += padding(pos, &h, opt, size);
        if (opt == 's') luaL_argerror(L, 1, "option 's' has no fixed size");
        else if (opt == 'c' && size == 0) luaL_argerror(L, 1, "option 'c0' has no fixed size");
        if (!isalnum((unsigned char)opt)) layout_option(L, opt, &fmt, &h);
        pos += size;
    }
    lua_pushinteger(L, (lua_Integer)pos);
    return 1;
}

int lua_struct_open(lua_State *L)
{
    static const luaL_Reg functions[] = {
        {"pack", struct_pack},
        {"unpack", struct_unpack},
        {"size", struct_size},
    };
    lua_createtable(L, 0, 3);
    for (size_t i = 0; i < sizeof(functions) / sizeof(functions[0]); i++) {
        lua_pushcfunction(L, functions[i].func);
        lua_setfield(L, -2, functions[i].name);
    }
    return 1;
}
