/* SPDX-License-Identifier: MIT */
/* read, write, readv, writev, and their cores green__readv, green__writev
 * and green__sendmsg_all (shared with the positional, batch and transfer
 * calls): try the call without blocking, park the green thread on the fd
 * if it would block, retry; return libc's result and errno.
 *
 * Sockets are tried with recv/recvmsg/sendmsg and MSG_DONTWAIT, which works
 * per call on any socket and leaves the file status flags alone. Other fds
 * are tried with preadv2/pwritev2 and RWF_NOWAIT (offset -1: the file
 * position, as read and write use), which pipes, FIFOs, eventfds and most
 * files take: never a flag another process could see, and never a moment
 * between a readiness test and the call in which another process could
 * empty or fill a shared pipe. Where RWF_NOWAIT is refused (ttys), a
 * zero-timeout poll decides: ready (regular files always are) means the
 * real call will not block.
 */
#include "config.h"

#include <limits.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "wrappers/wrap.h"

/* Park until reading (POLLIN) or writing (POLLOUT) non-socket `fd` would
 * not block. Returns the fd to make the call on (green__fd_resume), or
 * -EINTR when a signal handler without SA_RESTART ran (with it, the wait
 * goes on, as the call restarts). */
static int wait_for(int fd, short events)
{
    while (green__fd_must_wait(fd, events)) {
        if (green__park_io(&fd, events == POLLIN ? GREEN__READ
                                                 : GREEN__WRITE) < 0) {
            return -EINTR;
        }
    }
    return fd;
}

/* Read non-socket *fdp into `iov` as a blocking read does, with
 * RWF_NOWAIT, which Linux takes on pipes, FIFOs and eventfds: the data, or
 * EAGAIN without a moment in which another process could take the data
 * between a readiness test and the read. Parks while it would block.
 * Returns bytes, -errno, or -EOPNOTSUPP when the fd does not take
 * RWF_NOWAIT (a tty) or need not wait (a ready file, the program's own
 * O_NONBLOCK): then the caller's poll-and-read answers. */
static ssize_t read_nowait(int *fdp, const struct iovec *iov, int cnt)
{
    for (;;) {
        const ssize_t r = GREEN_REAL_FN(preadv2)(*fdp, iov, cnt, -1,
                                              RWF_NOWAIT);
        if (r >= 0) {
            return r;
        }
        /* EINVAL is the fd's answer (an eventfd read under 8 bytes); a
         * kernel without RWF_NOWAIT for this fd says EOPNOTSUPP. */
        const int err = errno;
        if (err == EOPNOTSUPP
            || (err == EAGAIN && !green__fd_blocking_pipe(*fdp)
                && !green__fd_must_wait(*fdp, POLLIN))) {
            return -EOPNOTSUPP;
        }
        if (err != EAGAIN) {
            return -err;
        }
        if (green__park_io(fdp, GREEN__READ) < 0) {
            return -EINTR;
        }
    }
}

/* read/readv on an fd that is not a socket. */
static ssize_t readv_other(int fd, const struct iovec *iov, int cnt)
{
    const ssize_t r = read_nowait(&fd, iov, cnt);
    if (r != -EOPNOTSUPP) {
        return r;
    }
    fd = wait_for(fd, POLLIN);
    if (fd < 0) {
        return fd;
    }
    const ssize_t w = GREEN_REAL_FN(readv)(fd, iov, cnt);
    return w < 0 ? green__neg_errno() : w;
}

GREEN_WRAP ssize_t read(int fd, void *buf, size_t count)
{
    green__ensure_init();
    /* Zero bytes never wait (pipe_read returns 0 at once). */
    if (!green__may_park() || count == 0) {
        return GREEN_REAL_FN(read)(fd, buf, count);
    }
    const int entry_errno = errno;
    int64_t deadline = GREEN__NO_DEADLINE_YET;
    ssize_t r;
    if (green__fdcache_get(fd) & GREEN__FDC_PIPE) {
        const struct iovec v = { .iov_base = buf, .iov_len = count };
        return green__wrap_ret(readv_other(fd, &v, 1), entry_errno);
    }
    for (;;) {
        r = GREEN_REAL_FN(recv)(fd, buf, count, MSG_DONTWAIT);
        if (r >= 0) {
            break;
        }
        if (errno == ENOTSOCK) {
            const struct iovec v = { .iov_base = buf, .iov_len = count };
            r = readv_other(fd, &v, 1);
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

/* Write all of `iov` (the caller's copy) to non-socket *fdp as a blocking
 * write does, with RWF_NOWAIT: what fits goes at once (a write of at most
 * PIPE_BUF bytes to a pipe whole or not at all, as ever), and the thread
 * parks while the fd is full. Returns bytes, -errno, or -EOPNOTSUPP,
 * before anything was written, when the fd does not take RWF_NOWAIT (a
 * tty): the caller then waits with poll. */
static ssize_t write_nowait(int *fdp, struct iovec *iov, size_t cnt,
                            size_t total)
{
    size_t done = 0;
    while (done < total) {
        const ssize_t r = GREEN_REAL_FN(pwritev2)(*fdp, iov, (int)cnt, -1,
                                               RWF_NOWAIT);
        if (r >= 0) {
            done += (size_t)r;
            green__iov_advance(&iov, &cnt, (size_t)r);
            continue;
        }
        if (errno != EAGAIN) {
            if (done == 0 && errno == EOPNOTSUPP) {
                return -EOPNOTSUPP;
            }
            return done ? (ssize_t)done : green__neg_errno();
        }
        if (green__fd_nonblocking(*fdp)) {
            return done ? (ssize_t)done : -EAGAIN;  /* the program's wish */
        }
        if (!green__fd_blocking_pipe(*fdp)
            && !green__fd_must_wait(*fdp, POLLOUT)) {
            /* Ready, yet it would block (a file system): the real,
             * blocking write does the rest. */
            const ssize_t w = GREEN_REAL_FN(writev)(*fdp, iov, (int)cnt);
            return w >= 0 ? (ssize_t)(done + (size_t)w)
                          : done ? (ssize_t)done : green__neg_errno();
        }
        const int p = green__park_fd(*fdp, GREEN__WRITE, -1);
        *fdp = green__fd_resume(*fdp);
        if (p == -EINTR && (done > 0 || !green__restarts())) {
            return done ? (ssize_t)done : -EINTR;
        }
    }
    return (ssize_t)done;
}

/* write/writev on an fd that is not a socket. `trusted`: `iov` is
 * libgreen's own (write), not the program's (writev). */
static ssize_t writev_other(int fd, const struct iovec *iov, int cnt,
                            bool trusted)
{
    struct iovec one, *copy;
    const int c = green__iov_copy(iov, (size_t)cnt, trusted, &one, &copy);
    if (c == -ENOMEM) {
        return c;
    }
    ssize_t r = -EOPNOTSUPP;
    if (c == 0) {
        r = write_nowait(&fd, copy, (size_t)cnt,
                         green__iov_total(copy, (size_t)cnt));
        if (copy != &one) {
            free(copy);
        }
    }
    if (r == -EOPNOTSUPP) {
        fd = wait_for(fd, POLLOUT);
        if (fd < 0) {
            return fd;
        }
        r = GREEN_REAL_FN(writev)(fd, iov, cnt);   /* EFAULT for a bad array */
        r = r < 0 ? green__neg_errno() : r;
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
        const ssize_t r = GREEN_REAL_FN(sendmsg)(fd, msg, flags);
        return r < 0 ? green__neg_errno() : r;
    }
    m.msg_iov = copy;
    size_t left = green__iov_total(m.msg_iov, m.msg_iovlen);
    size_t done = 0;
    int64_t deadline = GREEN__NO_DEADLINE_YET;
    ssize_t result;
    for (;;) {
        const ssize_t r = GREEN_REAL_FN(sendmsg)(fd, &m, flags | MSG_DONTWAIT);
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
        return GREEN_REAL_FN(write)(fd, buf, count);
    }
    const int entry_errno = errno;
    const struct iovec v = { .iov_base = (void *)buf, .iov_len = count };
    const struct msghdr m = { .msg_iov = (struct iovec *)&v,
                              .msg_iovlen = 1 };
    ssize_t r = -ENOTSOCK;
    if (!(green__fdcache_get(fd) & GREEN__FDC_PIPE)) {
        r = green__sendmsg_all(fd, &m, 0, true);
    }
    if (r == -ENOTSOCK) {
        r = writev_other(fd, &v, 1, true);
    }
    return green__wrap_ret(r, entry_errno);
}

ssize_t green__readv(int fd, const struct iovec *iov, int iovcnt)
{
    struct msghdr m = { .msg_iov = (struct iovec *)iov,
                        .msg_iovlen = (size_t)iovcnt };
    ssize_t r = -ENOTSOCK;
    if (!(green__fdcache_get(fd) & GREEN__FDC_PIPE)) {
        r = green__recvmsg(fd, &m, 0);
    }
    if (r == -ENOTSOCK) {
        r = readv_other(fd, iov, iovcnt);
    }
    return r;
}

GREEN_WRAP ssize_t readv(int fd, const struct iovec *iov, int iovcnt)
{
    green__ensure_init();
    if (!green__may_park() || iovcnt <= 0 || iovcnt > IOV_MAX) {
        return GREEN_REAL_FN(readv)(fd, iov, iovcnt);
    }
    const int entry_errno = errno;
    return green__wrap_ret(green__readv(fd, iov, iovcnt), entry_errno);
}

ssize_t green__writev(int fd, const struct iovec *iov, int iovcnt)
{
    const struct msghdr m = { .msg_iov = (struct iovec *)iov,
                              .msg_iovlen = (size_t)iovcnt };
    /* The msghdr is ours, the iovec array the program's. */
    const ssize_t r = green__fdcache_get(fd) & GREEN__FDC_PIPE
        ? -ENOTSOCK : green__sendmsg_all(fd, &m, 0, false);
    return r == -ENOTSOCK ? writev_other(fd, iov, iovcnt, false) : r;
}

GREEN_WRAP ssize_t writev(int fd, const struct iovec *iov, int iovcnt)
{
    green__ensure_init();
    if (!green__may_park() || iovcnt <= 0 || iovcnt > IOV_MAX) {
        return GREEN_REAL_FN(writev)(fd, iov, iovcnt);
    }
    const int entry_errno = errno;
    return green__wrap_ret(green__writev(fd, iov, iovcnt), entry_errno);
}
