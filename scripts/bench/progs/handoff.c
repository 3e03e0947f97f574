/* SPDX-License-Identifier: MIT */
/* handoff cond|pipe N: two threads pass control back and forth N times.
 *
 * cond: a turn variable under one mutex, one condition variable per side;
 * each side waits for its turn, hands the turn over and signals the other.
 * pipe: two pipes, one per direction; each side reads one byte and writes
 * one byte back.  Every transfer of the turn (or the byte) is one hand-off.
 * main is one side, a created thread the other.  Prints
 * "ns_per_handoff X" measured with CLOCK_MONOTONIC around the whole
 * exchange (creating and joining the one thread is included; it is noise
 * next to N hand-offs).
 *
 * Built a second time with -DWITH_TLS (as handoff-tls): each side then
 * also counts its hand-offs in a __thread variable, so that the program
 * has static thread-locals of its own, as every C++, Rust or Python
 * program has, and not only glibc's.  The count is checked at the end so
 * that the compiler keeps the variable.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv[2] = {PTHREAD_COND_INITIALIZER,
                               PTHREAD_COND_INITIALIZER};
static int turn;
static long rounds;
static int to_b[2], to_a[2];

#ifdef WITH_TLS
static __thread long handed;
#define HANDED() (handed++)
#else
#define HANDED() ((void)0)
#endif

static void cond_side(int me)
{
    for (long i = 0; i < rounds; i++) {
        pthread_mutex_lock(&lock);
        while (turn != me) {
            pthread_cond_wait(&cv[me], &lock);
        }
        turn = !me;
        HANDED();
        pthread_cond_signal(&cv[!me]);
        pthread_mutex_unlock(&lock);
    }
}

static void pipe_side(int rfd, int wfd, int first)
{
    char c = 'x';
    for (long i = 0; i < rounds; i++) {
        if (!first && read(rfd, &c, 1) != 1) {
            perror("read");
            exit(1);
        }
        if (write(wfd, &c, 1) != 1) {
            perror("write");
            exit(1);
        }
        HANDED();
        if (first && read(rfd, &c, 1) != 1) {
            perror("read");
            exit(1);
        }
    }
}

static int use_pipe;

/* Each side must have counted its own hand-offs, and only those: with
 * one thread-local shared between threads the count would be twice. */
static int handed_ok(void)
{
#ifdef WITH_TLS
    if (handed != rounds) {
        fprintf(stderr, "handoff: a side counted %ld hand-offs, not %ld\n",
                handed, rounds);
        return 0;
    }
#endif
    return 1;
}

static void *side_b(void *arg)
{
    (void)arg;
    if (use_pipe) {
        pipe_side(to_b[0], to_a[1], 0);
    } else {
        cond_side(1);
    }
    return handed_ok() ? NULL : (void *)1;
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
    if (argc != 3 || (strcmp(argv[1], "cond") && strcmp(argv[1], "pipe"))) {
        fprintf(stderr, "usage: handoff cond|pipe N\n");
        return 2;
    }
    use_pipe = !strcmp(argv[1], "pipe");
    const long n = atol(argv[2]);
    rounds = n / 2;
    if (rounds < 1) {
        fprintf(stderr, "handoff: N must be at least 2\n");
        return 2;
    }
    if (pipe(to_a) || pipe(to_b)) {
        perror("pipe");
        return 1;
    }
    const double t0 = now_ns();
    pthread_t t;
    if (pthread_create(&t, NULL, side_b, NULL)) {
        fprintf(stderr, "handoff: pthread_create failed\n");
        return 1;
    }
    if (use_pipe) {
        pipe_side(to_a[0], to_b[1], 1);
    } else {
        cond_side(0);
    }
    void *b_failed;
    pthread_join(t, &b_failed);
    const double t1 = now_ns();
    if (b_failed || !handed_ok()) {
        return 1;
    }
    printf("ns_per_handoff %.1f\n", (t1 - t0) / (2.0 * rounds));
    return 0;
}
