/* The ACL command: SETUSER GETUSER DELUSER LIST USERS WHOAMI CAT LOG LOAD
 * SAVE GENPASS DRYRUN HELP, with Redis 7's replies and error texts. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "server/acl.h"
#include "server/acl_file.h"
#include "server/acl_log.h"
#include "server/acl_store.h"
#include "server/client.h"
#include "server/command_table.h"
#include "server/commands.h"
#include "util/mem.h"

static void cmd_acl_setuser(struct request *req)
{
    struct arg *name = &req->argv[2];
    for (size_t i = 0; i < name->len; i++) {
        if (name->ptr[i] == ' ' || name->ptr[i] == '\0') {
            reply_error(req->out, "ERR Usernames can't contain spaces or null characters");
            return;
        }
    }
    char *err = NULL;
    if (!acl_store_setuser(name->ptr, name->len, req->argc - 3, req->argv + 3, &err, req->client)) {
        reply_errorf(req->out, "ERR %s", err);
        mem_free(err);
        return;
    }
    reply_ok(req->out);
}

static void reply_str(struct outbuf *o, str s)
{
    reply_bulk(o, s, str_len(s));
    str_free(s);
}

/* commands, keys and channels of a selector, as GETUSER's map entries. */
static void reply_selector_fields(struct outbuf *o, const struct acl_selector *s)
{
    reply_bulk_cstr(o, "commands");
    reply_str(o, acl_selector_describe_commands(str_empty(64), s));
    reply_bulk_cstr(o, "keys");
    reply_str(o, acl_selector_describe_keys(str_empty(64), s));
    reply_bulk_cstr(o, "channels");
    reply_str(o, acl_selector_describe_channels(str_empty(64), s));
}

static void cmd_acl_getuser(struct request *req)
{
    struct acl_user *u = acl_user_find(req->argv[2].ptr, req->argv[2].len);
    if (!u) {
        reply_null(req->out);
        return;
    }
    struct outbuf *o = req->out;
    reply_map(o, 6);
    reply_bulk_cstr(o, "flags");
    int nflags = 0;
    for (int i = 0; i < ACL_USER_FLAG_NAMES; i++) nflags += (u->flags & acl_user_flag_names[i].flag) != 0;
    reply_set(o, nflags);
    for (int i = 0; i < ACL_USER_FLAG_NAMES; i++)
        if (u->flags & acl_user_flag_names[i].flag) reply_bulk_cstr(o, acl_user_flag_names[i].name);
    reply_bulk_cstr(o, "passwords");
    reply_array(o, u->npasswords);
    for (int i = 0; i < u->npasswords; i++) {
        char hex[SHA256_HEX_SIZE];
        sha256_to_hex(u->passwords[i], hex);
        reply_bulk(o, hex, 64);
    }
    reply_selector_fields(o, u->selectors[0]);
    reply_bulk_cstr(o, "selectors");
    reply_array(o, u->nselectors - 1);
    for (int i = 1; i < u->nselectors; i++) {
        reply_map(o, 3);
        reply_selector_fields(o, u->selectors[i]);
    }
}

static void cmd_acl_deluser(struct request *req)
{
    for (int i = 2; i < req->argc; i++) {
        if (req->argv[i].len == 7 && !memcmp(req->argv[i].ptr, "default", 7)) {
            reply_error(req->out, "ERR The 'default' user cannot be removed");
            return;
        }
    }
    long long deleted = 0;
    for (int i = 2; i < req->argc; i++)
        deleted += acl_store_deluser(req->argv[i].ptr, req->argv[i].len, req->client);
    reply_int(req->out, deleted);
}

static void cmd_acl_list(struct request *req)
{
    int n = acl_users_count();
    reply_array(req->out, n);
    for (int i = 0; i < n; i++) {
        struct acl_user *u = acl_user_at(i);
        str line = str_append_printf(str_empty(128), "user %s ", u->name);
        reply_str(req->out, acl_user_describe(line, u));
    }
}

static void cmd_acl_users(struct request *req)
{
    int n = acl_users_count();
    reply_array(req->out, n);
    for (int i = 0; i < n; i++) reply_bulk(req->out, acl_user_at(i)->name, str_len(acl_user_at(i)->name));
}

static void cmd_acl_whoami(struct request *req)
{
    reply_bulk_cstr(req->out, acl_client_user_name(req->client));
}

static void cmd_acl_cat(struct request *req)
{
    if (req->argc == 2) {
        reply_array(req->out, ACL_CATEGORY_COUNT);
        for (int i = 0; i < ACL_CATEGORY_COUNT; i++) reply_bulk_cstr(req->out, acl_category_names[i]);
        return;
    }
    if (req->argc > 3) {
        reply_wrong_arity(req->out, "acl|cat");
        return;
    }
    uint64_t bit = acl_category_bit(req->argv[2].ptr, req->argv[2].len);
    if (!bit) {
        reply_errorf(req->out, "ERR Unknown category '%.128s'", req->argv[2].ptr);
        return;
    }
    outbuf_mark mark = reply_defer(req->out);
    long long n = 0;
    for (int id = 0; id < acl_command_count(); id++) {
        struct command *cmd = acl_command_by_id(id);
        if (!(cmd->acl_cats & bit)) continue;
        reply_bulk_cstr(req->out, cmd->full_name);
        n++;
    }
    reply_deferred_array(req->out, mark, n);
}

static void cmd_acl_log(struct request *req)
{
    long long count = 10;
    if (req->argc == 3) {
        if (ARG_IS(req, 2, "RESET")) {
            acl_log_reset();
            reply_ok(req->out);
            return;
        }
        if (!request_ll(req, 2, &count)) return;
        if (count < 0) count = 0;
    } else if (req->argc > 3) {
        reply_syntax_error(req->out);
        return;
    }
    acl_log_reply(req->out, count);
}

static void cmd_acl_load(struct request *req)
{
    const char *why = acl_file_not_configured();
    if (why) {
        reply_errorf(req->out, "ERR %s", why);
        return;
    }
    char *err = acl_file_load(req->client);
    if (err) {
        reply_errorf(req->out, "ERR %s", err);
        mem_free(err);
        return;
    }
    reply_ok(req->out);
}

static void cmd_acl_save(struct request *req)
{
    const char *why = acl_file_not_configured();
    if (why) {
        reply_errorf(req->out, "ERR %s", why);
        return;
    }
    char *err = acl_file_save();
    if (err) {
        reply_errorf(req->out, "ERR There was an error trying to save the ACLs. Please check the server logs for "
                               "more information");
        mem_free(err);
        return;
    }
    reply_ok(req->out);
}

/* GENPASS [bits]: bits/4 hex digits (rounded up) from the system's random
 * source. */
static void cmd_acl_genpass(struct request *req)
{
    long long bits = 256;
    if (req->argc > 3) {
        reply_wrong_arity(req->out, "acl|genpass");
        return;
    }
    if (req->argc == 3 && !request_ll(req, 2, &bits)) return;
    if (bits <= 0 || bits > 4096) {
        reply_error(req->out, "ERR ACL GENPASS argument must be the number of bits for the output password, a "
                              "positive number up to 4096");
        return;
    }
    size_t chars = (size_t)(bits + 3) / 4;
    unsigned char raw[512];
    size_t need = (chars + 1) / 2;
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    size_t got = 0;
    while (fd >= 0 && got < need) {
        ssize_t r = read(fd, raw + got, need - got);
        if (r <= 0) break;
        got += (size_t)r;
    }
    if (fd >= 0) close(fd);
    if (got < need) {
        reply_error(req->out, "ERR Failed to read from the system's random source");
        return;
    }
    static const char hex[] = "0123456789abcdef";
    char out[1025];
    for (size_t i = 0; i < chars; i++) out[i] = hex[(raw[i / 2] >> (i % 2 ? 0 : 4)) & 15];
    reply_bulk(req->out, out, chars);
}

static void cmd_acl_dryrun(struct request *req)
{
    struct acl_user *u = acl_user_find(req->argv[2].ptr, req->argv[2].len);
    if (!u) {
        reply_errorf(req->out, "ERR User '%.128s' not found", req->argv[2].ptr);
        return;
    }
    struct arg *argv = req->argv + 3;
    int argc = req->argc - 3;
    struct command *cmd = command_lookup(argv[0].ptr, argv[0].len);
    if (cmd && cmd->subcommands && argc >= 2) cmd = command_lookup_sub(cmd, argv[1].ptr, argv[1].len);
    if (!cmd) {
        reply_errorf(req->out, "ERR Command '%.128s' not found", argv[0].ptr);
        return;
    }
    if (cmd->arity > 0 ? argc != cmd->arity : argc < -cmd->arity) {
        reply_errorf(req->out, "ERR wrong number of arguments for '%s' command", cmd->full_name);
        return;
    }
    int pos = 0;
    switch (acl_user_check(u, cmd, argc, argv, &pos)) {
    case ACL_OK: reply_ok(req->out); return;
    case ACL_DENIED_CMD:
        reply_str(req->out, str_append_printf(str_empty(64), "This user has no permissions to run the '%s' command",
                                              cmd->full_name));
        return;
    case ACL_DENIED_KEY:
        reply_str(req->out, str_append_printf(str_empty(64), "This user has no permissions to access the '%.*s' key",
                                              (int)argv[pos].len, argv[pos].ptr));
        return;
    default:
        reply_str(req->out,
                  str_append_printf(str_empty(64), "This user has no permissions to access the '%.*s' channel",
                                    (int)argv[pos].len, argv[pos].ptr));
        return;
    }
}

static void cmd_acl_help(struct request *req)
{
    static const char *const lines[] = {
        "ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CAT [<category>]",
        "    List all commands that belong to <category>, or all command categories",
        "    when no category is specified.",
        "DELUSER <username> [<username> ...]",
        "    Delete a list of users.",
        "DRYRUN <username> <command> [<arg> ...]",
        "    Returns whether the user can execute the given command without executing the command.",
        "GETUSER <username>",
        "    Get the user's details.",
        "GENPASS [<bits>]",
        "    Generate a secure 256-bit user password. The optional `bits` argument can",
        "    be used to specify a different size.",
        "LIST",
        "    Show users details in config file format.",
        "LOAD",
        "    Reload users from the ACL file.",
        "LOG [<count> | RESET]",
        "    Show the ACL log entries.",
        "SAVE",
        "    Save the current config to the ACL file.",
        "SETUSER <username> <attribute> [<attribute> ...]",
        "    Create or modify a user with the specified attributes.",
        "USERS",
        "    List all the registered usernames.",
        "WHOAMI",
        "    Return the current connection username.",
        "HELP",
        "    Prints this help.",
    };
    reply_help(req->out, lines, sizeof(lines) / sizeof(lines[0]));
}

#define ACL_ADMIN (CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE)
#define ACL_PLAIN (CMD_NOSCRIPT | CMD_LOADING | CMD_STALE)
#define ACL_ADMIN_CATS "@admin @slow @dangerous"
static struct command acl_subcommands[] = {
    {"cat", cmd_acl_cat, -2, ACL_PLAIN, 0, 0, 0, "@slow", "server",
     "Lists the ACL categories, or the commands inside a category.", "6.0.0", "O(1) since the categories and commands are a fixed set."},
    {"deluser", cmd_acl_deluser, -3, ACL_ADMIN, 0, 0, 0, ACL_ADMIN_CATS, "server",
     "Deletes ACL users, and terminates their connections.", "6.0.0", "O(1) amortized time considering the typical user."},
    {"dryrun", cmd_acl_dryrun, -4, ACL_ADMIN, 0, 0, 0, ACL_ADMIN_CATS, "server",
     "Simulates the execution of a command by a user, without executing the command.", "7.0.0", "O(1)."},
    {"genpass", cmd_acl_genpass, -2, ACL_PLAIN, 0, 0, 0, "@slow", "server",
     "Generates a pseudorandom, secure password that can be used to identify ACL users.", "6.0.0", "O(1)"},
    {"getuser", cmd_acl_getuser, 3, ACL_ADMIN, 0, 0, 0, ACL_ADMIN_CATS, "server",
     "Lists the ACL rules of a user.", "6.0.0", "O(N). Where N is the number of password, command and pattern rules that the user has."},
    {"help", cmd_acl_help, 2, CMD_LOADING | CMD_STALE, 0, 0, 0, "@slow", "server",
     "Returns helpful text about the different subcommands.", "6.0.0", "O(1)"},
    {"list", cmd_acl_list, 2, ACL_ADMIN, 0, 0, 0, ACL_ADMIN_CATS, "server",
     "Dumps the effective rules in ACL file format.", "6.0.0", "O(N). Where N is the number of configured users."},
    {"load", cmd_acl_load, 2, ACL_ADMIN, 0, 0, 0, ACL_ADMIN_CATS, "server",
     "Reloads the rules from the configured ACL file.", "6.0.0", "O(N). Where N is the number of configured users."},
    {"log", cmd_acl_log, -2, ACL_ADMIN, 0, 0, 0, ACL_ADMIN_CATS, "server",
     "Lists recent security events generated due to ACL rules.", "6.0.0", "O(N) with N being the number of entries shown."},
    {"save", cmd_acl_save, 2, ACL_ADMIN, 0, 0, 0, ACL_ADMIN_CATS, "server",
     "Saves the effective ACL rules in the configured ACL file.", "6.0.0", "O(N). Where N is the number of configured users."},
    {"setuser", cmd_acl_setuser, -3, ACL_ADMIN, 0, 0, 0, ACL_ADMIN_CATS, "server",
     "Creates and modifies an ACL user and its rules.", "6.0.0", "O(N). Where N is the number of rules provided."},
    {"users", cmd_acl_users, 2, ACL_ADMIN, 0, 0, 0, ACL_ADMIN_CATS, "server",
     "Lists all ACL users.", "6.0.0", "O(N). Where N is the number of configured users."},
    {"whoami", cmd_acl_whoami, 2, ACL_PLAIN, 0, 0, 0, "@slow", "server",
     "Returns the authenticated username of the current connection.", "6.0.0", "O(1)"},
    {0},
};

struct command acl_commands[] = {
    {"acl", NULL, -2, 0, 0, 0, 0, "@slow", "server", "A container for Access List Control commands.", "6.0.0",
     "Depends on subcommand.", acl_subcommands},
    {0},
};
