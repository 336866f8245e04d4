#include "util/file_drop.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

/* Descriptors waiting to be closed, in a ring that grows when full. */
static struct {
    pthread_mutex_t lock;
    pthread_cond_t work, done;
    int *fds;
    int cap, head, count;
    bool closing; /* the thread holds a descriptor it took out */
    bool started;
} q = {.lock = PTHREAD_MUTEX_INITIALIZER, .work = PTHREAD_COND_INITIALIZER, .done = PTHREAD_COND_INITIALIZER};

static void *closer_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&q.lock);
    for (;;) {
        while (q.count == 0) pthread_cond_wait(&q.work, &q.lock);
        int fd = q.fds[q.head];
        q.head = (q.head + 1) % q.cap;
        q.count--;
        q.closing = true;
        pthread_mutex_unlock(&q.lock);
        close(fd);
        pthread_mutex_lock(&q.lock);
        q.closing = false;
        pthread_cond_broadcast(&q.done);
    }
    return NULL;
}

/* With the lock held: a thread to hand descriptors to. (The server's
 * forked children do not call this module: they would have no thread.) */
static bool closer_ready(void)
{
    if (q.started) return true;
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    bool ok = pthread_create(&t, &attr, closer_main, NULL) == 0;
    pthread_attr_destroy(&attr);
    if (!ok) return false;
    q.started = true;
    return true;
}

static bool push(int fd)
{
    if (q.count == q.cap) {
        int cap = q.cap ? q.cap * 2 : 16;
        int *fds = malloc(sizeof(int) * (size_t)cap);
        if (!fds) return false;
        for (int i = 0; i < q.count; i++) fds[i] = q.fds[(q.head + i) % q.cap];
        free(q.fds);
        q.fds = fds;
        q.cap = cap;
        q.head = 0;
    }
    q.fds[(q.head + q.count) % q.cap] = fd;
    q.count++;
    return true;
}

void file_drop_fd(int fd)
{
    if (fd < 0) return;
    pthread_mutex_lock(&q.lock);
    bool queued = closer_ready() && push(fd);
    if (queued) pthread_cond_signal(&q.work);
    pthread_mutex_unlock(&q.lock);
    if (!queued) close(fd); /* no thread: the caller waits, as with unlink */
}

int file_drop_hold(const char *path)
{
    return open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
}

int file_drop(const char *path)
{
    int fd = file_drop_hold(path);
    int rc = unlink(path);
    int err = errno;
    file_drop_fd(fd);
    errno = err;
    return rc;
}

void file_drop_flush(void)
{
    pthread_mutex_lock(&q.lock);
    while (q.count > 0 || q.closing) pthread_cond_wait(&q.done, &q.lock);
    pthread_mutex_unlock(&q.lock);
}
