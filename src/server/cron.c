#include "server/cron.h"
#include "server/tracking.h"

#include <time.h>

#include "net/conn.h"
#include "net/event_loop.h"

#include "messaging/blocking.h"

#include "server/blocked.h"
#include "server/config.h"
#include "server/connection.h"
#include "server/server.h"
#include "server/dispatch.h"
#include "server/keyspace_stream.h"
#include "server/latency.h"
#include "server/stats.h"

#include "types/stream_freeze.h"

/* Stream blocks frozen between commands, at most so many before each sleep
 * and in each cron tick (a 4 KB block takes about 10 us). The sleep's
 * share keeps up with pipelined bulk appends, so the queue stays short; a
 * full share is only reached after an iteration that itself appended
 * thousands of entries. */
#define FREEZE_SLEEP_BUDGET 1024
#define FREEZE_CRON_BUDGET 1024

bool server_active_expire_enabled = true;
struct server_persistence_hooks server_persistence_hooks;
struct server_replication_hooks server_replication_hooks;
struct server_cluster_hooks server_cluster_hooks;
bool server_is_replica;

/* Active expiry may use about 25% of each cron tick, spread over the
 * databases round-robin. */
static void cron_active_expire(void)
{
    if (!server_active_expire_enabled || server_is_replica) return;
    static int next_db;
    long long budget_us = 1000000 / cfg.hz / 4;
    long long start = db_monotonic_us(), deadline = start + budget_us;
    db_now_ms = db_wall_ms();
    for (int i = 0; i < server.db_count; i++) {
        struct db *db = &server.dbs[(next_db + i) % server.db_count];
        db_active_expire(db, deadline, cfg.active_expire_effort);
        db_active_expire_items(db, deadline);
        if (db_monotonic_us() >= deadline) break;
    }
    next_db = (next_db + 1) % server.db_count;
    latency_add_sample_if_needed("expire-cycle", (db_monotonic_us() - start) / 1000);
}

static void cron_rehash(void)
{
    if (!cfg.activerehashing) return;
    for (int i = 0; i < server.db_count; i++) {
        struct db *db = &server.dbs[i];
        dict_shrink_if_sparse(db->keys);
        dict_shrink_if_sparse(db->expires);
        if (dict_rehash_ms(db->keys, 1)) return;
        if (dict_rehash_ms(db->expires, 1)) return;
    }
}

static void cron_tick(struct event_loop *loop, void *data)
{
    (void)data;
    object_clock = (uint32_t)time(NULL);
    server.cron_loops++;
    if (server.cron_loops % ((cfg.hz + 9) / 10) == 0) stats_sample();
    cron_active_expire();
    cron_rehash();
    stream_freeze_run(FREEZE_CRON_BUDGET, false);
    connections_cron();
    if (server_persistence_hooks.cron) server_persistence_hooks.cron();
    if (server_replication_hooks.cron) server_replication_hooks.cron();
    if (server.pause_until_ms && event_now_ms() >= server.pause_until_ms) {
        server.pause_until_ms = 0;
        server.resume_paused = true;
    }
    event_timer_at(loop, event_now_ms() + 1000 / cfg.hz, cron_tick, NULL);
}

void cron_start(void)
{
    object_clock = (uint32_t)time(NULL);
    server.stats.ops_sample_time_ms = event_now_ms();
    event_timer_at(server.loop, event_now_ms() + 1000 / cfg.hz, cron_tick, NULL);
}

void server_serve_while_busy(void)
{
    event_loop_poll_events(server.loop);
    connections_flush_pending();
}

void server_before_sleep(struct event_loop *loop)
{
    (void)loop;
    dispatch_refresh_clock();
    /* held commands run here, not inside the command or timer that ended
     * the pause: each from its own client's input, as Redis does */
    if (server.resume_paused) {
        server.resume_paused = false;
        dispatch_resume_paused();
    }
    blocked_resume_unblocked();
    /* events of the cron and of served blocked clients, which may serve
     * clients blocked on the events stream (which records nothing more) */
    while (keyspace_stream_flush()) blocking_serve_ready();
    /* input a TLS connection decrypted but its client has not read yet */
    net_conn_process_pending();
    /* no command runs between here and the sleep that holds stream entries */
    stream_freeze_run(FREEZE_SLEEP_BUDGET, false);
    /* the AOF drains the log, which hands it to replication on its way */
    tracking_before_sleep();
    if (server_persistence_hooks.before_flush) server_persistence_hooks.before_flush();
    if (server_replication_hooks.before_flush) server_replication_hooks.before_flush();
    connections_flush_pending();
    connections_reap();
}
