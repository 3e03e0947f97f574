/* SPDX-License-Identifier: MIT */
/* Time as libgreen counts it, and every conversion to and from it: a
 * time is CLOCK_MONOTONIC nanoseconds in an int64_t, and a deadline is
 * such a time, or -1 for none. This header owns the units (ns per second,
 * millisecond, microsecond), the clock (green__now), timespec and timeval
 * to and from ns, the deadline of a relative timeout or of an absolute
 * time on another clock (made once, at a wrapper's entry: retries never
 * extend a wait), the time left until a deadline, and the checks the
 * kernel makes of a timespec. Deadlines saturate at INT64_MAX instead of
 * overflowing. Code elsewhere calls these rather than multiplying or
 * dividing by a unit itself.
 *
 * For hub/ and wrappers/; the hot ones are inline. What waits until a
 * deadline is hub/park.c's; a growing sleep between polls is
 * hub/backoff.c's.
 */
#ifndef GREEN_HUB_TIME_H
#define GREEN_HUB_TIME_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/time.h>
#include <time.h>

#include "preload/real.h"

#define GREEN__NS_PER_SEC INT64_C(1000000000)
#define GREEN__NS_PER_MS  INT64_C(1000000)
#define GREEN__NS_PER_US  INT64_C(1000)
#define GREEN__US_PER_SEC INT64_C(1000000)

/* Monotonic now in ns (CLOCK_MONOTONIC), defined in hub/park.c. Any. */
int64_t green__now(void);

/* ---- conversions ---------------------------------------------------- */

/* `ts` in ns (no range check: callers check it first, or know it). */
static inline int64_t green__timespec_ns(const struct timespec *ts)
{
    return (int64_t)ts->tv_sec * GREEN__NS_PER_SEC + ts->tv_nsec;
}

/* `tv` in ns. */
static inline int64_t green__timeval_ns(const struct timeval *tv)
{
    return (int64_t)tv->tv_sec * GREEN__NS_PER_SEC
        + (int64_t)tv->tv_usec * GREEN__NS_PER_US;
}

/* `ns` (>= 0) as a timespec. */
static inline struct timespec green__ns_timespec(int64_t ns)
{
    return (struct timespec){ .tv_sec = ns / GREEN__NS_PER_SEC,
                              .tv_nsec = ns % GREEN__NS_PER_SEC };
}

/* `ns` (>= 0) as a timeval, rounded down to whole microseconds. */
static inline struct timeval green__ns_timeval(int64_t ns)
{
    return (struct timeval){
        .tv_sec = ns / GREEN__NS_PER_SEC,
        .tv_usec = ns % GREEN__NS_PER_SEC / GREEN__NS_PER_US,
    };
}

/* `ns` in seconds, as libev counts time (ev_tstamp). */
static inline double green__ns_seconds(int64_t ns)
{
    return (double)ns / 1e9;
}

/* A select(2) timeout as a timespec: whole seconds in tv_usec carry
 * over into tv_sec, as the kernel takes them (poll_select_set_timeout).
 * For tv_usec >= 0. */
static inline struct timespec green__timeval_timespec(const struct timeval *tv)
{
    return (struct timespec){
        .tv_sec = tv->tv_sec + tv->tv_usec / GREEN__US_PER_SEC,
        .tv_nsec = tv->tv_usec % GREEN__US_PER_SEC * GREEN__NS_PER_US,
    };
}

/* ---- checks --------------------------------------------------------- */

/* True when tv_nsec is in [0, 1e9): a timespec the kernel takes. */
static inline bool green__timespec_valid(const struct timespec *ts)
{
    return ts->tv_nsec >= 0 && ts->tv_nsec < GREEN__NS_PER_SEC;
}

/* True for a timeout or sleep the kernel takes: valid and not negative
 * (nanosleep(2), clock_nanosleep(2), ppoll(2), sigtimedwait(2) and
 * futex(2) answer EINVAL for any other). */
static inline bool green__timeout_valid(const struct timespec *ts)
{
    return green__timespec_valid(ts) && ts->tv_sec >= 0;
}

/* True for a timeout of zero: the call must not wait at all. */
static inline bool green__timespec_zero(const struct timespec *ts)
{
    return ts->tv_sec == 0 && ts->tv_nsec == 0;
}

static inline bool green__timeval_zero(const struct timeval *tv)
{
    return tv->tv_sec == 0 && tv->tv_usec == 0;
}

/* True for a clock an absolute time may be given on to the pthread and
 * semaphore clock calls (clocklock, clockwait, clockjoin): glibc answers
 * EINVAL for any other. */
static inline bool green__abs_clock_valid(clockid_t clock)
{
    return clock == CLOCK_REALTIME || clock == CLOCK_MONOTONIC;
}

/* ---- deadlines ------------------------------------------------------ */

/* The deadline `ns` (>= 0, not near INT64_MAX) from now. */
static inline int64_t green__deadline_in(int64_t ns)
{
    return green__now() + ns;
}

/* The deadline of a relative timeout `ms` (< 0: none, -1). */
static inline int64_t green__deadline_ms(int ms)
{
    return ms < 0 ? -1 : green__deadline_in((int64_t)ms * GREEN__NS_PER_MS);
}

/* The deadline `rel` (valid, not negative) from now, saturating: no
 * overflow for a program that sleeps "forever" with a huge tv_sec. */
static inline int64_t green__deadline_after(const struct timespec *rel)
{
    const int64_t now = green__now();
    if (rel->tv_sec >= (INT64_MAX - now) / GREEN__NS_PER_SEC - 1) {
        return INT64_MAX;
    }
    return now + green__timespec_ns(rel);
}

/* The deadline of absolute time `abs` (valid) on `clock` (CLOCK_REALTIME,
 * CLOCK_MONOTONIC or CLOCK_BOOTTIME): converted once, at entry, so a
 * later change of the realtime clock does not move it. A time already
 * passed gives a deadline already passed. */
static inline int64_t green__deadline_abs(clockid_t clock,
                                          const struct timespec *abs)
{
    if (abs->tv_sec > INT64_MAX / GREEN__NS_PER_SEC - 1) {
        return INT64_MAX;
    }
    if (abs->tv_sec < 0) {
        return 0;                       /* long passed, on any clock */
    }
    const int64_t when = green__timespec_ns(abs);
    if (clock == CLOCK_MONOTONIC) {
        return when > 0 ? when : 0;     /* before boot: passed already */
    }
    struct timespec now;
    GREEN_REAL_FN(clock_gettime)(clock, &now);
    const int64_t left = when - green__timespec_ns(&now);
    return green__now() + (left > 0 ? left : 0);
}

/* True once `deadline` (-1: none) has passed. */
static inline bool green__deadline_passed(int64_t deadline)
{
    return deadline >= 0 && green__now() >= deadline;
}

/* The earlier of `deadline` (-1: none) and deadline `limit` (>= 0). */
static inline int64_t green__deadline_min(int64_t deadline, int64_t limit)
{
    return deadline >= 0 && deadline < limit ? deadline : limit;
}

/* The ns from now until `deadline` (>= 0), 0 once it has passed. */
static inline int64_t green__ns_left(int64_t deadline)
{
    const int64_t left = deadline - green__now();
    return left > 0 ? left : 0;
}

/* The same as a timespec: what nanosleep writes to `rem`, and recvmmsg
 * back to its timeout. */
static inline struct timespec green__timespec_left(int64_t deadline)
{
    return green__ns_timespec(green__ns_left(deadline));
}

#endif
