/* SPDX-License-Identifier: MIT */
/* threads-info: the calls that take another thread's pthread_t.
 *
 * pthread_tryjoin_np (EBUSY while it runs), pthread_timedjoin_np and
 * pthread_clockjoin_np (ETIMEDOUT, then the value), pthread_setname_np and
 * pthread_getname_np (own name per thread, ERANGE cases), pthread_kill
 * (signal 0 on a live thread, a handled signal), pthread_getcpuclockid,
 * pthread_getschedparam/setschedparam/setschedprio and pthread_getaffinity_np/
 * setaffinity_np on a running thread, and pthread_yield letting another
 * thread run. Prints only facts that do not depend on scheduling or
 * timing: main polls until the signal handler ran and yields until the
 * other thread ran, however long that takes, and the joins that must
 * succeed have an hour's deadline.  A wait that never ends is ended by
 * the test's timeout.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

/* pthread_yield as binaries built before glibc 2.34 import it (today's
 * headers turn the name into sched_yield). */
extern int compat_pthread_yield(void);
__asm__(".symver compat_pthread_yield, pthread_yield@GLIBC_2.2.5");

static volatile sig_atomic_t handled;
static sem_t named_ready;
static volatile int stop, spins;

static void on_usr1(int sig)
{
    (void)sig;
    handled++;
}

/* Names itself, then waits until told to stop; returns its name's length. */
static void *named(void *arg)
{
    CHECK_RC(pthread_setname_np(pthread_self(), arg));
    CHECK_OK(sem_post(&named_ready));
    while (!stop) {
        usleep(2000);
    }
    return (void *)(long)strlen(arg);
}

static void *spinner(void *arg)
{
    (void)arg;
    while (!stop) {
        spins++;
        sched_yield();
    }
    return NULL;
}

static struct timespec in_ms(clockid_t clock, long ms)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    ts.tv_nsec += ms * 1000000L;
    ts.tv_sec += ts.tv_nsec / 1000000000;
    ts.tv_nsec %= 1000000000;
    return ts;
}

int main(void)
{
    pthread_t a, b;
    char name[32];
    void *ret;

    CHECK_OK(sem_init(&named_ready, 0, 0));
    CHECK_RC(pthread_create(&a, NULL, named, "worker-a"));
    CHECK_RC(pthread_create(&b, NULL, named, "worker-bee"));
    CHECK_OK(sem_wait(&named_ready));
    CHECK_OK(sem_wait(&named_ready));

    REPORT_RC("getname of worker-a", pthread_getname_np(a, name, sizeof name));
    printf("worker-a is named: %s\n", name);
    REPORT_RC("getname of worker-bee",
              pthread_getname_np(b, name, sizeof name));
    printf("worker-bee is named: %s\n", name);
    REPORT_RC("getname into 4 bytes", pthread_getname_np(a, name, 4));
    REPORT_RC("setname of 16 characters",
              pthread_setname_np(a, "0123456789abcdef"));
    REPORT_RC("setname of 15 characters",
              pthread_setname_np(b, "0123456789abcde"));
    REPORT_RC("getname after setname",
              pthread_getname_np(b, name, sizeof name));
    printf("worker-bee is now named: %s\n", name);

    REPORT_RC("pthread_kill signal 0 to a live thread", pthread_kill(a, 0));
    struct sigaction sa = { .sa_handler = on_usr1 };
    CHECK_OK(sigaction(SIGUSR1, &sa, NULL));
    REPORT_RC("pthread_kill SIGUSR1", pthread_kill(a, SIGUSR1));
    for (int i = 0; i < 30000 && !handled; i++) {
        usleep(1000);
    }
    printf("SIGUSR1 handler ran: %d time(s)\n", (int)handled);

    clockid_t clock;
    REPORT_RC("getcpuclockid", pthread_getcpuclockid(a, &clock));
    struct timespec cpu;
    REPORT("clock_gettime on it", clock_gettime(clock, &cpu));
    int policy = -1;
    struct sched_param sp = { 0 };
    REPORT_RC("getschedparam", pthread_getschedparam(a, &policy, &sp));
    printf("policy is SCHED_OTHER: %d, priority %d\n", policy == SCHED_OTHER,
           sp.sched_priority);
    REPORT_RC("setschedparam SCHED_OTHER 0",
              pthread_setschedparam(a, SCHED_OTHER, &sp));
    sp.sched_priority = 5;
    REPORT_RC("setschedparam SCHED_OTHER 5 (invalid priority)",
              pthread_setschedparam(a, SCHED_OTHER, &sp));
    REPORT_RC("setschedprio 0", pthread_setschedprio(a, 0));
    cpu_set_t set;
    REPORT_RC("getaffinity", pthread_getaffinity_np(a, sizeof set, &set));
    printf("allowed on at least one CPU: %d\n", CPU_COUNT(&set) > 0);
    REPORT_RC("setaffinity to the same set",
              pthread_setaffinity_np(a, sizeof set, &set));

    REPORT_RC("tryjoin while it runs", pthread_tryjoin_np(a, &ret));
    struct timespec soon = in_ms(CLOCK_REALTIME, 10);
    REPORT_RC("timedjoin for 10 ms while it runs",
              pthread_timedjoin_np(a, &ret, &soon));
    soon = in_ms(CLOCK_MONOTONIC, 10);
    REPORT_RC("clockjoin MONOTONIC for 10 ms while it runs",
              pthread_clockjoin_np(a, &ret, CLOCK_MONOTONIC, &soon));
    stop = 1;
    soon = in_ms(CLOCK_REALTIME, 3600000);
    REPORT_RC("timedjoin once it ends", pthread_timedjoin_np(a, &ret, &soon));
    printf("worker-a returned %ld\n", (long)ret);
    soon = in_ms(CLOCK_MONOTONIC, 3600000);
    REPORT_RC("clockjoin once it ends",
              pthread_clockjoin_np(b, &ret, CLOCK_MONOTONIC, &soon));
    printf("worker-bee returned %ld\n", (long)ret);

    /* Another thread runs while this one yields. */
    stop = 0;
    CHECK_RC(pthread_create(&a, NULL, spinner, NULL));
    /* Natively the other thread needs a free core: yield until it ran. */
    int rc = 0;
    while (spins == 0) {
        rc |= compat_pthread_yield();
    }
    printf("pthread_yield returned 0: %d, the other thread ran: %d\n",
           rc == 0, spins > 0);
    stop = 1;
    CHECK_RC(pthread_join(a, NULL));
    return check_exit_status();
}
