/* SPDX-License-Identifier: MIT */
/* http-threads PORT: a keep-alive HTTP/1.1 "hello" server written the way a
 * legacy server is, one blocking thread per connection.  It is an ordinary
 * program for scripts/bench/http, never linked with libgreen: run natively
 * it costs a kernel thread per connection; under LD_PRELOAD=libgreen.so
 * every one of those threads is a green thread on one kernel thread.
 *
 * Listens on 127.0.0.1:PORT (0: the kernel picks) with a blocking socket
 * and prints "port N" once listening.  The main thread loops on accept()
 * and starts a detached thread per connection, which reads request heads
 * (several pipelined in one read, or one split across reads), answers each
 * with a fixed 200 "hello", and closes on EOF or error.  Request bodies are
 * not supported: a benchmark client sends GETs.  Runs until killed.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BUF_SIZE 8192

static const char response[] =
    "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
    "Content-Type: text/plain\r\n\r\nhello";

/* Write all of buf; returns 0, or -1 with errno set. */
static int write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        const ssize_t w = write(fd, buf, len);
        if (w < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -1;
        }
        buf += w;
        len -= (size_t)w;
    }
    return 0;
}

/* Serve one connection until EOF, an error, or an oversized request head. */
static void *serve(void *arg)
{
    const int fd = (int)(intptr_t)arg;
    char buf[BUF_SIZE];
    size_t have = 0;

    for (;;) {
        const ssize_t r = read(fd, buf + have, sizeof buf - have);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            break;
        }
        have += (size_t)r;

        /* Answer every complete head, then keep the partial rest. */
        size_t done = 0;
        const char *end;
        while ((end = memmem(buf + done, have - done, "\r\n\r\n", 4))) {
            if (write_all(fd, response, sizeof response - 1) < 0) {
                goto out;
            }
            done = (size_t)(end - buf) + 4;
        }
        memmove(buf, buf + done, have - done);
        have -= done;
        if (have == sizeof buf) {
            break;
        }
    }
out:
    close(fd);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s PORT\n", argv[0]);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);

    const int lfd = socket(AF_INET, SOCK_STREAM, 0);
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

    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    for (;;) {
        const int fd = accept(lfd, NULL, NULL);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS
                || errno == ENOMEM) {
                /* Out of descriptors or memory: let connections close. */
                const struct timespec ms = {0, 1000000};
                nanosleep(&ms, NULL);
            } else if (errno != EINTR && errno != ECONNABORTED) {
                perror("accept");
            }
            continue;
        }
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        pthread_t t;
        const int err = pthread_create(&t, &attr, serve, (void *)(intptr_t)fd);
        if (err != 0) {
            fprintf(stderr, "pthread_create: %s\n", strerror(err));
            close(fd);
        }
    }
}
