/* SPDX-License-Identifier: MIT */
/* The calls that start a new program, and the mask it starts with: the
 * exec family, posix_spawn and posix_spawnp. The kernel thread blocks
 * only what every green thread blocks (hub/signal.c), but a program
 * started by exec, or by posix_spawn without an explicit mask, inherits
 * the mask of the thread that started it. So around the real call the
 * kernel thread takes the calling green thread's mask, and gets the shared
 * one back if the call returns. Every exported exec function is wrapped,
 * since glibc's execl, execle, execlp, execv and execvp reach execve
 * inside libc, out of the wrappers' sight. A posix_spawn child may also
 * share every fd, so the fd cache forgets them all (hub/fdtable.c).
 */
#include "config.h"

#include <spawn.h>
#include <stdarg.h>
#include <unistd.h>

#include "wrappers/wrap.h"

/* Return `call`, made with the calling green thread's mask in the kernel
 * thread (nothing changes for a thread libgreen did not make). */
#define WITH_CALLER_MASK(call)                                             \
    do {                                                                   \
        green__ensure_init();                                              \
        if (!green__in_green_thread()) {                                   \
            return call;                                                   \
        }                                                                  \
        green__signal_exec_begin(green__self());                    \
        const int ret_ = call;                                             \
        const int saved_ = errno;                                          \
        green__signal_exec_end(green__self());                      \
        errno = saved_;                                                    \
        return ret_;                                                       \
    } while (0)

GREEN_WRAP int execve(const char *path, char *const argv[],
                      char *const envp[])
{
    WITH_CALLER_MASK(GREEN_REAL_FN(execve)(path, argv, envp));
}

GREEN_WRAP int execv(const char *path, char *const argv[])
{
    WITH_CALLER_MASK(GREEN_REAL_FN(execv)(path, argv));
}

GREEN_WRAP int execvp(const char *file, char *const argv[])
{
    WITH_CALLER_MASK(GREEN_REAL_FN(execvp)(file, argv));
}

GREEN_WRAP int execvpe(const char *file, char *const argv[],
                       char *const envp[])
{
    WITH_CALLER_MASK(GREEN_REAL_FN(execvpe)(file, argv, envp));
}

GREEN_WRAP int fexecve(int fd, char *const argv[], char *const envp[])
{
    WITH_CALLER_MASK(GREEN_REAL_FN(fexecve)(fd, argv, envp));
}

GREEN_WRAP int execveat(int dirfd, const char *path, char *const argv[],
                        char *const envp[], int flags)
{
    WITH_CALLER_MASK(GREEN_REAL_FN(execveat)(dirfd, path, argv, envp, flags));
}

GREEN_WRAP int posix_spawn(pid_t *pid, const char *path,
                           const posix_spawn_file_actions_t *actions,
                           const posix_spawnattr_t *attr, char *const argv[],
                           char *const envp[])
{
    green__fd_forget_all();
    WITH_CALLER_MASK(GREEN_REAL_FN(posix_spawn)(pid, path, actions, attr,
                                                argv, envp));
}

GREEN_WRAP int posix_spawnp(pid_t *pid, const char *file,
                            const posix_spawn_file_actions_t *actions,
                            const posix_spawnattr_t *attr, char *const argv[],
                            char *const envp[])
{
    green__fd_forget_all();
    WITH_CALLER_MASK(GREEN_REAL_FN(posix_spawnp)(pid, file, actions, attr,
                                                 argv, envp));
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
