/* SPDX-License-Identifier: MIT */
/* Shared by the stdio test programs of tests/progs/ that read a pipe fed
 * in pieces (stdio-read.c, stdio-wide.c, stdio-wscan.c): a feeder thread
 * writes the next piece only once the reader has taken everything written
 * so far (FIONREAD on the pipe is 0).  So a piece that completes a line,
 * a character or a number reaches a call that is still waiting for it,
 * and that call can return only after the feeder ran while it waited: a
 * read that held up the whole process would hang instead (the test's
 * timeout).  No sleep orders anything: the feeder polls for the pipe to
 * empty, and a limit on that poll only turns a hang into a failure.
 * Ordinary pthread code; needs check.h first.
 */
#ifndef TESTS_PROGS_SLOW_FEED_H
#define TESTS_PROGS_SLOW_FEED_H

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* Wait until the reader of the pipe whose read end is `fd` has taken
 * every byte written to it.  Polls every millisecond; after 30000 polls
 * (30 s at least) it counts a failed check and returns. */
static __attribute__((unused)) void wait_taken(int fd)
{
    for (int i = 0; i < 30000; i++) {
        int queued = -1;
        CHECK_OK(ioctl(fd, FIONREAD, &queued));
        if (queued <= 0) {
            return;
        }
        usleep(1000);
    }
    errno = ETIMEDOUT;
    CHECK(!"the reader never took what was written");
}

/* ---- a pipe fed in pieces -------------------------------------------- */

struct feed {
    int fd;                 /* the write end, closed after the last piece */
    int watch;              /* the read end, for wait_taken */
    const char *data;
    size_t len;
    size_t piece;           /* > 0: pieces of this many bytes; 0: the
                             * pieces of a script, separated by '|' (a
                             * final '|': EOF comes once all is taken) */
    bool announce;          /* print "waiting" once the first piece is
                             * taken (the reader then waits for more) */
    const char *hold;       /* and then wait for this file to exist */
};

static void feed_write(int fd, const char *p, size_t len)
{
    while (len > 0) {
        const ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        CHECK(w > 0);
        if (w <= 0) {
            return;
        }
        p += w;
        len -= (size_t)w;
    }
}

static void *feeder(void *arg)
{
    struct feed *f = arg;
    size_t at = 0;
    for (bool first = true;; first = false) {
        if (!first) {
            wait_taken(f->watch);
        }
        size_t n;
        bool last;
        if (f->piece > 0) {
            n = f->len - at < f->piece ? f->len - at : f->piece;
            feed_write(f->fd, f->data + at, n);
            at += n;
            last = at == f->len;
        } else {
            const char *bar = memchr(f->data + at, '|', f->len - at);
            n = bar ? (size_t)(bar - (f->data + at)) : f->len - at;
            feed_write(f->fd, f->data + at, n);
            at += n + (bar != NULL);
            last = bar == NULL;
        }
        if (first && f->announce) {
            wait_taken(f->watch);
            printf("waiting\n");
            fflush(stdout);
            if (f->hold != NULL) {
                wait_for_file(f->hold, 60);
            }
        }
        if (last) {
            break;
        }
    }
    close(f->fd);
    return NULL;
}

struct slow {
    FILE *in;
    pthread_t thread;
    struct feed feed;
};

/* Feed `len` bytes of `data` (a script with '|' between pieces, or pieces
 * of `piece` bytes) into a pipe that s->in reads (stdin when
 * `on_stdin`). */
static __attribute__((unused)) void slow_feed(struct slow *s,
                                              const char *data, size_t len,
                                              size_t piece, bool on_stdin)
{
    int p[2];
    CHECK_OK(pipe(p));
    if (on_stdin) {
        CHECK_OK(dup2(p[0], 0));
        close(p[0]);
        clearerr(stdin);
        s->in = stdin;
    } else {
        s->in = fdopen(p[0], "r");
        CHECK(s->in != NULL);
    }
    s->feed = (struct feed){ .fd = p[1], .watch = fileno(s->in),
                             .data = data, .len = len, .piece = piece };
}

static __attribute__((unused)) void slow_go(struct slow *s)
{
    CHECK_RC(pthread_create(&s->thread, NULL, feeder, &s->feed));
}

/* Feed the '|'-separated pieces of `script`. */
static __attribute__((unused)) void slow_script(struct slow *s,
                                                const char *script)
{
    slow_feed(s, script, strlen(script), 0, false);
    slow_go(s);
}

static __attribute__((unused)) void slow_end(struct slow *s)
{
    CHECK_RC(pthread_join(s->thread, NULL));
    if (s->in != stdin) {
        fclose(s->in);
    }
}

#endif
