/* SPDX-License-Identifier: MIT */
/* A ticker thread for the test programs of tests/progs/ that show other
 * threads ran while one waited: it adds 1 to `ticks` every millisecond
 * until `stop_ticker` is set. Ordinary pthread code; needs check.h first.
 */
#ifndef TESTS_PROGS_TICKER_H
#define TESTS_PROGS_TICKER_H

#include <unistd.h>

static long ticks;
static int stop_ticker;

static __attribute__((unused)) void *ticker(void *arg)
{
    (void)arg;
    while (!LOAD(&stop_ticker)) {
        ADD(&ticks, 1);
        usleep(1000);
    }
    return NULL;
}

#endif
