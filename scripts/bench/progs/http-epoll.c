/* SPDX-License-Identifier: MIT */
/* http-epoll PORT: the same keep-alive HTTP/1.1 "hello" server as
 * http-threads, written as one thread with non-blocking sockets and one
 * level-triggered epoll loop: the one-core limit that scripts/bench/http
 * holds libgreen's one kernel thread against.  An ordinary program, never
 * linked with libgreen.
 *
 * Listens on 127.0.0.1:PORT (0: the kernel picks) and prints "port N".
 * Each connection has a buffer for a partial request head and one for
 * responses not yet written; while output is pending the connection waits
 * for EPOLLOUT and reads nothing more.  Request bodies are not supported.
 * Runs until killed.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BUF_SIZE 8192
#define MAX_EVENTS 256

static const char response[] =
    "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
    "Content-Type: text/plain\r\n\r\nhello";
#define RESPONSE_LEN (sizeof response - 1)

struct conn {
    int fd;
    size_t have;           /* bytes of request data in in[] */
    size_t out_len;        /* bytes of responses in out[] */
    size_t out_done;       /* of which already written */
    int want_out;          /* registered for EPOLLOUT instead of EPOLLIN */
    char in[BUF_SIZE];
    char out[BUF_SIZE];
};

static int epfd;

static void conn_close(struct conn *c)
{
    close(c->fd); /* also removes it from the epoll set */
    free(c);
}

/* Write pending output; returns 1 when all is written, 0 when the socket
 * is full, -1 on error. */
static int conn_flush(struct conn *c)
{
    while (c->out_done < c->out_len) {
        const ssize_t w = write(c->fd, c->out + c->out_done,
                                c->out_len - c->out_done);
        if (w < 0) {
            if (errno == EINTR) {
                continue;
            }
            return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -1;
        }
        c->out_done += (size_t)w;
    }
    c->out_len = c->out_done = 0;
    return 1;
}

/* Turn complete request heads in in[] into responses in out[], as many as
 * fit; leave the rest for after the next flush. */
static void conn_parse(struct conn *c)
{
    size_t done = 0;
    const char *end;
    while (c->out_len + RESPONSE_LEN <= sizeof c->out
           && (end = memmem(c->in + done, c->have - done, "\r\n\r\n", 4))) {
        memcpy(c->out + c->out_len, response, RESPONSE_LEN);
        c->out_len += RESPONSE_LEN;
        done = (size_t)(end - c->in) + 4;
    }
    memmove(c->in, c->in + done, c->have - done);
    c->have -= done;
}

/* Wait for EPOLLOUT (out true) or EPOLLIN; returns 0, or -1 on error. */
static int conn_want(struct conn *c, int out)
{
    if (c->want_out == out) {
        return 0;
    }
    struct epoll_event ev = {.events = out ? EPOLLOUT : EPOLLIN,
                             .data.ptr = c};
    c->want_out = out;
    return epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Answer what has been read, writing until done or the socket is full;
 * returns -1 when the connection should close. */
static int conn_progress(struct conn *c)
{
    for (;;) {
        if (c->out_len > 0) {
            const int f = conn_flush(c);
            if (f < 0) {
                return -1;
            }
            if (f == 0) {
                return conn_want(c, 1);
            }
        }
        conn_parse(c);
        if (c->out_len == 0) {
            break;
        }
    }
    /* A full buffer without a complete head: too large, give up. */
    if (c->have == sizeof c->in) {
        return -1;
    }
    return conn_want(c, 0);
}

/* Handle readiness on a connection; returns -1 when it should close.  While
 * output is pending nothing more is read. */
static int conn_event(struct conn *c, uint32_t events)
{
    if (!c->want_out && (events & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
        const ssize_t r = read(c->fd, c->in + c->have,
                               sizeof c->in - c->have);
        if (r == 0) {
            return -1;
        }
        if (r < 0) {
            return (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                       ? 0 : -1;
        }
        c->have += (size_t)r;
    }
    return conn_progress(c);
}

/* Accept every pending connection on the non-blocking listen socket. */
static void accept_all(int lfd)
{
    for (;;) {
        const int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS
                || errno == ENOMEM) {
                const struct timespec ms = {0, 1000000};
                nanosleep(&ms, NULL);
            } else if (errno != EAGAIN && errno != EWOULDBLOCK
                       && errno != EINTR && errno != ECONNABORTED) {
                perror("accept4");
            }
            return;
        }
        const int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        /* malloc, not calloc: zeroing would touch every page of both
         * buffers, and the RSS comparison is against threads whose buffers
         * cost only the pages they use. */
        struct conn *c = malloc(sizeof *c);
        if (!c) {
            close(fd);
            continue;
        }
        c->fd = fd;
        c->have = c->out_len = c->out_done = 0;
        c->want_out = 0;
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
            perror("epoll_ctl");
            conn_close(c);
        }
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s PORT\n", argv[0]);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);

    const int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (lfd < 0) {
        perror("socket");
        return 1;
    }
    const int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = {
        .sin_family = AF_INET,
        .sin_port = htons((uint16_t)atoi(argv[1])),
        .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
    };
    if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        perror("bind");
        return 1;
    }
    /* The kernel silently caps the backlog at net.core.somaxconn. */
    if (listen(lfd, 65535) < 0) {
        perror("listen");
        return 1;
    }
    socklen_t len = sizeof sa;
    if (getsockname(lfd, (struct sockaddr *)&sa, &len) < 0) {
        perror("getsockname");
        return 1;
    }
    printf("port %d\n", ntohs(sa.sin_port));
    fflush(stdout);

    epfd = epoll_create1(0);
    if (epfd < 0) {
        perror("epoll_create1");
        return 1;
    }
    /* The listen socket is told apart by a NULL data pointer. */
    struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &lev) < 0) {
        perror("epoll_ctl");
        return 1;
    }
    for (;;) {
        struct epoll_event evs[MAX_EVENTS];
        const int n = epoll_wait(epfd, evs, MAX_EVENTS, -1);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            perror("epoll_wait");
            return 1;
        }
        for (int i = 0; i < n; i++) {
            struct conn *c = evs[i].data.ptr;
            if (!c) {
                accept_all(lfd);
            } else if (conn_event(c, evs[i].events) < 0) {
                conn_close(c);
            }
        }
    }
}
