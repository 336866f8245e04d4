/* libFuzzer target for the ACL rule parser (src/server/acl_rules.c).
 *
 * The input is split on blanks into the rules of one ACL SETUSER (a "(...)"
 * selector may span several words, as from a client), applied to a new user.
 * When they apply, the user is described as an ACL file line would hold it,
 * the description is applied to a second new user, and that user must
 * describe itself the same way (describing is a fixed point), and both must
 * give the same verdict on a few calls built from the input's words. The
 * command table is a small fake one, so the target needs nothing else of
 * the server. Sanitizers catch the rest. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/acl_keys.h"
#include "server/acl_user.h"
#include "server/command_table.h"
#include "util/glob.h"
#include "util/mem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* --- a fake command table: the calls acl_rules.c makes -------------------- */

static struct command config_subs[] = {
    {"get", NULL, -3, CMD_ADMIN, 0, 0, 0, "@admin @slow @dangerous"},
    {"set", NULL, -4, CMD_ADMIN, 0, 0, 0, "@admin @slow @dangerous"},
    {0},
};

static struct command fake_commands[] = {
    {"get", NULL, 2, CMD_READONLY | CMD_FAST, 1, 1, 1, "@read @string @fast"},
    {"set", NULL, -3, CMD_WRITE, 1, 1, 1, "@write @string @slow"},
    {"mset", NULL, -3, CMD_WRITE, 1, -1, 2, "@write @string @slow"},
    {"lmove", NULL, 5, CMD_WRITE, 1, 2, 1, "@write @list @slow"},
    {"select", NULL, 2, CMD_FAST, 0, 0, 0, "@fast @connection"},
    {"publish", NULL, 3, CMD_PUBSUB | CMD_FAST, 0, 0, 0, "@pubsub @fast"},
    {"subscribe", NULL, -2, CMD_PUBSUB, 0, 0, 0, "@pubsub @slow"},
    {"psubscribe", NULL, -2, CMD_PUBSUB, 0, 0, 0, "@pubsub @slow"},
    {"auth", NULL, -2, CMD_NO_AUTH, 0, 0, 0, "@fast @connection"},
    {"config", NULL, -2, 0, 0, 0, 0, "@slow", NULL, NULL, NULL, NULL, config_subs},
    {0},
};

static void prepare(struct command *cmd, struct command *parent)
{
    static char names[64][32];
    static int used;
    cmd->parent = parent;
    if (!parent) {
        cmd->full_name = cmd->name;
    } else {
        snprintf(names[used], sizeof(names[used]), "%s|%s", parent->name, cmd->name);
        cmd->full_name = names[used++];
    }
}

struct command *command_lookup(const char *name, size_t len)
{
    for (struct command *c = fake_commands; c->name; c++)
        if (strlen(c->name) == len && !strncasecmp(c->name, name, len)) return c;
    return NULL;
}

struct command *command_lookup_sub(struct command *parent, const char *name, size_t len)
{
    if (!parent->subcommands) return NULL;
    for (struct command *c = parent->subcommands; c->name; c++)
        if (strlen(c->name) == len && !strncasecmp(c->name, name, len)) return c;
    return NULL;
}

void command_table_each(void (*fn)(struct command *cmd, void *ctx), void *ctx)
{
    for (struct command *c = fake_commands; c->name; c++) fn(c, ctx);
}

int command_key_positions(struct command *cmd, struct arg *argv, int argc, int *positions, int max)
{
    if (cmd->first_key <= 0) return 0;
    int last = cmd->last_key < 0 ? argc + cmd->last_key : cmd->last_key;
    int n = 0;
    for (int i = cmd->first_key; i <= last && i < argc && n < max; i += cmd->key_step) positions[n++] = i;
    return n;
}

static void setup(void)
{
    static int done;
    if (done) return;
    done = 1;
    for (struct command *c = fake_commands; c->name; c++) {
        prepare(c, NULL);
        if (c->subcommands)
            for (struct command *s = c->subcommands; s->name; s++) prepare(s, c);
    }
    acl_commands_index();
}

/* --- the target --------------------------------------------------------- */

#define MAX_WORDS 64

static int split(char *text, size_t len, struct arg *words)
{
    int n = 0;
    size_t i = 0;
    while (i < len && n < MAX_WORDS) {
        while (i < len && (text[i] == ' ' || text[i] == '\n')) i++;
        if (i >= len) break;
        size_t start = i;
        while (i < len && text[i] != ' ' && text[i] != '\n') i++;
        words[n++] = (struct arg){text + start, i - start};
    }
    return n;
}

/* The prefix index must say what trying every pattern would. */
static void check_key_index(const struct acl_selector *s, struct arg *words, int n)
{
    for (int w = 0; w < n; w++) {
        for (uint8_t perm = 0; perm <= ACL_PERM_ALL; perm++) {
            bool linear = false;
            for (int i = 0; i < s->nkeys && !linear; i++)
                linear = (s->keys[i].perm & perm) == perm &&
                         glob_match(s->keys[i].pattern, str_len(s->keys[i].pattern), words[w].ptr, words[w].len, false);
            bool indexed = s->key_index && acl_key_index_match(s->key_index, s->keys, words[w].ptr, words[w].len, perm);
            if (linear != indexed) {
                fprintf(stderr, "key index says %d, patterns say %d\n", indexed, linear);
                abort();
            }
        }
    }
}

static void check_calls(const struct acl_user *a, const struct acl_user *b, struct arg *words, int n)
{
    static const char *const names[] = {"get", "set", "mset", "lmove", "select", "publish", "subscribe",
                                        "psubscribe", "auth", "config"};
    for (size_t c = 0; c < sizeof(names) / sizeof(names[0]); c++) {
        struct command *cmd = command_lookup(names[c], strlen(names[c]));
        struct arg argv[6] = {{(char *)names[c], strlen(names[c])}};
        int argc = 1;
        for (int i = 0; i < n && argc < 6; i++) argv[argc++] = words[i];
        if (cmd->subcommands && argc >= 2) {
            struct command *sub = command_lookup_sub(cmd, argv[1].ptr, argv[1].len);
            if (sub) cmd = sub;
        }
        int pa = 0, pb = 0;
        enum acl_denial da = acl_selector_check(a->selectors[0], cmd, argv, argc, &pa);
        enum acl_denial db = acl_selector_check(b->selectors[0], cmd, argv, argc, &pb);
        if (da != db || pa != pb) {
            fprintf(stderr, "verdicts differ for %s: %d@%d vs %d@%d\n", names[c], da, pa, db, pb);
            abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    setup();
    if (size > 4096) return 0;
    char *text = mem_alloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    struct arg words[MAX_WORDS];
    int n = split(text, size, words);
    struct acl_user *u = acl_user_new("fuzz", 4);
    const char *err;
    int bad;
    if (acl_user_apply_all(u, n, words, &err, &bad)) {
        str first = acl_user_describe(str_empty(64), u);
        str line = str_dup(first);
        struct arg again[4 * MAX_WORDS];
        int m = 0;
        for (size_t i = 0; i < str_len(line) && m < 4 * MAX_WORDS;) {
            while (i < str_len(line) && line[i] == ' ') i++;
            size_t start = i;
            while (i < str_len(line) && line[i] != ' ') i++;
            if (i > start) again[m++] = (struct arg){line + start, i - start};
        }
        struct acl_user *v = acl_user_new("fuzz", 4);
        if (!acl_user_apply_all(v, m, again, &err, &bad)) {
            fprintf(stderr, "description does not load back: %s (rule %d)\n", first, bad);
            abort();
        }
        str second = acl_user_describe(str_empty(64), v);
        if (str_len(first) != str_len(second) || memcmp(first, second, str_len(first)) != 0) {
            fprintf(stderr, "description changed:\n  %s\n  %s\n", first, second);
            abort();
        }
        check_calls(u, v, words, n);
        for (int i = 0; i < u->nselectors; i++) check_key_index(u->selectors[i], words, n);
        str_free(second);
        acl_user_free(v);
        str_free(line);
        str_free(first);
    }
    acl_user_free(u);
    mem_free(text);
    return 0;
}
