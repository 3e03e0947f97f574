/* SPDX-License-Identifier: MIT */
/* Mutexes on the parking lot (hub/lot.c): pthread_mutex_lock, trylock,
 * timedlock, clocklock and unlock; init and destroy stay glibc's.
 * Condition variables, whose waits release and retake these mutexes, are
 * wrappers/cond.c's.
 *
 * State lives in the program's own pthread_mutex_t, in glibc's encoding, so
 * static initialisers and pthread_mutex_init/destroy (left to glibc) just
 * work, and a mutex glibc locked before the first thread existed is
 * understood after: __lock is 0 free, 1 locked, 2 locked with waiters;
 * __owner is the owner's id (main: its kernel tid, as glibc writes);
 * __count counts recursive locks; __nusers counts holders (glibc's
 * pthread_mutex_destroy answers EBUSY from it); __kind is the type.
 * Waiters queue in the lot under the mutex's address.
 *
 * Process-shared, robust, priority-inheritance and -protection mutexes stay
 * glibc's objects, which another process may hold: while other green
 * threads could run, waiting for one polls glibc's trylock with a growing
 * green sleep (from 0.1 ms, doubling while under 16 ms: hub/backoff.c),
 * so the kernel thread never blocks. glibc records their owner as the
 * kernel tid, which all green threads share: which green thread holds
 * one is kept here, so that they answer each green thread as glibc
 * answers each kernel thread (EBUSY, EPERM, EDEADLK, recursion by the
 * owner only). Calls made by a malloc that replaced
 * glibc's (jemalloc) go straight to glibc: its locks are shared with its
 * own kernel thread and held as briefly as glibc's arena locks.
 * Everything before the runtime starts is glibc's (one thread: glibc
 * waits exactly as natively). Once it has started, waits always park,
 * even with one thread left: the hub then sleeps in libev until a
 * deadline, or forever if nothing can wake anyone, as a deadlocked
 * program would.
 */
#include "config.h"

#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "wrappers/mutex.h"
#include "wrappers/wrap.h"

/* glibc records its mutexes' owner as the kernel tid (__owner), the same
 * for every green thread. Which green thread holds one of glibc's mutexes
 * that this kernel thread holds is kept here, by address, for as many
 * mutexes as green threads hold at once (HELD_MAX; beyond that a mutex
 * reads as main's, as before the runtime started, when main was the only
 * thread). */
#define HELD_MAX 64

static struct {
    const pthread_mutex_t *m;
    int id;
} held[HELD_MAX];

/* The id of the green thread holding glibc's mutex `m`, or 0 when glibc
 * does not record this kernel thread as its owner (it is free, or held in
 * another process or kernel thread). Green kernel thread. */
static int holder(const pthread_mutex_t *m)
{
    const int ktid = green__sched_kernel_tid();
    if (m->__data.__owner != ktid) {
        return 0;
    }
    for (int i = 0; i < HELD_MAX; i++) {
        if (held[i].m == m) {
            return held[i].id;
        }
    }
    return ktid;                        /* main's id */
}

static void forget_holder(const pthread_mutex_t *m)
{
    for (int i = 0; i < HELD_MAX; i++) {
        if (held[i].m == m) {
            held[i].m = NULL;
        }
    }
}

/* Green thread `id` has just taken glibc's mutex `m`. */
static void set_holder(const pthread_mutex_t *m, int id)
{
    forget_holder(m);
    if (id == green__sched_kernel_tid()) {
        return;                         /* main: what no record means */
    }
    for (int i = 0; i < HELD_MAX; i++) {
        if (held[i].m == NULL) {
            held[i].m = m;
            held[i].id = id;
            return;
        }
    }
}

/* glibc's trylock on `m` for the calling green thread: EBUSY while
 * another green thread holds it, as glibc answers another kernel
 * thread. */
static int shared_trylock(pthread_mutex_t *m)
{
    const int me = green__thread_id(green__self());
    const int h = holder(m);
    if (h != 0 && h != me) {
        return EBUSY;
    }
    const int r = GREEN_REAL_FN(pthread_mutex_trylock)(m);
    if ((r == 0 || r == EOWNERDEAD) && h == 0) {
        set_holder(m, me);
    }
    return r;
}

/* glibc's lock, for its owner, answers at once: an error-checking mutex
 * EDEADLK (its trylock, EBUSY). */
static bool relock_deadlocks(const pthread_mutex_t *m)
{
    return green__mutex_type(m) == PTHREAD_MUTEX_ERRORCHECK
        && holder(m) == green__thread_id(green__self());
}

/* Poll glibc's trylock on `m` until it stops answering EBUSY or `deadline`
 * (-1: none) passes. Returns trylock's answer (0, EOWNERDEAD, ...),
 * EDEADLK or ETIMEDOUT. Green thread. */
static int polled_lock(pthread_mutex_t *m, int64_t deadline)
{
    if (relock_deadlocks(m)) {
        return EDEADLK;
    }
    struct green__backoff b = GREEN__BACKOFF(100 * GREEN__NS_PER_US,
                                             16 * GREEN__NS_PER_MS);
    int r;
    while ((r = shared_trylock(m)) == EBUSY) {
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
    if (relock_deadlocks(m)) {
        return EDEADLK;
    }
    const int r = shared_trylock(m);
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
    if (GREEN__FROM_ALLOCATOR()) {
        return GREEN_REAL_FN(pthread_mutex_lock)(m);
    }
    if (green__mutex_is_ours(m)) {
        return green__mutex_lock(m, -1);
    }
    if (green__may_park()) {
        return polled_lock(m, -1);
    }
    const int r = GREEN_REAL_FN(pthread_mutex_lock)(m);
    if ((r == 0 || r == EOWNERDEAD) && green__in_green_thread()) {
        set_holder(m, green__thread_id(green__self()));
    }
    return r;
}

GREEN_WRAP int pthread_mutex_trylock(pthread_mutex_t *m)
{
    green__ensure_init();
    if (GREEN__FROM_ALLOCATOR()) {
        return GREEN_REAL_FN(pthread_mutex_trylock)(m);
    }
    if (!green__mutex_is_ours(m)) {
        if (green__in_green_thread()) {
            return shared_trylock(m);
        }
        return GREEN_REAL_FN(pthread_mutex_trylock)(m);
    }
    if (m->__data.__lock != 0) {
        if (green__mutex_type(m) == PTHREAD_MUTEX_RECURSIVE
            && m->__data.__owner == green__thread_id(green__self())) {
            return green__mutex_lock(m, -1);
        }
        green__sched_spun();            /* a loop of trylocks is a poll */
        return EBUSY;
    }
    green__mutex_take(m, green__thread_id(green__self()), false);
    return 0;
}

/* glibc looks at the timeout only when it has to wait. */
static int mutex_clocklock(pthread_mutex_t *m, clockid_t clock,
                           const struct timespec *abstime)
{
    const bool own = m->__data.__owner == green__thread_id(green__self())
        && (green__mutex_type(m) == PTHREAD_MUTEX_RECURSIVE
            || green__mutex_type(m) == PTHREAD_MUTEX_ERRORCHECK);
    int64_t deadline = -1;
    if (m->__data.__lock != 0 && !own) {
        if (!green__timespec_valid(abstime)) {
            return EINVAL;
        }
        deadline = green__deadline_abs(clock, abstime);
    }
    return green__mutex_lock(m, deadline);
}

GREEN_WRAP int pthread_mutex_timedlock(pthread_mutex_t *m,
                                       const struct timespec *abstime)
{
    green__ensure_init();
    if (GREEN__FROM_ALLOCATOR()) {
        return GREEN_REAL_FN(pthread_mutex_timedlock)(m, abstime);
    }
    if (green__mutex_is_ours(m)) {
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
    if (GREEN__FROM_ALLOCATOR()) {
        return GREEN_REAL_FN(pthread_mutex_clocklock)(m, clock, abstime);
    }
    const bool ours = green__mutex_is_ours(m);
    if (!ours && !green__may_park()) {
        return GREEN_REAL_FN(pthread_mutex_clocklock)(m, clock, abstime);
    }
    if (!green__abs_clock_valid(clock)) {
        return EINVAL;
    }
    return ours ? mutex_clocklock(m, clock, abstime)
                : polled_clocklock(m, clock, abstime);
}

/* Unlock one of glibc's mutexes. In a green thread, an error-checking or
 * recursive one held by another green thread gives EPERM, as glibc
 * answers another kernel thread. */
static int shared_unlock(pthread_mutex_t *m)
{
    const bool green = green__in_green_thread();
    const int type = green__mutex_type(m);
    bool last = true;
    if (green) {
        const int h = holder(m);
        if (h != 0 && h != green__thread_id(green__self())
            && (type == PTHREAD_MUTEX_RECURSIVE
                || type == PTHREAD_MUTEX_ERRORCHECK)) {
            return EPERM;
        }
        last = type != PTHREAD_MUTEX_RECURSIVE || m->__data.__count <= 1;
    }
    /* From another kernel thread: glibc wakes kernel waiters; green ones
     * (they marked the lock contended) need the hub. */
    const bool contended = m->__data.__lock == 2;
    const int r = GREEN_REAL_FN(pthread_mutex_unlock)(m);
    if (r == 0 && contended && !green__on_green_kthread()) {
        green__remote_wake(m, 1);
    }
    if (r == 0 && green && last) {
        forget_holder(m);               /* by address only: m may be gone */
    }
    return r;
}

GREEN_WRAP int pthread_mutex_unlock(pthread_mutex_t *m)
{
    green__ensure_init();
    if (GREEN__FROM_ALLOCATOR()) {
        return GREEN_REAL_FN(pthread_mutex_unlock)(m);
    }
    if (!green__mutex_is_ours(m)) {
        return shared_unlock(m);
    }
    return green__mutex_unlock(m, false, NULL);
}
