/* SPDX-License-Identifier: MIT */
/* Mutexes and condition variables on the parking lot (hub/lot.c).
 *
 * State lives in the program's own pthread_mutex_t, in glibc's encoding, so
 * static initialisers and pthread_mutex_init/destroy (left to glibc) just
 * work, and a mutex glibc locked before the first thread existed is
 * understood after: __lock is 0 free, 1 locked, 2 locked with waiters;
 * __owner is the owner's id (main: its kernel tid, as glibc writes);
 * __count counts recursive locks; __nusers counts holders (glibc's
 * pthread_mutex_destroy answers EBUSY from it); __kind is the type.
 * Waiters queue in the lot under the mutex's address; a condition variable
 * needs no state of its own: its waiters queue under its address, and with
 * one kernel thread nothing can slip between unlocking and parking.
 *
 * Process-shared, robust, priority-inheritance and -protection mutexes stay
 * glibc's objects, which another process may hold: while other green
 * threads could run, waiting for one polls glibc's trylock with a growing
 * green sleep (from 0.1 ms, doubling while under 16 ms: hub/backoff.c),
 * so the kernel thread never blocks. A wait on a process-shared condition
 * variable (which another process may signal) unlocks, sleeps 5 ms at
 * most and relocks: a spurious wake-up, which every condition wait must
 * expect. Calls made by a malloc that
 * replaced glibc's (jemalloc) go straight to glibc: its locks are shared
 * with its own kernel thread and held as briefly as glibc's arena locks. Everything before the runtime
 * starts is glibc's (one thread: glibc waits exactly as natively). Once it has started, waits always park, even
 * with one thread left: the hub then sleeps in libev until a deadline, or
 * forever if nothing can wake anyone, as a deadlocked program would.
 */
#include "config.h"

#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "wrappers/wrap.h"

#define KIND_TYPE_MASK  3       /* PTHREAD_MUTEX_KIND_MASK_NP */
#define KIND_ELISION    (256 | 512)
#define COND_SHARED     1       /* __wrefs bits, glibc's pthread_cond_init */
#define COND_MONOTONIC  2

/* Called by a malloc that replaced glibc's: its locks stay glibc's
 * (green__called_by_allocator). Evaluated in the exported wrapper itself,
 * whose return address is in the caller. */
#define FROM_ALLOCATOR() \
    __builtin_expect(green__called_by_allocator(__builtin_return_address(0)), 0)

/* Can the runtime handle this mutex itself? */
static bool mutex_is_ours(const pthread_mutex_t *m)
{
    return green__in_green_thread()
        && (m->__data.__kind & ~(KIND_TYPE_MASK | KIND_ELISION)) == 0;
}

static int mutex_type(const pthread_mutex_t *m)
{
    return m->__data.__kind & KIND_TYPE_MASK;
}

/* Take a free mutex. */
static void mutex_take(pthread_mutex_t *m, int id, bool contended)
{
    m->__data.__lock = contended ? 2 : 1;
    m->__data.__owner = id;
    m->__data.__nusers++;
    if (mutex_type(m) == PTHREAD_MUTEX_RECURSIVE) {
        m->__data.__count = 1;
    }
}

/* Lock for the running green thread. Returns 0, EDEADLK, EAGAIN
 * (recursion overflow) or ETIMEDOUT. */
static int mutex_lock(pthread_mutex_t *m, int64_t deadline)
{
    const int id = green__sched.current->id;
    if (m->__data.__lock != 0 && m->__data.__owner == id) {
        if (mutex_type(m) == PTHREAD_MUTEX_RECURSIVE) {
            if (m->__data.__count == UINT_MAX) {
                return EAGAIN;
            }
            m->__data.__count++;
            return 0;
        }
        if (mutex_type(m) == PTHREAD_MUTEX_ERRORCHECK) {
            return EDEADLK;
        }
    }
    bool contended = false;
    while (m->__data.__lock != 0) {
        m->__data.__lock = 2;
        if (green__lot_wait(m, deadline) == -ETIMEDOUT) {
            return ETIMEDOUT;
        }
        contended = true;
    }
    mutex_take(m, id, contended);
    return 0;
}

/* Release one level of the lock; `full` releases a recursive mutex
 * entirely (for a condition wait) and stores its depth in *depth. */
static int mutex_unlock(pthread_mutex_t *m, bool full, unsigned *depth)
{
    const int type = mutex_type(m);
    if ((type == PTHREAD_MUTEX_RECURSIVE || type == PTHREAD_MUTEX_ERRORCHECK)
        && (m->__data.__lock == 0
            || m->__data.__owner != green__sched.current->id)) {
        return EPERM;
    }
    if (type == PTHREAD_MUTEX_RECURSIVE) {
        if (depth) {
            *depth = m->__data.__count;
        }
        if (!full && --m->__data.__count != 0) {
            return 0;
        }
        m->__data.__count = 0;
    }
    m->__data.__owner = 0;
    m->__data.__nusers--;
    const int old = m->__data.__lock;
    m->__data.__lock = 0;
    if (old == 2 && green__lot_wake(m, 1) == 0) {
        /* The waiter is a kernel thread the runtime did not make, in
         * glibc's lock: wake it as glibc's unlock would. */
        syscall(SYS_futex, &m->__data.__lock,
                FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 1, NULL, NULL, 0);
    }
    return 0;
}

/* Poll glibc's trylock on `m` until it stops answering EBUSY or `deadline`
 * (-1: none) passes. Returns trylock's answer (0, EOWNERDEAD, ...) or
 * ETIMEDOUT. */
static int polled_lock(pthread_mutex_t *m, int64_t deadline)
{
    struct green__backoff b = GREEN__BACKOFF(100 * GREEN__NS_PER_US,
                                             16 * GREEN__NS_PER_MS);
    int r;
    while ((r = GREEN_REAL_FN(pthread_mutex_trylock)(m)) == EBUSY) {
        if (green__backoff_sleep(&b, deadline) == -ETIMEDOUT) {
            return ETIMEDOUT;
        }
    }
    return r;
}

/* Timed polled lock: glibc looks at the timeout only when it must wait. */
static int polled_clocklock(pthread_mutex_t *m, clockid_t clock,
                            const struct timespec *abstime)
{
    const int r = GREEN_REAL_FN(pthread_mutex_trylock)(m);
    if (r != EBUSY) {
        return r;
    }
    if (!green__timespec_valid(abstime)) {
        return EINVAL;
    }
    return polled_lock(m, green__deadline_abs(clock, abstime));
}

/* Mutexes glibc keeps are polled (never blocking the kernel thread)
 * where other green threads could run, and glibc's call elsewhere. */
GREEN_WRAP int pthread_mutex_lock(pthread_mutex_t *m)
{
    green__ensure_init();
    if (FROM_ALLOCATOR()) {
        return GREEN_REAL_FN(pthread_mutex_lock)(m);
    }
    if (mutex_is_ours(m)) {
        return mutex_lock(m, -1);
    }
    if (green__may_park()) {
        return polled_lock(m, -1);
    }
    return GREEN_REAL_FN(pthread_mutex_lock)(m);
}

GREEN_WRAP int pthread_mutex_trylock(pthread_mutex_t *m)
{
    green__ensure_init();
    if (FROM_ALLOCATOR()) {
        return GREEN_REAL_FN(pthread_mutex_trylock)(m);
    }
    if (!mutex_is_ours(m)) {
        return GREEN_REAL_FN(pthread_mutex_trylock)(m);
    }
    if (m->__data.__lock != 0) {
        if (mutex_type(m) == PTHREAD_MUTEX_RECURSIVE
            && m->__data.__owner == green__sched.current->id) {
            return mutex_lock(m, -1);
        }
        green__sched_spun();            /* a loop of trylocks is a poll */
        return EBUSY;
    }
    mutex_take(m, green__sched.current->id, false);
    return 0;
}

/* glibc looks at the timeout only when it has to wait. */
static int mutex_clocklock(pthread_mutex_t *m, clockid_t clock,
                           const struct timespec *abstime)
{
    const bool own = m->__data.__owner == green__sched.current->id
        && (mutex_type(m) == PTHREAD_MUTEX_RECURSIVE
            || mutex_type(m) == PTHREAD_MUTEX_ERRORCHECK);
    int64_t deadline = -1;
    if (m->__data.__lock != 0 && !own) {
        if (!green__timespec_valid(abstime)) {
            return EINVAL;
        }
        deadline = green__deadline_abs(clock, abstime);
    }
    return mutex_lock(m, deadline);
}

GREEN_WRAP int pthread_mutex_timedlock(pthread_mutex_t *m,
                                       const struct timespec *abstime)
{
    green__ensure_init();
    if (FROM_ALLOCATOR()) {
        return GREEN_REAL_FN(pthread_mutex_timedlock)(m, abstime);
    }
    if (mutex_is_ours(m)) {
        return mutex_clocklock(m, CLOCK_REALTIME, abstime);
    }
    if (green__may_park()) {
        return polled_clocklock(m, CLOCK_REALTIME, abstime);
    }
    return GREEN_REAL_FN(pthread_mutex_timedlock)(m, abstime);
}

GREEN_WRAP int pthread_mutex_clocklock(pthread_mutex_t *m, clockid_t clock,
                                       const struct timespec *abstime)
{
    green__ensure_init();
    if (FROM_ALLOCATOR()) {
        return GREEN_REAL_FN(pthread_mutex_clocklock)(m, clock, abstime);
    }
    const bool ours = mutex_is_ours(m);
    if (!ours && !green__may_park()) {
        return GREEN_REAL_FN(pthread_mutex_clocklock)(m, clock, abstime);
    }
    if (!green__abs_clock_valid(clock)) {
        return EINVAL;
    }
    return ours ? mutex_clocklock(m, clock, abstime)
                : polled_clocklock(m, clock, abstime);
}

GREEN_WRAP int pthread_mutex_unlock(pthread_mutex_t *m)
{
    green__ensure_init();
    if (FROM_ALLOCATOR()) {
        return GREEN_REAL_FN(pthread_mutex_unlock)(m);
    }
    if (!mutex_is_ours(m)) {
        /* From another kernel thread: glibc wakes kernel waiters; green
         * ones (they marked the lock contended) need the hub. */
        const bool contended = m->__data.__lock == 2;
        const int r = GREEN_REAL_FN(pthread_mutex_unlock)(m);
        if (r == 0 && contended && !green__on_green_kthread()) {
            green__remote_wake(m, 1);
        }
        return r;
    }
    return mutex_unlock(m, false, NULL);
}

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
        && ((c->__data.__wrefs & COND_SHARED) || !mutex_is_ours(m));
}

/* Can the runtime wait on this condition variable itself? */
static bool cond_is_ours(const pthread_cond_t *c, const pthread_mutex_t *m)
{
    return mutex_is_ours(m) && !(c->__data.__wrefs & COND_SHARED);
}

/* Unlock, wait on the condition until woken or `deadline`, relock. */
static int cond_wait(pthread_cond_t *c, pthread_mutex_t *m, int64_t deadline)
{
    unsigned depth = 0;
    const int r = mutex_unlock(m, true, &depth);
    if (r != 0) {
        return r;
    }
    const int w = green__lot_wait(c, deadline);
    mutex_lock(m, -1);
    if (depth > 1) {
        m->__data.__count = depth;
    }
    return w == -ETIMEDOUT ? ETIMEDOUT : 0;
}

GREEN_WRAP int pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m)
{
    green__ensure_init();
    if (FROM_ALLOCATOR()) {
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
    if (FROM_ALLOCATOR()) {
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
    if (FROM_ALLOCATOR()) {
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
    if (FROM_ALLOCATOR()) {
        return GREEN_REAL_FN(pthread_cond_signal)(c);
    }
    return cond_wake(c, 1);
}

GREEN_WRAP int pthread_cond_broadcast(pthread_cond_t *c)
{
    green__ensure_init();
    if (FROM_ALLOCATOR()) {
        return GREEN_REAL_FN(pthread_cond_broadcast)(c);
    }
    return cond_wake(c, UINT_MAX);
}
