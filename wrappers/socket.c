/* SPDX-License-Identifier: MIT */
/* Sockets: recv, recvfrom, recvmsg, send, sendto, sendmsg, accept,
 * accept4, connect. Each tries the real call in a way that cannot block,
 * parks on the fd when it would, and retries; results and errno are libc's.
 *
 * Receives and sends add MSG_DONTWAIT per call. accept has no such flag: a
 * zero-timeout poll tells whether a connection is waiting. A TCP connect
 * on a blocking socket goes through io_uring (hub/uring.c), which changes
 * no flag. Elsewhere (Unix-domain and other stream sockets, or no
 * io_uring: seccomp, kernel.io_uring_disabled) the runtime sets O_NONBLOCK
 * for the one connect(2) call, restores the flags, and waits for the
 * handshake: a socket in the middle of connecting is rarely in use by
 * anyone else.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/uio.h>

#include "wrappers/wrap.h"

/* Receive flags that never wait: MSG_DONTWAIT, and MSG_ERRQUEUE, which
 * reads the error queue and gives EAGAIN when it is empty (ip(7)). */
#define NEVER_WAITS (MSG_DONTWAIT | MSG_ERRQUEUE)


GREEN_WRAP ssize_t recv(int fd, void *buf, size_t len, int flags)
{
    green__ensure_init();
    if (!green__may_park() || (flags & NEVER_WAITS)) {
        return green__nowait_ret(GREEN_REAL_FN(recv)(fd, buf, len, flags));
    }
    const int entry_errno = errno;
    return green__wrap_ret(green__recvfrom(fd, buf, len, flags, NULL, NULL),
                           entry_errno);
}

GREEN_WRAP ssize_t recvfrom(int fd, void *buf, size_t len, int flags,
                            struct sockaddr *addr, socklen_t *alen)
{
    green__ensure_init();
    if (!green__may_park() || (flags & NEVER_WAITS)) {
        return green__nowait_ret(
            GREEN_REAL_FN(recvfrom)(fd, buf, len, flags, addr, alen));
    }
    const int entry_errno = errno;
    return green__wrap_ret(green__recvfrom(fd, buf, len, flags, addr, alen),
                           entry_errno);
}

GREEN_WRAP ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
    green__ensure_init();
    if (!green__may_park() || (flags & NEVER_WAITS)) {
        return green__nowait_ret(GREEN_REAL_FN(recvmsg)(fd, msg, flags));
    }
    const int entry_errno = errno;
    return green__wrap_ret(green__recvmsg(fd, msg, flags), entry_errno);
}

GREEN_WRAP ssize_t send(int fd, const void *buf, size_t len, int flags)
{
    green__ensure_init();
    if (!green__may_park() || (flags & MSG_DONTWAIT)) {
        return green__nowait_ret(GREEN_REAL_FN(send)(fd, buf, len, flags));
    }
    const int entry_errno = errno;
    const struct iovec v = { .iov_base = (void *)buf, .iov_len = len };
    const struct msghdr m = { .msg_iov = (struct iovec *)&v,
                              .msg_iovlen = 1 };
    return green__wrap_ret(green__sendmsg_all(fd, &m, flags, true),
                           entry_errno);
}

GREEN_WRAP ssize_t sendto(int fd, const void *buf, size_t len, int flags,
                          const struct sockaddr *addr, socklen_t alen)
{
    green__ensure_init();
    if (!green__may_park() || (flags & MSG_DONTWAIT)) {
        return green__nowait_ret(
            GREEN_REAL_FN(sendto)(fd, buf, len, flags, addr, alen));
    }
    const int entry_errno = errno;
    const struct iovec v = { .iov_base = (void *)buf, .iov_len = len };
    const struct msghdr m = { .msg_name = (void *)addr, .msg_namelen = alen,
                              .msg_iov = (struct iovec *)&v,
                              .msg_iovlen = 1 };
    return green__wrap_ret(green__sendmsg_all(fd, &m, flags, true),
                           entry_errno);
}

GREEN_WRAP ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
    green__ensure_init();
    ssize_t r;
    if (!green__may_park() || (flags & MSG_DONTWAIT)) {
        r = green__nowait_ret(GREEN_REAL_FN(sendmsg)(fd, msg, flags));
    } else {
        const int entry_errno = errno;
        r = green__wrap_ret(green__sendmsg_all(fd, msg, flags, false),
                            entry_errno);
    }
    if (r >= 0 && msg->msg_controllen > 0) {
        green__fd_forget_all();    /* SCM_RIGHTS may have sent fds */
    }
    return r;
}

/* Attempt: would accept block? Only on a listening socket, with nothing
 * pending, that the program has not made non-blocking (then -EAGAIN, for
 * the engine to see); anything else (a non-socket, a socket that is not
 * listening, a bad fd) gets the real call's answer. */
static long accept_ready(struct green__call *c, void *arg)
{
    (void)arg;
    if (green__fd_ready(c->fd, POLLIN)) {
        return 0;
    }
    int listening = 0;
    socklen_t len = sizeof listening;
    if (getsockopt(c->fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0
        || !listening) {
        return 0;
    }
    return -EAGAIN;
}

/* Wait until accept on *fd will not block; *fd becomes the fd to accept
 * on. Returns 0, -EAGAIN when the listener's SO_RCVTIMEO passed first
 * (the kernel's answer), or -EINTR; the program's own non-blocking
 * listener gets 0, and its EAGAIN from the real call. errno is kept. */
static int accept_wait(int *fd)
{
    struct green__call c = GREEN__CALL(*fd, GREEN__CALL_READ
                                            | GREEN__CALL_SOCKET);
    const int entry_errno = errno;
    long r = green__call_run(&c, accept_ready, NULL);
    errno = entry_errno;
    *fd = c.fd;
    return r == -EAGAIN && c.nonblocking > 0 ? 0 : (int)r;
}

/* Tell the fd cache about socket `fd` that listening socket `lfd` gave:
 * known if `lfd` is, with its timeouts (Linux copies them to the new
 * socket; O_NONBLOCK it does not copy). Returns `fd`. */
static int accepted(int lfd, int fd, int flags)
{
    const unsigned l = green__fd_known(lfd);
    if (l != 0) {
        green__fd_made(fd, GREEN__FD_SOCKET
                            | (l & (GREEN__FD_RCVTIMEO | GREEN__FD_SNDTIMEO))
                            | (flags & SOCK_NONBLOCK ? GREEN__FD_NONBLOCK : 0));
    } else {
        green__fd_forget(fd);
    }
    return fd;
}

static int accept_end(int fd, struct sockaddr *addr, socklen_t *addrlen,
                      int flags)
{
    const int r = GREEN_REAL_FN(accept4)(fd, addr, addrlen, flags);
    const int err = errno;
    green__fd_call_end();
    accepted(fd, r, flags);
    errno = err;
    return r;
}

GREEN_WRAP int accept4(int fd, struct sockaddr *addr, socklen_t *addrlen,
                       int flags)
{
    green__ensure_init();
    /* Unknown flags: EINVAL at once, without waiting. */
    if (green__may_park() && !(flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC))) {
        const int entry_errno = errno;
        const int r = accept_wait(&fd);
        if (r < 0) {
            return (int)green__wrap_ret(r, entry_errno);
        }
        errno = entry_errno;
        return accept_end(fd, addr, addrlen, flags);
    }
    return accepted(fd, GREEN_REAL_FN(accept4)(fd, addr, addrlen, flags), flags);
}

GREEN_WRAP int accept(int fd, struct sockaddr *addr, socklen_t *addrlen)
{
    green__ensure_init();
    if (green__may_park()) {
        const int entry_errno = errno;
        const int r = accept_wait(&fd);
        if (r < 0) {
            return (int)green__wrap_ret(r, entry_errno);
        }
        errno = entry_errno;
        return accept_end(fd, addr, addrlen, 0);
    }
    return accepted(fd, GREEN_REAL_FN(accept)(fd, addr, addrlen), 0);
}

/* One non-blocking connect(2) on a socket the program sees as blocking. */
static int connect_once(int fd, int flags, const struct sockaddr *addr,
                        socklen_t len)
{
    if (fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) {
        return green__neg_errno();
    }
    const int r = GREEN_REAL_FN(connect)(fd, addr, len);
    const int err = errno;
    fcntl(fd, F_SETFL, flags);
    return r == 0 ? 0 : -err;
}

/* A TCP connect through io_uring (hub/uring.c): no flag of the socket
 * changes. Returns the connect's result, or -ENOSYS when io_uring cannot
 * be used (then the caller connects another way). */
static int connect_uring(int fd, const struct sockaddr *addr, socklen_t len)
{
    struct sockaddr_storage copy;
    struct green__uring_op *op;
    if (len > sizeof copy || green__peek(&copy, addr, len) != 0) {
        /* EINVAL or EFAULT, at once. */
        return GREEN_REAL_FN(connect)(fd, addr, len) == 0 ? 0
                                                       : green__neg_errno();
    }
    if (green__uring_connect(fd, (struct sockaddr *)&copy, len, &op) != 0) {
        return -ENOSYS;
    }
    struct green__call c = GREEN__CALL(fd, GREEN__CALL_WRITE
                                           | GREEN__CALL_SOCKET);
    for (;;) {
        const int r = green__uring_wait(op, green__call_deadline(&c));
        /* A handler with SA_RESTART and no timeout: the kernel's
         * blocking connect goes on waiting. */
        if (r == -EINTR && green__call_restarts(&c)) {
            continue;
        }
        if (r == -EINTR || r == -ETIMEDOUT) {
            /* Interrupted, or SO_SNDTIMEO passed (EINPROGRESS, as the
             * kernel says): the handshake goes on without us. */
            green__uring_abandon(op);
            return r == -EINTR ? r : -EINPROGRESS;
        }
        return r;
    }
}

/* The arguments of connect_again. */
struct connect {
    int flags;                      /* the socket's file status flags */
    const struct sockaddr *addr;
    socklen_t len;
};

/* Attempt: connect again once the handshake may have ended. */
static long connect_again(struct green__call *c, void *arg)
{
    const struct connect *a = arg;
    const int r = connect_once(c->fd, a->flags, a->addr, a->len);
    if (r == -EALREADY || r == -EINPROGRESS) {
        return GREEN__MUST_WAIT;
    }
    return r == -EISCONN ? 0 : r;
}

static int connect_green(int fd, const struct sockaddr *addr, socklen_t len)
{
    const int flags = fcntl(fd, F_GETFL);
    int type = 0, domain = 0;
    socklen_t tlen = sizeof type, dlen = sizeof domain;
    if (flags < 0 || (flags & O_NONBLOCK)
        || getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) != 0
        || type == SOCK_DGRAM) {
        /* Not a socket, a bad fd, or the program asked for non-blocking:
         * the real call answers at once. */
        return GREEN_REAL_FN(connect)(fd, addr, len) == 0 ? 0
                                                       : green__neg_errno();
    }
    if (type == SOCK_STREAM
        && getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &dlen) == 0
        && (domain == AF_INET || domain == AF_INET6)) {
        const int r = connect_uring(fd, addr, len);
        if (r != -ENOSYS) {
            return r;
        }
    }
    struct green__backoff b = GREEN__BACKOFF(GREEN__NS_PER_MS,
                                             16 * GREEN__NS_PER_MS);
    int r;
    while ((r = connect_once(fd, flags, addr, len)) == -EAGAIN) {
        /* A Unix-domain listener with a full backlog: a blocking connect
         * would wait for room, which poll does not announce. */
        if (green__backoff_sleep(&b, -1) == -EINTR
            && !green__signal_restarts()) {
            return -EINTR;
        }
    }
    if (r != -EINPROGRESS) {
        return r;
    }
    /* The handshake is under way. Once the socket is writable, connect
     * again, as the kernel's blocking connect does on waking: that marks
     * the socket connected (a later connect gets EISCONN) or reports and
     * clears the error (ECONNREFUSED, ...). SO_SNDTIMEO bounds a blocking
     * connect: EINPROGRESS then. An interrupted connect goes on connecting
     * in the background. */
    struct connect a = { .flags = flags, .addr = addr, .len = len };
    struct green__call c = GREEN__CALL(fd, GREEN__CALL_WRITE
                                           | GREEN__CALL_SOCKET);
    r = green__call_wait(&c);
    if (r == 0) {
        r = (int)green__call_run(&c, connect_again, &a);
    }
    return r == -EAGAIN ? -EINPROGRESS : r;
}

GREEN_WRAP int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
    green__ensure_init();
    if (!green__may_park()) {
        return GREEN_REAL_FN(connect)(fd, addr, len);
    }
    const int entry_errno = errno;
    return (int)green__wrap_ret(connect_green(fd, addr, len), entry_errno);
}
