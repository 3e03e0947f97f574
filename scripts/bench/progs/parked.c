/* SPDX-License-Identifier: MIT */
/* parked cond|pipe|sleep N HOLD_FILE: N threads blocked at once.
 *
 * cond: each thread waits on one shared condition variable that is never
 * signalled.  pipe: each thread reads one byte from one shared pipe that
 * nobody writes.  sleep: each thread sleeps for an hour.  Every thread
 * counts itself under a mutex just before it blocks; once all N have, main
 * gives the last ones 300 ms to enter their blocking call, prints
 * "parked N" and waits (at most 120 s) for HOLD_FILE to exist so that the
 * caller can read /proc/PID/status.  Then it exits with the threads still
 * blocked.  Default thread attributes, as an ordinary program would use.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t counted = PTHREAD_COND_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;
static long ready;
static int kind; /* 0 cond, 1 pipe, 2 sleep */
static int pfd[2];

static void *blocker(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&lock);
    ready++;
    pthread_cond_signal(&counted);
    if (kind == 0) {
        for (;;) {
            pthread_cond_wait(&never, &lock);
        }
    }
    pthread_mutex_unlock(&lock);
    if (kind == 1) {
        char c;
        if (read(pfd[0], &c, 1) < 0) {
            perror("read");
        }
    } else {
        sleep(3600);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    static const char *const kinds[] = {"cond", "pipe", "sleep"};
    kind = -1;
    for (int i = 0; argc == 4 && i < 3; i++) {
        if (!strcmp(argv[1], kinds[i])) {
            kind = i;
        }
    }
    if (kind < 0) {
        fprintf(stderr, "usage: parked cond|pipe|sleep N HOLD_FILE\n");
        return 2;
    }
    const long n = atol(argv[2]);
    if (n < 1 || pipe(pfd)) {
        fprintf(stderr, "parked: bad N or pipe failed\n");
        return 2;
    }
    for (long i = 0; i < n; i++) {
        pthread_t t;
        const int err = pthread_create(&t, NULL, blocker, NULL);
        if (err) {
            fprintf(stderr, "parked: pthread_create #%ld: %s\n", i,
                    strerror(err));
            return 1;
        }
        pthread_detach(t);
    }
    pthread_mutex_lock(&lock);
    while (ready < n) {
        pthread_cond_wait(&counted, &lock);
    }
    pthread_mutex_unlock(&lock);
    usleep(300 * 1000);
    printf("parked %ld\n", n);
    fflush(stdout);
    for (int i = 0; i < 12000 && access(argv[3], F_OK); i++) {
        usleep(10 * 1000);
    }
    return 0;
}
