/* The replication stream's two building blocks: the operation log's
 * replica-only commands (kept out of the AOF's share, in their place in the
 * replicas' share) and the shared buffer replicas read with cursors. */
#include <criterion/criterion.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "db/oplog.h"
#include "replication/repl_buffer.h"
#include "util/mem.h"

static char tapped[4096];
static size_t tapped_len;

static void tap(const char *bytes, size_t len)
{
    memcpy(tapped + tapped_len, bytes, len);
    tapped_len += len;
}

static void cmd(int argc, const char *const *argv, bool repl_only)
{
    struct arg a[4];
    for (int i = 0; i < argc; i++) a[i] = (struct arg){(char *)argv[i], strlen(argv[i])};
    if (repl_only) oplog_append_repl_only(-1, argc, a);
    else oplog_append(0, argc, a);
}

Test(oplog, replica_only_commands_reach_replicas_but_not_the_aof)
{
    tapped_len = 0;
    oplog_set_tap(tap);
    oplog_consumer_set(OPLOG_AOF, true);
    oplog_consumer_set(OPLOG_REPL, true);
    oplog_reset_selected_db();
    unsigned long long logged = oplog_logged_total(), streamed = oplog_stream_total();
    cmd(3, (const char *[]){"SET", "k", "v"}, false);
    cmd(3, (const char *[]){"PUBLISH", "ch", "m"}, true);
    cmd(2, (const char *[]){"DEL", "k"}, false);
    cmd(1, (const char *[]){"PING"}, true);
    str aof = oplog_drain();
    cr_assert_not_null(aof);
    const char *expect_aof = "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n"
                             "*2\r\n$3\r\nDEL\r\n$1\r\nk\r\n";
    cr_assert_eq(str_len(aof), strlen(expect_aof));
    cr_assert(memcmp(aof, expect_aof, strlen(expect_aof)) == 0);
    const char *publish = "*3\r\n$7\r\nPUBLISH\r\n$2\r\nch\r\n$1\r\nm\r\n";
    cr_assert_eq(tapped_len, strlen(expect_aof) + strlen(publish) + strlen("*1\r\n$4\r\nPING\r\n"));
    cr_assert(memmem(tapped, tapped_len, publish, strlen(publish)) != NULL);
    cr_assert_eq(oplog_logged_total() - logged, strlen(expect_aof));
    cr_assert_eq(oplog_stream_total() - streamed, tapped_len);
    str_free(aof);
    oplog_consumer_set(OPLOG_REPL, false);
    cmd(3, (const char *[]){"PUBLISH", "ch", "m"}, true); /* nobody replicates: not logged */
    cr_assert_eq(oplog_pending_bytes(), 0);
    oplog_consumer_set(OPLOG_AOF, false);
    oplog_set_tap(NULL);
}

Test(oplog, a_batch_of_replica_only_commands_leaves_nothing_for_the_aof)
{
    oplog_consumer_set(OPLOG_REPL, true);
    tapped_len = 0;
    oplog_set_tap(tap);
    cmd(1, (const char *[]){"PING"}, true);
    cr_assert_null(oplog_drain());
    cr_assert_eq(tapped_len, 14);
    oplog_consumer_set(OPLOG_REPL, false);
    oplog_set_tap(NULL);
}

Test(repl_buffer, cursors_read_what_was_appended_across_blocks)
{
    repl_buffer_reset(1000);
    char chunk[10000];
    for (int i = 0; i < 30; i++) {
        memset(chunk, 'a' + i % 26, sizeof(chunk));
        repl_buffer_append(chunk, sizeof(chunk));
    }
    cr_assert_eq(repl_buffer_end(), 1000 + 300000);
    cr_assert(repl_buffer_covers(1000));
    cr_assert(!repl_buffer_covers(999));
    int sv[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    struct repl_cursor c = {0};
    repl_cursor_seek(&c, 1000 + 95000);
    char got[300000];
    size_t n = 0;
    struct net_conn *conn = net_conn_create(NULL, sv[0], false);
    while (repl_cursor_pending(&c) > 0) {
        ssize_t w = repl_cursor_write(&c, conn);
        cr_assert_gt(w, 0);
        while (n < (size_t)(c.pos - 1000 - 95000)) n += (size_t)read(sv[1], got + n, sizeof(got) - n);
    }
    cr_assert_eq(n, 300000 - 95000);
    cr_assert_eq(got[0], 'a' + 9);      /* byte 95000 is in the tenth chunk */
    cr_assert_eq(got[n - 1], 'a' + 29 % 26);
    net_conn_close(conn); /* closes sv[0] */
    close(sv[1]);
}

Test(repl_buffer, trimming_keeps_the_backlog_and_every_cursor)
{
    repl_buffer_reset(0);
    char chunk[64 * 1024];
    memset(chunk, 'x', sizeof(chunk));
    for (int i = 0; i < 40; i++) repl_buffer_append(chunk, sizeof(chunk));
    long long end = repl_buffer_end();
    repl_buffer_trim(1 << 20, end); /* no cursor behind: the last 1 MB stays */
    cr_assert(repl_buffer_covers(end - (1 << 20)));
    cr_assert(!repl_buffer_covers(0));
    size_t mem = repl_buffer_memory();
    cr_assert_lt(mem, (size_t)(1 << 20) + 3 * sizeof(chunk));
    repl_buffer_reset(0);
    for (int i = 0; i < 40; i++) repl_buffer_append(chunk, sizeof(chunk));
    repl_buffer_trim(1 << 20, 100); /* a replica still at byte 100 */
    cr_assert(repl_buffer_covers(100));
    repl_buffer_free();
    cr_assert(!repl_buffer_active());
}
