/* SPDX-License-Identifier: MIT */
/* CPU-time clocks of green threads: clock_gettime and clock_getres on
 * CLOCK_THREAD_CPUTIME_ID in a green thread, and on the clock id that
 * pthread_getcpuclockid (wrappers/thread-info.c) gives for a green thread,
 * answer from the runtime's accounting (hub/sched.c,
 * green__thread_cpu_ns): the time the kernel thread ran that green thread.
 * clock_nanosleep on such a clock is wrappers/sleep.c's.
 *
 * Every other clock goes straight to glibc, after one compare: ordinary
 * clocks are small non-negative numbers, the CPU clocks of threads and
 * processes negative ones (clock_getcpuclockid(3)).
 */
#include "config.h"

#include <time.h>

#include "wrappers/wrap.h"

/* glibc's CPU clock ids (its MAKE_THREAD_CPUCLOCK): the tid's complement
 * shifted left by three, or'ed with CPUCLOCK_PERTHREAD (4) and
 * CPUCLOCK_SCHED (2). */
#define CPUCLOCK_THREAD_SCHED 6
#define CPUCLOCK_KIND 7

/* Kernel tids are below pid_max's limit, 2^22; green ids are above
 * 2^30 (hub/sched.c), too large for the encoding, which keeps 28 bits.
 * They map onto [2^22, 2^28), which no kernel tid reaches. */
#define TID_LIMIT 0x400000
#define GREEN_ID_BASE 0x40000000
#define CLOCK_ID_LIMIT 0x10000000

clockid_t green__cpu_clock_of(int id)
{
    unsigned v = (unsigned)id;
    if (id >= GREEN_ID_BASE) {
        v = TID_LIMIT + (unsigned)(id - GREEN_ID_BASE)
                            % (CLOCK_ID_LIMIT - TID_LIMIT);
    }
    return (clockid_t)((~v << 3) | CPUCLOCK_THREAD_SCHED);
}

static bool clock_is(struct green__thread *t, int clock)
{
    return green__cpu_clock_of(green__thread_id(t)) == clock;
}

struct green__thread *green__cpu_clock_thread(clockid_t clock)
{
    if (!green__sched.active || !green__on_green_kthread()) {
        return NULL;
    }
    if (clock == CLOCK_THREAD_CPUTIME_ID) {
        return green__self();
    }
    if ((clock & CPUCLOCK_KIND) != CPUCLOCK_THREAD_SCHED) {
        return NULL;
    }
    return green__sched_find(clock_is, clock);
}

/* The slow path: a CPU clock, or CLOCK_THREAD_CPUTIME_ID. */
static int cpu_clock_gettime(clockid_t clock, struct timespec *tp)
{
    green__ensure_init();
    struct green__thread *t = green__cpu_clock_thread(clock);
    if (t == NULL) {
        return GREEN_REAL_FN(clock_gettime)(clock, tp);
    }
    const struct timespec ts = green__ns_timespec(green__thread_cpu_ns(t));
    if (green__poke(tp, &ts, sizeof ts) != 0) {
        errno = EFAULT;
        return -1;
    }
    return 0;
}

GREEN_WRAP int clock_gettime(clockid_t clock, struct timespec *tp)
{
    /* Negative, or CLOCK_THREAD_CPUTIME_ID (3): the xor is <= 0. */
    if (__builtin_expect((clock ^ CLOCK_THREAD_CPUTIME_ID) > 0, 1)) {
        return GREEN_REAL_FN(clock_gettime)(clock, tp);
    }
    return cpu_clock_gettime(clock, tp);
}

GREEN_WRAP int clock_getres(clockid_t clock, struct timespec *res)
{
    if (__builtin_expect((clock ^ CLOCK_THREAD_CPUTIME_ID) > 0, 1)) {
        return GREEN_REAL_FN(clock_getres)(clock, res);
    }
    green__ensure_init();
    if (green__cpu_clock_thread(clock) != NULL) {
        /* The kernel's resolution of a thread's CPU clock. */
        clock = CLOCK_THREAD_CPUTIME_ID;
    }
    return GREEN_REAL_FN(clock_getres)(clock, res);
}
