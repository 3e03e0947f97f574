/* SPDX-License-Identifier: MIT */
/* Process-wide start-up and shut-down of libgreen: the once-only
 * initialisation that libgreen's constructor (preload/env.c) or an earlier
 * wrapper call runs (reading the configuration; each real function is
 * looked up when first needed, preload/real.h, so a process pays a dlsym
 * only per function it calls), the test for the kernel thread that runs
 * green threads, and the assert and log helpers. Starting the hub is not
 * done here: that waits for the first pthread_create (hub/sched.c), so a
 * program that never makes a thread pays for nothing but this.
 */
#include "config.h"

#include "preload/preload.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "preload/real.h"

bool green__ready;
__thread int green__kthread_role __attribute__((tls_model("initial-exec")));

void green__init(void)
{
    static int claimed;
    static __thread bool initialising;
    if (__atomic_load_n(&green__ready, __ATOMIC_ACQUIRE)) {
        return;
    }
    GREEN_ASSERT(!initialising, "libgreen re-entered during its start-up");
    int expected = 0;
    if (!__atomic_compare_exchange_n(&claimed, &expected, 1, false,
                                     __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        /* Another kernel thread is reading the configuration: wait. */
        while (!__atomic_load_n(&green__ready, __ATOMIC_ACQUIRE)) {
            green__sys(SYS_sched_yield);
        }
        return;
    }
    initialising = true;
    green__config_load();
    __atomic_store_n(&green__ready, true, __ATOMIC_RELEASE);
    initialising = false;
}

bool green__kthread_slow(void)
{
    /* A raw system call: libgreen wraps gettid() and syscall(), and both
     * ask this very question first (on a kernel thread libgreen did not
     * make, jemalloc's, they would recurse until the stack overflowed). */
    const bool initial = green__sys(SYS_gettid)
                         == getpid();
    green__kthread_role = initial ? 1 : -1;
    return initial;
}

void green__log(const char *fmt, ...)
{
    char buf[512];
    const int prefix = snprintf(buf, sizeof buf, "libgreen: ");
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + prefix, sizeof buf - prefix, fmt, ap);
    va_end(ap);
    if (n < 0) {
        return;
    }
    size_t len = prefix + (size_t)n;
    if (len >= sizeof buf) {
        len = sizeof buf - 1;
    }
    /* Neither the real write from the table nor libc's syscall(), which
     * libgreen wraps: this may run while the runtime starts, before it
     * can look anything up. */
    green__sys(SYS_write, 2, buf, len);
}

void green__assert_fail(const char *file, int line, const char *cond,
                        const char *why)
{
    green__log("%s:%d: %s: %s\n", file, line, cond, why);
    abort();
}
