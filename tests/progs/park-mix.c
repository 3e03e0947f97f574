/* SPDX-License-Identifier: MIT */
/* park-mix [HOLD_FILE]: threads blocked in every kind of call at once.
 *
 * PER_KIND threads each block in: pthread_cond_wait, pthread_mutex_lock
 * (main holds the mutex), pthread_join (of a cond waiter), read on a pipe,
 * poll on a pipe, recv on a socketpair, accept on one loopback listener,
 * and sleeping in usleep/nanosleep/sleep until main sets a flag.  main
 * waits until every thread has reached its call, prints "parked N", waits
 * (at most 120 s) for HOLD_FILE when given, so that a test can inspect the
 * process, then releases them all, joins them and prints what each kind
 * returned.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

enum { PER_KIND = 10 };
enum kind { COND, MUTEX, JOIN, READ, POLL, RECV, ACCEPT, SLEEP, KINDS };

static const char *const kind_names[KINDS] = {
    "pthread_cond_wait", "pthread_mutex_lock", "pthread_join", "read",
    "poll", "recv", "accept", "sleep",
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t held = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static pthread_cond_t arrived_cv = PTHREAD_COND_INITIALIZER;
static int arrived, go, stop_sleeping;
static int pipes[PER_KIND][2], poll_pipes[PER_KIND][2], pairs[PER_KIND][2];
static int listener;
static pthread_t threads[KINDS][PER_KIND];
static long results[KINDS];

/* Count the caller as (about to be) blocked. */
static void arrive(void)
{
    pthread_mutex_lock(&lock);
    arrived++;
    pthread_cond_signal(&arrived_cv);
    pthread_mutex_unlock(&lock);
}

static void add_result(enum kind k, long v)
{
    pthread_mutex_lock(&lock);
    results[k] += v;
    pthread_mutex_unlock(&lock);
}

static void *blocker(void *arg)
{
    const int k = (int)(intptr_t)arg / PER_KIND;
    const int i = (int)(intptr_t)arg % PER_KIND;
    char buf[16];
    long v = 0;

    arrive();
    switch (k) {
    case COND:
        pthread_mutex_lock(&lock);
        while (!go) {
            pthread_cond_wait(&wake, &lock);
        }
        pthread_mutex_unlock(&lock);
        v = 1;
        break;
    case MUTEX:
        CHECK_RC(pthread_mutex_lock(&held));
        CHECK_RC(pthread_mutex_unlock(&held));
        v = 1;
        break;
    case JOIN: {
        void *ret = NULL;
        CHECK_RC(pthread_join(threads[COND][i], &ret));
        v = ret == NULL;
        break;
    }
    case READ:
        v = read(pipes[i][0], buf, sizeof buf);
        break;
    case POLL: {
        struct pollfd p = { .fd = poll_pipes[i][0], .events = POLLIN };
        v = poll(&p, 1, -1) == 1 && p.revents == POLLIN;
        break;
    }
    case RECV:
        v = recv(pairs[i][0], buf, sizeof buf, 0);
        break;
    case ACCEPT: {
        const int fd = accept(listener, NULL, NULL);
        CHECK_OK(fd);
        v = fd >= 0;
        close(fd);
        break;
    }
    case SLEEP: {
        const struct timespec ms = { 0, 1000000 };
        /* Bounded: 12000 rounds of at least 10 ms. */
        for (int round = 0; round < 12000; round++) {
            if (__atomic_load_n(&stop_sleeping, __ATOMIC_SEQ_CST)) {
                v = 1;
                break;
            }
            if (i % 3 == 0) {
                usleep(10000);
            } else if (i % 3 == 1) {
                for (int n = 0; n < 10; n++) {
                    nanosleep(&ms, NULL);
                }
            } else if (round % 100 == 99) {
                sleep(1);
            } else {
                usleep(10000);
            }
        }
        break;
    }
    }
    add_result((enum kind)k, v);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc > 2) {
        fprintf(stderr, "usage: %s [HOLD_FILE]\n", argv[0]);
        return 2;
    }
    for (int i = 0; i < PER_KIND; i++) {
        CHECK_OK(pipe(pipes[i]));
        CHECK_OK(pipe(poll_pipes[i]));
        CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, pairs[i]));
    }
    struct sockaddr_in sa = { .sin_family = AF_INET };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    listener = socket(AF_INET, SOCK_STREAM, 0);
    CHECK_OK(listener);
    CHECK_OK(bind(listener, (struct sockaddr *)&sa, sizeof sa));
    CHECK_OK(listen(listener, PER_KIND));
    CHECK_OK(getsockname(listener, (struct sockaddr *)&sa, &len));

    CHECK_RC(pthread_mutex_lock(&held));
    for (int k = 0; k < KINDS; k++) {
        for (int i = 0; i < PER_KIND; i++) {
            CHECK_RC(pthread_create(&threads[k][i], NULL, blocker,
                                    (void *)(intptr_t)(k * PER_KIND + i)));
        }
    }
    pthread_mutex_lock(&lock);
    while (arrived < KINDS * PER_KIND) {
        pthread_cond_wait(&arrived_cv, &lock);
    }
    pthread_mutex_unlock(&lock);
    /* Give every thread time to get from arrive() into its call. */
    usleep(200000);
    printf("parked %d\n", KINDS * PER_KIND);
    fflush(stdout);

    if (argc == 2) {
        wait_for_file(argv[1], 120);
    }
    pthread_mutex_lock(&lock);
    go = 1;
    pthread_cond_broadcast(&wake);
    pthread_mutex_unlock(&lock);
    CHECK_RC(pthread_mutex_unlock(&held));
    __atomic_store_n(&stop_sleeping, 1, __ATOMIC_SEQ_CST);
    for (int i = 0; i < PER_KIND; i++) {
        CHECK_EQ(write(pipes[i][1], "abc", 3), 3);
        CHECK_EQ(write(poll_pipes[i][1], "x", 1), 1);
        CHECK_EQ(send(pairs[i][1], "hello", 5, 0), 5);
        const int fd = socket(AF_INET, SOCK_STREAM, 0);
        CHECK_OK(connect(fd, (struct sockaddr *)&sa, sizeof sa));
        close(fd);
    }
    for (int k = 0; k < KINDS; k++) {
        if (k == COND) {
            continue; /* joined by the JOIN threads */
        }
        for (int i = 0; i < PER_KIND; i++) {
            CHECK_RC(pthread_join(threads[k][i], NULL));
        }
    }
    for (int k = 0; k < KINDS; k++) {
        printf("%s: %ld\n", kind_names[k], results[k]);
    }
    return check_exit_status();
}
