#include "types/keyspace_events.h"

#include "db/db.h"
#include "messaging/blocking.h"

void key_changed(struct request *req, const char *key, size_t len, int class, const char *event)
{
    db_touch_key(req->db, key, len);
    blocking_key_ready(req->db, key, len); /* waiters re-check: a stream deleted under XREADGROUP errors out */
    req->dirty++;
    if (event) notify_keyspace_event(req->db->id, key, len, class, event);
}
