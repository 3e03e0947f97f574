/* SPDX-License-Identifier: MIT */
/* sync-barrier [rounds|counts|once|spin]: barriers, pthread_once and spin
 * locks (one section, or all in this order).
 *
 * PARTIES threads meet at one barrier for ROUNDS rounds: in each round
 * exactly one gets PTHREAD_BARRIER_SERIAL_THREAD and no thread leaves the
 * barrier before all have arrived (each writes its round number before
 * waiting; every thread leaving checks them all).  A barrier of count 0 is
 * EINVAL, one of count 1 never blocks.  ONCE_CALLERS threads call
 * pthread_once at once with an init routine that sleeps 20 ms: it runs
 * exactly once and no caller returns before it has finished.  SPINNERS
 * threads increment a counter under a spin lock, yielding and sleeping
 * between increments; pthread_spin_trylock is EBUSY while the lock is held
 * and pthread_spin_lock waits for a holder that sleeps.
 *
 * Prints counts and return codes only; every order checked is forced by
 * the program (the sleeps only vary who arrives when, or keep a lock or
 * pthread_once's init busy).  A wait that never returns is ended by the
 * test's timeout.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

enum { PARTIES = 5, ROUNDS = 10, ONCE_CALLERS = 8, SPINNERS = 4,
       SPINS = 1000 };

/* ---- barrier rounds ---- */

static pthread_barrier_t barrier;
static int round_of[PARTIES];
static int serial_first[ROUNDS], serial_second[ROUNDS];
static int left_early, serial_saw_all, bad_returns;

static void *party(void *arg)
{
    const int me = (int)(intptr_t)arg;

    for (int r = 0; r < ROUNDS; r++) {
        /* Arrive at different times, a different thread last each round. */
        usleep((useconds_t)(((me * 7 + r * 3) % PARTIES) * 2000));
        STORE(&round_of[me], r);
        int rc = pthread_barrier_wait(&barrier);
        if (rc == PTHREAD_BARRIER_SERIAL_THREAD) {
            ADD(&serial_first[r], 1);
        } else if (rc != 0) {
            ADD(&bad_returns, 1);
        }
        /* Every thread has written round r and none can have written
         * round r + 1: that waits for the second barrier below. */
        int all = 1;
        for (int j = 0; j < PARTIES; j++) {
            if (LOAD(&round_of[j]) != r) {
                all = 0;
            }
        }
        if (!all) {
            ADD(&left_early, 1);
        } else if (rc == PTHREAD_BARRIER_SERIAL_THREAD) {
            ADD(&serial_saw_all, 1);
        }
        rc = pthread_barrier_wait(&barrier);
        if (rc == PTHREAD_BARRIER_SERIAL_THREAD) {
            ADD(&serial_second[r], 1);
        } else if (rc != 0) {
            ADD(&bad_returns, 1);
        }
    }
    return NULL;
}

static void barrier_rounds(void)
{
    pthread_t t[PARTIES];
    int one_serial_first = 0, one_serial_second = 0;

    CHECK_RC(pthread_barrier_init(&barrier, NULL, PARTIES));
    for (int i = 0; i < PARTIES; i++) {
        CHECK_RC(pthread_create(&t[i], NULL, party, (void *)(intptr_t)i));
    }
    for (int i = 0; i < PARTIES; i++) {
        CHECK_RC(pthread_join(t[i], NULL));
    }
    for (int r = 0; r < ROUNDS; r++) {
        one_serial_first += serial_first[r] == 1;
        one_serial_second += serial_second[r] == 1;
    }
    printf("barrier of %d, %d rounds: rounds with exactly one serial "
           "thread: %d (first wait), %d (second wait)\n",
           PARTIES, ROUNDS, one_serial_first, one_serial_second);
    printf("barrier: threads that left before all had arrived: %d\n",
           LOAD(&left_early));
    printf("barrier: rounds whose serial thread saw all %d arrive: %d\n",
           PARTIES, LOAD(&serial_saw_all));
    printf("barrier: returns other than 0 or SERIAL_THREAD: %d\n",
           LOAD(&bad_returns));
    CHECK_EQ(one_serial_first, ROUNDS);
    CHECK_EQ(one_serial_second, ROUNDS);
    CHECK_EQ(LOAD(&left_early), 0);
    CHECK_EQ(LOAD(&serial_saw_all), ROUNDS);
    CHECK_EQ(LOAD(&bad_returns), 0);
    EXPECT_RC(0, pthread_barrier_destroy(&barrier), "barrier destroy");
}

static void barrier_counts(void)
{
    pthread_barrier_t b;

    EXPECT_RC(EINVAL, pthread_barrier_init(&b, NULL, 0),
              "barrier init with count 0");
    CHECK_RC(pthread_barrier_init(&b, NULL, 1));
    for (int i = 1; i <= 2; i++) {
        const int rc = pthread_barrier_wait(&b);
        printf("barrier of 1, wait %d: %s\n", i,
               rc == PTHREAD_BARRIER_SERIAL_THREAD ? "SERIAL_THREAD"
                                                   : errno_name(rc));
        CHECK_EQ(rc, PTHREAD_BARRIER_SERIAL_THREAD);
    }
    CHECK_RC(pthread_barrier_destroy(&b));
}

/* ---- pthread_once ---- */

static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_barrier_t once_gate;
static int once_runs, once_finished, callers_saw_finished, once_errors;

static void once_init(void)
{
    ADD(&once_runs, 1);
    usleep(20000);
    STORE(&once_finished, 1);
}

static void *once_caller(void *arg)
{
    (void)arg;
    const int rc = pthread_barrier_wait(&once_gate);
    CHECK(rc == 0 || rc == PTHREAD_BARRIER_SERIAL_THREAD);
    if (pthread_once(&once, once_init) != 0) {
        ADD(&once_errors, 1);
    }
    if (LOAD(&once_finished)) {
        ADD(&callers_saw_finished, 1);
    }
    return NULL;
}

static void once_at_once(void)
{
    pthread_t t[ONCE_CALLERS];

    CHECK_RC(pthread_barrier_init(&once_gate, NULL, ONCE_CALLERS));
    for (int i = 0; i < ONCE_CALLERS; i++) {
        CHECK_RC(pthread_create(&t[i], NULL, once_caller, NULL));
    }
    for (int i = 0; i < ONCE_CALLERS; i++) {
        CHECK_RC(pthread_join(t[i], NULL));
    }
    CHECK_RC(pthread_barrier_destroy(&once_gate));
    printf("pthread_once from %d threads at once: init ran %d time(s)\n",
           ONCE_CALLERS, LOAD(&once_runs));
    printf("pthread_once: callers that returned after init had finished: "
           "%d of %d, errors %d\n",
           LOAD(&callers_saw_finished), ONCE_CALLERS, LOAD(&once_errors));
    EXPECT_RC(0, pthread_once(&once, once_init), "pthread_once again");
    printf("pthread_once again: init ran %d time(s)\n", LOAD(&once_runs));
    CHECK_EQ(LOAD(&once_runs), 1);
    CHECK_EQ(LOAD(&callers_saw_finished), ONCE_CALLERS);
    CHECK_EQ(LOAD(&once_errors), 0);
}

/* ---- spin locks ---- */

static pthread_spinlock_t spin;
static long spin_counter;

static void *spinner(void *arg)
{
    (void)arg;
    for (int i = 0; i < SPINS; i++) {
        CHECK_RC(pthread_spin_lock(&spin));
        spin_counter++;
        CHECK_RC(pthread_spin_unlock(&spin));
        if (i % 10 == 0) {
            sched_yield();
        }
        if (i % 50 == 0) {
            usleep(100);
        }
    }
    return NULL;
}

static int holder_holds, holder_released;

/* Hold the spin lock 30 ms, sleeping. */
static void *spin_holder(void *arg)
{
    (void)arg;
    CHECK_RC(pthread_spin_lock(&spin));
    STORE(&holder_holds, 1);
    usleep(30000);
    STORE(&holder_released, 1);
    CHECK_RC(pthread_spin_unlock(&spin));
    return NULL;
}

static void *spin_trylock_thread(void *arg)
{
    (void)arg;
    return (void *)(intptr_t)pthread_spin_trylock(&spin);
}

static void spin_locks(void)
{
    pthread_t t[SPINNERS];
    void *ret;

    CHECK_RC(pthread_spin_init(&spin, PTHREAD_PROCESS_PRIVATE));
    for (int i = 0; i < SPINNERS; i++) {
        CHECK_RC(pthread_create(&t[i], NULL, spinner, NULL));
    }
    for (int i = 0; i < SPINNERS; i++) {
        CHECK_RC(pthread_join(t[i], NULL));
    }
    printf("spin lock: %d threads x %d increments: %ld\n", SPINNERS, SPINS,
           spin_counter);
    CHECK_EQ(spin_counter, SPINNERS * SPINS);

    EXPECT_RC(0, pthread_spin_lock(&spin), "spin_lock");
    EXPECT_RC(EBUSY, pthread_spin_trylock(&spin),
              "spin_trylock by the holder");
    CHECK_RC(pthread_create(&t[0], NULL, spin_trylock_thread, NULL));
    CHECK_RC(pthread_join(t[0], &ret));
    EXPECT_RC(EBUSY, (int)(intptr_t)ret,
              "spin_trylock from another thread while held");
    EXPECT_RC(0, pthread_spin_unlock(&spin), "spin_unlock");
    CHECK_RC(pthread_create(&t[0], NULL, spin_trylock_thread, NULL));
    CHECK_RC(pthread_join(t[0], &ret));
    EXPECT_RC(0, (int)(intptr_t)ret,
              "spin_trylock from another thread when free");
    CHECK_RC(pthread_spin_unlock(&spin)); /* the thread's lock */

    CHECK_RC(pthread_create(&t[0], NULL, spin_holder, NULL));
    for (int i = 0; i < 30000 && !LOAD(&holder_holds); i++) {
        usleep(1000);
    }
    EXPECT_RC(EBUSY, pthread_spin_trylock(&spin),
              "spin_trylock while a thread sleeps holding it");
    const int rc = pthread_spin_lock(&spin);
    printf("spin_lock while a thread sleeps 30 ms holding it: %s, "
           "after its release: %s\n",
           errno_name(rc), LOAD(&holder_released) ? "yes" : "no");
    CHECK_RC(rc);
    CHECK(LOAD(&holder_released));
    CHECK_RC(pthread_spin_unlock(&spin));
    CHECK_RC(pthread_join(t[0], NULL));
    EXPECT_RC(0, pthread_spin_destroy(&spin), "spin_destroy");
}

static const struct section sections[] = {
    { "rounds", barrier_rounds },
    { "counts", barrier_counts },
    { "once", once_at_once },
    { "spin", spin_locks },
};

int main(int argc, char **argv)
{
    /* Line-buffered even into a pipe: when the run's timeout ends a wait
     * that never returns, the transcript so far shows where it stopped. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    return RUN_SECTIONS(argc, argv, sections, NULL);
}
