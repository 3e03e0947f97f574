/* SPDX-License-Identifier: MIT */
/* Condition variables on the parking lot (hub/lot.c): pthread_cond_wait,
 * timedwait, clockwait, signal and broadcast; init and destroy stay
 * glibc's. A condition variable needs no state of its own: its waiters
 * queue in the lot under its address, and with one kernel thread nothing
 * can slip between unlocking the mutex (wrappers/mutex.c) and parking.
 * Waiters in kernel threads the runtime did not make wait in glibc's
 * condition, which signal and broadcast also wake.
 *
 * A wait the runtime cannot queue, on a process-shared condition variable
 * (which another process may signal) or with a mutex glibc keeps, unlocks,
 * sleeps 5 ms at most and relocks: a spurious wake-up, which every
 * condition wait must expect. Calls made by a malloc that replaced
 * glibc's go straight to glibc, as its mutex calls do.
 */
#include "config.h"

#include <limits.h>

#include "wrappers/mutex.h"
#include "wrappers/wrap.h"

#define COND_SHARED     1       /* __wrefs bits, glibc's pthread_cond_init */
#define COND_MONOTONIC  2

#define POLLED_COND_NS (5 * GREEN__NS_PER_MS)

/* A wait the runtime cannot queue (a process-shared condition variable, or
 * a mutex glibc keeps): unlock, sleep until `deadline` or 5 ms at most,
 * relock, and report a wake-up (spurious, as condition waits may be) or
 * ETIMEDOUT. */
static int polled_cond_wait(pthread_mutex_t *m, int64_t deadline)
{
    const int r = pthread_mutex_unlock(m);
    if (r != 0) {
        return r;
    }
    green__park_until(green__deadline_min(deadline,
                                          green__deadline_in(POLLED_COND_NS)));
    pthread_mutex_lock(m);
    return green__deadline_passed(deadline) ? ETIMEDOUT : 0;
}

/* Must the runtime poll for this condition wait? */
static bool cond_is_polled(const pthread_cond_t *c, const pthread_mutex_t *m)
{
    return green__in_green_thread() && green__may_park()
        && ((c->__data.__wrefs & COND_SHARED) || !green__mutex_is_ours(m));
}

/* Can the runtime wait on this condition variable itself? */
static bool cond_is_ours(const pthread_cond_t *c, const pthread_mutex_t *m)
{
    return green__mutex_is_ours(m) && !(c->__data.__wrefs & COND_SHARED);
}

/* Unlock, wait on the condition until woken or `deadline`, relock. */
static int cond_wait(pthread_cond_t *c, pthread_mutex_t *m, int64_t deadline)
{
    unsigned depth = 0;
    const int r = green__mutex_unlock(m, true, &depth);
    if (r != 0) {
        return r;
    }
    const int w = green__lot_wait(c, deadline);
    green__mutex_lock(m, -1);
    if (depth > 1) {
        m->__data.__count = depth;
    }
    return w == -ETIMEDOUT ? ETIMEDOUT : 0;
}

GREEN_WRAP int pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m)
{
    green__ensure_init();
    if (GREEN__FROM_ALLOCATOR()) {
        return GREEN_REAL_FN(pthread_cond_wait)(c, m);
    }
    if (cond_is_polled(c, m)) {
        return polled_cond_wait(m, -1);
    }
    if (!cond_is_ours(c, m)) {
        return GREEN_REAL_FN(pthread_cond_wait)(c, m);
    }
    return cond_wait(c, m, -1);
}

GREEN_WRAP int pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m,
                                      const struct timespec *abstime)
{
    green__ensure_init();
    if (GREEN__FROM_ALLOCATOR()) {
        return GREEN_REAL_FN(pthread_cond_timedwait)(c, m, abstime);
    }
    const bool polled = cond_is_polled(c, m);
    if (!polled && !cond_is_ours(c, m)) {
        return GREEN_REAL_FN(pthread_cond_timedwait)(c, m, abstime);
    }
    if (!green__timespec_valid(abstime)) {
        return EINVAL;
    }
    const clockid_t clock = (c->__data.__wrefs & COND_MONOTONIC)
        ? CLOCK_MONOTONIC : CLOCK_REALTIME;
    const int64_t deadline = green__deadline_abs(clock, abstime);
    return polled ? polled_cond_wait(m, deadline)
                  : cond_wait(c, m, deadline);
}

GREEN_WRAP int pthread_cond_clockwait(pthread_cond_t *c, pthread_mutex_t *m,
                                      clockid_t clock,
                                      const struct timespec *abstime)
{
    green__ensure_init();
    if (GREEN__FROM_ALLOCATOR()) {
        return GREEN_REAL_FN(pthread_cond_clockwait)(c, m, clock, abstime);
    }
    const bool polled = cond_is_polled(c, m);
    if (!polled && !cond_is_ours(c, m)) {
        return GREEN_REAL_FN(pthread_cond_clockwait)(c, m, clock, abstime);
    }
    if (!green__abs_clock_valid(clock) || !green__timespec_valid(abstime)) {
        return EINVAL;
    }
    const int64_t deadline = green__deadline_abs(clock, abstime);
    return polled ? polled_cond_wait(m, deadline)
                  : cond_wait(c, m, deadline);
}

/* Signal or broadcast: green waiters are in the lot, waiters in kernel
 * threads the runtime did not make are in glibc's condition (glibc's call
 * costs little when it has none). From such a kernel thread, the green
 * waiters are woken through the hub. */
static int cond_wake(pthread_cond_t *c, unsigned n)
{
    if (!green__in_green_thread()) {
        const int r = n == 1 ? GREEN_REAL_FN(pthread_cond_signal)(c)
                             : GREEN_REAL_FN(pthread_cond_broadcast)(c);
        if (!green__on_green_kthread()) {
            green__remote_wake(c, n);
        }
        return r;
    }
    if (green__lot_wake(c, n) == 1 && n == 1) {
        return 0;
    }
    return n == 1 ? GREEN_REAL_FN(pthread_cond_signal)(c)
                  : GREEN_REAL_FN(pthread_cond_broadcast)(c);
}

GREEN_WRAP int pthread_cond_signal(pthread_cond_t *c)
{
    green__ensure_init();
    if (GREEN__FROM_ALLOCATOR()) {
        return GREEN_REAL_FN(pthread_cond_signal)(c);
    }
    return cond_wake(c, 1);
}

GREEN_WRAP int pthread_cond_broadcast(pthread_cond_t *c)
{
    green__ensure_init();
    if (GREEN__FROM_ALLOCATOR()) {
        return GREEN_REAL_FN(pthread_cond_broadcast)(c);
    }
    return cond_wake(c, UINT_MAX);
}
