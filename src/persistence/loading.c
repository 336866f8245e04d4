#include "persistence/loading.h"

#include <time.h>

#include "net/event_loop.h"
#include "server/server.h"

static struct {
    long long start_time; /* unix seconds */
    long long total_bytes;
    long long loaded_bytes;
    unsigned records_since_serve;
    size_t bytes_since_serve;
    void (*on_shutdown)(void); /* set while clients are served */
} load;

void loading_start(long long total_bytes)
{
    load.start_time = (long long)time(NULL);
    load.total_bytes = total_bytes;
    load.loaded_bytes = 0;
    load.records_since_serve = 0;
    load.bytes_since_serve = 0;
    server.loading = true;
}

void loading_end(void)
{
    server.loading = false;
}

void loading_serve_clients(void (*on_shutdown)(void))
{
    load.on_shutdown = on_shutdown;
}

/* One turn of the event loop between two records: the dataset is consistent
 * there, and commands that could see it are refused anyway. */
static void loading_serve(void)
{
    event_loop_poll(server.loop);
    if (server.shutdown_asap) load.on_shutdown();
}

void loading_progress(size_t bytes)
{
    load.loaded_bytes += (long long)bytes;
    load.bytes_since_serve += bytes;
    if (++load.records_since_serve < LOADING_SERVE_RECORDS && load.bytes_since_serve < LOADING_SERVE_BYTES) return;
    load.records_since_serve = 0;
    load.bytes_since_serve = 0;
    if (load.on_shutdown) loading_serve();
}

struct loading_estimate loading_estimate(long long total_bytes, long long loaded_bytes, long long elapsed_seconds)
{
    struct loading_estimate e = {.perc = 0, .eta_seconds = 1};
    long long remaining = 1;
    if (total_bytes > 0) {
        e.perc = (double)loaded_bytes / (double)total_bytes * 100;
        remaining = total_bytes > loaded_bytes ? total_bytes - loaded_bytes : 0;
    }
    if (elapsed_seconds > 0) e.eta_seconds = elapsed_seconds * remaining / (loaded_bytes + 1);
    return e;
}

str loading_info(str s)
{
    if (!server.loading) return s;
    struct loading_estimate e =
        loading_estimate(load.total_bytes, load.loaded_bytes, (long long)time(NULL) - load.start_time);
    return str_append_printf(s,
                             "loading_start_time:%lld\r\n"
                             "loading_total_bytes:%lld\r\n"
                             "loading_rdb_used_mem:0\r\n"
                             "loading_loaded_bytes:%lld\r\n"
                             "loading_loaded_perc:%.2f\r\n"
                             "loading_eta_seconds:%lld\r\n",
                             load.start_time, load.total_bytes, load.loaded_bytes, e.perc, e.eta_seconds);
}
