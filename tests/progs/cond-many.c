/* SPDX-License-Identifier: MIT */
/* cond-many N [HOLD_FILE]: N threads blocked at once on one condition
 * variable.
 *
 * Each thread counts itself as waiting under the mutex and waits on one
 * shared condition variable until main broadcasts.  main waits until all N
 * are waiting, prints "waiting N", waits (at most 120 s) for HOLD_FILE when
 * given so a test can inspect the process, broadcasts, joins every thread
 * and prints how many woke and a checksum of their return values.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static pthread_cond_t all_waiting = PTHREAD_COND_INITIALIZER;
static long waiting, woken, target;
static int go;

static void *waiter(void *arg)
{
    const long me = (long)(intptr_t)arg;

    pthread_mutex_lock(&lock);
    if (++waiting == target) {
        pthread_cond_signal(&all_waiting);
    }
    while (!go) {
        pthread_cond_wait(&wake, &lock);
    }
    woken++;
    pthread_mutex_unlock(&lock);
    return (void *)(intptr_t)(me % 1000 + 1);
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3 || atol(argv[1]) < 1) {
        fprintf(stderr, "usage: %s N [HOLD_FILE]\n", argv[0]);
        return 2;
    }
    const long n = atol(argv[1]);
    pthread_t *const threads = calloc((size_t)n, sizeof *threads);
    if (threads == NULL) {
        CHECK(threads != NULL);
        return check_exit_status();
    }

    target = n;
    long created = 0;
    for (; created < n; created++) {
        const int rc = pthread_create(&threads[created], NULL, waiter,
                                      (void *)(intptr_t)created);
        if (rc != 0) {
            check_fail(__FILE__, __LINE__, rc, "pthread_create #%ld",
                       created);
            break;
        }
    }

    pthread_mutex_lock(&lock);
    target = created;
    while (waiting < created) {
        pthread_cond_wait(&all_waiting, &lock);
    }
    CHECK_EQ(woken, 0);
    pthread_mutex_unlock(&lock);
    printf("waiting %ld\n", created);
    fflush(stdout);

    if (argc == 3) {
        wait_for_file(argv[2], 120);
    }
    pthread_mutex_lock(&lock);
    go = 1;
    pthread_cond_broadcast(&wake);
    pthread_mutex_unlock(&lock);

    long sum = 0;
    for (long i = 0; i < created; i++) {
        void *ret = NULL;
        CHECK_RC(pthread_join(threads[i], &ret));
        sum += (long)(intptr_t)ret;
    }
    free(threads);
    printf("woken %ld\nchecksum %ld\n", woken, sum);
    CHECK_EQ(woken, n);
    return check_exit_status();
}
