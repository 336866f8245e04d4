/* cron: the server's periodic work at `hz` times a second — clocks, rate
 * samples, active expiry, incremental rehash, client timeouts. */
#ifndef RUNNEL_SERVER_CRON_H
#define RUNNEL_SERVER_CRON_H

void cron_start(void);
/* Work done before every sleep of the event loop. */
struct event_loop;
void server_before_sleep(struct event_loop *loop);
/* One turn for the other clients while a long command (a busy script)
 * holds the loop: their commands run (dispatch refuses what the busy state
 * forbids) and their replies are written. The clock, blocked clients, the
 * AOF and closed clients wait for the command to end. */
void server_serve_while_busy(void);

#endif
