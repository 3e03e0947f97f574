/* SPDX-License-Identifier: MIT */
/* What the pthread calls that take a thread's id answer for an id whose
 * thread is gone: joined ("joined"), or ended detached ("detached").
 * Each section prints one line per call with the error it returned; no
 * thread is created between the thread's end and the calls, so glibc's
 * descriptor is not reused meanwhile. Usage: stale-ids [SECTION].
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "handshake.h"

static struct handshake ended;
static pid_t detached_tid;

static void *returns(void *arg)
{
    return arg;
}

static void *detached_main(void *arg)
{
    (void)arg;
    STORE(&detached_tid, gettid());
    hs_post(&ended);
    return NULL;
}

/* The calls of glibc's that read a thread's descriptor, on `t`. */
static void probe(const char *what, pthread_t t, int joins)
{
    struct timespec past = { 0, 0 };
    void *ret;

    if (joins) {
        printf("%s: pthread_join: %s\n", what,
               errno_name(pthread_join(t, &ret)));
        printf("%s: pthread_tryjoin_np: %s\n", what,
               errno_name(pthread_tryjoin_np(t, &ret)));
        printf("%s: pthread_timedjoin_np: %s\n", what,
               errno_name(pthread_timedjoin_np(t, &ret, &past)));
        printf("%s: pthread_clockjoin_np: %s\n", what,
               errno_name(pthread_clockjoin_np(t, &ret, CLOCK_MONOTONIC,
                                               &past)));
    }
    printf("%s: pthread_kill 0: %s\n", what, errno_name(pthread_kill(t, 0)));
    printf("%s: pthread_kill SIGURG: %s\n", what,
           errno_name(pthread_kill(t, SIGURG)));
    printf("%s: pthread_kill SIGRTMIN-2: %s\n", what,
           errno_name(pthread_kill(t, 32)));
    union sigval v = { .sival_int = 1 };
    printf("%s: pthread_sigqueue: %s\n", what,
           errno_name(pthread_sigqueue(t, SIGURG, v)));
    int policy;
    struct sched_param sp = { 0 };
    printf("%s: pthread_getschedparam: %s\n", what,
           errno_name(pthread_getschedparam(t, &policy, &sp)));
    sp.sched_priority = 0;
    printf("%s: pthread_setschedparam: %s\n", what,
           errno_name(pthread_setschedparam(t, SCHED_OTHER, &sp)));
    printf("%s: pthread_setschedprio: %s\n", what,
           errno_name(pthread_setschedprio(t, 0)));
    printf("%s: pthread_setname_np: %s\n", what,
           errno_name(pthread_setname_np(t, "gone")));
    printf("%s: pthread_setname_np too long: %s\n", what,
           errno_name(pthread_setname_np(t, "0123456789abcdefgh")));
    char name[32];
    printf("%s: pthread_getname_np: %s\n", what,
           errno_name(pthread_getname_np(t, name, sizeof name)));
    printf("%s: pthread_getname_np short buffer: %s\n", what,
           errno_name(pthread_getname_np(t, name, 4)));
    clockid_t clock;
    printf("%s: pthread_getcpuclockid: %s\n", what,
           errno_name(pthread_getcpuclockid(t, &clock)));
    printf("%s: pthread_detach: %s\n", what, errno_name(pthread_detach(t)));
    printf("%s: pthread_detach again: %s\n", what,
           errno_name(pthread_detach(t)));
    if (!joins) {
        printf("%s: pthread_join: %s\n", what,
               errno_name(pthread_join(t, &ret)));
        printf("%s: pthread_tryjoin_np: %s\n", what,
               errno_name(pthread_tryjoin_np(t, &ret)));
    }
    fflush(stdout);
}

static void joined(void)
{
    pthread_t t;
    void *ret = NULL;

    CHECK_RC(pthread_create(&t, NULL, returns, &ended));
    CHECK_RC(pthread_join(t, &ret));
    CHECK(ret == &ended);
    probe("joined", t, 1);
    pthread_attr_t attr;
    printf("joined: pthread_getattr_np: %s\n",
           errno_name(pthread_getattr_np(t, &attr)));
    cpu_set_t set;
    printf("joined: pthread_getaffinity_np: %s\n",
           errno_name(pthread_getaffinity_np(t, sizeof set, &set)));
}

/* An old id kept while 200 threads come and go, whose objects may take
 * its place (glibc's cached descriptors, libgreen's thread objects): each
 * was joined, so the id still reads as a joined thread's. */
static void reused(void)
{
    pthread_t old, t;

    CHECK_RC(pthread_create(&old, NULL, returns, NULL));
    CHECK_RC(pthread_join(old, NULL));
    for (int i = 0; i < 200; i++) {
        CHECK_RC(pthread_create(&t, NULL, returns, NULL));
        CHECK_RC(pthread_join(t, NULL));
    }
    printf("reused: pthread_join: %s\n", errno_name(pthread_join(old, NULL)));
    printf("reused: pthread_detach: %s\n", errno_name(pthread_detach(old)));
    printf("reused: pthread_kill 0: %s\n", errno_name(pthread_kill(old, 0)));
}

/* Natively a detached thread has ended once its /proc entry is gone;
 * under libgreen its id is no kernel thread's, and it ended before the
 * post reached main. */
static void wait_gone(pid_t tid)
{
    char path[64];
    struct stat st;

    snprintf(path, sizeof path, "/proc/self/task/%d", (int)tid);
    while (stat(path, &st) == 0) {
        usleep(1000);
    }
}

static void detached(void)
{
    pthread_attr_t attr;
    pthread_t t;

    hs_init(&ended);
    CHECK_RC(pthread_attr_init(&attr));
    CHECK_RC(pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED));
    CHECK_RC(pthread_create(&t, &attr, detached_main, NULL));
    CHECK_RC(pthread_attr_destroy(&attr));
    hs_wait(&ended);
    wait_gone(LOAD(&detached_tid));
    probe("detached", t, 0);
    hs_destroy(&ended);
}

int main(int argc, char **argv)
{
    static const struct section sections[] = {
        { "joined", joined },
        { "detached", detached },
        { "reused", reused },
    };

    signal(SIGURG, SIG_IGN);
    companion_start();
    return RUN_SECTIONS(argc, argv, sections, companion_stop);
}
