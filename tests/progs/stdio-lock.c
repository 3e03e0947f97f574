/* SPDX-License-Identifier: MIT */
/* stdio-lock: flockfile, ftrylockfile and funlockfile between threads.
 *
 * THREADS threads take turns on one FILE with flockfile, each holding it
 * ROUNDS times across a sleep (so the others run meanwhile) and nesting it
 * once; every holder logs when it enters and leaves, and the log must show
 * no two holders at once. ftrylockfile fails while another thread holds
 * the lock and succeeds once it is free. A thread that calls fprintf while
 * main holds the lock with flockfile and waits (for that thread to say it
 * is about to print) is not left hanging.  (Whether that fprintf waits for
 * the lock is not checked: under libgreen it does not, a known gap of
 * wrappers/stdio-lock.c.)  Prints counts only; nothing depends on which
 * thread gets the lock first, nor on timing: main holds the lock until
 * the other thread's ftrylockfile returned.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <string.h>
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

static void *try_while_held(void *arg)
{
    (void)arg;
    return ftrylockfile(shared) == 0 ? "succeeds" : "fails";
}

static void *try_once(void *arg)
{
    (void)arg;
    return ftrylockfile(shared) == 0 ? "succeeds" : "fails";
}

static int printed;
static int about_to_print[2];

static void *print_while_held(void *arg)
{
    (void)arg;
    CHECK_EQ(write(about_to_print[1], "p", 1), 1);
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
    void *r;
    flockfile(shared);
    CHECK_RC(pthread_create(&other, NULL, try_while_held, NULL));
    CHECK_RC(pthread_join(other, &r));
    funlockfile(shared);
    printf("ftrylockfile while another thread holds it: %s\n",
           (const char *)r);
    CHECK(strcmp(r, "fails") == 0);
    CHECK_RC(pthread_create(&other, NULL, try_once, NULL));
    CHECK_RC(pthread_join(other, &r));
    printf("ftrylockfile once it is free: %s\n", (const char *)r);
    /* The thread exited holding it; as with glibc, nobody else can take
     * it now, so the rest uses a fresh FILE. */
    shared = tmpfile();
    CHECK(shared != NULL);

    CHECK_OK(pipe(about_to_print));
    flockfile(shared);
    CHECK_RC(pthread_create(&other, NULL, print_while_held, NULL));
    char byte;
    CHECK_EQ(read(about_to_print[0], &byte, 1), 1);
    funlockfile(shared);
    CHECK_RC(pthread_join(other, NULL));
    printf("fprintf while another thread holds the lock: returned %d\n",
           LOAD(&printed));
    return check_exit_status();
}
