/* SPDX-License-Identifier: MIT */
/* poll: ask the kernel with a zero timeout first (it validates the array:
 * EFAULT, EINVAL and POLLNVAL come from there), and if nothing is ready
 * park on every fd at once until one may be, or the deadline. The timeout
 * becomes an absolute deadline once, at entry; retries never extend it.
 */
#include "config.h"

#include "wrappers/wrap.h"

GREEN_WRAP int poll(struct pollfd *fds, nfds_t nfds, int timeout)
{
    green__ensure_init();
    if (!green__may_park() || timeout == 0) {
        return green__real.poll(fds, nfds, timeout);
    }
    const int entry_errno = errno;
    const int64_t deadline = green__deadline_ms(timeout);
    for (;;) {
        const int r = green__real.poll(fds, nfds, 0);
        if (r != 0) {
            return r < 0 ? -1 : (int)green__wrap_ret(r, entry_errno);
        }
        const int p = green__park_poll(fds, nfds, deadline);
        if (p == -ETIMEDOUT) {
            return (int)green__wrap_ret(green__real.poll(fds, nfds, 0),
                                        entry_errno);
        }
        if (p == -ENOMEM) {
            /* No memory for the watchers: wait the correct, blocking way. */
            const int64_t left = deadline < 0 ? -1
                : (deadline - green__now()) / 1000000;
            return green__real.poll(fds, nfds, left < 0 && deadline >= 0
                                    ? 0 : (int)left);
        }
    }
}
