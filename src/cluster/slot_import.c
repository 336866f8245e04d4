/* slot_import: atomic slot migration, the target's side, and the purge of
 * a job's keys that both sides use.
 *
 * The source's link announces the job with CLUSTER SYNCSLOTS ESTABLISH;
 * from then on it is a client whose commands are applied without replies
 * and without routing checks (they are the slots' keys and their writes,
 * in the source's order), and that reach this node's replicas and AOF as
 * any write does. ACK <n> is answered once everything before it is
 * applied; FINISH ends the job once the source has committed the new
 * owner; CANCEL drops what was received. A link that breaks without
 * either is given a few seconds to show up as ownership in the view (the
 * commit may be on its way); after that, what it brought is dropped. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cluster/cluster_state.h"
#include "db/db.h"
#include "db/oplog.h"
#include "protocol/reply.h"
#include "server/connection.h"
#include "net/event_loop.h"
#include "server/server.h"
#include "util/log.h"
#include "util/mem.h"

#define IMPORT_TICK_MS 100
#define IMPORT_LINK_GRACE_MS 5000
#define PURGE_BATCH 1000

struct import {
    uint64_t client_id;
    long long failed_base; /* the link's failed commands before the job */
    long long lost_ms;
    bool purging;
    struct event_timer *timer;
};

/* ---- purging a job's slots ---- */

struct purge_batch {
    str *keys;
    int count;
};

static void purge_collect(void *ctx, const char *key, size_t len)
{
    struct purge_batch *b = ctx;
    b->keys[b->count++] = str_new(key, len);
}

bool slot_purge_step(const struct slot_job *j, int budget)
{
    struct db *db = &server.dbs[0];
    struct purge_batch b = {mem_alloc(sizeof(str) * (size_t)budget), 0};
    for (int s = 0; s < CLUSTER_SLOTS && b.count < budget; s++)
        if (slot_job_has(j, s)) slot_index_keys(s, budget - b.count, purge_collect, &b);
    for (int i = 0; i < b.count; i++) {
        size_t len = str_len(b.keys[i]);
        if (db_delete(db, b.keys[i], len)) {
            db_touch_key(db, b.keys[i], len);
            oplog_append(0, 2, (struct arg[]){{"DEL", 3}, {b.keys[i], len}});
        }
        str_free(b.keys[i]);
    }
    mem_free(b.keys);
    return b.count < budget;
}

/* ---- the import job ---- */

static struct slot_job *import_of_client(uint64_t id)
{
    for (struct slot_job *j = slot_jobs_all(); j; j = j->next) {
        struct import *im = j->impl;
        if (!j->export && im && im->client_id == id && j->state == SLOT_JOB_IMPORTING) return j;
    }
    return NULL;
}

static bool owns_all(const struct slot_job *j)
{
    for (int s = 0; s < CLUSTER_SLOTS; s++)
        if (slot_job_has(j, s) && cl.view.owner[s] != cl.view.myself) return false;
    return true;
}

static void import_end(struct slot_job *j, enum slot_job_state state, const char *message)
{
    struct import *im = j->impl;
    if (im->timer) event_timer_cancel(server.loop, im->timer);
    mem_free(im);
    j->impl = NULL;
    slot_job_set_state(j, state, message);
}

static void import_tick(struct event_loop *loop, void *data)
{
    struct slot_job *j = data;
    struct import *im = j->impl;
    im->timer = NULL;
    long long now = event_now_ms();
    if (im->purging) {
        if (slot_purge_step(j, PURGE_BATCH)) {
            import_end(j, j->state == SLOT_JOB_LINK_LOST ? SLOT_JOB_FAILED : j->state, j->message);
            return;
        }
    } else if (j->state == SLOT_JOB_IMPORTING && !client_by_id(im->client_id)) {
        im->lost_ms = now;
        slot_job_set_state(j, SLOT_JOB_LINK_LOST, "the link from the source broke");
    } else if (j->state == SLOT_JOB_LINK_LOST) {
        if (owns_all(j)) {
            import_end(j, SLOT_JOB_SUCCESS, "");
            return;
        }
        if (now - im->lost_ms > IMPORT_LINK_GRACE_MS) {
            log_warning("Slot import %.8s: the source is gone and the slots did not come; dropping what it sent",
                        j->name);
            im->purging = true;
        }
    }
    im->timer = event_timer_at(loop, now + IMPORT_TICK_MS, import_tick, j);
}

/* "0-10 20-29" into the job's slots; false when malformed or one of them
 * is this node's or already being imported. */
static bool parse_ranges(const char *text, struct slot_job *j, const char **err)
{
    const char *p = text;
    while (*p) {
        char *end;
        long a = strtol(p, &end, 10), b;
        if (end == p || *end != '-') return (*err = "ERR Invalid slot ranges"), false;
        p = end + 1;
        b = strtol(p, &end, 10);
        if (end == p || a < 0 || b >= CLUSTER_SLOTS || a > b) return (*err = "ERR Invalid slot ranges"), false;
        for (long s = a; s <= b; s++) {
            if (cl.view.owner[s] == cl.view.myself) return (*err = "ERR I already own one of the slots"), false;
            j->slots[s >> 3] |= (uint8_t)(1u << (s & 7));
        }
        p = end;
        while (*p == ' ') p++;
    }
    for (struct slot_job *o = slot_jobs_all(); o; o = o->next) {
        if (o == j || o->export || (!slot_job_active(o) && !o->impl)) continue; /* a purge still runs */
        for (int k = 0; k < CLUSTER_SLOTS / 8; k++)
            if (o->slots[k] & j->slots[k]) return (*err = "ERR One of the slots is already being imported"), false;
    }
    return true;
}

static void syncslots_establish(struct request *req)
{
    const struct cluster_node *me = topology_myself(&cl.view);
    if (req->argc != 6 || req->argv[3].len != CLUSTER_ID_LEN || req->argv[4].len != CLUSTER_ID_LEN) {
        reply_error(req->out, "ERR Invalid CLUSTER SYNCSLOTS ESTABLISH arguments");
        return;
    }
    if (!me || !me->primary) {
        reply_error(req->out, "ERR Slots can only be imported by a primary");
        return;
    }
    struct slot_job *j = slot_job_new(false, req->argv[3].ptr);
    memcpy(j->source, req->argv[4].ptr, CLUSTER_ID_LEN);
    memcpy(j->target, cl.myid, CLUSTER_ID_LEN + 1);
    const char *err = NULL;
    if (!parse_ranges(req->argv[5].ptr, j, &err)) {
        slot_job_set_state(j, SLOT_JOB_FAILED, err + 4);
        reply_error(req->out, err);
        return;
    }
    slot_job_set_state(j, SLOT_JOB_IMPORTING, "");
    while (!slot_purge_step(j, PURGE_BATCH)) { /* leftovers of an earlier attempt */
    }
    struct client *c = req->client;
    struct import *im = mem_calloc(sizeof(*im));
    im->client_id = c->id;
    im->failed_base = c->commands_failed;
    j->impl = im;
    im->timer = event_timer_at(server.loop, event_now_ms() + IMPORT_TICK_MS, import_tick, j);
    c->flags |= CLIENT_SLOT_IMPORT | CLIENT_REPLY_OFF;
    client_send_raw(c, "+OK\r\n", 5);
    log_notice("Slot import %.8s from %.8s started", j->name, j->source);
}

void cluster_cmd_syncslots(struct request *req)
{
    struct client *c = req->client;
    struct slot_job *j = import_of_client(c->id);
    if (ARG_IS(req, 2, "ESTABLISH")) {
        if (j) reply_error(req->out, "ERR This link already imports slots");
        else syncslots_establish(req);
        return;
    }
    if (!j) {
        reply_error(req->out, "ERR This connection is not a slot migration link");
        return;
    }
    j->ack_time = (long long)time(NULL);
    if (ARG_IS(req, 2, "ACK") && req->argc == 4) {
        /* a refused RESTORE or write (out of memory...) would lose data at the commit */
        long long failed = c->commands_failed - ((struct import *)j->impl)->failed_base;
        char line[256];
        int n = failed ? snprintf(line, sizeof(line), "-ERR the target refused %lld of the migration's commands (%s)\r\n",
                                  failed, c->out.last_error)
                       : snprintf(line, sizeof(line), "+ACK %.20s\r\n", req->argv[3].ptr);
        client_send_raw(c, line, (size_t)n);
    } else if (ARG_IS(req, 2, "FINISH")) {
        log_notice("Slot import %.8s finished", j->name);
        import_end(j, SLOT_JOB_SUCCESS, "");
    } else if (ARG_IS(req, 2, "CANCEL")) {
        log_warning("Slot import %.8s cancelled by the source; dropping what it sent", j->name);
        slot_job_set_state(j, SLOT_JOB_CANCELLED, "cancelled by the source");
        ((struct import *)j->impl)->purging = true;
    } else {
        reply_error(req->out, "ERR Unknown CLUSTER SYNCSLOTS subcommand");
    }
}
