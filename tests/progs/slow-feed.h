/* SPDX-License-Identifier: MIT */
/* Shared by the stdio test programs of tests/progs/ that read a pipe fed
 * slowly (stdio-wide.c, stdio-wscan.c): a feeder thread that writes a
 * script into a pipe with a 30 ms pause at each '|', and the ticker
 * (ticker.h) that counts while readers wait. Ordinary pthread code; needs
 * check.h first.
 */
#ifndef TESTS_PROGS_SLOW_FEED_H
#define TESTS_PROGS_SLOW_FEED_H

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ticker.h"

/* ---- a pipe fed slowly: '|' in the script is a 30 ms pause ----------- */

struct feed {
    int fd;
    const char *script;
    const char *hold;       /* wait for this file at the first pause */
};

static void *feeder(void *arg)
{
    struct feed *f = arg;
    const char *p = f->script;
    bool first = true;
    usleep(30000);                      /* the first read waits */
    for (;;) {
        const char *bar = strchr(p, '|');
        const size_t n = bar ? (size_t)(bar - p) : strlen(p);
        if (n > 0) {
            CHECK_EQ(write(f->fd, p, n), (long)n);
        }
        if (bar == NULL) {
            break;
        }
        if (first && f->hold != NULL) {
            wait_for_file(f->hold, 60);
        }
        first = false;
        usleep(30000);
        p = bar + 1;
    }
    close(f->fd);
    return NULL;
}

struct slow {
    FILE *in;
    pthread_t thread;
    struct feed feed;
};

/* Feed `script` into a pipe read by s->in (stdin when `on_stdin`). */
static void slow_start(struct slow *s, const char *script, const char *hold,
                       bool on_stdin)
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
    s->feed = (struct feed){ .fd = p[1], .script = script, .hold = hold };
    CHECK_RC(pthread_create(&s->thread, NULL, feeder, &s->feed));
}

static void slow_end(struct slow *s)
{
    CHECK_RC(pthread_join(s->thread, NULL));
    if (s->in != stdin) {
        fclose(s->in);
    }
}

#endif
