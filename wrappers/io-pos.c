/* SPDX-License-Identifier: MIT */
/* Positional I/O: pread, pwrite, preadv, pwritev, preadv2, pwritev2 and
 * their *64 names (the same functions on LP64; glibc exports both).
 *
 * A positional call blocks only on an fd that has both a position and a
 * wait: pipes, FIFOs, sockets, ttys, eventfds and timerfds give ESPIPE at
 * once (their files have no FMODE_PREAD), regular files never wait. So
 * the wrappers ask poll first (regular files are always ready) and, when
 * the fd is not ready, let the kernel tell with a zero-length preadv or
 * pwritev at the same offset whether the real call would fail at once
 * (ESPIPE, EBADF, EINVAL); only a device that takes positional I/O and
 * is not ready makes the green thread park.
 *
 * preadv2 and pwritev2 with offset -1 use the file position, like readv
 * and writev: on a pipe or socket they park exactly as those do
 * (wrappers/io.c). RWF_NOWAIT, or flags this file does not know, pass
 * straight through: the program asked for EAGAIN, or the kernel answers
 * at once.
 */
#include "config.h"

#include <limits.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include "wrappers/wrap.h"

_Static_assert(sizeof(off_t) == sizeof(off64_t),
               "the *64 names are the same functions (LP64)");

/* The preadv2/pwritev2 flags that change nothing on a pipe or socket. */
#define KNOWN_RWF (RWF_HIPRI | RWF_DSYNC | RWF_SYNC | RWF_APPEND)

/* The kind of call that waits for `events` (POLLIN or POLLOUT). */
static unsigned kind_of(short events)
{
    return events == POLLIN ? GREEN__CALL_READ : GREEN__CALL_WRITE;
}

/* Attempt: would a positional call of c's kind at offset *arg block? The
 * fd is ready, or the real call fails at once, or green__fd_must_wait
 * says it returns anyway: 0 (make it). */
static long pos_ready(struct green__call *c, void *arg)
{
    const off_t off = *(const off_t *)arg;
    const short events = c->kind & GREEN__CALL_READ ? POLLIN : POLLOUT;
    if (green__fd_ready(c->fd, events)) {
        return 0;
    }
    /* A zero-length transfer never reaches the driver: 0 when the fd
     * takes positional I/O, else the error the real call gives. */
    const ssize_t probe = events == POLLIN
        ? GREEN_REAL_FN(preadv)(c->fd, NULL, 0, off)
        : GREEN_REAL_FN(pwritev)(c->fd, NULL, 0, off);
    return probe < 0 || !green__fd_must_wait(c->fd, events)
        ? 0 : GREEN__MUST_WAIT;
}

/* Park until a positional read (POLLIN) or write (POLLOUT) of *fdp at
 * `off` would not block; *fdp becomes the fd to make the call on. Returns
 * 0, or -EINTR when a signal handler without SA_RESTART ran. errno is
 * kept. */
static int wait_pos(int *fdp, short events, off_t off)
{
    struct green__call c = GREEN__CALL(*fdp, kind_of(events));
    const int entry_errno = errno;
    const long r = green__call_run(&c, pos_ready, &off);
    errno = entry_errno;
    *fdp = c.fd;
    return (int)r;
}

/* The wait before a positional call of `n` bytes or iovecs: 0 (make the
 * real call on *fd) or -EINTR. */
static int pos_wait(int *fd, short events, size_t n, off_t off)
{
    return green__may_park() && n > 0 ? wait_pos(fd, events, off) : 0;
}

GREEN_WRAP ssize_t pread(int fd, void *buf, size_t count, off_t off)
{
    green__ensure_init();
    if (pos_wait(&fd, POLLIN, count, off) < 0) {
        return green__wrap_ret(-EINTR, errno);
    }
    return GREEN_REAL_FN(pread)(fd, buf, count, off);
}

GREEN_WRAP ssize_t pwrite(int fd, const void *buf, size_t count, off_t off)
{
    green__ensure_init();
    if (pos_wait(&fd, POLLOUT, count, off) < 0) {
        return green__wrap_ret(-EINTR, errno);
    }
    return GREEN_REAL_FN(pwrite)(fd, buf, count, off);
}

GREEN_WRAP ssize_t preadv(int fd, const struct iovec *iov, int cnt,
                          off_t off)
{
    green__ensure_init();
    if (pos_wait(&fd, POLLIN, cnt > 0 ? (size_t)cnt : 0, off) < 0) {
        return green__wrap_ret(-EINTR, errno);
    }
    return GREEN_REAL_FN(preadv)(fd, iov, cnt, off);
}

GREEN_WRAP ssize_t pwritev(int fd, const struct iovec *iov, int cnt,
                           off_t off)
{
    green__ensure_init();
    if (pos_wait(&fd, POLLOUT, cnt > 0 ? (size_t)cnt : 0, off) < 0) {
        return green__wrap_ret(-EINTR, errno);
    }
    return GREEN_REAL_FN(pwritev)(fd, iov, cnt, off);
}

/* The *64 names: the same functions on LP64 (see the assertion above). */
GREEN_WRAP ssize_t pread64(int fd, void *buf, size_t count, off64_t off)
{
    return pread(fd, buf, count, off);
}

GREEN_WRAP ssize_t pwrite64(int fd, const void *buf, size_t count,
                            off64_t off)
{
    return pwrite(fd, buf, count, off);
}

GREEN_WRAP ssize_t preadv64(int fd, const struct iovec *iov, int cnt,
                            off64_t off)
{
    return preadv(fd, iov, cnt, off);
}

GREEN_WRAP ssize_t pwritev64(int fd, const struct iovec *iov, int cnt,
                             off64_t off)
{
    return pwritev(fd, iov, cnt, off);
}

/* True for a pipe, FIFO or socket: what readv and writev park on. */
static bool is_stream(int fd)
{
    struct stat st;
    return fstat(fd, &st) == 0
        && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode));
}

/* How preadv2/pwritev2 (`events` POLLIN or POLLOUT) should go: 1 when
 * readv/writev's path does the call, else 0 after waiting (if it may
 * block) for the real call to do it. */
static int v2_route(int *fd, short events, off_t off)
{
    if (off != -1) {
        return wait_pos(fd, events, off);
    }
    if (is_stream(*fd)) {
        return 1;
    }
    struct green__call c = GREEN__CALL(*fd, kind_of(events));
    const int r = green__call_wait_ready(&c);
    *fd = c.fd;
    return r;
}

/* Whether preadv2/pwritev2 may park at all: RWF_NOWAIT asks for EAGAIN,
 * unknown flags and bad counts fail at once. */
static bool v2_may_park(int cnt, int flags)
{
    return green__may_park() && cnt > 0 && cnt <= IOV_MAX
        && !(flags & ~KNOWN_RWF);
}

/* preadv2 (`events` POLLIN) or pwritev2 (POLLOUT) for a green thread:
 * bytes, or -1 with errno set. */
static ssize_t v2_green(int fd, const struct iovec *iov, int cnt, off_t off,
                        int flags, short events)
{
    const int entry_errno = errno;
    const int route = v2_route(&fd, events, off);
    if (route > 0) {
        return green__wrap_ret(events == POLLIN ? green__readv(fd, iov, cnt)
                                                : green__writev(fd, iov, cnt),
                               entry_errno);
    }
    if (route < 0) {
        return green__wrap_ret(route, entry_errno);
    }
    return events == POLLIN ? GREEN_REAL_FN(preadv2)(fd, iov, cnt, off, flags)
                            : GREEN_REAL_FN(pwritev2)(fd, iov, cnt, off, flags);
}

GREEN_WRAP ssize_t preadv2(int fd, const struct iovec *iov, int cnt,
                           off_t off, int flags)
{
    green__ensure_init();
    if (!v2_may_park(cnt, flags)) {
        return GREEN_REAL_FN(preadv2)(fd, iov, cnt, off, flags);
    }
    return v2_green(fd, iov, cnt, off, flags, POLLIN);
}

GREEN_WRAP ssize_t pwritev2(int fd, const struct iovec *iov, int cnt,
                            off_t off, int flags)
{
    green__ensure_init();
    if (!v2_may_park(cnt, flags)) {
        return GREEN_REAL_FN(pwritev2)(fd, iov, cnt, off, flags);
    }
    return v2_green(fd, iov, cnt, off, flags, POLLOUT);
}

GREEN_WRAP ssize_t preadv64v2(int fd, const struct iovec *iov, int cnt,
                              off64_t off, int flags)
{
    return preadv2(fd, iov, cnt, off, flags);
}

GREEN_WRAP ssize_t pwritev64v2(int fd, const struct iovec *iov, int cnt,
                               off64_t off, int flags)
{
    return pwritev2(fd, iov, cnt, off, flags);
}
