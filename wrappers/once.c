/* SPDX-License-Identifier: MIT */
/* pthread_once: the first caller runs the init routine on its own stack;
 * every other caller parks until it has finished. The control word keeps
 * glibc's encoding (bit 0: in progress, bit 1: done), so a control glibc
 * completed reads as done here and the reverse. A waiter also looks again
 * every 10 ms, in case a kernel thread the runtime did not make (which
 * wakes glibc's waiters, not ours) is the one running the routine. An
 * initialiser that throws leaves the control "not done" (libgreen is built
 * with -fexceptions so that the cleanup runs while the exception passes).
 */
#include "config.h"

#include <limits.h>

#include "wrappers/wrap.h"

#define ONCE_IN_PROGRESS 1
#define ONCE_DONE 2

/* Cleanup of a pending initialisation: runs only if init() left by an
 * exception (C++ call_once with a throwing callable). As glibc does, the
 * control goes back to "not done", so the next caller runs init(). */
static void abandon(pthread_once_t **pending)
{
    if (*pending != NULL) {
        *(volatile int *)*pending = 0;
        green__lot_wake(*pending, UINT_MAX);
    }
}

GREEN_WRAP int pthread_once(pthread_once_t *control, void (*init)(void))
{
    green__ensure_init();
    if (!green__on_green_kthread()) {
        return green__real.pthread_once(control, init);
    }
    volatile int *state = (volatile int *)control;
    while (*state & ONCE_IN_PROGRESS && !(*state & ONCE_DONE)) {
        green__sync_wait(control, green__now() + 10000000);
    }
    if (*state & ONCE_DONE) {
        return 0;
    }
    *state = ONCE_IN_PROGRESS;
    pthread_once_t *pending __attribute__((cleanup(abandon))) = control;
    init();
    pending = NULL;
    *state = ONCE_DONE;
    green__lot_wake(control, UINT_MAX);
    return 0;
}
