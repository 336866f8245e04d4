#include "net/event_loop.h"

#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "net/uring.h"
#include "util/mem.h"

#define MAX_ACCEPTS_PER_CALL 1000

/* One listening socket: accepted by accept4 on readiness (epoll), or by a
 * multishot accept whose op outlives the listener until its last
 * completion (io_uring). */
struct event_listener {
    struct uring_op op;
    struct event_loop *loop;
    int fd;
    bool armed;   /* an accept is in flight on the ring */
    bool stopped; /* unlistened: freed once the ring lets go of it */
    event_accept_fn *fn;
    void *data;
    struct event_listener *next;
};

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
    struct net_uring *uring;   /* NULL for the epoll engine */
    struct uring_op epoll_op;  /* under io_uring: the epoll set's readiness */
    bool epoll_armed;
    struct event_listener *listeners;
    struct event_listener *retired; /* unlistened, waiting for their accept's last completion */
};

static void event_loop_dispatch_fired(struct event_loop *loop, int n);

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

static void epoll_op_complete(struct uring_op *op, int res, unsigned flags);

struct event_loop *event_loop_create_engine(int max_fds, int engine, const char **why)
{
    *why = NULL;
    struct event_loop *loop = event_loop_create(max_fds);
    if (!loop || engine == EVENT_ENGINE_EPOLL) return loop;
    loop->uring = net_uring_create(why);
    if (!loop->uring && engine == EVENT_ENGINE_URING) {
        event_loop_free(loop);
        return NULL;
    }
    loop->epoll_op.complete = epoll_op_complete;
    return loop;
}

const char *event_loop_engine_name(const struct event_loop *loop)
{
    return loop->uring ? "io_uring" : "epoll";
}

bool event_loop_uses_uring(const struct event_loop *loop)
{
    return loop->uring != NULL;
}

struct net_uring *event_loop_uring(struct event_loop *loop)
{
    return loop->uring;
}

void event_loop_free(struct event_loop *loop)
{
    while (loop->listeners) event_loop_unlisten(loop, loop->listeners->fd);
    net_uring_free(loop->uring);
    while (loop->retired) {
        struct event_listener *l = loop->retired;
        loop->retired = l->next;
        mem_free(l);
    }
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

/* ---- listeners ---- */

static void listener_on_readable(struct event_loop *loop, int fd, void *data, int mask)
{
    (void)mask;
    struct event_listener *l = data;
    for (int i = 0; i < MAX_ACCEPTS_PER_CALL && !l->stopped; i++) {
        int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (cfd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) l->fn(loop, -errno, l->data);
            return;
        }
        l->fn(loop, cfd, l->data);
    }
}

static void listener_arm(struct event_listener *l)
{
    struct io_uring_sqe *sqe = net_uring_sqe(l->loop->uring, &l->op);
    io_uring_prep_multishot_accept(sqe, l->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    l->armed = true;
}

/* A multishot accept's completion: a socket, or an error; without
 * IORING_CQE_F_MORE the accept has ended and is armed again. */
static void listener_op_complete(struct uring_op *op, int res, unsigned flags)
{
    struct event_listener *l = (struct event_listener *)op;
    if (!(flags & IORING_CQE_F_MORE)) l->armed = false;
    if (l->stopped) {
        if (res >= 0) close(res);
        if (l->armed) return;
        struct event_listener **pp = &l->loop->retired;
        while (*pp && *pp != l) pp = &(*pp)->next;
        if (*pp) *pp = l->next;
        mem_free(l);
        return;
    }
    if (res >= 0 || (res != -EAGAIN && res != -EINTR && res != -ECANCELED)) l->fn(l->loop, res, l->data);
    if (!l->armed && !l->stopped) listener_arm(l);
}

int event_loop_listen(struct event_loop *loop, int lfd, event_accept_fn *fn, void *data)
{
    struct event_listener *l = mem_calloc(sizeof(*l));
    l->op.complete = listener_op_complete;
    l->loop = loop;
    l->fd = lfd;
    l->fn = fn;
    l->data = data;
    if (loop->uring) {
        listener_arm(l);
    } else if (event_loop_watch(loop, lfd, EV_READ, listener_on_readable, l) < 0) {
        mem_free(l);
        return -1;
    }
    l->next = loop->listeners;
    loop->listeners = l;
    return 0;
}

void event_loop_unlisten(struct event_loop *loop, int lfd)
{
    struct event_listener **pp = &loop->listeners;
    while (*pp && (*pp)->fd != lfd) pp = &(*pp)->next;
    struct event_listener *l = *pp;
    if (!l) return;
    *pp = l->next;
    l->stopped = true;
    if (!loop->uring) {
        event_loop_unwatch(loop, lfd, EV_READ | EV_WRITE);
        mem_free(l);
        return;
    }
    if (!l->armed) {
        mem_free(l);
        return;
    }
    l->next = loop->retired;
    loop->retired = l;
    /* the accept holds the socket: cancel it now, so that the port is free
     * for a rebind as soon as the caller closes the descriptor */
    io_uring_prep_cancel64(net_uring_sqe(loop->uring, NULL), (uint64_t)(uintptr_t)&l->op, 0);
    net_uring_submit(loop->uring);
    shutdown(lfd, SHUT_RDWR);
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

/* Under io_uring the epoll set is one more descriptor the ring polls
 * (one-shot, armed again after each drain: a poll armed on a set that
 * still holds ready descriptors completes at once). */
static void epoll_arm(struct event_loop *loop)
{
    if (loop->epoll_armed) return;
    io_uring_prep_poll_add(net_uring_sqe(loop->uring, &loop->epoll_op), loop->epfd, POLLIN);
    loop->epoll_armed = true;
}

static void epoll_drain(struct event_loop *loop)
{
    int n = epoll_wait(loop->epfd, loop->fired, 1024, 0);
    if (n > 0) event_loop_dispatch_fired(loop, n);
}

static void epoll_op_complete(struct uring_op *op, int res, unsigned flags)
{
    (void)res, (void)flags;
    struct event_loop *loop = (struct event_loop *)((char *)op - offsetof(struct event_loop, epoll_op));
    loop->epoll_armed = false;
    epoll_drain(loop);
    epoll_arm(loop);
}

void event_loop_run(struct event_loop *loop)
{
    loop->stop = false;
    while (!loop->stop) {
        if (loop->before_sleep) loop->before_sleep(loop);
        if (loop->stop) break;
        if (loop->uring) {
            epoll_arm(loop);
            net_uring_wait(loop->uring, event_loop_timeout(loop));
        } else {
            int n = epoll_wait(loop->epfd, loop->fired, 1024, event_loop_timeout(loop));
            if (n < 0 && errno != EINTR) break;
            if (n > 0) event_loop_dispatch_fired(loop, n);
        }
        event_loop_fire_timers(loop);
    }
}

void event_loop_poll_events(struct event_loop *loop)
{
    if (loop->uring) {
        net_uring_poll(loop->uring);
        epoll_drain(loop);
        return;
    }
    epoll_drain(loop);
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
