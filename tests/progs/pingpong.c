/* SPDX-License-Identifier: MIT */
/* pingpong N: main and one thread pass a byte back and forth over two
 * pipes N times, then print "passed N times". A plain C program with no
 * thread-local variable of its own (it does not use check.h, which has
 * one): tests/fsgsbase.bats counts the system calls its switches make.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int to_peer[2], to_main[2];
static long rounds;

static void *peer(void *arg)
{
    (void)arg;
    char c;
    for (long i = 0; i < rounds; i++) {
        if (read(to_peer[0], &c, 1) != 1 || write(to_main[1], &c, 1) != 1) {
            perror("peer");
            exit(1);
        }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    rounds = argc > 1 ? atol(argv[1]) : 100;
    pthread_t t;
    if (pipe(to_peer) != 0 || pipe(to_main) != 0
        || pthread_create(&t, NULL, peer, NULL) != 0) {
        perror("setup");
        return 1;
    }
    char c = 'x';
    for (long i = 0; i < rounds; i++) {
        if (write(to_peer[1], &c, 1) != 1 || read(to_main[0], &c, 1) != 1) {
            perror("main");
            return 1;
        }
    }
    pthread_join(t, NULL);
    printf("passed %ld times\n", rounds);
    return 0;
}
