/* SPDX-License-Identifier: MIT */
/* sync-cond [buffer|signal|timed]: condition variables: a bounded-buffer
 * producer/consumer, signal waking one waiter, broadcast waking all, and
 * timed waits that time out (ETIMEDOUT, never early) or, with an hour's
 * deadline, are woken by another thread, on CLOCK_REALTIME and
 * CLOCK_MONOTONIC (one section, or all in this order).
 *
 * Prints deterministic totals and the error numbers the calls return.
 * Nothing depends on timing: the thread that signals a timed wait needs
 * the mutex, which main releases only by waiting.  A wait that never
 * returns is ended by the test's timeout.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

enum { PRODUCERS = 3, CONSUMERS = 2, ITEMS = 1000, SLOTS = 4, WAITERS = 5 };

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_full = PTHREAD_COND_INITIALIZER;
static pthread_cond_t not_empty = PTHREAD_COND_INITIALIZER;
static long ring[SLOTS];
static int head, count, producers_left;

static void *produce(void *arg)
{
    const long base = (long)(intptr_t)arg * 1000000;

    for (long i = 1; i <= ITEMS; i++) {
        pthread_mutex_lock(&lock);
        while (count == SLOTS) {
            pthread_cond_wait(&not_full, &lock);
        }
        ring[(head + count++) % SLOTS] = base + i;
        pthread_cond_signal(&not_empty);
        pthread_mutex_unlock(&lock);
        if (i % 97 == 0) {
            usleep(100);
        }
    }
    pthread_mutex_lock(&lock);
    if (--producers_left == 0) {
        pthread_cond_broadcast(&not_empty);
    }
    pthread_mutex_unlock(&lock);
    return NULL;
}

struct consumed {
    long items;
    long sum;
};

static void *consume(void *arg)
{
    struct consumed *const c = arg;

    pthread_mutex_lock(&lock);
    for (;;) {
        while (count == 0 && producers_left > 0) {
            pthread_cond_wait(&not_empty, &lock);
        }
        if (count == 0) {
            break;
        }
        c->sum += ring[head];
        head = (head + 1) % SLOTS;
        count--;
        c->items++;
        pthread_cond_signal(&not_full);
        if (c->items % 89 == 0) {
            pthread_mutex_unlock(&lock);
            usleep(100);
            pthread_mutex_lock(&lock);
        }
    }
    pthread_mutex_unlock(&lock);
    return NULL;
}

static void bounded_buffer(void)
{
    pthread_t p[PRODUCERS], c[CONSUMERS];
    struct consumed got[CONSUMERS] = { { 0, 0 } };

    producers_left = PRODUCERS;
    for (int i = 0; i < CONSUMERS; i++) {
        CHECK_RC(pthread_create(&c[i], NULL, consume, &got[i]));
    }
    for (long i = 0; i < PRODUCERS; i++) {
        CHECK_RC(pthread_create(&p[i], NULL, produce, (void *)(intptr_t)i));
    }
    long items = 0, sum = 0;
    for (int i = 0; i < PRODUCERS; i++) {
        CHECK_RC(pthread_join(p[i], NULL));
    }
    for (int i = 0; i < CONSUMERS; i++) {
        CHECK_RC(pthread_join(c[i], NULL));
        items += got[i].items;
        sum += got[i].sum;
    }
    printf("bounded buffer of %d: %d producers x %d items, consumed %ld, "
           "sum %ld\n", SLOTS, PRODUCERS, ITEMS, items, sum);
    CHECK_EQ(items, PRODUCERS * ITEMS);
}

static pthread_cond_t token_posted = PTHREAD_COND_INITIALIZER;
static pthread_cond_t waiter_arrived = PTHREAD_COND_INITIALIZER;
static int tokens, waiting, woken;

static void *take_token(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&lock);
    waiting++;
    pthread_cond_signal(&waiter_arrived);
    while (tokens == 0) {
        pthread_cond_wait(&token_posted, &lock);
    }
    tokens--;
    woken++;
    pthread_cond_signal(&waiter_arrived);
    pthread_mutex_unlock(&lock);
    return NULL;
}

static void signal_and_broadcast(void)
{
    pthread_t t[WAITERS];

    for (int i = 0; i < WAITERS; i++) {
        CHECK_RC(pthread_create(&t[i], NULL, take_token, NULL));
    }
    pthread_mutex_lock(&lock);
    while (waiting < WAITERS) {
        pthread_cond_wait(&waiter_arrived, &lock);
    }
    tokens = 1;
    pthread_cond_signal(&token_posted);
    /* Wait until the token is taken; a waiter that (wrongly) woke too
     * finds no token and waits again. */
    while (woken == 0) {
        pthread_cond_wait(&waiter_arrived, &lock);
    }
    printf("signal with one token: %d of %d woke and took it\n", woken,
           WAITERS);
    CHECK_EQ(woken, 1);
    tokens = WAITERS - 1;
    pthread_cond_broadcast(&token_posted);
    pthread_mutex_unlock(&lock);
    for (int i = 0; i < WAITERS; i++) {
        CHECK_RC(pthread_join(t[i], NULL));
    }
    printf("broadcast with %d tokens: %d woke in all\n", WAITERS - 1, woken);
}

static struct timespec in_ms(clockid_t clock, long ms)
{
    const long long t = now_ns(clock) + ms * 1000000LL;

    return (struct timespec){ t / 1000000000LL, t % 1000000000LL };
}

static int flag;

/* Takes the mutex, which main holds until it waits, then signals. */
static void *set_flag_later(void *arg)
{
    pthread_cond_t *const cond = arg;

    pthread_mutex_lock(&lock);
    flag = 1;
    pthread_cond_signal(cond);
    pthread_mutex_unlock(&lock);
    return NULL;
}

static void timed_waits(const char *clock_name, clockid_t clock)
{
    pthread_condattr_t attr;
    pthread_cond_t cond;
    char label[128];

    CHECK_RC(pthread_condattr_init(&attr));
    CHECK_RC(pthread_condattr_setclock(&attr, clock));
    CHECK_RC(pthread_cond_init(&cond, &attr));
    CHECK_RC(pthread_condattr_destroy(&attr));

    pthread_mutex_lock(&lock);
    struct timespec deadline = in_ms(clock, 50);
    const long long start = now_ns(clock);
    snprintf(label, sizeof label, "%s: timedwait 50 ms, nobody signals",
             clock_name);
    REPORT_RC(label, pthread_cond_timedwait(&cond, &lock, &deadline));
    CHECK(now_ns(clock) >= start + 50000000LL);
    snprintf(label, sizeof label, "%s: timedwait with a past deadline",
             clock_name);
    REPORT_RC(label, pthread_cond_timedwait(&cond, &lock, &deadline));
    deadline.tv_nsec = 1000000000;
    snprintf(label, sizeof label, "%s: timedwait tv_nsec 1000000000",
             clock_name);
    REPORT_RC(label, pthread_cond_timedwait(&cond, &lock, &deadline));

    pthread_t t;
    flag = 0;
    CHECK_RC(pthread_create(&t, NULL, set_flag_later, &cond));
    deadline = in_ms(clock, 3600000);
    int rc = 0;
    while (!flag && rc == 0) {
        rc = pthread_cond_timedwait(&cond, &lock, &deadline);
    }
    snprintf(label, sizeof label,
             "%s: timedwait 3600 s, another thread signals meanwhile",
             clock_name);
    printf("%s: %s flag %d\n", label, errno_name(rc), flag);
    pthread_mutex_unlock(&lock);
    CHECK_RC(pthread_join(t, NULL));
    CHECK_RC(pthread_cond_destroy(&cond));
}

static void timed(void)
{
    timed_waits("CLOCK_REALTIME", CLOCK_REALTIME);
    timed_waits("CLOCK_MONOTONIC", CLOCK_MONOTONIC);
}

static const struct section sections[] = {
    { "buffer", bounded_buffer },
    { "signal", signal_and_broadcast },
    { "timed", timed },
};

int main(int argc, char **argv)
{
    return RUN_SECTIONS(argc, argv, sections, NULL);
}
