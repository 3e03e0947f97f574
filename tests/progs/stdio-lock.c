/* SPDX-License-Identifier: MIT */
/* stdio-lock: flockfile, ftrylockfile and funlockfile between threads.
 *
 * THREADS threads take turns on one FILE with flockfile, each holding it
 * ROUNDS times across a sleep (so the others run meanwhile) and nesting it
 * once; every holder logs when it enters and leaves, and the log must show
 * no two holders at once. ftrylockfile fails while another thread holds
 * the lock and succeeds once it is free. A thread that calls fprintf while
 * another holds the lock with flockfile and sleeps is not left hanging.
 * Prints counts only; nothing depends on which thread gets the lock first.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#include "check.h"

enum { THREADS = 4, ROUNDS = 5 };

static FILE *shared;
static int inside, overlaps, entries;

static void *take_turns(void *arg)
{
    (void)arg;
    for (int round = 0; round < ROUNDS; round++) {
        flockfile(shared);
        flockfile(shared);              /* nested: a second level */
        if (ADD(&inside, 1) != 1) {
            ADD(&overlaps, 1);
        }
        ADD(&entries, 1);
        fprintf(shared, "round %d\n", round);
        usleep(500);
        ADD(&inside, -1);
        funlockfile(shared);
        funlockfile(shared);
        usleep(200);
    }
    return NULL;
}

static int holding, try_result = -1;

static void *try_while_held(void *arg)
{
    (void)arg;
    while (!LOAD(&holding)) {
        usleep(100);
    }
    STORE(&try_result, ftrylockfile(shared));
    return NULL;
}

static void *try_once(void *arg)
{
    (void)arg;
    return ftrylockfile(shared) == 0 ? "succeeds" : "fails";
}

static int printed;

static void *print_while_held(void *arg)
{
    (void)arg;
    while (!LOAD(&holding)) {
        usleep(100);
    }
    fprintf(shared, "unlocked fprintf\n");
    STORE(&printed, 1);
    return NULL;
}

int main(void)
{
    shared = tmpfile();
    CHECK(shared != NULL);
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) {
        CHECK_RC(pthread_create(&t[i], NULL, take_turns, NULL));
    }
    for (int i = 0; i < THREADS; i++) {
        CHECK_RC(pthread_join(t[i], NULL));
    }
    printf("flockfile: %d holds by %d threads, %d overlapping\n", entries,
           THREADS, overlaps);
    CHECK_EQ(entries, THREADS * ROUNDS);
    CHECK_EQ(overlaps, 0);

    pthread_t other;
    CHECK_RC(pthread_create(&other, NULL, try_while_held, NULL));
    flockfile(shared);
    STORE(&holding, 1);
    usleep(20000);
    funlockfile(shared);
    CHECK_RC(pthread_join(other, NULL));
    STORE(&holding, 0);
    printf("ftrylockfile while another thread holds it: %s\n",
           try_result != 0 ? "fails" : "succeeds");
    CHECK(try_result != 0);
    CHECK_RC(pthread_create(&other, NULL, try_once, NULL));
    void *r;
    CHECK_RC(pthread_join(other, &r));
    printf("ftrylockfile once it is free: %s\n", (const char *)r);
    /* The thread exited holding it; as with glibc, nobody else can take
     * it now, so the rest uses a fresh FILE. */
    shared = tmpfile();
    CHECK(shared != NULL);

    CHECK_RC(pthread_create(&other, NULL, print_while_held, NULL));
    flockfile(shared);
    STORE(&holding, 1);
    usleep(20000);
    funlockfile(shared);
    CHECK_RC(pthread_join(other, NULL));
    printf("fprintf while another thread holds the lock: returned %d\n",
           LOAD(&printed));
    return check_exit_status();
}
