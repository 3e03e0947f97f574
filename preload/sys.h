/* SPDX-License-Identifier: MIT */
/* The runtime's own system calls: a syscall instruction in libgreen's text
 * (preload/<arch>/syscall.S), never libc's syscall() or any other name
 * libgreen exports, which are the program's (scripts/check-layers holds
 * the runtime to that).
 */
#ifndef GREEN_PRELOAD_SYS_H
#define GREEN_PRELOAD_SYS_H

/* The system call `nr` with up to six arguments, never through libc
 * (whose syscall() libgreen wraps): the runtime's own system calls.
 * Returns the kernel's result, -errno on failure; errno is untouched.
 * Any context. green__sys(nr, ...) pads the arguments with zeros. */
long green__raw_syscall(long nr, long a, long b, long c, long d, long e,
                        long f);
#define GREEN__SYS_ARGS(nr, a, b, c, d, e, f, ...) \
    green__raw_syscall((nr), (long)(a), (long)(b), (long)(c), (long)(d), \
                       (long)(e), (long)(f))
#define green__sys(...) GREEN__SYS_ARGS(__VA_ARGS__, 0, 0, 0, 0, 0, 0, 0)

#endif
