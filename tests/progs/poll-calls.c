/* SPDX-License-Identifier: MIT */
/* poll-calls: poll timeouts, readiness caused by another thread, and the
 * errors poll reports.
 *
 * One transcript line per check: the result, errno name and the revents of
 * each entry.  A companion thread stays parked for the whole run, so that
 * every call is made while the program has more than one thread.  A
 * thread that makes a poll return acts once the poller said it is about
 * to poll and sleeps in poll (handshake.h): nothing depends on timing
 * but the timeouts, checked as lower bounds.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "handshake.h"

/* "IN|OUT|HUP" for a revents value, "0" for none. */
static const char *events_name(short ev)
{
    static char buf[64];
    static const struct { short bit; const char *name; } bits[] = {
        { POLLIN, "IN" },   { POLLPRI, "PRI" }, { POLLOUT, "OUT" },
        { POLLERR, "ERR" }, { POLLHUP, "HUP" }, { POLLNVAL, "NVAL" },
        { POLLRDHUP, "RDHUP" },
    };

    buf[0] = '\0';
    for (size_t i = 0; i < sizeof bits / sizeof bits[0]; i++) {
        if (ev & bits[i].bit) {
            if (buf[0] != '\0') {
                strcat(buf, "|");
            }
            strcat(buf, bits[i].name);
            ev &= (short)~bits[i].bit;
        }
    }
    if (ev != 0) {
        snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "|0x%x", ev);
    }
    return buf[0] == '\0' ? "0" : buf;
}

static void show(const char *label, int r, const struct pollfd *fds, int n)
{
    printf("%s: %d %s", label, r, errno_name(r == -1 ? errno : 0));
    for (int i = 0; i < n && r != -1; i++) {
        printf(" [%d]=%s", i, events_name(fds[i].revents));
    }
    printf("\n");
    fflush(stdout);
}

/* main posts `calling` just before a poll another thread ends. */
static struct handshake calling;
static pid_t main_tid;

struct job {
    int fd;
    int close_instead;
};

/* Once main sleeps in its poll, write a byte to j->fd, or close it. */
static void *write_or_close_later(void *arg)
{
    struct job *const j = arg;

    hs_wait(&calling);
    wait_blocked(main_tid);
    if (j->close_instead) {
        CHECK_OK(close(j->fd));
    } else {
        CHECK_EQ(write(j->fd, "x", 1), 1);
    }
    return NULL;
}

static void timeouts(void)
{
    int p[2];
    long long start;

    CHECK_OK(pipe(p));
    start = now_ns(CLOCK_MONOTONIC);
    int r = poll(NULL, 0, 50);
    show("poll no fds, 50 ms", r, NULL, 0);
    CHECK_EQ(r, 0);
    CHECK_WAITED(start, 50);

    struct pollfd fds[2] = { { .fd = p[0], .events = POLLIN } };
    start = now_ns(CLOCK_MONOTONIC);
    r = poll(fds, 1, 50);
    show("poll empty pipe, 50 ms", r, fds, 1);
    CHECK_EQ(r, 0);
    CHECK_WAITED(start, 50);

    r = poll(fds, 1, 0);
    show("poll empty pipe, timeout 0", r, fds, 1);
    CHECK_EQ(r, 0);

    fds[0] = (struct pollfd){ .fd = p[1], .events = POLLOUT };
    r = poll(fds, 1, -1);
    show("poll write end of an empty pipe", r, fds, 1);
    CHECK_EQ(r, 1);

    fds[0] = (struct pollfd){ .fd = -1, .events = POLLIN };
    fds[1] = (struct pollfd){ .fd = p[0], .events = POLLIN };
    r = poll(fds, 2, 20);
    show("poll negative fd and empty pipe, 20 ms", r, fds, 2);
    CHECK_EQ(r, 0);
    CHECK_OK(close(p[0]));
    CHECK_OK(close(p[1]));
}

static void readiness_from_threads(void)
{
    int a[2], b[2];
    pthread_t t;

    CHECK_OK(pipe(a));
    CHECK_OK(pipe(b));
    struct job writer = { .fd = a[1] };
    CHECK_RC(pthread_create(&t, NULL, write_or_close_later, &writer));
    struct pollfd fds[2] = { { .fd = a[0], .events = POLLIN } };
    hs_post(&calling);
    errno = 4242;
    int r = poll(fds, 1, -1);
    printf("errno still 4242 after a successful poll: %d\n", errno == 4242);
    show("poll waits for a writer thread, no timeout", r, fds, 1);
    CHECK_EQ(r, 1);
    CHECK_RC(pthread_join(t, NULL));
    char byte;
    CHECK_EQ(read(a[0], &byte, 1), 1);

    writer = (struct job){ .fd = b[1] };
    CHECK_RC(pthread_create(&t, NULL, write_or_close_later, &writer));
    fds[0] = (struct pollfd){ .fd = a[0], .events = POLLIN };
    fds[1] = (struct pollfd){ .fd = b[0], .events = POLLIN };
    hs_post(&calling);
    r = poll(fds, 2, 10000);
    show("poll two pipes, a thread writes the second", r, fds, 2);
    CHECK_EQ(r, 1);
    CHECK_RC(pthread_join(t, NULL));
    CHECK_EQ(read(b[0], &byte, 1), 1);

    struct job closer = { .fd = a[1], .close_instead = 1 };
    CHECK_RC(pthread_create(&t, NULL, write_or_close_later, &closer));
    fds[0] = (struct pollfd){ .fd = a[0], .events = POLLIN };
    hs_post(&calling);
    r = poll(fds, 1, 10000);
    show("poll read end while a thread closes the write end", r, fds, 1);
    CHECK_EQ(r, 1);
    CHECK_RC(pthread_join(t, NULL));
    CHECK_OK(close(a[0]));

    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    fds[0] = (struct pollfd){ .fd = sv[0], .events = POLLIN | POLLOUT };
    r = poll(fds, 1, 10000);
    show("poll socket for IN|OUT (OUT is ready at once)", r, fds, 1);
    struct job sender = { .fd = sv[1] };
    CHECK_RC(pthread_create(&t, NULL, write_or_close_later, &sender));
    fds[0] = (struct pollfd){ .fd = sv[0], .events = POLLIN };
    hs_post(&calling);
    r = poll(fds, 1, 10000);
    show("poll socket for IN while a thread sends", r, fds, 1);
    CHECK_RC(pthread_join(t, NULL));
    CHECK_OK(close(sv[0]));
    CHECK_OK(close(sv[1]));
    CHECK_OK(close(b[0]));
    CHECK_OK(close(b[1]));
}

struct poller {
    int fd;
    int result;
    short revents;
    pid_t tid;
};

static void *poll_one(void *arg)
{
    struct poller *const p = arg;
    struct pollfd fds = { .fd = p->fd, .events = POLLIN };

    STORE(&p->tid, gettid());
    hs_post(&calling);
    p->result = poll(&fds, 1, 10000);
    p->revents = fds.revents;
    return NULL;
}

static void shared_fds(void)
{
    int p[2];
    pthread_t t[2];
    struct poller pollers[2];

    CHECK_OK(pipe(p));
    for (int i = 0; i < 2; i++) {
        pollers[i] = (struct poller){ .fd = p[0] };
        CHECK_RC(pthread_create(&t[i], NULL, poll_one, &pollers[i]));
    }
    for (int i = 0; i < 2; i++) {
        hs_wait(&calling);
    }
    for (int i = 0; i < 2; i++) {
        wait_blocked(LOAD(&pollers[i].tid));
    }
    CHECK_EQ(write(p[1], "x", 1), 1);
    for (int i = 0; i < 2; i++) {
        CHECK_RC(pthread_join(t[i], NULL));
    }
    printf("two threads polling one pipe: %d %s, %d %s\n",
           pollers[0].result, events_name(pollers[0].revents),
           pollers[1].result, events_name(pollers[1].revents));
    char byte;
    CHECK_EQ(read(p[0], &byte, 1), 1);

    struct job writer = { .fd = p[1] };
    CHECK_RC(pthread_create(&t[0], NULL, write_or_close_later, &writer));
    struct pollfd fds[3] = { { .fd = p[0], .events = POLLIN },
                             { .fd = p[0], .events = POLLIN | POLLPRI },
                             { .fd = p[0], .events = 0 } };
    hs_post(&calling);
    int r = poll(fds, 3, 10000);
    show("poll one pipe in three entries while a thread writes", r, fds, 3);
    CHECK_RC(pthread_join(t[0], NULL));
    CHECK_EQ(read(p[0], &byte, 1), 1);

    char path[] = "/tmp/poll-calls.XXXXXX";
    const int file = mkstemp(path);
    CHECK_OK(file);
    unlink(path);
    fds[0] = (struct pollfd){ .fd = file, .events = POLLIN | POLLOUT };
    fds[1] = (struct pollfd){ .fd = p[0], .events = POLLIN };
    r = poll(fds, 2, 10000);
    show("poll a regular file and an empty pipe", r, fds, 2);
    CHECK_OK(close(file));
    CHECK_OK(close(p[0]));
    CHECK_OK(close(p[1]));
}

static void errors(void)
{
    int p[2];

    CHECK_OK(pipe(p));
    CHECK_OK(close(p[1]));
    struct pollfd fds[2] = { { .fd = p[1], .events = POLLIN },
                             { .fd = p[0], .events = POLLIN } };
    int r = poll(fds, 1, 1000);
    show("poll a closed fd", r, fds, 1);
    CHECK_EQ(r, 1);
    r = poll(fds, 2, 1000);
    show("poll a closed fd and a pipe at EOF", r, fds, 2);
    CHECK_EQ(r, 2);
    CHECK_OK(close(p[0]));

    errno = 0;
    r = poll(bad_address, 1, 0);
    show("poll fds a bad pointer", r, NULL, 0);
    CHECK_EQ(errno, EFAULT);

    struct rlimit rl;
    CHECK_OK(getrlimit(RLIMIT_NOFILE, &rl));
    errno = 0;
    r = poll(fds, (nfds_t)rl.rlim_cur + 1, 0);
    show("poll nfds above RLIMIT_NOFILE", r, NULL, 0);
    CHECK_EQ(errno, EINVAL);
}

int main(void)
{
    hs_init(&calling);
    main_tid = gettid();
    companion_start();
    timeouts();
    readiness_from_threads();
    shared_fds();
    errors();
    companion_stop();
    return check_exit_status();
}
