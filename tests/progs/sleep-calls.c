/* SPDX-License-Identifier: MIT */
/* sleep-calls: sleep, usleep and nanosleep, with their results and errors,
 * while other threads keep running.
 *
 * One transcript line per check.  A companion thread stays parked for the
 * whole run, so that every call is made while the program has more than
 * one thread.  Durations are only checked as bounds: a sleep never ends
 * early, and while one thread sleeps another gets its (much shorter) work
 * done.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

enum { SLEEPERS = 200, TICKS = 10 };

static int ticks;

/* TICKS short sleeps: done long before the sleeping main thread wakes. */
static void *ticker(void *arg)
{
    (void)arg;
    for (int i = 0; i < TICKS; i++) {
        usleep(5000);
        __atomic_fetch_add(&ticks, 1, __ATOMIC_SEQ_CST);
    }
    return NULL;
}

static void other_threads_run_while_main_sleeps(void)
{
    pthread_t t;
    long long start;
    const struct timespec half = { 0, 500000000 };

    ticks = 0;
    CHECK_RC(pthread_create(&t, NULL, ticker, NULL));
    start = now_ns(CLOCK_MONOTONIC);
    REPORT_ERRNO("sleep(1) while a thread ticks", sleep(1), 0);
    CHECK_WAITED(start, 1000);
    printf("ticks done during sleep: %d\n",
           __atomic_load_n(&ticks, __ATOMIC_SEQ_CST));
    CHECK_RC(pthread_join(t, NULL));

    ticks = 0;
    CHECK_RC(pthread_create(&t, NULL, ticker, NULL));
    start = now_ns(CLOCK_MONOTONIC);
    REPORT_ERRNO("usleep(500000) while a thread ticks", usleep(500000), 0);
    CHECK_WAITED(start, 500);
    printf("ticks done during usleep: %d\n",
           __atomic_load_n(&ticks, __ATOMIC_SEQ_CST));
    CHECK_RC(pthread_join(t, NULL));

    ticks = 0;
    CHECK_RC(pthread_create(&t, NULL, ticker, NULL));
    start = now_ns(CLOCK_MONOTONIC);
    REPORT_ERRNO("nanosleep(0.5 s) while a thread ticks",
                 nanosleep(&half, NULL), 0);
    CHECK_WAITED(start, 500);
    printf("ticks done during nanosleep: %d\n",
           __atomic_load_n(&ticks, __ATOMIC_SEQ_CST));
    CHECK_RC(pthread_join(t, NULL));
}

static void *sleep_one_second(void *arg)
{
    const int kind = (int)(intptr_t)arg % 3;
    const struct timespec second = { 1, 0 };

    if (kind == 0) {
        CHECK_EQ(sleep(1), 0);
    } else if (kind == 1) {
        CHECK_EQ(usleep(1000000), 0);
    } else {
        CHECK_EQ(nanosleep(&second, NULL), 0);
    }
    return NULL;
}

static void many_sleepers(void)
{
    pthread_t t[SLEEPERS];
    const long long start = now_ns(CLOCK_MONOTONIC);

    for (int i = 0; i < SLEEPERS; i++) {
        CHECK_RC(pthread_create(&t[i], NULL, sleep_one_second,
                                (void *)(intptr_t)i));
    }
    for (int i = 0; i < SLEEPERS; i++) {
        CHECK_RC(pthread_join(t[i], NULL));
    }
    const long long elapsed_ms = (now_ns(CLOCK_MONOTONIC) - start) / 1000000;
    printf("%d threads slept 1 s each at the same time\n", SLEEPERS);
    CHECK(elapsed_ms >= 1000);
    /* Sleeping one after another would take 200 s. */
    CHECK(elapsed_ms < 30000);
}

static void results_and_errors(void)
{
    struct timespec ts, rem = { 7, 7 };
    long long start;

    errno = 4242;
    usleep(1000);
    nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
    printf("errno still 4242 after usleep and nanosleep: %d\n",
           errno == 4242);
    REPORT_ERRNO("sleep(0)", sleep(0), 0);
    REPORT_ERRNO("usleep(0)", usleep(0), 0);
    start = now_ns(CLOCK_MONOTONIC);
    REPORT_ERRNO("usleep(20000)", usleep(20000), 0);
    CHECK_WAITED(start, 20);

    ts = (struct timespec){ 0, 0 };
    REPORT_ERRNO("nanosleep 0", nanosleep(&ts, &rem), 0);
    ts = (struct timespec){ 0, 20000000 };
    start = now_ns(CLOCK_MONOTONIC);
    REPORT_ERRNO("nanosleep 20 ms", nanosleep(&ts, &rem), 0);
    CHECK_WAITED(start, 20);
    printf("nanosleep left rem alone: %d\n", rem.tv_sec == 7 &&
                                               rem.tv_nsec == 7);
    REPORT_ERRNO("nanosleep 20 ms with rem a bad pointer",
                 nanosleep(&ts, bad_address), 0);

    ts = (struct timespec){ 0, 1000000000 };
    REPORT_ERRNO("nanosleep tv_nsec 1000000000", nanosleep(&ts, NULL),
                 EINVAL);
    ts = (struct timespec){ 0, -1 };
    REPORT_ERRNO("nanosleep tv_nsec -1", nanosleep(&ts, NULL), EINVAL);
    ts = (struct timespec){ -1, 0 };
    REPORT_ERRNO("nanosleep tv_sec -1", nanosleep(&ts, NULL), EINVAL);
    REPORT_ERRNO("nanosleep req a bad pointer", nanosleep(bad_address, NULL),
                 EFAULT);
}

int main(void)
{
    companion_start();
    results_and_errors();
    other_threads_run_while_main_sleeps();
    many_sleepers();
    companion_stop();
    return check_exit_status();
}
