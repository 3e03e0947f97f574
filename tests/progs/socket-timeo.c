/* SPDX-License-Identifier: MIT */
/* socket-timeo: SO_RCVTIMEO and SO_SNDTIMEO bound blocking socket calls.
 *
 * A blocking recv, read or accept on a socket with SO_RCVTIMEO, and a
 * blocking send on a full socket with SO_SNDTIMEO, fail with EAGAIN once
 * the timeout has passed (never earlier: a lower bound only); data that
 * another thread sends while a recv with an hour's SO_RCVTIMEO waits is
 * returned as usual (the sender waits until main announced its recv, so
 * under libgreen it runs once main parked).  A companion thread stays
 * parked for the whole run, so that every call is made while the program
 * has more than one thread.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static void set_timeout(int fd, int option, long ms)
{
    const struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

    CHECK_OK(setsockopt(fd, SOL_SOCKET, option, &tv, sizeof tv));
}

static int gate[2];                 /* main -> sender: I am in recv */

static void *send_later(void *arg)
{
    const int fd = *(int *)arg;
    char byte;

    CHECK_EQ(read(gate[0], &byte, 1), 1);
    CHECK_EQ(send(fd, "late", 4, 0), 4);
    return NULL;
}

int main(void)
{
    int sv[2];
    char buf[65536];
    long long start;
    pthread_t t;

    companion_start();

    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    set_timeout(sv[0], SO_RCVTIMEO, 50);
    start = now_ns(CLOCK_MONOTONIC);
    REPORT_ERRNO("recv, SO_RCVTIMEO 50 ms, no data",
                 recv(sv[0], buf, sizeof buf, 0), EAGAIN);
    CHECK_WAITED(start, 50);
    start = now_ns(CLOCK_MONOTONIC);
    REPORT_ERRNO("read, SO_RCVTIMEO 50 ms, no data",
                 read(sv[0], buf, sizeof buf), EAGAIN);
    CHECK_WAITED(start, 50);
    set_timeout(sv[0], SO_RCVTIMEO, 3600000);
    CHECK_OK(pipe(gate));
    CHECK_RC(pthread_create(&t, NULL, send_later, &sv[1]));
    CHECK_EQ(write(gate[1], "g", 1), 1);
    REPORT_ERRNO("recv, SO_RCVTIMEO 3600 s, another thread sends meanwhile",
                 recv(sv[0], buf, sizeof buf, 0), 0);
    CHECK_RC(pthread_join(t, NULL));
    close(gate[0]);
    close(gate[1]);

    set_timeout(sv[1], SO_SNDTIMEO, 50);
    memset(buf, 'x', sizeof buf);
    for (int i = 0; i < 10000 && send(sv[1], buf, sizeof buf,
                                      MSG_DONTWAIT) > 0; i++) {
    }
    start = now_ns(CLOCK_MONOTONIC);
    REPORT_ERRNO("send to a full socket, SO_SNDTIMEO 50 ms",
                 send(sv[1], buf, sizeof buf, 0), EAGAIN);
    CHECK_WAITED(start, 50);
    CHECK_OK(close(sv[0]));
    CHECK_OK(close(sv[1]));

    const int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK_OK(bind(lfd, (struct sockaddr *)&sa, sizeof sa));
    CHECK_OK(listen(lfd, 4));
    set_timeout(lfd, SO_RCVTIMEO, 50);
    start = now_ns(CLOCK_MONOTONIC);
    REPORT_ERRNO("accept, SO_RCVTIMEO 50 ms, nobody connects",
                 accept(lfd, NULL, NULL), EAGAIN);
    CHECK_WAITED(start, 50);
    CHECK_OK(close(lfd));

    companion_stop();
    return check_exit_status();
}
