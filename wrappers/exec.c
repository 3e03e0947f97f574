/* SPDX-License-Identifier: MIT */
/* The exec family, and the mask a new program starts with. The kernel
 * thread blocks only what every green thread blocks (hub/signal.c), but
 * a program started by exec, or by posix_spawn without an explicit mask,
 * inherits the mask of the thread that started it. So around the real
 * call the kernel thread takes the calling green thread's mask, and gets
 * the shared one back if the call returns. Every exported exec function
 * is wrapped, since glibc's execl, execle, execlp, execv and execvp reach
 * execve inside libc, out of the wrappers' sight. posix_spawn and
 * posix_spawnp are wrappers/fdflags.c's and use green__spawn_mask_*.
 */
#include "config.h"

#include <stdarg.h>
#include <unistd.h>

#include "wrappers/wrap.h"

void green__spawn_mask_begin(void)
{
    if (green__in_green_thread()) {
        green__signal_exec_begin(green__sched.current);
    }
}

void green__spawn_mask_end(void)
{
    if (green__in_green_thread()) {
        const int saved = errno;
        green__signal_exec_end(green__sched.current);
        errno = saved;
    }
}

GREEN_WRAP int execve(const char *path, char *const argv[],
                      char *const envp[])
{
    green__ensure_init();
    green__spawn_mask_begin();
    const int r = GREEN_REAL_FN(execve)(path, argv, envp);
    green__spawn_mask_end();
    return r;
}

GREEN_WRAP int execv(const char *path, char *const argv[])
{
    green__ensure_init();
    green__spawn_mask_begin();
    const int r = GREEN_REAL_FN(execv)(path, argv);
    green__spawn_mask_end();
    return r;
}

GREEN_WRAP int execvp(const char *file, char *const argv[])
{
    green__ensure_init();
    green__spawn_mask_begin();
    const int r = GREEN_REAL_FN(execvp)(file, argv);
    green__spawn_mask_end();
    return r;
}

GREEN_WRAP int execvpe(const char *file, char *const argv[],
                       char *const envp[])
{
    green__ensure_init();
    green__spawn_mask_begin();
    const int r = GREEN_REAL_FN(execvpe)(file, argv, envp);
    green__spawn_mask_end();
    return r;
}

GREEN_WRAP int fexecve(int fd, char *const argv[], char *const envp[])
{
    green__ensure_init();
    green__spawn_mask_begin();
    const int r = GREEN_REAL_FN(fexecve)(fd, argv, envp);
    green__spawn_mask_end();
    return r;
}

GREEN_WRAP int execveat(int dirfd, const char *path, char *const argv[],
                        char *const envp[], int flags)
{
    green__ensure_init();
    green__spawn_mask_begin();
    const int r = GREEN_REAL_FN(execveat)(dirfd, path, argv, envp, flags);
    green__spawn_mask_end();
    return r;
}

/* Count `arg0` and the arguments after it up to the NULL that ends them
 * (not it), as glibc's execl does (arg0 itself is never tested). */
#define COUNT_ARGS(arg0, n)                                                \
    do {                                                                   \
        va_list ap_;                                                       \
        va_start(ap_, arg0);                                               \
        n = 1;                                                             \
        while (va_arg(ap_, const char *) != NULL) {                        \
            n++;                                                           \
        }                                                                  \
        va_end(ap_);                                                       \
    } while (0)

/* Fill `argv` (n + 1 slots) with arg0, the n - 1 arguments after it and
 * the NULL; *ap is left just past that NULL (execle's envp follows). */
static void fill_args(char **argv, size_t n, const char *arg0, va_list *ap)
{
    argv[0] = (char *)arg0;
    for (size_t i = 1; i <= n; i++) {
        argv[i] = va_arg(*ap, char *);
    }
}

GREEN_WRAP int execl(const char *path, const char *arg0, ...)
{
    size_t n;
    COUNT_ARGS(arg0, n);
    char *argv[n + 1];
    va_list ap;
    va_start(ap, arg0);
    fill_args(argv, n, arg0, &ap);
    va_end(ap);
    return execv(path, argv);
}

GREEN_WRAP int execlp(const char *file, const char *arg0, ...)
{
    size_t n;
    COUNT_ARGS(arg0, n);
    char *argv[n + 1];
    va_list ap;
    va_start(ap, arg0);
    fill_args(argv, n, arg0, &ap);
    va_end(ap);
    return execvp(file, argv);
}

GREEN_WRAP int execle(const char *path, const char *arg0, ...)
{
    size_t n;
    COUNT_ARGS(arg0, n);
    char *argv[n + 1];
    va_list ap;
    va_start(ap, arg0);
    fill_args(argv, n, arg0, &ap);
    char *const *envp = va_arg(ap, char *const *);
    va_end(ap);
    return execve(path, argv, envp);
}
