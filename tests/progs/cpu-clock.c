/* SPDX-License-Identifier: MIT */
/* Threads' CPU-time clocks: CLOCK_THREAD_CPUTIME_ID and the clock that
 * pthread_getcpuclockid gives for a thread count that thread's running
 * time only. Every line printed is an ordering that holds however busy
 * the machine is: a thread's clock starts near zero while main's shows
 * the CPU time main burned, it advances while its thread computes, and
 * not while its thread is blocked and another one computes.
 * Usage: cpu-clock [SECTION].
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "handshake.h"

#define MS 1000000LL

static const char *yes(int cond)
{
    return cond ? "yes" : "no";
}

/* Compute until the caller's own CPU clock advanced by `ns`. */
static void burn(long long ns)
{
    const long long start = now_ns(CLOCK_THREAD_CPUTIME_ID);
    volatile unsigned long x = 0;

    while (now_ns(CLOCK_THREAD_CPUTIME_ID) - start < ns) {
        for (int i = 0; i < 10000; i++) {
            x += (unsigned long)i * 7;
        }
    }
}

static long long clock_of(pthread_t t)
{
    clockid_t c;

    CHECK_RC(pthread_getcpuclockid(t, &c));
    return now_ns(c);
}

/* ---- start: a new thread's clock starts at zero ---------------------- */

static long long start_own, start_by_id;

static void *starts(void *arg)
{
    (void)arg;
    STORE(&start_own, now_ns(CLOCK_THREAD_CPUTIME_ID));
    STORE(&start_by_id, clock_of(pthread_self()));
    return NULL;
}

static void start(void)
{
    burn(200 * MS);
    pthread_t t;
    CHECK_RC(pthread_create(&t, NULL, starts, NULL));
    CHECK_RC(pthread_join(t, NULL));
    const long long main_own = now_ns(CLOCK_THREAD_CPUTIME_ID);
    const long long main_by_id = clock_of(pthread_self());
    printf("start: new thread's CLOCK_THREAD_CPUTIME_ID below 50 ms: %s\n",
           yes(LOAD(&start_own) < 50 * MS));
    printf("start: new thread's pthread_getcpuclockid clock below 50 ms: "
           "%s\n", yes(LOAD(&start_by_id) < 50 * MS));
    printf("start: main's clocks at least 200 ms: %s %s\n",
           yes(main_own >= 200 * MS), yes(main_by_id >= 200 * MS));
}

/* ---- advance: a thread's clock advances while it computes ------------ */

static long long advance_before;
static struct handshake advanced, advance_done;

static void *computes(void *arg)
{
    (void)arg;
    STORE(&advance_before, now_ns(CLOCK_THREAD_CPUTIME_ID));
    burn(30 * MS);
    hs_post(&advanced);
    hs_wait(&advance_done);
    return NULL;
}

static void advance(void)
{
    pthread_t t;

    hs_init(&advanced);
    hs_init(&advance_done);
    CHECK_RC(pthread_create(&t, NULL, computes, NULL));
    hs_wait(&advanced);
    const long long seen = clock_of(t);
    printf("advance: another thread's clock, read by main, advanced by its "
           "30 ms: %s\n", yes(seen - LOAD(&advance_before) >= 30 * MS));
    hs_post(&advance_done);
    CHECK_RC(pthread_join(t, NULL));
    hs_destroy(&advanced);
    hs_destroy(&advance_done);
}

/* ---- parked: a blocked thread's clock stands still ------------------- */

static struct handshake parked_ready, parked_go;
static pid_t parked_tid;

static void *parks(void *arg)
{
    (void)arg;
    STORE(&parked_tid, gettid());
    hs_post(&parked_ready);
    hs_wait(&parked_go);
    return NULL;
}

static void parked(void)
{
    pthread_t t;

    hs_init(&parked_ready);
    hs_init(&parked_go);
    CHECK_RC(pthread_create(&t, NULL, parks, NULL));
    hs_wait(&parked_ready);
    wait_blocked(LOAD(&parked_tid));
    const long long before = clock_of(t);
    const long long main_before = now_ns(CLOCK_THREAD_CPUTIME_ID);
    burn(50 * MS);
    const long long after = clock_of(t);
    const long long main_after = now_ns(CLOCK_THREAD_CPUTIME_ID);
    printf("parked: blocked thread's clock moved less than 5 ms while main "
           "computed 50 ms: %s\n", yes(after - before < 5 * MS));
    printf("parked: main's clock advanced at least 50 ms: %s\n",
           yes(main_after - main_before >= 50 * MS));
    hs_post(&parked_go);
    CHECK_RC(pthread_join(t, NULL));
    hs_destroy(&parked_ready);
    hs_destroy(&parked_go);
}

/* ---- calls: clock_getres, clock_nanosleep --------------------------- */

static int spin_stop;

static void *spins(void *arg)
{
    (void)arg;
    while (!LOAD(&spin_stop)) {
        burn(1 * MS);
        sched_yield();
    }
    return NULL;
}

static void calls(void)
{
    pthread_t t;
    clockid_t c, self;
    struct timespec ts, rel = { 0, 10 * MS };

    CHECK_RC(pthread_create(&t, NULL, spins, NULL));
    CHECK_RC(pthread_getcpuclockid(t, &c));
    CHECK_RC(pthread_getcpuclockid(pthread_self(), &self));
    CHECK_OK(clock_getres(c, &ts));
    printf("calls: clock_getres of a thread's clock: %lld.%09ld\n",
           (long long)ts.tv_sec, ts.tv_nsec);
    CHECK_OK(clock_getres(CLOCK_THREAD_CPUTIME_ID, &ts));
    printf("calls: clock_getres of CLOCK_THREAD_CPUTIME_ID: %lld.%09ld\n",
           (long long)ts.tv_sec, ts.tv_nsec);
    printf("calls: clock_nanosleep on the caller's own clock: %s\n",
           errno_name(clock_nanosleep(self, 0, &rel, NULL)));
    printf("calls: clock_nanosleep on CLOCK_THREAD_CPUTIME_ID: %s\n",
           errno_name(clock_nanosleep(CLOCK_THREAD_CPUTIME_ID, 0, &rel,
                                      NULL)));
    const long long before = clock_of(t);
    const int r = clock_nanosleep(c, 0, &rel, NULL);
    const long long after = clock_of(t);
    printf("calls: clock_nanosleep 10 ms on a computing thread's clock: %s, "
           "its clock advanced at least 10 ms: %s\n", errno_name(r),
           yes(after - before >= 10 * MS));
    STORE(&spin_stop, 1);
    CHECK_RC(pthread_join(t, NULL));
    /* Not asked: a joined thread's clock. Natively its kernel thread may
     * still be ending after the join returns, so the answer (0 or EINVAL)
     * depends on timing. */
}

int main(int argc, char **argv)
{
    static const struct section sections[] = {
        { "start", start },
        { "advance", advance },
        { "parked", parked },
        { "calls", calls },
    };
    return RUN_SECTIONS(argc, argv, sections, NULL);
}
