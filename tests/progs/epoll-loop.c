/* SPDX-License-Identifier: MIT */
/* epoll-loop: a program-driven epoll loop beside blocking threads, the
 * pattern of nginx, redis and libevent.
 *
 * The main thread runs its own epoll loop (epoll_create1, epoll_ctl ADD,
 * MOD and DEL, level- and edge-triggered and EPOLLONESHOT registrations,
 * epoll_wait and epoll_pwait with timeouts and a signal mask) and serves
 * NCLIENTS TCP echo clients on 127.0.0.1 that are ordinary blocking
 * threads (connect, send, recv). Meanwhile other threads block in read on
 * pipes and in nanosleep, and a watcher thread waits in epoll_wait on a
 * second epoll instance that main feeds through pipes. Before the loop:
 * epoll's errors, timeouts that expire (not before their time: a lower
 * bound, which load cannot break, printed as yes/no), an fd closed while
 * registered disappearing from the set (Linux removes it when its last
 * reference goes, not at close(2) of one of its numbers), and epoll_pwait's
 * mask holding back or letting through a signal sent to the main thread
 * once it waits.
 *
 * Usage: epoll-loop [--hold HOLD_FILE] [SECTION...], SECTION one of
 * errors, timeouts, closed, pwait and loop (the echo loop with its
 * threads); all of them, in that order, without one. Before the loop
 * serves, every other thread is blocked (clients in recv, readers in
 * read, sleepers in nanosleep, the watcher in epoll_wait: each says so
 * and main waits until it sleeps in its call, handshake.h) and the
 * program prints its "blocked" line; with HOLD_FILE it then waits for
 * HOLD_FILE to exist. The transcript has no timings and no fd numbers;
 * every thread but main only records results, which main prints after
 * joining it.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "handshake.h"

#define NCLIENTS 20
#define NMSGS 10
#define MAXMSG 20000
#define NREADERS 3
#define NSLEEPERS 2
#define LISTEN_TAG UINT64_MAX

static struct sockaddr_in server_addr;
static int clients_sent_first;      /* clients whose first message went */
static int readers_started;
static int sleepers_started;
static int watcher_started;
static int stop_sleepers;

/* Each thread of the loop says it is about to block, with its tid. */
#define NBLOCKED (NCLIENTS + NREADERS + NSLEEPERS + 1)
static struct handshake blocking;
static pthread_mutex_t tids_mu = PTHREAD_MUTEX_INITIALIZER;
static pid_t blocked_tid[NBLOCKED];
static int nblocked_tids;

static void about_to_block(int *started)
{
    ADD(started, 1);
    CHECK_RC(pthread_mutex_lock(&tids_mu));
    blocked_tid[nblocked_tids++] = gettid();
    CHECK_RC(pthread_mutex_unlock(&tids_mu));
    hs_post(&blocking);
}

static size_t msg_size(int client, int msg)
{
    return 1 + ((size_t)client * 7919u + (size_t)msg * 104729u) % MAXMSG;
}

static unsigned char msg_byte(int client, int msg, size_t k)
{
    return (unsigned char)(client * 31 + msg * 17 + (int)(k % 251));
}

static const char *yes(int cond)
{
    return cond ? "yes" : "no";
}

/* ---- echo clients: ordinary blocking threads ------------------------ */

struct client {
    int id;
    int msgs_ok;                    /* messages echoed byte for byte */
    long long bytes;
    int eof_seen;                   /* recv returned 0 after shutdown */
};

static int send_all(int fd, const unsigned char *p, size_t n)
{
    while (n > 0) {
        const ssize_t w = send(fd, p, n, 0);
        if (w <= 0) {
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static void *client_main(void *arg)
{
    struct client *c = arg;
    unsigned char *out = malloc(MAXMSG), *in = malloc(MAXMSG);
    const int fd = socket(AF_INET, SOCK_STREAM, 0);

    CHECK(out != NULL && in != NULL);
    CHECK(fd >= 0);
    if (connect(fd, (const struct sockaddr *)&server_addr,
                sizeof server_addr) != 0) {
        CHECK(!"connect to the epoll server");
        about_to_block(&clients_sent_first);
        free(out);
        free(in);
        return NULL;
    }
    for (int m = 0; m < NMSGS; m++) {
        const size_t n = msg_size(c->id, m);
        for (size_t k = 0; k < n; k++) {
            out[k] = msg_byte(c->id, m, k);
        }
        CHECK_OK(send_all(fd, out, n));
        if (m == 0) {
            about_to_block(&clients_sent_first);
        }
        size_t got = 0;
        while (got < n) {
            const ssize_t r = recv(fd, in + got, n - got, 0);
            if (r <= 0) {
                CHECK(!"recv of the echo");
                break;
            }
            got += (size_t)r;
        }
        if (got == n && memcmp(in, out, n) == 0) {
            c->msgs_ok++;
            c->bytes += (long long)n;
        } else {
            check_fail(__FILE__, __LINE__, 0,
                       "client %d message %d: echo differs", c->id, m);
        }
    }
    CHECK_OK(shutdown(fd, SHUT_WR));
    c->eof_seen = recv(fd, in, 1, 0) == 0;
    CHECK_OK(close(fd));
    free(out);
    free(in);
    return NULL;
}

/* ---- threads blocked in read and in sleep --------------------------- */

struct reader {
    int fd;
    char got;
    ssize_t r;
};

static void *reader_main(void *arg)
{
    struct reader *rd = arg;

    about_to_block(&readers_started);
    do {
        rd->r = read(rd->fd, &rd->got, 1);
    } while (rd->r == -1 && errno == EINTR);
    return NULL;
}

static void *sleeper_main(void *arg)
{
    int *naps = arg;
    const struct timespec nap = { 0, 20 * 1000 * 1000 };

    about_to_block(&sleepers_started);
    while (!LOAD(&stop_sleepers)) {
        CHECK_OK(nanosleep(&nap, NULL));
        (*naps)++;
    }
    return NULL;
}

/* ---- a second epoll instance, watched by another thread ------------- */

#define NWATCHED 3

struct watcher {
    int epfd;
    int rfd[NWATCHED];
    int tokens[NWATCHED];           /* bytes read from each pipe */
    int quit_seen;
    int early_timeout;              /* first 20 ms wait returned 0 */
    int early_waited;
    int bad_events;
};

static void *watcher_main(void *arg)
{
    struct watcher *w = arg;
    struct epoll_event ev[4];
    long long start = now_ns(CLOCK_MONOTONIC);

    int n = epoll_wait(w->epfd, ev, 4, 20);
    w->early_timeout = n == 0;
    w->early_waited = now_ns(CLOCK_MONOTONIC) - start >= 20 * 1000000LL;
    about_to_block(&watcher_started);
    while (!w->quit_seen) {
        n = epoll_wait(w->epfd, ev, 4, 10000);
        if (n <= 0) {
            CHECK(!"watcher: epoll_wait returned nothing in 10 s");
            break;
        }
        for (int i = 0; i < n; i++) {
            const unsigned k = ev[i].data.u32;
            char buf[64];
            if (k >= NWATCHED || !(ev[i].events & EPOLLIN)) {
                w->bad_events++;
                continue;
            }
            const ssize_t r = read(w->rfd[k], buf, sizeof buf);
            for (ssize_t j = 0; j < r; j++) {
                if (buf[j] == 'q') {
                    w->quit_seen = 1;
                } else {
                    w->tokens[k]++;
                }
            }
        }
    }
    return NULL;
}

/* ---- checks before the loop ----------------------------------------- */

static void errors(void)
{
    struct epoll_event ev = { .events = EPOLLIN }, out[2];
    int p[2];
    const int epfd = epoll_create1(EPOLL_CLOEXEC);

    CHECK(epfd >= 0);
    CHECK_OK(pipe(p));
    REPORT_ERRNO("epoll_create1 bad flags", epoll_create1(12345), EINVAL);
    REPORT_ERRNO("epoll_create size 0", epoll_create(0), EINVAL);
    REPORT_ERRNO("epoll_ctl ADD", epoll_ctl(epfd, EPOLL_CTL_ADD, p[0], &ev),
                 0);
    REPORT_ERRNO("epoll_ctl ADD again",
                 epoll_ctl(epfd, EPOLL_CTL_ADD, p[0], &ev), EEXIST);
    REPORT_ERRNO("epoll_ctl MOD unregistered",
                 epoll_ctl(epfd, EPOLL_CTL_MOD, p[1], &ev), ENOENT);
    REPORT_ERRNO("epoll_ctl DEL unregistered",
                 epoll_ctl(epfd, EPOLL_CTL_DEL, p[1], NULL), ENOENT);
    REPORT_ERRNO("epoll_ctl ADD the epoll fd to itself",
                 epoll_ctl(epfd, EPOLL_CTL_ADD, epfd, &ev), EINVAL);
    REPORT_ERRNO("epoll_ctl on a pipe as the epoll fd",
                 epoll_ctl(p[0], EPOLL_CTL_ADD, p[1], &ev), EINVAL);
    REPORT_ERRNO("epoll_wait maxevents 0", epoll_wait(epfd, out, 0, 10),
                 EINVAL);
    REPORT_ERRNO("epoll_wait on a pipe", epoll_wait(p[0], out, 2, 10),
                 EINVAL);
    REPORT_ERRNO("epoll_wait bad events pointer",
                 epoll_wait(epfd, bad_address, 2, 10), 0);
    CHECK_OK(write(p[1], "x", 1));
    REPORT_ERRNO("epoll_wait bad events pointer, one ready",
                 epoll_wait(epfd, bad_address, 2, 10), EFAULT);
    CHECK_OK(close(epfd));
    REPORT_ERRNO("epoll_wait on a closed fd", epoll_wait(epfd, out, 2, 10),
                 EBADF);
    REPORT_ERRNO("epoll_ctl on a closed epoll fd",
                 epoll_ctl(epfd, EPOLL_CTL_ADD, p[0], &ev), EBADF);
    CHECK_OK(close(p[0]));
    CHECK_OK(close(p[1]));
}

static void timeouts(void)
{
    struct epoll_event out[4];
    int p[2];
    const int epfd = epoll_create1(0);
    sigset_t mask;

    CHECK_OK(pipe(p));
    long long start = now_ns(CLOCK_MONOTONIC);
    int n = epoll_wait(epfd, out, 4, 50);
    printf("epoll_wait empty set, 50 ms: %d, waited 50 ms: %s\n", n,
           yes(now_ns(CLOCK_MONOTONIC) - start >= 50 * 1000000LL));
    CHECK_EQ(n, 0);

    struct epoll_event ev = { .events = EPOLLIN, .data.u32 = 7 };
    CHECK_OK(epoll_ctl(epfd, EPOLL_CTL_ADD, p[0], &ev));
    start = now_ns(CLOCK_MONOTONIC);
    n = epoll_wait(epfd, out, 4, 30);
    printf("epoll_wait empty pipe, 30 ms: %d, waited 30 ms: %s\n", n,
           yes(now_ns(CLOCK_MONOTONIC) - start >= 30 * 1000000LL));
    CHECK_EQ(n, 0);

    n = epoll_wait(epfd, out, 4, 0);
    printf("epoll_wait empty pipe, timeout 0: %d\n", n);

    sigemptyset(&mask);
    sigaddset(&mask, SIGUSR2);
    start = now_ns(CLOCK_MONOTONIC);
    n = epoll_pwait(epfd, out, 4, 40, &mask);
    printf("epoll_pwait empty pipe with a mask, 40 ms: %d, waited 40 ms: "
           "%s\n", n, yes(now_ns(CLOCK_MONOTONIC) - start >= 40 * 1000000LL));
    CHECK_EQ(n, 0);

    const struct timespec ts = { 0, 30 * 1000 * 1000 };
    start = now_ns(CLOCK_MONOTONIC);
    n = epoll_pwait2(epfd, out, 4, &ts, NULL);
    printf("epoll_pwait2 empty pipe, 30 ms: %d, waited 30 ms: %s\n", n,
           yes(now_ns(CLOCK_MONOTONIC) - start >= 30 * 1000000LL));
    CHECK_EQ(n, 0);

    CHECK_OK(write(p[1], "ab", 2));
    n = epoll_wait(epfd, out, 4, 1000);
    printf("epoll_wait ready pipe: %d, tag %u, IN %s\n", n,
           n == 1 ? out[0].data.u32 : 0u,
           yes(n == 1 && (out[0].events & EPOLLIN)));
    CHECK_EQ(n, 1);
    /* Level-triggered: still ready while data is left. */
    n = epoll_wait(epfd, out, 4, 1000);
    printf("epoll_wait level-triggered, still unread: %d\n", n);

    /* Edge-triggered: one report per arrival. */
    ev = (struct epoll_event){ .events = EPOLLIN | EPOLLET, .data.u32 = 8 };
    CHECK_OK(epoll_ctl(epfd, EPOLL_CTL_MOD, p[0], &ev));
    n = epoll_wait(epfd, out, 4, 1000);
    printf("epoll_wait after MOD to edge-triggered: %d, tag %u\n", n,
           n == 1 ? out[0].data.u32 : 0u);
    start = now_ns(CLOCK_MONOTONIC);
    n = epoll_wait(epfd, out, 4, 30);
    printf("epoll_wait edge-triggered, no new data, 30 ms: %d, waited "
           "30 ms: %s\n", n,
           yes(now_ns(CLOCK_MONOTONIC) - start >= 30 * 1000000LL));

    /* One-shot: reported once, then disabled until MOD re-arms it. */
    ev = (struct epoll_event){ .events = EPOLLIN | EPOLLONESHOT,
                               .data.u32 = 9 };
    CHECK_OK(epoll_ctl(epfd, EPOLL_CTL_MOD, p[0], &ev));
    n = epoll_wait(epfd, out, 4, 1000);
    printf("epoll_wait one-shot: %d, tag %u\n", n,
           n == 1 ? out[0].data.u32 : 0u);
    n = epoll_wait(epfd, out, 4, 30);
    printf("epoll_wait one-shot, disarmed, 30 ms: %d\n", n);
    REPORT_ERRNO("epoll_ctl MOD re-arms",
                 epoll_ctl(epfd, EPOLL_CTL_MOD, p[0], &ev), 0);
    n = epoll_wait(epfd, out, 4, 1000);
    printf("epoll_wait one-shot re-armed: %d\n", n);
    REPORT_ERRNO("epoll_ctl DEL", epoll_ctl(epfd, EPOLL_CTL_DEL, p[0], NULL),
                 0);
    n = epoll_wait(epfd, out, 4, 30);
    printf("epoll_wait after DEL, 30 ms: %d\n", n);
    CHECK_OK(close(p[0]));
    CHECK_OK(close(p[1]));
    CHECK_OK(close(epfd));
}

/* A registered fd disappears from the set only when its open file
 * description is released: close(2) of its only number does that, close of
 * one of two numbers does not. */
static void closed_while_registered(void)
{
    struct epoll_event out[4];
    int p[2], q[2];
    const int epfd = epoll_create1(0);

    CHECK_OK(pipe(p));
    CHECK_OK(pipe(q));
    struct epoll_event ev = { .events = EPOLLIN, .data.u32 = 1 };
    CHECK_OK(epoll_ctl(epfd, EPOLL_CTL_ADD, p[0], &ev));
    ev.data.u32 = 2;
    CHECK_OK(epoll_ctl(epfd, EPOLL_CTL_ADD, q[0], &ev));
    CHECK_OK(write(p[1], "x", 1));
    CHECK_OK(write(q[1], "y", 1));
    int n = epoll_wait(epfd, out, 4, 1000);
    printf("two ready pipes: %d\n", n);

    const int old = p[0];
    CHECK_OK(close(p[0]));
    n = epoll_wait(epfd, out, 4, 1000);
    printf("after close of the first read end: %d, tag %u\n", n,
           n == 1 ? out[0].data.u32 : 0u);
    REPORT_ERRNO("epoll_ctl DEL of the closed number",
                 epoll_ctl(epfd, EPOLL_CTL_DEL, old, NULL), EBADF);

    const int d = dup(q[0]);
    CHECK(d >= 0);
    CHECK_OK(close(q[0]));
    n = epoll_wait(epfd, out, 4, 1000);
    printf("after close of the second read end, a dup still open: %d, "
           "tag %u\n", n, n == 1 ? out[0].data.u32 : 0u);
    REPORT_ERRNO("epoll_ctl DEL through the dup",
                 epoll_ctl(epfd, EPOLL_CTL_DEL, d, NULL), ENOENT);
    CHECK_OK(close(d));
    long long start = now_ns(CLOCK_MONOTONIC);
    n = epoll_wait(epfd, out, 4, 30);
    printf("after close of the dup too, 30 ms: %d, waited 30 ms: %s\n", n,
           yes(now_ns(CLOCK_MONOTONIC) - start >= 30 * 1000000LL));
    CHECK_OK(close(p[1]));
    CHECK_OK(close(q[1]));
    CHECK_OK(close(epfd));
}

/* epoll_pwait's mask: a signal sent to this thread stays pending while the
 * mask blocks it (the wait times out, the handler runs as the call
 * returns), and ends the wait with EINTR when the mask lets it through. */
static int usr2_runs;

static void on_usr2(int sig)
{
    (void)sig;
    ADD(&usr2_runs, 1);
}

/* Sends SIGUSR2 to main once main said it is about to wait and sleeps
 * in epoll_pwait. */
struct kicker {
    pthread_t target;
    pid_t tid;
    struct handshake waiting;
};

static void *kick_main(void *arg)
{
    struct kicker *k = arg;

    hs_wait(&k->waiting);
    wait_blocked(k->tid);
    CHECK_RC(pthread_kill(k->target, SIGUSR2));
    return NULL;
}

static void pwait_mask(void)
{
    struct sigaction sa = { .sa_handler = on_usr2 };
    struct epoll_event out[2];
    sigset_t block, none, old;
    pthread_t t;
    int p[2];
    const int epfd = epoll_create1(0);

    CHECK_OK(pipe(p));
    struct epoll_event ev = { .events = EPOLLIN };
    CHECK_OK(epoll_ctl(epfd, EPOLL_CTL_ADD, p[0], &ev));
    sigemptyset(&sa.sa_mask);
    CHECK_OK(sigaction(SIGUSR2, &sa, NULL));
    sigemptyset(&block);
    sigaddset(&block, SIGUSR2);
    sigemptyset(&none);

    struct kicker k = { .target = pthread_self(), .tid = gettid() };
    hs_init(&k.waiting);
    CHECK_RC(pthread_create(&t, NULL, kick_main, &k));
    long long start = now_ns(CLOCK_MONOTONIC);
    hs_post(&k.waiting);
    int n = epoll_pwait(epfd, out, 2, 100, &block);
    int runs = LOAD(&usr2_runs);
    printf("epoll_pwait, mask blocks SIGUSR2, signal sent: %d %s, waited "
           "100 ms: %s, handler ran on return: %d\n", n,
           errno_name(n == -1 ? errno : 0),
           yes(now_ns(CLOCK_MONOTONIC) - start >= 100 * 1000000LL), runs);
    CHECK_EQ(n, 0);
    CHECK_RC(pthread_join(t, NULL));

    CHECK_OK(pthread_sigmask(SIG_BLOCK, &block, &old));
    CHECK_RC(pthread_create(&t, NULL, kick_main, &k));
    hs_post(&k.waiting);
    n = epoll_pwait(epfd, out, 2, 5000, &none);
    const int e = errno;
    runs = LOAD(&usr2_runs);
    printf("epoll_pwait, mask lets SIGUSR2 in, signal sent: %d %s, "
           "handler runs: %d\n", n, errno_name(n == -1 ? e : 0), runs);
    CHECK_EQ(n, -1);
    CHECK_EQ(e, EINTR);
    CHECK_RC(pthread_join(t, NULL));
    CHECK_OK(pthread_sigmask(SIG_SETMASK, &old, NULL));
    hs_destroy(&k.waiting);
    CHECK_OK(close(p[0]));
    CHECK_OK(close(p[1]));
    CHECK_OK(close(epfd));
}

/* ---- the echo server's loop ----------------------------------------- */

enum kind { LEVEL, EDGE, ONESHOT };

static const char *const kind_names[] = { "level", "edge", "oneshot" };

struct conn {
    int fd;
    enum kind kind;
    int open;
    unsigned char *out;             /* received, not yet sent back */
    size_t outlen, outoff, cap;
    int want_out;                   /* EPOLLOUT in its events */
    long long echoed;
};

static struct conn conns[NCLIENTS];
static int nconns;

static uint32_t conn_events(const struct conn *c)
{
    uint32_t e = EPOLLIN | EPOLLRDHUP;
    if (c->want_out) {
        e |= EPOLLOUT;
    }
    if (c->kind == EDGE) {
        e |= EPOLLET;
    }
    if (c->kind == ONESHOT) {
        e |= EPOLLONESHOT;
    }
    return e;
}

static void conn_ctl(int epfd, struct conn *c, int op)
{
    struct epoll_event ev = { .events = conn_events(c),
                              .data.u64 = (uint64_t)(c - conns) };
    CHECK_OK(epoll_ctl(epfd, op, c->fd, &ev));
}

/* Send what is pending; 0, or -1 when the peer is gone. */
static int conn_flush(struct conn *c)
{
    while (c->outoff < c->outlen) {
        const ssize_t w = send(c->fd, c->out + c->outoff,
                               c->outlen - c->outoff, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EAGAIN) {
                return 0;
            }
            CHECK(!"send from the epoll loop");
            return -1;
        }
        c->outoff += (size_t)w;
        c->echoed += w;
    }
    c->outoff = c->outlen = 0;
    return 0;
}

/* Serve one event; returns 1 when the connection was closed. */
static int conn_event(int epfd, struct conn *c, uint32_t events, int *eofs)
{
    int eof = 0;

    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
        /* Level and one-shot read one buffer per event and rely on being
         * told again; edge-triggered must drain until EAGAIN. */
        for (;;) {
            if (c->cap - c->outlen < 4096) {
                c->cap = c->cap * 2 + 4096;
                c->out = realloc(c->out, c->cap);
                CHECK(c->out != NULL);
            }
            const ssize_t r = recv(c->fd, c->out + c->outlen, 4096, 0);
            if (r > 0) {
                c->outlen += (size_t)r;
                if (c->kind != EDGE) {
                    break;
                }
            } else if (r == 0) {
                eof = 1;
                break;
            } else {
                CHECK_EQ(errno, EAGAIN);
                break;
            }
        }
    }
    if (conn_flush(c) != 0) {
        eof = 1;
    }
    if (eof) {
        CHECK_EQ(c->outlen, 0);
        (*eofs)++;
        /* Half the connections leave the set by epoll_ctl DEL, the other
         * half by close alone. */
        if ((c - conns) % 2 == 0) {
            CHECK_OK(epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL));
        }
        CHECK_OK(close(c->fd));
        c->open = 0;
        free(c->out);
        c->out = NULL;
        return 1;
    }
    const int want = c->outlen > 0;
    if (want != c->want_out || c->kind == ONESHOT) {
        c->want_out = want;
        conn_ctl(epfd, c, EPOLL_CTL_MOD);
    }
    return 0;
}

static void accept_all(int epfd, int lfd)
{
    for (;;) {
        const int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            CHECK_EQ(errno, EAGAIN);
            return;
        }
        if (nconns == NCLIENTS) {
            CHECK(!"more connections than clients");
            close(fd);
            continue;
        }
        struct conn *c = &conns[nconns];
        c->fd = fd;
        c->kind = (enum kind)(nconns % 3);
        c->open = 1;
        nconns++;
        conn_ctl(epfd, c, EPOLL_CTL_ADD);
    }
}

static void serve(int epfd, int lfd, int wake_fd[NWATCHED])
{
    struct epoll_event ev[16];
    sigset_t mask;
    int closed = 0, eofs = 0, empty_waits = 0, iter = 0, bad = 0;

    sigemptyset(&mask);
    sigaddset(&mask, SIGUSR2);
    while (closed < NCLIENTS) {
        /* Alternate the two calls, as programs built on either do. */
        const int n = iter++ % 2
            ? epoll_pwait(epfd, ev, 16, 500, &mask)
            : epoll_wait(epfd, ev, 16, 500);
        if (n < 0) {
            CHECK(!"epoll_wait in the loop");
            break;
        }
        if (n == 0 && ++empty_waits > 20) {
            CHECK(!"the loop timed out 20 times in a row");
            break;
        }
        if (n > 0) {
            empty_waits = 0;
        }
        for (int i = 0; i < n; i++) {
            if (ev[i].data.u64 == LISTEN_TAG) {
                accept_all(epfd, lfd);
                continue;
            }
            if (ev[i].data.u64 >= (uint64_t)nconns
                || !conns[ev[i].data.u64].open) {
                bad++;
                continue;
            }
            struct conn *c = &conns[ev[i].data.u64];
            if (conn_event(epfd, c, ev[i].events, &eofs)) {
                closed++;
                /* Tell the watcher thread, through its own epoll set. */
                CHECK_EQ(write(wake_fd[closed % NWATCHED], "t", 1), 1);
            }
        }
    }
    long long echoed = 0;
    int per_kind[3] = { 0, 0, 0 };
    for (int i = 0; i < nconns; i++) {
        echoed += conns[i].echoed;
        per_kind[conns[i].kind]++;
    }
    printf("server: accepted %d (%d %s, %d %s, %d %s), closed %d at EOF, "
           "echoed %lld bytes, events for closed connections: %d\n",
           nconns, per_kind[0], kind_names[0], per_kind[1], kind_names[1],
           per_kind[2], kind_names[2], eofs, echoed, bad);
    CHECK_EQ(bad, 0);

    /* Every connection is gone from the set; only the listener is left. */
    long long start = now_ns(CLOCK_MONOTONIC);
    const int n = epoll_wait(epfd, ev, 16, 30);
    printf("epoll_wait after all connections closed, 30 ms: %d, waited "
           "30 ms: %s\n", n,
           yes(now_ns(CLOCK_MONOTONIC) - start >= 30 * 1000000LL));
}

static void echo_loop(const char *hold)
{
    pthread_t clients_t[NCLIENTS], readers_t[NREADERS], sleepers_t[NSLEEPERS];
    pthread_t watcher_t;
    struct client clients[NCLIENTS];
    struct reader readers[NREADERS];
    int reader_pipes[NREADERS][2], naps[NSLEEPERS] = { 0 };
    struct watcher w = { .quit_seen = 0 };
    int wake_fd[NWATCHED];

    hs_init(&blocking);

    /* The server's listening socket, before any client exists. */
    const int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    CHECK(lfd >= 0);
    server_addr = (struct sockaddr_in){ .sin_family = AF_INET,
                                        .sin_port = 0 };
    server_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof server_addr;
    CHECK_OK(bind(lfd, (struct sockaddr *)&server_addr, sizeof server_addr));
    CHECK_OK(listen(lfd, 128));
    CHECK_OK(getsockname(lfd, (struct sockaddr *)&server_addr, &len));
    const int epfd = epoll_create1(EPOLL_CLOEXEC);
    CHECK(epfd >= 0);
    struct epoll_event lev = { .events = EPOLLIN, .data.u64 = LISTEN_TAG };
    CHECK_OK(epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &lev));

    /* The watcher and its epoll instance. */
    w.epfd = epoll_create1(0);
    CHECK(w.epfd >= 0);
    for (int k = 0; k < NWATCHED; k++) {
        int p[2];
        CHECK_OK(pipe(p));
        w.rfd[k] = p[0];
        wake_fd[k] = p[1];
        struct epoll_event ev = { .events = EPOLLIN | (k == 1 ? EPOLLET : 0),
                                  .data.u32 = (uint32_t)k };
        CHECK_OK(epoll_ctl(w.epfd, EPOLL_CTL_ADD, p[0], &ev));
    }
    CHECK_RC(pthread_create(&watcher_t, NULL, watcher_main, &w));
    for (int i = 0; i < NREADERS; i++) {
        CHECK_OK(pipe(reader_pipes[i]));
        readers[i] = (struct reader){ .fd = reader_pipes[i][0] };
        CHECK_RC(pthread_create(&readers_t[i], NULL, reader_main,
                                &readers[i]));
    }
    for (int i = 0; i < NSLEEPERS; i++) {
        CHECK_RC(pthread_create(&sleepers_t[i], NULL, sleeper_main,
                                &naps[i]));
    }
    for (int i = 0; i < NCLIENTS; i++) {
        clients[i] = (struct client){ .id = i };
        CHECK_RC(pthread_create(&clients_t[i], NULL, client_main,
                                &clients[i]));
    }

    /* Nothing accepts yet: the clients connect (the backlog completes the
     * handshake), send their first message and block in recv. */
    for (int i = 0; i < NBLOCKED; i++) {
        hs_wait(&blocking);
    }
    for (int i = 0; i < NBLOCKED; i++) {
        wait_blocked(blocked_tid[i]);
    }
    printf("blocked: %d clients in recv, %d readers in read, %d sleepers, "
           "1 epoll watcher\n", LOAD(&clients_sent_first),
           LOAD(&readers_started), LOAD(&sleepers_started));
    if (hold != NULL) {
        wait_for_file(hold, 25);
    }

    serve(epfd, lfd, wake_fd);

    long long total = 0;
    for (int i = 0; i < NCLIENTS; i++) {
        CHECK_RC(pthread_join(clients_t[i], NULL));
        printf("client %d: %d/%d messages echoed byte for byte, %lld bytes, "
               "EOF after shutdown: %s\n", i, clients[i].msgs_ok, NMSGS,
               clients[i].bytes, yes(clients[i].eof_seen));
        CHECK_EQ(clients[i].msgs_ok, NMSGS);
        CHECK(clients[i].eof_seen);
        total += clients[i].bytes;
    }

    for (int i = 0; i < NREADERS; i++) {
        CHECK_EQ(write(reader_pipes[i][1], "0123456789" + i, 1), 1);
    }
    for (int i = 0; i < NREADERS; i++) {
        CHECK_RC(pthread_join(readers_t[i], NULL));
        printf("reader %d: read %zd byte '%c'\n", i, readers[i].r,
               readers[i].r == 1 ? readers[i].got : '?');
        CHECK_EQ(readers[i].r, 1);
        CHECK_OK(close(reader_pipes[i][0]));
        CHECK_OK(close(reader_pipes[i][1]));
    }
    STORE(&stop_sleepers, 1);
    for (int i = 0; i < NSLEEPERS; i++) {
        CHECK_RC(pthread_join(sleepers_t[i], NULL));
        printf("sleeper %d: slept at least once: %s\n", i, yes(naps[i] > 0));
    }

    CHECK_EQ(write(wake_fd[0], "q", 1), 1);
    CHECK_RC(pthread_join(watcher_t, NULL));
    printf("watcher: first 20 ms wait returned 0: %s, waited 20 ms: %s\n",
           yes(w.early_timeout), yes(w.early_waited));
    printf("watcher: tokens %d + %d + %d = %d (edge-triggered pipe in the "
           "middle), quit seen: %s, bad events: %d\n", w.tokens[0],
           w.tokens[1], w.tokens[2], w.tokens[0] + w.tokens[1] + w.tokens[2],
           yes(w.quit_seen), w.bad_events);
    CHECK_EQ(w.tokens[0] + w.tokens[1] + w.tokens[2], NCLIENTS);
    for (int k = 0; k < NWATCHED; k++) {
        CHECK_OK(close(w.rfd[k]));
        CHECK_OK(close(wake_fd[k]));
    }
    CHECK_OK(close(w.epfd));
    CHECK_OK(close(epfd));
    CHECK_OK(close(lfd));

    printf("summary: %d clients x %d messages, %lld bytes echoed, %d "
           "readers, %d sleepers, 1 watcher\n", NCLIENTS, NMSGS, total,
           NREADERS, NSLEEPERS);
    hs_destroy(&blocking);
}

static const struct section sections[] = {
    { "errors", errors },
    { "timeouts", timeouts },
    { "closed", closed_while_registered },
    { "pwait", pwait_mask },
    { "loop", NULL },           /* echo_loop(hold) */
};
#define NSECTIONS (sizeof sections / sizeof sections[0])

int main(int argc, char **argv)
{
    const char *hold = NULL;
    size_t chosen[16], n = 0;

    for (int a = 1; a < argc; a++) {
        if (strcmp(argv[a], "--hold") == 0 && a + 1 < argc) {
            hold = argv[++a];
            continue;
        }
        size_t i = 0;
        while (i < NSECTIONS && strcmp(argv[a], sections[i].name) != 0) {
            i++;
        }
        if (i == NSECTIONS || n == 16) {
            fprintf(stderr, "usage: %s [--hold HOLD_FILE] [errors | "
                    "timeouts | closed | pwait | loop]...\n", argv[0]);
            return 2;
        }
        chosen[n++] = i;
    }
    if (n == 0) {
        for (size_t i = 0; i < NSECTIONS; i++) {
            chosen[n++] = i;
        }
    }
    alarm(30);
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (size_t k = 0; k < n; k++) {
        if (sections[chosen[k]].run != NULL) {
            sections[chosen[k]].run();
        } else {
            echo_loop(hold);
        }
    }
    return check_exit_status();
}
