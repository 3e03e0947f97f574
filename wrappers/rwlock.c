/* SPDX-License-Identifier: MIT */
/* Read-write locks on the parking lot.
 *
 * State lives in the program's pthread_rwlock_t, in fields glibc leaves at
 * zero for an unlocked lock (PTHREAD_RWLOCK_INITIALIZER, pthread_rwlock_init;
 * pthread_rwlock_destroy reads none of them): __readers counts read holders,
 * __cur_writer is the writer's id (as glibc stores the writer's tid) and
 * __writers counts writers waiting. Readers wait in the lot under
 * &__readers, writers under &__writers. The kind in __flags decides who goes
 * first: glibc's default prefers readers (a reader may join readers while a
 * writer waits); PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP makes new
 * readers wait behind a waiting writer.
 *
 * The runtime handles these locks on the green kernel thread from the start
 * (a lock taken before the first thread must be understood after it);
 * process-shared locks and other kernel threads use glibc's.
 */
#include "config.h"

#include <limits.h>

#include "wrappers/wrap.h"

static bool rwlock_is_ours(const pthread_rwlock_t *rw)
{
    return green__on_green_kthread() && rw->__data.__shared == 0;
}

static bool prefers_writers(const pthread_rwlock_t *rw)
{
    return rw->__data.__flags == PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP;
}

static int rdlock(pthread_rwlock_t *rw, int64_t deadline)
{
    if (rw->__data.__cur_writer == green__sched_self_id()) {
        return EDEADLK;
    }
    while (rw->__data.__cur_writer != 0
           || (prefers_writers(rw) && rw->__data.__writers > 0)) {
        /* glibc's rwlock waits go on after a handler (-EINTR). */
        if (green__sync_wait(&rw->__data.__readers, deadline)
            == -ETIMEDOUT) {
            return ETIMEDOUT;
        }
    }
    if (rw->__data.__readers == UINT_MAX) {
        return EAGAIN;
    }
    rw->__data.__readers++;
    return 0;
}

static int wrlock(pthread_rwlock_t *rw, int64_t deadline)
{
    const int id = green__sched_self_id();
    if (rw->__data.__cur_writer == id) {
        return EDEADLK;
    }
    while (rw->__data.__cur_writer != 0 || rw->__data.__readers != 0) {
        rw->__data.__writers++;
        const int r = green__sync_wait(&rw->__data.__writers, deadline);
        rw->__data.__writers--;
        if (r == -ETIMEDOUT) {
            /* Readers held back by this writer may go now. */
            if (rw->__data.__writers == 0 && rw->__data.__cur_writer == 0) {
                green__lot_wake(&rw->__data.__readers, UINT_MAX);
            }
            return ETIMEDOUT;
        }
    }
    rw->__data.__cur_writer = id;
    return 0;
}


/* glibc checks the clock and timeout first, even when it need not wait. */
static int timed(pthread_rwlock_t *rw, clockid_t clock,
                 const struct timespec *abstime,
                 int (*lock)(pthread_rwlock_t *, int64_t))
{
    if (!green__abs_clock_valid(clock) || !green__timespec_valid(abstime)) {
        return EINVAL;
    }
    return lock(rw, green__deadline_abs(clock, abstime));
}

GREEN_WRAP int pthread_rwlock_rdlock(pthread_rwlock_t *rw)
{
    green__ensure_init();
    if (!rwlock_is_ours(rw)) {
        return GREEN_REAL_FN(pthread_rwlock_rdlock)(rw);
    }
    return rdlock(rw, -1);
}

GREEN_WRAP int pthread_rwlock_wrlock(pthread_rwlock_t *rw)
{
    green__ensure_init();
    if (!rwlock_is_ours(rw)) {
        return GREEN_REAL_FN(pthread_rwlock_wrlock)(rw);
    }
    return wrlock(rw, -1);
}

GREEN_WRAP int pthread_rwlock_tryrdlock(pthread_rwlock_t *rw)
{
    green__ensure_init();
    if (!rwlock_is_ours(rw)) {
        return GREEN_REAL_FN(pthread_rwlock_tryrdlock)(rw);
    }
    if (rw->__data.__cur_writer != 0
        || (prefers_writers(rw) && rw->__data.__writers > 0)) {
        green__sched_spun();            /* a loop of trylocks is a poll */
        return EBUSY;
    }
    return rdlock(rw, -1);
}

GREEN_WRAP int pthread_rwlock_trywrlock(pthread_rwlock_t *rw)
{
    green__ensure_init();
    if (!rwlock_is_ours(rw)) {
        return GREEN_REAL_FN(pthread_rwlock_trywrlock)(rw);
    }
    if (rw->__data.__cur_writer != 0 || rw->__data.__readers != 0) {
        green__sched_spun();
        return EBUSY;
    }
    return wrlock(rw, -1);
}

GREEN_WRAP int pthread_rwlock_timedrdlock(pthread_rwlock_t *rw,
                                          const struct timespec *abstime)
{
    green__ensure_init();
    if (!rwlock_is_ours(rw)) {
        return GREEN_REAL_FN(pthread_rwlock_timedrdlock)(rw, abstime);
    }
    return timed(rw, CLOCK_REALTIME, abstime, rdlock);
}

GREEN_WRAP int pthread_rwlock_timedwrlock(pthread_rwlock_t *rw,
                                          const struct timespec *abstime)
{
    green__ensure_init();
    if (!rwlock_is_ours(rw)) {
        return GREEN_REAL_FN(pthread_rwlock_timedwrlock)(rw, abstime);
    }
    return timed(rw, CLOCK_REALTIME, abstime, wrlock);
}

GREEN_WRAP int pthread_rwlock_clockrdlock(pthread_rwlock_t *rw,
                                          clockid_t clock,
                                          const struct timespec *abstime)
{
    green__ensure_init();
    if (!rwlock_is_ours(rw)) {
        return GREEN_REAL_FN(pthread_rwlock_clockrdlock)(rw, clock, abstime);
    }
    return timed(rw, clock, abstime, rdlock);
}

GREEN_WRAP int pthread_rwlock_clockwrlock(pthread_rwlock_t *rw,
                                          clockid_t clock,
                                          const struct timespec *abstime)
{
    green__ensure_init();
    if (!rwlock_is_ours(rw)) {
        return GREEN_REAL_FN(pthread_rwlock_clockwrlock)(rw, clock, abstime);
    }
    return timed(rw, clock, abstime, wrlock);
}

GREEN_WRAP int pthread_rwlock_unlock(pthread_rwlock_t *rw)
{
    green__ensure_init();
    if (!rwlock_is_ours(rw)) {
        return GREEN_REAL_FN(pthread_rwlock_unlock)(rw);
    }
    if (rw->__data.__cur_writer != 0) {
        rw->__data.__cur_writer = 0;
    } else if (rw->__data.__readers > 0) {
        rw->__data.__readers--;
    }
    if (rw->__data.__readers == 0 && rw->__data.__writers > 0) {
        green__lot_wake(&rw->__data.__writers, 1);
    }
    if (rw->__data.__cur_writer == 0
        && !(prefers_writers(rw) && rw->__data.__writers > 0)) {
        green__lot_wake(&rw->__data.__readers, UINT_MAX);
    }
    return 0;
}
