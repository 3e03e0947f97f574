/* SPDX-License-Identifier: MIT */
/* fork-exec [--hold PATH]: fork or vfork, then exec, from 8 threads at
 * once while 4 other threads echo over a TCP loopback connection.
 *
 * Each of 8 threads runs 5 children: fork (thread 7: vfork, thread 6: a
 * raw syscall(SYS_fork)), then in the child execl("/bin/sh", "sh", "-c",
 * "exit N") with N distinct per thread and iteration; the parent waits
 * with waitpid and checks the exit status.  Meanwhile a server thread in
 * the same program accepts 5 connections on 127.0.0.1 (an ephemeral port)
 * and echoes each on its own thread, and 4 client threads count round
 * trips.  The first child of each thread runs "read x; exit N" on a pipe
 * whose other end goes to a releaser thread, which waits until all 8 such
 * children wait, prints so, and then releases each after 3 round trips of
 * its own over the fifth connection: each first child ends only because
 * other threads ran while its parent thread waited in waitpid and the
 * child ran (no step depends on timing).  With --hold PATH the releaser
 * waits for PATH to exist (at most 60 s) before it releases any, so that
 * a test can count kernel threads then; stdout is the same.  At the end,
 * per thread in thread order, the statuses seen, that every echo client
 * made round trips, and what the releaser saw.  Every loop is bounded
 * (the echo stops after 30 s whatever happens).
 * Exit status: 0 only when every check passed.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "check.h"
#include "handshake.h"

#define FORKERS 8
#define ROUNDS 5
#define ECHOERS 4
#define RELEASE_TRIPS 3
#define MSG 64

static const char *hold_path;
static int listen_fd;
static int port;
static int stop_echo;              /* atomic */
static long round_trips[ECHOERS + 1];  /* atomic; the last: the releaser's */
static int exit_seen[FORKERS][ROUNDS];
static long echo_during_children;  /* atomic: first children whose parent
                                    * saw RELEASE_TRIPS or more round trips
                                    * while it waited */
static struct handshake echoing;   /* an echo client made a round trip */
static int release_queue[2];       /* write ends of the first children's
                                    * stdin pipes, as ints */

static long total_round_trips(void)
{
    long n = 0;
    for (int i = 0; i <= ECHOERS; i++) {
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
    pthread_t th[ECHOERS + 1];

    (void)arg;
    for (int i = 0; i <= ECHOERS; i++) {
        int fd;
        do {
            fd = accept(listen_fd, NULL, NULL);
        } while (fd == -1 && errno == EINTR);
        CHECK_OK(fd);
        CHECK_RC(pthread_create(&th[i], NULL, serve, (void *)(intptr_t)fd));
    }
    for (int i = 0; i <= ECHOERS; i++) {
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

static int echo_connect(void)
{
    struct sockaddr_in sa = { .sin_family = AF_INET,
                              .sin_port = htons((uint16_t)port) };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK_OK(fd);
    CHECK_OK(connect(fd, (struct sockaddr *)&sa, sizeof sa));
    const int one = 1;
    CHECK_OK(setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one));
    return fd;
}

/* One echo round trip on `fd` for client `i`: 0, or -1 on failure. */
static int echo_once(int fd, int i, long n)
{
    char out[MSG], in[MSG];

    memset(out, 'a' + (int)((n + i) % 26), sizeof out);
    if (write(fd, out, sizeof out) != (ssize_t)sizeof out) {
        CHECK(!"echo write");
        return -1;
    }
    if (read_full(fd, in, sizeof in) != 0) {
        CHECK(!"echo read");
        return -1;
    }
    CHECK(memcmp(in, out, sizeof in) == 0);
    STORE(&round_trips[i], n + 1);
    return 0;
}

static void *echo_client(void *arg)
{
    const int i = (int)(intptr_t)arg;
    const int fd = echo_connect();

    const long long deadline = now_ns(CLOCK_MONOTONIC) + 30000000000LL;
    long n = 0;
    while (!LOAD(&stop_echo) && now_ns(CLOCK_MONOTONIC) < deadline) {
        if (echo_once(fd, i, n) != 0) {
            break;
        }
        if (n++ == 0) {
            hs_post(&echoing);
        }
    }
    CHECK(LOAD(&stop_echo));   /* not the deadline */
    close(fd);
    return NULL;
}

/* Releases the first child of each forker: once all FORKERS of them
 * wait, RELEASE_TRIPS round trips of its own for each, then a line on its
 * stdin. */
static long releases;              /* atomic */

static void *releaser(void *arg)
{
    int fds[FORKERS];

    (void)arg;
    const int fd = echo_connect();
    for (int k = 0; k < FORKERS; k++) {
        CHECK_EQ(read(release_queue[0], &fds[k], sizeof fds[k]),
                 (long)sizeof fds[k]);
    }
    printf("%d first children wait for the releaser\n", FORKERS);
    fflush(stdout);
    if (hold_path != NULL) {
        wait_for_file(hold_path, 60);
    }
    long n = 0;
    for (int k = 0; k < FORKERS; k++) {
        for (int t = 0; t < RELEASE_TRIPS; t++) {
            CHECK_OK(echo_once(fd, ECHOERS, n++));
        }
        CHECK_EQ(write(fds[k], "go\n", 3), 3);
        close(fds[k]);
        ADD(&releases, 1);
    }
    close(fd);
    return NULL;
}

static void *forker(void *arg)
{
    const int t = (int)(intptr_t)arg;
    const int use_vfork = t == FORKERS - 1;
    const int use_raw = t == FORKERS - 2;   /* syscall(SYS_fork) */

    for (int r = 0; r < ROUNDS; r++) {
        char cmd[64];
        int rel[2] = { -1, -1 };
        /* The first child waits for a line from the releaser. */
        snprintf(cmd, sizeof cmd, "%sexit %d", r == 0 ? "read x; " : "",
                 exit_code(t, r));
        if (r == 0) {
            CHECK_OK(pipe2(rel, O_CLOEXEC));
        }
        const pid_t pid = use_vfork ? vfork()
                          : use_raw ? (pid_t)syscall(SYS_fork) : fork();
        if (pid == 0) {
            if (r == 0) {
                dup2(rel[0], 0);    /* 0 loses O_CLOEXEC */
            }
            execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
            _exit(127);
        }
        const long echo_before = total_round_trips();
        if (r == 0) {
            close(rel[0]);
            CHECK_EQ(write(release_queue[1], &rel[1], sizeof rel[1]),
                     (long)sizeof rel[1]);
        }
        if (pid == -1) {
            CHECK_OK(pid);
            exit_seen[t][r] = -1;
            continue;
        }
        int st = 0;
        pid_t w;
        do {
            w = waitpid(pid, &st, 0);
        } while (w == -1 && errno == EINTR);
        if (r == 0 && total_round_trips() - echo_before >= RELEASE_TRIPS) {
            ADD(&echo_during_children, 1);
        }
        CHECK_EQ(w, pid);
        CHECK(WIFEXITED(st));
        CHECK_EQ(WEXITSTATUS(st), exit_code(t, r));
        exit_seen[t][r] = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--hold") == 0) {
        hold_path = argv[2];
    } else if (argc != 1) {
        fprintf(stderr, "usage: %s [--hold PATH]\n", argv[0]);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    hs_init(&echoing);
    CHECK_OK(pipe2(release_queue, O_CLOEXEC));

    listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK_OK(listen_fd);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = 0 };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK_OK(bind(listen_fd, (struct sockaddr *)&sa, sizeof sa));
    CHECK_OK(listen(listen_fd, 16));
    socklen_t len = sizeof sa;
    CHECK_OK(getsockname(listen_fd, (struct sockaddr *)&sa, &len));
    port = ntohs(sa.sin_port);

    pthread_t srv, echo[ECHOERS], rel, fk[FORKERS];
    CHECK_RC(pthread_create(&srv, NULL, server, NULL));
    for (int i = 0; i < ECHOERS; i++) {
        CHECK_RC(pthread_create(&echo[i], NULL, echo_client,
                                (void *)(intptr_t)i));
    }
    /* The echo is going before the first fork. */
    for (int i = 0; i < ECHOERS; i++) {
        hs_wait(&echoing);
    }
    CHECK_RC(pthread_create(&rel, NULL, releaser, NULL));

    fflush(stdout);
    for (int t = 0; t < FORKERS; t++) {
        CHECK_RC(pthread_create(&fk[t], NULL, forker, (void *)(intptr_t)t));
    }
    for (int t = 0; t < FORKERS; t++) {
        CHECK_RC(pthread_join(fk[t], NULL));
    }

    CHECK_RC(pthread_join(rel, NULL));
    STORE(&stop_echo, 1);
    for (int i = 0; i < ECHOERS; i++) {
        CHECK_RC(pthread_join(echo[i], NULL));
    }
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
           LOAD(&echo_during_children) == FORKERS ? "yes" : "no");
    CHECK_EQ(LOAD(&echo_during_children), FORKERS);
    printf("first children released after %d round trips each while they "
           "ran: %ld\n", RELEASE_TRIPS, LOAD(&releases));
    CHECK_EQ(LOAD(&releases), FORKERS);
    close(release_queue[0]);
    close(release_queue[1]);
    hs_destroy(&echoing);
    return check_exit_status();
}
