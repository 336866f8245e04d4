/* slot_jobs: the log of atomic slot migrations on this node, exports and
 * imports alike, and its CLUSTER GETSLOTMIGRATIONS reply. Active jobs are
 * always kept; of the finished ones the newest SLOT_JOB_LOG_MAX stay. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cluster/cluster_state.h"
#include "protocol/reply.h"
#include "util/mem.h"

#define SLOT_JOB_LOG_MAX 32

static struct slot_job *jobs; /* newest first */

static const char *state_names[] = {
    [SLOT_JOB_CONNECTING] = "connecting", [SLOT_JOB_SNAPSHOT] = "snapshot",   [SLOT_JOB_HANDOFF] = "handoff",
    [SLOT_JOB_COMMITTING] = "committing", [SLOT_JOB_CLEANUP] = "cleanup",     [SLOT_JOB_IMPORTING] = "importing",
    [SLOT_JOB_LINK_LOST] = "link-lost",   [SLOT_JOB_SUCCESS] = "success",     [SLOT_JOB_FAILED] = "failed",
    [SLOT_JOB_CANCELLED] = "cancelled",
};

bool slot_job_active(const struct slot_job *j)
{
    return j->state < SLOT_JOB_SUCCESS;
}

/* Drops the oldest finished jobs beyond the log's length. */
static void trim_log(void)
{
    int finished = 0;
    for (struct slot_job **p = &jobs; *p;) {
        struct slot_job *j = *p;
        if (!slot_job_active(j) && ++finished > SLOT_JOB_LOG_MAX && !j->impl) {
            *p = j->next;
            mem_free(j);
            continue;
        }
        p = &j->next;
    }
}

struct slot_job *slot_job_new(bool export, const char *name)
{
    struct slot_job *j = mem_calloc(sizeof(*j));
    j->export = export;
    memcpy(j->name, name, CLUSTER_ID_LEN);
    j->create_time = j->update_time = j->ack_time = (long long)time(NULL);
    j->next = jobs;
    jobs = j;
    trim_log();
    return j;
}

void slot_job_set_state(struct slot_job *j, enum slot_job_state state, const char *message)
{
    j->state = state;
    j->update_time = (long long)time(NULL);
    snprintf(j->message, sizeof(j->message), "%s", message ? message : "");
    if (!slot_job_active(j)) trim_log();
}

struct slot_job *slot_jobs_all(void)
{
    return jobs;
}

str slot_job_ranges(const struct slot_job *j, str out)
{
    bool first = true;
    for (int s = 0; s < CLUSTER_SLOTS; s++) {
        if (!slot_job_has(j, s)) continue;
        int e = s;
        while (e + 1 < CLUSTER_SLOTS && slot_job_has(j, e + 1)) e++;
        out = str_append_printf(out, "%s%d-%d", first ? "" : " ", s, e);
        first = false;
        s = e;
    }
    return out;
}

static void reply_field(struct outbuf *out, const char *name, const char *value)
{
    reply_bulk_cstr(out, name);
    reply_bulk_cstr(out, value);
}

static void reply_one(struct outbuf *out, const struct slot_job *j)
{
    reply_map(out, 11);
    reply_field(out, "name", j->name);
    reply_field(out, "operation", j->export ? "EXPORT" : "IMPORT");
    str ranges = slot_job_ranges(j, str_empty(32));
    reply_field(out, "slot_ranges", ranges);
    str_free(ranges);
    reply_field(out, "target_node", j->target);
    reply_field(out, "source_node", j->source);
    reply_bulk_cstr(out, "create_time");
    reply_int(out, j->create_time);
    reply_bulk_cstr(out, "last_update_time");
    reply_int(out, j->update_time);
    reply_bulk_cstr(out, "last_ack_time");
    reply_int(out, j->ack_time);
    reply_field(out, "state", state_names[j->state]);
    reply_field(out, "message", j->message);
    reply_bulk_cstr(out, "cow_size");
    reply_int(out, 0); /* no fork: the snapshot is taken by the loop itself */
}

void slot_jobs_reply(struct outbuf *out)
{
    long long n = 0;
    for (struct slot_job *j = jobs; j; j = j->next) n++;
    reply_array(out, n);
    for (struct slot_job *j = jobs; j; j = j->next) reply_one(out, j);
}
