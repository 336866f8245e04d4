/* The ACL rule language: categories, the numbering of commands, selectors
 * and users, parsing one rule, describing a user back, and checking one call
 * against one selector. Nothing here knows clients or the user store, so the
 * fuzzer and the unit tests can drive it with a small command table. */
#include "server/acl_user.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "server/acl_keys.h"
#include "server/command_table.h"
#include "server/key_flags.h"
#include "util/glob.h"
#include "util/mem.h"

const char *const acl_category_names[ACL_CATEGORY_COUNT] = {
    "keyspace", "read",   "write", "set",      "sortedset", "list",       "hash",        "string",
    "bitmap",   "hyperloglog", "geo", "stream", "pubsub",   "admin",      "fast",        "slow",
    "blocking", "dangerous", "connection", "transaction", "scripting",
};

uint32_t acl_pubsub_default = 0;

const struct acl_flag_name acl_user_flag_names[ACL_USER_FLAG_NAMES] = {
    {ACL_USER_ON, "on"},
    {ACL_USER_OFF, "off"},
    {ACL_USER_NOPASS, "nopass"},
    {ACL_USER_SKIP_SANITIZE, "skip-sanitize-payload"},
    {ACL_USER_SANITIZE, "sanitize-payload"},
};

uint64_t acl_category_bit(const char *name, size_t len)
{
    for (int i = 0; i < ACL_CATEGORY_COUNT; i++)
        if (strlen(acl_category_names[i]) == len && strncasecmp(acl_category_names[i], name, len) == 0)
            return 1ULL << i;
    return 0;
}

uint64_t acl_command_categories(const struct command *cmd)
{
    uint64_t bits = 0;
    const char *p = cmd->acl_categories ? cmd->acl_categories : "";
    while ((p = strchr(p, '@'))) {
        p++;
        size_t n = strcspn(p, " ");
        bits |= acl_category_bit(p, n);
        p += n;
    }
    return bits;
}

/* --- numbering commands ---------------------------------------------------- */

static struct command *commands_by_id[ACL_MAX_COMMANDS];
static int commands_count;

/* Read and write permission a key spec ("RW access delete") asks for:
 * reading for `access`, writing for insert, update and delete, as Redis
 * derives them from its key-spec flags. */
static uint8_t perm_of_spec(const char *spec, size_t len)
{
    uint8_t perm = 0;
    const char *end = spec + len;
    for (const char *w = spec; w < end;) {
        size_t n = strcspn(w, " |");
        if (w + n > end) n = (size_t)(end - w);
        if (n == 6 && !strncmp(w, "access", 6)) perm |= ACL_PERM_READ;
        if ((n == 6 && (!strncmp(w, "insert", 6) || !strncmp(w, "delete", 6) || !strncmp(w, "update", 6))))
            perm |= ACL_PERM_WRITE;
        w += n;
        while (w < end && *w == ' ') w++;
    }
    return perm;
}

/* Which arguments of the pub/sub commands are channels. */
static uint8_t channel_traits(const char *name)
{
    if (!strcmp(name, "publish") || !strcmp(name, "spublish")) return ACL_TRAIT_CHANNEL_FIRST;
    if (!strcmp(name, "subscribe") || !strcmp(name, "ssubscribe")) return ACL_TRAIT_CHANNEL_ALL;
    if (!strcmp(name, "psubscribe")) return ACL_TRAIT_CHANNEL_ALL | ACL_TRAIT_CHANNEL_PATTERN;
    return 0;
}

static void index_one(struct command *cmd)
{
    if (commands_count >= ACL_FUTURE_BIT) return; /* cannot happen with today's ~400 commands */
    cmd->acl_id = commands_count;
    commands_by_id[commands_count++] = cmd;
    cmd->acl_cats = acl_command_categories(cmd);
    for (int i = 0; i < 4; i++) {
        size_t len;
        const char *spec = key_flags_of(cmd, NULL, 0, i, &len);
        cmd->acl_key_perms[i] = perm_of_spec(spec, len);
    }
    cmd->acl_traits = channel_traits(cmd->full_name);
    if (key_flags_channels_only(cmd)) cmd->acl_traits |= ACL_TRAIT_NO_KEYS;
    if (!strcmp(cmd->full_name, "set")) cmd->acl_traits |= ACL_TRAIT_KEYS_BY_ARGS;
    if (cmd->first_key == 1 && cmd->last_key == 1 && !cmd->keys &&
        !(cmd->acl_traits & (ACL_TRAIT_NO_KEYS | ACL_TRAIT_CHANNEL_FIRST | ACL_TRAIT_CHANNEL_ALL)))
        cmd->acl_traits |= ACL_TRAIT_ONE_KEY;
}

static void index_family(struct command *cmd, void *ctx)
{
    (void)ctx;
    index_one(cmd);
    if (!cmd->subcommands) return;
    for (struct command *sub = cmd->subcommands; sub->name; sub++) index_one(sub);
}

void acl_commands_index(void)
{
    commands_count = 0;
    command_table_each(index_family, NULL);
}

struct command *acl_command_by_id(int id)
{
    return id >= 0 && id < commands_count ? commands_by_id[id] : NULL;
}

int acl_command_count(void)
{
    return commands_count;
}

/* "get", "config|get": a command or subcommand by its full name. */
static struct command *lookup_full(const char *name, size_t len)
{
    const char *bar = memchr(name, '|', len);
    if (!bar) return command_lookup(name, len);
    struct command *parent = command_lookup(name, (size_t)(bar - name));
    if (!parent || !parent->subcommands) return NULL;
    return command_lookup_sub(parent, bar + 1, len - (size_t)(bar - name) - 1);
}

/* --- selectors ---------------------------------------------------------- */

static struct acl_selector *selector_new(uint32_t flags)
{
    struct acl_selector *s = mem_calloc(sizeof(*s));
    s->flags = flags | acl_pubsub_default;
    s->rules = str_empty(16);
    return s;
}

static void selector_reset_firstargs(struct acl_selector *s, int id)
{
    int kept = 0;
    for (int i = 0; i < s->nfirstargs; i++) {
        if (id < 0 || s->firstargs[i].id == id) str_free(s->firstargs[i].arg);
        else s->firstargs[kept++] = s->firstargs[i];
    }
    s->nfirstargs = kept;
}

static void selector_index_keys(struct acl_selector *s)
{
    acl_key_index_free(s->key_index);
    s->key_index = s->nkeys ? acl_key_index_build(s->keys, s->nkeys) : NULL;
}

static void selector_reset_keys(struct acl_selector *s)
{
    for (int i = 0; i < s->nkeys; i++) str_free(s->keys[i].pattern);
    s->nkeys = 0;
    selector_index_keys(s);
}

static void selector_reset_channels(struct acl_selector *s)
{
    for (int i = 0; i < s->nchannels; i++) str_free(s->channels[i]);
    s->nchannels = 0;
}

static void selector_free(struct acl_selector *s)
{
    selector_reset_firstargs(s, -1);
    selector_reset_keys(s);
    selector_reset_channels(s);
    mem_free(s->firstargs);
    mem_free(s->keys);
    mem_free(s->channels);
    str_free(s->rules);
    mem_free(s);
}

static struct acl_selector *selector_copy(const struct acl_selector *from)
{
    struct acl_selector *s = mem_calloc(sizeof(*s));
    s->flags = from->flags;
    memcpy(s->allowed, from->allowed, sizeof(s->allowed));
    s->rules = str_dup(from->rules);
    if (from->nfirstargs) {
        s->firstargs = mem_alloc(sizeof(*s->firstargs) * (size_t)from->nfirstargs);
        for (int i = 0; i < from->nfirstargs; i++)
            s->firstargs[i] = (struct acl_firstarg){from->firstargs[i].id, str_dup(from->firstargs[i].arg)};
        s->nfirstargs = from->nfirstargs;
    }
    if (from->nkeys) {
        s->keys = mem_alloc(sizeof(*s->keys) * (size_t)from->nkeys);
        for (int i = 0; i < from->nkeys; i++)
            s->keys[i] = (struct acl_keypat){from->keys[i].perm, str_dup(from->keys[i].pattern)};
        s->nkeys = from->nkeys;
        selector_index_keys(s);
    }
    if (from->nchannels) {
        s->channels = mem_alloc(sizeof(*s->channels) * (size_t)from->nchannels);
        for (int i = 0; i < from->nchannels; i++) s->channels[i] = str_dup(from->channels[i]);
        s->nchannels = from->nchannels;
    }
    return s;
}

static bool bit_get(const struct acl_selector *s, int id)
{
    return (s->allowed[id / 64] >> (id % 64)) & 1;
}

/* Clearing any bit takes away "every command" (Redis's ALLCOMMANDS flag). */
static void bit_set(struct acl_selector *s, int id, bool on)
{
    if (on) {
        s->allowed[id / 64] |= 1ULL << (id % 64);
    } else {
        s->allowed[id / 64] &= ~(1ULL << (id % 64));
        s->flags &= ~ACL_SEL_ALLCOMMANDS;
    }
}

/* +cmd / -cmd: the command and all its subcommands; first arguments
 * granted earlier for it are forgotten. */
static void selector_change_command(struct acl_selector *s, struct command *cmd, bool on)
{
    bit_set(s, cmd->acl_id, on);
    selector_reset_firstargs(s, cmd->acl_id);
    if (!cmd->subcommands) return;
    for (struct command *sub = cmd->subcommands; sub->name; sub++) bit_set(s, sub->acl_id, on);
}

static void selector_change_category(struct acl_selector *s, uint64_t bit, bool on)
{
    for (int id = 0; id < commands_count; id++) {
        struct command *cmd = commands_by_id[id];
        if (!(cmd->acl_cats & bit)) continue;
        bit_set(s, id, on);
        selector_reset_firstargs(s, id);
    }
}

static void selector_all_commands(struct acl_selector *s, bool on)
{
    memset(s->allowed, on ? 0xff : 0, sizeof(s->allowed));
    if (on) s->flags |= ACL_SEL_ALLCOMMANDS;
    else s->flags &= ~ACL_SEL_ALLCOMMANDS;
    str_set_len(s->rules, 0);
    selector_reset_firstargs(s, -1);
}

/* Keeps the rule text: drops earlier rules this one overrides (the same
 * command, category or first argument, and the subcommands of a command),
 * then appends it lowercased. */
static void selector_note_rule(struct acl_selector *s, char sign, const char *rule, size_t len)
{
    str kept = str_empty(str_len(s->rules) + len + 2);
    const char *p = s->rules, *end = s->rules + str_len(s->rules);
    while (p < end) {
        const char *sp = memchr(p, ' ', (size_t)(end - p));
        size_t n = sp ? (size_t)(sp - p) : (size_t)(end - p);
        const char *body = p + 1;
        size_t blen = n - 1;
        bool overridden = blen >= len && strncasecmp(body, rule, len) == 0 && (blen == len || body[len] == '|');
        if (!overridden) {
            if (str_len(kept)) kept = str_append(kept, " ", 1);
            kept = str_append(kept, p, n);
        }
        p += n + (sp ? 1 : 0);
    }
    if (str_len(kept)) kept = str_append(kept, " ", 1);
    kept = str_append(kept, &sign, 1);
    size_t at = str_len(kept);
    kept = str_append(kept, rule, len);
    for (size_t i = at; i < str_len(kept); i++) kept[i] = (char)tolower((unsigned char)kept[i]);
    str_free(s->rules);
    s->rules = kept;
}

static bool has_space(const char *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (isspace((unsigned char)p[i])) return true;
    return false;
}

static bool word_is(const char *op, size_t len, const char *word)
{
    return strlen(word) == len && strncasecmp(op, word, len) == 0;
}

#define RULE_ERR_SYNTAX "Syntax error"
#define RULE_ERR_UNKNOWN "Unknown command or category name in ACL"
#define RULE_ERR_ALLKEYS                                                                                            \
    "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. " \
    "Try 'resetkeys' to start with an empty list of patterns"
#define RULE_ERR_ALLCHANNELS                                                                                            \
    "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. " \
    "Try 'resetchannels' to start with an empty list of channels"
#define RULE_ERR_FIRSTARG_SUB "Allowing first-arg of a subcommand is not supported"

/* ~pat, %R~pat, %W~pat, %RW~pat. */
static bool selector_add_key(struct acl_selector *s, const char *op, size_t len, const char **err)
{
    if (s->flags & ACL_SEL_ALLKEYS) {
        *err = RULE_ERR_ALLKEYS;
        return false;
    }
    uint8_t perm = ACL_PERM_ALL;
    size_t at = 1;
    if (op[0] == '%') {
        perm = 0;
        bool tilde = false;
        for (; at < len; at++) {
            char c = (char)toupper((unsigned char)op[at]);
            if (c == 'R' && !(perm & ACL_PERM_READ)) {
                perm |= ACL_PERM_READ;
            } else if (c == 'W' && !(perm & ACL_PERM_WRITE)) {
                perm |= ACL_PERM_WRITE;
            } else if (op[at] == '~') {
                at++;
                tilde = true;
                break;
            } else {
                *err = RULE_ERR_SYNTAX;
                return false;
            }
        }
        if (!tilde || perm == 0) {
            *err = RULE_ERR_SYNTAX;
            return false;
        }
    }
    const char *pat = op + at;
    size_t plen = len - at;
    if (perm == ACL_PERM_ALL && plen == 1 && pat[0] == '*') {
        selector_reset_keys(s);
        s->flags |= ACL_SEL_ALLKEYS;
        return true;
    }
    if (has_space(pat, plen)) {
        *err = RULE_ERR_SYNTAX;
        return false;
    }
    for (int i = 0; i < s->nkeys; i++)
        if (s->keys[i].perm == perm && str_len(s->keys[i].pattern) == plen && !memcmp(s->keys[i].pattern, pat, plen))
            return true;
    s->keys = mem_realloc(s->keys, sizeof(*s->keys) * (size_t)(s->nkeys + 1));
    s->keys[s->nkeys++] = (struct acl_keypat){perm, str_new(pat, plen)};
    selector_index_keys(s);
    return true;
}

static bool selector_add_channel(struct acl_selector *s, const char *op, size_t len, const char **err)
{
    if (s->flags & ACL_SEL_ALLCHANNELS) {
        *err = RULE_ERR_ALLCHANNELS;
        return false;
    }
    const char *pat = op + 1;
    size_t plen = len - 1;
    if (has_space(pat, plen)) {
        *err = RULE_ERR_SYNTAX;
        return false;
    }
    for (int i = 0; i < s->nchannels; i++)
        if (str_len(s->channels[i]) == plen && !memcmp(s->channels[i], pat, plen)) return true;
    s->channels = mem_realloc(s->channels, sizeof(*s->channels) * (size_t)(s->nchannels + 1));
    s->channels[s->nchannels++] = str_new(pat, plen);
    return true;
}

/* +cmd|arg for a command without subcommands: that first argument only. */
static void selector_add_firstarg(struct acl_selector *s, struct command *cmd, const char *arg, size_t len)
{
    if (bit_get(s, cmd->acl_id)) return; /* already allowed whole */
    for (int i = 0; i < s->nfirstargs; i++)
        if (s->firstargs[i].id == cmd->acl_id && str_len(s->firstargs[i].arg) == len &&
            !strncasecmp(s->firstargs[i].arg, arg, len))
            return;
    s->firstargs = mem_realloc(s->firstargs, sizeof(*s->firstargs) * (size_t)(s->nfirstargs + 1));
    s->firstargs[s->nfirstargs++] = (struct acl_firstarg){(uint16_t)cmd->acl_id, str_new(arg, len)};
}

/* +name or -name, name a command, "cmd|sub" or "cmd|firstarg". */
static bool selector_command_rule(struct acl_selector *s, const char *op, size_t len, const char **err)
{
    bool on = op[0] == '+';
    const char *name = op + 1;
    size_t nlen = len - 1;
    const char *bar = NULL;
    for (size_t i = nlen; i > 0; i--)
        if (name[i - 1] == '|') {
            bar = name + i - 1;
            break;
        }
    if (!on || !bar) {
        struct command *cmd = lookup_full(name, nlen);
        if (!cmd) {
            *err = RULE_ERR_UNKNOWN;
            return false;
        }
        selector_change_command(s, cmd, on);
        selector_note_rule(s, op[0], cmd->full_name, strlen(cmd->full_name));
        return true;
    }
    struct command *cmd = lookup_full(name, (size_t)(bar - name));
    if (!cmd) {
        *err = RULE_ERR_UNKNOWN;
        return false;
    }
    if (cmd->parent) {
        *err = RULE_ERR_FIRSTARG_SUB;
        return false;
    }
    const char *sub = bar + 1;
    size_t sublen = nlen - (size_t)(sub - name);
    if (sublen == 0) {
        *err = RULE_ERR_SYNTAX;
        return false;
    }
    if (cmd->subcommands) {
        struct command *subcmd = command_lookup_sub(cmd, sub, sublen);
        if (!subcmd) {
            *err = RULE_ERR_UNKNOWN;
            return false;
        }
        selector_change_command(s, subcmd, true);
    } else {
        if (has_space(sub, sublen)) {
            *err = RULE_ERR_SYNTAX;
            return false;
        }
        selector_add_firstarg(s, cmd, sub, sublen);
    }
    selector_note_rule(s, '+', name, nlen);
    return true;
}

/* One rule that concerns a selector (commands, keys, channels). */
static bool selector_apply(struct acl_selector *s, const char *op, size_t len, const char **err)
{
    if (word_is(op, len, "allkeys") || (len == 2 && op[0] == '~' && op[1] == '*')) {
        selector_reset_keys(s);
        s->flags |= ACL_SEL_ALLKEYS;
    } else if (word_is(op, len, "resetkeys")) {
        selector_reset_keys(s);
        s->flags &= ~ACL_SEL_ALLKEYS;
    } else if (word_is(op, len, "allchannels") || (len == 2 && op[0] == '&' && op[1] == '*')) {
        selector_reset_channels(s);
        s->flags |= ACL_SEL_ALLCHANNELS;
    } else if (word_is(op, len, "resetchannels")) {
        selector_reset_channels(s);
        s->flags &= ~ACL_SEL_ALLCHANNELS;
    } else if (word_is(op, len, "allcommands") || word_is(op, len, "+@all")) {
        selector_all_commands(s, true);
    } else if (word_is(op, len, "nocommands") || word_is(op, len, "-@all")) {
        selector_all_commands(s, false);
    } else if (len > 0 && (op[0] == '~' || op[0] == '%')) {
        return selector_add_key(s, op, len, err);
    } else if (len > 0 && op[0] == '&') {
        return selector_add_channel(s, op, len, err);
    } else if (len > 2 && (op[0] == '+' || op[0] == '-') && op[1] == '@') {
        uint64_t bit = acl_category_bit(op + 2, len - 2);
        if (!bit) {
            *err = RULE_ERR_UNKNOWN;
            return false;
        }
        selector_change_category(s, bit, op[0] == '+');
        selector_note_rule(s, op[0], op + 1, len - 1);
    } else if (len > 1 && (op[0] == '+' || op[0] == '-') && op[1] != '@') {
        return selector_command_rule(s, op, len, err);
    } else {
        *err = RULE_ERR_SYNTAX;
        return false;
    }
    return true;
}

/* --- users ---------------------------------------------------------------- */

struct acl_user *acl_user_new(const char *name, size_t len)
{
    static uint64_t serials;
    struct acl_user *u = mem_calloc(sizeof(*u));
    u->name = str_new(name, len);
    u->serial = ++serials;
    u->flags = ACL_USER_OFF;
    u->selectors = mem_alloc(sizeof(*u->selectors));
    u->selectors[0] = selector_new(ACL_SEL_ROOT);
    u->nselectors = 1;
    return u;
}

void acl_user_free(struct acl_user *u)
{
    if (!u) return;
    for (int i = 0; i < u->nselectors; i++) selector_free(u->selectors[i]);
    mem_free(u->selectors);
    mem_free(u->passwords);
    str_free(u->name);
    mem_free(u);
}

struct acl_user *acl_user_copy(const struct acl_user *from)
{
    struct acl_user *u = mem_calloc(sizeof(*u));
    u->name = str_dup(from->name);
    u->serial = from->serial;
    u->flags = from->flags;
    if (from->npasswords) {
        u->passwords = mem_alloc(SHA256_DIGEST_SIZE * (size_t)from->npasswords);
        memcpy(u->passwords, from->passwords, SHA256_DIGEST_SIZE * (size_t)from->npasswords);
        u->npasswords = from->npasswords;
    }
    u->selectors = mem_alloc(sizeof(*u->selectors) * (size_t)from->nselectors);
    for (int i = 0; i < from->nselectors; i++) u->selectors[i] = selector_copy(from->selectors[i]);
    u->nselectors = from->nselectors;
    u->unrestricted = from->unrestricted;
    return u;
}

void acl_user_refresh(struct acl_user *u)
{
    const uint32_t all = ACL_SEL_ALLCOMMANDS | ACL_SEL_ALLKEYS | ACL_SEL_ALLCHANNELS;
    u->unrestricted = (u->selectors[0]->flags & all) == all;
}

static int password_find(const struct acl_user *u, const uint8_t digest[SHA256_DIGEST_SIZE])
{
    for (int i = 0; i < u->npasswords; i++)
        if (!memcmp(u->passwords[i], digest, SHA256_DIGEST_SIZE)) return i;
    return -1;
}

static void password_add(struct acl_user *u, const uint8_t digest[SHA256_DIGEST_SIZE])
{
    u->flags &= ~ACL_USER_NOPASS;
    if (password_find(u, digest) >= 0) return;
    u->passwords = mem_realloc(u->passwords, SHA256_DIGEST_SIZE * (size_t)(u->npasswords + 1));
    memcpy(u->passwords[u->npasswords++], digest, SHA256_DIGEST_SIZE);
}

static bool password_remove(struct acl_user *u, const uint8_t digest[SHA256_DIGEST_SIZE], const char **err)
{
    u->flags &= ~ACL_USER_NOPASS;
    int i = password_find(u, digest);
    if (i < 0) {
        *err = "The password you are trying to remove from the user does not exist";
        return false;
    }
    memmove(u->passwords[i], u->passwords[i + 1], SHA256_DIGEST_SIZE * (size_t)(u->npasswords - i - 1));
    u->npasswords--;
    return true;
}

static void user_clear_selectors(struct acl_user *u)
{
    for (int i = 1; i < u->nselectors; i++) selector_free(u->selectors[i]);
    u->nselectors = 1;
}

/* (rules...): a new selector built from the rules inside the parentheses. */
static bool user_add_selector(struct acl_user *u, const char *op, size_t len, const char **err)
{
    struct acl_selector *s = selector_new(0);
    const char *p = op + 1, *end = op + len - 1;
    while (p < end) {
        while (p < end && *p == ' ') p++;
        const char *w = p;
        while (p < end && *p != ' ') p++;
        /* a rule ending in ')' would end the selector early when its
         * description is read back (ACL SAVE, then LOAD): refused */
        if (p > w && p[-1] == ')') {
            *err = RULE_ERR_SYNTAX;
            selector_free(s);
            return false;
        }
        if (p > w && !selector_apply(s, w, (size_t)(p - w), err)) {
            selector_free(s);
            return false;
        }
    }
    u->selectors = mem_realloc(u->selectors, sizeof(*u->selectors) * (size_t)(u->nselectors + 1));
    u->selectors[u->nselectors++] = s;
    return true;
}

static bool hash_rule(struct acl_user *u, const char *op, size_t len, const char **err)
{
    uint8_t digest[SHA256_DIGEST_SIZE];
    if (!sha256_from_hex(op + 1, len - 1, digest)) {
        *err = "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters";
        return false;
    }
    if (op[0] == '#') {
        password_add(u, digest);
        return true;
    }
    return password_remove(u, digest, err);
}

bool acl_user_apply(struct acl_user *u, const char *op, size_t len, const char **err)
{
    if (word_is(op, len, "on")) {
        u->flags = (u->flags & ~ACL_USER_OFF) | ACL_USER_ON;
    } else if (word_is(op, len, "off")) {
        u->flags = (u->flags & ~ACL_USER_ON) | ACL_USER_OFF;
    } else if (word_is(op, len, "skip-sanitize-payload")) {
        u->flags = (u->flags & ~ACL_USER_SANITIZE) | ACL_USER_SKIP_SANITIZE;
    } else if (word_is(op, len, "sanitize-payload")) {
        u->flags = (u->flags & ~ACL_USER_SKIP_SANITIZE) | ACL_USER_SANITIZE;
    } else if (word_is(op, len, "nopass")) {
        u->flags |= ACL_USER_NOPASS;
        u->npasswords = 0;
    } else if (word_is(op, len, "resetpass")) {
        u->flags &= ~ACL_USER_NOPASS;
        u->npasswords = 0;
    } else if (len >= 1 && (op[0] == '>' || op[0] == '<')) {
        uint8_t digest[SHA256_DIGEST_SIZE];
        sha256(op + 1, len - 1, digest);
        if (op[0] == '>') password_add(u, digest);
        else if (!password_remove(u, digest, err)) return false;
    } else if (len >= 1 && (op[0] == '#' || op[0] == '!')) {
        if (!hash_rule(u, op, len, err)) return false;
    } else if (word_is(op, len, "clearselectors")) {
        user_clear_selectors(u);
    } else if (word_is(op, len, "reset")) {
        static const char *const steps[] = {"resetpass", "resetkeys", "resetchannels", "off",
                                            "sanitize-payload", "clearselectors", "-@all"};
        for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
            acl_user_apply(u, steps[i], strlen(steps[i]), err);
        if (acl_pubsub_default) acl_user_apply(u, "allchannels", 11, err);
    } else if (len >= 2 && op[0] == '(' && op[len - 1] == ')') {
        if (!user_add_selector(u, op, len, err)) return false;
    } else if (!selector_apply(u->selectors[0], op, len, err)) {
        return false;
    }
    acl_user_refresh(u);
    return true;
}

/* Joins argv[from..to] with spaces into one "(...)" rule. */
static str join_selector(int from, int to, const struct arg *argv)
{
    str s = str_empty(64);
    for (int i = from; i <= to; i++) {
        if (i > from) s = str_append(s, " ", 1);
        s = str_append(s, argv[i].ptr, argv[i].len);
    }
    return s;
}

bool acl_user_apply_all(struct acl_user *u, int argc, const struct arg *argv, const char **err, int *bad)
{
    for (int i = 0; i < argc; i++) {
        *bad = i;
        const struct arg *a = &argv[i];
        if (a->len > 0 && a->ptr[0] == '(' && a->ptr[a->len - 1] != ')') {
            int j = i + 1;
            while (j < argc && !(argv[j].len > 0 && argv[j].ptr[argv[j].len - 1] == ')')) j++;
            if (j >= argc) {
                *err = NULL;
                return false;
            }
            str rule = join_selector(i, j, argv);
            bool ok = acl_user_apply(u, rule, str_len(rule), err);
            str_free(rule);
            if (!ok) return false;
            i = j;
            continue;
        }
        if (!acl_user_apply(u, a->ptr, a->len, err)) return false;
    }
    return true;
}

/* --- describing ---------------------------------------------------------- */

str acl_selector_describe_commands(str out, const struct acl_selector *s)
{
    out = str_append_printf(out, "%s", bit_get(s, ACL_FUTURE_BIT) ? "+@all" : "-@all");
    if (str_len(s->rules)) {
        out = str_append(out, " ", 1);
        out = str_append(out, s->rules, str_len(s->rules)); /* binary: a first argument may hold any byte */
    }
    return out;
}

str acl_selector_describe_keys(str out, const struct acl_selector *s)
{
    if (s->flags & ACL_SEL_ALLKEYS) return str_append(out, "~*", 2);
    for (int i = 0; i < s->nkeys; i++) {
        if (i) out = str_append(out, " ", 1);
        const char *prefix = s->keys[i].perm == ACL_PERM_ALL ? "~" : s->keys[i].perm == ACL_PERM_READ ? "%R~" : "%W~";
        out = str_append_printf(out, "%s", prefix);
        out = str_append(out, s->keys[i].pattern, str_len(s->keys[i].pattern));
    }
    return out;
}

str acl_selector_describe_channels(str out, const struct acl_selector *s)
{
    if (s->flags & ACL_SEL_ALLCHANNELS) return str_append(out, "&*", 2);
    for (int i = 0; i < s->nchannels; i++) {
        if (i) out = str_append(out, " ", 1);
        out = str_append(out, "&", 1);
        out = str_append(out, s->channels[i], str_len(s->channels[i]));
    }
    return out;
}

/* Keys, channels (with "resetchannels" first unless all are allowed, so
 * that loading the line back does not depend on acl-pubsub-default) and
 * commands, as Redis describes a selector. */
static str describe_selector(str out, const struct acl_selector *s)
{
    size_t before = str_len(out);
    out = acl_selector_describe_keys(out, s);
    if (str_len(out) > before) out = str_append(out, " ", 1);
    if (!(s->flags & ACL_SEL_ALLCHANNELS)) out = str_append(out, "resetchannels ", 14);
    before = str_len(out);
    out = acl_selector_describe_channels(out, s);
    if (str_len(out) > before) out = str_append(out, " ", 1);
    return acl_selector_describe_commands(out, s);
}

str acl_user_describe(str out, const struct acl_user *u)
{
    for (int i = 0; i < ACL_USER_FLAG_NAMES; i++)
        if (u->flags & acl_user_flag_names[i].flag) out = str_append_printf(out, "%s ", acl_user_flag_names[i].name);
    for (int i = 0; i < u->npasswords; i++) {
        char hex[SHA256_HEX_SIZE];
        sha256_to_hex(u->passwords[i], hex);
        out = str_append_printf(out, "#%s ", hex);
    }
    out = describe_selector(out, u->selectors[0]);
    for (int i = 1; i < u->nselectors; i++) {
        out = str_append(out, " (", 2);
        out = describe_selector(out, u->selectors[i]);
        out = str_append(out, ")", 1);
    }
    return out;
}

/* --- checking ----------------------------------------------------------- */

bool acl_selector_channel_ok(const struct acl_selector *s, const char *name, size_t len, bool pattern)
{
    if (s->flags & ACL_SEL_ALLCHANNELS) return true;
    for (int i = 0; i < s->nchannels; i++) {
        size_t plen = str_len(s->channels[i]);
        if (pattern ? (plen == len && !memcmp(s->channels[i], name, len))
                    : glob_match(s->channels[i], plen, name, len, false))
            return true;
    }
    return false;
}

static bool selector_command_ok(const struct acl_selector *s, const struct command *cmd, const struct arg *argv,
                                int argc)
{
    if ((s->flags & ACL_SEL_ALLCOMMANDS) || (cmd->flags & CMD_NO_AUTH) || bit_get(s, cmd->acl_id)) return true;
    if (argc < 2) return false;
    int at = cmd->parent ? 2 : 1;
    if (at >= argc) return false;
    for (int i = 0; i < s->nfirstargs; i++)
        if (s->firstargs[i].id == cmd->acl_id && str_len(s->firstargs[i].arg) == argv[at].len &&
            !strncasecmp(s->firstargs[i].arg, argv[at].ptr, argv[at].len))
            return true;
    return false;
}

static bool selector_key_ok(const struct acl_selector *s, const char *key, size_t len, uint8_t perm)
{
    return s->key_index && acl_key_index_match(s->key_index, s->keys, key, len, perm);
}

static uint8_t key_perm(const struct command *cmd, const struct arg *argv, int argc, int index)
{
    /* the cached permissions are those of a call without options (SET k v);
     * only a call with more arguments can differ (SET k v GET) */
    int min_argc = cmd->arity < 0 ? -cmd->arity : cmd->arity;
    if ((cmd->acl_traits & ACL_TRAIT_KEYS_BY_ARGS) && argc > min_argc) {
        size_t len;
        const char *spec = key_flags_of(cmd, argv, argc, index, &len);
        return perm_of_spec(spec, len);
    }
    return cmd->acl_key_perms[index < 3 ? index : 3];
}

#define ACL_KEYS_ON_STACK 64

/* Keys at fixed positions (most commands): walked in place. Inlined into
 * acl_selector_check, the per-call path of every restricted user. */
static inline enum acl_denial selector_fixed_keys_check(const struct acl_selector *s, const struct command *cmd,
                                                 const struct arg *argv, int argc, int *pos)
{
    if (cmd->first_key <= 0) return ACL_OK;
    int last = cmd->last_key < 0 ? argc + cmd->last_key : cmd->last_key;
    int step = cmd->key_step > 0 ? cmd->key_step : 1;
    for (int i = cmd->first_key, j = 0; i <= last && i < argc; i += step, j++) {
        if (!selector_key_ok(s, argv[i].ptr, argv[i].len, key_perm(cmd, argv, argc, j))) {
            *pos = i;
            return ACL_DENIED_KEY;
        }
    }
    return ACL_OK;
}

/* Keys a function finds (CMD_MOVABLE_KEYS). */
static enum acl_denial selector_movable_keys_check(const struct acl_selector *s, struct command *cmd,
                                                   struct arg *argv, int argc, int *pos)
{
    int stack[ACL_KEYS_ON_STACK];
    int *positions = stack;
    int n = command_key_positions(cmd, argv, argc, positions, ACL_KEYS_ON_STACK);
    if (n == ACL_KEYS_ON_STACK) {
        positions = mem_alloc(sizeof(int) * (size_t)argc);
        n = command_key_positions(cmd, argv, argc, positions, argc);
    }
    enum acl_denial verdict = ACL_OK;
    for (int j = 0; j < n; j++) {
        const struct arg *k = &argv[positions[j]];
        if (!selector_key_ok(s, k->ptr, k->len, key_perm(cmd, argv, argc, j))) {
            *pos = positions[j];
            verdict = ACL_DENIED_KEY;
            break;
        }
    }
    if (positions != stack) mem_free(positions);
    return verdict;
}

enum acl_denial acl_selector_check(const struct acl_selector *s, struct command *cmd, struct arg *argv, int argc,
                                   int *pos)
{
    if (!selector_command_ok(s, cmd, argv, argc)) return ACL_DENIED_CMD;
    if (!(s->flags & ACL_SEL_ALLKEYS) && !(cmd->acl_traits & ACL_TRAIT_NO_KEYS)) {
        enum acl_denial d = cmd->keys ? selector_movable_keys_check(s, cmd, argv, argc, pos)
                                      : selector_fixed_keys_check(s, cmd, argv, argc, pos);
        if (d != ACL_OK) return d;
    }
    if (!(s->flags & ACL_SEL_ALLCHANNELS) && (cmd->acl_traits & (ACL_TRAIT_CHANNEL_FIRST | ACL_TRAIT_CHANNEL_ALL))) {
        int last = (cmd->acl_traits & ACL_TRAIT_CHANNEL_ALL) ? argc - 1 : 1;
        bool pattern = cmd->acl_traits & ACL_TRAIT_CHANNEL_PATTERN;
        for (int i = 1; i <= last && i < argc; i++) {
            if (!acl_selector_channel_ok(s, argv[i].ptr, argv[i].len, pattern)) {
                *pos = i;
                return ACL_DENIED_CHANNEL;
            }
        }
    }
    return ACL_OK;
}
