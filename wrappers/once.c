/* SPDX-License-Identifier: MIT */
/* pthread_once: the first caller runs the init routine (through glibc's
 * pthread_once, which cannot wait then); every other caller parks until it
 * has finished. The control word keeps glibc's encoding (bit 0: in
 * progress, bit 1: done). A waiter also looks again every 10 ms, in case a
 * kernel thread the runtime did not make (which wakes glibc's waiters, not
 * ours) is running the routine, or the routine threw (C++ call_once):
 * glibc's pthread_once then puts the control back to "not done", and the
 * next caller runs the routine again, as natively.
 */
#include "config.h"

#include <limits.h>

#include "wrappers/wrap.h"

#define ONCE_IN_PROGRESS 1
#define ONCE_DONE 2
#define RECHECK_NS (10 * GREEN__NS_PER_MS)

GREEN_WRAP int pthread_once(pthread_once_t *control, void (*init)(void))
{
    green__ensure_init();
    if (!green__on_green_kthread()) {
        return GREEN_REAL_FN(pthread_once)(control, init);
    }
    volatile int *state = (volatile int *)control;
    while (*state & ONCE_IN_PROGRESS && !(*state & ONCE_DONE)) {
        green__sync_wait(control, green__deadline_in(RECHECK_NS));
    }
    if (*state & ONCE_DONE) {
        return 0;
    }
    /* Nobody is running it: glibc's own pthread_once runs init() now,
     * without waiting, and resets the control if init() throws. */
    const int r = GREEN_REAL_FN(pthread_once)(control, init);
    green__lot_wake(control, UINT_MAX);
    return r;
}
