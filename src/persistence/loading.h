/* loading: the one mechanism both loaders (AOF replay, snapshot load) share
 * while a dataset file is read into memory. Between loading_start and
 * loading_end, server.loading makes dispatch refuse every command without
 * CMD_LOADING with "-LOADING ...", and INFO persistence reports the
 * progress. At start-up the listeners are already open: the loaders'
 * progress calls then let the event loop serve clients every
 * LOADING_SERVE_RECORDS records or LOADING_SERVE_BYTES bytes, so INFO,
 * CLIENT, SUBSCRIBE... answer while the dataset loads. */
#ifndef RUNNEL_PERSISTENCE_LOADING_H
#define RUNNEL_PERSISTENCE_LOADING_H

#include <stddef.h>

#include "util/str.h"

#define LOADING_SERVE_RECORDS 1024
#define LOADING_SERVE_BYTES (2 * 1024 * 1024)

/* A file of total_bytes (all of a manifest's files for the AOF) starts loading. */
void loading_start(long long total_bytes);
/* A loader finished one record (a command, a key) that took `bytes` of the
 * file (0 for a pass that only checks the file). May serve clients; a
 * SHUTDOWN or SIGTERM seen then does not return (see loading_serve_clients). */
void loading_progress(size_t bytes);
void loading_end(void);

/* Start-up only, once the listeners are open: loading_progress serves
 * clients, and when it sees a shutdown request it calls `on_shutdown`,
 * which must exit without saving (the dataset is incomplete; saving would
 * overwrite the file being loaded). NULL stops serving. */
void loading_serve_clients(void (*on_shutdown)(void));

/* INFO persistence's loading_* fields, only while loading (as Redis). */
str loading_info(str s);

struct loading_estimate {
    double perc;          /* loaded share of the total, in percent */
    long long eta_seconds;
};

/* Redis's arithmetic: the rate so far applied to the bytes left; 1 second
 * while less than a second has passed. */
struct loading_estimate loading_estimate(long long total_bytes, long long loaded_bytes, long long elapsed_seconds);

#endif
