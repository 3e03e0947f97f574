/* SPDX-License-Identifier: MIT */
/* sleep-calls: sleep, usleep and nanosleep, with their results and errors,
 * while other threads keep running.
 *
 *   sleep-calls [results|others|many]   one section; none: all three
 *
 * results: return values and errors; a sleep never ends early (a lower
 *   bound only: it cannot fail on a slow machine).
 * others: main sleeps for an hour in each call while another thread
 *   finishes 10 short sleeps of its own and then ends main's sleep with a
 *   signal (a wait that held up the process would leave it asleep: the
 *   run's timeout turns that hang into a failure).
 * many: 200 threads sleep 1 s each (sleep, usleep, nanosleep), all at
 *   once, and each wakes with 0 (one after another they would take 200 s,
 *   beyond the run's timeout).
 *
 * One transcript line per check.  A companion thread stays parked for the
 * whole run, so that every call is made while the program has more than
 * one thread.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

enum { SLEEPERS = 200, TICKS = 10 };

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
        CHECK_EQ(usleep(1000), 0);
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

static void stop_waker(const char *what, pthread_t t)
{
    printf("%s: the other thread's %d sleeps were done first\n", what,
           LOAD(&ticks));
    CHECK_EQ(write(ack[1], "a", 1), 1);
    CHECK_RC(pthread_join(t, NULL));
}

static void other_threads_run_while_main_sleeps(void)
{
    struct sigaction sa = { .sa_handler = on_usr1 };
    sigemptyset(&sa.sa_mask);
    CHECK_OK(sigaction(SIGUSR1, &sa, NULL));
    main_thread = pthread_self();
    CHECK_OK(pipe(ack));

    pthread_t t = start_waker();
    errno = 0;
    const unsigned left = sleep(3600);
    printf("sleep(3600) ended by the other thread's signal: %s, errno %s\n",
           left > 0 && left <= 3600 ? "early" : "NOT EARLY",
           errno_name(errno));
    CHECK(left > 0 && left <= 3600);
    stop_waker("sleep", t);

    t = start_waker();
    REPORT_ERRNO("usleep(3600 s) ended by the other thread's signal",
                 usleep(3600000000u), EINTR);
    stop_waker("usleep", t);

    t = start_waker();
    struct timespec rem = { 0, 0 };
    REPORT_ERRNO("nanosleep(3600 s) ended by the other thread's signal",
                 nanosleep(&(struct timespec){ 3600, 0 }, &rem), EINTR);
    printf("nanosleep rem more than 0 and at most 3600 s: %s\n",
           rem.tv_sec + rem.tv_nsec > 0 && rem.tv_sec <= 3600 ? "yes"
                                                              : "no");
    stop_waker("nanosleep", t);

    close(ack[0]);
    close(ack[1]);
    signal(SIGUSR1, SIG_DFL);
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
    printf("%d threads slept 1 s each at the same time\n", SLEEPERS);
    CHECK_WAITED(start, 1000);
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

static const struct section sections[] = {
    { "results", results_and_errors },
    { "others", other_threads_run_while_main_sleeps },
    { "many", many_sleepers },
};

int main(int argc, char **argv)
{
    companion_start();
    return RUN_SECTIONS(argc, argv, sections, companion_stop);
}
