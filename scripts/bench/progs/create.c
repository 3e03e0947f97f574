/* SPDX-License-Identifier: MIT */
/* create one|batch N [BATCH]: create and join N threads that return at once.
 *
 * one: create a thread, join it, repeat N times (one thread alive at a time).
 * batch: create BATCH threads (default 1000), then join them all, repeat
 * until N threads have run.  Default attributes, as an ordinary program
 * would use.  Prints "ns_per_thread X" measured with CLOCK_MONOTONIC.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void *noop(void *arg)
{
    return arg;
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void create_or_die(pthread_t *t)
{
    const int err = pthread_create(t, NULL, noop, NULL);
    if (err) {
        fprintf(stderr, "create: pthread_create: %s\n", strerror(err));
        exit(1);
    }
}

int main(int argc, char **argv)
{
    if (argc < 3 || (strcmp(argv[1], "one") && strcmp(argv[1], "batch"))) {
        fprintf(stderr, "usage: create one|batch N [BATCH]\n");
        return 2;
    }
    const long n = atol(argv[2]);
    const long batch = !strcmp(argv[1], "one") ? 1
                       : argc > 3              ? atol(argv[3])
                                               : 1000;
    if (n < 1 || batch < 1) {
        fprintf(stderr, "create: N and BATCH must be positive\n");
        return 2;
    }
    pthread_t *const t = calloc(batch, sizeof(*t));
    if (!t) {
        perror("calloc");
        return 1;
    }
    const double t0 = now_ns();
    long done = 0;
    while (done < n) {
        const long k = n - done < batch ? n - done : batch;
        for (long i = 0; i < k; i++) {
            create_or_die(&t[i]);
        }
        for (long i = 0; i < k; i++) {
            pthread_join(t[i], NULL);
        }
        done += k;
    }
    const double t1 = now_ns();
    printf("ns_per_thread %.1f\n", (t1 - t0) / n);
    free(t);
    return 0;
}
