/* SPDX-License-Identifier: MIT */
/* sync-mutex [kinds|holder|contend]: normal, recursive and error-checking
 * mutexes, from static initialisers and from attributes, contended by
 * threads that sleep while holding them (one section, or all in this
 * order).
 *
 * One transcript line per check, naming the error numbers the calls
 * return.  The contended counters must come out exact.  A thread holding
 * a mutex while main waits for it, or times out on it, releases it only
 * when main tells it to: once main is about to lock, or after main's
 * timedlock returned.  A lock that never returns is ended by the test's
 * timeout.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

enum { WORKERS = 4, INCREMENTS = 2000 };

static pthread_mutex_t normal = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t recursive = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
static pthread_mutex_t errorcheck = PTHREAD_ERRORCHECK_MUTEX_INITIALIZER_NP;

static long counter;

/* Increment `counter` under the mutex, sometimes sleeping while holding
 * it so that the other workers must wait for it. */
static void *increment(void *arg)
{
    pthread_mutex_t *const m = arg;

    for (int i = 0; i < INCREMENTS; i++) {
        CHECK_RC(pthread_mutex_lock(m));
        const long seen = counter;
        if (i % 100 == 0) {
            usleep(200);
        }
        counter = seen + 1;
        CHECK_RC(pthread_mutex_unlock(m));
    }
    return NULL;
}

static void contend(const char *label, pthread_mutex_t *m)
{
    pthread_t t[WORKERS];

    counter = 0;
    for (int i = 0; i < WORKERS; i++) {
        CHECK_RC(pthread_create(&t[i], NULL, increment, m));
    }
    for (int i = 0; i < WORKERS; i++) {
        CHECK_RC(pthread_join(t[i], NULL));
    }
    printf("%s: %d threads x %d increments: %ld\n", label, WORKERS,
           INCREMENTS, counter);
    CHECK_EQ(counter, WORKERS * INCREMENTS);
}

/* A thread that does one mutex operation and reports its result. */
struct op {
    pthread_mutex_t *m;
    int (*fn)(pthread_mutex_t *);
    int rc;
};

static void *do_op(void *arg)
{
    struct op *const op = arg;

    op->rc = op->fn(op->m);
    return NULL;
}

static int in_thread(pthread_mutex_t *m, int (*fn)(pthread_mutex_t *))
{
    struct op op = { .m = m, .fn = fn, .rc = -1 };
    pthread_t t;

    CHECK_RC(pthread_create(&t, NULL, do_op, &op));
    CHECK_RC(pthread_join(t, NULL));
    return op.rc;
}

/* Holds `m`, sleeping, until told to release it, so that lockers must
 * wait. */
static pthread_mutex_t holding_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t holding_changed = PTHREAD_COND_INITIALIZER;
static int holding, release;

static void *hold_until_released(void *arg)
{
    pthread_mutex_t *const m = arg;

    CHECK_RC(pthread_mutex_lock(m));
    pthread_mutex_lock(&holding_lock);
    holding = 1;
    pthread_cond_signal(&holding_changed);
    pthread_mutex_unlock(&holding_lock);
    for (int i = 0; i < 30000 && !LOAD(&release); i++) {
        usleep(1000);
    }
    CHECK(LOAD(&release));
    pthread_mutex_lock(&holding_lock);
    holding = 0;
    pthread_mutex_unlock(&holding_lock);
    CHECK_RC(pthread_mutex_unlock(m));
    return NULL;
}

/* Start hold_until_released on `m` and return once it holds `m`. */
static void start_holder(pthread_t *t, pthread_mutex_t *m)
{
    STORE(&release, 0);
    CHECK_RC(pthread_create(t, NULL, hold_until_released, m));
    pthread_mutex_lock(&holding_lock);
    while (!holding) {
        pthread_cond_wait(&holding_changed, &holding_lock);
    }
    pthread_mutex_unlock(&holding_lock);
}

static int lock_and_unlock(pthread_mutex_t *m)
{
    const int rc = pthread_mutex_lock(m);

    return rc != 0 ? rc : pthread_mutex_unlock(m);
}

/* The defined behaviour of a mutex of `type` made from attributes. */
static void mutex_kind(const char *kind, int type, pthread_mutex_t *m)
{
    char label[128];

#define KIND(what) (snprintf(label, sizeof label, "%s: %s", kind, what), label)
    REPORT_RC(KIND("lock"), pthread_mutex_lock(m));
    REPORT_RC(KIND("trylock from another thread while held"),
              in_thread(m, pthread_mutex_trylock));
    if (type == PTHREAD_MUTEX_RECURSIVE) {
        REPORT_RC(KIND("lock again"), pthread_mutex_lock(m));
        REPORT_RC(KIND("unlock 1 of 2"), pthread_mutex_unlock(m));
    } else if (type == PTHREAD_MUTEX_ERRORCHECK) {
        REPORT_RC(KIND("lock again"), pthread_mutex_lock(m));
    }
    if (type == PTHREAD_MUTEX_RECURSIVE || type == PTHREAD_MUTEX_ERRORCHECK) {
        REPORT_RC(KIND("unlock from another thread"),
                  in_thread(m, pthread_mutex_unlock));
    }
    REPORT_RC(KIND("trylock by the owner"), pthread_mutex_trylock(m));
    if (type == PTHREAD_MUTEX_RECURSIVE) {
        REPORT_RC(KIND("unlock the trylock"), pthread_mutex_unlock(m));
    }
    REPORT_RC(KIND("unlock"), pthread_mutex_unlock(m));
    REPORT_RC(KIND("lock and unlock from another thread after unlock"),
              in_thread(m, lock_and_unlock));
    REPORT_RC(KIND("destroy"), pthread_mutex_destroy(m));
#undef KIND
}

static void kinds(void)
{
    REPORT_RC("normal: lock", pthread_mutex_lock(&normal));
    REPORT_RC("normal: trylock from another thread while held",
              in_thread(&normal, pthread_mutex_trylock));
    REPORT_RC("normal: trylock by the owner", pthread_mutex_trylock(&normal));
    REPORT_RC("normal: unlock", pthread_mutex_unlock(&normal));
    REPORT_RC("normal: trylock when free", pthread_mutex_trylock(&normal));
    REPORT_RC("normal: unlock", pthread_mutex_unlock(&normal));

    REPORT_RC("recursive: lock", pthread_mutex_lock(&recursive));
    REPORT_RC("recursive: lock again", pthread_mutex_lock(&recursive));
    REPORT_RC("recursive: trylock again", pthread_mutex_trylock(&recursive));
    REPORT_RC("recursive: trylock from another thread while held",
              in_thread(&recursive, pthread_mutex_trylock));
    REPORT_RC("recursive: unlock from another thread",
              in_thread(&recursive, pthread_mutex_unlock));
    REPORT_RC("recursive: unlock 1 of 3", pthread_mutex_unlock(&recursive));
    REPORT_RC("recursive: unlock 2 of 3", pthread_mutex_unlock(&recursive));
    REPORT_RC("recursive: trylock from another thread, still held once",
              in_thread(&recursive, pthread_mutex_trylock));
    REPORT_RC("recursive: unlock 3 of 3", pthread_mutex_unlock(&recursive));
    REPORT_RC("recursive: unlock once more", pthread_mutex_unlock(&recursive));

    REPORT_RC("errorcheck: lock", pthread_mutex_lock(&errorcheck));
    REPORT_RC("errorcheck: lock again", pthread_mutex_lock(&errorcheck));
    REPORT_RC("errorcheck: trylock again", pthread_mutex_trylock(&errorcheck));
    REPORT_RC("errorcheck: trylock from another thread while held",
              in_thread(&errorcheck, pthread_mutex_trylock));
    REPORT_RC("errorcheck: unlock from another thread",
              in_thread(&errorcheck, pthread_mutex_unlock));
    REPORT_RC("errorcheck: unlock", pthread_mutex_unlock(&errorcheck));
    REPORT_RC("errorcheck: unlock when unlocked",
              pthread_mutex_unlock(&errorcheck));

    const int types[] = { PTHREAD_MUTEX_NORMAL, PTHREAD_MUTEX_RECURSIVE,
                          PTHREAD_MUTEX_ERRORCHECK, PTHREAD_MUTEX_DEFAULT };
    const char *const names[] = { "attr NORMAL", "attr RECURSIVE",
                                  "attr ERRORCHECK", "attr DEFAULT" };
    for (int i = 0; i < 4; i++) {
        pthread_mutexattr_t attr;
        pthread_mutex_t m;
        CHECK_RC(pthread_mutexattr_init(&attr));
        CHECK_RC(pthread_mutexattr_settype(&attr, types[i]));
        CHECK_RC(pthread_mutex_init(&m, &attr));
        CHECK_RC(pthread_mutexattr_destroy(&attr));
        mutex_kind(names[i], types[i], &m);
    }
}

static void waiting_for_a_holder(void)
{
    pthread_t t;
    struct timespec deadline;

    /* The holder may release it before main's lock or while it waits. */
    start_holder(&t, &normal);
    STORE(&release, 1);
    REPORT_RC("lock waits while a thread sleeps holding the mutex",
              pthread_mutex_lock(&normal));
    CHECK_RC(pthread_mutex_unlock(&normal));
    CHECK_RC(pthread_join(t, NULL));

    start_holder(&t, &normal);
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_nsec += 10000000;
    if (deadline.tv_nsec >= 1000000000) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000;
    }
    REPORT_RC("timedlock for 10 ms while a thread holds the mutex",
              pthread_mutex_timedlock(&normal, &deadline));
    STORE(&release, 1);
    CHECK_RC(pthread_join(t, NULL));
    REPORT_RC("timedlock when free", pthread_mutex_timedlock(&normal,
                                                             &deadline));
    CHECK_RC(pthread_mutex_unlock(&normal));
}

static void contended(void)
{
    contend("normal (static)", &normal);
    contend("recursive (static)", &recursive);
    contend("errorcheck (static)", &errorcheck);
}

static const struct section sections[] = {
    { "kinds", kinds },
    { "holder", waiting_for_a_holder },
    { "contend", contended },
};

int main(int argc, char **argv)
{
    return RUN_SECTIONS(argc, argv, sections, NULL);
}
