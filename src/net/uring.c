/* uring: the ring, its provided buffers, and completion dispatch. */
#include "net/uring.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "util/mem.h"

#define URING_ENTRIES 4096
#define URING_CQ_ENTRIES 16384
#define BUF_GROUP 1
#define BUF_COUNT 1024 /* a power of two, as the buffer ring wants */
#define BUF_SIZE (16 * 1024)

struct net_uring {
    struct io_uring ring;
    bool deferred_work; /* IORING_SETUP_DEFER_TASKRUN: completions need GETEVENTS */
    struct uring_caps caps;
    struct io_uring_buf_ring *br;
    size_t br_size;
    char *bufs;
};

bool net_uring_kernel_at_least(const char *release, int major, int minor)
{
    int ma = 0, mi = 0;
    if (sscanf(release, "%d.%d", &ma, &mi) != 2) return false;
    return ma > major || (ma == major && mi >= minor);
}

/* Tries the cheapest ring first: one issuer and deferred kernel work (6.1),
 * then cooperative task running (5.19). */
static int uring_setup(struct net_uring *u)
{
    static const unsigned tries[] = {
        IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
        IORING_SETUP_COOP_TASKRUN,
        0,
    };
    int rc = -ENOSYS;
    for (size_t i = 0; i < sizeof(tries) / sizeof(tries[0]); i++) {
        struct io_uring_params p = {0};
        p.flags = tries[i] | IORING_SETUP_CQSIZE;
        p.cq_entries = URING_CQ_ENTRIES;
        rc = io_uring_queue_init_params(URING_ENTRIES, &u->ring, &p);
        if (rc == 0) {
            u->deferred_work = (tries[i] & IORING_SETUP_DEFER_TASKRUN) != 0;
            return 0;
        }
        if (rc != -EINVAL) return rc; /* refused outright (EPERM, ENOSYS): no flag helps */
    }
    return rc;
}

static bool uring_probe_ops(struct io_uring *ring)
{
    struct io_uring_probe *p = io_uring_get_probe_ring(ring);
    if (!p) return false;
    static const int needed[] = {IORING_OP_RECV, IORING_OP_SEND, IORING_OP_ACCEPT, IORING_OP_POLL_ADD,
                                 IORING_OP_ASYNC_CANCEL};
    bool ok = true;
    for (size_t i = 0; i < sizeof(needed) / sizeof(needed[0]); i++)
        ok = ok && io_uring_opcode_supported(p, needed[i]);
    io_uring_free_probe(p);
    return ok;
}

static int uring_buffers_register(struct net_uring *u)
{
    u->br_size = sizeof(struct io_uring_buf) * BUF_COUNT;
    u->br = mmap(NULL, u->br_size, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
    if (u->br == MAP_FAILED) return -errno;
    u->bufs = mmap(NULL, (size_t)BUF_COUNT * BUF_SIZE, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
    if (u->bufs == MAP_FAILED) return -errno;
    struct io_uring_buf_reg reg = {.ring_addr = (unsigned long)u->br, .ring_entries = BUF_COUNT, .bgid = BUF_GROUP};
    int rc = io_uring_register_buf_ring(&u->ring, &reg, 0);
    if (rc < 0) return rc;
    io_uring_buf_ring_init(u->br);
    for (unsigned i = 0; i < BUF_COUNT; i++)
        io_uring_buf_ring_add(u->br, u->bufs + (size_t)i * BUF_SIZE, BUF_SIZE, (unsigned short)i,
                              io_uring_buf_ring_mask(BUF_COUNT), (int)i);
    io_uring_buf_ring_advance(u->br, BUF_COUNT);
    return 0;
}

struct net_uring *net_uring_create(const char **why)
{
    struct utsname un;
    if (uname(&un) == 0 && !net_uring_kernel_at_least(un.release, 5, 19)) {
        *why = "the kernel is older than 5.19 (no provided-buffer rings or multishot accept)";
        return NULL;
    }
    struct net_uring *u = mem_calloc(sizeof(*u));
    u->br = MAP_FAILED;
    u->bufs = MAP_FAILED;
    int rc = uring_setup(u);
    if (rc < 0) {
        mem_free(u);
        *why = rc == -EPERM ? "io_uring_setup was refused (EPERM: disabled or filtered)"
               : rc == -ENOSYS ? "io_uring_setup is not available (ENOSYS)"
                               : "io_uring_setup failed";
        return NULL;
    }
    if (!uring_probe_ops(&u->ring)) {
        *why = "the kernel lacks an io_uring operation the engine needs";
        net_uring_free(u);
        return NULL;
    }
    if (uring_buffers_register(u) < 0) {
        *why = "registering the provided-buffer ring failed";
        net_uring_free(u);
        return NULL;
    }
    u->caps.multishot_recv = uname(&un) == 0 && net_uring_kernel_at_least(un.release, 6, 0);
    return u;
}

void net_uring_free(struct net_uring *u)
{
    if (!u) return;
    io_uring_queue_exit(&u->ring);
    if (u->br != MAP_FAILED) munmap(u->br, u->br_size);
    if (u->bufs != MAP_FAILED) munmap(u->bufs, (size_t)BUF_COUNT * BUF_SIZE);
    mem_free(u);
}

const struct uring_caps *net_uring_caps(const struct net_uring *u)
{
    return &u->caps;
}

struct io_uring_sqe *net_uring_sqe(struct net_uring *u, struct uring_op *op)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
    while (!sqe) {
        io_uring_submit(&u->ring);
        sqe = io_uring_get_sqe(&u->ring);
    }
    io_uring_sqe_set_data(sqe, op);
    return sqe;
}

void net_uring_submit(struct net_uring *u)
{
    io_uring_submit(&u->ring);
}

/* Takes each completion off the ring before calling its handler, so a
 * handler that dispatches again (nested) never sees it twice. */
static void uring_dispatch(struct net_uring *u)
{
    struct io_uring_cqe *cqe;
    while (io_uring_peek_cqe(&u->ring, &cqe) == 0) {
        struct uring_op *op = io_uring_cqe_get_data(cqe);
        int res = cqe->res;
        unsigned flags = cqe->flags;
        io_uring_cqe_seen(&u->ring, cqe);
        if (op) op->complete(op, res, flags);
    }
}

/* Publishes the queued entries to the kernel (as liburing's submit does
 * before entering); how many are waiting for it. */
static unsigned uring_flush_sq(struct net_uring *u)
{
    struct io_uring_sq *sq = &u->ring.sq;
    unsigned tail = sq->sqe_tail;
    if (sq->sqe_head != tail) {
        sq->sqe_head = tail;
        io_uring_smp_store_release(sq->ktail, tail);
    }
    return tail - IO_URING_READ_ONCE(*sq->khead);
}

void net_uring_wait(struct net_uring *u, int timeout_ms)
{
    struct __kernel_timespec ts = {.tv_sec = timeout_ms / 1000, .tv_nsec = (long long)(timeout_ms % 1000) * 1000000};
    struct io_uring_getevents_arg arg = {.sigmask_sz = _NSIG / 8, .ts = (uint64_t)(uintptr_t)&ts};
    unsigned submitted = uring_flush_sq(u);
    long rc = syscall(__NR_io_uring_enter, u->ring.ring_fd, submitted, 1, IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG,
                      &arg, sizeof(arg));
    (void)rc;
    uring_dispatch(u);
}

void net_uring_poll(struct net_uring *u)
{
    io_uring_submit(&u->ring);
    if (u->deferred_work) {
        /* deferred completions are only posted by an enter that asks for them */
        long rc = syscall(__NR_io_uring_enter, u->ring.ring_fd, 0, 0, IORING_ENTER_GETEVENTS, NULL, 0);
        (void)rc;
    }
    uring_dispatch(u);
}

unsigned short net_uring_buf_group(const struct net_uring *u)
{
    (void)u;
    return BUF_GROUP;
}

const char *net_uring_buf(const struct net_uring *u, unsigned id)
{
    return u->bufs + (size_t)id * BUF_SIZE;
}

void net_uring_buf_recycle(struct net_uring *u, unsigned id)
{
    io_uring_buf_ring_add(u->br, u->bufs + (size_t)id * BUF_SIZE, BUF_SIZE, (unsigned short)id,
                          io_uring_buf_ring_mask(BUF_COUNT), 0);
    io_uring_buf_ring_advance(u->br, 1);
}
