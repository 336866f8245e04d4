/* primary: this server's replicas — the handshake options they announce
 * (REPLCONF), PSYNC's choice between continuing from the backlog and a full
 * synchronisation, feeding the stream from the operation log, their ACKs,
 * and the limits on how far one may fall behind. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "db/oplog.h"
#include "persistence/aof.h"
#include "replication/repl_buffer.h"
#include "replication/repl_state.h"
#include "server/config.h"
#include "server/connection.h"
#include "net/event_loop.h"
#include "server/server.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/numbers.h"

struct replica {
    struct client *c;
    bool is_replica; /* PSYNC/SYNC accepted (before: only REPLCONF options) */
    enum replica_state state;
    struct repl_cursor cursor;
    long long ack_offset;
    long long aof_offset;
    long long ack_ms;
    int listening_port;
    char announced_ip[64];
    bool plain_sync; /* SYNC, not PSYNC: the snapshot comes without +FULLRESYNC */
    bool runnel;     /* announced "capa runnel": takes Runnel's snapshots (others get an RDB file) */
    struct replica *next;
};

static struct replica *replicas;
static bool feeding;

/* ---- the stream from the operation log ---- */

/* ---- what a redis-server replica cannot apply ---- */

/* Write commands Runnel has that Redis 7.0 does not (Redis 7.4's and 8's
 * hash field expiry and stream additions, Runnel's own), and the options of
 * XADD and XTRIM (Redis 8.2's reference policies, 8.6's idempotent adds)
 * that it refuses as syntax. */
static bool redis_unknown_command(const char *name, size_t len)
{
    static const char *const unknown[] = {"xnack",   "xdelex",     "xackdel",  "xcfgset",   "xidmprecord",
                                          "hexpire", "hpexpire",   "hexpireat", "hpexpireat", "hpersist",
                                          "hgetex",  "hsetex",     "hgetdel",  "lmovem",    "blmovem"};
    for (size_t i = 0; i < sizeof(unknown) / sizeof(*unknown); i++)
        if (len == strlen(unknown[i]) && !strncasecmp(name, unknown[i], len)) return true;
    return false;
}

static bool word_in(const char *arg, size_t alen, const char *const *words, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (alen == strlen(words[i]) && !strncasecmp(arg, words[i], alen)) return true;
    return false;
}

/* XGROUP's dead-letter settings (SETDLQ, CREATE ... MAXDELIVERIES) are
 * Runnel's own, so any XGROUP carrying one of these words is held back
 * (a consumer or group named so only costs a full sync). */
static bool redis_unknown_option(const char *cmd, size_t clen, const char *arg, size_t alen)
{
    bool stream_cmd = (clen == 4 && !strncasecmp(cmd, "xadd", 4)) || (clen == 5 && !strncasecmp(cmd, "xtrim", 5));
    static const char *const options[] = {"keepref", "delref", "acked", "idmp", "idmpauto", "delayat"};
    static const char *const xgroup[] = {"setdlq", "maxdeliveries", "deadletter", "setbackoff"};
    if (stream_cmd) return word_in(arg, alen, options, sizeof(options) / sizeof(*options));
    if (clen == 6 && !strncasecmp(cmd, "xgroup", 6)) return word_in(arg, alen, xgroup, sizeof(xgroup) / sizeof(*xgroup));
    return false;
}

/* The first command of a logged batch that a redis-server could not apply
 * (its name into `name`), or false. The batch is well-formed RESP
 * multibulk, as the log writes it. */
static bool batch_redis_unknown(const char *p, size_t len, char *name, size_t size)
{
    const char *end = p + len, *nl;
    while (p < end && *p == '*' && (nl = memchr(p, '\n', (size_t)(end - p)))) {
        long argc = strtol(p + 1, NULL, 10);
        p = nl + 1;
        const char *cmd = NULL;
        size_t clen = 0;
        for (long i = 0; i < argc; i++) {
            if (p >= end || !(nl = memchr(p, '\n', (size_t)(end - p)))) return false;
            long alen = strtol(p + 1, NULL, 10);
            p = nl + 1;
            if (alen < 0 || alen > end - p) return false;
            if (i == 0) {
                cmd = p;
                clen = (size_t)alen;
            }
            if ((i == 0 && redis_unknown_command(p, (size_t)alen)) || redis_unknown_option(cmd, clen, p, (size_t)alen)) {
                snprintf(name, size, "%.*s", (int)(clen > 32 ? 32 : clen), cmd);
                return true;
            }
            p += alen + 2;
        }
    }
    return false;
}

/* Once a replica that is not Runnel has attached, every batch is checked:
 * the stream up to the end of the last batch it could not apply can't be
 * sent to one (its PSYNC falls back to a full sync). */
static bool redis_replica_seen;
static long long redis_unsafe_upto = -1;

/* A redis-server replica would refuse such a command and silently drift:
 * its link is dropped instead (logged), and it comes back through a full
 * sync whose RDB holds the command's effect. */
static void drop_redis_replicas_for(const char *bytes, size_t len)
{
    char name[40];
    if (!redis_replica_seen || !batch_redis_unknown(bytes, len, name, sizeof(name))) return;
    redis_unsafe_upto = repl_buffer_end() + (long long)len;
    for (struct replica *r = replicas; r; r = r->next) {
        if (!r->is_replica || r->runnel) continue;
        log_warning("Replica %s:%d is not Runnel and can't apply %s: dropping its link (it will resynchronize fully)",
                    r->announced_ip[0] ? r->announced_ip : "?", r->listening_port, name);
        client_close_async(r->c);
    }
}

static void tap_batch(const char *bytes, size_t len)
{
    drop_redis_replicas_for(bytes, len);
    repl_buffer_append(bytes, len);
}

/* The backlog starts at the current offset; from then on the operation
 * log's position maps to the stream's by a constant. */
void primary_feed_start(void)
{
    /* what is logged but not yet drained was logged before this server
     * became a primary (a replica's commands from its own primary, whose
     * bytes the buffer already has): it goes to the AOF only */
    aof_before_sleep();
    if (!repl_buffer_active()) repl_buffer_reset(0);
    repl.stream_base = repl_buffer_end() - (long long)oplog_stream_total();
    oplog_set_tap(tap_batch);
    oplog_consumer_set(OPLOG_REPL, true);
    oplog_reset_selected_db(); /* the next write names its database */
    feeding = true;
}

void primary_feed_stop(void)
{
    if (!feeding) return;
    aof_before_sleep(); /* what this primary logged goes out to the AOF and the buffer first */
    oplog_consumer_set(OPLOG_REPL, false);
    oplog_set_tap(NULL);
    feeding = false;
}

/* ---- replicas ---- */

struct replica *primary_replica_of(struct client *c, bool create)
{
    if (c->replication || !create) return c->replication;
    struct replica *r = mem_calloc(sizeof(*r));
    r->c = c;
    r->ack_ms = event_now_ms();
    r->next = replicas;
    replicas = r;
    c->replication = r;
    return r;
}

struct client *primary_replica_client(struct replica *r)
{
    return r->c;
}

enum replica_state primary_replica_state(struct replica *r)
{
    return r->state;
}

struct replica *primary_replica_next(struct replica *r)
{
    for (r = r ? r->next : replicas; r; r = r->next)
        if (r->is_replica) return r;
    return NULL;
}

bool primary_replica_wants_fullresync_line(struct replica *r)
{
    return !r->plain_sync;
}

bool primary_replica_wants_rdb(struct replica *r)
{
    return !r->runnel;
}

void primary_replica_start_snapshot(struct replica *r, long long pos)
{
    r->state = REPLICA_SEND_SNAPSHOT;
    r->cursor.pos = pos;
    r->cursor.block = NULL;
}

void primary_replica_snapshot_sent(struct replica *r)
{
    r->state = REPLICA_WAIT_ACK;
}

void primary_replica_set_online(struct replica *r)
{
    r->state = REPLICA_ONLINE;
    repl_cursor_seek(&r->cursor, r->cursor.pos);
    r->ack_ms = event_now_ms();
    client_mark_pending_write(r->c);
}

void primary_replconf_option(struct client *c, const char *name, const char *value)
{
    struct replica *r = primary_replica_of(c, true);
    long long port;
    if (!strcasecmp(name, "listening-port") && parse_ll(value, strlen(value), &port) && port >= 0 && port <= 65535)
        r->listening_port = (int)port;
    if (!strcasecmp(name, "ip-address")) snprintf(r->announced_ip, sizeof(r->announced_ip), "%s", value);
    if (!strcasecmp(name, "capa") && !strcasecmp(value, "runnel")) r->runnel = true;
}

void primary_ack(struct client *c, long long offset, long long aof_offset)
{
    struct replica *r = c->replication;
    if (!r || !r->is_replica) return;
    if (r->state == REPLICA_WAIT_ACK) primary_replica_set_online(r);
    if (offset > r->ack_offset) r->ack_offset = offset;
    if (aof_offset > r->aof_offset) r->aof_offset = aof_offset;
    r->ack_ms = event_now_ms();
    if (wait_any()) wait_check();
}

/* From then on the client is a replica: it gets the stream, not replies. */
static void become_replica(struct client *c, struct replica *r)
{
    r->is_replica = true;
    if (!r->runnel) redis_replica_seen = true;
    c->flags |= CLIENT_REPLICA | CLIENT_REPLY_OFF;
    if (!feeding && !replica_is_replica()) primary_feed_start();
}

static bool psync_can_continue(const char *replid, long long pos)
{
    if (!replid || !repl_buffer_active()) return false;
    bool same = strcasecmp(replid, repl.replid) == 0;
    bool previous = repl.second_pos >= 0 && strcasecmp(replid, repl.replid2) == 0 && pos <= repl.second_pos;
    return (same || previous) && repl_buffer_covers(pos);
}

/* A replica asking to continue the previous history past the point where
 * this primary took over holds writes it never saw (a fenced or cut-off
 * former primary); the full resync about to start drops them. */
static void note_divergence(struct client *c, const char *replid, long long pos)
{
    if (!replid || repl.second_pos < 0 || strcasecmp(replid, repl.replid2) != 0 || pos <= repl.second_pos) return;
    long long lost = pos - repl.second_pos;
    repl.sync_diverged++;
    repl.sync_diverged_bytes += lost;
    log_warning("Replica %s has %lld bytes of history after offset %lld that this primary never had (written "
                "on the previous primary after the switch); the full resync discards them",
                c->addr, lost, repl.second_pos + 1);
}

void primary_psync(struct client *c, const char *replid, long long psync_offset)
{
    struct replica *r = primary_replica_of(c, true);
    if (r->is_replica) return; /* already replicating: ignored, as Redis does */
    long long pos = psync_offset - 1;
    bool redis_unsafe = !r->runnel && pos < redis_unsafe_upto;
    if (!redis_unsafe && psync_can_continue(replid, pos)) {
        char line[64];
        snprintf(line, sizeof(line), "+CONTINUE %s\r\n", repl.replid);
        become_replica(c, r);
        client_send_raw(c, line, strlen(line));
        r->cursor.pos = pos;
        primary_replica_set_online(r);
        repl.sync_partial_ok++;
        log_notice("Partial resynchronization request from %s accepted. Sending %lld bytes of backlog starting "
                   "from offset %lld.",
                   c->addr, repl_buffer_end() - pos, psync_offset);
        return;
    }
    if (replid && strcmp(replid, "?") != 0) repl.sync_partial_err++;
    note_divergence(c, replid, pos);
    r->plain_sync = replid == NULL;
    log_notice("Replica %s asks for synchronization; full resync", c->addr);
    become_replica(c, r);
    r->state = REPLICA_WAIT_SNAPSHOT;
    repl.sync_full++;
    full_sync_maybe_start();
}

static void replica_free(struct replica *r)
{
    struct replica **p = &replicas;
    while (*p && *p != r) p = &(*p)->next;
    if (*p) *p = r->next;
    mem_free(r);
}

void primary_client_closing(struct client *c)
{
    struct replica *r = c->replication;
    if (!r || (c->flags & CLIENT_MASTER)) return;
    if (r->is_replica) log_notice("Connection with replica %s lost.", c->addr);
    c->replication = NULL;
    replica_free(r);
}

void primary_disconnect_replicas(void)
{
    for (struct replica *r = replicas; r; r = r->next)
        if (r->is_replica) client_close_async(r->c);
}

int primary_replica_count(void)
{
    int n = 0;
    for (struct replica *r = replicas; r; r = r->next) n += r->is_replica;
    return n;
}

int primary_good_replicas(void)
{
    long long now = event_now_ms();
    int n = 0;
    for (struct replica *r = replicas; r; r = r->next)
        if (r->is_replica && r->state == REPLICA_ONLINE && now - r->ack_ms <= (long long)cfg.min_replicas_max_lag * 1000)
            n++;
    return n;
}

int primary_replicas_acked(long long pos, bool aof)
{
    int n = 0;
    for (struct replica *r = replicas; r; r = r->next)
        if (r->is_replica && r->state == REPLICA_ONLINE && (aof ? r->aof_offset : r->ack_offset) >= pos) n++;
    return n;
}

size_t primary_stream_pending(struct client *c)
{
    struct replica *r = c->replication;
    if (!r || r->state != REPLICA_ONLINE) return 0;
    return (size_t)repl_cursor_pending(&r->cursor);
}

long primary_stream_write(struct client *c)
{
    struct replica *r = c->replication;
    if (!r || r->state != REPLICA_ONLINE) return 0;
    return (long)repl_cursor_write(&r->cursor, c->conn);
}

static void replica_ip(const struct replica *r, char *out, size_t size)
{
    if (r->announced_ip[0]) {
        snprintf(out, size, "%s", r->announced_ip);
        return;
    }
    snprintf(out, size, "%s", r->c->addr);
    char *colon = strrchr(out, ':');
    if (colon) *colon = '\0';
}

static const char *state_name(const struct replica *r)
{
    switch (r->state) {
    case REPLICA_WAIT_SNAPSHOT: return "wait_bgsave";
    case REPLICA_SEND_SNAPSHOT:
    case REPLICA_WAIT_ACK: return "send_bulk";
    default: return "online";
    }
}

/* slaveN:ip=...,port=...,state=...,offset=...,lag=... as Redis prints them. */
str primary_info_replicas(str s)
{
    long long now = event_now_ms();
    int i = 0;
    for (struct replica *r = replicas; r; r = r->next) {
        if (!r->is_replica) continue;
        char ip[64];
        replica_ip(r, ip, sizeof(ip));
        s = str_append_printf(s, "slave%d:ip=%s,port=%d,state=%s,offset=%lld,lag=%lld\r\n", i++, ip,
                              r->listening_port, state_name(r), r->ack_offset, (now - r->ack_ms) / 1000);
    }
    return s;
}

long long primary_replica_address(struct replica *r, char *host, size_t size, int *port)
{
    replica_ip(r, host, size);
    *port = r->listening_port;
    return r->ack_offset;
}

void primary_role_reply(struct outbuf *o)
{
    reply_array(o, 3);
    reply_bulk_cstr(o, "master");
    reply_int(o, repl_offset_now());
    reply_array(o, primary_replica_count());
    for (struct replica *r = replicas; r; r = r->next) {
        if (!r->is_replica) continue;
        char ip[64];
        replica_ip(r, ip, sizeof(ip));
        reply_array(o, 3);
        reply_bulk_cstr(o, ip);
        reply_bulk_ll(o, r->listening_port);
        reply_bulk_ll(o, r->ack_offset);
    }
}

/* Marks every online replica with stream to send, drops one that has
 * fallen further behind than the replica output limit allows, and frees
 * what neither the backlog nor any replica needs any more. */
void primary_before_flush(void)
{
    if (!feeding && !repl_buffer_active()) return;
    long long oldest = repl_buffer_end();
    long long hard = cfg.output_limit[OUTPUT_CLASS_REPLICA].hard;
    for (struct replica *r = replicas; r; r = r->next) {
        if (!r->is_replica || (r->c->flags & CLIENT_CLOSE_ASAP)) continue;
        long long behind = repl_buffer_end() - r->cursor.pos;
        if (r->state != REPLICA_ONLINE) {
            long long wait_pos = r->state == REPLICA_WAIT_SNAPSHOT ? repl_buffer_end() : r->cursor.pos;
            if (wait_pos < oldest) oldest = wait_pos;
            continue;
        }
        if (hard > 0 && behind > hard) {
            log_warning("Replica %s is %lld bytes behind, over the replica output limit: disconnecting it",
                        r->c->addr, behind);
            server.stats.client_output_buffer_limit_disconnections[OUTPUT_CLASS_REPLICA]++;
            client_close_async(r->c);
            continue;
        }
        if (behind > 0) client_mark_pending_write(r->c);
        if (r->cursor.pos < oldest) oldest = r->cursor.pos;
    }
    repl_buffer_trim(cfg.repl_backlog_size, oldest);
}

/* The primary pings its replicas every repl-ping-replica-period seconds
 * through the stream, so their link timeouts see it alive. */
void primary_cron(void)
{
    static long long last_ping_ms;
    long long now = event_now_ms();
    if (feeding && primary_replica_count() > 0 && now - last_ping_ms >= (long long)cfg.repl_ping_replica_period * 1000) {
        struct arg ping = {"PING", 4};
        oplog_append_repl_only(-1, 1, &ping);
        last_ping_ms = now;
    }
    /* a backlog nobody has used for repl-backlog-ttl seconds is freed */
    static long long alone_since_ms;
    if (primary_replica_count() > 0 || !feeding || replica_is_replica() || cfg.repl_backlog_ttl == 0) {
        alone_since_ms = 0;
    } else if (!alone_since_ms) {
        alone_since_ms = now;
    } else if (now - alone_since_ms > (long long)cfg.repl_backlog_ttl * 1000) {
        log_notice("Replication backlog freed after %d seconds without replicas.", cfg.repl_backlog_ttl);
        primary_feed_stop();
        repl_buffer_free();
        repl_id_generate(repl.replid);
        repl_id_clear_second();
        alone_since_ms = 0;
    }
    full_sync_maybe_start();
}
