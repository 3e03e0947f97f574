/* SPDX-License-Identifier: MIT */
/* Back-off: the growing green sleep between two looks at something that
 * cannot wake a parked thread when it changes: a lock or semaphore
 * another process may hold or post, a child without a pidfd to wait
 * on, a Unix-domain listener with a full backlog. Each sleep parks only
 * the caller (hub/park.c); the next one is twice as long while shorter
 * than the caller's cap, so that a wait that ends soon is seen soon and
 * one that goes on costs few wake-ups. What to look at, and when to
 * give up, is the caller's.
 */
#include "config.h"

#include <errno.h>

#include "hub/internal.h"

int green__backoff_sleep(struct green__backoff *b, int64_t deadline)
{
    if (green__deadline_passed(deadline)) {
        return -ETIMEDOUT;
    }
    const int r = green__park_until(
        green__deadline_min(deadline, green__deadline_in(b->pause)));
    if (b->pause < b->cap) {
        b->pause *= 2;
    }
    return r;
}
