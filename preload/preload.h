/* SPDX-License-Identifier: MIT */
/* What preload/ gives the rest of libgreen: the configuration read once from
 * the environment, process-wide initialisation, the kernel-thread test that
 * tells the kernel thread running green threads from any other, and
 * GREEN_ASSERT. The real libc functions are in preload/real.h, the
 * runtime's own system calls in preload/sys.h.
 */
#ifndef GREEN_PRELOAD_PRELOAD_H
#define GREEN_PRELOAD_PRELOAD_H

#include <stdbool.h>
#include <stddef.h>

#include "preload/sys.h"

enum green__stack_mode { GREEN__MODE_COPY, GREEN__MODE_SEPARATE };

/* Settings from LIBGREEN_* variables; read once, never changed after. */
struct green__config {
    enum green__stack_mode stack_mode;  /* LIBGREEN_STACK */
    size_t stack_size;      /* LIBGREEN_STACK_SIZE: per-thread stack
                               (separate) or shared region (copy) */
    bool stack_size_set;    /* the variable was given (else mode default) */
    bool stats;             /* LIBGREEN_STATS: counters on stderr at exit */
    bool debug;             /* LIBGREEN_DEBUG: trace runtime decisions */
    bool fsgsbase;          /* LIBGREEN_FSGSBASE: may use wrfsbase */
};

extern struct green__config green__config;

/* Parse the LIBGREEN_* variables into green__config, reporting each
 * invalid value in one line on stderr and keeping its default. Called once
 * by green__init. */
void green__config_load(void);

/* Read the configuration, once: from libgreen's constructor (preload/env.c)
 * or from the first wrapper call if one comes earlier (another library's
 * constructor). Each real function is looked up when first called
 * (preload/real.h), so a process that never calls one pays no dlsym.
 * Every entry point calls this first. Any thread, any time. */
void green__init(void);
extern bool green__ready;

static inline void green__ensure_init(void)
{
    if (__builtin_expect(!green__ready, 0)) {
        green__init();
    }
}

/* True on the kernel thread that runs the green threads: the process's
 * initial thread (the one main() starts on). Every other kernel thread
 * (glibc helpers, threads a library made with clone) passes through. */
bool green__kthread_slow(void);
extern __thread int green__kthread_role
    __attribute__((tls_model("initial-exec")));

static inline bool green__on_green_kthread(void)
{
    if (__builtin_expect(green__kthread_role != 0, 1)) {
        return green__kthread_role > 0;
    }
    return green__kthread_slow();
}

/* Report `file:line: cond: why` on fd 2 without stdio or malloc, abort. */
__attribute__((noreturn))
void green__assert_fail(const char *file, int line, const char *cond,
                        const char *why);

#define GREEN_ASSERT(cond, why)                                            \
    do {                                                                   \
        if (__builtin_expect(!(cond), 0)) {                                \
            green__assert_fail(__FILE__, __LINE__, #cond, why);            \
        }                                                                  \
    } while (0)

/* Write a message prefixed "libgreen: " to fd 2 (no stdio, no malloc). */
void green__log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* green__log, only with LIBGREEN_DEBUG=1: the runtime's decisions (start,
 * stack mode and sizes, falling back to native threads, fork). */
#define GREEN_DEBUG(...)                                                   \
    do {                                                                   \
        if (green__config.debug) {                                         \
            green__log(__VA_ARGS__);                                       \
        }                                                                  \
    } while (0)

#endif
