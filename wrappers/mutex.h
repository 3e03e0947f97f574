/* SPDX-License-Identifier: MIT */
/* The mutex core that wrappers/mutex.c and wrappers/cond.c share: taking
 * and releasing a pthread_mutex_t as the runtime keeps it (a condition
 * wait releases the mutex, parks and takes it again). Inline: both sit
 * on every hand-off between threads.
 */
#ifndef GREEN_WRAPPERS_MUTEX_H
#define GREEN_WRAPPERS_MUTEX_H

#include <pthread.h>
#include <stdbool.h>
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "hub/hub.h"

/* True in a mutex or condition wrapper called by a malloc that replaced
 * glibc's: its locks stay glibc's (green__called_by_allocator).
 * Evaluated in the exported wrapper itself, whose return address is in
 * the caller. */
#define GREEN__FROM_ALLOCATOR()                                          \
    __builtin_expect(                                                    \
        green__called_by_allocator(__builtin_return_address(0)), 0)

/* glibc's __kind bits: the type (PTHREAD_MUTEX_KIND_MASK_NP) and lock
 * elision, which the runtime ignores. */
#define GREEN__MUTEX_TYPE_MASK 3
#define GREEN__MUTEX_ELISION   (256 | 512)

/* True when the runtime handles `m` itself: called from a green thread,
 * and `m` is a normal, recursive or error-checking mutex (not
 * process-shared, robust, priority-inheritance or -protection). Any. */
static inline bool green__mutex_is_ours(const pthread_mutex_t *m)
{
    return green__in_green_thread()
        && (m->__data.__kind & ~(GREEN__MUTEX_TYPE_MASK
                                 | GREEN__MUTEX_ELISION)) == 0;
}

/* The mutex type: PTHREAD_MUTEX_NORMAL, _RECURSIVE or _ERRORCHECK. */
static inline int green__mutex_type(const pthread_mutex_t *m)
{
    return m->__data.__kind & GREEN__MUTEX_TYPE_MASK;
}

/* Take free mutex `m` for thread `id`. */
static inline void green__mutex_take(pthread_mutex_t *m, int id,
                                     bool contended)
{
    m->__data.__lock = contended ? 2 : 1;
    m->__data.__owner = id;
    m->__data.__nusers++;
    if (green__mutex_type(m) == PTHREAD_MUTEX_RECURSIVE) {
        m->__data.__count = 1;
    }
}

/* Lock `m` (green__mutex_is_ours) for the running green thread, parking
 * until `deadline` (-1: none). Returns 0, EDEADLK, EAGAIN (recursion
 * overflow) or ETIMEDOUT: error numbers, as pthread_mutex_lock's. Green
 * thread, may park. */
static inline int green__mutex_lock(pthread_mutex_t *m, int64_t deadline)
{
    const int id = green__thread_id(green__self());
    if (m->__data.__lock != 0 && m->__data.__owner == id) {
        if (green__mutex_type(m) == PTHREAD_MUTEX_RECURSIVE) {
            if (m->__data.__count == UINT_MAX) {
                return EAGAIN;
            }
            m->__data.__count++;
            return 0;
        }
        if (green__mutex_type(m) == PTHREAD_MUTEX_ERRORCHECK) {
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
    green__mutex_take(m, id, contended);
    return 0;
}

/* Release one level of `m` (green__mutex_is_ours); `full` releases a
 * recursive mutex entirely (for a condition wait) and stores its depth
 * in *depth. Returns 0 or EPERM (not the owner). Green thread. */
static inline int green__mutex_unlock(pthread_mutex_t *m, bool full,
                                      unsigned *depth)
{
    const int type = green__mutex_type(m);
    if ((type == PTHREAD_MUTEX_RECURSIVE || type == PTHREAD_MUTEX_ERRORCHECK)
        && (m->__data.__lock == 0
            || m->__data.__owner != green__thread_id(green__self()))) {
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

#endif
