/* SPDX-License-Identifier: MIT */
/* read, write, readv, writev, and the transfer cores every byte-moving
 * wrapper shares: green__readv, green__writev, green__recvfrom,
 * green__recvmsg and green__sendmsg_all (the socket, positional, batch and
 * transfer calls use them). Each gives the blocking-call engine
 * (wrappers/call.c) an attempt that cannot block; the engine parks and
 * retries; the result and errno are libc's.
 *
 * Sockets are tried with recvfrom/recvmsg/sendmsg and MSG_DONTWAIT, which
 * works per call on any socket and leaves the file status flags alone: a
 * read on a socket is a recv. Other fds are tried with preadv2/pwritev2
 * and RWF_NOWAIT (offset -1: the file position, as read and write use),
 * which pipes, FIFOs, eventfds and most files take: never a flag another
 * process could see, and never a moment between a readiness test and the
 * call in which another process could empty or fill a shared pipe. Where
 * RWF_NOWAIT is refused (ttys), a zero-timeout poll decides: ready
 * (regular files always are) means the real call will not block.
 */
#include "config.h"

#include <limits.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "wrappers/wrap.h"

/* The arguments of a read or write of an iovec array. */
struct rw {
    struct iovec *iov;
    size_t cnt;
    size_t left;            /* bytes not yet written */
};

/* Attempt: read non-socket c->fd with RWF_NOWAIT, which Linux takes on
 * pipes, FIFOs and eventfds: the data, or EAGAIN without a moment in which
 * another process could take the data between a readiness test and the
 * read. -EOPNOTSUPP when the fd does not take RWF_NOWAIT (a tty) or need
 * not wait (a ready file, the program's own O_NONBLOCK): then
 * read_when_ready answers. */
static long read_nowait(struct green__call *c, void *arg)
{
    const struct rw *a = arg;
    const ssize_t r = GREEN_REAL_FN(preadv2)(c->fd, a->iov, (int)a->cnt, -1,
                                             RWF_NOWAIT);
    if (r >= 0) {
        return r;
    }
    /* EINVAL is the fd's answer (an eventfd read under 8 bytes); a
     * kernel without RWF_NOWAIT for this fd says EOPNOTSUPP. */
    if (errno == EAGAIN) {
        return green__fd_blocking_pipe(c->fd)
               || green__fd_must_wait(c->fd, POLLIN)
            ? GREEN__MUST_WAIT : -EOPNOTSUPP;
    }
    return green__neg_errno();
}

/* Attempt: once a read of c->fd would not block, the real readv. */
static long read_when_ready(struct green__call *c, void *arg)
{
    const struct rw *a = arg;
    if (green__fd_must_wait(c->fd, POLLIN)) {
        return GREEN__MUST_WAIT;
    }
    const ssize_t r = GREEN_REAL_FN(readv)(c->fd, a->iov, (int)a->cnt);
    return r < 0 ? green__neg_errno() : r;
}

/* read/readv on an fd that is not a socket. */
static ssize_t readv_other(int fd, const struct iovec *iov, int cnt)
{
    struct rw a = { .iov = (struct iovec *)iov, .cnt = (size_t)cnt };
    struct green__call c = GREEN__CALL(fd, GREEN__CALL_READ);
    const long r = green__call_run(&c, read_nowait, &a);
    return r == -EOPNOTSUPP ? green__call_run(&c, read_when_ready, &a) : r;
}

GREEN_WRAP ssize_t read(int fd, void *buf, size_t count)
{
    green__ensure_init();
    /* Zero bytes never wait (pipe_read returns 0 at once). */
    if (!green__may_park() || count == 0) {
        return GREEN_REAL_FN(read)(fd, buf, count);
    }
    const int entry_errno = errno;
    ssize_t r = -ENOTSOCK;
    if (!(green__fd_known(fd) & GREEN__FD_PIPE)) {
        r = green__recvfrom(fd, buf, count, 0, NULL, NULL);
    }
    if (r == -ENOTSOCK) {
        const struct iovec v = { .iov_base = buf, .iov_len = count };
        r = readv_other(fd, &v, 1);
    }
    return green__wrap_ret(r, entry_errno);
}

/* True for a stream socket (MSG_WAITALL reads it whole). */
static bool is_stream(int fd)
{
    int type = 0;
    socklen_t len = sizeof type;
    return getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0
        && type == SOCK_STREAM;
}

/* The arguments of a receive's attempt. */
struct recv {
    void *buf;
    size_t len;
    int flags;
    struct sockaddr *addr;
    socklen_t *alen;
};

/* Attempt: recvfrom with MSG_DONTWAIT. MSG_WAITALL on a stream socket
 * keeps reading until `len` bytes, end of stream or an error, as the
 * kernel does (datagrams ignore it). */
static long recvfrom_nowait(struct green__call *c, void *arg)
{
    const struct recv *a = arg;
    const bool waitall = (a->flags & MSG_WAITALL) && !(a->flags & MSG_PEEK);
    for (;;) {
        const ssize_t r = GREEN_REAL_FN(recvfrom)(c->fd, (char *)a->buf
                                                  + c->done,
                                                  a->len - c->done,
                                                  a->flags | MSG_DONTWAIT,
                                                  a->addr, a->alen);
        if (r < 0) {
            return green__neg_errno();
        }
        if (r > 0 && waitall && c->done + (size_t)r < a->len
            && is_stream(c->fd) && !green__call_nonblocking(c)) {
            c->done += (size_t)r;
            continue;
        }
        return r + (long)c->done;
    }
}

ssize_t green__recvfrom(int fd, void *buf, size_t len, int flags,
                        struct sockaddr *addr, socklen_t *alen)
{
    struct recv a = { .buf = buf, .len = len, .flags = flags,
                      .addr = addr, .alen = alen };
    struct green__call c = GREEN__CALL(fd, GREEN__CALL_READ
                                           | GREEN__CALL_SOCKET);
    return green__call_run(&c, recvfrom_nowait, &a);
}

/* Attempt: recvmsg with MSG_DONTWAIT. */
static long recvmsg_nowait(struct green__call *c, void *arg)
{
    const struct recv *a = arg;
    const ssize_t r = GREEN_REAL_FN(recvmsg)(c->fd, a->buf,
                                             a->flags | MSG_DONTWAIT);
    return r < 0 ? green__neg_errno() : r;
}

ssize_t green__recvmsg(int fd, struct msghdr *msg, int flags)
{
    struct recv a = { .buf = msg, .flags = flags };
    struct green__call c = GREEN__CALL(fd, GREEN__CALL_READ
                                           | GREEN__CALL_SOCKET);
    return green__call_run(&c, recvmsg_nowait, &a);
}

/* Attempt: write all of a->iov (the caller's copy, advanced past what
 * went) to non-socket c->fd with RWF_NOWAIT, as a blocking write does:
 * what fits goes at once (a write of at most PIPE_BUF bytes to a pipe
 * whole or not at all, as ever). -EOPNOTSUPP, before anything was
 * written, when the fd does not take RWF_NOWAIT (a tty): then
 * write_when_ready answers. */
static long write_nowait(struct green__call *c, void *arg)
{
    struct rw *a = arg;
    while (a->left > 0) {
        const ssize_t r = GREEN_REAL_FN(pwritev2)(c->fd, a->iov, (int)a->cnt,
                                                  -1, RWF_NOWAIT);
        if (r >= 0) {
            c->done += (size_t)r;
            a->left -= (size_t)r;
            green__iov_advance(&a->iov, &a->cnt, (size_t)r);
            continue;
        }
        if (errno != EAGAIN || green__call_nonblocking(c)) {
            return green__neg_errno();
        }
        if (!green__fd_blocking_pipe(c->fd)
            && !green__fd_must_wait(c->fd, POLLOUT)) {
            /* Ready, yet it would block (a file system): the real,
             * blocking write does the rest. */
            const ssize_t w = GREEN_REAL_FN(writev)(c->fd, a->iov,
                                                    (int)a->cnt);
            return w < 0 ? green__neg_errno() : (long)(c->done + (size_t)w);
        }
        return GREEN__MUST_WAIT;
    }
    return (long)c->done;
}

/* Attempt: once a write to c->fd would not block, the real writev. */
static long write_when_ready(struct green__call *c, void *arg)
{
    const struct rw *a = arg;
    if (green__fd_must_wait(c->fd, POLLOUT)) {
        return GREEN__MUST_WAIT;
    }
    const ssize_t r = GREEN_REAL_FN(writev)(c->fd, a->iov, (int)a->cnt);
    return r < 0 ? green__neg_errno() : r;      /* EFAULT for a bad array */
}

/* write/writev on an fd that is not a socket. `trusted`: `iov` is
 * libgreen's own (write), not the program's (writev). */
static ssize_t writev_other(int fd, const struct iovec *iov, int cnt,
                            bool trusted)
{
    struct iovec one, *copy;
    struct green__call c = GREEN__CALL(fd, GREEN__CALL_WRITE);
    const int copied = green__iov_copy(iov, (size_t)cnt, trusted, &one,
                                       &copy);
    if (copied == -ENOMEM) {
        return copied;
    }
    long r = -EOPNOTSUPP;
    if (copied == 0) {
        struct rw a = { .iov = copy, .cnt = (size_t)cnt,
                        .left = green__iov_total(copy, (size_t)cnt) };
        r = green__call_run(&c, write_nowait, &a);
        if (copy != &one) {
            free(copy);
        }
    }
    if (r == -EOPNOTSUPP) {
        struct rw a = { .iov = (struct iovec *)iov, .cnt = (size_t)cnt };
        r = green__call_run(&c, write_when_ready, &a);
    }
    return r;
}

/* The arguments of green__sendmsg_all's attempt. */
struct send {
    struct msghdr m;
    int flags;
    size_t left;            /* bytes not yet sent */
};

/* Attempt: sendmsg() with MSG_DONTWAIT until everything is sent, the way
 * a blocking send on a stream socket returns only when all of it is
 * queued (the iovec array is a copy, advanced past what went out; the
 * control data goes with the first part only). A socket the program made
 * non-blocking returns what fit, as natively; a datagram goes whole or
 * not at all. */
static long send_all(struct green__call *c, void *arg)
{
    struct send *a = arg;
    for (;;) {
        const ssize_t r = GREEN_REAL_FN(sendmsg)(c->fd, &a->m,
                                                 a->flags | MSG_DONTWAIT);
        if (r < 0) {
            return green__neg_errno();
        }
        c->done += (size_t)r;
        a->left -= (size_t)r;
        if (a->left == 0 || green__call_nonblocking(c)) {
            return (long)c->done;
        }
        green__iov_advance(&a->m.msg_iov, &a->m.msg_iovlen, (size_t)r);
        a->m.msg_control = NULL;
        a->m.msg_controllen = 0;
    }
}

ssize_t green__sendmsg_all(int fd, const struct msghdr *msg, int flags,
                           bool trusted)
{
    struct send a = { .flags = flags };
    struct iovec one, *copy = NULL;
    int c = -EFAULT;
    if (trusted) {
        a.m = *msg;
    }
    if ((trusted || green__peek(&a.m, msg, sizeof a.m) == 0)
        && a.m.msg_iovlen <= IOV_MAX) {
        c = green__iov_copy(a.m.msg_iov, a.m.msg_iovlen, trusted, &one,
                            &copy);
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
    a.m.msg_iov = copy;
    a.left = green__iov_total(copy, a.m.msg_iovlen);
    struct green__call call = GREEN__CALL(fd, GREEN__CALL_WRITE
                                              | GREEN__CALL_SOCKET);
    const long r = green__call_run(&call, send_all, &a);
    if (copy != &one) {
        free(copy);
    }
    return r;
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
    if (!(green__fd_known(fd) & GREEN__FD_PIPE)) {
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
    if (!(green__fd_known(fd) & GREEN__FD_PIPE)) {
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
    const ssize_t r = green__fd_known(fd) & GREEN__FD_PIPE
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
