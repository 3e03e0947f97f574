/* SPDX-License-Identifier: MIT */
/* sleep, usleep, nanosleep, clock_nanosleep: park the green thread until a
 * CLOCK_MONOTONIC deadline computed once at entry (an absolute time on
 * CLOCK_REALTIME is converted then). A signal handler ends a sleep with
 * EINTR and the time left (signal(7): never restarted). Sleeps on CPU-time
 * clocks cannot be timed by the hub and stay glibc's. Bad arguments get the kernel's answer:
 * the request is read with process_vm_readv, which fails with EFAULT where
 * a plain read of a bad pointer would crash the program instead.
 */
#include "config.h"

#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "wrappers/wrap.h"

GREEN_WRAP int nanosleep(const struct timespec *req, struct timespec *rem)
{
    green__ensure_init();
    if (!green__may_park()) {
        return GREEN_REAL_FN(nanosleep)(req, rem);
    }
    const int entry_errno = errno;
    struct timespec ts;
    int r = green__peek(&ts, req, sizeof ts);
    if (r == 0 && !green__timeout_valid(&ts)) {
        r = -EINVAL;
    }
    if (r == 0) {
        const int64_t deadline = green__deadline_after(&ts);
        r = green__park_until(deadline);
        if (r == -EINTR && rem != NULL) {
            /* Never restarted; `rem` gets the time not slept. */
            const struct timespec left = green__timespec_left(deadline);
            if (green__poke(rem, &left, sizeof left) != 0) {
                r = -EFAULT;
            }
        }
    }
    return (int)green__wrap_ret(r, entry_errno);
}

/* Read clock_nanosleep's request as the kernel does: 0, EFAULT for a bad
 * pointer or EINVAL for a bad time. */
static int read_request(const struct timespec *req, struct timespec *ts)
{
    if (green__peek(ts, req, sizeof *ts) != 0) {
        return EFAULT;
    }
    return green__timeout_valid(ts) ? 0 : EINVAL;
}

/* Sleep until green thread `t`'s CPU clock (wrappers/clock.c) reads
 * `req` (TIMER_ABSTIME) or has advanced by `req`, as the kernel sleeps on
 * another thread's CPU clock; on its own, EINVAL. Looks again after each
 * growing green sleep, as nothing wakes a thread when another's clock
 * passes a value. Returns clock_nanosleep's error number. */
static int sleep_on_cpu_clock(clockid_t clock, struct green__thread *t,
                              int flags, const struct timespec *req,
                              struct timespec *rem)
{
    if (t == green__self()) {
        return EINVAL;
    }
    struct timespec ts;
    const int bad = read_request(req, &ts);
    if (bad != 0) {
        return bad;
    }
    const int entry_errno = errno;
    const int64_t until = green__timespec_ns(&ts)
        + (flags & TIMER_ABSTIME ? 0 : green__thread_cpu_ns(t));
    struct green__backoff b = GREEN__BACKOFF(GREEN__NS_PER_MS / 4,
                                             50 * GREEN__NS_PER_MS);
    int64_t now = green__thread_cpu_ns(t);
    while (now < until) {
        if (green__backoff_sleep(&b, -1) == -EINTR) {
            errno = entry_errno;
            if (rem != NULL && !(flags & TIMER_ABSTIME)) {
                const struct timespec left = green__ns_timespec(until - now);
                if (green__poke(rem, &left, sizeof left) != 0) {
                    return EFAULT;
                }
            }
            return EINTR;
        }
        t = green__cpu_clock_thread(clock);
        if (t == NULL) {
            break;                      /* it ended: its clock stopped */
        }
        now = green__thread_cpu_ns(t);
    }
    errno = entry_errno;
    return 0;
}

GREEN_WRAP int clock_nanosleep(clockid_t clock, int flags,
                               const struct timespec *req,
                               struct timespec *rem)
{
    green__ensure_init();
    if (clock < 0 && green__may_park()) {
        struct green__thread *t = green__cpu_clock_thread(clock);
        if (t != NULL) {
            return sleep_on_cpu_clock(clock, t, flags, req, rem);
        }
    }
    if (!green__may_park()
        || (clock != CLOCK_REALTIME && clock != CLOCK_MONOTONIC
            && clock != CLOCK_BOOTTIME)) {
        return GREEN_REAL_FN(clock_nanosleep)(clock, flags, req, rem);
    }
    struct timespec ts;
    const int bad = read_request(req, &ts);
    if (bad != 0) {
        return bad;
    }
    const int entry_errno = errno;
    int64_t deadline;
    if (flags & TIMER_ABSTIME) {
        deadline = green__deadline_abs(clock, &ts);
    } else {
        deadline = green__deadline_after(&ts);
    }
    const int r = green__park_until(deadline);
    errno = entry_errno;
    if (r == -EINTR && rem != NULL && !(flags & TIMER_ABSTIME)) {
        const struct timespec left = green__timespec_left(deadline);
        if (green__poke(rem, &left, sizeof left) != 0) {
            return EFAULT;
        }
    }
    return -r;
}

GREEN_WRAP int usleep(useconds_t usec)
{
    green__ensure_init();
    if (!green__may_park()) {
        return GREEN_REAL_FN(usleep)(usec);
    }
    const int entry_errno = errno;
    const int r = green__park_until(
        green__deadline_in((int64_t)usec * GREEN__NS_PER_US));
    return (int)green__wrap_ret(r, entry_errno);
}

/* glibc's sleep: the whole seconds not slept when a handler ran. */
GREEN_WRAP unsigned int sleep(unsigned int seconds)
{
    green__ensure_init();
    if (!green__may_park()) {
        return GREEN_REAL_FN(sleep)(seconds);
    }
    const int entry_errno = errno;
    const int64_t deadline =
        green__deadline_in((int64_t)seconds * GREEN__NS_PER_SEC);
    const int r = green__park_until(deadline);
    errno = r == -EINTR ? EINTR : entry_errno;  /* glibc's nanosleep's */
    return r == -EINTR ? (unsigned)green__timespec_left(deadline).tv_sec : 0;
}
