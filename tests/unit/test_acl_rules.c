/* The ACL rule parser against the real command table: rules, their
 * description (ACL LIST / the ACL file), errors, and per-selector checks. */
#include <criterion/criterion.h>
#include <string.h>

#include "server/acl_keys.h"
#include "server/acl_user.h"
#include "server/command_table.h"
#include "server/server.h"
#include "util/glob.h"
#include "util/mem.h"

/* Defined by main.c in the server binary; the command table reaches them. */
struct server server;
bool (*server_debug_extension)(struct request *req);

static void setup(void)
{
    static bool done;
    if (done) return;
    done = true;
    command_table_init();
    acl_commands_index();
}

/* Applies space-separated rules; returns the error reason or NULL. */
static const char *apply(struct acl_user *u, const char *rules)
{
    char *copy = mem_strdup(rules);
    struct arg argv[64];
    int argc = 0;
    for (char *w = strtok(copy, " "); w; w = strtok(NULL, " ")) argv[argc++] = (struct arg){w, strlen(w)};
    const char *err = NULL;
    int bad;
    bool ok = acl_user_apply_all(u, argc, argv, &err, &bad);
    mem_free(copy);
    return ok ? NULL : (err ? err : "unmatched");
}

static struct acl_user *user_with(const char *rules)
{
    setup();
    struct acl_user *u = acl_user_new("u", 1);
    const char *err = apply(u, rules);
    cr_assert_null(err, "%s: %s", rules, err);
    return u;
}

static void assert_described(struct acl_user *u, const char *expected)
{
    str d = acl_user_describe(str_empty(64), u);
    cr_assert_str_eq(d, expected);
    str_free(d);
}

/* Runs argv (space-separated) through the root selector. */
static enum acl_denial check(struct acl_user *u, const char *line, int *pos)
{
    char *copy = mem_strdup(line);
    struct arg argv[16];
    int argc = 0;
    for (char *w = strtok(copy, " "); w; w = strtok(NULL, " ")) argv[argc++] = (struct arg){w, strlen(w)};
    struct command *cmd = command_lookup(argv[0].ptr, argv[0].len);
    cr_assert_not_null(cmd, "%s", line);
    if (cmd->subcommands && argc > 1) cmd = command_lookup_sub(cmd, argv[1].ptr, argv[1].len);
    int p = 0;
    enum acl_denial d = acl_selector_check(u->selectors[0], cmd, argv, argc, &p);
    if (pos) *pos = p;
    mem_free(copy);
    return d;
}

Test(acl_rules, new_user_is_off_with_nothing)
{
    struct acl_user *u = user_with("");
    assert_described(u, "off resetchannels -@all");
    cr_assert_eq(check(u, "get k", NULL), ACL_DENIED_CMD);
    acl_user_free(u);
}

Test(acl_rules, description_keeps_rules_in_order_without_overridden_ones)
{
    struct acl_user *u = user_with("on nopass ~k* %R~r* %W~w* &ch* +get +@list -lpush +config|get +select|0 -get");
    assert_described(u, "on nopass ~k* %R~r* %W~w* resetchannels &ch* -@all +@list -lpush +config|get +select|0 -get");
    acl_user_free(u);
    u = user_with("+@all -flushall allkeys allchannels");
    assert_described(u, "off ~* &* +@all -flushall");
    cr_assert_not(u->unrestricted, "one command is missing");
    acl_user_free(u);
    u = user_with("+@all ~* &*");
    cr_assert(u->unrestricted, "every command, key and channel: no per-call checks");
    acl_user_free(u);
}

Test(acl_rules, commands_categories_subcommands_and_first_arguments)
{
    struct acl_user *u = user_with("~* +@read -strlen +config|get +select|0");
    cr_assert_eq(check(u, "get k", NULL), ACL_OK);
    cr_assert_eq(check(u, "strlen k", NULL), ACL_DENIED_CMD);
    cr_assert_eq(check(u, "set k v", NULL), ACL_DENIED_CMD);
    cr_assert_eq(check(u, "config get x", NULL), ACL_OK);
    cr_assert_eq(check(u, "config set x y", NULL), ACL_DENIED_CMD);
    cr_assert_eq(check(u, "select 0", NULL), ACL_OK);
    cr_assert_eq(check(u, "select 1", NULL), ACL_DENIED_CMD);
    cr_assert_eq(check(u, "auth x", NULL), ACL_OK, "commands allowed before AUTH are never refused");
    cr_assert_null(apply(u, "+select"));
    cr_assert_eq(check(u, "select 1", NULL), ACL_OK);
    cr_assert_null(apply(u, "-config"));
    cr_assert_eq(check(u, "config get x", NULL), ACL_DENIED_CMD, "-config takes every subcommand away");
    acl_user_free(u);
}

Test(acl_rules, key_permissions_follow_the_key_specs)
{
    struct acl_user *u = user_with("+@all %R~r:* %W~w:* ~rw:*");
    int pos;
    cr_assert_eq(check(u, "get r:1", NULL), ACL_OK);
    cr_assert_eq(check(u, "set r:1 v", NULL), ACL_DENIED_KEY);
    cr_assert_eq(check(u, "set w:1 v", NULL), ACL_OK, "SET without GET only writes");
    cr_assert_eq(check(u, "set w:1 v GET", NULL), ACL_DENIED_KEY, "SET ... GET reads too");
    cr_assert_eq(check(u, "get w:1", NULL), ACL_DENIED_KEY);
    cr_assert_eq(check(u, "lpush w:1 v", NULL), ACL_OK);
    cr_assert_eq(check(u, "exists w:1", NULL), ACL_OK, "EXISTS neither reads nor writes the value");
    cr_assert_eq(check(u, "copy r:1 w:2", NULL), ACL_OK);
    cr_assert_eq(check(u, "copy w:1 r:2", &pos), ACL_DENIED_KEY);
    cr_assert_eq(pos, 1);
    cr_assert_eq(check(u, "mset rw:1 a rw:2 b other c", &pos), ACL_DENIED_KEY);
    cr_assert_eq(pos, 5);
    acl_user_free(u);
}

Test(acl_rules, channels)
{
    struct acl_user *u = user_with("+@all resetchannels &news.*");
    int pos;
    cr_assert_eq(check(u, "publish news.a m", NULL), ACL_OK);
    cr_assert_eq(check(u, "publish other m", NULL), ACL_DENIED_CHANNEL);
    cr_assert_eq(check(u, "subscribe news.a other", &pos), ACL_DENIED_CHANNEL);
    cr_assert_eq(pos, 2);
    cr_assert_eq(check(u, "psubscribe news.*", NULL), ACL_OK);
    cr_assert_eq(check(u, "psubscribe news.a*", NULL), ACL_DENIED_CHANNEL, "a pattern must be allowed literally");
    cr_assert_eq(check(u, "unsubscribe other", NULL), ACL_OK);
    cr_assert_eq(check(u, "spublish news.b m", NULL), ACL_OK, "a shard channel is not a key");
    acl_user_free(u);
}

Test(acl_rules, passwords)
{
    struct acl_user *u = user_with(">a >b >a");
    cr_assert_eq(u->npasswords, 2);
    cr_assert_null(apply(u, "<a"));
    cr_assert_eq(u->npasswords, 1);
    cr_assert_str_eq(apply(u, "<a"), "The password you are trying to remove from the user does not exist");
    cr_assert_null(apply(u, "nopass"));
    cr_assert_eq(u->npasswords, 0);
    cr_assert(u->flags & ACL_USER_NOPASS);
    cr_assert_null(apply(u, ">c"));
    cr_assert_not(u->flags & ACL_USER_NOPASS, "a password ends nopass");
    cr_assert_null(apply(u, "resetpass"));
    cr_assert_eq(u->npasswords, 0);
    cr_assert_str_eq(apply(u, "#ABC"), "The password hash must be exactly 64 characters and contain only lowercase "
                                       "hexadecimal characters");
    acl_user_free(u);
}

Test(acl_rules, errors)
{
    setup();
    struct acl_user *u = acl_user_new("u", 1);
    cr_assert_str_eq(apply(u, "foo"), "Syntax error");
    cr_assert_str_eq(apply(u, "+nosuch"), "Unknown command or category name in ACL");
    cr_assert_str_eq(apply(u, "-@nosuch"), "Unknown command or category name in ACL");
    cr_assert_str_eq(apply(u, "%~x"), "Syntax error");
    cr_assert_str_eq(apply(u, "%Rx"), "Syntax error");
    cr_assert_str_eq(apply(u, "+select|"), "Syntax error");
    cr_assert_str_eq(apply(u, "+config|get|x"), "Allowing first-arg of a subcommand is not supported");
    cr_assert_str_eq(apply(u, "(+get"), "unmatched");
    cr_assert_str_eq(apply(u, "(~a ~b))"), "Syntax error"); /* "~b)" would end the selector on reading back */
    cr_assert_null(apply(u, "allkeys"));
    cr_assert(strstr(apply(u, "~x"), "'allkeys' flag"));
    cr_assert_null(apply(u, "allchannels"));
    cr_assert(strstr(apply(u, "&x"), "'allchannels' flag"));
    acl_user_free(u);
}

Test(acl_rules, selectors_and_reset)
{
    struct acl_user *u = user_with("on ~a +get (~b +set) (%R~c &d +@read)");
    cr_assert_eq(u->nselectors, 3);
    assert_described(u, "on ~a resetchannels -@all +get (~b resetchannels -@all +set) "
                        "(%R~c resetchannels &d -@all +@read)");
    int pos;
    cr_assert_eq(acl_selector_check(u->selectors[1], command_lookup("set", 3),
                                    (struct arg[]){{"set", 3}, {"b", 1}, {"v", 1}}, 3, &pos),
                 ACL_OK);
    cr_assert_null(apply(u, "clearselectors"));
    cr_assert_eq(u->nselectors, 1);
    cr_assert_null(apply(u, "reset"));
    assert_described(u, "off sanitize-payload resetchannels -@all");
    acl_user_free(u);
}

Test(acl_rules, description_reads_back_the_same)
{
    const char *const cases[] = {
        "on >x ~k* %R~r* &c +@all -@dangerous +config|get (+get ~s*)",
        "off nopass allkeys allchannels allcommands -debug",
        "on +@read +@write -@list +select|0 +select|1 %W~w (&p +publish)",
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct acl_user *u = user_with(cases[i]);
        str d = acl_user_describe(str_empty(64), u);
        struct acl_user *v = user_with(d);
        str e = acl_user_describe(str_empty(64), v);
        cr_assert_str_eq(d, e);
        cr_assert_eq(memcmp(u->selectors[0]->allowed, v->selectors[0]->allowed, sizeof(u->selectors[0]->allowed)), 0);
        str_free(d);
        str_free(e);
        acl_user_free(u);
        acl_user_free(v);
    }
}

Test(acl_rules, copy_is_deep)
{
    struct acl_user *u = user_with("on >pw ~a &b +get (~c +set)");
    struct acl_user *c = acl_user_copy(u);
    cr_assert_null(apply(c, "resetkeys resetchannels -get clearselectors"));
    assert_described(u, "on #30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4 ~a resetchannels &b "
                        "-@all +get (~c resetchannels -@all +set)");
    acl_user_free(c);
    acl_user_free(u);
}

/* The index's answer for one key and every permission equals trying each
 * pattern with glob_match, and the fast test (the prefix that granted last)
 * never grants what they refuse. */
static void assert_index_agrees(const struct acl_selector *s, const char *key, size_t len)
{
    for (uint8_t perm = 0; perm <= ACL_PERM_ALL; perm++) {
        bool linear = false;
        for (int i = 0; i < s->nkeys && !linear; i++)
            linear = (s->keys[i].perm & perm) == perm &&
                     glob_match(s->keys[i].pattern, str_len(s->keys[i].pattern), key, len, false);
        if (acl_key_hot_grants(s->key_index, key, len, perm))
            cr_assert(linear, "fast test: key %.*s perm %d", (int)len, key, perm);
        cr_assert_eq(acl_key_index_match(s->key_index, s->keys, key, len, perm), linear, "key %.*s perm %d", (int)len,
                     key, perm);
    }
}

/* The key patterns' prefix index answers as trying every pattern would,
 * including patterns without a literal prefix and prefixes of many lengths. */
Test(acl_rules, key_index_agrees_with_every_pattern)
{
    struct acl_user *u = user_with("+@all ~k1:* ~k19:* ~key:* %R~key:ro:* ~exact ~*mid* ~a?c ~[xy]z ~esc\\* ~p1* ~p22* "
                                   "~p333* ~p4444* ~p55555* ~p666666* ~p7777777* ~p88888888* ~p999999999*");
    const char *const keys[] = {"key:1", "k1:", "k19:x", "k2:x", "exact", "exactly", "xmidy", "abc", "yz", "esc*",
                                "esc1", "p999999999z", "p8888888", "", "key:ro:1", "ke"};
    const struct acl_selector *s = u->selectors[0];
    for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) assert_index_agrees(s, keys[k], strlen(keys[k]));
    acl_user_free(u);
}

/* The same with few prefix lengths, so that the index is used: prefixes of
 * up to 8 bytes held as words, longer ones hashed byte by byte, and keys
 * shorter than 8 bytes, all against the linear answer for many keys. */
Test(acl_rules, indexed_prefixes_agree_with_every_pattern)
{
    struct acl_user *u = user_with("+@all ~k1:* ~k19:* ~key:* %R~key:ro:* %W~key:w* ~exact ~a?c ~queue:long:prefix:* "
                                   "~q* ~12345678* ~123456789* ~12345678 ~*tail");
    const struct acl_selector *s = u->selectors[0];
    const char alphabet[] = "kqey:1234567892ro";
    unsigned seed = 7;
    char key[24];
    for (int n = 0; n < 20000; n++) {
        size_t len = (seed = seed * 1103515245 + 12345) >> 16 & 15;
        for (size_t i = 0; i < len; i++) key[i] = alphabet[((seed = seed * 1103515245 + 12345) >> 16) % 17];
        if (n % 4 == 0 && len >= 4) memcpy(key, n % 8 ? "key:" : "1234", 4); /* often a real prefix */
        key[len] = '\0';
        assert_index_agrees(s, key, len);
    }
    const char *const fixed[] = {"queue:long:prefix:", "queue:long:prefix", "queue:long:prefix:x", "12345678",
                                 "123456789", "1234567", "key:ro:", "key:w", "key:", "ke", "abc", "atail", ""};
    for (size_t k = 0; k < sizeof(fixed) / sizeof(fixed[0]); k++) assert_index_agrees(s, fixed[k], strlen(fixed[k]));
    acl_user_free(u);
}
