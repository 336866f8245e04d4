#include "messaging/blocking.h"

#include <string.h>

#include "db/db.h"
#include "db/dict.h"
#include "util/mem.h"

struct blocking_hooks blocking_hooks;

/* The waiters of one key, oldest first. */
struct waiter_queue {
    struct waiter **items;
    size_t head;
    size_t count;
    size_t capacity;
};

struct ready_key {
    struct db *db;
    str key;
};

static struct dict **waiting_by_db; /* per db: key -> waiter_queue */
static int waiting_db_count;
static struct ready_key *ready;
static size_t ready_count, ready_cap;
static long long keys_with_waiters;

static void queue_free(void *p)
{
    struct waiter_queue *q = p;
    mem_free(q->items);
    mem_free(q);
}

static const struct dict_type waiting_type = {.nocase = false, .owns_keys = true, .val_free = queue_free};

void blocking_init(int db_count)
{
    waiting_db_count = db_count;
    waiting_by_db = mem_calloc(sizeof(struct dict *) * (size_t)db_count);
    for (int i = 0; i < db_count; i++) waiting_by_db[i] = dict_create(&waiting_type);
}

static struct dict *waiting_of(struct db *db)
{
    return waiting_by_db[db->id];
}

static void queue_push(struct waiter_queue *q, struct waiter *w)
{
    if (q->count == q->capacity) {
        size_t cap = q->capacity ? q->capacity * 2 : 4;
        struct waiter **items = mem_alloc(sizeof(*items) * cap);
        for (size_t i = 0; i < q->count; i++) items[i] = q->items[(q->head + i) % q->capacity];
        mem_free(q->items);
        q->items = items;
        q->capacity = cap;
        q->head = 0;
    }
    q->items[(q->head + q->count) % q->capacity] = w;
    q->count++;
}

static struct waiter *queue_at(struct waiter_queue *q, size_t i)
{
    return q->items[(q->head + i) % q->capacity];
}

/* Removes one waiter, keeping the others in order. */
static void queue_remove(struct waiter_queue *q, struct waiter *w)
{
    size_t i = 0;
    while (i < q->count && queue_at(q, i) != w) i++;
    if (i == q->count) return;
    for (; i + 1 < q->count; i++) q->items[(q->head + i) % q->capacity] = queue_at(q, i + 1);
    q->count--;
}

void blocking_wait(struct request *req, struct arg *keys, int key_count, long long timeout_ms,
                   const struct blocking_spec *spec)
{
    struct waiter *w = mem_calloc(sizeof(*w));
    w->client = req->client;
    w->db = req->db;
    w->spec = *spec;
    w->keys = mem_alloc(sizeof(str) * (size_t)key_count);
    for (int i = 0; i < key_count; i++) {
        struct arg *k = &keys[i];
        bool existed;
        struct dict_entry *e = dict_add_or_find(waiting_of(w->db), k->ptr, k->len, NULL, &existed);
        if (!existed) {
            e->v.ptr = mem_calloc(sizeof(struct waiter_queue));
            keys_with_waiters++;
        }
        struct waiter_queue *q = e->v.ptr;
        bool duplicate = false; /* BLPOP k k: wait once per key */
        for (size_t j = 0; j < q->count; j++) duplicate |= queue_at(q, j) == w;
        if (!duplicate) queue_push(q, w);
        w->keys[w->key_count++] = str_new(k->ptr, k->len);
    }
    w->deadline_ms = timeout_ms;
    blocking_hooks.blocked(w->client, w);
}

/* Takes the waiter off every key and frees it. */
static void waiter_release(struct waiter *w)
{
    struct dict *waiting = waiting_of(w->db);
    for (int i = 0; i < w->key_count; i++) {
        size_t len = str_len(w->keys[i]);
        struct dict_entry *e = dict_find(waiting, w->keys[i], len);
        if (e) {
            struct waiter_queue *q = e->v.ptr;
            queue_remove(q, w);
            if (q->count == 0) {
                dict_delete(waiting, w->keys[i], len);
                keys_with_waiters--;
            }
        }
        str_free(w->keys[i]);
    }
    mem_free(w->keys);
    if (w->spec.state_free) w->spec.state_free(w->spec.state);
    mem_free(w);
}

void blocking_key_ready(struct db *db, const char *key, size_t len)
{
    if (!waiting_by_db || dict_size(waiting_of(db)) == 0) return;
    if (!dict_find(waiting_of(db), key, len)) return;
    for (size_t i = 0; i < ready_count; i++)
        if (ready[i].db == db && str_len(ready[i].key) == len && memcmp(ready[i].key, key, len) == 0) return;
    if (ready_count == ready_cap) {
        ready_cap = ready_cap ? ready_cap * 2 : 16;
        ready = mem_realloc(ready, sizeof(*ready) * ready_cap);
    }
    ready[ready_count].db = db;
    ready[ready_count].key = str_new(key, len);
    ready_count++;
}

void blocking_db_ready(struct db *db)
{
    if (!waiting_by_db || dict_size(waiting_of(db)) == 0) return;
    struct dict_iter it;
    dict_iter_init(&it, waiting_of(db), false);
    struct dict_entry *e;
    while ((e = dict_iter_next(&it))) blocking_key_ready(db, e->key, str_len(e->key));
    dict_iter_done(&it);
}

/* Offers one key to its waiters in order until one is not served (the key
 * ran dry) or none are left. */
static void serve_key(struct db *db, str key)
{
    size_t len = str_len(key);
    for (;;) {
        struct dict_entry *e = dict_find(waiting_of(db), key, len);
        if (!e) return;
        struct waiter_queue *q = e->v.ptr;
        bool served_one = false;
        for (size_t i = 0; i < q->count; i++) {
            struct waiter *w = queue_at(q, i);
            struct request req;
            blocking_hooks.prepare(w->client, &req);
            if (w->spec.serve(w, &req, key, len) != SERVE_DONE) continue;
            void *client = w->client;
            waiter_release(w);
            blocking_hooks.unblocked(client, true);
            served_one = true;
            break; /* the queue may have changed: look the key up again */
        }
        if (!served_one) return;
    }
}

void blocking_serve_ready(void)
{
    while (ready_count > 0) {
        struct ready_key *batch = ready;
        size_t n = ready_count;
        ready = NULL;
        ready_count = ready_cap = 0;
        for (size_t i = 0; i < n; i++) {
            serve_key(batch[i].db, batch[i].key);
            str_free(batch[i].key);
        }
        mem_free(batch);
    }
}

void blocking_timeout(struct waiter *w)
{
    struct request req;
    blocking_hooks.prepare(w->client, &req);
    w->spec.timeout(w, &req);
    void *client = w->client;
    waiter_release(w);
    blocking_hooks.unblocked(client, true);
}

void blocking_fail(struct waiter *w, const char *error)
{
    struct request req;
    blocking_hooks.prepare(w->client, &req);
    reply_error(req.out, error);
    void *client = w->client;
    waiter_release(w);
    blocking_hooks.unblocked(client, true);
}

void blocking_cancel(struct waiter *w)
{
    void *client = w->client;
    waiter_release(w);
    blocking_hooks.unblocked(client, false);
}

long long blocking_key_count(void)
{
    return keys_with_waiters;
}
