/* SPDX-License-Identifier: MIT */
/* fork-exec: fork or vfork, then exec, from 8 threads at once while 4
 * other threads echo over a TCP loopback connection.
 *
 * Each of 8 threads runs 5 children: fork (thread 7: vfork, thread 6: a
 * raw syscall(SYS_fork)), then in the child execl("/bin/sh", "sh", "-c",
 * "exit N") with N distinct per thread and iteration (the first child of each thread sleeps 0.1 s first, so
 * that children are certainly running while the echo goes on); the parent
 * waits with waitpid and checks the exit status.  Meanwhile a server
 * thread in the same program accepts 4 connections on 127.0.0.1 (an
 * ephemeral port) and echoes each on its own thread, 4 client threads
 * count round trips, and a ticker thread counts its ticks while children
 * run.  At the end, per thread in thread order, the statuses seen, and
 * whether the echo and the ticker advanced while the children ran.  Every
 * loop is bounded (the echo stops after 30 s whatever happens).
 * Exit status: 0 only when every check passed.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "check.h"

#define FORKERS 8
#define ROUNDS 5
#define ECHOERS 4
#define MSG 64

static int listen_fd;
static int port;
static int stop_echo;              /* atomic */
static long round_trips[ECHOERS];  /* atomic */
static int children_running;       /* atomic */
static long ticks_with_children;   /* atomic */
static int exit_seen[FORKERS][ROUNDS];
static long echo_during_children;  /* atomic: round trips while waiting */

static long total_round_trips(void)
{
    long n = 0;
    for (int i = 0; i < ECHOERS; i++) {
        n += LOAD(&round_trips[i]);
    }
    return n;
}

static int exit_code(int t, int r)
{
    return 10 + t * ROUNDS + r;   /* 10 .. 49, distinct */
}

static void *serve(void *arg)
{
    const int fd = (int)(intptr_t)arg;
    char buf[MSG];

    for (;;) {
        const ssize_t n = read(fd, buf, sizeof buf);
        if (n == 0) {
            break;
        }
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            CHECK_OK(n);
            break;
        }
        for (ssize_t off = 0; off < n;) {
            const ssize_t w = write(fd, buf + off, (size_t)(n - off));
            if (w < 0 && errno == EINTR) {
                continue;
            }
            if (w < 0) {
                CHECK_OK(w);
                goto out;
            }
            off += w;
        }
    }
out:
    close(fd);
    return NULL;
}

/* Accepts ECHOERS connections and serves each on its own thread. */
static void *server(void *arg)
{
    pthread_t th[ECHOERS];

    (void)arg;
    for (int i = 0; i < ECHOERS; i++) {
        int fd;
        do {
            fd = accept(listen_fd, NULL, NULL);
        } while (fd == -1 && errno == EINTR);
        CHECK_OK(fd);
        CHECK_RC(pthread_create(&th[i], NULL, serve, (void *)(intptr_t)fd));
    }
    for (int i = 0; i < ECHOERS; i++) {
        CHECK_RC(pthread_join(th[i], NULL));
    }
    return NULL;
}

static int read_full(int fd, char *buf, size_t n)
{
    for (size_t got = 0; got < n;) {
        const ssize_t r = read(fd, buf + got, n - got);
        if (r == -1 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            return -1;
        }
        got += (size_t)r;
    }
    return 0;
}

static void *echo_client(void *arg)
{
    const int i = (int)(intptr_t)arg;
    struct sockaddr_in sa = { .sin_family = AF_INET,
                              .sin_port = htons((uint16_t)port) };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK_OK(fd);
    CHECK_OK(connect(fd, (struct sockaddr *)&sa, sizeof sa));
    const int one = 1;
    CHECK_OK(setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one));

    const long long deadline = now_ns(CLOCK_MONOTONIC) + 30000000000LL;
    char out[MSG], in[MSG];
    long n = 0;
    while (!LOAD(&stop_echo) && now_ns(CLOCK_MONOTONIC) < deadline) {
        memset(out, 'a' + (int)((n + i) % 26), sizeof out);
        if (write(fd, out, sizeof out) != (ssize_t)sizeof out) {
            CHECK(!"echo write");
            break;
        }
        if (read_full(fd, in, sizeof in) != 0) {
            CHECK(!"echo read");
            break;
        }
        CHECK(memcmp(in, out, sizeof in) == 0);
        n++;
        STORE(&round_trips[i], n);
    }
    CHECK(LOAD(&stop_echo));   /* not the deadline */
    close(fd);
    return NULL;
}

static void *ticker(void *arg)
{
    (void)arg;
    const long long deadline = now_ns(CLOCK_MONOTONIC) + 30000000000LL;
    while (!LOAD(&stop_echo) && now_ns(CLOCK_MONOTONIC) < deadline) {
        const int before = LOAD(&children_running);
        usleep(5000);
        if (before > 0 && LOAD(&children_running) > 0) {
            ADD(&ticks_with_children, 1);
        }
    }
    return NULL;
}

static void *forker(void *arg)
{
    const int t = (int)(intptr_t)arg;
    const int use_vfork = t == FORKERS - 1;
    const int use_raw = t == FORKERS - 2;   /* syscall(SYS_fork) */

    for (int r = 0; r < ROUNDS; r++) {
        char cmd[64];
        snprintf(cmd, sizeof cmd, "%sexit %d", r == 0 ? "sleep 0.1; " : "",
                 exit_code(t, r));
        ADD(&children_running, 1);
        const pid_t pid = use_vfork ? vfork()
                          : use_raw ? (pid_t)syscall(SYS_fork) : fork();
        if (pid == 0) {
            execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
            _exit(127);
        }
        if (pid == -1) {
            CHECK_OK(pid);
            ADD(&children_running, -1);
            exit_seen[t][r] = -1;
            continue;
        }
        const long echo_before = total_round_trips();
        int st = 0;
        pid_t w;
        do {
            w = waitpid(pid, &st, 0);
        } while (w == -1 && errno == EINTR);
        ADD(&echo_during_children, total_round_trips() - echo_before);
        ADD(&children_running, -1);
        CHECK_EQ(w, pid);
        CHECK(WIFEXITED(st));
        CHECK_EQ(WEXITSTATUS(st), exit_code(t, r));
        exit_seen[t][r] = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    }
    return NULL;
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);

    listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK_OK(listen_fd);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = 0 };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK_OK(bind(listen_fd, (struct sockaddr *)&sa, sizeof sa));
    CHECK_OK(listen(listen_fd, 16));
    socklen_t len = sizeof sa;
    CHECK_OK(getsockname(listen_fd, (struct sockaddr *)&sa, &len));
    port = ntohs(sa.sin_port);

    pthread_t srv, echo[ECHOERS], tick, fk[FORKERS];
    CHECK_RC(pthread_create(&srv, NULL, server, NULL));
    for (int i = 0; i < ECHOERS; i++) {
        CHECK_RC(pthread_create(&echo[i], NULL, echo_client,
                                (void *)(intptr_t)i));
    }
    /* The echo is going before the first fork. */
    for (int i = 0; i < 1000 && total_round_trips() < ECHOERS; i++) {
        usleep(10000);
    }
    CHECK_RC(pthread_create(&tick, NULL, ticker, NULL));

    fflush(stdout);
    for (int t = 0; t < FORKERS; t++) {
        CHECK_RC(pthread_create(&fk[t], NULL, forker, (void *)(intptr_t)t));
    }
    for (int t = 0; t < FORKERS; t++) {
        CHECK_RC(pthread_join(fk[t], NULL));
    }

    STORE(&stop_echo, 1);
    for (int i = 0; i < ECHOERS; i++) {
        CHECK_RC(pthread_join(echo[i], NULL));
    }
    CHECK_RC(pthread_join(tick, NULL));
    CHECK_RC(pthread_join(srv, NULL));
    close(listen_fd);

    for (int t = 0; t < FORKERS; t++) {
        printf("thread %d (%s): exit statuses", t,
               t == FORKERS - 1 ? "vfork"
               : t == FORKERS - 2 ? "syscall(SYS_fork)" : "fork");
        for (int r = 0; r < ROUNDS; r++) {
            printf(" %d", exit_seen[t][r]);
        }
        printf("\n");
    }
    for (int i = 0; i < ECHOERS; i++) {
        printf("echo client %d made round trips: %s\n", i,
               LOAD(&round_trips[i]) > 0 ? "yes" : "no");
        CHECK(LOAD(&round_trips[i]) > 0);
    }
    printf("echo advanced during forks: %s\n",
           LOAD(&echo_during_children) > 0 ? "yes" : "no");
    CHECK(LOAD(&echo_during_children) > 0);
    printf("ticker ticked while children ran: %s\n",
           LOAD(&ticks_with_children) >= 3 ? "yes" : "no");
    CHECK(LOAD(&ticks_with_children) >= 3);
    return check_exit_status();
}
