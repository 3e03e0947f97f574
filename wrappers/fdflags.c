/* SPDX-License-Identifier: MIT */
/* The calls that make sockets and pipes, change their O_NONBLOCK flag or
 * socket timeouts, or duplicate them: each passes straight through and
 * tells the fd cache (hub/fdtable.c) what it made or changed. socket,
 * socketpair, pipe and pipe2 make known fds; fcntl (F_SETFL, F_DUPFD),
 * ioctl (FIONBIO), setsockopt (SO_RCVTIMEO, SO_SNDTIMEO) and dup update
 * or forget them. After a fork another process may share every fd, and
 * the cache forgets all it knows (hub/fork.c, for fork, _Fork and vfork,
 * wrappers/process.c); posix_spawn is wrappers/exec.c's, system and
 * popen are wrappers/shell.c's. accept, close, dup2 and the other closes
 * tell the cache from their own files.
 */
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "wrappers/wrap.h"

GREEN_WRAP int socket(int domain, int type, int protocol)
{
    green__ensure_init();
    const int fd = GREEN_REAL_FN(socket)(domain, type, protocol);
    green__fd_made(fd, GREEN__FD_SOCKET
                            | (type & SOCK_NONBLOCK ? GREEN__FD_NONBLOCK : 0));
    return fd;
}

GREEN_WRAP int socketpair(int domain, int type, int protocol, int sv[2])
{
    green__ensure_init();
    const int r = GREEN_REAL_FN(socketpair)(domain, type, protocol, sv);
    if (r == 0) {
        const unsigned bits = GREEN__FD_SOCKET
            | (type & SOCK_NONBLOCK ? GREEN__FD_NONBLOCK : 0);
        green__fd_made(sv[0], bits);
        green__fd_made(sv[1], bits);
    }
    return r;
}

GREEN_WRAP int pipe2(int fds[2], int flags)
{
    green__ensure_init();
    const int r = GREEN_REAL_FN(pipe2)(fds, flags);
    if (r == 0) {
        const unsigned bits = GREEN__FD_PIPE
            | (flags & O_NONBLOCK ? GREEN__FD_NONBLOCK : 0);
        green__fd_made(fds[0], bits);
        green__fd_made(fds[1], bits);
    }
    return r;
}

GREEN_WRAP int pipe(int fds[2])
{
    return pipe2(fds, 0);
}

/* After a successful fcntl: F_SETFL may change O_NONBLOCK; a duplicate
 * shares the source's flags through a number the cache does not know. */
static void after_fcntl(int fd, int cmd, long arg, int r)
{
    if (r < 0) {
        return;
    }
    if (cmd == F_SETFL) {
        green__fd_update(fd, GREEN__FD_NONBLOCK,
                              arg & O_NONBLOCK ? GREEN__FD_NONBLOCK : 0);
    } else if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC) {
        green__fd_forget(fd);
        green__fd_forget(r);
    }
}

/* Like glibc, take the optional argument as a long (int or pointer). */
GREEN_WRAP int fcntl(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    const long arg = va_arg(ap, long);
    va_end(ap);
    green__ensure_init();
    const int r = GREEN_REAL_FN(fcntl)(fd, cmd, arg);
    after_fcntl(fd, cmd, arg, r);
    return r;
}

/* On x86-64 glibc's fcntl64 is its fcntl (64-bit offsets either way). */
GREEN_WRAP int fcntl64(int fd, int cmd, ...) __attribute__((alias("fcntl")));

GREEN_WRAP int ioctl(int fd, unsigned long request, ...)
{
    va_list ap;
    va_start(ap, request);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    green__ensure_init();
    const int r = GREEN_REAL_FN(ioctl)(fd, request, arg);
    if (r >= 0 && request == FIONBIO) {
        /* The kernel read *arg without fault. */
        green__fd_update(fd, GREEN__FD_NONBLOCK,
                              *(const int *)arg ? GREEN__FD_NONBLOCK : 0);
    }
    return r;
}

GREEN_WRAP int setsockopt(int fd, int level, int name, const void *val,
                          socklen_t len)
{
    green__ensure_init();
    const int r = GREEN_REAL_FN(setsockopt)(fd, level, name, val, len);
    if (r == 0 && level == SOL_SOCKET
        && (name == SO_RCVTIMEO_OLD || name == SO_RCVTIMEO_NEW
            || name == SO_SNDTIMEO_OLD || name == SO_SNDTIMEO_NEW)) {
        const bool rcv = name == SO_RCVTIMEO_OLD || name == SO_RCVTIMEO_NEW;
        const unsigned bit = rcv ? GREEN__FD_RCVTIMEO : GREEN__FD_SNDTIMEO;
        /* Both layouts are a struct timeval here (x86-64's timeval and
         * __kernel_sock_timeval are two 64-bit fields); the kernel
         * accepted len and val. */
        green__fd_update(fd, bit, green__timeval_zero(val) ? 0 : bit);
    }
    return r;
}

GREEN_WRAP int dup(int fd)
{
    green__ensure_init();
    const int r = GREEN_REAL_FN(dup)(fd);
    if (r >= 0) {
        green__fd_forget(fd);
        green__fd_forget(r);
    }
    return r;
}
