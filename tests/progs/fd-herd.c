/* SPDX-License-Identifier: MIT */
/* fd-herd N: many threads blocked on one fd at once.
 *
 * Pipe: N threads each read one byte from one shared pipe; main writes the
 * N bytes in chunks of 1, 2, 3, ... bytes, yielding between chunks, and
 * checks that every reader got exactly one byte and that the bytes add up.
 * Accept pool: N / 10 threads (at least 2) block in accept on one
 * listening socket on 127.0.0.1; a client thread makes 2 connections per
 * acceptor, one at a time, sends one byte on each and expects it back.
 * Every acceptor answers and closes each connection it accepts, until main
 * shuts the listener down. Prints the totals, which do not depend on which
 * thread got what.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"

static int pipefd[2];
static int listener;
static struct sockaddr_in addr;
static long accepted;               /* connections answered by acceptors */

static void *reader(void *arg)
{
    (void)arg;
    unsigned char c;
    const ssize_t r = read(pipefd[0], &c, 1);
    CHECK_EQ(r, 1);
    return (void *)(intptr_t)(r == 1 ? c + 1 : 0);
}

static void pipe_readers(long n)
{
    pthread_t *t = calloc((size_t)n, sizeof *t);
    CHECK(t != NULL);
    for (long i = 0; i < n; i++) {
        CHECK_RC(pthread_create(&t[i], NULL, reader, NULL));
    }
    unsigned char buf[64];
    long written = 0, expect = 0;
    for (long chunk = 1; written < n; chunk = chunk % 64 + 1) {
        const long len = chunk < n - written ? chunk : n - written;
        for (long i = 0; i < len; i++) {
            buf[i] = (unsigned char)((written + i) % 251);
            expect += buf[i] + 1;
        }
        CHECK_EQ(write(pipefd[1], buf, (size_t)len), len);
        written += len;
        sched_yield();
    }
    long sum = 0, got = 0;
    for (long i = 0; i < n; i++) {
        void *ret;
        CHECK_RC(pthread_join(t[i], &ret));
        sum += (long)(intptr_t)ret;
        got += ret != NULL;
    }
    free(t);
    printf("pipe: %ld readers got one byte each, sum %s\n", got,
           sum == expect ? "matches" : "differs");
}

static void *acceptor(void *arg)
{
    (void)arg;
    for (;;) {
        const int c = accept(listener, NULL, NULL);
        if (c < 0) {
            CHECK_EQ(errno, EINVAL);    /* shut down: done */
            return NULL;
        }
        unsigned char b;
        if (read(c, &b, 1) == 1 && write(c, &b, 1) == 1) {
            __atomic_fetch_add(&accepted, 1, __ATOMIC_SEQ_CST);
        }
        close(c);
    }
}

static void *client(void *arg)
{
    const long conns = (long)(intptr_t)arg;
    long echoed = 0;
    for (long i = 0; i < conns; i++) {
        const int s = socket(AF_INET, SOCK_STREAM, 0);
        CHECK(s >= 0);
        CHECK_OK(connect(s, (struct sockaddr *)&addr, sizeof addr));
        unsigned char b = (unsigned char)i, back = 0;
        if (write(s, &b, 1) == 1 && read(s, &back, 1) == 1 && back == b) {
            echoed++;
        }
        close(s);
    }
    return (void *)(intptr_t)echoed;
}

static void accept_pool(long n)
{
    listener = socket(AF_INET, SOCK_STREAM, 0);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    CHECK(listener >= 0
          && bind(listener, (struct sockaddr *)&addr, sizeof addr) == 0
          && listen(listener, 128) == 0
          && getsockname(listener, (struct sockaddr *)&addr, &len) == 0);
    pthread_t *t = calloc((size_t)n, sizeof *t), c;
    CHECK(t != NULL);
    for (long i = 0; i < n; i++) {
        CHECK_RC(pthread_create(&t[i], NULL, acceptor, NULL));
    }
    CHECK_RC(pthread_create(&c, NULL, client, (void *)(intptr_t)(2 * n)));
    void *echoed;
    CHECK_RC(pthread_join(c, &echoed));
    /* shutdown(2) on a listener wakes every thread blocked in accept. */
    CHECK_OK(shutdown(listener, SHUT_RDWR));
    for (long i = 0; i < n; i++) {
        CHECK_RC(pthread_join(t[i], NULL));
    }
    free(t);
    close(listener);
    printf("accept: %ld threads answered %ld connections, %ld echoed\n", n,
           accepted, (long)(intptr_t)echoed);
}

int main(int argc, char **argv)
{
    const long n = argc == 2 ? atol(argv[1]) : 0;
    if (n < 20) {
        fprintf(stderr, "usage: fd-herd N (N >= 20)\n");
        return 2;
    }
    CHECK_OK(pipe(pipefd));
    pipe_readers(n);
    accept_pool(n / 10);
    return check_exit_status();
}
