/* SPDX-License-Identifier: MIT */
/* pipe-pace feed N | pipe-pace full: the two ends of a pipeline that make
 * the program between them wait, by handshakes rather than sleeps.
 *
 *   feed N   writes the lines "1" to "N" to stdout, a pipe, in pieces of
 *            about 1000 bytes, each once the reader has taken everything
 *            written before (FIONREAD on the pipe is 0): a reader that
 *            keeps reading must wait for every piece after the first.
 *   full     waits until stdin, a pipe, is full (within 1 KiB of its
 *            capacity, F_GETPIPE_SZ), so that its writers must be waiting,
 *            or until every writer closed it; then copies it to stdout.
 *
 * Each wait polls every millisecond; after 60000 polls (a minute at
 * least) it gives up with exit status 1, which only turns a hang into a
 * failure.  Used by tests/stdio.bats.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

enum { POLLS = 60000, PIECE = 1000 };

static int queued(int fd)
{
    int n = -1;
    if (ioctl(fd, FIONREAD, &n) != 0) {
        perror("pipe-pace: FIONREAD");
        exit(1);
    }
    return n;
}

static void write_all(const char *p, size_t len)
{
    while (len > 0) {
        const ssize_t w = write(1, p, len);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            perror("pipe-pace: write");
            exit(1);
        }
        p += w;
        len -= (size_t)w;
    }
}

static int feed(long lines)
{
    char piece[PIECE + 32];
    size_t len = 0;
    for (long i = 1; i <= lines; i++) {
        len += (size_t)snprintf(piece + len, sizeof piece - len, "%ld\n", i);
        if (len < PIECE && i < lines) {
            continue;
        }
        int polls = 0;
        while (queued(1) > 0) {
            if (++polls == POLLS) {
                fprintf(stderr, "pipe-pace: the reader never took a piece\n");
                return 1;
            }
            usleep(1000);
        }
        write_all(piece, len);
        len = 0;
    }
    return 0;
}

static int full(void)
{
    const int size = fcntl(0, F_GETPIPE_SZ);
    if (size < 0) {
        perror("pipe-pace: F_GETPIPE_SZ");
        return 1;
    }
    for (int polls = 0; queued(0) < size - 1024; polls++) {
        struct pollfd pfd = { .fd = 0, .events = POLLIN };
        if (poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLHUP)) {
            break;                      /* every writer is gone */
        }
        if (polls == POLLS) {
            fprintf(stderr, "pipe-pace: the pipe never filled up\n");
            return 1;
        }
        usleep(1000);
    }
    char buf[65536];
    for (;;) {
        const ssize_t r = read(0, buf, sizeof buf);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0) {
            perror("pipe-pace: read");
            return 1;
        }
        if (r == 0) {
            return 0;
        }
        write_all(buf, (size_t)r);
    }
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "feed") == 0) {
        return feed(atol(argv[2]));
    }
    if (argc == 2 && strcmp(argv[1], "full") == 0) {
        return full();
    }
    fprintf(stderr, "usage: pipe-pace feed N | pipe-pace full\n");
    return 2;
}
