#include "replication/replication.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db/oplog.h"
#include "persistence/snapshot.h"
#include "replication/repl_buffer.h"
#include "replication/repl_state.h"
#include "server/config.h"
#include "server/info.h"
#include "server/server.h"
#include "util/numbers.h"

struct repl_state repl = {.second_pos = -1};

/* ---- ids and offsets ---- */

void repl_id_generate(char out[REPL_ID_LEN + 1])
{
    unsigned char raw[REPL_ID_LEN / 2];
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    ssize_t got = fd >= 0 ? read(fd, raw, sizeof(raw)) : -1;
    if (fd >= 0) close(fd);
    if (got != (ssize_t)sizeof(raw))
        for (size_t i = 0; i < sizeof(raw); i++) raw[i] = (unsigned char)rand();
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < sizeof(raw); i++) {
        out[2 * i] = hex[raw[i] >> 4];
        out[2 * i + 1] = hex[raw[i] & 15];
    }
    out[REPL_ID_LEN] = '\0';
}

void repl_id_clear_second(void)
{
    memset(repl.replid2, '0', REPL_ID_LEN);
    repl.replid2[REPL_ID_LEN] = '\0';
    repl.second_pos = -1;
}

void repl_id_shift(void)
{
    memcpy(repl.replid2, repl.replid, sizeof(repl.replid2));
    repl.second_pos = repl_buffer_end();
    repl_id_generate(repl.replid);
}

long long repl_offset_now(void)
{
    if (replica_is_replica() || !oplog_feeds_replication()) return repl_buffer_end();
    return (long long)oplog_stream_total() + repl.stream_base;
}

/* ---- hooks into the server ---- */

static const char *refusal(struct client *c, uint32_t flags)
{
    if (server_is_replica) {
        if ((flags & CMD_WRITE) && cfg.replica_read_only) return "READONLY You can't write against a read only replica.";
        if (!replica_link_up() && !cfg.replica_serve_stale_data && !(flags & CMD_STALE))
            return "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.";
        return NULL;
    }
    (void)c;
    if ((flags & CMD_WRITE) && cfg.min_replicas_to_write > 0 && primary_good_replicas() < cfg.min_replicas_to_write)
        return "NOREPLICAS Not enough good replicas to write.";
    return NULL;
}

static void before_flush(void)
{
    full_sync_before_flush();
    primary_before_flush();
    wait_before_flush();
}

static void cron(void)
{
    replica_cron();
    primary_cron();
    failover_cron();
}

static void client_closing(struct client *c)
{
    wait_client_closing(c);
    replica_client_closing(c);
    primary_client_closing(c);
}

static str info_section(str s)
{
    s = str_append_printf(s, "# Replication\r\nrole:%s\r\n", replica_is_replica() ? "slave" : "master");
    if (replica_is_replica()) s = replica_info(s);
    s = str_append_printf(s, "connected_slaves:%d\r\n", primary_replica_count());
    if (cfg.min_replicas_to_write > 0) s = str_append_printf(s, "min_slaves_good_slaves:%d\r\n", primary_good_replicas());
    s = primary_info_replicas(s);
    bool active = repl_buffer_active();
    return str_append_printf(s,
                             "master_failover_state:%s\r\nmaster_replid:%s\r\nmaster_replid2:%s\r\n"
                             "master_repl_offset:%lld\r\nsecond_repl_offset:%lld\r\nrepl_backlog_active:%d\r\n"
                             "repl_backlog_size:%lld\r\nrepl_backlog_first_byte_offset:%lld\r\n"
                             "repl_backlog_histlen:%lld\r\n",
                             failover_state_name(), repl.replid, repl.replid2, repl_offset_now(),
                             repl.second_pos >= 0 ? repl.second_pos + 1 : -1LL, active ? 1 : 0, cfg.repl_backlog_size,
                             active ? repl_buffer_start() + 1 : 0LL,
                             active ? repl_buffer_end() - repl_buffer_start() : 0LL);
}

void replication_set_term(long long term)
{
    repl.term = term;
}

long long replication_term(void)
{
    return repl.term;
}

static str info_stats(str s)
{
    return str_append_printf(s,
                             "sync_full:%lld\r\nsync_partial_ok:%lld\r\nsync_partial_err:%lld\r\n"
                             "sync_diverged:%lld\r\nsync_diverged_bytes:%lld\r\n",
                             repl.sync_full, repl.sync_partial_ok, repl.sync_partial_err, repl.sync_diverged,
                             repl.sync_diverged_bytes);
}

/* ---- the history a snapshot records ---- */

static struct {
    bool seen;
    char replid[REPL_ID_LEN + 1];
    long long offset;
} loaded_history;
static bool started;

static void aux_save(void (*emit)(void *ctx, const char *name, const char *value), void *ctx)
{
    if (!repl_buffer_active()) return;
    char offset[24];
    format_ll(offset, repl_offset_now());
    emit(ctx, "repl-id", repl.replid);
    emit(ctx, "repl-offset", offset);
}

static void aux_load(const char *name, size_t nlen, const char *value, size_t vlen)
{
    if (started) return;
    if (nlen == 7 && memcmp(name, "repl-id", 7) == 0 && vlen == REPL_ID_LEN) {
        memcpy(loaded_history.replid, value, REPL_ID_LEN);
        loaded_history.replid[REPL_ID_LEN] = '\0';
        loaded_history.seen = true;
    } else if (nlen == 11 && memcmp(name, "repl-offset", 11) == 0) {
        parse_ll(value, vlen, &loaded_history.offset);
    }
}

void replication_init(void)
{
    repl_id_generate(repl.replid);
    repl_id_clear_second();
    server_replication_hooks.before_flush = before_flush;
    server_replication_hooks.cron = cron;
    server_replication_hooks.refusal = refusal;
    server_replication_hooks.stream_pending = primary_stream_pending;
    server_replication_hooks.stream_write = primary_stream_write;
    server_replication_hooks.master_applied = replica_master_applied;
    server_replication_hooks.client_closing = client_closing;
    info_replication_extension = info_section;
    info_stats_extension = info_stats;
    snapshot_aux_save_hook = aux_save;
    snapshot_aux_load_hook = aux_load;
}

/* A snapshot (not an AOF, whose later files moved the data on) that
 * recorded an id and offset lets this server continue that history: as a
 * replica it asks its primary for what followed, as a primary its replicas
 * may continue from it. */
void replication_start(void)
{
    started = true;
    if (loaded_history.seen && !cfg.appendonly && loaded_history.offset >= 0)
        replica_aux_loaded(loaded_history.replid, loaded_history.offset);
    if (cfg.replicaof_host) replica_set_primary(cfg.replicaof_host, cfg.replicaof_port);
}

void replication_shutdown(void)
{
    if (full_sync_running()) full_sync_abort();
}

void replication_follow(const char *host, int port)
{
    replica_set_primary(host, port);
}

bool replication_following(const char *host, int port)
{
    return replica_same_primary(host, port);
}

bool replication_is_replica(void)
{
    return replica_is_replica();
}

long long replication_offset(void)
{
    return repl_offset_now();
}
