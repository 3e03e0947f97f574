/* SPDX-License-Identifier: MIT */
/* A blocking transfer that a signal handler interrupts after it moved
 * some bytes returns the bytes it moved, even when the handler has
 * SA_RESTART (signal(7): a call that transferred data is not restarted;
 * pipe_write, unix_stream_sendmsg and unix_stream_read_generic return
 * what they moved), and exactly those bytes arrive.
 *
 * Usage: call-progress send|write|recv-waitall
 *
 * Ordering is by handshake: the interrupting thread signals only after
 * the other end shows that the transfer has begun (data arrived, or the
 * receive queue was emptied by the waiting receiver), and the transfer
 * cannot end by itself (nobody drains the full buffer; the sender sends
 * no more).
 */
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"

#define BIG (4u << 20)              /* more than any pipe or socket holds */
#define SMALL 1000u

struct job {
    int fd;
    unsigned char *buf;
    size_t len;
    int kind;                       /* 's' send, 'w' write, 'r' recv */
    ssize_t got;
    int err;
};

static void on_usr1(int sig)
{
    (void)sig;
}

static void *transfer(void *arg)
{
    struct job *j = arg;
    errno = 0;
    switch (j->kind) {
    case 's':
        j->got = send(j->fd, j->buf, j->len, 0);
        break;
    case 'w':
        j->got = write(j->fd, j->buf, j->len);
        break;
    default:
        j->got = recv(j->fd, j->buf, j->len, MSG_WAITALL);
        break;
    }
    j->err = errno;
    return NULL;
}

static unsigned char pattern(size_t i)
{
    return (unsigned char)(i * 7 + i / 251);
}

/* Read what is queued at `fd` (non-blocking once the writer is done) and
 * check it is exactly bytes [0, n) of the pattern. */
static bool drained_exactly(int fd, size_t n)
{
    unsigned char chunk[65536];
    size_t at = 0;
    bool same = true;
    for (;;) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        if (poll(&p, 1, 0) <= 0) {
            break;
        }
        const ssize_t r = read(fd, chunk, sizeof chunk);
        if (r <= 0) {
            break;
        }
        for (ssize_t i = 0; i < r; i++) {
            same = same && pattern(at + (size_t)i) == chunk[i];
        }
        at += (size_t)r;
    }
    return same && at == n;
}

/* send or write BIG bytes into `wr`, whose other end `rd` nobody reads;
 * interrupt once bytes arrived. */
static void interrupted_writer(int kind, int wr, int rd)
{
    struct job j = { .fd = wr, .len = BIG, .kind = kind };
    j.buf = malloc(BIG);
    CHECK(j.buf != NULL);
    for (size_t i = 0; i < BIG; i++) {
        j.buf[i] = pattern(i);
    }
    pthread_t t;
    CHECK(pthread_create(&t, NULL, transfer, &j) == 0);
    struct pollfd p = { .fd = rd, .events = POLLIN };
    CHECK(poll(&p, 1, -1) == 1);
    CHECK(pthread_kill(t, SIGUSR1) == 0);
    CHECK(pthread_join(t, NULL) == 0);
    printf("%s: interrupted after progress, returns part of it: %s\n",
           kind == 's' ? "send" : "write",
           j.got > 0 && (size_t)j.got < BIG ? "yes" : "no");
    printf("errno after the partial %s: %s\n",
           kind == 's' ? "send" : "write", errno_name(j.err));
    printf("the reader gets exactly the bytes returned, in order: %s\n",
           j.got > 0 && drained_exactly(rd, (size_t)j.got) ? "yes" : "no");
    free(j.buf);
}

/* recv BIG bytes with MSG_WAITALL from `rd`; SMALL arrive, then nothing. */
static void interrupted_waitall(int rd, int wr)
{
    struct job j = { .fd = rd, .len = BIG, .kind = 'r' };
    j.buf = malloc(BIG);
    CHECK(j.buf != NULL);
    unsigned char some[SMALL];
    for (size_t i = 0; i < SMALL; i++) {
        some[i] = pattern(i);
    }
    pthread_t t;
    CHECK(pthread_create(&t, NULL, transfer, &j) == 0);
    CHECK(send(wr, some, SMALL, 0) == (ssize_t)SMALL);
    /* The receiver has taken the bytes once none is queued. */
    int queued = 1;
    while (ioctl(rd, FIONREAD, &queued) == 0 && queued > 0) {
        sched_yield();
    }
    CHECK(pthread_kill(t, SIGUSR1) == 0);
    CHECK(pthread_join(t, NULL) == 0);
    printf("recv MSG_WAITALL: interrupted after %u bytes returns %zd\n",
           SMALL, j.got);
    printf("errno after the partial recv: %s\n", errno_name(j.err));
    printf("the bytes are the ones sent: %s\n",
           j.got == (ssize_t)SMALL && memcmp(j.buf, some, SMALL) == 0
               ? "yes" : "no");
    free(j.buf);
}

int main(int argc, char **argv)
{
    const char *what = argc > 1 ? argv[1] : "";
    struct sigaction sa = { .sa_handler = on_usr1, .sa_flags = SA_RESTART };
    sigemptyset(&sa.sa_mask);
    CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
    int sv[2];
    if (strcmp(what, "send") == 0 || strcmp(what, "recv-waitall") == 0) {
        CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
        if (what[0] == 's') {
            interrupted_writer('s', sv[0], sv[1]);
        } else {
            interrupted_waitall(sv[1], sv[0]);
        }
    } else if (strcmp(what, "write") == 0) {
        CHECK(pipe(sv) == 0);
        interrupted_writer('w', sv[1], sv[0]);
    } else {
        fprintf(stderr, "usage: call-progress send|write|recv-waitall\n");
        return 2;
    }
    return check_exit_status();
}
