#include "server/connection.h"
#include "server/tracking.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "db/oplog.h"
#include "net/conn.h"
#include "server/acl.h"
#include "server/config.h"
#include "server/dispatch.h"
#include "server/server.h"
#include "util/log.h"
#include "util/numbers.h"
#include "util/mem.h"

#define READ_CHUNK (16 * 1024)
#define BIG_ARG_READ (32 * 1024)

static void client_on_read(struct net_conn *conn);
static void client_on_write(struct net_conn *conn);
static void client_bind_args(struct client *c);

static int socket_set_nonblocking(int fd)
{
    int flags = fcntl(fd, F_GETFL);
    return flags < 0 ? -1 : fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

static void socket_describe(int fd, bool local, char *out, size_t size)
{
    struct sockaddr_storage sa;
    socklen_t len = sizeof(sa);
    int rc = local ? getsockname(fd, (struct sockaddr *)&sa, &len) : getpeername(fd, (struct sockaddr *)&sa, &len);
    if (rc < 0) {
        snprintf(out, size, "?:0");
        return;
    }
    char ip[INET6_ADDRSTRLEN];
    int port;
    if (sa.ss_family == AF_INET6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&sa;
        inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
        port = ntohs(s6->sin6_port);
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&sa;
        inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip));
        port = ntohs(s4->sin_port);
    }
    snprintf(out, size, "%s:%d", ip, port);
}

/* The address part of "ip:port" is loopback (127.0.0.0/8 or ::1). */
/* Protected mode trusts exactly the loopback addresses Redis trusts:
 * 127.0.0.1 and ::1 (other 127.x addresses are refused, as in Redis). */
static bool addr_is_loopback(const char *addr)
{
    return strncmp(addr, "127.0.0.1:", 10) == 0 || strncmp(addr, "::1:", 4) == 0 ||
           strncmp(addr, "::ffff:127.0.0.1:", 17) == 0;
}

int listener_bind(const char *addr, int port)
{
    char portstr[16];
    snprintf(portstr, sizeof(portstr), "%d", port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
    struct addrinfo *res;
    if (strcmp(addr, "*") == 0) addr = "0.0.0.0";
    else if (strcmp(addr, "::*") == 0) addr = "::";
    if (getaddrinfo(addr, portstr, &hints, &res) != 0) return -1;
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        freeaddrinfo(res);
        return -1;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (res->ai_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    if (bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, cfg.tcp_backlog) < 0) {
        int saved = errno;
        close(fd);
        freeaddrinfo(res);
        errno = saved;
        return -1;
    }
    freeaddrinfo(res);
    socket_set_nonblocking(fd);
    return fd;
}

static void reject_connection(int fd, const char *msg)
{
    ssize_t ignored = write(fd, msg, strlen(msg));
    (void)ignored;
    close(fd);
    server.stats.rejected_connections++;
}

static const char protected_mode_message[] =
    "-DENIED Runnel is running in protected mode because protected mode is enabled and no password is set for the "
    "default user. In this mode connections are only accepted from the loopback interface. If you want to connect "
    "from external computers to Runnel you may adopt one of the following solutions: 1) Just disable protected mode "
    "sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Runnel from the "
    "same host the server is running, however MAKE SURE Runnel is not publicly accessible from internet if you do "
    "so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode "
    "by editing the Runnel configuration file, and setting the protected mode option to 'no', and then restarting "
    "the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' "
    "option. 4) Set up an authentication password for the default user. NOTE: You only need to do one of the above "
    "things in order for the server to start accepting connections from the outside.\r\n";

/* A connection is open (at once for TCP, after its handshake for TLS): it
 * becomes a client, or is closed if its handshake failed. */
static void connection_on_open(struct net_conn *conn)
{
    if (conn->state != NET_CONN_OPEN) {
        char addr[64];
        socket_describe(conn->fd, false, addr, sizeof(addr));
        log_verbose("Error accepting a client connection: %s (addr=%s)", conn->error ? conn->error : "?", addr);
        net_conn_close(conn);
        return;
    }
    if (!client_create(conn)) net_conn_close(conn);
}

/* A rejection's text goes out in the clear, so a TLS connection is just
 * closed (as in Redis, whose reply can't pass the handshake either). */
static void accept_one(int fd, bool tls)
{
    if (server.client_count >= (size_t)cfg.maxclients) {
        reject_connection(fd, tls ? "" : "-ERR max number of clients reached\r\n");
        return;
    }
    char addr[64];
    socket_describe(fd, false, addr, sizeof(addr));
    if (cfg.protected_mode && acl_default_user_nopass() && !addr_is_loopback(addr)) {
        reject_connection(fd, tls ? "" : protected_mode_message);
        return;
    }
    net_conn_accept(net_conn_create(server.loop, fd, tls), connection_on_open);
}

/* data: non-NULL for a TLS listener; fd < 0 is -errno of a failed accept. */
static void listener_on_accept(struct event_loop *loop, int fd, void *data)
{
    (void)loop;
    if (fd < 0) {
        log_warning("Accepting client connection: %s", strerror(-fd));
        return;
    }
    accept_one(fd, data != NULL);
}

/* What the open listeners were bound with ("port addr addr..."), so that a
 * CONFIG SET naming port or bind without changing either keeps them. */
static str listeners_bound;

static str listeners_signature(void)
{
    str sig = str_append_printf(str_empty(64), "%d %d", cfg.port, cfg.tls_port);
    for (int i = 0; i < cfg.bind_count; i++) sig = str_append_printf(sig, " %s", cfg.bind[i]);
    return sig;
}

/* Binds every configured address on one port; -1 (logged) when a
 * required address fails or none binds. */
static int listeners_open_port(int port, bool tls)
{
    int before = server.listen_count;
    for (int i = 0; i < cfg.bind_count && server.listen_count < MAX_LISTENERS; i++) {
        const char *addr = cfg.bind[i];
        bool optional = addr[0] == '-';
        if (optional) addr++;
        int fd = listener_bind(addr, port);
        if (fd < 0) {
            if (optional) continue;
            log_warning("Warning: Could not create server TCP listening socket %s:%d: %s", addr, port,
                        strerror(errno));
            return -1;
        }
        event_loop_listen(server.loop, fd, listener_on_accept, tls ? (void *)&server : NULL);
        server.listen_fds[server.listen_count++] = fd;
    }
    if (server.listen_count == before) {
        log_warning("Failed listening on port %d (%s).", port, tls ? "tls" : "tcp");
        return -1;
    }
    return 0;
}

int listeners_open(void)
{
    if ((cfg.port > 0 && listeners_open_port(cfg.port, false) < 0) ||
        (cfg.tls_port > 0 && listeners_open_port(cfg.tls_port, true) < 0) || server.listen_count == 0) {
        if (cfg.port == 0 && cfg.tls_port == 0) log_warning("Neither port nor tls-port is set: nothing to listen on.");
        listeners_close();
        return -1;
    }
    str_free(listeners_bound);
    listeners_bound = listeners_signature();
    return 0;
}

void listeners_close(void)
{
    for (int i = 0; i < server.listen_count; i++) {
        event_loop_unlisten(server.loop, server.listen_fds[i]);
        close(server.listen_fds[i]);
    }
    server.listen_count = 0;
    str_free(listeners_bound);
    listeners_bound = NULL;
}

/* Rebinds to the configured ports and addresses if they changed. As in
 * Redis, the old sockets close first (so an address kept from the old list
 * can be bound again); when the new ones fail, CONFIG SET's rollback calls
 * this again with the old values. Port 0 (no TCP, in Redis) is refused
 * unless tls-port is set, since Runnel has no unix socket. */
static int listeners_rebind(void)
{
    str wanted = listeners_signature();
    bool same = listeners_bound && strcmp(wanted, listeners_bound) == 0;
    str_free(wanted);
    if (same) return 0;
    if (cfg.port == 0 && cfg.tls_port == 0) return -1;
    listeners_close();
    return listeners_open();
}

int listeners_port_hook(const char **err)
{
    if (listeners_rebind() == 0) return 0;
    *err = "Unable to listen on this port. Check server logs.";
    return -1;
}

int listeners_bind_hook(const char **err)
{
    if (listeners_rebind() == 0) return 0;
    *err = "Failed to bind to specified addresses.";
    return -1;
}

static void client_link(struct client *c)
{
    c->next = server.clients;
    if (server.clients) server.clients->prev = c;
    server.clients = c;
    server.client_count++;
}

static void client_unlink(struct client *c)
{
    if (c->prev) c->prev->next = c->next;
    else server.clients = c->next;
    if (c->next) c->next->prev = c->prev;
    server.client_count--;
}

struct client *client_create(struct net_conn *conn)
{
    int fd = conn ? conn->fd : -1;
    struct client *c = mem_calloc(sizeof(*c));
    c->fd = fd;
    c->conn = conn;
    c->id = ++server.next_client_id;
    c->resp = 2;
    outbuf_init(&c->out);
    resp_parser_init(&c->parser, cfg.proto_max_bulk_len, 1024LL * 1024 * 1024 * 2 - 1);
    c->ctime_ms = c->last_interaction_ms = event_now_ms();
    client_select_db(c, 0);
    if (fd >= 0) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if (cfg.tcp_keepalive > 0) setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
        socket_describe(fd, false, c->addr, sizeof(c->addr));
        socket_describe(fd, true, c->laddr, sizeof(c->laddr));
        conn->data = c;
        if (net_conn_set_read_handler(conn, client_on_read) < 0) {
            conn->data = NULL;
            outbuf_free(&c->out);
            resp_parser_free(&c->parser);
            mem_free(c);
            return NULL;
        }
    }
    acl_client_init(c);
    if (fd < 0) return c; /* socketless: not listed, not a connection */
    client_link(c);
    server.stats.total_connections++;
    return c;
}

void client_select_db(struct client *c, int index)
{
    c->db_index = index;
    c->db = &server.dbs[index];
}

static void client_remove_pending(struct client *c)
{
    if (!(c->flags & CLIENT_PENDING_WRITE)) return;
    for (size_t i = 0; i < server.pending_count; i++) {
        if (server.pending_writes[i] != c) continue;
        server.pending_writes[i] = server.pending_writes[--server.pending_count];
        break;
    }
    c->flags &= ~CLIENT_PENDING_WRITE;
}

static void client_free(struct client *c)
{
    if (c->flags & CLIENT_CLOSE_ASAP) server.closing_count--;
    dispatch_client_closing(c);
    if (c->conn) net_conn_close(c->conn);
    client_remove_pending(c);
    if (c->fd >= 0) client_unlink(c);
    watch_clear(&c->watch);
    outbuf_free(&c->out);
    resp_parser_free(&c->parser);
    mem_free(c->qbuf);
    mem_free(c->argv);
    str_free(c->name);
    str_free(c->lib_name);
    str_free(c->lib_ver);
    mem_free(c);
}

/* Counted, so that the loop's reaping walks the clients only when one
 * is waiting to close. */
void client_close_async(struct client *c)
{
    if (c->flags & CLIENT_CLOSE_ASAP) return;
    c->flags |= CLIENT_CLOSE_ASAP;
    server.closing_count++;
}

void client_close(struct client *c)
{
    if (c->flags & (CLIENT_EXECUTING | CLIENT_PROTECTED) || server.current == c) {
        client_close_async(c);
        return;
    }
    client_free(c);
}

void client_resume_pending_command(struct client *c)
{
    client_bind_args(c);
    /* as in client_process_input, which clears it: its arguments point
     * into its query buffer, which must not move while the command runs */
    c->flags |= CLIENT_PROTECTED;
    dispatch_command(c);
    c->argc = 0;
    client_process_input(c);
}

struct client *client_by_id(uint64_t id)
{
    for (struct client *c = server.clients; c; c = c->next)
        if (c->id == id) return c;
    return NULL;
}

void client_mark_pending_write(struct client *c)
{
    if (c->flags & (CLIENT_PENDING_WRITE | CLIENT_WRITE_WATCHED) || c->fd < 0) return;
    if (server.pending_count == server.pending_cap) {
        server.pending_cap = server.pending_cap ? server.pending_cap * 2 : 64;
        server.pending_writes = mem_realloc(server.pending_writes, server.pending_cap * sizeof(struct client *));
    }
    server.pending_writes[server.pending_count++] = c;
    c->flags |= CLIENT_PENDING_WRITE;
}

/* Makes room for the next read: a normal chunk, or exactly what a big bulk
 * argument still needs so that it is read straight into place. */
static size_t client_prepare_read(struct client *c)
{
    size_t want = READ_CHUNK;
    size_t remaining = resp_parser_bulk_remaining(&c->parser, c->qlen);
    if (remaining >= BIG_ARG_READ) want = remaining;
    if (c->qcap - c->qlen < want) {
        size_t cap = c->qlen + want;
        if (remaining < BIG_ARG_READ && cap < c->qcap * 2) cap = c->qcap * 2;
        c->qbuf = mem_realloc(c->qbuf, cap + 1);
        c->qcap = cap;
    }
    return c->qcap - c->qlen;
}

size_t client_output_pending(struct client *c)
{
    size_t n = c->out.pending;
    if ((c->flags & CLIENT_REPLICA) && server_replication_hooks.stream_pending)
        n += server_replication_hooks.stream_pending(c);
    return n;
}

/* Writes the client's replies, then (for a replica, once its replies are
 * out) the replication stream it is owed. Bytes written, or -1. */
static ssize_t client_write_output(struct client *c)
{
    ssize_t total = 0;
    if (c->out.pending > 0) {
        total = outbuf_write_conn(&c->out, c->conn);
        if (total < 0 || c->out.pending > 0) return total;
    }
    if ((c->flags & CLIENT_REPLICA) && server_replication_hooks.stream_write) {
        long w = server_replication_hooks.stream_write(c);
        if (w < 0) return -1;
        total += w;
    }
    return total;
}

static void client_on_write(struct net_conn *conn)
{
    struct client *c = conn->data;
    ssize_t w = client_write_output(c);
    if (w < 0) {
        client_close(c);
        return;
    }
    server.stats.net_output_bytes += w;
    c->total_net_out += w;
    if (client_output_pending(c) == 0) {
        net_conn_set_write_handler(conn, NULL);
        c->flags &= ~CLIENT_WRITE_WATCHED;
        if (c->flags & CLIENT_CLOSE_AFTER_REPLY) client_close(c);
    }
}

static void client_on_read(struct net_conn *conn)
{
    struct client *c = conn->data;
    /* its command is still running (a busy script serving the others):
     * its arguments point into the query buffer, which must stay put */
    if (c->flags & CLIENT_PROTECTED) return;
    size_t room = client_prepare_read(c);
    ssize_t n = net_conn_read(conn, c->qbuf + c->qlen, room);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
        log_verbose("Reading from client: %s", strerror(errno));
        client_close(c);
        return;
    }
    if (n == 0) {
        log_verbose("Client closed connection id=%llu addr=%s", (unsigned long long)c->id, c->addr);
        client_close(c);
        return;
    }
    c->qlen += (size_t)n;
    c->total_net_in += n;
    server.stats.net_input_bytes += n;
    server.stats.io_reads++;
    c->last_interaction_ms = event_now_ms();
    if (c->qlen > c->qbuf_peak) c->qbuf_peak = c->qlen;
    if (cfg.client_query_buffer_limit > 0 && c->qlen > (size_t)cfg.client_query_buffer_limit) {
        log_warning("Closing client that reached max query buffer length: id=%llu addr=%s (qbuf=%zu)",
                    (unsigned long long)c->id, c->addr, c->qlen);
        server.stats.client_query_buffer_limit_disconnections++;
        client_close(c);
        return;
    }
    client_process_input(c);
}

void client_send_raw(struct client *c, const void *bytes, size_t len)
{
    bool muted = c->out.muted;
    c->out.muted = false;
    outbuf_append(&c->out, bytes, len);
    c->out.muted = muted;
    client_mark_pending_write(c);
}

void client_send_block(struct client *c, struct outblock *b)
{
    bool muted = c->out.muted;
    c->out.muted = false;
    outbuf_append_shared(&c->out, b);
    c->out.muted = muted;
    client_mark_pending_write(c);
}

void client_feed_input(struct client *c, const char *bytes, size_t len)
{
    if (c->qcap - c->qlen < len) {
        c->qcap = c->qlen + len;
        c->qbuf = mem_realloc(c->qbuf, c->qcap + 1);
    }
    memcpy(c->qbuf + c->qlen, bytes, len);
    c->qlen += len;
    client_process_input(c);
}

static bool client_mid_command(const struct client *c)
{
    return c->parser.kind == '*' && c->parser.multibulk_left > 0;
}

/* Drops the bytes of commands already executed from the query buffer. A
 * command held by CLIENT PAUSE, or one only partly received (whose parsed
 * arguments are slices of the buffer), stays from its first byte. */
static void client_trim_query(struct client *c)
{
    bool keep = (c->flags & CLIENT_PAUSED) || client_mid_command(c);
    size_t used = keep ? c->cmd_start : c->parser.pos;
    if (used == 0) return;
    if (used < c->qlen) memmove(c->qbuf, c->qbuf + used, c->qlen - used);
    c->qlen -= used;
    resp_parser_shift(&c->parser, used);
    c->cmd_start = 0; /* it was at or before `used`: the kept bytes start the buffer */
}

/* A buffer grown for a big command is kept until the next cron tick, as
 * Redis keeps it until its cron resizes it (CLIENT LIST shows it in
 * qbuf-free meanwhile), then given back while the client has nothing in it. */
static void client_release_big_query_buffer(struct client *c)
{
    if (c->qlen != 0 || c->qcap <= 4 * READ_CHUNK || (c->flags & (CLIENT_PAUSED | CLIENT_EXECUTING))) return;
    mem_free(c->qbuf);
    c->qbuf = NULL;
    c->qcap = 0;
}

/* Redis's limits for a client that still has to authenticate, so that
 * nobody can make the server buffer much before giving a password. */
#define UNAUTH_MAX_MULTIBULK 10
#define UNAUTH_MAX_BULK 16384

static bool client_needs_auth(const struct client *c)
{
    return !(c->flags & CLIENT_AUTHENTICATED);
}

/* Sets the parser's limits from the configuration (so CONFIG SET applies to
 * connected clients) and from whether the client has authenticated. */
static void client_set_parser_limits(struct client *c)
{
    c->parser.max_bulk_len = cfg.proto_max_bulk_len;
    c->parser.max_multibulk_len = INT_MAX;
    if (!client_needs_auth(c)) return;
    if (c->parser.max_bulk_len > UNAUTH_MAX_BULK) c->parser.max_bulk_len = UNAUTH_MAX_BULK;
    c->parser.max_multibulk_len = UNAUTH_MAX_MULTIBULK;
}

/* The parser reports any count over its limit as invalid; for a client that
 * has not authenticated, a count that would be valid once it has gets
 * Redis's "unauthenticated" wording instead. The failed header starts at
 * the parser's position. */
static const char *client_protocol_error_text(struct client *c)
{
    const char *error = c->parser.error;
    if (!client_needs_auth(c) || c->parser.pos >= c->qlen) return error;
    const char *line = c->qbuf + c->parser.pos;
    const char *cr = memchr(line, '\r', c->qlen - c->parser.pos);
    long long n;
    if (!cr || (line[0] != '*' && line[0] != '$') || !parse_ll(line + 1, (size_t)(cr - line - 1), &n)) return error;
    if (line[0] == '*' && n > UNAUTH_MAX_MULTIBULK && n <= INT_MAX)
        return "Protocol error: unauthenticated multibulk length";
    if (line[0] == '$' && n > UNAUTH_MAX_BULK && n <= cfg.proto_max_bulk_len)
        return "Protocol error: unauthenticated bulk length";
    return error;
}

/* Replies the protocol error (counted in errorstats like any error reply)
 * and closes the connection once the reply is written. */
static void client_protocol_error(struct client *c)
{
    const char *error = client_protocol_error_text(c);
    uint32_t errors_before = c->out.errors;
    reply_errorf(&c->out, "ERR %s", error);
    c->out.errors = errors_before;
    server_count_error("ERR");
    log_verbose("Protocol error (%s) from client: id=%llu addr=%s", error, (unsigned long long)c->id, c->addr);
    c->flags |= CLIENT_CLOSE_AFTER_REPLY;
}

/* Points argv at the parsed arguments inside the query buffer, each
 * NUL-terminated in place so C library parsers can read them. */
static void client_bind_args(struct client *c)
{
    int argc = (int)c->parser.argc;
    if (argc > c->argv_cap) {
        c->argv_cap = argc < 16 ? 16 : argc;
        c->argv = mem_realloc(c->argv, sizeof(*c->argv) * (size_t)c->argv_cap);
    }
    /* locals: the NUL stores could alias the client's fields and force reloads */
    struct arg *argv = c->argv;
    const struct resp_arg *args = c->parser.args;
    char *qbuf = c->qbuf;
    for (int i = 0; i < argc; i++) {
        char *ptr = qbuf + args[i].off;
        size_t len = args[i].len;
        argv[i].ptr = ptr;
        argv[i].len = len;
        ptr[len] = '\0'; /* its CRLF or separator, already parsed */
    }
    c->argc = argc;
}

void client_process_input(struct client *c)
{
    c->flags |= CLIENT_PROTECTED;
    while (c->qlen > c->parser.pos || c->parser.pos == 0) {
        if (c->flags & (CLIENT_BLOCKED | CLIENT_CLOSE_AFTER_REPLY | CLIENT_CLOSE_ASAP | CLIENT_PAUSED)) break;
        if (c->qlen == 0) break;
        if (!client_mid_command(c)) c->cmd_start = c->parser.pos;
        client_set_parser_limits(c);
        enum resp_status st = resp_parse(&c->parser, c->qbuf, c->qlen);
        if (st == RESP_INCOMPLETE) break;
        if (st == RESP_ERROR) {
            client_protocol_error(c);
            break;
        }
        client_bind_args(c);
        if (resp_is_http_attack(c->argv[0].ptr, c->argv[0].len)) {
            log_warning("Possible SECURITY ATTACK detected. It looks like somebody is sending POST or Host: "
                        "commands to Runnel. This is likely due to an attacker attempting to use Cross Protocol "
                        "Scripting to compromise your Runnel instance. Connection from %s aborted.",
                        c->addr);
            client_close_async(c);
            break;
        }
        dispatch_command(c);
        c->argc = 0;
        if ((c->flags & CLIENT_MASTER) && server_replication_hooks.master_applied)
            server_replication_hooks.master_applied(c, c->qbuf + c->cmd_start, c->parser.pos - c->cmd_start);
    }
    client_trim_query(c);
    c->flags &= ~CLIENT_PROTECTED;
    if (client_output_pending(c) > 0 || (c->flags & CLIENT_CLOSE_AFTER_REPLY)) client_mark_pending_write(c);
    if (c->flags & CLIENT_CLOSE_ASAP) client_close(c);
}

/* Writes one client's queue; a full socket switches it to EV_WRITE. */
static void client_flush(struct client *c)
{
    if (client_output_pending(c) > 0) {
        ssize_t w = client_write_output(c);
        if (w < 0) {
            client_close_async(c);
            return;
        }
        server.stats.net_output_bytes += w;
        c->total_net_out += w;
        server.stats.io_writes++;
    }
    if (client_output_pending(c) > 0) {
        if (!client_check_output_limits(c)) {
            net_conn_set_write_handler(c->conn, client_on_write);
            c->flags |= CLIENT_WRITE_WATCHED;
        }
        return;
    }
    if (c->flags & CLIENT_CLOSE_AFTER_REPLY) client_close_async(c);
}

/* Flushes every pending client, except those whose last write is not yet
 * durable (appendfsync always with a failing disk): their replies stay
 * queued until the AOF catches up.
 *
 * Newest first: a client is marked when its own commands have run, after
 * the subscribers and waiters those commands fed, so a publisher or
 * producer gets its replies before the fan-out is written and can send its
 * next batch while the loop writes to the others. */
void connections_flush_pending(void)
{
    size_t kept = 0, count = server.pending_count;
    struct client **pw = server.pending_writes;
    for (size_t i = count; i-- > 0;) {
        struct client *c = pw[i];
        if (c->wrote_upto > oplog_durable_total) {
            pw[count - 1 - kept++] = c; /* into a slot already visited, in marking order */
            continue;
        }
        c->flags &= ~CLIENT_PENDING_WRITE;
        client_flush(c);
    }
    if (kept > 0) memmove(pw, pw + (count - kept), kept * sizeof(*pw));
    server.pending_count = kept;
}

void connections_reap(void)
{
    if (server.closing_count == 0) return;
    struct client *c = server.clients;
    while (c) {
        struct client *next = c->next;
        if (c->flags & CLIENT_CLOSE_ASAP) client_free(c);
        c = next;
    }
}

/* Output limits by class (normal, replica, pubsub): over the hard limit, or
 * over the soft limit for longer than its seconds, the client is closed. */
bool client_check_output_limits(struct client *c)
{
    int cls = (c->flags & CLIENT_REPLICA) ? OUTPUT_CLASS_REPLICA
              : (c->flags & CLIENT_PUBSUB) ? OUTPUT_CLASS_PUBSUB
                                           : OUTPUT_CLASS_NORMAL;
    long long hard = cfg.output_limit[cls].hard, soft = cfg.output_limit[cls].soft;
    long long used = (long long)client_output_pending(c);
    if (c->conn) used += (long long)net_conn_unsent(c->conn);
    bool over_hard = hard > 0 && used >= hard;
    bool over_soft = soft > 0 && used >= soft;
    if (!over_soft) c->soft_limit_since_ms = 0;
    if (!over_hard && !over_soft) return false; /* the common case: no clock read */
    long long now = event_now_ms();
    if (over_soft && c->soft_limit_since_ms == 0) c->soft_limit_since_ms = now;
    bool soft_expired = over_soft && now - c->soft_limit_since_ms > (long long)cfg.output_limit[cls].soft_seconds * 1000;
    if (!over_hard && !soft_expired) return false;
    str info = client_info_line(c, str_empty(256));
    log_warning("Client %s scheduled to be closed ASAP for overcoming of output buffer limits.", info);
    str_free(info);
    server.stats.client_output_buffer_limit_disconnections[cls]++;
    outbuf_clear(&c->out);
    client_close_async(c);
    return true;
}

static char *client_flags_string(struct client *c, char *buf)
{
    char *p = buf;
    if (c->flags & CLIENT_REPLICA) *p++ = 'S';
    if (c->flags & CLIENT_MASTER) *p++ = 'M';
    if (c->flags & CLIENT_MULTI) *p++ = 'x';
    if (c->flags & (CLIENT_BLOCKED | CLIENT_PAUSED)) *p++ = 'b';
    p = tracking_client_flags(c, p);
    if (c->flags & CLIENT_PUBSUB) *p++ = 'P';
    if (c->flags & CLIENT_MONITOR) *p++ = 'O';
    if (c->flags & CLIENT_DIRTY_EXEC) *p++ = 'd';
    if (c->flags & CLIENT_CLOSE_AFTER_REPLY) *p++ = 'c';
    if (c->flags & CLIENT_CLOSE_ASAP) *p++ = 'A';
    if (c->flags & CLIENT_NO_EVICT) *p++ = 'e';
    if (c->flags & CLIENT_NO_TOUCH) *p++ = 'T';
    if (p == buf) *p++ = 'N';
    *p = '\0';
    return buf;
}

/* The query buffer's unconsumed bytes, as Redis counts them: for the client
 * running this command, everything read since its batch began (the command
 * itself and any pipelined after it); for the others, what is not parsed yet. */
static size_t client_qbuf_used(const struct client *c)
{
    return (c->flags & CLIENT_EXECUTING) ? c->qlen : c->qlen - c->parser.pos;
}

str client_info_line(struct client *c, str s)
{
    char flags[32];
    long long now = event_now_ms();
    int sub = 0, psub = 0, ssub = 0;
    dispatch_subscription_counts(c, &sub, &psub, &ssub);
    const char *cmd = c->last_cmd ? c->last_cmd->full_name : "NULL";
    return str_append_printf(
        s,
        "id=%llu addr=%s laddr=%s fd=%d name=%s age=%lld idle=%lld flags=%s db=%d sub=%d psub=%d ssub=%d "
        "multi=%d qbuf=%zu qbuf-free=%zu argv-mem=%zu multi-mem=0 rbs=%zu rbp=%zu obl=0 oll=%u omem=%zu "
        "tot-mem=%zu events=%s cmd=%s user=%s redir=%lld resp=%d lib-name=%s lib-ver=%s",
        (unsigned long long)c->id, c->addr, c->laddr, c->fd, c->name ? c->name : "", (now - c->ctime_ms) / 1000,
        (now - c->last_interaction_ms) / 1000, client_flags_string(c, flags), c->db_index, sub, psub, ssub,
        (c->flags & CLIENT_MULTI) ? c->multi_count : -1, client_qbuf_used(c), c->qcap - c->qlen,
        (size_t)c->argc * sizeof(struct arg), c->qcap, c->qbuf_peak, c->out.count, c->out.pending,
        sizeof(*c) + c->qcap + outbuf_memory(&c->out),
        (c->flags & CLIENT_WRITE_WATCHED) ? "rw" : "r", cmd, acl_client_user_name(c), tracking_redirect_id(c), c->resp,
        c->lib_name ? c->lib_name : "",
        c->lib_ver ? c->lib_ver : "");
}

/* Closes clients idle longer than `timeout` seconds (not blocked, not
 * subscribed, as Redis), and re-checks soft output limits. */
/* A client quiet for this long gives its buffers back; they are
 * allocated again by its next read or reply. */
#define CLIENT_IDLE_RELEASE_MS 2000

static void client_release_idle_buffers(struct client *c)
{
    if (c->qlen == 0 && c->qbuf && !(c->flags & (CLIENT_PAUSED | CLIENT_EXECUTING))) {
        mem_free(c->qbuf);
        c->qbuf = NULL;
        c->qcap = 0;
    }
    if (!(c->flags & (CLIENT_PENDING_WRITE | CLIENT_WRITE_WATCHED))) outbuf_release_idle(&c->out);
}

void connections_cron(void)
{
    long long now = event_now_ms();
    for (struct client *c = server.clients; c; c = c->next) {
        if (cfg.timeout > 0 &&
            !(c->flags & (CLIENT_BLOCKED | CLIENT_PUBSUB | CLIENT_MONITOR | CLIENT_PAUSED | CLIENT_REPLICA | CLIENT_MASTER)) &&
            now - c->last_interaction_ms > (long long)cfg.timeout * 1000) {
            log_verbose("Closing idle client id=%llu", (unsigned long long)c->id);
            client_close_async(c);
            continue;
        }
        client_release_big_query_buffer(c);
        if (client_output_pending(c) > 0) client_check_output_limits(c);
        else if (now - c->last_interaction_ms > CLIENT_IDLE_RELEASE_MS) client_release_idle_buffers(c);
    }
}
