/* SPDX-License-Identifier: MIT */
/* The mutexes of wrappers/mutex.c as wrappers/cond.c uses them: a
 * condition wait releases the mutex, parks and takes it again, in the
 * program's pthread_mutex_t as the runtime keeps it.
 */
#ifndef GREEN_WRAPPERS_MUTEX_H
#define GREEN_WRAPPERS_MUTEX_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "hub/hub.h"

/* True in a mutex or condition wrapper called by a malloc that replaced
 * glibc's: its locks stay glibc's (green__called_by_allocator).
 * Evaluated in the exported wrapper itself, whose return address is in
 * the caller. */
#define GREEN__FROM_ALLOCATOR()                                          \
    __builtin_expect(                                                    \
        green__called_by_allocator(__builtin_return_address(0)), 0)

/* True when the runtime handles `m` itself: called from a green thread,
 * and `m` is a normal, recursive or error-checking mutex (not
 * process-shared, robust, priority-inheritance or -protection). Any. */
bool green__mutex_is_ours(const pthread_mutex_t *m);

/* Lock `m` (green__mutex_is_ours) for the running green thread, parking
 * until `deadline` (-1: none). Returns 0, EDEADLK, EAGAIN (recursion
 * overflow) or ETIMEDOUT: error numbers, as pthread_mutex_lock's. Green
 * thread, may park. */
int green__mutex_lock(pthread_mutex_t *m, int64_t deadline);

/* Release one level of `m` (green__mutex_is_ours); `full` releases a
 * recursive mutex entirely (for a condition wait) and stores its depth
 * in *depth. Returns 0 or EPERM (not the owner). Green thread. */
int green__mutex_unlock(pthread_mutex_t *m, bool full, unsigned *depth);

#endif
