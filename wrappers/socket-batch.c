/* SPDX-License-Identifier: MIT */
/* recvmmsg and sendmmsg: batches of messages on one socket, each message
 * received or sent as a blocking recvmsg/sendmsg would be.
 *
 * The kernel does each batch with MSG_DONTWAIT, so that it keeps its own
 * rules for what a batch returns (counts, msg_len, msg_flags, the error
 * it saves for the next call); the wrapper parks where the native call
 * would have blocked, between messages, and goes on with the rest.
 *
 * What recvmmsg(2) lets a program observe, kept here:
 *  - every datagram is a blocking receive (with SO_RCVTIMEO, fresh for
 *    each) until vlen arrived; MSG_WAITFORONE makes all after the first
 *    non-blocking;
 *  - the timeout is checked only after a datagram arrives: a call can wait
 *    past it (its BUGS section), and it returns the datagrams it has once
 *    the timeout passed. Each batch gets the time left, so the kernel
 *    stops a batch where it would have stopped the native call, and on
 *    success the time left is written back to *timeout, as the kernel does.
 * sendmmsg(2): each message is a blocking sendmsg; on a stream socket a
 * message the batch sent only part of is finished (parking) before the
 * next, and an error after the first message ends the call with the count.
 */
#include "config.h"

#include <limits.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "wrappers/wrap.h"

/* The kernel handles at most UIO_MAXIOV messages per call. */
#define MAX_BATCH IOV_MAX

/* After a batch that ended early: true when the socket holds an error
 * the kernel stopped for (it saved it for the next call: POLLERR). */
static bool sock_error_pending(int fd)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    return GREEN_REAL_FN(poll)(&p, 1, 0) == 1 && (p.revents & POLLERR);
}

/* The arguments of a batch's attempt. */
struct batch {
    struct mmsghdr *vec;
    unsigned vlen;
    int flags;
    int64_t end;                /* recvmmsg's timeout, or -1 */
};

/* Attempt: receive batches with MSG_DONTWAIT until vlen messages, or
 * until the kernel would have stopped the native call; c->done counts
 * the messages. */
static long recvmmsg_nowait(struct green__call *c, void *arg)
{
    const struct batch *a = arg;
    while (c->done < a->vlen) {
        struct timespec left = green__timespec_left(a->end);
        const int r = GREEN_REAL_FN(recvmmsg)(c->fd, a->vec + c->done,
                                              a->vlen - (unsigned)c->done,
                                              a->flags | MSG_DONTWAIT,
                                              a->end < 0 ? NULL : &left);
        if (r <= 0) {
            return r < 0 ? green__neg_errno() : (long)c->done;
        }
        c->done += (unsigned)r;
        c->deadline = GREEN__NO_DEADLINE_YET;   /* SO_RCVTIMEO: per message */
        if ((a->flags & MSG_WAITFORONE)
            || (a->end >= 0 && green__timespec_zero(&left))
            || (a->vec[c->done - 1].msg_hdr.msg_flags & MSG_OOB)
            || (c->done < a->vlen && sock_error_pending(c->fd))) {
            break;
        }
    }
    return (long)c->done;
}

static int recvmmsg_loop(int fd, struct mmsghdr *vec, unsigned vlen,
                         int flags, int64_t end)
{
    struct batch a = { .vec = vec, .vlen = vlen, .flags = flags, .end = end };
    struct green__call c = GREEN__CALL(fd, GREEN__CALL_READ
                                           | GREEN__CALL_SOCKET);
    return (int)green__call_run(&c, recvmmsg_nowait, &a);
}

GREEN_WRAP int recvmmsg(int fd, struct mmsghdr *vec, unsigned int vlen,
                        int flags, struct timespec *timeout)
{
    green__ensure_init();
    struct timespec ts;
    /* No messages, MSG_DONTWAIT and MSG_ERRQUEUE never wait; a timeout
     * the kernel rejects (EFAULT, EINVAL) fails at once. */
    if (!green__may_park() || vlen == 0
        || (flags & (MSG_DONTWAIT | MSG_ERRQUEUE)) || (timeout != NULL
            && (green__peek(&ts, timeout, sizeof ts) != 0
                || !green__timeout_valid(&ts)))) {
        return GREEN_REAL_FN(recvmmsg)(fd, vec, vlen, flags, timeout);
    }
    const int entry_errno = errno;
    const int64_t end = timeout != NULL ? green__deadline_after(&ts) : -1;
    int r = recvmmsg_loop(fd, vec, vlen < MAX_BATCH ? vlen : MAX_BATCH,
                          flags, end);
    if (r > 0 && timeout != NULL) {
        ts = green__timespec_left(end);
        if (green__poke(timeout, &ts, sizeof ts) != 0) {
            r = -EFAULT;
        }
    }
    return (int)green__wrap_ret(r, entry_errno);
}

/* A blocking sendmsg sends a whole message on a stream socket: when the
 * batch sent only the first e->msg_len bytes of message `e`, send the rest
 * (without its control data, which went with the first part), parking,
 * and add what went to e->msg_len. True when the call must stop here. */
static bool finish_message(int fd, struct mmsghdr *e, int flags)
{
    struct msghdr m = e->msg_hdr;       /* the kernel just read it */
    struct iovec one, *copy;
    if (green__iov_copy(m.msg_iov, m.msg_iovlen, false, &one, &copy) != 0) {
        return true;
    }
    bool stop = false;
    const size_t total = green__iov_total(copy, m.msg_iovlen);
    if (e->msg_len < total) {
        stop = green__fd_nonblocking(fd);
    }
    if (e->msg_len < total && !stop) {
        m.msg_iov = copy;
        green__iov_advance(&m.msg_iov, &m.msg_iovlen, e->msg_len);
        m.msg_control = NULL;
        m.msg_controllen = 0;
        const ssize_t r = green__sendmsg_all(fd, &m, flags, true);
        if (r > 0) {
            e->msg_len += (unsigned)r;
        }
        stop = e->msg_len < total;
    }
    if (copy != &one) {
        free(copy);
    }
    return stop;
}

/* Attempt: send batches with MSG_DONTWAIT until vlen messages went,
 * each whole (finish_message); c->done counts the messages. */
static long sendmmsg_nowait(struct green__call *c, void *arg)
{
    const struct batch *a = arg;
    while (c->done < a->vlen) {
        const int r = GREEN_REAL_FN(sendmmsg)(c->fd, a->vec + c->done,
                                              a->vlen - (unsigned)c->done,
                                              a->flags | MSG_DONTWAIT);
        if (r <= 0) {
            return r < 0 ? green__neg_errno() : (long)c->done;
        }
        c->done += (unsigned)r;
        c->deadline = GREEN__NO_DEADLINE_YET;   /* SO_SNDTIMEO: per message */
        if (finish_message(c->fd, &a->vec[c->done - 1], a->flags)) {
            break;
        }
    }
    return (long)c->done;
}

static int sendmmsg_loop(int fd, struct mmsghdr *vec, unsigned vlen,
                         int flags)
{
    struct batch a = { .vec = vec, .vlen = vlen, .flags = flags, .end = -1 };
    struct green__call c = GREEN__CALL(fd, GREEN__CALL_WRITE
                                           | GREEN__CALL_SOCKET);
    return (int)green__call_run(&c, sendmmsg_nowait, &a);
}

/* The first `sent` messages went out: if any carried ancillary data
 * (SCM_RIGHTS may pass fds to another process), the fd cache forgets all. */
static void forget_if_rights(const struct mmsghdr *vec, int sent)
{
    for (int i = 0; i < sent; i++) {
        if (vec[i].msg_hdr.msg_controllen > 0) {
            green__fd_forget_all();
            return;
        }
    }
}

GREEN_WRAP int sendmmsg(int fd, struct mmsghdr *vec, unsigned int vlen,
                        int flags)
{
    green__ensure_init();
    if (!green__may_park() || vlen == 0 || (flags & MSG_DONTWAIT)) {
        const int r = GREEN_REAL_FN(sendmmsg)(fd, vec, vlen, flags);
        forget_if_rights(vec, r);
        return r;
    }
    const int entry_errno = errno;
    const int r = (int)green__wrap_ret(
        sendmmsg_loop(fd, vec, vlen < MAX_BATCH ? vlen : MAX_BATCH, flags),
        entry_errno);
    forget_if_rights(vec, r);
    return r;
}
