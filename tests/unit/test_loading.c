/* Unit tests for persistence/loading: the progress and ETA arithmetic INFO
 * reports, the fields themselves, and how often loaders let the event loop
 * serve clients. */
#include <criterion/criterion.h>
#include <string.h>

#include "persistence/loading.h"
#include "net/event_loop.h"
#include "server/server.h"

/* Defined by main.c in the server binary. */
struct server server;
bool (*server_debug_extension)(struct request *req);

static int turns;
static bool shutdown_called;

static void count_turn(struct event_loop *loop)
{
    (void)loop;
    turns++;
}

static void note_shutdown(void)
{
    shutdown_called = true;
}

static void setup(void)
{
    server.loop = event_loop_create(64);
    event_loop_set_before_sleep(server.loop, count_turn);
    turns = 0;
    shutdown_called = false;
}

TestSuite(loading, .init = setup);

Test(loading, estimate_follows_the_rate_so_far)
{
    /* 25 of 100 bytes in 10 s: 75 bytes left at 2.5 bytes/s (Redis divides by loaded + 1) */
    struct loading_estimate e = loading_estimate(100, 25, 10);
    cr_assert_float_eq(e.perc, 25.0, 1e-9);
    cr_assert_eq(e.eta_seconds, 10 * 75 / 26);
    e = loading_estimate(1000000, 500000, 4);
    cr_assert_float_eq(e.perc, 50.0, 1e-9);
    cr_assert_eq(e.eta_seconds, 3);
}

Test(loading, estimate_says_one_second_before_a_second_passed)
{
    struct loading_estimate e = loading_estimate(100, 0, 0);
    cr_assert_eq(e.eta_seconds, 1);
    cr_assert_float_eq(e.perc, 0.0, 1e-9);
    cr_assert_eq(loading_estimate(100, 99, 0).eta_seconds, 1);
}

Test(loading, estimate_of_a_finished_or_empty_file)
{
    struct loading_estimate e = loading_estimate(100, 100, 7);
    cr_assert_float_eq(e.perc, 100.0, 1e-9);
    cr_assert_eq(e.eta_seconds, 0);
    e = loading_estimate(0, 0, 3); /* nothing known: no division by zero */
    cr_assert_float_eq(e.perc, 0.0, 1e-9);
    cr_assert_eq(e.eta_seconds, 3);
}

Test(loading, info_fields_only_while_loading)
{
    str s = loading_info(str_empty(64));
    cr_assert_eq(str_len(s), 0);
    loading_start(4000);
    cr_assert(server.loading);
    loading_progress(1000);
    s = loading_info(s);
    cr_assert_not_null(strstr(s, "loading_total_bytes:4000\r\n"));
    cr_assert_not_null(strstr(s, "loading_rdb_used_mem:0\r\n"));
    cr_assert_not_null(strstr(s, "loading_loaded_bytes:1000\r\n"));
    cr_assert_not_null(strstr(s, "loading_loaded_perc:25.00\r\n"));
    cr_assert_not_null(strstr(s, "loading_eta_seconds:"));
    cr_assert_eq(strncmp(s, "loading_start_time:", 19), 0);
    loading_end();
    cr_assert(!server.loading);
    str_free(s);
}

Test(loading, serves_clients_every_so_many_records)
{
    loading_serve_clients(note_shutdown);
    loading_start(1 << 30);
    for (int i = 0; i < LOADING_SERVE_RECORDS - 1; i++) loading_progress(10);
    cr_assert_eq(turns, 0);
    loading_progress(10);
    cr_assert_eq(turns, 1);
    for (int i = 0; i < 3 * LOADING_SERVE_RECORDS; i++) loading_progress(0); /* a checking pass counts too */
    cr_assert_eq(turns, 4);
    loading_end();
    loading_serve_clients(NULL);
}

Test(loading, serves_clients_every_so_many_bytes)
{
    loading_serve_clients(note_shutdown);
    loading_start(1 << 30);
    loading_progress(LOADING_SERVE_BYTES - 1);
    cr_assert_eq(turns, 0);
    loading_progress(1);
    cr_assert_eq(turns, 1);
    loading_progress(5 * LOADING_SERVE_BYTES); /* one huge record: one turn */
    cr_assert_eq(turns, 2);
    loading_end();
    loading_serve_clients(NULL);
}

Test(loading, serves_nobody_unless_asked)
{
    loading_start(1 << 30); /* DEBUG RELOAD: inside a command */
    for (int i = 0; i < 4 * LOADING_SERVE_RECORDS; i++) loading_progress(LOADING_SERVE_BYTES);
    cr_assert_eq(turns, 0);
    loading_end();
}

Test(loading, a_shutdown_request_seen_while_serving_is_handed_over)
{
    loading_serve_clients(note_shutdown);
    loading_start(100);
    server.shutdown_asap = true; /* as SIGTERM or SHUTDOWN would set it */
    for (int i = 0; i < LOADING_SERVE_RECORDS - 1; i++) loading_progress(0);
    cr_assert(!shutdown_called);
    loading_progress(0);
    cr_assert(shutdown_called);
    loading_end();
    loading_serve_clients(NULL);
}
