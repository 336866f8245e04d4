#include "server/acl_log.h"

#include <string.h>

#include "net/event_loop.h"
#include "protocol/reply.h"
#include "server/client.h"
#include "server/config.h"
#include "server/connection.h"
#include "util/mem.h"

/* Entries within this many ms of each other with the same reason, context,
 * object and user are one entry with a count. */
#define ACL_LOG_GROUPING_MS 60000

struct acl_log_entry {
    long long count;
    enum acl_denial reason;
    enum acl_log_context context;
    str object;
    str username;
    long long ctime_ms; /* last time it happened */
    str client_info;
    struct acl_log_entry *next; /* older */
};

static struct acl_log_entry *newest;
static long long entries;

static void entry_free(struct acl_log_entry *e)
{
    str_free(e->object);
    str_free(e->username);
    str_free(e->client_info);
    mem_free(e);
}

void acl_log_trim(void)
{
    long long max = cfg.acllog_max_len;
    struct acl_log_entry **link = &newest;
    for (long long i = 0; *link && i < max; i++) link = &(*link)->next;
    while (*link) {
        struct acl_log_entry *e = *link;
        *link = e->next;
        entry_free(e);
        entries--;
    }
}

static bool same_str(const str s, const char *p, size_t len)
{
    return str_len(s) == len && memcmp(s, p, len) == 0;
}

void acl_log_add(enum acl_denial reason, enum acl_log_context context, const char *object, size_t olen,
                 const char *username, size_t ulen, struct client *c)
{
    long long now = event_now_ms();
    struct acl_log_entry **link = &newest;
    for (; *link; link = &(*link)->next) {
        struct acl_log_entry *e = *link;
        if (e->reason == reason && e->context == context && same_str(e->object, object, olen) &&
            same_str(e->username, username, ulen) && now - e->ctime_ms < ACL_LOG_GROUPING_MS)
            break;
    }
    struct acl_log_entry *e = *link;
    if (e) {
        *link = e->next; /* moves to the front */
        entries--;
        e->count++;
        str_set_len(e->client_info, 0);
    } else {
        e = mem_calloc(sizeof(*e));
        e->count = 1;
        e->reason = reason;
        e->context = context;
        e->object = str_new(object, olen);
        e->username = str_new(username, ulen);
        e->client_info = str_empty(256);
    }
    e->ctime_ms = now;
    e->client_info = client_info_line(c, e->client_info);
    e->next = newest;
    newest = e;
    entries++;
    acl_log_trim();
}

void acl_log_reset(void)
{
    while (newest) {
        struct acl_log_entry *e = newest;
        newest = e->next;
        entry_free(e);
    }
    entries = 0;
}

static const char *reason_name(enum acl_denial r)
{
    switch (r) {
    case ACL_DENIED_CMD: return "command";
    case ACL_DENIED_KEY: return "key";
    case ACL_DENIED_CHANNEL: return "channel";
    case ACL_DENIED_AUTH: return "auth";
    default: return "unknown";
    }
}

static const char *context_name(enum acl_log_context ctx)
{
    switch (ctx) {
    case ACL_LOG_MULTI: return "multi";
    case ACL_LOG_LUA: return "lua";
    default: return "toplevel";
    }
}

void acl_log_reply(struct outbuf *o, long long count)
{
    if (count < 0 || count > entries) count = entries;
    long long now = event_now_ms();
    reply_array(o, count);
    struct acl_log_entry *e = newest;
    for (long long i = 0; i < count && e; i++, e = e->next) {
        reply_map(o, 7);
        reply_bulk_cstr(o, "count");
        reply_int(o, e->count);
        reply_bulk_cstr(o, "reason");
        reply_bulk_cstr(o, reason_name(e->reason));
        reply_bulk_cstr(o, "context");
        reply_bulk_cstr(o, context_name(e->context));
        reply_bulk_cstr(o, "object");
        reply_bulk(o, e->object, str_len(e->object));
        reply_bulk_cstr(o, "username");
        reply_bulk(o, e->username, str_len(e->username));
        reply_bulk_cstr(o, "age-seconds");
        reply_double_17g(o, (double)(now - e->ctime_ms) / 1000.0); /* redis-server 7.0.15's digits */
        reply_bulk_cstr(o, "client-info");
        reply_bulk(o, e->client_info, str_len(e->client_info));
    }
}
