/* SPDX-License-Identifier: MIT */
/* POSIX semaphores: sem_wait, sem_trywait, sem_timedwait, sem_clockwait,
 * sem_post. sem_init, sem_getvalue and sem_destroy stay glibc's: the value
 * stays where glibc keeps it, the low 32 bits of the first 64-bit word, and
 * the waiter count beside it stays 0 (waiters are in the lot, keyed by the
 * semaphore's address).
 *
 * A process-shared semaphore (sem_init with pshared, or sem_open) may be
 * posted by another process, which cannot wake our lot: its waits try
 * sem_trywait and park for a growing while in between (1 ms to 16 ms,
 * hub/backoff.c), so the kernel thread never blocks.
 */
#include "config.h"

#include <limits.h>
#include <semaphore.h>

#include "wrappers/wrap.h"

/* glibc's layout of sem_t on 64-bit targets (nptl/semaphore.h). */
struct glibc_sem {
    uint64_t data;                  /* value | nwaiters << 32 */
    int private;                    /* 0 private, FUTEX_PRIVATE_FLAG (128)
                                       process-shared: glibc's inverted
                                       internal naming (LLL_SHARED) */
    int pad;
};

#define SEM_VALUE_BITS 0xffffffffULL

static struct glibc_sem *as_glibc(sem_t *sem)
{
    return (struct glibc_sem *)sem;
}

static bool sem_is_private(sem_t *sem)
{
    return as_glibc(sem)->private == 0;
}

/* Wait for a process-shared semaphore. Returns 0 or -ETIMEDOUT. */
static int shared_wait(sem_t *sem, int64_t deadline)
{
    struct green__backoff b = GREEN__BACKOFF(GREEN__NS_PER_MS,
                                             16 * GREEN__NS_PER_MS);
    while (GREEN_REAL_FN(sem_trywait)(sem) != 0) {
        if (errno != EAGAIN) {
            return green__neg_errno();
        }
        if (green__backoff_sleep(&b, deadline) == -ETIMEDOUT) {
            return -ETIMEDOUT;
        }
    }
    return 0;
}

/* Take one unit, waiting until `deadline` (-1: none). Returns 0 or
 * -errno. */
static int sem_take(sem_t *sem, int64_t deadline)
{
    if (!sem_is_private(sem)) {
        return shared_wait(sem, deadline);
    }
    struct glibc_sem *s = as_glibc(sem);
    while ((s->data & SEM_VALUE_BITS) == 0) {
        if (green__self() == NULL) {
            /* The value is the low half of `data`, its first 32 bits on
             * a little-endian target, where glibc's futex waits too. A
             * handler interrupts as it interrupts glibc's wait. */
            const int r = green__sync_wait_word((const uint32_t *)&s->data,
                                                0, deadline);
            if (r < 0) {
                return r;
            }
            continue;
        }
        const int r = green__lot_wait_intr(sem, GREEN__LOT_ANY, deadline);
        /* A handler interrupts sem_timedwait always, sem_wait unless it
         * has SA_RESTART (the futex wait behind them, futex(2)). */
        if (r == -EINTR && (deadline >= 0 || !green__signal_restarts())) {
            return -EINTR;
        }
        if (r == -ETIMEDOUT) {
            return r;
        }
    }
    __atomic_fetch_sub(&s->data, 1, __ATOMIC_SEQ_CST);  /* vs. a handler's post */
    return 0;
}

/* Whether the runtime waits for this semaphore itself. Process-shared ones
 * are polled only where parking is possible; elsewhere glibc waits. */
static bool sem_is_ours(sem_t *sem)
{
    return green__on_green_kthread()
        && (sem_is_private(sem) || green__may_park());
}

GREEN_WRAP int sem_wait(sem_t *sem)
{
    green__ensure_init();
    if (!sem_is_ours(sem)) {
        return GREEN_REAL_FN(sem_wait)(sem);
    }
    const int entry_errno = errno;
    return (int)green__wrap_ret(sem_take(sem, -1), entry_errno);
}

GREEN_WRAP int sem_trywait(sem_t *sem)
{
    green__ensure_init();
    if (!green__on_green_kthread() || !sem_is_private(sem)) {
        return GREEN_REAL_FN(sem_trywait)(sem);
    }
    struct glibc_sem *s = as_glibc(sem);
    if ((s->data & SEM_VALUE_BITS) == 0) {
        green__sched_spun();            /* a loop of trywaits is a poll */
        errno = EAGAIN;
        return -1;
    }
    __atomic_fetch_sub(&s->data, 1, __ATOMIC_SEQ_CST);  /* vs. a handler's post */
    return 0;
}

static int timed_take(sem_t *sem, clockid_t clock,
                      const struct timespec *abstime)
{
    if (!green__abs_clock_valid(clock) || !green__timespec_valid(abstime)) {
        errno = EINVAL;                 /* glibc checks before anything */
        return -1;
    }
    const int entry_errno = errno;
    return (int)green__wrap_ret(
        sem_take(sem, green__deadline_abs(clock, abstime)), entry_errno);
}

GREEN_WRAP int sem_timedwait(sem_t *sem, const struct timespec *abstime)
{
    green__ensure_init();
    if (!sem_is_ours(sem)) {
        return GREEN_REAL_FN(sem_timedwait)(sem, abstime);
    }
    return timed_take(sem, CLOCK_REALTIME, abstime);
}

GREEN_WRAP int sem_clockwait(sem_t *sem, clockid_t clock,
                             const struct timespec *abstime)
{
    green__ensure_init();
    if (!sem_is_ours(sem)) {
        return GREEN_REAL_FN(sem_clockwait)(sem, clock, abstime);
    }
    return timed_take(sem, clock, abstime);
}

GREEN_WRAP int sem_post(sem_t *sem)
{
    green__ensure_init();
    struct glibc_sem *s = as_glibc(sem);
    if (!green__on_green_kthread() || !sem_is_private(sem)
        || (s->data >> 32) != 0) {
        /* glibc posts and wakes its own waiters (another process's, or
         * kernel threads the runtime did not make, counted in the high
         * word); green waiters are woken too, through the hub from
         * another kernel thread. */
        const int r = GREEN_REAL_FN(sem_post)(sem);
        if (r == 0 && sem_is_private(sem)) {
            if (green__on_green_kthread()) {
                green__lot_wake(sem, 1);
            } else {
                green__remote_wake(sem, 1);
            }
        }
        return r;
    }
    if ((s->data & SEM_VALUE_BITS) == SEM_VALUE_MAX) {
        errno = EOVERFLOW;
        return -1;
    }
    if (green__sched.handler_depth > 0) {
        /* In a signal handler (sem_post is async-signal-safe): the code
         * it interrupted may be in the middle of the parking lot. */
        __atomic_fetch_add(&s->data, 1, __ATOMIC_SEQ_CST);
        green__signal_defer_wake(sem, 1);
        return 0;
    }
    /* One atomic add: a handler that posts between a load and a store
     * of ours would lose its post (before the runtime starts a handler
     * runs with handler_depth 0 and comes here too). */
    __atomic_fetch_add(&s->data, 1, __ATOMIC_SEQ_CST);
    green__lot_wake(sem, 1);
    return 0;
}
