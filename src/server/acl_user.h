/* acl_user: the model of an ACL user — flags, password hashes and selectors
 * (a root selector and any number of "(...)" ones) — and the rule language
 * that changes it ("on", ">pass", "+@read", "~key:*", "(+get ~x*)"...), with
 * Redis 7's words and error texts. Shared by the acl_*.c files only; the
 * rest of the server goes through server/acl.h.
 *
 * A selector allows a set of commands (a bitmap indexed by each command's
 * acl_id, plus "first arguments" of otherwise refused commands, as `+select|0`),
 * key patterns each with read and/or write permission, and channel patterns.
 * The command rules are also kept as written, minus the ones a later rule
 * undid, to describe the selector back (ACL LIST, GETUSER, ACL SAVE). */
#ifndef RUNNEL_SERVER_ACL_USER_H
#define RUNNEL_SERVER_ACL_USER_H

#include <stdbool.h>
#include <stddef.h>
#include <endian.h>
#include <stdint.h>
#include <string.h>

#include "protocol/command.h"
#include "util/sha256.h"
#include "util/str.h"

/* Command ids are below ACL_MAX_COMMANDS; the last bit stands for commands
 * that do not exist yet, which only +@all grants (Redis's trick to tell
 * "+@all -x" from "-@all +<everything else>"). */
#define ACL_MAX_COMMANDS 1024
#define ACL_FUTURE_BIT (ACL_MAX_COMMANDS - 1)
#define ACL_WORDS (ACL_MAX_COMMANDS / 64)

enum acl_perm { ACL_PERM_READ = 1, ACL_PERM_WRITE = 2, ACL_PERM_ALL = 3 };

/* What the checks need to know of a command beyond its keys' permissions. */
enum acl_traits {
    ACL_TRAIT_CHANNEL_FIRST = 1 << 0, /* argv[1] is a channel it publishes to */
    ACL_TRAIT_CHANNEL_ALL = 1 << 1,   /* argv[1..] are channels it subscribes to */
    ACL_TRAIT_CHANNEL_PATTERN = 1 << 2, /* ...as patterns (PSUBSCRIBE) */
    ACL_TRAIT_NO_KEYS = 1 << 3,       /* its "keys" are shard channels, not keys */
    ACL_TRAIT_KEYS_BY_ARGS = 1 << 4,  /* key permissions depend on arguments (SET ... GET) */
    ACL_TRAIT_ONE_KEY = 1 << 5,       /* exactly one key, argv[1], and no channel: acl_selector_allows_one_key */
};

enum acl_selector_flags {
    ACL_SEL_ROOT = 1 << 0,
    ACL_SEL_ALLKEYS = 1 << 1,
    ACL_SEL_ALLCHANNELS = 1 << 2,
    ACL_SEL_ALLCOMMANDS = 1 << 3,
};

enum acl_user_flags {
    ACL_USER_ON = 1 << 0,
    ACL_USER_OFF = 1 << 1,
    ACL_USER_NOPASS = 1 << 2,
    ACL_USER_SKIP_SANITIZE = 1 << 3,
    ACL_USER_SANITIZE = 1 << 4,
};

/* Why a call is refused, in the order Redis ranks them when several
 * selectors refuse for different reasons. */
enum acl_denial { ACL_OK = 0, ACL_DENIED_CMD = 1, ACL_DENIED_KEY = 2, ACL_DENIED_AUTH = 3, ACL_DENIED_CHANNEL = 4 };

struct acl_keypat {
    uint8_t perm; /* enum acl_perm */
    str pattern;
};

struct acl_firstarg {
    uint16_t id; /* the command's acl_id */
    str arg;
};

struct acl_key_index;

struct acl_selector {
    uint32_t flags; /* enum acl_selector_flags */
    uint64_t allowed[ACL_WORDS];
    struct acl_firstarg *firstargs;
    int nfirstargs;
    struct acl_keypat *keys;
    int nkeys;
    struct acl_key_index *key_index; /* keys by literal prefix (acl_keys.c); NULL while there are none */
    str *channels;
    int nchannels;
    str rules; /* command rules as given ("+get -@list"), without +@all/-@all */
};

struct acl_user {
    str name;
    uint64_t serial; /* drawn when made (a copy keeps it): tells a user from one made again under its name */
    uint32_t flags; /* enum acl_user_flags */
    uint8_t (*passwords)[SHA256_DIGEST_SIZE];
    int npasswords;
    struct acl_selector **selectors; /* [0] is the root selector */
    int nselectors;
    bool unrestricted; /* root allows every command, key and channel: calls skip the checks */
};

/* User flags and their names, in the order ACL LIST and GETUSER show them. */
struct acl_flag_name {
    uint32_t flag;
    const char *name;
};
#define ACL_USER_FLAG_NAMES 5
extern const struct acl_flag_name acl_user_flag_names[ACL_USER_FLAG_NAMES];

/* Categories, in Redis's order (ACL CAT). */
#define ACL_CATEGORY_COUNT 21
extern const char *const acl_category_names[ACL_CATEGORY_COUNT];
/* Bit of a category name (case-insensitive, without '@'), 0 if unknown. */
uint64_t acl_category_bit(const char *name, size_t len);
/* The category bits of a command, from its acl_categories string. */
uint64_t acl_command_categories(const struct command *cmd);

/* Numbers every command and subcommand of the table (their acl_id); call
 * once every table is registered, before any rule is parsed. */
void acl_commands_index(void);
/* The command with this id, or NULL. */
struct command *acl_command_by_id(int id);
int acl_command_count(void);

/* "resetchannels" (0) or ACL_SEL_ALLCHANNELS: what a new selector starts with. */
extern uint32_t acl_pubsub_default;

struct acl_user *acl_user_new(const char *name, size_t len);
void acl_user_free(struct acl_user *u);
/* A deep copy (ACL SETUSER applies its rules to a copy, all or nothing). */
struct acl_user *acl_user_copy(const struct acl_user *u);
/* Applies one rule; on error returns false and sets *err to Redis's reason
 * ("Syntax error", "Unknown command or category name in ACL"...). */
bool acl_user_apply(struct acl_user *u, const char *op, size_t len, const char **err);
/* Applies rules argv[0..argc), grouping words of "(...)" selectors that span
 * several arguments. On error: false, *err the reason and *bad the index of
 * the rule; an unmatched '(' gives *err NULL and *bad its index. */
bool acl_user_apply_all(struct acl_user *u, int argc, const struct arg *argv, const char **err, int *bad);
/* Refreshes `unrestricted` after the user changed. */
void acl_user_refresh(struct acl_user *u);

/* The user as one ACL file line without "user <name> ". */
str acl_user_describe(str out, const struct acl_user *u);
/* A selector's parts as GETUSER shows them. */
str acl_selector_describe_commands(str out, const struct acl_selector *s);
str acl_selector_describe_keys(str out, const struct acl_selector *s);
str acl_selector_describe_channels(str out, const struct acl_selector *s);

/* Whether a selector's key patterns grant `perm` on the key (acl_keys.c). */
bool acl_key_index_match(struct acl_key_index *ix, const struct acl_keypat *pats, const char *key, size_t len,
                         uint8_t perm);

/* The first member of every key index (acl_keys.c): the last prefix of up
 * to 8 bytes that granted a key by itself (a `prefix*` pattern), which the
 * fast test tries before any lookup — consecutive keys of one user mostly
 * share a prefix (a worker's queue:*). */
struct acl_key_hot {
    uint64_t word; /* the prefix's bytes, byte i at bits 8i */
    uint64_t mask; /* the bytes of a key's first 8 that the prefix covers */
    uint8_t grants; /* bit `need` set when it grants at least `need` (enum acl_perm bits); 0: none yet */
};

/* True when the remembered prefix grants `perm` on a key of at least 8
 * bytes; false says nothing (ask acl_key_index_match). */
static inline bool acl_key_hot_grants(const struct acl_key_index *ix, const char *key, size_t len, uint8_t perm)
{
    const struct acl_key_hot *h = (const struct acl_key_hot *)ix;
    if (len < 8 || !((h->grants >> perm) & 1)) return false;
    uint64_t w;
    memcpy(&w, key, 8);
    return (le64toh(w) & h->mask) == h->word;
}

/* The usual call of a restricted user, decided without the general walk: a
 * command with ACL_TRAIT_ONE_KEY that the selector allows by its bit, on a
 * key its patterns grant. False means "not decided here" (refused, or a case
 * the fast test does not cover): ask acl_selector_check. With `lookup`
 * false only the remembered prefix is tried, and nothing is called: the
 * caller's hot path saves no registers for a call. */
static inline bool acl_selector_allows_one_key(const struct acl_selector *s, const struct command *cmd,
                                               const struct arg *argv, int argc, bool lookup)
{
    if (argc < 2 || !((s->allowed[cmd->acl_id / 64] >> (cmd->acl_id % 64)) & 1)) return false;
    if (s->flags & ACL_SEL_ALLKEYS) return true;
    if ((cmd->acl_traits & ACL_TRAIT_KEYS_BY_ARGS) && argc > (cmd->arity < 0 ? -cmd->arity : cmd->arity)) return false;
    if (!s->key_index) return false;
    uint8_t perm = cmd->acl_key_perms[0];
    if (acl_key_hot_grants(s->key_index, argv[1].ptr, argv[1].len, perm)) return true;
    return lookup && acl_key_index_match(s->key_index, s->keys, argv[1].ptr, argv[1].len, perm);
}

/* Checks one call against one selector; *pos gets the argument index of the
 * refused key or channel. */
enum acl_denial acl_selector_check(const struct acl_selector *s, struct command *cmd, struct arg *argv, int argc,
                                   int *pos);
/* Whether a selector allows `name` as a channel (pattern: as a PSUBSCRIBE pattern). */
bool acl_selector_channel_ok(const struct acl_selector *s, const char *name, size_t len, bool pattern);

#endif
