/* replica: this server's link to its primary. Connecting, the handshake as
 * Redis does it (PING, AUTH, REPLCONF listening-port / ip-address / capa,
 * PSYNC), receiving a full synchronisation's snapshot (into a file, or into
 * memory with repl-diskless-load), loading it, and then running the
 * primary's stream through a client flagged CLIENT_MASTER whose commands
 * are admitted without checks and answered with nothing. Each command's
 * bytes also enter this server's own replication buffer, unchanged, so its
 * replicas (chained) and its own future as a primary continue the same
 * history at the same offsets.
 *
 * When the link drops, the id and offset reached are kept: the next
 * connection asks to continue from there (PSYNC id offset+1). */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "db/db.h"
#include "db/oplog.h"
#include "db/watch.h"
#include "net/conn.h"
#include "messaging/blocking.h"
#include "persistence/aof.h"
#include "persistence/aof_state.h"
#include "persistence/snapshot.h"
#include "protocol/encode.h"
#include "replication/repl_buffer.h"
#include "replication/repl_state.h"
#include "server/config.h"
#include "server/connection.h"
#include "server/server.h"
#include "util/file_drop.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/numbers.h"

#define LINE_MAX_BYTES 1024
#define TRANSFER_READ_CHUNK (64 * 1024)

enum link_state {
    LINK_NONE,       /* not a replica */
    LINK_CONNECT,    /* must connect (the cron retries every second) */
    LINK_CONNECTING, /* non-blocking connect under way */
    LINK_HANDSHAKE,  /* PING .. PSYNC, one reply at a time */
    LINK_TRANSFER,   /* receiving the snapshot */
    LINK_CONNECTED,  /* the primary's stream runs through uplink.master */
};

enum handshake_step { STEP_PING, STEP_AUTH, STEP_PORT, STEP_IP, STEP_CAPA, STEP_TERM, STEP_PSYNC };

static struct {
    char host[256];
    int port;
    enum link_state state;
    struct net_conn *conn; /* until it becomes the primary's client */
    enum handshake_step step;
    char in[LINE_MAX_BYTES];
    size_t in_len;
    /* the snapshot being received */
    bool framed_by_mark;
    char mark[REPL_ID_LEN];
    long long size; /* with a length header; -1 with a mark */
    long long got;
    char tail[REPL_ID_LEN]; /* the last bytes, held back until the mark is ruled out */
    size_t tail_len;
    str payload;   /* diskless load */
    int file_fd;   /* disk load */
    char file_path[64];
    char sync_replid[REPL_ID_LEN + 1];
    long long sync_offset;
    long long transfer_start_ms;
    long long last_io_ms;
    /* the primary's stream */
    struct client *master;
    long long down_since_ms;
    bool have_history; /* repl.replid and the buffer's end can be offered to PSYNC */
    int resume_db;
    long long last_ack_ms;
    long long fsynced_offset;
} uplink = {.file_fd = -1, .resume_db = 0};

bool replica_is_replica(void)
{
    return uplink.state != LINK_NONE;
}

bool replica_link_up(void)
{
    return uplink.state == LINK_CONNECTED && uplink.master;
}

/* ---- tearing down ---- */

static void transfer_discard(void)
{
    str_free(uplink.payload);
    uplink.payload = NULL;
    if (uplink.file_fd >= 0) {
        unlink(uplink.file_path);
        file_drop_fd(uplink.file_fd); /* the last close frees the blocks, in the background */
    }
    uplink.file_fd = -1;
}

/* Closes the connection that is not (yet) a client; back to LINK_CONNECT. */
static void link_drop(const char *why)
{
    if (why) log_warning("Replication link with %s:%d: %s", uplink.host, uplink.port, why);
    if (uplink.conn) net_conn_close(uplink.conn);
    uplink.conn = NULL;
    uplink.in_len = 0;
    transfer_discard();
    if (!uplink.down_since_ms) uplink.down_since_ms = event_now_ms();
    uplink.state = LINK_CONNECT;
}

/* ---- sending during the handshake ---- */

/* Writes one command; the socket is connected and the command small, so a
 * short write means the link is unusable. */
static bool send_command(int argc, const char *const *argv)
{
    str cmd = encode_command(str_empty(128), argc, argv, NULL);
    ssize_t n;
    do {
        n = net_conn_write(uplink.conn, cmd, str_len(cmd));
    } while (n < 0 && errno == EINTR);
    bool ok = n == (ssize_t)str_len(cmd);
    str_free(cmd);
    return ok;
}

static bool send_step(enum handshake_step step)
{
    uplink.step = step;
    char num[24];
    switch (step) {
    case STEP_PING: {
        const char *a[] = {"PING"};
        return send_command(1, a);
    }
    case STEP_AUTH:
        if (cfg.masteruser) return send_command(3, (const char *[]){"AUTH", cfg.masteruser, cfg.masterauth});
        return send_command(2, (const char *[]){"AUTH", cfg.masterauth});
    case STEP_PORT: {
        snprintf(num, sizeof(num), "%d", cfg.replica_announce_port ? cfg.replica_announce_port : cfg.port);
        const char *a[] = {"REPLCONF", "listening-port", num};
        return send_command(3, a);
    }
    case STEP_IP: {
        const char *a[] = {"REPLCONF", "ip-address", cfg.replica_announce_ip};
        return send_command(3, a);
    }
    case STEP_CAPA: {
        /* capa runnel: Runnel's own snapshot format (a Redis primary ignores it) */
        const char *a[] = {"REPLCONF", "capa", "eof", "capa", "psync2", "capa", "runnel"};
        return send_command(7, a);
    }
    case STEP_TERM: {
        snprintf(num, sizeof(num), "%lld", repl.term);
        const char *a[] = {"REPLCONF", "term", num};
        return send_command(3, a);
    }
    case STEP_PSYNC: {
        const char *id = uplink.have_history ? repl.replid : "?";
        if (uplink.have_history) snprintf(num, sizeof(num), "%lld", repl_buffer_end() + 1);
        else snprintf(num, sizeof(num), "-1");
        const char *a[] = {"PSYNC", id, num, "FAILOVER"};
        return send_command(failover_target_requested() ? 4 : 3, a);
    }
    }
    return false;
}

/* The step after `step`, skipping what the configuration leaves out. */
static enum handshake_step next_step(enum handshake_step step)
{
    if (step == STEP_PING && cfg.masterauth) return STEP_AUTH;
    if (step <= STEP_AUTH) return STEP_PORT;
    if (step == STEP_PORT && cfg.replica_announce_ip) return STEP_IP;
    if (step <= STEP_IP) return STEP_CAPA;
    if (step == STEP_CAPA && repl.term > 0) return STEP_TERM; /* in a cluster */
    return STEP_PSYNC;
}

/* ---- becoming connected ---- */

void replica_send_ack(void);

static void client_reads_stream(struct client *c)
{
    c->flags |= CLIENT_MASTER | CLIENT_REPLY_OFF | CLIENT_AUTHENTICATED;
    c->replication = &uplink;
    client_select_db(c, uplink.resume_db);
}

/* The handshake's socket becomes the primary's client; bytes already read
 * past the reply are the start of the stream. */
static void link_become_client(const char *extra, size_t len)
{
    struct net_conn *conn = uplink.conn;
    net_conn_set_read_handler(conn, NULL);
    uplink.conn = NULL;
    struct client *c = client_create(conn);
    if (!c) {
        net_conn_close(conn);
        link_drop("can't create the primary's client");
        return;
    }
    client_reads_stream(c);
    uplink.master = c;
    uplink.state = LINK_CONNECTED;
    uplink.down_since_ms = 0;
    uplink.have_history = true;
    uplink.last_io_ms = event_now_ms();
    replica_send_ack(); /* the primary starts the stream when it hears we are ready */
    if (len > 0) client_feed_input(c, extra, len);
}

static void on_continue(const char *line)
{
    const char *id = line + 9; /* "+CONTINUE" [" " id] */
    while (*id == ' ') id++;
    if (strlen(id) == REPL_ID_LEN && strcmp(id, repl.replid) != 0) {
        /* the primary was promoted: our history continues under its new id */
        memcpy(repl.replid2, repl.replid, sizeof(repl.replid2));
        repl.second_pos = repl_buffer_end();
        memcpy(repl.replid, id, REPL_ID_LEN + 1);
        primary_disconnect_replicas(); /* they learn the new id by reconnecting */
    }
    log_notice("Successful partial resynchronization with primary %s:%d.", uplink.host, uplink.port);
}

static bool parse_fullresync(const char *line)
{
    char id[REPL_ID_LEN + 8];
    long long offset;
    if (sscanf(line, "+FULLRESYNC %47s %lld", id, &offset) != 2 || strlen(id) != REPL_ID_LEN) return false;
    memcpy(uplink.sync_replid, id, REPL_ID_LEN + 1);
    uplink.sync_offset = offset;
    return true;
}

/* ---- the snapshot ---- */

static void transfer_begin(void)
{
    uplink.state = LINK_TRANSFER;
    uplink.size = -2; /* header not yet read */
    uplink.got = 0;
    uplink.tail_len = 0;
    uplink.transfer_start_ms = event_now_ms();
    if (cfg.repl_diskless_load) {
        uplink.payload = str_empty(1 << 20);
        return;
    }
    snprintf(uplink.file_path, sizeof(uplink.file_path), "temp-%d.%lld.rdb", (int)getpid(), event_now_ms());
    uplink.file_fd = open(uplink.file_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (uplink.file_fd < 0) link_drop("can't open a temporary file for the snapshot");
}

static bool transfer_store(const char *p, size_t n)
{
    if (n == 0) return true;
    if (uplink.payload) {
        uplink.payload = str_append(uplink.payload, p, n);
        return true;
    }
    while (n > 0) {
        ssize_t w = write(uplink.file_fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* Empties the databases and loads what was received. */
static bool transfer_load(void)
{
    for (int i = 0; i < server.db_count; i++) {
        watch_touch_db(&server.dbs[i], NULL);
        db_empty(&server.dbs[i]);
    }
    char err[512];
    struct snapshot_load_result res;
    int rc;
    if (uplink.payload) {
        rc = snapshot_load_memory(uplink.payload, str_len(uplink.payload), &res, err, sizeof(err));
    } else {
        fsync(uplink.file_fd);
        close(uplink.file_fd);
        uplink.file_fd = -1;
        if (rename(uplink.file_path, cfg.dbfilename) != 0) {
            snprintf(err, sizeof(err), "can't rename the snapshot: %s", strerror(errno));
            unlink(uplink.file_path);
            rc = -1;
        } else {
            rc = snapshot_load_file(cfg.dbfilename, 0, &res, err, sizeof(err));
        }
    }
    if (rc != 1) {
        log_warning("Failed loading the primary's snapshot: %s", err);
        return false;
    }
    log_notice("PRIMARY <-> REPLICA sync: loaded %lld keys in %lld ms", res.keys_loaded,
               event_now_ms() - uplink.transfer_start_ms);
    return true;
}

/* The snapshot is whole: load it, adopt the primary's history, and run
 * its stream. An AOF is started afresh (a rewrite of the loaded data). */
static void transfer_complete(const char *extra, size_t len)
{
    bool ok = transfer_load();
    transfer_discard();
    if (!ok) {
        link_drop("the snapshot could not be loaded");
        return;
    }
    memcpy(repl.replid, uplink.sync_replid, sizeof(repl.replid));
    repl_id_clear_second();
    repl_buffer_reset(uplink.sync_offset);
    uplink.resume_db = 0;
    primary_disconnect_replicas(); /* our own replicas must resynchronise */
    if (aof.on) {
        const char *err = NULL;
        aof_set_enabled(false, &err);
        if (aof_set_enabled(true, &err) != 0) log_warning("Can't restart the AOF after the sync: %s", err);
    }
    link_become_client(extra, len);
}

/* Takes snapshot bytes; with a mark, the last REPL_ID_LEN bytes seen are
 * held back until the next read shows they were not the mark. Returns how
 * many of the bytes belong to the snapshot (the rest is stream), or -1. */
static long long transfer_take(const char *p, size_t n)
{
    if (!uplink.framed_by_mark) {
        size_t want = (size_t)(uplink.size - uplink.got) < n ? (size_t)(uplink.size - uplink.got) : n;
        if (!transfer_store(p, want)) return -1;
        uplink.got += (long long)want;
        return (long long)want;
    }
    char joined[REPL_ID_LEN + TRANSFER_READ_CHUNK];
    memcpy(joined, uplink.tail, uplink.tail_len);
    memcpy(joined + uplink.tail_len, p, n);
    size_t total = uplink.tail_len + n;
    uplink.got += (long long)n;
    bool ends = total >= REPL_ID_LEN && memcmp(joined + total - REPL_ID_LEN, uplink.mark, REPL_ID_LEN) == 0;
    size_t keep = ends ? REPL_ID_LEN : (total < REPL_ID_LEN ? total : REPL_ID_LEN);
    if (!transfer_store(joined, total - keep)) return -1;
    memcpy(uplink.tail, joined + total - keep, keep);
    uplink.tail_len = ends ? 0 : keep;
    if (ends) uplink.size = uplink.got; /* done */
    return (long long)n;
}

static bool transfer_done(void)
{
    return uplink.framed_by_mark ? uplink.size >= 0 : uplink.got == uplink.size;
}

/* "$EOF:<mark>" or "$<length>"; empty lines before it are the primary's
 * keep-alives while it prepares the snapshot. */
static bool transfer_header(const char *line)
{
    if (line[0] != '$') return false;
    if (strncmp(line, "$EOF:", 5) == 0 && strlen(line) == 5 + REPL_ID_LEN) {
        uplink.framed_by_mark = true;
        memcpy(uplink.mark, line + 5, REPL_ID_LEN);
        uplink.size = -1;
        return true;
    }
    uplink.framed_by_mark = false;
    return parse_ll(line + 1, strlen(line + 1), &uplink.size) && uplink.size >= 0;
}

/* ---- reading from the primary before it is a client ---- */

static void handshake_reply(const char *line)
{
    bool ok = line[0] == '+';
    switch (uplink.step) {
    case STEP_PING:
        /* a primary that wants AUTH first still proves it is there */
        if (!ok && strncmp(line, "-NOAUTH", 7) && strncmp(line, "-NOPERM", 7) &&
            strncmp(line, "-ERR operation not permitted", 28)) {
            log_warning("Error reply to PING from primary: '%s'", line);
            link_drop(NULL);
            return;
        }
        break;
    case STEP_AUTH:
        if (!ok) {
            log_warning("Unable to AUTH to PRIMARY: %s", line);
            link_drop(NULL);
            return;
        }
        break;
    case STEP_PORT:
    case STEP_IP:
    case STEP_CAPA:
        if (!ok) log_notice("(Non critical) Primary does not understand REPLCONF: %s", line);
        break;
    case STEP_TERM:
        /* a primary that a newer one has replaced must not be followed */
        if (!ok && strstr(line, "Stale primary")) {
            log_warning("Not replicating a stale primary: %s", line + 1);
            link_drop(NULL);
            return;
        }
        break;
    case STEP_PSYNC:
        if (strncmp(line, "+FULLRESYNC", 11) == 0 && parse_fullresync(line)) {
            log_notice("Full resync from primary: %s:%lld", uplink.sync_replid, uplink.sync_offset);
            transfer_begin();
            return;
        }
        if (strncmp(line, "+CONTINUE", 9) == 0) {
            on_continue(line);
            uplink.state = LINK_CONNECTED; /* the caller hands the rest to the client */
            return;
        }
        log_warning("Unexpected reply to PSYNC from primary: %s", line);
        link_drop(NULL);
        return;
    }
    if (!send_step(next_step(uplink.step))) link_drop("write error during the handshake");
}

static void handle_line(const char *line)
{
    if (line[0] == '\0') return; /* a keep-alive newline */
    if (uplink.state == LINK_HANDSHAKE) {
        handshake_reply(line);
        return;
    }
    if (!transfer_header(line)) {
        log_warning("Bad protocol from PRIMARY, the first byte is not '$' (we received '%.64s')", line);
        link_drop(NULL);
    }
}

/* Splits what was read into reply lines, snapshot bytes and, once the link
 * is up, the stream (handed to the primary's client). */
static void process_bytes(const char *p, size_t n)
{
    while (n > 0 && (uplink.state == LINK_HANDSHAKE || uplink.state == LINK_TRANSFER)) {
        if (uplink.state == LINK_TRANSFER && uplink.size != -2) {
            long long used = transfer_take(p, n);
            if (used < 0) {
                link_drop("can't store the snapshot");
                return;
            }
            p += used;
            n -= (size_t)used;
            if (transfer_done()) transfer_complete(p, n);
            return;
        }
        const char *nl = memchr(p, '\n', n);
        size_t take = nl ? (size_t)(nl - p) + 1 : n;
        if (uplink.in_len + take >= sizeof(uplink.in)) {
            link_drop("reply line too long");
            return;
        }
        memcpy(uplink.in + uplink.in_len, p, take);
        uplink.in_len += take;
        p += take;
        n -= take;
        if (!nl) return;
        uplink.in[--uplink.in_len] = '\0';
        if (uplink.in_len > 0 && uplink.in[uplink.in_len - 1] == '\r') uplink.in[--uplink.in_len] = '\0';
        uplink.in_len = 0;
        handle_line(uplink.in);
        if (uplink.state == LINK_CONNECTED && !uplink.master) {
            link_become_client(p, n);
            return;
        }
    }
}

static void on_link_readable(struct net_conn *conn);

/* The connection (and its TLS handshake, with tls-replication) is done. */
static void on_connected(struct net_conn *conn)
{
    if (conn->state != NET_CONN_OPEN) {
        log_warning("Error condition on socket for SYNC: %s", conn->error ? conn->error : "?");
        link_drop(NULL);
        return;
    }
    log_notice("PRIMARY <-> REPLICA sync started");
    net_conn_set_read_handler(conn, on_link_readable);
    uplink.state = LINK_HANDSHAKE;
    uplink.last_io_ms = event_now_ms();
    if (!send_step(STEP_PING)) link_drop("write error during the handshake");
}

static void on_link_readable(struct net_conn *conn)
{
    char buf[TRANSFER_READ_CHUNK];
    ssize_t n = net_conn_read(conn, buf, sizeof(buf));
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
    if (n <= 0) {
        link_drop(n == 0 ? "connection lost" : strerror(errno));
        return;
    }
    uplink.last_io_ms = event_now_ms();
    server.stats.net_input_bytes += n;
    process_bytes(buf, (size_t)n);
}

/* Starts a non-blocking connect (TLS with tls-replication). */
static void link_connect(void)
{
    uplink.last_io_ms = event_now_ms();
    struct net_conn *conn = net_conn_create(server.loop, -1, cfg.tls_replication);
    if (net_conn_connect(conn, uplink.host, uplink.port, on_connected) < 0) {
        log_warning("Unable to connect to PRIMARY: %s", conn->error ? conn->error : "?");
        net_conn_close(conn);
        return;
    }
    int one = 1;
    if (!cfg.repl_disable_tcp_nodelay) setsockopt(conn->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    uplink.conn = conn;
    uplink.state = LINK_CONNECTING;
    log_notice("Connecting to PRIMARY %s:%d", uplink.host, uplink.port);
}

/* ---- the link up ---- */

void replica_master_applied(struct client *c, const char *bytes, size_t len)
{
    (void)c;
    repl_buffer_append(bytes, len);
}

void replica_send_ack(void)
{
    struct client *c = uplink.master;
    if (!c) return;
    long long offset = repl_buffer_end();
    if (aof.on && oplog_durable_total >= oplog_logged_total()) uplink.fsynced_offset = offset;
    char off[24], fack[24];
    snprintf(off, sizeof(off), "%lld", offset);
    snprintf(fack, sizeof(fack), "%lld", aof.on ? uplink.fsynced_offset : 0LL);
    str cmd = encode_command(str_empty(96), 5, (const char *[]){"REPLCONF", "ACK", off, "FACK", fack}, NULL);
    client_send_raw(c, cmd, str_len(cmd));
    str_free(cmd);
    uplink.last_ack_ms = event_now_ms();
}

void replica_client_closing(struct client *c)
{
    if (c != uplink.master || c->replication != &uplink) return;
    log_warning("Connection with primary lost.");
    uplink.master = NULL;
    uplink.resume_db = c->db_index;
    uplink.have_history = true;
    uplink.state = LINK_CONNECT;
    uplink.down_since_ms = event_now_ms();
}

void replica_cron(void)
{
    long long now = event_now_ms();
    static long long last_attempt_ms;
    switch (uplink.state) {
    case LINK_NONE:
        return;
    case LINK_CONNECT:
        if (now - last_attempt_ms >= 1000) {
            last_attempt_ms = now;
            link_connect();
        }
        return;
    case LINK_CONNECTING:
    case LINK_HANDSHAKE:
    case LINK_TRANSFER:
        if (now - uplink.last_io_ms > (long long)cfg.repl_timeout * 1000) link_drop("timeout connecting to the primary");
        return;
    case LINK_CONNECTED:
        if (uplink.master && now - uplink.master->last_interaction_ms > (long long)cfg.repl_timeout * 1000) {
            log_warning("PRIMARY timeout: no data nor PING received...");
            client_close(uplink.master);
            return;
        }
        if (now - uplink.last_ack_ms >= 1000) replica_send_ack();
        return;
    }
}

/* ---- REPLICAOF ---- */

static void link_stop(void)
{
    if (uplink.master) {
        struct client *c = uplink.master;
        uplink.master = NULL;
        c->replication = NULL;
        client_close(c);
    }
    link_drop(NULL);
}

/* Keeps `replicaof` in the configuration in step, for CONFIG GET and
 * CONFIG REWRITE (Sentinel rewrites the file after repointing a server). */
static void config_record_primary(const char *host, int port)
{
    char *copy = host ? mem_strdup(host) : NULL;
    mem_free(cfg.replicaof_host);
    cfg.replicaof_host = copy;
    cfg.replicaof_port = host ? port : 0;
}

void replica_set_primary(const char *host, int port)
{
    char copy[sizeof(uplink.host)];
    if (host) { /* it may be cfg.replicaof_host, which the next line replaces */
        snprintf(copy, sizeof(copy), "%s", host);
        host = copy;
    }
    config_record_primary(host, port);
    if (!host) {
        if (uplink.state == LINK_NONE) return;
        link_stop();
        uplink.state = LINK_NONE;
        uplink.down_since_ms = 0;
        server_is_replica = false;
        db_lazy_delete = true;
        if (!repl_buffer_active()) repl_buffer_reset(0);
        repl_id_shift();
        primary_feed_start();
        primary_disconnect_replicas(); /* they continue with us under the new id */
        log_notice("PRIMARY MODE enabled (user request)");
        return;
    }
    if (uplink.state == LINK_NONE) {
        primary_feed_stop();
        uplink.have_history = repl_buffer_active(); /* our own history may continue under the new primary */
    }
    link_stop();
    snprintf(uplink.host, sizeof(uplink.host), "%s", host);
    uplink.port = port;
    server_is_replica = true;
    db_lazy_delete = false;
    primary_disconnect_replicas();
    uplink.down_since_ms = event_now_ms();
    uplink.state = LINK_CONNECT;
    log_notice("Connecting to PRIMARY %s:%d", host, port);
    link_connect();
}

bool replica_same_primary(const char *host, int port)
{
    return uplink.state != LINK_NONE && uplink.port == port && strcasecmp(uplink.host, host) == 0;
}

void replica_aux_loaded(const char *replid, long long offset)
{
    memcpy(repl.replid, replid, REPL_ID_LEN + 1);
    repl_id_clear_second();
    repl_buffer_reset(offset);
    uplink.have_history = true;
}

/* ---- INFO and ROLE ---- */

static const char *role_state(void)
{
    switch (uplink.state) {
    case LINK_CONNECT: return "connect";
    case LINK_CONNECTING: return "connecting";
    case LINK_HANDSHAKE: return "handshake";
    case LINK_TRANSFER: return "sync";
    default: return "connected";
    }
}

void replica_role_reply(struct outbuf *o)
{
    reply_array(o, 5);
    reply_bulk_cstr(o, "slave");
    reply_bulk_cstr(o, uplink.host);
    reply_int(o, uplink.port);
    reply_bulk_cstr(o, role_state());
    reply_int(o, uplink.master ? repl_buffer_end() : -1);
}

str replica_info(str s)
{
    long long now = event_now_ms();
    bool up = replica_link_up();
    long long last_io = uplink.master ? (now - uplink.master->last_interaction_ms) / 1000 : (now - uplink.last_io_ms) / 1000;
    s = str_append_printf(s,
                          "master_host:%s\r\nmaster_port:%d\r\nmaster_link_status:%s\r\n"
                          "master_last_io_seconds_ago:%lld\r\nmaster_sync_in_progress:%d\r\n"
                          "slave_read_repl_offset:%lld\r\nslave_repl_offset:%lld\r\n",
                          uplink.host, uplink.port, up ? "up" : "down", up ? last_io : -1LL,
                          uplink.state == LINK_TRANSFER ? 1 : 0, repl_buffer_end(), repl_buffer_end());
    if (uplink.state == LINK_TRANSFER) {
        long long total = uplink.size > 0 ? uplink.size : -1;
        s = str_append_printf(s,
                              "master_sync_total_bytes:%lld\r\nmaster_sync_read_bytes:%lld\r\n"
                              "master_sync_left_bytes:%lld\r\nmaster_sync_perc:%.2f\r\n"
                              "master_sync_last_io_seconds_ago:%lld\r\n",
                              total, uplink.got, total > 0 ? total - uplink.got : -1LL,
                              total > 0 ? (double)uplink.got * 100 / (double)total : 0.0, (now - uplink.last_io_ms) / 1000);
    }
    if (!up) s = str_append_printf(s, "master_link_down_since_seconds:%lld\r\n",
                                   uplink.down_since_ms ? (now - uplink.down_since_ms) / 1000 : -1LL);
    return str_append_printf(s, "slave_priority:%d\r\nslave_read_only:%d\r\nreplica_announced:%d\r\n",
                             cfg.replica_priority, cfg.replica_read_only, cfg.replica_announced);
}
