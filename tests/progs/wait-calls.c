/* SPDX-License-Identifier: MIT */
/* wait-calls [SECTION | parked [HOLD_FILE]]: epoll_wait, epoll_pwait,
 * epoll_pwait2, select and pselect woken by other threads, their timeouts
 * and errors.
 *
 * A SECTION (epoll-wakeups, epoll-timeouts, epoll-errors, epoll-sockets,
 * select, pselect), or all of them without arguments: one transcript line
 * per check (result, errno name, the events reported and which fd they
 * name).  A companion thread stays parked for the whole run, so that
 * every call is made while the program has more than one thread.  A
 * helper thread that wakes a wait acts once main announced that wait
 * through a gate (a pipe): under libgreen it first runs when main parked.
 * A wait that must be woken has an hour's timeout (or none); timeouts
 * are checked as lower bounds only.
 *
 * With "parked": a thread blocks in epoll_wait on an empty pipe; once it
 * said it is about to, main prints "parked in epoll_wait", waits (at most
 * 60 s) for HOLD_FILE when given so that a test can inspect the process,
 * then writes the pipe and prints what epoll_wait returned.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

/* -1 for a count argument, hidden from the compiler's access checks. */
static volatile int minus_one = -1;

/* fd numbers may differ between runs (the runtime owns fds of its own), so
 * the transcript names each fd by the role the program gave it. */
static struct {
    int fd;
    const char *name;
} roles[16];

static void set_role(int fd, const char *name)
{
    for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++) {
        if (roles[i].name == NULL || roles[i].fd == fd) {
            roles[i].fd = fd;
            roles[i].name = name;
            return;
        }
    }
    CHECK(!"too many fd roles");
}

static const char *role(int fd)
{
    for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++) {
        if (roles[i].name != NULL && roles[i].fd == fd) {
            return roles[i].name;
        }
    }
    return "unknown-fd";
}

/* "IN|OUT|HUP" for an epoll events value, "0" for none. */
static const char *events_name(uint32_t ev)
{
    static char buf[80];
    static const struct { uint32_t bit; const char *name; } bits[] = {
        { EPOLLIN, "IN" },   { EPOLLPRI, "PRI" }, { EPOLLOUT, "OUT" },
        { EPOLLERR, "ERR" }, { EPOLLHUP, "HUP" }, { EPOLLRDHUP, "RDHUP" },
    };

    buf[0] = '\0';
    for (size_t i = 0; i < sizeof bits / sizeof bits[0]; i++) {
        if (ev & bits[i].bit) {
            if (buf[0] != '\0') {
                strcat(buf, "|");
            }
            strcat(buf, bits[i].name);
            ev &= ~bits[i].bit;
        }
    }
    if (ev != 0) {
        snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "|0x%x", ev);
    }
    return buf[0] == '\0' ? "0" : buf;
}

/* "label: R ERRNO [i]=ROLE:EVENTS..." for an epoll_wait-style result whose
 * events carry data.fd. */
static void show_epoll(const char *label, int r, const struct epoll_event *ev)
{
    const int e = errno;

    printf("%s: %d %s", label, r, errno_name(r == -1 ? e : 0));
    for (int i = 0; i < r; i++) {
        printf(" [%d]=%s:%s", i, role(ev[i].data.fd),
               events_name(ev[i].events));
    }
    printf("\n");
    fflush(stdout);
    errno = e;
}

/* A gate: a thread announces a call (gate_open) and another waits for the
 * announcement (gate_pass) before it acts. */
static int gate[2] = { -1, -1 };

static void gate_open(void)
{
    CHECK_EQ(write(gate[1], "g", 1), 1);
}

static void gate_pass(void)
{
    char byte;
    CHECK_EQ(read(gate[0], &byte, 1), 1);
}

/* What a helper thread does: write one byte (or an eventfd count) to fd,
 * close fd, or read `drain` bytes from fd. */
enum action { WRITE_BYTE, WRITE_EVENTFD, CLOSE_FD, DRAIN };

struct job {
    int fd;
    enum action action;
    long drain;
};

static void do_job(struct job *j)
{
    char buf[4096];

    switch (j->action) {
    case WRITE_BYTE:
        CHECK_EQ(write(j->fd, "x", 1), 1);
        break;
    case WRITE_EVENTFD:
        CHECK_EQ(eventfd_write(j->fd, 5), 0);
        break;
    case CLOSE_FD:
        CHECK_OK(close(j->fd));
        break;
    case DRAIN:
        for (long left = j->drain; left > 0;) {
            const ssize_t r = read(j->fd, buf, sizeof buf);
            CHECK(r > 0);
            if (r <= 0) {
                break;
            }
            left -= r;
        }
        break;
    }
}

static void *do_later(void *arg)
{
    gate_pass();
    do_job(arg);
    return NULL;
}

/* Start a thread doing j once main announced its wait, which main does
 * here: every caller waits right after. */
static pthread_t start_job(struct job *j)
{
    pthread_t t;

    CHECK_RC(pthread_create(&t, NULL, do_later, j));
    gate_open();
    return t;
}

static void read_byte(int fd)
{
    char byte;

    CHECK_EQ(read(fd, &byte, 1), 1);
}

static int new_epoll(int fd, uint32_t events)
{
    const int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = { .events = events, .data.fd = fd };

    CHECK_OK(ep);
    CHECK_OK(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev));
    return ep;
}

/* The three epoll waits, each woken by a thread writing a pipe. */
static void epoll_wakeups(void)
{
    int p[2];
    struct epoll_event out[4];
    struct job writer;
    pthread_t t;

    CHECK_OK(pipe(p));
    set_role(p[0], "pipe-read-end");
    const int ep = new_epoll(p[0], EPOLLIN);

    writer = (struct job){ .fd = p[1] };
    t = start_job(&writer);
    errno = 4242;
    int r = epoll_wait(ep, out, 4, 3600000);
    printf("errno still 4242 after a successful epoll_wait: %d\n",
           errno == 4242);
    show_epoll("epoll_wait woken by a writer thread, 3600 s timeout", r,
               out);
    CHECK_EQ(r, 1);
    CHECK_EQ(out[0].data.fd, p[0]);
    CHECK_EQ(out[0].events, EPOLLIN);
    CHECK_RC(pthread_join(t, NULL));
    read_byte(p[0]);

    t = start_job(&writer);
    r = epoll_wait(ep, out, 4, -1);
    show_epoll("epoll_wait woken by a writer thread, no timeout", r, out);
    CHECK_EQ(r, 1);
    CHECK_RC(pthread_join(t, NULL));
    read_byte(p[0]);

    t = start_job(&writer);
    r = epoll_pwait(ep, out, 4, 3600000, NULL);
    show_epoll("epoll_pwait (NULL sigmask) woken by a writer thread", r, out);
    CHECK_EQ(r, 1);
    CHECK_EQ(out[0].data.fd, p[0]);
    CHECK_RC(pthread_join(t, NULL));
    read_byte(p[0]);

    sigset_t none;
    sigemptyset(&none);
    t = start_job(&writer);
    r = epoll_pwait(ep, out, 4, -1, &none);
    show_epoll("epoll_pwait (empty sigmask) woken by a writer thread", r, out);
    CHECK_EQ(r, 1);
    CHECK_RC(pthread_join(t, NULL));
    read_byte(p[0]);

    struct timespec hour = { .tv_sec = 3600 };
    t = start_job(&writer);
    r = epoll_pwait2(ep, out, 4, &hour, NULL);
    show_epoll("epoll_pwait2 (3600 s) woken by a writer thread", r, out);
    CHECK_EQ(r, 1);
    CHECK_EQ(out[0].data.fd, p[0]);
    CHECK_RC(pthread_join(t, NULL));
    read_byte(p[0]);
    printf("epoll_pwait2 leaves its timespec alone: %d\n",
           hour.tv_sec == 3600 && hour.tv_nsec == 0);

    t = start_job(&writer);
    r = epoll_pwait2(ep, out, 4, NULL, &none);
    show_epoll("epoll_pwait2 (NULL timeout) woken by a writer thread", r,
               out);
    CHECK_EQ(r, 1);
    CHECK_RC(pthread_join(t, NULL));
    read_byte(p[0]);

    /* Two ready fds, room for one event; then both. */
    int q[2];
    CHECK_OK(pipe(q));
    set_role(q[0], "second-pipe-read-end");
    struct epoll_event ev = { .events = EPOLLIN, .data.fd = q[0] };
    CHECK_OK(epoll_ctl(ep, EPOLL_CTL_ADD, q[0], &ev));
    CHECK_EQ(write(p[1], "x", 1), 1);
    CHECK_EQ(write(q[1], "x", 1), 1);
    r = epoll_wait(ep, out, 1, 1000);
    printf("epoll_wait two ready pipes, maxevents 1: %d %s\n", r,
           errno_name(r == -1 ? errno : 0));
    CHECK_EQ(r, 1);
    r = epoll_wait(ep, out, 4, 1000);
    printf("epoll_wait two ready pipes, maxevents 4: %d %s\n", r,
           errno_name(r == -1 ? errno : 0));
    CHECK_EQ(r, 2);
    read_byte(p[0]);
    read_byte(q[0]);

    /* The second pipe becomes ready while the first stays empty. */
    writer = (struct job){ .fd = q[1] };
    t = start_job(&writer);
    r = epoll_wait(ep, out, 4, 3600000);
    show_epoll("epoll_wait two pipes, a thread writes the second", r, out);
    CHECK_EQ(r, 1);
    CHECK_EQ(out[0].data.fd, q[0]);
    CHECK_RC(pthread_join(t, NULL));
    read_byte(q[0]);

    /* The writer closes the write end: HUP. */
    struct job closer = { .fd = q[1], .action = CLOSE_FD };
    t = start_job(&closer);
    r = epoll_wait(ep, out, 4, 3600000);
    show_epoll("epoll_wait while a thread closes a write end", r, out);
    CHECK_EQ(r, 1);
    CHECK_RC(pthread_join(t, NULL));
    CHECK_OK(close(q[0]));
    CHECK_OK(close(ep));
    CHECK_OK(close(p[0]));
    CHECK_OK(close(p[1]));
}

static void epoll_timeouts(void)
{
    int p[2];
    struct epoll_event out[4];
    long long start;

    CHECK_OK(pipe(p));
    set_role(p[0], "pipe-read-end");
    const int ep = new_epoll(p[0], EPOLLIN);

    start = now_ns(CLOCK_MONOTONIC);
    int r = epoll_wait(ep, out, 4, 50);
    show_epoll("epoll_wait empty pipe, 50 ms", r, out);
    CHECK_EQ(r, 0);
    CHECK_WAITED(start, 50);

    r = epoll_wait(ep, out, 4, 0);
    show_epoll("epoll_wait empty pipe, timeout 0", r, out);
    CHECK_EQ(r, 0);

    start = now_ns(CLOCK_MONOTONIC);
    r = epoll_pwait(ep, out, 4, 30, NULL);
    show_epoll("epoll_pwait empty pipe, 30 ms", r, out);
    CHECK_EQ(r, 0);
    CHECK_WAITED(start, 30);

    struct timespec ts = { .tv_nsec = 30000000 };
    start = now_ns(CLOCK_MONOTONIC);
    r = epoll_pwait2(ep, out, 4, &ts, NULL);
    show_epoll("epoll_pwait2 empty pipe, 30 ms", r, out);
    CHECK_EQ(r, 0);
    CHECK_WAITED(start, 30);

    ts = (struct timespec){ 0 };
    r = epoll_pwait2(ep, out, 4, &ts, NULL);
    show_epoll("epoll_pwait2 empty pipe, zero timespec", r, out);
    CHECK_EQ(r, 0);

    /* An epoll set with nothing in it still waits out its timeout. */
    const int empty = epoll_create1(0);
    CHECK_OK(empty);
    start = now_ns(CLOCK_MONOTONIC);
    r = epoll_wait(empty, out, 4, 30);
    show_epoll("epoll_wait empty epoll set, 30 ms", r, out);
    CHECK_EQ(r, 0);
    CHECK_WAITED(start, 30);
    CHECK_OK(close(empty));
    CHECK_OK(close(ep));
    CHECK_OK(close(p[0]));
    CHECK_OK(close(p[1]));
}

static void epoll_errors(void)
{
    int p[2];
    struct epoll_event out[4];
    struct timespec ts = { .tv_nsec = 1000000 };

    CHECK_OK(pipe(p));
    set_role(p[0], "pipe-read-end");
    const int ep = new_epoll(p[0], EPOLLIN);

    REPORT_ERRNO("epoll_wait maxevents 0", epoll_wait(ep, out, 0, 1000),
                 EINVAL);
    REPORT_ERRNO("epoll_wait maxevents -1",
                 epoll_wait(ep, out, minus_one, 1000),
                 EINVAL);
    REPORT_ERRNO("epoll_pwait maxevents 0",
                 epoll_pwait(ep, out, 0, 1000, NULL), EINVAL);
    REPORT_ERRNO("epoll_pwait2 maxevents 0",
                 epoll_pwait2(ep, out, 0, NULL, NULL), EINVAL);

    int closed[2];
    CHECK_OK(pipe(closed));
    CHECK_OK(close(closed[0]));
    CHECK_OK(close(closed[1]));
    REPORT_ERRNO("epoll_wait closed epfd",
                 epoll_wait(closed[0], out, 4, 1000), EBADF);
    REPORT_ERRNO("epoll_wait epfd -1", epoll_wait(-1, out, 4, -1), EBADF);
    REPORT_ERRNO("epoll_pwait closed epfd",
                 epoll_pwait(closed[0], out, 4, -1, NULL), EBADF);
    REPORT_ERRNO("epoll_pwait2 closed epfd",
                 epoll_pwait2(closed[0], out, 4, NULL, NULL), EBADF);

    REPORT_ERRNO("epoll_wait on a pipe fd", epoll_wait(p[0], out, 4, -1),
                 EINVAL);
    REPORT_ERRNO("epoll_pwait on a pipe fd",
                 epoll_pwait(p[0], out, 4, -1, NULL), EINVAL);
    REPORT_ERRNO("epoll_pwait2 on a pipe fd",
                 epoll_pwait2(p[0], out, 4, NULL, NULL), EINVAL);

    ts = (struct timespec){ .tv_nsec = 1000000000 };
    REPORT_ERRNO("epoll_pwait2 tv_nsec 1000000000",
                 epoll_pwait2(ep, out, 4, &ts, NULL), EINVAL);
    ts = (struct timespec){ .tv_sec = -1 };
    REPORT_ERRNO("epoll_pwait2 tv_sec -1",
                 epoll_pwait2(ep, out, 4, &ts, NULL), EINVAL);
    REPORT_ERRNO("epoll_pwait2 timespec a bad pointer",
                 epoll_pwait2(ep, out, 4, bad_address, NULL), EFAULT);

    /* The kernel copies events out only when some are ready. */
    CHECK_EQ(write(p[1], "x", 1), 1);
    REPORT_ERRNO("epoll_wait events a bad pointer, pipe ready",
                 epoll_wait(ep, bad_address, 4, 1000), EFAULT);
    REPORT_ERRNO("epoll_pwait events a bad pointer, pipe ready",
                 epoll_pwait(ep, bad_address, 4, 1000, NULL), EFAULT);
    REPORT_ERRNO("epoll_pwait2 events a bad pointer, pipe ready",
                 epoll_pwait2(ep, bad_address, 4, NULL, NULL), EFAULT);
    read_byte(p[0]);

    struct job writer = { .fd = p[1] };
    pthread_t t = start_job(&writer);
    REPORT_ERRNO("epoll_wait events a bad pointer, a thread writes later",
                 epoll_wait(ep, bad_address, 4, 3600000), EFAULT);
    CHECK_RC(pthread_join(t, NULL));
    read_byte(p[0]);

    CHECK_OK(close(ep));
    CHECK_OK(close(p[0]));
    CHECK_OK(close(p[1]));
}

static void epoll_sockets_and_eventfd(void)
{
    int sv[2];
    struct epoll_event out[4];
    pthread_t t;

    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    set_role(sv[0], "socket");
    int ep = new_epoll(sv[0], EPOLLIN | EPOLLOUT | EPOLLRDHUP);
    int r = epoll_wait(ep, out, 4, 10000);
    show_epoll("epoll_wait socket for IN|OUT|RDHUP (OUT ready at once)", r,
               out);
    CHECK_EQ(r, 1);

    struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP,
                              .data.fd = sv[0] };
    CHECK_OK(epoll_ctl(ep, EPOLL_CTL_MOD, sv[0], &ev));
    struct job sender = { .fd = sv[1] };
    t = start_job(&sender);
    r = epoll_wait(ep, out, 4, 3600000);
    show_epoll("epoll_wait socket for IN while a thread sends", r, out);
    CHECK_EQ(r, 1);
    CHECK_EQ(out[0].data.fd, sv[0]);
    CHECK_RC(pthread_join(t, NULL));
    read_byte(sv[0]);

    struct job closer = { .fd = sv[1], .action = CLOSE_FD };
    t = start_job(&closer);
    r = epoll_pwait(ep, out, 4, 3600000, NULL);
    show_epoll("epoll_pwait socket while a thread closes the peer", r, out);
    CHECK_EQ(r, 1);
    CHECK_RC(pthread_join(t, NULL));
    CHECK_OK(close(ep));
    CHECK_OK(close(sv[0]));

    /* Edge-triggered: reported once per new arrival. */
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    set_role(sv[0], "socket");
    ep = new_epoll(sv[0], EPOLLIN | EPOLLET);
    CHECK_EQ(write(sv[1], "x", 1), 1);
    r = epoll_wait(ep, out, 4, 1000);
    show_epoll("epoll_wait EPOLLET, data waiting", r, out);
    CHECK_EQ(r, 1);
    r = epoll_wait(ep, out, 4, 20);
    show_epoll("epoll_wait EPOLLET again, nothing new, 20 ms", r, out);
    CHECK_EQ(r, 0);
    sender = (struct job){ .fd = sv[1] };
    t = start_job(&sender);
    r = epoll_wait(ep, out, 4, 3600000);
    show_epoll("epoll_wait EPOLLET while a thread sends more", r, out);
    CHECK_EQ(r, 1);
    CHECK_RC(pthread_join(t, NULL));
    CHECK_OK(close(ep));
    CHECK_OK(close(sv[0]));
    CHECK_OK(close(sv[1]));

    const int efd = eventfd(0, EFD_CLOEXEC);
    CHECK_OK(efd);
    set_role(efd, "eventfd");
    ep = new_epoll(efd, EPOLLIN | EPOLLOUT);
    r = epoll_wait(ep, out, 4, 10000);
    show_epoll("epoll_wait eventfd for IN|OUT (OUT ready at once)", r, out);
    ev = (struct epoll_event){ .events = EPOLLIN, .data.fd = efd };
    CHECK_OK(epoll_ctl(ep, EPOLL_CTL_MOD, efd, &ev));
    struct job bump = { .fd = efd, .action = WRITE_EVENTFD };
    t = start_job(&bump);
    r = epoll_pwait2(ep, out, 4, NULL, NULL);
    show_epoll("epoll_pwait2 eventfd while a thread adds 5", r, out);
    CHECK_EQ(r, 1);
    CHECK_EQ(out[0].data.fd, efd);
    CHECK_RC(pthread_join(t, NULL));
    eventfd_t value = 0;
    CHECK_OK(eventfd_read(efd, &value));
    printf("eventfd value: %llu\n", (unsigned long long)value);
    CHECK_EQ(value, 5);
    CHECK_OK(close(ep));
    CHECK_OK(close(efd));
}

static const char *left_name(const struct timeval *tv)
{
    if (tv->tv_sec < 0 || tv->tv_usec < 0) {
        return "left < 0";
    }
    return tv->tv_sec == 0 && tv->tv_usec == 0 ? "left == 0" : "left > 0";
}

static void show_select(const char *label, int r, int fd_in_read,
                        int fd_in_write, const struct timeval *tv)
{
    const int e = errno;

    printf("%s: %d %s", label, r, errno_name(r == -1 ? e : 0));
    if (r != -1) {
        printf(" read-set=%d write-set=%d", fd_in_read, fd_in_write);
    }
    if (tv != NULL) {
        printf(" %s", left_name(tv));
    }
    printf("\n");
    fflush(stdout);
    errno = e;
}

/* Fill the pipe behind fd until a write would block; returns the bytes
 * written.  fd stays blocking afterwards. */
static long fill_pipe(int fd)
{
    static const char chunk[4096];
    const int flags = fcntl(fd, F_GETFL);
    long total = 0;
    ssize_t w;

    CHECK_OK(fcntl(fd, F_SETFL, flags | O_NONBLOCK));
    while ((w = write(fd, chunk, sizeof chunk)) > 0) {
        total += w;
    }
    CHECK_EQ(errno, EAGAIN);
    CHECK_OK(fcntl(fd, F_SETFL, flags));
    return total;
}

static void select_calls(void)
{
    int p[2];
    fd_set rs, ws;
    struct timeval tv;
    pthread_t t;
    long long start;

    CHECK_OK(pipe(p));
    const int nfds = (p[0] > p[1] ? p[0] : p[1]) + 1;

    struct job writer = { .fd = p[1] };
    t = start_job(&writer);
    FD_ZERO(&rs);
    FD_SET(p[0], &rs);
    tv = (struct timeval){ .tv_sec = 3600 };
    int r = select(nfds, &rs, NULL, NULL, &tv);
    show_select("select read set woken by a writer thread, 3600 s", r,
                FD_ISSET(p[0], &rs), 0, &tv);
    CHECK_EQ(r, 1);
    printf("select time left below 3600 s: %d\n", tv.tv_sec < 3600);
    CHECK_RC(pthread_join(t, NULL));
    read_byte(p[0]);

    t = start_job(&writer);
    FD_ZERO(&rs);
    FD_SET(p[0], &rs);
    r = select(nfds, &rs, NULL, NULL, NULL);
    show_select("select read set woken by a writer thread, no timeout", r,
                FD_ISSET(p[0], &rs), 0, NULL);
    CHECK_EQ(r, 1);
    CHECK_RC(pthread_join(t, NULL));
    read_byte(p[0]);

    const long full = fill_pipe(p[1]);
    FD_ZERO(&ws);
    FD_SET(p[1], &ws);
    tv = (struct timeval){ 0 };
    r = select(nfds, NULL, &ws, NULL, &tv);
    show_select("select write set of a full pipe, zero timeout", r, 0,
                FD_ISSET(p[1], &ws), &tv);
    CHECK_EQ(r, 0);
    struct job drainer = { .fd = p[0], .action = DRAIN, .drain = full };
    t = start_job(&drainer);
    FD_ZERO(&rs);
    FD_SET(p[0], &rs);
    FD_ZERO(&ws);
    FD_SET(p[1], &ws);
    tv = (struct timeval){ .tv_sec = 3600 };
    /* The read end is ready too until the thread has drained it all, so
     * only the write set is watched here. */
    r = select(nfds, NULL, &ws, NULL, &tv);
    show_select("select write set of a full pipe a thread drains", r, 0,
                FD_ISSET(p[1], &ws), &tv);
    CHECK_EQ(r, 1);
    CHECK_RC(pthread_join(t, NULL));

    FD_ZERO(&rs);
    FD_SET(p[0], &rs);
    tv = (struct timeval){ .tv_usec = 30000 };
    start = now_ns(CLOCK_MONOTONIC);
    r = select(nfds, &rs, NULL, NULL, &tv);
    show_select("select empty pipe, 30 ms", r, FD_ISSET(p[0], &rs), 0, &tv);
    CHECK_EQ(r, 0);
    CHECK_WAITED(start, 30);

    /* On timeout every set comes back cleared, even a ready-for-nothing
     * write set and an except set. */
    const long again = fill_pipe(p[1]);
    fd_set es;
    FD_ZERO(&rs);
    FD_SET(p[0], &rs);
    FD_ZERO(&ws);
    FD_SET(p[1], &ws);
    FD_ZERO(&es);
    FD_SET(p[1], &es);
    tv = (struct timeval){ .tv_usec = 20000 };
    r = select(nfds, NULL, &ws, &es, &tv);
    printf("select full pipe write+except sets, 20 ms: %d %s"
           " write-set=%d except-set=%d %s\n",
           r, errno_name(r == -1 ? errno : 0), FD_ISSET(p[1], &ws),
           FD_ISSET(p[1], &es), left_name(&tv));
    CHECK_EQ(r, 0);
    drainer.drain = again;
    do_job(&drainer);

    tv = (struct timeval){ .tv_usec = 30000 };
    start = now_ns(CLOCK_MONOTONIC);
    r = select(0, NULL, NULL, NULL, &tv);
    show_select("select NULL sets as a 30 ms sleep", r, 0, 0, &tv);
    CHECK_EQ(r, 0);
    CHECK_WAITED(start, 30);

    tv = (struct timeval){ .tv_usec = 1000000 };
    CHECK_EQ(write(p[1], "x", 1), 1);
    FD_ZERO(&rs);
    FD_SET(p[0], &rs);
    r = select(nfds, &rs, NULL, NULL, &tv);
    show_select("select tv_usec 1000000, pipe ready", r, FD_ISSET(p[0], &rs),
                0, NULL);
    CHECK_EQ(r, 1);
    read_byte(p[0]);

    /* Errors. */
    tv = (struct timeval){ .tv_sec = 1 };
    r = select(-1, NULL, NULL, NULL, &tv);
    show_select("select nfds -1", r, 0, 0, NULL);
    CHECK_EQ(errno, EINVAL);

    int closed[2];
    CHECK_OK(pipe(closed));
    CHECK_OK(close(closed[0]));
    CHECK_OK(close(closed[1]));
    FD_ZERO(&rs);
    FD_SET(p[0], &rs);
    FD_SET(closed[0], &rs);
    const int nfds_closed = (closed[0] >= nfds ? closed[0] + 1 : nfds);
    tv = (struct timeval){ .tv_sec = 1 };
    r = select(nfds_closed, &rs, NULL, NULL, &tv);
    show_select("select a closed fd in the read set", r, 0, 0, NULL);
    CHECK_EQ(errno, EBADF);

    tv = (struct timeval){ .tv_sec = -1 };
    FD_ZERO(&rs);
    FD_SET(p[0], &rs);
    r = select(nfds, &rs, NULL, NULL, &tv);
    show_select("select tv_sec -1", r, 0, 0, NULL);
    CHECK_EQ(errno, EINVAL);

    tv = (struct timeval){ .tv_usec = -1 };
    r = select(nfds, &rs, NULL, NULL, &tv);
    show_select("select tv_usec -1", r, 0, 0, NULL);
    CHECK_EQ(errno, EINVAL);

    tv = (struct timeval){ .tv_sec = 1 };
    r = select(nfds, bad_address, NULL, NULL, &tv);
    show_select("select read set a bad pointer", r, 0, 0, NULL);
    CHECK_EQ(errno, EFAULT);

    CHECK_OK(close(p[0]));
    CHECK_OK(close(p[1]));
}

static void pselect_calls(void)
{
    int p[2];
    fd_set rs, ws;
    struct timespec ts;
    pthread_t t;
    long long start;
    sigset_t none;

    sigemptyset(&none);
    CHECK_OK(pipe(p));
    const int nfds = (p[0] > p[1] ? p[0] : p[1]) + 1;

    struct job writer = { .fd = p[1] };
    t = start_job(&writer);
    FD_ZERO(&rs);
    FD_SET(p[0], &rs);
    ts = (struct timespec){ .tv_sec = 3600 };
    int r = pselect(nfds, &rs, NULL, NULL, &ts, NULL);
    show_select("pselect read set woken by a writer thread, 3600 s", r,
                FD_ISSET(p[0], &rs), 0, NULL);
    CHECK_EQ(r, 1);
    printf("pselect leaves its timespec alone: %d\n",
           ts.tv_sec == 3600 && ts.tv_nsec == 0);
    CHECK_RC(pthread_join(t, NULL));
    read_byte(p[0]);

    t = start_job(&writer);
    FD_ZERO(&rs);
    FD_SET(p[0], &rs);
    r = pselect(nfds, &rs, NULL, NULL, NULL, &none);
    show_select("pselect (empty sigmask) woken by a writer, no timeout", r,
                FD_ISSET(p[0], &rs), 0, NULL);
    CHECK_EQ(r, 1);
    CHECK_RC(pthread_join(t, NULL));
    read_byte(p[0]);

    const long full = fill_pipe(p[1]);
    struct job drainer = { .fd = p[0], .action = DRAIN, .drain = full };
    t = start_job(&drainer);
    FD_ZERO(&ws);
    FD_SET(p[1], &ws);
    ts = (struct timespec){ .tv_sec = 3600 };
    r = pselect(nfds, NULL, &ws, NULL, &ts, NULL);
    show_select("pselect write set of a full pipe a thread drains", r, 0,
                FD_ISSET(p[1], &ws), NULL);
    CHECK_EQ(r, 1);
    CHECK_RC(pthread_join(t, NULL));

    FD_ZERO(&rs);
    FD_SET(p[0], &rs);
    ts = (struct timespec){ .tv_nsec = 30000000 };
    start = now_ns(CLOCK_MONOTONIC);
    r = pselect(nfds, &rs, NULL, NULL, &ts, NULL);
    show_select("pselect empty pipe, 30 ms", r, FD_ISSET(p[0], &rs), 0,
                NULL);
    CHECK_EQ(r, 0);
    CHECK_WAITED(start, 30);

    start = now_ns(CLOCK_MONOTONIC);
    r = pselect(0, NULL, NULL, NULL, &ts, &none);
    show_select("pselect NULL sets as a 30 ms sleep", r, 0, 0, NULL);
    CHECK_EQ(r, 0);
    CHECK_WAITED(start, 30);

    FD_ZERO(&rs);
    FD_SET(p[0], &rs);
    ts = (struct timespec){ .tv_nsec = 1000000000 };
    r = pselect(nfds, &rs, NULL, NULL, &ts, NULL);
    show_select("pselect tv_nsec 1000000000", r, 0, 0, NULL);
    CHECK_EQ(errno, EINVAL);
    ts = (struct timespec){ .tv_nsec = -1 };
    r = pselect(nfds, &rs, NULL, NULL, &ts, NULL);
    show_select("pselect tv_nsec -1", r, 0, 0, NULL);
    CHECK_EQ(errno, EINVAL);
    ts = (struct timespec){ .tv_sec = -1 };
    r = pselect(nfds, &rs, NULL, NULL, &ts, NULL);
    show_select("pselect tv_sec -1", r, 0, 0, NULL);
    CHECK_EQ(errno, EINVAL);
    ts = (struct timespec){ .tv_sec = 1 };
    r = pselect(-1, NULL, NULL, NULL, &ts, NULL);
    show_select("pselect nfds -1", r, 0, 0, NULL);
    CHECK_EQ(errno, EINVAL);

    int closed[2];
    CHECK_OK(pipe(closed));
    CHECK_OK(close(closed[0]));
    CHECK_OK(close(closed[1]));
    FD_ZERO(&rs);
    FD_SET(closed[0], &rs);
    r = pselect(closed[0] + 1, &rs, NULL, NULL, &ts, NULL);
    show_select("pselect a closed fd in the read set", r, 0, 0, NULL);
    CHECK_EQ(errno, EBADF);

    CHECK_OK(close(p[0]));
    CHECK_OK(close(p[1]));
}

struct parked {
    int ep;
    int result;
    struct epoll_event ev;
};

static void *park_in_epoll_wait(void *arg)
{
    struct parked *const p = arg;

    gate_open();
    p->result = epoll_wait(p->ep, &p->ev, 1, -1);
    return NULL;
}

/* "parked": a thread blocked in epoll_wait while main waits for a file. */
static void parked(const char *hold)
{
    int p[2];
    pthread_t t;

    CHECK_OK(pipe(p));
    set_role(p[0], "pipe-read-end");
    struct parked waiter = { .ep = new_epoll(p[0], EPOLLIN) };
    CHECK_RC(pthread_create(&t, NULL, park_in_epoll_wait, &waiter));
    gate_pass();            /* the waiter calls epoll_wait right after */
    printf("parked in epoll_wait\n");
    fflush(stdout);
    if (hold != NULL) {
        wait_for_file(hold, 60);
    }
    CHECK_EQ(write(p[1], "x", 1), 1);
    CHECK_RC(pthread_join(t, NULL));
    show_epoll("epoll_wait returned", waiter.result, &waiter.ev);
    CHECK_EQ(waiter.result, 1);
    CHECK_OK(close(waiter.ep));
    CHECK_OK(close(p[0]));
    CHECK_OK(close(p[1]));
}

static const struct section sections[] = {
    { "epoll-wakeups", epoll_wakeups },
    { "epoll-timeouts", epoll_timeouts },
    { "epoll-errors", epoll_errors },
    { "epoll-sockets", epoll_sockets_and_eventfd },
    { "select", select_calls },
    { "pselect", pselect_calls },
};

int main(int argc, char **argv)
{
    CHECK_OK(pipe(gate));
    if (argc >= 2 && strcmp(argv[1], "parked") == 0 && argc <= 3) {
        companion_start();
        parked(argc == 3 ? argv[2] : NULL);
        companion_stop();
        return check_exit_status();
    }
    if (argc > 2) {
        fprintf(stderr, "usage: %s [SECTION | parked [HOLD_FILE]]\n",
                argv[0]);
        return 2;
    }
    companion_start();
    return RUN_SECTIONS(argc, argv, sections, companion_stop);
}
