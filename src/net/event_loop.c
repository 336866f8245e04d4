#include "net/event_loop.h"

#include <errno.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "util/mem.h"

struct io_slot {
    int mask;
    event_io_fn *fn;
    void *data;
};

struct event_timer {
    long long when_ms;
    uint64_t seq; /* ties fire in creation order */
    size_t heap_index;
    event_timer_fn *fn;
    void *data;
};

struct event_loop {
    int epfd;
    int max_fds;
    struct io_slot *slots;
    struct epoll_event *fired;
    struct event_timer **heap;
    size_t heap_len;
    size_t heap_cap;
    uint64_t timer_seq;
    event_hook_fn *before_sleep;
    bool stop;
};

long long event_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct event_loop *event_loop_create(int max_fds)
{
    struct event_loop *loop = mem_calloc(sizeof(*loop));
    loop->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (loop->epfd < 0) {
        mem_free(loop);
        return NULL;
    }
    loop->max_fds = max_fds;
    loop->slots = mem_calloc(sizeof(*loop->slots) * (size_t)max_fds);
    loop->fired = mem_alloc(sizeof(*loop->fired) * 1024);
    return loop;
}

void event_loop_free(struct event_loop *loop)
{
    for (size_t i = 0; i < loop->heap_len; i++) mem_free(loop->heap[i]);
    mem_free(loop->heap);
    close(loop->epfd);
    mem_free(loop->slots);
    mem_free(loop->fired);
    mem_free(loop);
}

static int event_loop_apply(struct event_loop *loop, int fd, int old_mask, int new_mask)
{
    struct epoll_event ev = {0};
    ev.data.fd = fd;
    if (new_mask & EV_READ) ev.events |= EPOLLIN;
    if (new_mask & EV_WRITE) ev.events |= EPOLLOUT;
    int op = old_mask == 0 ? EPOLL_CTL_ADD : (new_mask == 0 ? EPOLL_CTL_DEL : EPOLL_CTL_MOD);
    return epoll_ctl(loop->epfd, op, fd, &ev);
}

int event_loop_watch(struct event_loop *loop, int fd, int mask, event_io_fn *fn, void *data)
{
    if (fd >= loop->max_fds) {
        errno = ERANGE;
        return -1;
    }
    struct io_slot *s = &loop->slots[fd];
    int new_mask = s->mask | mask;
    if (new_mask != s->mask && event_loop_apply(loop, fd, s->mask, new_mask) < 0) return -1;
    s->mask = new_mask;
    s->fn = fn;
    s->data = data;
    return 0;
}

void event_loop_unwatch(struct event_loop *loop, int fd, int mask)
{
    if (fd < 0 || fd >= loop->max_fds) return;
    struct io_slot *s = &loop->slots[fd];
    int new_mask = s->mask & ~mask;
    if (new_mask == s->mask) return;
    event_loop_apply(loop, fd, s->mask, new_mask);
    s->mask = new_mask;
}

int event_loop_mask(struct event_loop *loop, int fd)
{
    return (fd >= 0 && fd < loop->max_fds) ? loop->slots[fd].mask : 0;
}

void event_loop_run_handler(struct event_loop *loop, int fd, int mask)
{
    if (fd < 0 || fd >= loop->max_fds) return;
    struct io_slot *s = &loop->slots[fd];
    if ((mask & EV_READ) && (s->mask & EV_READ)) s->fn(loop, fd, s->data, EV_READ);
    if ((mask & EV_WRITE) && (s->mask & EV_WRITE)) s->fn(loop, fd, s->data, EV_WRITE);
}

/* Min-heap by (when_ms, seq); each timer knows its index so it can be
 * cancelled in O(log n). */
static bool timer_before(const struct event_timer *a, const struct event_timer *b)
{
    return a->when_ms < b->when_ms || (a->when_ms == b->when_ms && a->seq < b->seq);
}

static void heap_set(struct event_loop *loop, size_t i, struct event_timer *t)
{
    loop->heap[i] = t;
    t->heap_index = i;
}

static void heap_sift_up(struct event_loop *loop, size_t i)
{
    struct event_timer *t = loop->heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!timer_before(t, loop->heap[parent])) break;
        heap_set(loop, i, loop->heap[parent]);
        i = parent;
    }
    heap_set(loop, i, t);
}

static void heap_sift_down(struct event_loop *loop, size_t i)
{
    struct event_timer *t = loop->heap[i];
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= loop->heap_len) break;
        if (child + 1 < loop->heap_len && timer_before(loop->heap[child + 1], loop->heap[child])) child++;
        if (!timer_before(loop->heap[child], t)) break;
        heap_set(loop, i, loop->heap[child]);
        i = child;
    }
    heap_set(loop, i, t);
}

static void heap_remove(struct event_loop *loop, size_t i)
{
    struct event_timer *last = loop->heap[--loop->heap_len];
    if (i == loop->heap_len) return;
    heap_set(loop, i, last);
    heap_sift_down(loop, i);
    heap_sift_up(loop, last->heap_index);
}

struct event_timer *event_timer_at(struct event_loop *loop, long long when_ms, event_timer_fn *fn, void *data)
{
    if (loop->heap_len == loop->heap_cap) {
        loop->heap_cap = loop->heap_cap ? loop->heap_cap * 2 : 64;
        loop->heap = mem_realloc(loop->heap, loop->heap_cap * sizeof(*loop->heap));
    }
    struct event_timer *t = mem_alloc(sizeof(*t));
    t->when_ms = when_ms;
    t->seq = loop->timer_seq++;
    t->fn = fn;
    t->data = data;
    heap_set(loop, loop->heap_len++, t);
    heap_sift_up(loop, t->heap_index);
    return t;
}

void event_timer_cancel(struct event_loop *loop, struct event_timer *t)
{
    if (!t) return;
    heap_remove(loop, t->heap_index);
    mem_free(t);
}

static void event_loop_fire_timers(struct event_loop *loop)
{
    long long now = event_now_ms();
    while (loop->heap_len > 0 && loop->heap[0]->when_ms <= now) {
        struct event_timer *t = loop->heap[0];
        heap_remove(loop, 0);
        event_timer_fn *fn = t->fn;
        void *data = t->data;
        mem_free(t);
        fn(loop, data);
    }
}

static int event_loop_timeout(struct event_loop *loop)
{
    if (loop->heap_len == 0) return 1000;
    long long wait = loop->heap[0]->when_ms - event_now_ms();
    if (wait < 0) return 0;
    return wait > 1000 ? 1000 : (int)wait;
}

void event_loop_set_before_sleep(struct event_loop *loop, event_hook_fn *fn)
{
    loop->before_sleep = fn;
}

/* Dispatches one epoll wake-up: reads before writes for each fd, and a
 * handler may close other fds, so masks are re-checked per event. */
static void event_loop_dispatch_fired(struct event_loop *loop, int n)
{
    for (int i = 0; i < n; i++) {
        int fd = loop->fired[i].data.fd;
        uint32_t ev = loop->fired[i].events;
        struct io_slot *s = &loop->slots[fd];
        int mask = 0;
        if (ev & (EPOLLIN | EPOLLERR | EPOLLHUP)) mask |= EV_READ;
        if (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP)) mask |= EV_WRITE;
        if ((mask & EV_READ) && (s->mask & EV_READ)) s->fn(loop, fd, s->data, EV_READ);
        if ((mask & EV_WRITE) && (s->mask & EV_WRITE)) s->fn(loop, fd, s->data, EV_WRITE);
    }
}

void event_loop_run(struct event_loop *loop)
{
    loop->stop = false;
    while (!loop->stop) {
        if (loop->before_sleep) loop->before_sleep(loop);
        if (loop->stop) break;
        int n = epoll_wait(loop->epfd, loop->fired, 1024, event_loop_timeout(loop));
        if (n < 0 && errno != EINTR) break;
        if (n > 0) event_loop_dispatch_fired(loop, n);
        event_loop_fire_timers(loop);
    }
}

void event_loop_poll_events(struct event_loop *loop)
{
    int n = epoll_wait(loop->epfd, loop->fired, 1024, 0);
    if (n > 0) event_loop_dispatch_fired(loop, n);
}

void event_loop_poll(struct event_loop *loop)
{
    event_loop_poll_events(loop);
    if (loop->before_sleep) loop->before_sleep(loop);
}

void event_loop_stop(struct event_loop *loop)
{
    loop->stop = true;
}
