/* SPDX-License-Identifier: MIT */
/* pthread_barrier_wait on the parking lot. pthread_barrier_init and
 * pthread_barrier_destroy stay glibc's. Of glibc's fields the runtime uses
 * only current_round, as the number of threads that have arrived in this
 * round; `in` and `out` stay 0, which is what glibc's destroy needs to see
 * to return without waiting. The last thread to arrive wakes the others
 * (the lot wakes the oldest waiters first, so exactly this round's) and
 * gets PTHREAD_BARRIER_SERIAL_THREAD. Process-shared barriers stay glibc's.
 */
#include "config.h"

#include "wrappers/wrap.h"

/* glibc's layout of pthread_barrier_t (nptl/pthreadP.h). */
struct glibc_barrier {
    unsigned int in;
    unsigned int current_round;
    unsigned int count;
    int shared;                     /* 0 private, FUTEX_PRIVATE_FLAG (128)
                                       process-shared (glibc's LLL_SHARED) */
    unsigned int out;
};

GREEN_WRAP int pthread_barrier_wait(pthread_barrier_t *barrier)
{
    green__ensure_init();
    struct glibc_barrier *b = (struct glibc_barrier *)barrier;
    if (!green__on_green_kthread() || b->shared != 0) {
        return GREEN_REAL_FN(pthread_barrier_wait)(barrier);
    }
    if (++b->current_round >= b->count) {
        b->current_round = 0;
        green__lot_wake(barrier, b->count - 1);
        return PTHREAD_BARRIER_SERIAL_THREAD;
    }
    while (green__sync_wait(barrier, -1) == -EINTR) {
        /* Before the runtime: a handler ran; glibc's wait goes on. */
    }
    return 0;
}
