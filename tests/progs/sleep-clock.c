/* SPDX-License-Identifier: MIT */
/* sleep-clock: clock_nanosleep, relative and absolute, on the realtime and
 * monotonic clocks, with its results and errors (returned, not in errno),
 * while another thread keeps running.
 *
 * One transcript line per check.  A companion thread stays parked for the
 * whole run, so that every call is made while the program has more than
 * one thread.  Durations are only checked as bounds.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

enum { TICKS = 10 };

static int ticks;

static void *ticker(void *arg)
{
    (void)arg;
    for (int i = 0; i < TICKS; i++) {
        usleep(5000);
        __atomic_fetch_add(&ticks, 1, __ATOMIC_SEQ_CST);
    }
    return NULL;
}

static struct timespec in_ms(clockid_t clock, long ms)
{
    struct timespec ts;

    clock_gettime(clock, &ts);
    ts.tv_nsec += ms * 1000000L;
    ts.tv_sec += ts.tv_nsec / 1000000000L;
    ts.tv_nsec %= 1000000000L;
    return ts;
}

int main(void)
{
    struct timespec ts, rem = { 7, 7 };
    long long start;
    pthread_t t;

    companion_start();

    ts = (struct timespec){ 0, 20000000 };
    start = now_ns(CLOCK_MONOTONIC);
    REPORT_RC("CLOCK_MONOTONIC 20 ms",
              clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &rem));
    CHECK_WAITED(start, 20);
    printf("rem left alone: %d\n", rem.tv_sec == 7 && rem.tv_nsec == 7);
    start = now_ns(CLOCK_MONOTONIC);
    REPORT_RC("CLOCK_REALTIME 20 ms",
              clock_nanosleep(CLOCK_REALTIME, 0, &ts, NULL));
    CHECK_WAITED(start, 20);

    struct timespec deadline = in_ms(CLOCK_MONOTONIC, 20);
    start = now_ns(CLOCK_MONOTONIC);
    REPORT_RC("TIMER_ABSTIME CLOCK_MONOTONIC 20 ms ahead",
              clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline,
                              NULL));
    CHECK_WAITED(start, 20);
    REPORT_RC("TIMER_ABSTIME in the past",
              clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline,
                              NULL));
    deadline = in_ms(CLOCK_REALTIME, 20);
    start = now_ns(CLOCK_MONOTONIC);
    REPORT_RC("TIMER_ABSTIME CLOCK_REALTIME 20 ms ahead",
              clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &deadline,
                              NULL));
    CHECK_WAITED(start, 20);

    ts = (struct timespec){ 0, 1000000000 };
    REPORT_RC("tv_nsec 1000000000",
              clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL));
    ts = (struct timespec){ 0, 1000 };
    REPORT_RC("an unknown clock",
              clock_nanosleep((clockid_t)1000, 0, &ts, NULL));
    REPORT_RC("CLOCK_THREAD_CPUTIME_ID",
              clock_nanosleep(CLOCK_THREAD_CPUTIME_ID, 0, &ts, NULL));
    REPORT_RC("req a bad pointer",
              clock_nanosleep(CLOCK_MONOTONIC, 0, bad_address, NULL));

    const struct timespec half = { 0, 500000000 };
    CHECK_RC(pthread_create(&t, NULL, ticker, NULL));
    start = now_ns(CLOCK_MONOTONIC);
    REPORT_RC("CLOCK_MONOTONIC 0.5 s while a thread ticks",
              clock_nanosleep(CLOCK_MONOTONIC, 0, &half, NULL));
    CHECK_WAITED(start, 500);
    printf("ticks done meanwhile: %d\n",
           __atomic_load_n(&ticks, __ATOMIC_SEQ_CST));
    CHECK_RC(pthread_join(t, NULL));

    companion_stop();
    return check_exit_status();
}
