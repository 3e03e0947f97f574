/* SPDX-License-Identifier: MIT */
/* echo-server [PORT]: a thread-per-connection TCP echo server.
 *
 * Binds 127.0.0.1:PORT (0, the default, picks a free port), prints
 * "port N" once it listens, then runs one detached thread per accepted
 * connection that echoes everything it reads until EOF.  Runs until killed.
 * Used by tests/echo.bats and by the demo; an ordinary pthread program.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void *serve(void *arg)
{
    const int fd = (int)(intptr_t)arg;
    char buf[4096];

    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n == 0) {
            break;
        }
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno != ECONNRESET) {
                fprintf(stderr, "%s:%d: read: %s\n", __FILE__, __LINE__,
                        strerror(errno));
            }
            break;
        }
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(fd, buf + off, (size_t)(n - off));
            if (w < 0) {
                if (errno == EINTR) {
                    continue;
                }
                fprintf(stderr, "%s:%d: write: %s\n", __FILE__, __LINE__,
                        strerror(errno));
                goto out;
            }
            off += w;
        }
    }
out:
    close(fd);
    return NULL;
}

int main(int argc, char **argv)
{
    const int port = argc > 1 ? atoi(argv[1]) : 0;

    if (argc > 2 || port < 0 || port > 65535) {
        fprintf(stderr, "usage: %s [PORT]\n", argv[0]);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);

    const int lfd = socket(AF_INET, SOCK_STREAM, 0);
    if (lfd < 0) {
        fprintf(stderr, "%s:%d: socket: %s\n", __FILE__, __LINE__,
                strerror(errno));
        return 1;
    }
    const int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);

    struct sockaddr_in sa = { .sin_family = AF_INET,
                              .sin_port = htons((uint16_t)port) };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
        listen(lfd, SOMAXCONN) < 0) {
        fprintf(stderr, "%s:%d: bind/listen 127.0.0.1:%d: %s\n", __FILE__,
                __LINE__, port, strerror(errno));
        return 1;
    }
    socklen_t len = sizeof sa;
    if (getsockname(lfd, (struct sockaddr *)&sa, &len) < 0) {
        fprintf(stderr, "%s:%d: getsockname: %s\n", __FILE__, __LINE__,
                strerror(errno));
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
            if (errno == EINTR || errno == ECONNABORTED) {
                continue;
            }
            fprintf(stderr, "%s:%d: accept: %s\n", __FILE__, __LINE__,
                    strerror(errno));
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
                errno == ENOMEM) {
                usleep(100000);
                continue;
            }
            return 1;
        }
        pthread_t t;
        const int rc = pthread_create(&t, &attr, serve, (void *)(intptr_t)fd);
        if (rc != 0) {
            fprintf(stderr, "%s:%d: pthread_create: %s\n", __FILE__,
                    __LINE__, strerror(rc));
            close(fd);
        }
    }
}
