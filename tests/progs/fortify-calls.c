/* SPDX-License-Identifier: MIT */
/* fortify-calls [overflow]: built with -D_FORTIFY_SOURCE=2, as Debian
 * builds its packages, so that read, recv, recvfrom, poll and ppoll on
 * buffers of known size go to glibc's __read_chk, __recv_chk,
 * __recvfrom_chk, __poll_chk and __ppoll_chk.
 *
 * Each call waits for another thread that writes only once main said it
 * is about to call and sleeps in the call (handshake.h), so it must park
 * rather than block (one kernel thread: blocking would never let the
 * writer run). With "overflow", a read asks for more than its buffer
 * holds: glibc's check must abort with "buffer overflow detected".
 */
#define _GNU_SOURCE
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "handshake.h"

static int pipe_fds[2], sock_fds[2];
static struct handshake calling;    /* main is about to make its call */
static pid_t main_tid;

/* Once main waits in its call. */
static void when_main_waits(void)
{
    hs_wait(&calling);
    wait_blocked(main_tid);
}

/* Write to the pipe, then the socket, then the pipe again, each once
 * main waits for it, so that every reader below has to wait. */
static void *writer(void *arg)
{
    (void)arg;
    when_main_waits();
    CHECK_EQ(write(pipe_fds[1], "hi", 2), 2);
    when_main_waits();
    CHECK_EQ(send(sock_fds[1], "yo", 2, 0), 2);
    when_main_waits();
    CHECK_EQ(send(sock_fds[1], "ok", 2, 0), 2);
    when_main_waits();
    CHECK_EQ(write(pipe_fds[1], "!", 1), 1);
    when_main_waits();
    CHECK_EQ(write(pipe_fds[1], "?", 1), 1);
    return NULL;
}

int main(int argc, char **argv)
{
    char buf[8];
    pthread_t t;
    /* Lengths the compiler cannot see make it call the checking entry
     * points (with a constant length it checks at compile time instead). */
    volatile size_t len = sizeof buf;
    volatile nfds_t nfds = 1;

    alarm(20);
    hs_init(&calling);
    main_tid = gettid();
    CHECK_OK(pipe(pipe_fds));
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sock_fds));
    CHECK_RC(pthread_create(&t, NULL, writer, NULL));

    hs_post(&calling);
    long r = REPORT_ERRNO("__read_chk waits for a writer thread",
                          read(pipe_fds[0], buf, len), 0);
    printf("read got: %.*s\n", (int)(r > 0 ? r : 0), buf);
    hs_post(&calling);
    r = REPORT_ERRNO("__recv_chk waits for a writer thread",
                     recv(sock_fds[0], buf, len, 0), 0);
    printf("recv got: %.*s\n", (int)(r > 0 ? r : 0), buf);
    hs_post(&calling);
    r = REPORT_ERRNO("__recvfrom_chk waits for a writer thread",
                     recvfrom(sock_fds[0], buf, len, 0, NULL, NULL),
                     0);
    printf("recvfrom got: %.*s\n", (int)(r > 0 ? r : 0), buf);

    struct pollfd fds[1] = { { .fd = pipe_fds[0], .events = POLLIN } };
    hs_post(&calling);
    REPORT_ERRNO("__poll_chk waits for a writer thread",
                 poll(fds, nfds, 5000), 0);
    printf("poll revents POLLIN: %d\n", (fds[0].revents & POLLIN) != 0);
    CHECK_EQ(read(pipe_fds[0], buf, sizeof buf), 1);

    const struct timespec five = { 5, 0 };
    fds[0].revents = 0;
    hs_post(&calling);
    REPORT_ERRNO("__ppoll_chk waits for a writer thread",
                 ppoll(fds, nfds, &five, NULL), 0);
    printf("ppoll revents POLLIN: %d\n", (fds[0].revents & POLLIN) != 0);
    CHECK_RC(pthread_join(t, NULL));

    if (argc > 1 && strcmp(argv[1], "overflow") == 0) {
        /* Larger than the buffer: glibc aborts before reading. */
        len = sizeof buf * 4;
        CHECK_RC(pthread_create(&t, NULL, writer, NULL));
        hs_post(&calling);
        r = read(pipe_fds[0], buf, len);
        printf("overflowing read returned %ld\n", r);
    }
    return check_exit_status();
}
