/* SPDX-License-Identifier: MIT */
/* pthread_once: the first caller runs the init routine on its own stack;
 * every other caller parks until it has finished. The control word keeps
 * glibc's encoding (bit 0: in progress, bit 1: done), so a control glibc
 * completed reads as done here and the reverse. A waiter also looks again
 * every 10 ms, in case a kernel thread the runtime did not make (which
 * wakes glibc's waiters, not ours) is the one running the routine.
 */
#include "config.h"

#include <limits.h>

#include "wrappers/wrap.h"

#define ONCE_IN_PROGRESS 1
#define ONCE_DONE 2

GREEN_WRAP int pthread_once(pthread_once_t *control, void (*init)(void))
{
    green__ensure_init();
    if (!green__on_green_kthread()) {
        return green__real.pthread_once(control, init);
    }
    volatile int *state = (volatile int *)control;
    if (*state & ONCE_DONE) {
        return 0;
    }
    if (*state & ONCE_IN_PROGRESS) {
        while (!(*state & ONCE_DONE)) {
            green__sync_wait(control, green__now() + 10000000);
        }
        return 0;
    }
    *state = ONCE_IN_PROGRESS;
    init();
    *state = ONCE_DONE;
    green__lot_wake(control, UINT_MAX);
    return 0;
}
