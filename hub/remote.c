/* SPDX-License-Identifier: MIT */
/* Wake-ups from kernel threads the runtime did not make (glibc's timer and
 * AIO helper threads, a library's own clone()d threads). They cannot touch
 * the parking lot, which only the green kernel thread uses; when one of
 * them releases something green threads may wait for (unlocks a mutex,
 * signals a condition, posts a semaphore, wakes a futex), it queues the
 * lot key here and pokes the hub through an eventfd. The hub wakes the
 * waiters. The queue is a small ring under a spinlock; a full ring makes
 * the poking thread wait for the hub to drain it (it is a kernel thread:
 * waiting costs no green thread anything).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "hub/internal.h"
#include "preload/real.h"

#define RING 256

static struct {
    int efd;                        /* -1 until the runtime starts */
    int lock;                       /* spinlock: 0 free */
    unsigned head, tail;            /* tail - head entries queued */
    struct {
        const void *key;
        unsigned n;
    } ring[RING];
} remote = { .efd = -1 };

static void lock(void)
{
    while (__atomic_exchange_n(&remote.lock, 1, __ATOMIC_ACQUIRE) != 0) {
        green__sys(SYS_sched_yield);
    }
}

static void unlock(void)
{
    __atomic_store_n(&remote.lock, 0, __ATOMIC_RELEASE);
}

/* Hub: drain the eventfd and the ring, waking the waiters. */
static void drain(void)
{
    uint64_t count;
    green__sys(SYS_read, remote.efd, &count, sizeof count);
    for (;;) {
        lock();
        if (remote.head == remote.tail) {
            unlock();
            return;
        }
        const void *key = remote.ring[remote.head % RING].key;
        const unsigned n = remote.ring[remote.head % RING].n;
        remote.head++;
        unlock();
        green__lot_wake(key, n);
    }
}

int green__remote_init(void)
{
    remote.efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (remote.efd < 0) {
        return -errno;
    }
    green__loop_watch(remote.efd, drain);
    return 0;
}

void green__remote_wake(const void *key, unsigned n)
{
    if (__atomic_load_n(&remote.efd, __ATOMIC_ACQUIRE) < 0) {
        return;                     /* no runtime: no green waiters */
    }
    for (;;) {
        lock();
        if (remote.tail - remote.head < RING) {
            remote.ring[remote.tail % RING].key = key;
            remote.ring[remote.tail % RING].n = n;
            remote.tail++;
            unlock();
            break;
        }
        unlock();
        green__sys(SYS_sched_yield);    /* full: let the hub drain it */
    }
    green__remote_poke();
}

void green__remote_poke(void)
{
    const int efd = __atomic_load_n(&remote.efd, __ATOMIC_ACQUIRE);
    if (efd >= 0) {
        const uint64_t one = 1;
        green__sys(SYS_write, efd, &one, sizeof one);
    }
}

void green__remote_fork(void)
{
    remote.lock = 0;                /* a parent's thread may have held it */
    remote.head = remote.tail = 0;
    const int entry_errno = errno;
    const int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (efd >= 0) {
        GREEN_REAL_FN(dup3)(efd, remote.efd, O_CLOEXEC);
        GREEN_REAL_FN(close)(efd);
    } else {
        GREEN_DEBUG("fork: no new eventfd (%d); the child shares the "
                    "parent's wake-ups\n", errno);
    }
    errno = entry_errno;
}
