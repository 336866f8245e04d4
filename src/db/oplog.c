#include "db/oplog.h"

#include <string.h>

#include "db/db.h"
#include "util/mem.h"
#include "util/numbers.h"

bool oplog_enabled;
unsigned long long oplog_durable_total = ~0ULL;
const char *oplog_sink_error;
static unsigned long long logged_total; /* drained, without replica-only bytes */
static unsigned long long stream_drained; /* drained, everything */
static unsigned consumers;

static str pending;
/* Byte ranges of `pending` that only replicas receive. */
struct skip_range {
    size_t start, end;
};
static struct skip_range *skips;
static size_t skip_count, skip_cap, skip_bytes;
static void (*drain_tap)(const char *bytes, size_t len);
static void (*observer)(int db, int argc, const struct arg *argv);
static int selected_db = -1;
static int multi_depth;
static bool multi_opened;

static void append_bulk(const char *p, size_t len)
{
    char header[32];
    header[0] = '$';
    size_t n = 1 + format_ull(header + 1, len);
    header[n++] = '\r';
    header[n++] = '\n';
    pending = str_append(pending, header, n);
    pending = str_append(pending, p, len);
    pending = str_append(pending, "\r\n", 2);
}

static void append_header(int argc)
{
    char header[32];
    header[0] = '*';
    size_t n = 1 + format_ull(header + 1, (unsigned long long)argc);
    header[n++] = '\r';
    header[n++] = '\n';
    pending = str_append(pending, header, n);
}

/* Emits SELECT when the command runs in another database than the last
 * one logged, and opens a pending MULTI at the first command inside it. */
static void prepare_for(int db)
{
    if (!pending) pending = str_empty(4096);
    if (db >= 0 && db != selected_db) {
        char num[24];
        size_t n = format_ll(num, db);
        append_header(2);
        append_bulk("SELECT", 6);
        append_bulk(num, n);
        selected_db = db;
    }
    if (multi_depth > 0 && !multi_opened) {
        append_header(1);
        append_bulk("MULTI", 5);
        multi_opened = true;
    }
}

void oplog_consumer_set(enum oplog_consumer who, bool on)
{
    if (on) consumers |= who;
    else consumers &= ~(unsigned)who;
    oplog_enabled = consumers != 0;
}

bool oplog_feeds_replication(void)
{
    return (consumers & OPLOG_REPL) && oplog_enabled;
}

static void skip_add(size_t start, size_t end)
{
    if (skip_count > 0 && skips[skip_count - 1].end == start) {
        skips[skip_count - 1].end = end; /* adjacent: one range */
    } else {
        if (skip_count == skip_cap) {
            skip_cap = skip_cap ? skip_cap * 2 : 16;
            skips = mem_realloc(skips, skip_cap * sizeof(*skips));
        }
        skips[skip_count++] = (struct skip_range){start, end};
    }
    skip_bytes += end - start;
}

void oplog_append_repl_only(int db, int argc, const struct arg *argv)
{
    if (!oplog_feeds_replication()) return;
    prepare_for(db);
    size_t start = str_len(pending);
    append_header(argc);
    for (int i = 0; i < argc; i++) append_bulk(argv[i].ptr, argv[i].len);
    skip_add(start, str_len(pending));
}

/* Removes the replica-only ranges from `pending` in place. */
static void strip_repl_only(void)
{
    if (skip_count == 0) return;
    size_t out = skips[0].start, len = str_len(pending);
    for (size_t i = 0; i < skip_count; i++) {
        size_t next = i + 1 < skip_count ? skips[i + 1].start : len;
        size_t keep = next - skips[i].end;
        memmove(pending + out, pending + skips[i].end, keep);
        out += keep;
    }
    str_set_len(pending, out);
    skip_count = skip_bytes = 0;
}

/* Counts the batch as drained; false when it held nothing for the AOF. */
static bool account_drain(void)
{
    size_t len = str_len(pending);
    stream_drained += len;
    if (drain_tap && len > 0) drain_tap(pending, len);
    strip_repl_only();
    logged_total += str_len(pending);
    return str_len(pending) > 0;
}

void oplog_append(int db, int argc, const struct arg *argv)
{
    if (!oplog_enabled) return;
    prepare_for(db);
    append_header(argc);
    for (int i = 0; i < argc; i++) append_bulk(argv[i].ptr, argv[i].len);
    if (observer) observer(db, argc, argv);
}

void oplog_append_cstr(int db, int argc, const char *const *argv)
{
    if (!oplog_enabled) return;
    prepare_for(db);
    append_header(argc);
    for (int i = 0; i < argc; i++) append_bulk(argv[i], strlen(argv[i]));
    if (!observer) return;
    struct arg small[8], *args = argc <= 8 ? small : mem_alloc(sizeof(*args) * (size_t)argc);
    for (int i = 0; i < argc; i++) args[i] = (struct arg){(char *)argv[i], strlen(argv[i])};
    observer(db, argc, args);
    if (args != small) mem_free(args);
}

void oplog_set_observer(void (*fn)(int db, int argc, const struct arg *argv))
{
    observer = fn;
}

void oplog_propagate(struct request *req, int argc, const struct arg *argv)
{
    req->flags |= REQ_PROPAGATED;
    oplog_append(req->db->id, argc, argv);
}

void oplog_propagate_cstr(struct request *req, int argc, const char *const *argv)
{
    req->flags |= REQ_PROPAGATED;
    oplog_append_cstr(req->db->id, argc, argv);
}

void oplog_multi_begin(void)
{
    multi_depth++;
}

void oplog_multi_end(void)
{
    if (--multi_depth > 0) return;
    if (multi_opened && oplog_enabled) {
        append_header(1);
        append_bulk("EXEC", 4);
    }
    multi_opened = false;
}

unsigned long long oplog_logged_total(void)
{
    return logged_total + (pending ? str_len(pending) - skip_bytes : 0);
}

unsigned long long oplog_stream_total(void)
{
    return stream_drained + (pending ? str_len(pending) : 0);
}

void oplog_set_tap(void (*tap)(const char *bytes, size_t len))
{
    drain_tap = tap;
}

void oplog_discard(void)
{
    if (!pending) return;
    account_drain();
    str_set_len(pending, 0);
}

str oplog_drain(void)
{
    if (!pending || str_len(pending) == 0) return NULL;
    if (!account_drain()) return NULL;
    str out = pending;
    pending = NULL;
    return out;
}

str oplog_exchange(str spare)
{
    if (!pending || str_len(pending) == 0) return NULL;
    if (!account_drain()) return NULL;
    str out = pending;
    if (spare) str_set_len(spare, 0);
    pending = spare;
    return out;
}

void oplog_reset_selected_db(void)
{
    selected_db = -1;
}

size_t oplog_pending_bytes(void)
{
    return pending ? str_len(pending) - skip_bytes : 0;
}
