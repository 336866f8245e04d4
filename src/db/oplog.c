#include "db/oplog.h"

#include <string.h>

#include "db/db.h"
#include "util/numbers.h"

bool oplog_enabled;
unsigned long long oplog_durable_total = ~0ULL;
const char *oplog_sink_error;
static unsigned long long logged_total;

static str pending;
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

void oplog_append(int db, int argc, const struct arg *argv)
{
    if (!oplog_enabled) return;
    prepare_for(db);
    append_header(argc);
    for (int i = 0; i < argc; i++) append_bulk(argv[i].ptr, argv[i].len);
}

void oplog_append_cstr(int db, int argc, const char *const *argv)
{
    if (!oplog_enabled) return;
    prepare_for(db);
    append_header(argc);
    for (int i = 0; i < argc; i++) append_bulk(argv[i], strlen(argv[i]));
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
    return logged_total + (pending ? str_len(pending) : 0);
}

str oplog_drain(void)
{
    if (!pending || str_len(pending) == 0) return NULL;
    logged_total += str_len(pending);
    str out = pending;
    pending = NULL;
    return out;
}

str oplog_exchange(str spare)
{
    if (!pending || str_len(pending) == 0) return NULL;
    logged_total += str_len(pending);
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
    return pending ? str_len(pending) : 0;
}
