/* SPDX-License-Identifier: MIT */
/* sendfile, splice and tee: transfers the kernel makes between two fds,
 * parking the green thread where the native call would block.
 *
 * Pipe sides are easy: SPLICE_F_NONBLOCK makes them fail with EAGAIN
 * instead of waiting, so the wrappers add it, park on the pipe that is
 * empty (source) or full (destination), and retry. Socket sides are not:
 * the kernel waits on a socket unless its file has O_NONBLOCK, which
 * libgreen never sets on a file another process may share. So:
 *  - before a splice from a socket to a pipe, or a sendfile from a socket
 *    to a pipe, the wrapper waits until the socket is readable; the call
 *    then takes what is there without waiting;
 *  - a blocking stream socket as the destination takes everything
 *    natively (sendfile: `count` bytes or up to end of file; splice: all
 *    the pipe holds, up to `len`), blocking while its buffer is full. The
 *    wrapper does the same through a buffer: pread from the file (or read
 *    from the pipe), send with MSG_DONTWAIT and park (green__sendmsg_all),
 *    then set the file offset where the native call leaves it. The kernel
 *    first checks the arguments with a transfer of 0 bytes, which never
 *    waits, so that errors are its own.
 * What stays native (the call may block the kernel thread, correct rather
 * than concurrent): a destination socket with SO_SNDTIMEO, a datagram
 * socket, a source that is not a regular file (sendfile), O_DIRECT files.
 * Known difference: when sending what a splice took from a pipe fails
 * (EPIPE, ECONNRESET), those bytes are gone, where natively they would
 * stay in the pipe.
 */
#include "config.h"

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wrappers/wrap.h"

#define CHUNK (64 * 1024)
/* All splice flags (the kernel's SPLICE_F_ALL). */
#define SPLICE_FLAGS (SPLICE_F_MOVE | SPLICE_F_NONBLOCK | SPLICE_F_MORE \
                      | SPLICE_F_GIFT)

static mode_t fd_type(int fd)
{
    struct stat st;
    return fstat(fd, &st) == 0 ? (st.st_mode & S_IFMT) : 0;
}

/* A blocking stream socket without SO_SNDTIMEO: the destination whose
 * native transfer takes everything. */
static bool blocking_stream(int fd)
{
    int type = 0;
    socklen_t len = sizeof type;
    const int entry_errno = errno;
    const bool yes = getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0
        && type == SOCK_STREAM && !green__fd_nonblocking(fd)
        && green__sock_deadline(fd, SO_SNDTIMEO) < 0;
    errno = entry_errno;
    return yes;
}

/* Park once on *fd for a call of `kind` (GREEN__CALL_READ or _WRITE);
 * *fd becomes the fd to go on with. Returns 0 or -EINTR. */
static int park_on(int *fd, unsigned kind)
{
    struct green__call c = GREEN__CALL(*fd, kind);
    const int r = green__call_wait(&c);
    *fd = c.fd;
    return r;
}

/* Park until neither *in (POLLIN) nor *out (POLLOUT) would block; -1
 * leaves one out. Returns 0 or -EINTR; errno is kept. */
static int wait_ready(int *in, int *out)
{
    const int entry_errno = errno;
    int r = 0;
    while (r == 0) {
        if (*out >= 0 && green__fd_must_wait(*out, POLLOUT)) {
            r = park_on(out, GREEN__CALL_WRITE);
        } else if (*in >= 0 && green__fd_must_wait(*in, POLLIN)) {
            r = park_on(in, GREEN__CALL_READ);
        } else {
            break;
        }
    }
    errno = entry_errno;
    return r;
}

/* Send all `n` bytes of `buf` on stream socket `out` (parking), as the
 * kernel's blocking send does. Bytes or -errno. */
static ssize_t send_all(int out, const void *buf, size_t n, int flags)
{
    const struct iovec v = { .iov_base = (void *)buf, .iov_len = n };
    const struct msghdr m = { .msg_iov = (struct iovec *)&v,
                              .msg_iovlen = 1 };
    return green__sendmsg_all(out, &m, flags, true);
}

/* Copy `count` bytes of regular file `in` from *pos to socket `out`, as
 * a blocking sendfile does; *pos ends after the last byte sent. Bytes or
 * -errno (-ENOMEM before anything happened). */
static ssize_t copy_file(int out, int in, off_t *pos, size_t count)
{
    char *const buf = malloc(count < CHUNK ? count : CHUNK);
    if (buf == NULL) {
        return -ENOMEM;
    }
    size_t done = 0;
    ssize_t err = 0;
    while (done < count) {
        const size_t want = count - done < CHUNK ? count - done : CHUNK;
        const ssize_t n = GREEN_REAL_FN(pread)(in, buf, want, *pos);
        if (n <= 0) {
            err = n < 0 ? green__neg_errno() : 0;
            break;
        }
        const ssize_t s = send_all(out, buf, (size_t)n, 0);
        if (s < 0) {
            err = s;
            break;
        }
        done += (size_t)s;
        *pos += s;
        if (s < n) {
            break;
        }
    }
    free(buf);
    return done ? (ssize_t)done : err;
}

/* sendfile from a regular file to a blocking stream socket. Returns true
 * with *r (bytes or -errno) when it made the call, false to leave it to
 * the real sendfile. */
static bool sendfile_stream(int out, int in, off_t *offset, size_t count,
                            ssize_t *r)
{
    const int fl = fcntl(in, F_GETFL);
    if (fl < 0 || (fl & O_DIRECT)
        || fd_type(in) != S_IFREG || !blocking_stream(out)) {
        return false;
    }
    if (GREEN_REAL_FN(sendfile)(out, in, offset, 0) < 0) {
        *r = green__neg_errno();        /* EBADF, EFAULT, EINVAL, ... */
        return true;
    }
    off_t pos = offset != NULL ? *offset : lseek(in, 0, SEEK_CUR);
    if (pos < 0) {
        return false;
    }
    /* The kernel caps one transfer at MAX_RW_COUNT. */
    const size_t max = (size_t)INT_MAX & ~((size_t)getpagesize() - 1);
    *r = copy_file(out, in, &pos, count < max ? count : max);
    if (*r == -ENOMEM) {
        return false;
    }
    if (offset != NULL) {
        *offset = pos;
    } else {
        lseek(in, pos, SEEK_SET);
    }
    return true;
}

static ssize_t sendfile_green(int out, int in, off_t *offset, size_t count)
{
    ssize_t r;
    if ((ssize_t)count < 0) {
        r = GREEN_REAL_FN(sendfile)(out, in, offset, count);    /* EINVAL */
        return r < 0 ? green__neg_errno() : r;
    }
    if (sendfile_stream(out, in, offset, count, &r)) {
        return r;
    }
    /* Into a pipe the kernel moves what fits once there is room, reading
     * a socket source only once it has data. */
    const mode_t tout = fd_type(out);
    int from = tout == S_IFIFO && fd_type(in) == S_IFSOCK ? in : -1;
    if (wait_ready(&from, &out) < 0) {
        return -EINTR;
    }
    in = from >= 0 ? from : in;
    r = GREEN_REAL_FN(sendfile)(out, in, offset, count);
    return r < 0 ? green__neg_errno() : r;
}

GREEN_WRAP ssize_t sendfile(int out, int in, off_t *offset, size_t count)
{
    green__ensure_init();
    if (!green__may_park() || count == 0) {
        return GREEN_REAL_FN(sendfile)(out, in, offset, count);
    }
    const int entry_errno = errno;
    return green__wrap_ret(sendfile_green(out, in, offset, count),
                           entry_errno);
}

GREEN_WRAP ssize_t sendfile64(int out, int in, off64_t *offset, size_t count)
{
    green__ensure_init();
    if (!green__may_park() || count == 0) {
        return GREEN_REAL_FN(sendfile64)(out, in, offset, count);
    }
    const int entry_errno = errno;
    return green__wrap_ret(sendfile_green(out, in, (off_t *)offset, count),
                           entry_errno);
}

/* splice from pipe `in` to a blocking stream socket `out`: wait for data,
 * take what the pipe holds (up to `len`) and send all of it. Returns true
 * with *r when it made the call. */
static bool splice_to_stream(int in, int out, size_t len, unsigned flags,
                             ssize_t *r)
{
    if ((flags & ~SPLICE_FLAGS) || !blocking_stream(out)) {
        return false;
    }
    int none = -1;
    if (wait_ready(&in, &none) < 0) {
        *r = -EINTR;
        return true;
    }
    int avail = 0;
    if (ioctl(in, FIONREAD, &avail) != 0 || avail <= 0) {
        return false;           /* end of file, EAGAIN, EBADF: at once */
    }
    const size_t n = len < (size_t)avail ? len : (size_t)avail;
    char *const buf = malloc(n);
    if (buf == NULL) {
        return false;
    }
    const ssize_t got = GREEN_REAL_FN(read)(in, buf, n);
    if (got < 0) {
        *r = green__neg_errno();
    } else {
        *r = send_all(out, buf, (size_t)got,
                      (flags & SPLICE_F_MORE) ? MSG_MORE : 0);
    }
    free(buf);
    return true;
}

/* A splice or tee between two fds, made so that it parks only the
 * caller: each side that is a pipe or socket may be the one to wait on. */
struct xfer {
    int in, out;
    loff_t *off_in, *off_out;
    size_t len;
    unsigned flags;
    bool is_tee;
    bool watch_in, watch_out;       /* a pipe or socket: may be empty, full */
    bool sock_in, sock_out;         /* a socket side, ready before the call */
    int waited;                     /* side waited on last: 0, 1 in, 2 out */
};

/* Have the engine wait on side `side` (1: in, for data; 2: out, room). */
static long wait_side(struct green__call *c, struct xfer *a, int side)
{
    a->waited = side;
    c->fd = side == 1 ? a->in : a->out;
    c->kind = side == 1 ? GREEN__CALL_READ : GREEN__CALL_WRITE;
    return GREEN__MUST_WAIT;
}

static long xfer_call(const struct xfer *a, unsigned flags)
{
    const ssize_t r = a->is_tee
        ? GREEN_REAL_FN(tee)(a->in, a->out, a->len, flags)
        : GREEN_REAL_FN(splice)(a->in, a->off_in, a->out, a->off_out, a->len,
                                flags);
    return r < 0 ? green__neg_errno() : r;
}

/* Attempt: a socket side must be ready first (TCP waits on its socket
 * even with SPLICE_F_NONBLOCK); then the transfer with SPLICE_F_NONBLOCK.
 * When that would block, wait on the side that is empty or full, or give
 * EAGAIN when the program made a side non-blocking (its answer); when
 * neither side is, the blocking call does it. */
static long xfer_nowait(struct green__call *c, void *arg)
{
    struct xfer *a = arg;
    if (a->waited == 1) {
        a->in = c->fd;              /* the kept descriptor after a close */
    } else if (a->waited == 2) {
        a->out = c->fd;
    }
    a->waited = 0;
    if (a->sock_out && green__fd_must_wait(a->out, POLLOUT)) {
        return wait_side(c, a, 2);
    }
    if (a->sock_in && green__fd_must_wait(a->in, POLLIN)) {
        return wait_side(c, a, 1);
    }
    const long r = xfer_call(a, a->flags | SPLICE_F_NONBLOCK);
    if (r != -EAGAIN) {
        return r;
    }
    if ((a->watch_in && green__fd_nonblocking(a->in))
        || (a->watch_out && green__fd_nonblocking(a->out))) {
        c->nonblocking = 1;         /* a side is: EAGAIN is the answer */
        return -EAGAIN;
    }
    if (a->watch_in && !green__fd_ready(a->in, POLLIN)) {
        return wait_side(c, a, 1);
    }
    if (a->watch_out && !green__fd_ready(a->out, POLLOUT)) {
        return wait_side(c, a, 2);
    }
    return xfer_call(a, a->flags);
}

static ssize_t xfer_run(struct xfer *a)
{
    struct green__call c = GREEN__CALL(a->in, GREEN__CALL_READ);
    return green__call_run(&c, xfer_nowait, a);
}

static ssize_t splice_green(int in, loff_t *off_in, int out, loff_t *off_out,
                            size_t len, unsigned flags)
{
    const mode_t tin = fd_type(in), tout = fd_type(out);
    ssize_t r;
    if (tin == S_IFIFO && tout == S_IFSOCK && off_in == NULL
        && off_out == NULL && splice_to_stream(in, out, len, flags, &r)) {
        return r;
    }
    /* With an offset a socket side fails at once (ESPIPE). */
    struct xfer a = {
        .in = in, .out = out, .off_in = off_in, .off_out = off_out,
        .len = len, .flags = flags,
        .watch_in = tin == S_IFIFO || tin == S_IFSOCK,
        .watch_out = tout == S_IFIFO || tout == S_IFSOCK,
        .sock_in = tin == S_IFSOCK && tout == S_IFIFO && !off_in,
        .sock_out = tout == S_IFSOCK && tin == S_IFIFO && !off_out,
    };
    return xfer_run(&a);
}

GREEN_WRAP ssize_t splice(int in, loff_t *off_in, int out, loff_t *off_out,
                          size_t len, unsigned int flags)
{
    green__ensure_init();
    if (!green__may_park() || len == 0 || (flags & SPLICE_F_NONBLOCK)) {
        return GREEN_REAL_FN(splice)(in, off_in, out, off_out, len, flags);
    }
    const int entry_errno = errno;
    return green__wrap_ret(splice_green(in, off_in, out, off_out, len, flags),
                           entry_errno);
}

GREEN_WRAP ssize_t tee(int in, int out, size_t len, unsigned int flags)
{
    green__ensure_init();
    if (!green__may_park() || len == 0 || (flags & SPLICE_F_NONBLOCK)) {
        return GREEN_REAL_FN(tee)(in, out, len, flags);
    }
    const int entry_errno = errno;
    struct xfer a = { .in = in, .out = out, .len = len, .flags = flags,
                      .is_tee = true, .watch_in = true, .watch_out = true };
    return green__wrap_ret(xfer_run(&a), entry_errno);
}
