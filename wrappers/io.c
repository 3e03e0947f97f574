/* SPDX-License-Identifier: MIT */
/* read, write, readv, writev, and their cores green__readv, green__writev
 * and green__sendmsg_all (shared with the positional, batch and transfer
 * calls): try the call without blocking, park the green thread on the fd
 * if it would block, retry; return libc's result and errno.
 *
 * Sockets are tried with recv/recvmsg/sendmsg and MSG_DONTWAIT, which works
 * per call on any socket and leaves the file status flags alone. For other
 * fds (pipes, ttys, regular files) a zero-timeout poll decides: ready
 * (regular files always are) means the real call will not block. A write
 * larger than PIPE_BUF to a pipe could still block half way, so it goes in
 * pieces with RWF_NOWAIT, which Linux supports on pipes; where it does
 * not, the real write blocks as it would natively.
 */
#include "config.h"

#include <limits.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include "wrappers/wrap.h"

/* Park until reading (POLLIN) or writing (POLLOUT) non-socket `fd` would
 * not block. Returns the fd to make the call on (green__fd_resume), or
 * -EINTR when a signal handler without SA_RESTART ran (with it, the wait
 * goes on, as the call restarts). */
static int wait_for(int fd, short events)
{
    while (green__fd_must_wait(fd, events)) {
        const int p = green__park_fd(fd, events == POLLIN ? GREEN__READ
                                                          : GREEN__WRITE, -1);
        fd = green__fd_resume(fd);
        if (p == -EINTR && !green__restarts()) {
            return -EINTR;
        }
    }
    return fd;
}

static ssize_t read_other(int fd, void *buf, size_t count)
{
    fd = wait_for(fd, POLLIN);
    if (fd < 0) {
        return fd;
    }
    const ssize_t r = green__real.read(fd, buf, count);
    return r < 0 ? green__neg_errno() : r;
}

GREEN_WRAP ssize_t read(int fd, void *buf, size_t count)
{
    green__ensure_init();
    /* Zero bytes never wait (pipe_read returns 0 at once). */
    if (!green__may_park() || count == 0) {
        return green__real.read(fd, buf, count);
    }
    const int entry_errno = errno;
    int64_t deadline = GREEN__NO_DEADLINE_YET;
    ssize_t r;
    for (;;) {
        r = green__real.recv(fd, buf, count, MSG_DONTWAIT);
        if (r >= 0) {
            break;
        }
        if (errno == ENOTSOCK) {
            r = read_other(fd, buf, count);
            break;
        }
        if (errno != EAGAIN || green__fd_nonblocking(fd)) {
            r = green__neg_errno();
            break;
        }
        r = green__park_sock(&fd, GREEN__READ, SO_RCVTIMEO, &deadline);
        if (r < 0) {
            break;
        }
    }
    return green__wrap_ret(r, entry_errno);
}

/* A big write to a pipe the program sees as blocking: write what fits,
 * park until there is room, go on until all is written, as the kernel's
 * blocking write does. `iov` is the caller's copy; Linux without
 * RWF_NOWAIT on pipes gets the real, blocking writev. */
static ssize_t write_pipe(int fd, struct iovec *iov, size_t cnt, size_t total)
{
    size_t done = 0;
    while (done < total) {
        const ssize_t r = pwritev2(fd, iov, (int)cnt, -1, RWF_NOWAIT);
        if (r >= 0) {
            done += (size_t)r;
            green__iov_advance(&iov, &cnt, (size_t)r);
        } else if (errno == EAGAIN) {
            const int p = green__park_fd(fd, GREEN__WRITE, -1);
            fd = green__fd_resume(fd);
            if (p == -EINTR && (done > 0 || !green__restarts())) {
                return done ? (ssize_t)done : -EINTR;
            }
        } else if (done == 0 && (errno == EOPNOTSUPP || errno == EINVAL)) {
            const ssize_t w = green__real.writev(fd, iov, (int)cnt);
            return w < 0 ? green__neg_errno() : w;
        } else {
            return done ? (ssize_t)done : green__neg_errno();
        }
    }
    return (ssize_t)done;
}

/* write/writev on an fd that is not a socket: wait until it is writable;
 * a write larger than PIPE_BUF to a pipe goes through write_pipe. `trusted`:
 * `iov` is libgreen's own (write), not the program's (writev). */
static ssize_t writev_other(int fd, const struct iovec *iov, int cnt,
                            bool trusted)
{
    fd = wait_for(fd, POLLOUT);
    if (fd < 0) {
        return fd;
    }
    struct iovec one, *copy;
    const int c = green__iov_copy(iov, (size_t)cnt, trusted, &one, &copy);
    if (c == -ENOMEM) {
        return c;
    }
    struct stat st;
    const size_t total = c == 0 ? green__iov_total(copy, (size_t)cnt) : 0;
    ssize_t r;
    if (total > PIPE_BUF && fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode)
        && !green__fd_nonblocking(fd)) {
        r = write_pipe(fd, copy, (size_t)cnt, total);
    } else {
        r = green__real.writev(fd, iov, cnt);   /* EFAULT for a bad array */
        r = r < 0 ? green__neg_errno() : r;
    }
    if (c == 0 && copy != &one) {
        free(copy);
    }
    return r;
}

/* sendmsg() with MSG_DONTWAIT until everything is sent, the way a blocking
 * send on a stream socket returns only when all of it is queued (the iovec
 * array is copied and advanced past what went out). A socket the program
 * made non-blocking returns what fit, as natively; a datagram goes whole
 * or not at all. Returns bytes or -errno; -ENOTSOCK: not a socket. */
ssize_t green__sendmsg_all(int fd, const struct msghdr *msg, int flags,
                           bool trusted)
{
    struct msghdr m;
    struct iovec one, *copy = NULL;
    int c = -EFAULT;
    if (trusted) {
        m = *msg;
    }
    if ((trusted || green__peek(&m, msg, sizeof m) == 0)
        && m.msg_iovlen <= IOV_MAX) {
        c = green__iov_copy(m.msg_iov, m.msg_iovlen, trusted, &one, &copy);
    }
    if (c == -ENOMEM) {
        return c;
    }
    if (c != 0) {
        /* A bad pointer (EFAULT) or too many iovecs (EMSGSIZE): the
         * kernel answers at once. */
        const ssize_t r = green__real.sendmsg(fd, msg, flags);
        return r < 0 ? green__neg_errno() : r;
    }
    m.msg_iov = copy;
    size_t left = green__iov_total(m.msg_iov, m.msg_iovlen);
    size_t done = 0;
    int64_t deadline = GREEN__NO_DEADLINE_YET;
    ssize_t result;
    for (;;) {
        const ssize_t r = green__real.sendmsg(fd, &m, flags | MSG_DONTWAIT);
        if (r >= 0) {
            done += (size_t)r;
            left -= (size_t)r;
            if (left == 0 || green__fd_nonblocking(fd)) {
                result = (ssize_t)done;
                break;
            }
            green__iov_advance(&m.msg_iov, &m.msg_iovlen, (size_t)r);
            continue;
        }
        if (errno != EAGAIN || green__fd_nonblocking(fd)) {
            result = done ? (ssize_t)done : green__neg_errno();
            break;
        }
        const int p = green__park_sock(&fd, GREEN__WRITE, SO_SNDTIMEO,
                                       &deadline);
        if (p < 0) {
            /* Timed out (SO_SNDTIMEO) or interrupted: what went out. */
            result = done ? (ssize_t)done : p;
            break;
        }
    }
    if (copy != &one) {
        free(copy);
    }
    return result;
}

GREEN_WRAP ssize_t write(int fd, const void *buf, size_t count)
{
    green__ensure_init();
    if (!green__may_park() || count == 0) {
        return green__real.write(fd, buf, count);
    }
    const int entry_errno = errno;
    const struct iovec v = { .iov_base = (void *)buf, .iov_len = count };
    const struct msghdr m = { .msg_iov = (struct iovec *)&v,
                              .msg_iovlen = 1 };
    ssize_t r = green__sendmsg_all(fd, &m, 0, true);
    if (r == -ENOTSOCK) {
        r = writev_other(fd, &v, 1, true);
    }
    return green__wrap_ret(r, entry_errno);
}

ssize_t green__readv(int fd, const struct iovec *iov, int iovcnt)
{
    struct msghdr m = { .msg_iov = (struct iovec *)iov,
                        .msg_iovlen = (size_t)iovcnt };
    ssize_t r = green__recvmsg(fd, &m, 0);
    if (r == -ENOTSOCK) {
        r = wait_for(fd, POLLIN);
        if (r >= 0) {
            r = green__real.readv((int)r, iov, iovcnt);
            r = r < 0 ? green__neg_errno() : r;
        }
    }
    return r;
}

GREEN_WRAP ssize_t readv(int fd, const struct iovec *iov, int iovcnt)
{
    green__ensure_init();
    if (!green__may_park() || iovcnt <= 0 || iovcnt > IOV_MAX) {
        return green__real.readv(fd, iov, iovcnt);
    }
    const int entry_errno = errno;
    return green__wrap_ret(green__readv(fd, iov, iovcnt), entry_errno);
}

ssize_t green__writev(int fd, const struct iovec *iov, int iovcnt)
{
    const struct msghdr m = { .msg_iov = (struct iovec *)iov,
                              .msg_iovlen = (size_t)iovcnt };
    /* The msghdr is ours, the iovec array the program's. */
    const ssize_t r = green__sendmsg_all(fd, &m, 0, false);
    return r == -ENOTSOCK ? writev_other(fd, iov, iovcnt, false) : r;
}

GREEN_WRAP ssize_t writev(int fd, const struct iovec *iov, int iovcnt)
{
    green__ensure_init();
    if (!green__may_park() || iovcnt <= 0 || iovcnt > IOV_MAX) {
        return green__real.writev(fd, iov, iovcnt);
    }
    const int entry_errno = errno;
    return green__wrap_ret(green__writev(fd, iov, iovcnt), entry_errno);
}
