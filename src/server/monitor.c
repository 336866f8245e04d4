#include "server/monitor.h"

#include <stdio.h>
#include <sys/time.h>

#include "server/connection.h"
#include "server/server.h"
#include "util/mem.h"

void monitor_add(struct client *c)
{
    if (c->flags & CLIENT_MONITOR) return;
    if (server.monitor_count == server.monitor_cap) {
        server.monitor_cap = server.monitor_cap ? server.monitor_cap * 2 : 4;
        server.monitors = mem_realloc(server.monitors, server.monitor_cap * sizeof(*server.monitors));
    }
    server.monitors[server.monitor_count++] = c;
    c->flags |= CLIENT_MONITOR;
}

void monitor_remove(struct client *c)
{
    if (!(c->flags & CLIENT_MONITOR)) return;
    for (size_t i = 0; i < server.monitor_count; i++) {
        if (server.monitors[i] != c) continue;
        server.monitors[i] = server.monitors[--server.monitor_count];
        break;
    }
    c->flags &= ~CLIENT_MONITOR;
}

/* Quotes an argument as Redis's MONITOR shows it: printable bytes as is,
 * others as \xHH, with \" \\ \n \r \t \a \b escapes. */
static str monitor_quote(str s, const char *p, size_t len)
{
    s = str_append(s, "\"", 1);
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)p[i];
        switch (ch) {
        case '\\': s = str_append(s, "\\\\", 2); break;
        case '"': s = str_append(s, "\\\"", 2); break;
        case '\n': s = str_append(s, "\\n", 2); break;
        case '\r': s = str_append(s, "\\r", 2); break;
        case '\t': s = str_append(s, "\\t", 2); break;
        case '\a': s = str_append(s, "\\a", 2); break;
        case '\b': s = str_append(s, "\\b", 2); break;
        default:
            if (ch >= 32 && ch < 127) s = str_append(s, &p[i], 1);
            else s = str_append_printf(s, "\\x%02x", ch);
        }
    }
    return str_append(s, "\"", 1);
}

void monitor_feed(struct client *c, int argc, struct arg *argv)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    str line = str_empty(128);
    line = str_append_printf(line, "+%ld.%06ld [%d %s]", (long)tv.tv_sec, (long)tv.tv_usec, c->db_index, c->addr);
    for (int i = 0; i < argc; i++) {
        line = str_append(line, " ", 1);
        line = monitor_quote(line, argv[i].ptr, argv[i].len);
    }
    line = str_append(line, "\r\n", 2);
    for (size_t i = 0; i < server.monitor_count; i++) {
        struct client *m = server.monitors[i];
        outbuf_append(&m->out, line, str_len(line));
        client_mark_pending_write(m);
    }
    str_free(line);
}
