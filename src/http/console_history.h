/* console_history: a ring of per-second samples of the server (commands,
 * network bytes, memory, clients, queue and stream traffic) kept while the
 * HTTP endpoint is on, so the console's charts show the last minutes the
 * moment they open. A sample costs a few counter reads once a second. */
#ifndef RUNNEL_HTTP_CONSOLE_HISTORY_H
#define RUNNEL_HTTP_CONSOLE_HISTORY_H

#include <json-c/json.h>

#define CONSOLE_HISTORY_SECONDS 300

struct event_loop;

/* Starts sampling once a second on the loop. */
void console_history_start(struct event_loop *loop);
void console_history_stop(void);
/* Takes one sample now (the timer's work; tests call it too). */
void console_history_sample(void);
/* {"interval_ms": 1000, "t": [unix ms...], "ops": [per second...], ...}:
 * one array per series, oldest first. */
json_object *console_history_json(void);

#endif
