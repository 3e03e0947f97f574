/* SPDX-License-Identifier: MIT */
/* threads-api: pthread_create with attributes, join values, detach, exit,
 * self and equal, and pthread_exit from main.
 *
 * Prints one deterministic line per check.  main ends with pthread_exit
 * while three threads are still running: the process must live on until
 * the last of them ends and then exit with status 0 (flushing stdio, as
 * exit does), printing the line the last thread left in the stdio buffer.
 * Those threads start their work (a short sleep each) only once main has
 * printed its last line, so that the last line comes last however the
 * threads are scheduled.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

enum { OWN_STACK = 1 << 20, STACKSIZE = 256 << 10, LATE = 3 };

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static int detached_done;

static void *detached_worker(void *arg)
{
    usleep((unsigned)(intptr_t)arg);
    pthread_mutex_lock(&lock);
    detached_done++;
    pthread_cond_broadcast(&changed);
    pthread_mutex_unlock(&lock);
    return NULL;
}

static void wait_detached(int n)
{
    pthread_mutex_lock(&lock);
    while (detached_done < n) {
        pthread_cond_wait(&changed, &lock);
    }
    pthread_mutex_unlock(&lock);
}

static void *self_detaching(void *arg)
{
    CHECK_RC(pthread_detach(pthread_self()));
    return detached_worker(arg);
}

static void detach(void)
{
    pthread_attr_t attr;
    pthread_t t;
    int state = -1;

    CHECK_RC(pthread_attr_init(&attr));
    CHECK_RC(pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED));
    CHECK_RC(pthread_attr_getdetachstate(&attr, &state));
    printf("attr detachstate detached: %d\n",
           state == PTHREAD_CREATE_DETACHED);
    CHECK_RC(pthread_create(&t, &attr, detached_worker, (void *)10000));
    CHECK_RC(pthread_attr_destroy(&attr));
    wait_detached(1);
    printf("detached thread ran: %d\n", detached_done);

    CHECK_RC(pthread_create(&t, NULL, detached_worker, (void *)20000));
    REPORT_RC("pthread_detach of a running thread", pthread_detach(t));
    wait_detached(2);
    CHECK_RC(pthread_create(&t, NULL, self_detaching, (void *)10000));
    wait_detached(3);
    printf("detached threads ran: %d\n", detached_done);
}

static int on_own_stack = -1;

static void *use_big_locals(void *arg)
{
    volatile char locals[128 << 10];

    (void)arg;
    memset((char *)locals, 1, sizeof locals);
    long sum = 0;
    for (size_t i = 0; i < sizeof locals; i += 512) {
        sum += locals[i];
    }
    usleep(1000);
    return (void *)(intptr_t)sum;
}

static char *own_stack;

static void *check_own_stack(void *arg)
{
    char local = 0;

    (void)arg;
    usleep(1000);
    on_own_stack = &local >= own_stack && &local < own_stack + OWN_STACK;
    return NULL;
}

static void stacks(void)
{
    pthread_attr_t attr;
    pthread_t t;
    size_t size = 0;
    void *ret = NULL;

    CHECK_RC(pthread_attr_init(&attr));
    CHECK_RC(pthread_attr_setstacksize(&attr, STACKSIZE));
    CHECK_RC(pthread_attr_getstacksize(&attr, &size));
    printf("attr stacksize: %zu\n", size);
    CHECK_RC(pthread_create(&t, &attr, use_big_locals, NULL));
    CHECK_RC(pthread_attr_destroy(&attr));
    CHECK_RC(pthread_join(t, &ret));
    printf("thread with a %d KiB stack used 128 KiB of locals: %ld\n",
           STACKSIZE >> 10, (long)(intptr_t)ret);

    CHECK_RC(posix_memalign((void **)&own_stack, 65536, OWN_STACK));
    CHECK_RC(pthread_attr_init(&attr));
    CHECK_RC(pthread_attr_setstack(&attr, own_stack, OWN_STACK));
    CHECK_RC(pthread_create(&t, &attr, check_own_stack, NULL));
    CHECK_RC(pthread_attr_destroy(&attr));
    CHECK_RC(pthread_join(t, NULL));
    printf("thread on a malloc'd stack runs on it: %d\n", on_own_stack);
    free(own_stack);
}

static void nested_exit(long value)
{
    pthread_exit((void *)value);
}

static void *return_value(void *arg)
{
    const long i = (long)(intptr_t)arg;

    usleep((unsigned)(5 - i) * 2000);
    if (i == 3) {
        nested_exit(77);
    }
    return (void *)(i * i + 1);
}

static int finished_early;

static void *finish_early(void *arg)
{
    STORE(&finished_early, 1);
    return arg;
}

static pthread_t chain[3];

/* chain[i] joins chain[i + 1] and adds one to its value. */
static void *join_next(void *arg)
{
    const long i = (long)(intptr_t)arg;
    void *ret = NULL;

    if (i == 2) {
        usleep(10000);
        return (void *)100;
    }
    CHECK_RC(pthread_join(chain[i + 1], &ret));
    return (void *)((long)(intptr_t)ret + 1);
}

static void joins(void)
{
    pthread_t t[5];
    void *ret = NULL;

    for (long i = 0; i < 5; i++) {
        CHECK_RC(pthread_create(&t[i], NULL, return_value,
                                (void *)(intptr_t)i));
    }
    for (int i = 0; i < 5; i++) {
        CHECK_RC(pthread_join(t[i], &ret));
        printf("join thread %d: %ld\n", i, (long)(intptr_t)ret);
    }
    CHECK_RC(pthread_create(&t[0], NULL, finish_early, (void *)42));
    for (int i = 0; i < 30000 && !LOAD(&finished_early); i++) {
        usleep(1000);       /* it may still be on its way out natively */
    }
    CHECK_RC(pthread_join(t[0], &ret));
    printf("join a thread that already ended: %ld\n", (long)(intptr_t)ret);

    for (long i = 2; i >= 0; i--) {
        CHECK_RC(pthread_create(&chain[i], NULL, join_next,
                                (void *)(intptr_t)i));
    }
    CHECK_RC(pthread_join(chain[0], &ret));
    printf("threads joining threads: %ld\n", (long)(intptr_t)ret);
    REPORT_RC("pthread_join of self", pthread_join(pthread_self(), NULL));
}

struct who {
    pthread_t self;
};

static void *tell_self(void *arg)
{
    struct who *const w = arg;

    usleep(1000);
    w->self = pthread_self();
    return NULL;
}

static void identity(void)
{
    struct who w[2];
    pthread_t t[2];

    for (int i = 0; i < 2; i++) {
        CHECK_RC(pthread_create(&t[i], NULL, tell_self, &w[i]));
    }
    for (int i = 0; i < 2; i++) {
        CHECK_RC(pthread_join(t[i], NULL));
    }
    printf("pthread_self in a thread equals its pthread_t: %d %d\n",
           pthread_equal(w[0].self, t[0]) != 0,
           pthread_equal(w[1].self, t[1]) != 0);
    printf("two threads are not equal: %d\n",
           pthread_equal(w[0].self, w[1].self) == 0);
    printf("main is not equal to a thread: %d\n",
           pthread_equal(pthread_self(), t[0]) == 0);
    printf("main equals itself: %d\n",
           pthread_equal(pthread_self(), pthread_self()) != 0);
}

static int late_running = LATE, main_exiting;

/* Runs once main is about to call pthread_exit; the last one reports and
 * leaves its line in the stdio buffer for exit to flush. */
static void *late(void *arg)
{
    for (int i = 0; i < 30000 && !LOAD(&main_exiting); i++) {
        usleep(1000);
    }
    CHECK(LOAD(&main_exiting));
    usleep((unsigned)(intptr_t)arg);
    pthread_mutex_lock(&lock);
    const int left = --late_running;
    pthread_mutex_unlock(&lock);
    if (left == 0) {
        printf("last thread ends after main's pthread_exit\n");
        if (check_exit_status() != 0) {
            exit(1);
        }
    }
    return NULL;
}

int main(void)
{
    detach();
    stacks();
    joins();
    identity();

    pthread_attr_t attr;
    pthread_t t;
    CHECK_RC(pthread_attr_init(&attr));
    CHECK_RC(pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED));
    for (long i = 0; i < LATE; i++) {
        CHECK_RC(pthread_create(&t, i == 0 ? NULL : &attr, late,
                                (void *)(intptr_t)(10000 * (i + 1))));
    }
    printf("main calls pthread_exit\n");
    fflush(stdout);
    STORE(&main_exiting, 1);
    pthread_exit(NULL);
}
