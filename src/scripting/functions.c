/* functions: the server's libraries and the FUNCTION and FCALL commands
 * (see functions.h). */
#include "scripting/functions.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "scripting/function_lib.h"
#include "scripting/function_lua.h"
#include "scripting/function_meta.h"
#include "scripting/function_payload.h"
#include "scripting/lua.h"
#include "scripting/script_cache.h"
#include "scripting/script_run.h"
#include "scripting/script_timeout.h"
#include "server/server.h"
#include "util/glob.h"
#include "util/mem.h"
#include "util/numbers.h"

static struct function_set *live;    /* the server's libraries */
static struct function_set *loading; /* being built by a dataset load */

void functions_init(void)
{
    function_lua_init();
    live = function_set_create();
}

size_t functions_count(void)
{
    return live->function_count;
}

size_t functions_library_count(void)
{
    return function_set_library_count(live);
}

long long functions_vm_memory(void)
{
    return function_lua_memory();
}

size_t functions_memory(void)
{
    return live->bytes;
}

/* --- loading a library ---------------------------------------------------- */

/* Creates a library from its code and adds it to set, replacing one of
 * the same name when replace; NULL with the reason (without "ERR ") in
 * *err, set unchanged. Redis's order of checks: metadata, engine, name,
 * existence, the code itself, then its functions' names. */
static struct function_library *library_load(struct function_set *set, const char *code, size_t len, bool replace,
                                             str *err)
{
    char why[256];
    struct function_meta meta;
    if (!function_meta_parse(code, len, &meta, why, sizeof(why))) {
        *err = str_from_cstr(why);
        return NULL;
    }
    struct function_library *lib = NULL, *old = NULL;
    if (strcasecmp(meta.engine, "lua") != 0)
        *err = str_append_printf(str_empty(64), "Engine '%s' not found", meta.engine);
    else if (!function_name_valid(meta.name, str_len(meta.name)))
        *err = str_from_cstr(FUNCTION_ERR_BAD_NAME);
    else if ((old = function_set_library(set, meta.name, str_len(meta.name))) && !replace)
        *err = str_append_printf(str_empty(64), "Library '%s' already exists", meta.name);
    else
        lib = function_lua_run_library(meta.name, str_len(meta.name), code, len, meta.body_offset, err);
    function_meta_free(&meta);
    if (!lib) return NULL;
    struct function *clash = lib->count ? function_set_collision(set, lib, old) : NULL;
    if (lib->count == 0 || clash) {
        *err = lib->count ? str_append_printf(str_empty(64), "Function %s already exists", clash->name)
                          : str_from_cstr("No functions registered");
        function_library_free(lib);
        return NULL;
    }
    if (old) {
        function_set_unlink(set, old);
        function_library_free(old);
    }
    function_set_add(set, lib);
    return lib;
}

void functions_each_code(void (*emit)(void *ctx, const char *code, size_t len), void *ctx)
{
    size_t n;
    struct function_library **all = function_set_sorted(live, &n);
    for (size_t i = 0; i < n; i++) emit(ctx, all[i]->code, str_len(all[i]->code));
    mem_free(all);
}

void functions_load_begin(void)
{
    function_set_free(loading);
    loading = function_set_create();
}

bool functions_load_code(const char *code, size_t len, char *err, size_t errlen)
{
    str why = NULL;
    if (library_load(loading, code, len, false, &why)) return true;
    snprintf(err, errlen, "%s", why);
    str_free(why);
    return false;
}

void functions_load_end(bool ok)
{
    if (ok) {
        function_set_free(live);
        live = loading;
    } else {
        function_set_free(loading);
    }
    loading = NULL;
}

/* --- FCALL ---------------------------------------------------------------- */

static void fcall_generic(struct request *req, bool ro_command)
{
    long long numkeys;
    if (!parse_ll(req->argv[2].ptr, req->argv[2].len, &numkeys)) {
        reply_error(req->out, "ERR Bad number of keys provided");
        return;
    }
    if (numkeys < 0) {
        reply_error(req->out, "ERR Number of keys can't be negative");
        return;
    }
    if (numkeys > req->argc - 3) {
        reply_error(req->out, "ERR Number of keys can't be greater than number of args");
        return;
    }
    struct function *f = function_set_function(live, req->argv[1].ptr, req->argv[1].len);
    if (!f) {
        reply_error(req->out, "ERR Function not found");
        return;
    }
    struct script_target t = {
        .L = function_lua, .fn_ref = f->fn_ref, .name = f->name, .flags = f->flags, .function = true};
    script_execute(req, &t, (int)numkeys, ro_command);
}

static void cmd_fcall(struct request *req)
{
    fcall_generic(req, false);
}

static void cmd_fcall_ro(struct request *req)
{
    fcall_generic(req, true);
}

/* --- FUNCTION LOAD, DELETE, FLUSH ------------------------------------------ */

static void reply_err_str(struct request *req, str msg)
{
    reply_errorf(req->out, "ERR %s", msg);
    str_free(msg);
}

static void cmd_function_load(struct request *req)
{
    bool replace = false;
    int i = 2;
    for (; i < req->argc - 1; i++) {
        if (!ARG_IS(req, i, "REPLACE")) {
            reply_errorf(req->out, "ERR Unknown option given: %.*s", (int)req->argv[i].len, req->argv[i].ptr);
            return;
        }
        replace = true;
    }
    str err = NULL;
    struct function_library *lib = library_load(live, req->argv[i].ptr, req->argv[i].len, replace, &err);
    if (!lib) {
        reply_err_str(req, err);
        return;
    }
    req->dirty++;
    reply_bulk(req->out, lib->name, str_len(lib->name));
}

static void cmd_function_delete(struct request *req)
{
    struct function_library *lib = function_set_library(live, req->argv[2].ptr, req->argv[2].len);
    if (!lib) {
        reply_error(req->out, "ERR Library not found");
        return;
    }
    function_set_unlink(live, lib);
    function_library_free(lib);
    req->dirty++;
    reply_ok(req->out);
}

/* ASYNC frees nothing in the background: a flush is quick. */
static void cmd_function_flush(struct request *req)
{
    if (req->argc == 3 && !ARG_IS(req, 2, "ASYNC") && !ARG_IS(req, 2, "SYNC")) {
        reply_error(req->out, "ERR FUNCTION FLUSH only supports SYNC|ASYNC option");
        return;
    }
    if (req->argc > 3) {
        reply_error(req->out, "ERR unknown subcommand or wrong number of arguments for 'flush'. Try FUNCTION HELP.");
        return;
    }
    function_set_free(live);
    live = function_set_create();
    req->dirty++;
    reply_ok(req->out);
}

/* --- FUNCTION LIST -------------------------------------------------------- */

static void reply_function(struct request *req, const struct function *f)
{
    reply_map(req->out, 3);
    reply_bulk_cstr(req->out, "name");
    reply_bulk(req->out, f->name, str_len(f->name));
    reply_bulk_cstr(req->out, "description");
    if (f->description) reply_bulk(req->out, f->description, str_len(f->description));
    else reply_null(req->out);
    reply_bulk_cstr(req->out, "flags");
    int n = 0;
    for (size_t i = 0; i < SCRIPT_FLAG_NAMES; i++) n += (f->flags & script_flag_names[i].flag) != 0;
    reply_set(req->out, n);
    for (size_t i = 0; i < SCRIPT_FLAG_NAMES; i++)
        if (f->flags & script_flag_names[i].flag) reply_simple(req->out, script_flag_names[i].name);
}

static void reply_library(struct request *req, const struct function_library *lib, bool with_code)
{
    reply_map(req->out, with_code ? 4 : 3);
    reply_bulk_cstr(req->out, "library_name");
    reply_bulk(req->out, lib->name, str_len(lib->name));
    reply_bulk_cstr(req->out, "engine");
    reply_bulk_cstr(req->out, "LUA");
    reply_bulk_cstr(req->out, "functions");
    reply_array(req->out, lib->count);
    for (int i = 0; i < lib->count; i++) reply_function(req, lib->functions[i]);
    if (!with_code) return;
    reply_bulk_cstr(req->out, "library_code");
    reply_bulk(req->out, lib->code, str_len(lib->code));
}

/* Reads [LIBRARYNAME pattern] [WITHCODE], each at most once. */
static bool list_options(struct request *req, const struct arg **pattern, bool *with_code)
{
    for (int i = 2; i < req->argc; i++) {
        if (ARG_IS(req, i, "WITHCODE") && !*with_code) {
            *with_code = true;
        } else if (ARG_IS(req, i, "LIBRARYNAME") && !*pattern) {
            if (i + 1 >= req->argc) {
                reply_error(req->out, "ERR library name argument was not given");
                return false;
            }
            *pattern = &req->argv[++i];
        } else {
            reply_errorf(req->out, "ERR Unknown argument %.*s", (int)req->argv[i].len, req->argv[i].ptr);
            return false;
        }
    }
    return true;
}

static void cmd_function_list(struct request *req)
{
    const struct arg *pattern = NULL;
    bool with_code = false;
    if (!list_options(req, &pattern, &with_code)) return;
    size_t n;
    struct function_library **all = function_set_sorted(live, &n);
    size_t shown = 0;
    for (size_t i = 0; i < n; i++) {
        if (pattern && !glob_match(pattern->ptr, pattern->len, all[i]->name, str_len(all[i]->name), true)) continue;
        all[shown++] = all[i];
    }
    reply_array(req->out, (long long)shown);
    for (size_t i = 0; i < shown; i++) reply_library(req, all[i], with_code);
    mem_free(all);
}

/* --- FUNCTION DUMP, RESTORE ------------------------------------------------ */

static void cmd_function_dump(struct request *req)
{
    size_t n;
    struct function_library **all = function_set_sorted(live, &n);
    struct function_code *codes = mem_alloc(sizeof(*codes) * (n ? n : 1));
    for (size_t i = 0; i < n; i++) codes[i] = (struct function_code){all[i]->code, str_len(all[i]->code)};
    str payload = function_payload_create(codes, n);
    reply_bulk(req->out, payload, str_len(payload));
    str_free(payload);
    mem_free(codes);
    mem_free(all);
}

enum restore_policy { RESTORE_APPEND, RESTORE_REPLACE, RESTORE_FLUSH };

static bool restore_policy(struct request *req, enum restore_policy *policy)
{
    *policy = RESTORE_APPEND;
    if (req->argc == 3) return true;
    if (req->argc > 4) {
        reply_error(req->out, "ERR unknown subcommand or wrong number of arguments for 'restore'. Try FUNCTION HELP.");
        return false;
    }
    if (ARG_IS(req, 3, "APPEND")) *policy = RESTORE_APPEND;
    else if (ARG_IS(req, 3, "REPLACE")) *policy = RESTORE_REPLACE;
    else if (ARG_IS(req, 3, "FLUSH")) *policy = RESTORE_FLUSH;
    else {
        reply_error(req->out, "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.");
        return false;
    }
    return true;
}

/* The payload's libraries in a new set; NULL with the error replied. */
static struct function_set *restore_read(struct request *req)
{
    struct function_code *codes;
    size_t n;
    enum function_payload_result r = function_payload_parse(req->argv[2].ptr, req->argv[2].len, &codes, &n);
    if (r != FUNCTION_PAYLOAD_OK) {
        reply_error(req->out, r == FUNCTION_PAYLOAD_BAD_TRAILER ? "ERR DUMP payload version or checksum are wrong"
                                                                : "ERR given type is not a function");
        return NULL;
    }
    struct function_set *set = function_set_create();
    str err = NULL;
    for (size_t i = 0; i < n && !err; i++) library_load(set, codes[i].ptr, codes[i].len, false, &err);
    mem_free(codes);
    if (!err) return set;
    reply_err_str(req, err);
    function_set_free(set);
    return NULL;
}

/* Moves every library of `from` into live: with REPLACE those of the same
 * name go first (into `displaced`); any clash left is refused, and then
 * live is as it was. NULL, or the error text. */
static str restore_merge(struct function_set *from, bool replace, struct function_set *displaced)
{
    size_t n;
    struct function_library **all = function_set_sorted(from, &n);
    str err = NULL;
    for (size_t i = 0; i < n && !err; i++) {
        struct function_library *old = function_set_library(live, all[i]->name, str_len(all[i]->name));
        if (old && !replace) err = str_append_printf(str_empty(64), "Library %s already exists", old->name);
        else if (old) {
            function_set_unlink(live, old);
            function_set_add(displaced, old);
        }
    }
    for (size_t i = 0; i < n && !err; i++) {
        struct function *clash = function_set_collision(live, all[i], NULL);
        if (clash) err = str_append_printf(str_empty(64), "Function %s already exists", clash->name);
    }
    for (size_t i = 0; i < n && !err; i++) {
        function_set_unlink(from, all[i]);
        function_set_add(live, all[i]);
    }
    mem_free(all);
    return err;
}

/* Puts back what a failed REPLACE took out. */
static void restore_undo(struct function_set *displaced)
{
    size_t n;
    struct function_library **all = function_set_sorted(displaced, &n);
    for (size_t i = 0; i < n; i++) {
        function_set_unlink(displaced, all[i]);
        function_set_add(live, all[i]);
    }
    mem_free(all);
}

static void cmd_function_restore(struct request *req)
{
    enum restore_policy policy;
    if (!restore_policy(req, &policy)) return;
    struct function_set *set = restore_read(req);
    if (!set) return;
    if (policy == RESTORE_FLUSH) {
        function_set_free(live);
        live = set;
        req->dirty++;
        reply_ok(req->out);
        return;
    }
    struct function_set *displaced = function_set_create();
    str err = restore_merge(set, policy == RESTORE_REPLACE, displaced);
    if (err) restore_undo(displaced);
    function_set_free(displaced);
    function_set_free(set);
    if (err) {
        reply_err_str(req, err);
        return;
    }
    req->dirty++;
    reply_ok(req->out);
}

/* --- FUNCTION STATS, KILL, HELP ------------------------------------------- */

static void reply_running(struct request *req)
{
    struct script_run *r = script_running;
    if (!r || !r->function) {
        reply_null(req->out);
        return;
    }
    reply_map(req->out, 3);
    reply_bulk_cstr(req->out, "name");
    reply_bulk_cstr(req->out, r->name);
    reply_bulk_cstr(req->out, "command");
    reply_array(req->out, r->req->argc);
    for (int i = 0; i < r->req->argc; i++) reply_bulk(req->out, r->req->argv[i].ptr, r->req->argv[i].len);
    reply_bulk_cstr(req->out, "duration_ms");
    reply_int(req->out, script_timeout_elapsed_ms());
}

static void cmd_function_stats(struct request *req)
{
    if (script_running && !script_running->function) {
        reply_error(req->out, ERR_BUSY_SCRIPT);
        return;
    }
    reply_map(req->out, 2);
    reply_bulk_cstr(req->out, "running_script");
    reply_running(req);
    reply_bulk_cstr(req->out, "engines");
    reply_map(req->out, 1);
    reply_bulk_cstr(req->out, "LUA");
    reply_map(req->out, 2);
    reply_bulk_cstr(req->out, "libraries_count");
    reply_int(req->out, (long long)function_set_library_count(live));
    reply_bulk_cstr(req->out, "functions_count");
    reply_int(req->out, (long long)live->function_count);
}

static void cmd_function_kill(struct request *req)
{
    script_kill_command(req, true);
}

static void cmd_function_help(struct request *req)
{
    static const char *const lines[] = {
        "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "LOAD [REPLACE] <FUNCTION CODE>",
        "    Create a new library with the given library name and code.",
        "DELETE <LIBRARY NAME>",
        "    Delete the given library.",
        "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
        "    Return general information on all the libraries:",
        "    * Library name",
        "    * The engine used to run the Library",
        "    * Library description",
        "    * Functions list",
        "    * Library code (if WITHCODE is given)",
        "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
        "STATS",
        "    Return information about the current function running:",
        "    * Function name",
        "    * Command used to run the function",
        "    * Duration in MS that the function is running",
        "    If no function is running, return nil",
        "    In addition, returns a list of available engines.",
        "KILL",
        "    Kill the current running function.",
        "FLUSH [ASYNC|SYNC]",
        "    Delete all the libraries.",
        "    Both modes flush synchronously.",
        "DUMP",
        "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE "
        "command",
        "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
        "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
        "    control how to handle existing libraries (default APPEND):",
        "    * FLUSH: delete all existing libraries.",
        "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
        "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
        "      libraries with the new libraries (notice that even on this option there is a chance of failure",
        "      in case of functions name collision with another library).",
        "HELP",
        "    Prints this help.",
    };
    reply_help(req->out, lines, sizeof(lines) / sizeof(lines[0]));
}

#define FUNCTION_WRITE (CMD_WRITE | CMD_NOSCRIPT)
#define FCALL_FLAGS (CMD_NOSCRIPT | CMD_SKIP_MONITOR | CMD_STALE | CMD_MOVABLE_KEYS)
#define FCALL_DOC "Depends on the function that is executed."

static struct command function_subcommands[] = {
    {"load", cmd_function_load, -3, FUNCTION_WRITE | CMD_DENYOOM, 0, 0, 0, "@write @slow @scripting", "scripting",
     "Creates a library.", "7.0.0", "O(1) (considering compilation time is redundant)"},
    {"delete", cmd_function_delete, 3, FUNCTION_WRITE, 0, 0, 0, "@write @slow @scripting", "scripting",
     "Deletes a library and its functions.", "7.0.0", "O(1)"},
    {"flush", cmd_function_flush, -2, FUNCTION_WRITE, 0, 0, 0, "@write @slow @scripting", "scripting",
     "Deletes all libraries and functions.", "7.0.0", "O(N) where N is the number of functions deleted"},
    {"list", cmd_function_list, -2, CMD_NOSCRIPT, 0, 0, 0, "@slow @scripting", "scripting",
     "Returns information about all libraries.", "7.0.0", "O(N) where N is the number of functions"},
    {"dump", cmd_function_dump, 2, CMD_NOSCRIPT, 0, 0, 0, "@slow @scripting", "scripting",
     "Dumps all libraries into a serialized binary payload.", "7.0.0", "O(N) where N is the number of functions"},
    {"restore", cmd_function_restore, -3, FUNCTION_WRITE | CMD_DENYOOM, 0, 0, 0, "@write @slow @scripting",
     "scripting", "Restores all libraries from a payload.", "7.0.0", "O(N) where N is the number of functions on the payload"},
    {"stats", cmd_function_stats, 2, CMD_NOSCRIPT | CMD_ALLOW_BUSY, 0, 0, 0, "@slow @scripting", "scripting",
     "Returns information about a function during execution.", "7.0.0", "O(1)"},
    {"kill", cmd_function_kill, 2, CMD_NOSCRIPT | CMD_ALLOW_BUSY, 0, 0, 0, "@slow @scripting", "scripting",
     "Terminates a function during execution.", "7.0.0", "O(1)"},
    {"help", cmd_function_help, 2, CMD_LOADING | CMD_STALE, 0, 0, 0, "@slow @scripting", "scripting",
     "Returns helpful text about the different subcommands.", "7.0.0", "O(1)"},
    {0},
};

struct command function_commands[] = {
    {"fcall", cmd_fcall, -3, FCALL_FLAGS, 0, 0, 0, "@slow @scripting", "scripting", "Invokes a function.", "7.0.0",
     FCALL_DOC, NULL, script_command_keys},
    {"fcall_ro", cmd_fcall_ro, -3, FCALL_FLAGS | CMD_READONLY, 0, 0, 0, "@slow @scripting", "scripting",
     "Invokes a read-only function.", "7.0.0", FCALL_DOC, NULL, script_command_keys},
    {"function", NULL, -2, 0, 0, 0, 0, "@slow", "scripting", "A container for function commands.", "7.0.0",
     "Depends on subcommand.", function_subcommands},
    {0},
};
