/* SPDX-License-Identifier: MIT */
/* stdio-threads [LINES]: threads share stdin, stdout and stderr.
 *
 * One thread reads stdin with read(2) to EOF while WRITERS threads take
 * turns writing LINES lines each to stdout with write(2) (turns make the
 * output deterministic) and one line each to stderr.  main then prints how
 * many bytes and lines came from stdin.  Used by tests/stdio.bats to check
 * that the flags of inherited stdio are left as they were found.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

enum { WRITERS = 3 };

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t turn_changed = PTHREAD_COND_INITIALIZER;
static long turn, lines_each = 1000;
static long in_bytes, in_lines;

static int write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        const ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

static void *reader(void *arg)
{
    char buf[1000];

    (void)arg;
    for (;;) {
        const ssize_t r = read(0, buf, sizeof buf);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            CHECK_EQ(r, 0);
            break;
        }
        in_bytes += r;
        for (ssize_t i = 0; i < r; i++) {
            in_lines += buf[i] == '\n';
        }
    }
    return NULL;
}

static void *writer(void *arg)
{
    const long me = (long)(intptr_t)arg;
    char line[64];

    for (long j = 0; j < lines_each; j++) {
        pthread_mutex_lock(&lock);
        while (turn % WRITERS != me) {
            pthread_cond_wait(&turn_changed, &lock);
        }
        pthread_mutex_unlock(&lock);
        const int n = snprintf(line, sizeof line, "writer %ld line %ld\n",
                               me, j);
        CHECK_OK(write_all(1, line, (size_t)n));
        pthread_mutex_lock(&lock);
        turn++;
        pthread_cond_broadcast(&turn_changed);
        pthread_mutex_unlock(&lock);
    }
    const int n = snprintf(line, sizeof line, "writer %ld done\n", me);
    CHECK_OK(write_all(2, line, (size_t)n));
    return NULL;
}

int main(int argc, char **argv)
{
    pthread_t r, w[WRITERS];

    if (argc > 1) {
        lines_each = atol(argv[1]);
    }
    CHECK_RC(pthread_create(&r, NULL, reader, NULL));
    for (long i = 0; i < WRITERS; i++) {
        CHECK_RC(pthread_create(&w[i], NULL, writer, (void *)(intptr_t)i));
    }
    for (int i = 0; i < WRITERS; i++) {
        CHECK_RC(pthread_join(w[i], NULL));
    }
    CHECK_RC(pthread_join(r, NULL));
    printf("stdin: %ld bytes, %ld lines\n", in_bytes, in_lines);
    return check_exit_status();
}
