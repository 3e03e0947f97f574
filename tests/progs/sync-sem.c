/* SPDX-License-Identifier: MIT */
/* sync-sem [SECTION [HOLD_FILE]]: unnamed process-private semaphores.
 *
 * Runs one SECTION, or all of them in this order:
 * parked: PARKED threads block at once in sem_wait on one semaphore; main
 *   waits until each has said it is about to wait, prints "parked N on a
 *   semaphore", waits (at most 120 s) for HOLD_FILE when given, so that a
 *   test can inspect the process, then posts N times and joins them;
 * turnstile: per-thread semaphores forcing the order in which threads run;
 * buffer: a bounded buffer of counting semaphores (with a binary semaphore
 *   as its lock) between producers and consumers, with a checksum;
 * timed: sem_trywait EAGAIN; sem_timedwait and sem_clockwait timing out
 *   (ETIMEDOUT, after at least 40 ms of a 50 ms deadline: a lower bound
 *   only), rejecting bad tv_nsec and clocks (EINVAL), or, with an hour's
 *   deadline, returning the post another thread makes once told that
 *   main is about to wait;
 * values: sem_getvalue; sem_post EOVERFLOW beyond SEM_VALUE_MAX.
 *
 * One transcript line per check; every order printed is forced by the
 * program, never by timing.  A wait that never returns is ended by the
 * test's timeout.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

enum { PARKED = 10, TURN = 5, ROUNDS = 3 };
enum { PRODUCERS = 2, CONSUMERS = 2, ITEMS = 2000, SLOTS = 4 };

static struct timespec in_ms(clockid_t clock, long ms)
{
    const long long t = now_ns(clock) + ms * 1000000LL;

    return (struct timespec){ t / 1000000000LL, t % 1000000000LL };
}

/* sem_wait, retried if a signal interrupts it. */
static void sem_wait_checked(sem_t *s)
{
    int rc;

    do {
        rc = sem_wait(s);
    } while (rc == -1 && errno == EINTR);
    CHECK_EQ(rc, 0);
}

/* ---- many threads parked on one semaphore ---- */

static sem_t park_sem;
static int park_arrived, park_done;

static void *park_waiter(void *arg)
{
    (void)arg;
    ADD(&park_arrived, 1);
    sem_wait_checked(&park_sem);
    ADD(&park_done, 1);
    return NULL;
}

static const char *hold_file;

static void parked(void)
{
    pthread_t t[PARKED];
    int value = -1;

    CHECK_OK(sem_init(&park_sem, 0, 0));
    for (int i = 0; i < PARKED; i++) {
        CHECK_RC(pthread_create(&t[i], NULL, park_waiter, NULL));
    }
    /* Each waiter calls sem_wait right after it counts itself (under
     * libgreen it parks there before main runs again). */
    for (int i = 0; i < 30000 && LOAD(&park_arrived) < PARKED; i++) {
        usleep(1000);
    }
    CHECK_OK(sem_getvalue(&park_sem, &value));
    printf("parked %d on a semaphore\n", LOAD(&park_arrived));
    printf("sem_getvalue with %d waiters: %d\n", PARKED, value);
    printf("returned from sem_wait before any post: %d\n",
           LOAD(&park_done));
    CHECK_EQ(LOAD(&park_arrived), PARKED);
    CHECK_EQ(value, 0);
    CHECK_EQ(LOAD(&park_done), 0);
    fflush(stdout);
    if (hold_file != NULL) {
        wait_for_file(hold_file, 120);
    }
    for (int i = 0; i < PARKED; i++) {
        CHECK_OK(sem_post(&park_sem));
    }
    for (int i = 0; i < PARKED; i++) {
        CHECK_RC(pthread_join(t[i], NULL));
    }
    CHECK_OK(sem_getvalue(&park_sem, &value));
    printf("released %d, value after: %d\n", LOAD(&park_done), value);
    CHECK_EQ(LOAD(&park_done), PARKED);
    CHECK_EQ(value, 0);
    CHECK_OK(sem_destroy(&park_sem));
}

/* ---- a turnstile: the order in which threads run ---- */

static const int turn_order[TURN] = { 3, 1, 4, 0, 2 };
static sem_t turn_sem[TURN], turn_done;
static char turn_log[TURN * ROUNDS * 2 + 1];
static int turn_len;

static void *turnstile(void *arg)
{
    const int me = (int)(intptr_t)arg;
    int pos = 0;

    while (turn_order[pos] != me) {
        pos++;
    }
    for (int r = 0; r < ROUNDS; r++) {
        sem_wait_checked(&turn_sem[me]);
        /* Only the holder of the turn writes: the semaphores order it. */
        turn_log[turn_len++] = (char)('0' + me);
        turn_log[turn_len++] = ' ';
        usleep(1000);
        if (pos == TURN - 1 && r == ROUNDS - 1) {
            CHECK_OK(sem_post(&turn_done));
        } else {
            CHECK_OK(sem_post(&turn_sem[turn_order[(pos + 1) % TURN]]));
        }
    }
    return NULL;
}

static void turnstiles(void)
{
    pthread_t t[TURN];

    for (int i = 0; i < TURN; i++) {
        CHECK_OK(sem_init(&turn_sem[i], 0, 0));
    }
    CHECK_OK(sem_init(&turn_done, 0, 0));
    for (int i = 0; i < TURN; i++) {
        CHECK_RC(pthread_create(&t[i], NULL, turnstile, (void *)(intptr_t)i));
    }
    CHECK_OK(sem_post(&turn_sem[turn_order[0]]));
    sem_wait_checked(&turn_done);
    for (int i = 0; i < TURN; i++) {
        CHECK_RC(pthread_join(t[i], NULL));
        CHECK_OK(sem_destroy(&turn_sem[i]));
    }
    CHECK_OK(sem_destroy(&turn_done));
    if (turn_len > 0) {
        turn_log[turn_len - 1] = '\0';
    }
    printf("turnstile of %d threads, %d rounds, order: %s\n", TURN, ROUNDS,
           turn_log);
    CHECK(strcmp(turn_log, "3 1 4 0 2 3 1 4 0 2 3 1 4 0 2") == 0);
}

/* ---- bounded buffer ---- */

static sem_t empty_slots, full_slots, ring_lock;
static long ring[SLOTS];
static int ring_head, ring_tail;

static void *producer(void *arg)
{
    const long base = ((long)(intptr_t)arg + 1) * 1000000;

    for (long i = 1; i <= ITEMS; i++) {
        sem_wait_checked(&empty_slots);
        sem_wait_checked(&ring_lock);
        ring[ring_tail] = base + i;
        ring_tail = (ring_tail + 1) % SLOTS;
        CHECK_OK(sem_post(&ring_lock));
        CHECK_OK(sem_post(&full_slots));
        if (i % 97 == 0) {
            usleep(100);
        }
    }
    return NULL;
}

struct consumed {
    long items;
    long sum;
};

static void *consumer(void *arg)
{
    struct consumed *const c = arg;

    for (int n = 0; n < PRODUCERS * ITEMS / CONSUMERS; n++) {
        sem_wait_checked(&full_slots);
        sem_wait_checked(&ring_lock);
        c->sum += ring[ring_head];
        ring_head = (ring_head + 1) % SLOTS;
        CHECK_OK(sem_post(&ring_lock));
        CHECK_OK(sem_post(&empty_slots));
        c->items++;
        if (c->items % 89 == 0) {
            usleep(100);
        }
    }
    return NULL;
}

static void bounded_buffer(void)
{
    pthread_t p[PRODUCERS], c[CONSUMERS];
    struct consumed got[CONSUMERS] = { { 0, 0 } };
    long items = 0, sum = 0, expected = 0;
    int empty_value = -1, full_value = -1;

    CHECK_OK(sem_init(&empty_slots, 0, SLOTS));
    CHECK_OK(sem_init(&full_slots, 0, 0));
    CHECK_OK(sem_init(&ring_lock, 0, 1));
    for (int i = 0; i < CONSUMERS; i++) {
        CHECK_RC(pthread_create(&c[i], NULL, consumer, &got[i]));
    }
    for (long i = 0; i < PRODUCERS; i++) {
        CHECK_RC(pthread_create(&p[i], NULL, producer, (void *)(intptr_t)i));
    }
    for (int i = 0; i < PRODUCERS; i++) {
        CHECK_RC(pthread_join(p[i], NULL));
    }
    for (int i = 0; i < CONSUMERS; i++) {
        CHECK_RC(pthread_join(c[i], NULL));
        items += got[i].items;
        sum += got[i].sum;
    }
    for (long i = 0; i < PRODUCERS; i++) {
        expected += (i + 1) * 1000000 * ITEMS + (long)ITEMS * (ITEMS + 1) / 2;
    }
    CHECK_OK(sem_getvalue(&empty_slots, &empty_value));
    CHECK_OK(sem_getvalue(&full_slots, &full_value));
    printf("bounded buffer of %d: %d producers x %d items, consumed %ld, "
           "sum %ld, checksum %s\n", SLOTS, PRODUCERS, ITEMS, items, sum,
           sum == expected ? "ok" : "WRONG");
    printf("bounded buffer: empty slots %d, full slots %d at the end\n",
           empty_value, full_value);
    CHECK_EQ(sum, expected);
    CHECK_EQ(empty_value, SLOTS);
    CHECK_EQ(full_value, 0);
    CHECK_EQ(items, PRODUCERS * ITEMS);
    CHECK_OK(sem_destroy(&empty_slots));
    CHECK_OK(sem_destroy(&full_slots));
    CHECK_OK(sem_destroy(&ring_lock));
}

/* ---- timed waits ---- */

static void report_waited(const char *label, long long start,
                          clockid_t clock)
{
    const long long waited = now_ns(clock) - start;

    printf("%s: waited at least 40 ms: %s\n", label,
           waited >= 40000000LL ? "yes" : "no");
    CHECK(waited >= 40000000LL);
}

static int about_to_wait[2];        /* main -> poster: I am about to wait */

/* Posts once main says it is about to wait. */
static void *post_later(void *arg)
{
    char byte;
    CHECK_EQ(read(about_to_wait[0], &byte, 1), 1);
    CHECK_OK(sem_post(arg));
    return NULL;
}

static void tell_poster(void)
{
    CHECK_EQ(write(about_to_wait[1], "w", 1), 1);
}

static void timed_waits(void)
{
    sem_t s;
    struct timespec deadline;
    long long start;
    pthread_t t;

    CHECK_OK(sem_init(&s, 0, 0));
    REPORT_ERRNO("sem_trywait at 0", sem_trywait(&s), EAGAIN);

    deadline = in_ms(CLOCK_REALTIME, 50);
    start = now_ns(CLOCK_REALTIME);
    REPORT_ERRNO("sem_timedwait 50 ms at 0", sem_timedwait(&s, &deadline),
                 ETIMEDOUT);
    report_waited("sem_timedwait 50 ms at 0", start, CLOCK_REALTIME);

    deadline = in_ms(CLOCK_MONOTONIC, 50);
    start = now_ns(CLOCK_MONOTONIC);
    REPORT_ERRNO("sem_clockwait CLOCK_MONOTONIC 50 ms at 0",
                 sem_clockwait(&s, CLOCK_MONOTONIC, &deadline), ETIMEDOUT);
    report_waited("sem_clockwait CLOCK_MONOTONIC 50 ms at 0", start,
                  CLOCK_MONOTONIC);

    deadline = in_ms(CLOCK_REALTIME, 50);
    start = now_ns(CLOCK_REALTIME);
    REPORT_ERRNO("sem_clockwait CLOCK_REALTIME 50 ms at 0",
                 sem_clockwait(&s, CLOCK_REALTIME, &deadline), ETIMEDOUT);
    report_waited("sem_clockwait CLOCK_REALTIME 50 ms at 0", start,
                  CLOCK_REALTIME);

    deadline = (struct timespec){ 0, 0 };
    REPORT_ERRNO("sem_timedwait until the epoch at 0",
                 sem_timedwait(&s, &deadline), ETIMEDOUT);
    deadline = in_ms(CLOCK_REALTIME, 50);
    deadline.tv_nsec = 1000000000;
    REPORT_ERRNO("sem_timedwait tv_nsec 1000000000 at 0",
                 sem_timedwait(&s, &deadline), EINVAL);
    deadline.tv_nsec = -1;
    REPORT_ERRNO("sem_timedwait tv_nsec -1 at 0",
                 sem_timedwait(&s, &deadline), EINVAL);
    deadline = in_ms(CLOCK_MONOTONIC, 50);
    deadline.tv_nsec = 1000000000;
    REPORT_ERRNO("sem_clockwait CLOCK_MONOTONIC tv_nsec 1000000000 at 0",
                 sem_clockwait(&s, CLOCK_MONOTONIC, &deadline), EINVAL);
    deadline = in_ms(CLOCK_MONOTONIC, 50);
    REPORT_ERRNO("sem_clockwait CLOCK_PROCESS_CPUTIME_ID at 0",
                 sem_clockwait(&s, CLOCK_PROCESS_CPUTIME_ID, &deadline),
                 EINVAL);

    CHECK_OK(pipe(about_to_wait));
    CHECK_RC(pthread_create(&t, NULL, post_later, &s));
    deadline = in_ms(CLOCK_REALTIME, 3600000);
    tell_poster();
    REPORT_ERRNO("sem_timedwait 3600 s, another thread posts meanwhile",
                 sem_timedwait(&s, &deadline), 0);
    CHECK_RC(pthread_join(t, NULL));
    CHECK_RC(pthread_create(&t, NULL, post_later, &s));
    deadline = in_ms(CLOCK_MONOTONIC, 3600000);
    tell_poster();
    REPORT_ERRNO("sem_clockwait CLOCK_MONOTONIC 3600 s, another thread "
                 "posts meanwhile",
                 sem_clockwait(&s, CLOCK_MONOTONIC, &deadline), 0);
    CHECK_RC(pthread_join(t, NULL));
    CHECK_RC(pthread_create(&t, NULL, post_later, &s));
    tell_poster();
    REPORT_ERRNO("sem_wait, another thread posts meanwhile", sem_wait(&s), 0);
    CHECK_RC(pthread_join(t, NULL));
    close(about_to_wait[0]);
    close(about_to_wait[1]);
    CHECK_OK(sem_destroy(&s));
}

/* ---- values ---- */

static void values(void)
{
    sem_t s;
    int value = -1;
    struct timespec deadline;

    CHECK_OK(sem_init(&s, 0, 0));
    for (int i = 0; i < 3; i++) {
        CHECK_OK(sem_post(&s));
    }
    REPORT_ERRNO("sem_getvalue after 3 posts", sem_getvalue(&s, &value), 0);
    printf("value after 3 posts: %d\n", value);
    CHECK_EQ(value, 3);
    REPORT_ERRNO("sem_trywait at 3", sem_trywait(&s), 0);
    deadline = (struct timespec){ 0, 0 };
    REPORT_ERRNO("sem_timedwait until the epoch at 2",
                 sem_timedwait(&s, &deadline), 0);
    REPORT_ERRNO("sem_wait at 1", sem_wait(&s), 0);
    CHECK_OK(sem_getvalue(&s, &value));
    printf("value after trywait, timedwait and wait: %d\n", value);
    CHECK_EQ(value, 0);
    CHECK_OK(sem_destroy(&s));

    CHECK_OK(sem_init(&s, 0, SEM_VALUE_MAX - 1));
    REPORT_ERRNO("sem_post to SEM_VALUE_MAX", sem_post(&s), 0);
    CHECK_OK(sem_getvalue(&s, &value));
    printf("value is SEM_VALUE_MAX: %s\n",
           value == SEM_VALUE_MAX ? "yes" : "no");
    CHECK_EQ(value, SEM_VALUE_MAX);
    REPORT_ERRNO("sem_post beyond SEM_VALUE_MAX", sem_post(&s), EOVERFLOW);
    CHECK_OK(sem_getvalue(&s, &value));
    printf("value still SEM_VALUE_MAX: %s\n",
           value == SEM_VALUE_MAX ? "yes" : "no");
    CHECK_EQ(value, SEM_VALUE_MAX);
    REPORT_ERRNO("sem_trywait at SEM_VALUE_MAX", sem_trywait(&s), 0);
    CHECK_OK(sem_getvalue(&s, &value));
    printf("value is SEM_VALUE_MAX - 1: %s\n",
           value == SEM_VALUE_MAX - 1 ? "yes" : "no");
    CHECK_EQ(value, SEM_VALUE_MAX - 1);
    CHECK_OK(sem_destroy(&s));

    REPORT_ERRNO("sem_init with SEM_VALUE_MAX + 1",
                 sem_init(&s, 0, (unsigned)SEM_VALUE_MAX + 1u), EINVAL);
}

static const struct section sections[] = {
    { "parked", parked },
    { "turnstile", turnstiles },
    { "buffer", bounded_buffer },
    { "timed", timed_waits },
    { "values", values },
};

int main(int argc, char **argv)
{
    if (argc > 3 || (argc == 3 && strcmp(argv[1], "parked") != 0)) {
        fprintf(stderr, "usage: %s [SECTION | parked HOLD_FILE]\n", argv[0]);
        return 2;
    }
    hold_file = argc == 3 ? argv[2] : NULL;
    /* Line-buffered even into a pipe: when the run's timeout ends a wait
     * that never returns, the transcript so far shows where it stopped. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    return RUN_SECTIONS(argc, argv, sections, NULL);
}
