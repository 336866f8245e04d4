/* Users from files: `user` lines of the config file (kept as read, applied
 * once the commands are known) or the `aclfile`, loaded at start-up and by
 * ACL LOAD, written by ACL SAVE. One or the other, as Redis requires. */
#include "server/acl_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/acl_store.h"
#include "server/config.h"
#include "util/mem.h"

static bool name_has_space(const char *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n') return true;
    return false;
}

/* Builds one user from a name and its rules, starting from a reset user.
 * NULL with the rule's index in *bad and the reason in *reason. */
static struct acl_user *user_from_words(const char *name, size_t nlen, int argc, const struct arg *argv,
                                        const char **reason, int *bad)
{
    struct acl_user *u = acl_user_new(name, nlen);
    if (!acl_user_apply_all(u, argc, argv, reason, bad)) {
        acl_user_free(u);
        return NULL;
    }
    return u;
}

static bool users_have(struct acl_user **users, int n, const char *name, size_t len)
{
    for (int i = 0; i < n; i++)
        if (str_len(users[i]->name) == len && !memcmp(users[i]->name, name, len)) return true;
    return false;
}

static struct arg *words_to_args(char *const *words, int count)
{
    struct arg *argv = mem_alloc(sizeof(struct arg) * (size_t)(count ? count : 1));
    for (int i = 0; i < count; i++) argv[i] = (struct arg){words[i], strlen(words[i])};
    return argv;
}

static void users_free(struct acl_user **users, int n)
{
    for (int i = 0; i < n; i++) acl_user_free(users[i]);
    mem_free(users);
}

/* The config file's users: an error names the declaration, as Redis does. */
static int load_config_users(char **err)
{
    struct acl_user **users = NULL;
    int n = 0;
    for (int i = 0; i < config_user_lines_count(); i++) {
        int count;
        char *const *words = config_user_line(i, &count);
        struct arg *argv = words_to_args(words + 1, count - 1);
        const char *reason = NULL;
        int bad = 0;
        struct acl_user *u = NULL;
        char buf[512];
        if (users_have(users, n, words[0], strlen(words[0]))) {
            snprintf(buf, sizeof(buf), "Error in user declaration '%s': %s", words[0],
                     "Duplicate user found. A user can only be defined once in config files");
        } else if (!(u = user_from_words(words[0], strlen(words[0]), count - 1, argv, &reason, &bad))) {
            snprintf(buf, sizeof(buf), "Error in user declaration '%s': %s", words[bad + 1],
                     reason ? reason : "Unmatched parenthesis in acl selector");
        }
        mem_free(argv);
        if (!u) {
            *err = mem_strdup(buf);
            users_free(users, n);
            return -1;
        }
        users = mem_realloc(users, sizeof(*users) * (size_t)(n + 1));
        users[n++] = u;
    }
    acl_store_replace(users, n, NULL);
    return 0;
}

/* Splits a line on spaces; argv points into it (it is modified). */
static int split_words(char *line, struct arg *argv, int max)
{
    int n = 0;
    char *p = line;
    while (*p) {
        while (*p == ' ' || *p == '\t') p++;
        if (!*p) break;
        char *w = p;
        while (*p && *p != ' ' && *p != '\t') p++;
        if (n == max) return -1;
        argv[n++] = (struct arg){w, (size_t)(p - w)};
        if (*p) *p++ = '\0';
    }
    return n;
}

#define ACL_FILE_MAX_WORDS 4096

/* Reads the aclfile into a new set of users; NULL with *errors (Redis's
 * text, malloc'd) when any line is wrong: then nothing changes. */
static struct acl_user **read_file(const char *path, int *count, char **errors)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        char buf[1024];
        snprintf(buf, sizeof(buf), "Error loading ACLs, opening file '%s': %s", path, strerror(errno));
        *errors = mem_strdup(buf);
        return NULL;
    }
    str errs = str_empty(64);
    struct acl_user **users = NULL;
    int n = 0, lineno = 0;
    char *line = NULL;
    size_t cap = 0;
    struct arg *argv = mem_alloc(sizeof(struct arg) * ACL_FILE_MAX_WORDS);
    while (getline(&line, &cap, f) >= 0) {
        lineno++;
        line[strcspn(line, "\r\n")] = '\0';
        int argc = split_words(line, argv, ACL_FILE_MAX_WORDS);
        if (argc == 0) continue;
        if (argc < 2 || argv[0].len != 4 || memcmp(argv[0].ptr, "user", 4) != 0) {
            errs = str_append_printf(errs, "%s:%d should start with user keyword followed by the username. ", path,
                                     lineno);
            continue;
        }
        if (name_has_space(argv[1].ptr, argv[1].len)) continue;
        if (users_have(users, n, argv[1].ptr, argv[1].len)) {
            errs = str_append_printf(errs, "WARNING: Duplicate user '%s' found on line %d. ", argv[1].ptr, lineno);
            continue;
        }
        const char *reason = NULL;
        int bad = 0;
        struct acl_user *u = user_from_words(argv[1].ptr, argv[1].len, argc - 2, argv + 2, &reason, &bad);
        if (!u) {
            if (reason)
                errs = str_append_printf(errs, "%s:%d: Error in applying operation '%s': %s. ", path, lineno,
                                         argv[bad + 2].ptr, reason);
            else
                errs = str_append_printf(errs, "%s:%d: Unmatched parenthesis in acl selector starting at '%s'. ",
                                         path, lineno, argv[bad + 2].ptr);
            continue;
        }
        users = mem_realloc(users, sizeof(*users) * (size_t)(n + 1));
        users[n++] = u;
    }
    free(line); /* getline's buffer comes from libc malloc */
    fclose(f);
    mem_free(argv);
    if (str_len(errs)) {
        errs = str_append_printf(errs, "WARNING: ACL errors detected, no change to the previously active ACL rules "
                                       "was performed");
        *errors = mem_strdup(errs);
        str_free(errs);
        users_free(users, n);
        return NULL;
    }
    str_free(errs);
    *count = n;
    if (!users) users = mem_alloc(sizeof(*users));
    return users;
}

static bool aclfile_set(void)
{
    return cfg.aclfile && cfg.aclfile[0];
}

const char *acl_file_not_configured(void)
{
    return aclfile_set() ? NULL
                         : "This Redis instance is not configured to use an ACL file. You may want to specify users "
                           "via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis "
                           "configuration file set) in order to store users in the Redis configuration.";
}

char *acl_file_load(struct client *caller)
{
    char *errors = NULL;
    int n = 0;
    struct acl_user **users = read_file(cfg.aclfile, &n, &errors);
    if (!users) return errors;
    acl_store_replace(users, n, caller);
    return NULL;
}

char *acl_file_save(void)
{
    str text = str_empty(1024);
    for (int i = 0; i < acl_users_count(); i++) {
        struct acl_user *u = acl_user_at(i);
        text = str_append_printf(text, "user %s ", u->name);
        text = acl_user_describe(text, u);
        text = str_append(text, "\n", 1);
    }
    size_t n = strlen(cfg.aclfile) + 32;
    char *tmp = mem_alloc(n);
    snprintf(tmp, n, "%s.tmp-%ld", cfg.aclfile, (long)getpid());
    char *err = NULL;
    FILE *f = fopen(tmp, "w");
    if (!f || fwrite(text, 1, str_len(text), f) != str_len(text) || fflush(f) != 0 || fsync(fileno(f)) != 0) {
        char buf[1024];
        snprintf(buf, sizeof(buf), "Opening temp ACL file for ACL SAVE: %s", strerror(errno));
        err = mem_strdup(buf);
    }
    if (f && fclose(f) != 0 && !err) err = mem_strdup("Closing temp ACL file for ACL SAVE failed");
    if (!err && rename(tmp, cfg.aclfile) != 0) {
        char buf[1024];
        snprintf(buf, sizeof(buf), "Renaming ACL file for ACL SAVE: %s", strerror(errno));
        err = mem_strdup(buf);
    }
    if (err) unlink(tmp);
    mem_free(tmp);
    str_free(text);
    return err;
}

str acl_file_rewrite_users(str out, bool had_lines)
{
    if (aclfile_set()) return out;
    bool only_default = acl_users_count() == 1;
    if (only_default && !had_lines) {
        /* an untouched default user needs no line (requirepass says its password) */
        struct acl_user *fresh = acl_user_new_default();
        str a = acl_user_describe(str_empty(64), acl_default_user());
        str b = acl_user_describe(str_empty(64), fresh);
        bool same = str_len(a) == str_len(b) && !memcmp(a, b, str_len(a));
        str_free(a);
        str_free(b);
        acl_user_free(fresh);
        if (same || (cfg.requirepass && cfg.requirepass[0])) return out;
    }
    for (int i = 0; i < acl_users_count(); i++) {
        struct acl_user *u = acl_user_at(i);
        out = str_append_printf(out, "user %s ", u->name);
        out = acl_user_describe(out, u);
        out = str_append(out, "\n", 1);
    }
    return out;
}

int acl_file_startup(char **err)
{
    if (config_user_lines_count() && aclfile_set()) {
        *err = mem_strdup("Configuring Runnel with users defined in the config file and at the same time an ACL "
                          "file path is invalid. Define either an ACL file or users in the config file, not both.");
        return -1;
    }
    if (config_user_lines_count()) return load_config_users(err);
    if (!aclfile_set()) return 0;
    char *errors = acl_file_load(NULL);
    if (!errors) return 0;
    *err = errors;
    return -1;
}
