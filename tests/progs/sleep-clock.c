/* SPDX-License-Identifier: MIT */
/* sleep-clock: clock_nanosleep, relative and absolute, on the realtime and
 * monotonic clocks, with its results and errors (returned, not in errno),
 * while another thread keeps running.
 *
 * One transcript line per check.  A companion thread stays parked for the
 * whole run, so that every call is made while the program has more than
 * one thread.  Durations are only checked as lower bounds (no sleep ends
 * early).  That other threads run meanwhile is shown by an hour's sleep,
 * relative and absolute, that another thread ends with a signal once it
 * finished 10 short sleeps of its own: a sleep that held up the process
 * would leave main asleep, and the run's timeout turns that hang into a
 * failure.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

enum { TICKS = 10 };

static int ticks;
static pthread_t main_thread;
static int ack[2];                  /* main -> waker: my sleep ended */

static void on_usr1(int sig)
{
    (void)sig;
}

/* TICKS short sleeps, then SIGUSR1 to main until main says its sleep
 * ended (a signal that came before main began to sleep is sent again). */
static void *waker(void *arg)
{
    (void)arg;
    for (int i = 0; i < TICKS; i++) {
        const struct timespec ms = { 0, 1000000 };
        CHECK_EQ(clock_nanosleep(CLOCK_MONOTONIC, 0, &ms, NULL), 0);
        ADD(&ticks, 1);
    }
    struct pollfd pfd = { .fd = ack[0], .events = POLLIN };
    do {
        CHECK_RC(pthread_kill(main_thread, SIGUSR1));
    } while (poll(&pfd, 1, 10) == 0);
    char byte;
    CHECK_EQ(read(ack[0], &byte, 1), 1);
    return NULL;
}

static pthread_t start_waker(void)
{
    pthread_t t;
    STORE(&ticks, 0);
    CHECK_RC(pthread_create(&t, NULL, waker, NULL));
    return t;
}

static void stop_waker(pthread_t t)
{
    printf("the other thread's %d sleeps were done first\n", LOAD(&ticks));
    CHECK_EQ(write(ack[1], "a", 1), 1);
    CHECK_RC(pthread_join(t, NULL));
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

    struct sigaction sa = { .sa_handler = on_usr1 };
    sigemptyset(&sa.sa_mask);
    CHECK_OK(sigaction(SIGUSR1, &sa, NULL));
    main_thread = pthread_self();
    CHECK_OK(pipe(ack));
    const struct timespec hour = { 3600, 0 };
    t = start_waker();
    rem = (struct timespec){ 0, 0 };
    REPORT_RC("CLOCK_MONOTONIC 3600 s ended by the other thread's signal",
              clock_nanosleep(CLOCK_MONOTONIC, 0, &hour, &rem));
    printf("rem more than 0 and at most 3600 s: %s\n",
           rem.tv_sec + rem.tv_nsec > 0 && rem.tv_sec <= 3600 ? "yes"
                                                              : "no");
    stop_waker(t);
    deadline = in_ms(CLOCK_REALTIME, 3600000);
    t = start_waker();
    REPORT_RC("TIMER_ABSTIME CLOCK_REALTIME 3600 s ahead ended by the other "
              "thread's signal",
              clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &deadline,
                              NULL));
    stop_waker(t);

    companion_stop();
    return check_exit_status();
}
