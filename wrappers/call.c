/* SPDX-License-Identifier: MIT */
/* The blocking-call engine (wrappers/call.h): attempt, wait, attempt
 * again, with the kernel's rules for O_NONBLOCK, socket timeouts,
 * signals, closes under the call and partial progress; and the probes
 * that tell whether a call on an fd would block.
 *
 * The program's view of its fds is never changed here: probes use poll
 * with a zero timeout, fcntl(F_GETFL) and getsockopt, none of which alter
 * the open file description another process might share.
 */
#include "config.h"

#include <sys/socket.h>
#include <termios.h>

#include "wrappers/call.h"
#include "wrappers/wrap.h"

bool green__fd_nonblocking(int fd)
{
    const unsigned known = green__fd_known(fd);
    if (known != 0) {
        return known & GREEN__FD_NONBLOCK;
    }
    const int fl = fcntl(fd, F_GETFL);
    return fl >= 0 && (fl & O_NONBLOCK);
}

bool green__fd_ready(int fd, short events)
{
    struct pollfd p = { .fd = fd, .events = events };
    return GREEN_REAL_FN(poll)(&p, 1, 0) != 0;
}

bool green__fd_must_wait(int fd, short events)
{
    if (green__fd_ready(fd, events)) {
        return false;
    }
    const int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || (fl & O_NONBLOCK)) {
        return false;
    }
    if ((fl & O_ACCMODE) == ((events & POLLIN) ? O_WRONLY : O_RDONLY)) {
        return false;
    }
    struct termios tio;
    if ((events & POLLIN) && tcgetattr(fd, &tio) == 0
        && !(tio.c_lflag & ICANON) && tio.c_cc[VMIN] == 0) {
        return false;       /* read returns after VTIME even without data */
    }
    return true;
}

int64_t green__sock_deadline(int fd, int optname)
{
    const unsigned known = green__fd_known(fd);
    if (known != 0 && !(known & (optname == SO_RCVTIMEO ? GREEN__FD_RCVTIMEO
                                                       : GREEN__FD_SNDTIMEO))) {
        return -1;                  /* no timeout: nothing to ask */
    }
    struct timeval tv;
    socklen_t len = sizeof tv;
    if (getsockopt(fd, SOL_SOCKET, optname, &tv, &len) != 0
        || green__timeval_zero(&tv)) {
        return -1;
    }
    return green__deadline_in(green__timeval_ns(&tv));
}

bool green__call_nonblocking(struct green__call *c)
{
    if (c->nonblocking < 0) {
        c->nonblocking = green__fd_nonblocking(c->fd);
    }
    return c->nonblocking;
}

int64_t green__call_deadline(struct green__call *c)
{
    if (c->deadline == GREEN__NO_DEADLINE_YET) {
        c->deadline = c->kind & GREEN__CALL_SOCKET
            ? green__sock_deadline(c->fd, c->kind & GREEN__CALL_READ
                                              ? SO_RCVTIMEO : SO_SNDTIMEO)
            : -1;
    }
    return c->deadline;
}

bool green__call_restarts(const struct green__call *c)
{
    return c->done == 0 && c->deadline < 0 && green__signal_restarts();
}

int green__call_wait(struct green__call *c)
{
    const int64_t deadline = green__call_deadline(c);
    const int p = green__park_fd(c->fd, c->kind & GREEN__CALL_READ
                                            ? GREEN__READ | GREEN__ONE
                                            : GREEN__WRITE, deadline);
    c->fd = green__fd_resume(c->fd);
    if (p == -ETIMEDOUT) {
        return -EAGAIN;             /* SO_RCVTIMEO/SO_SNDTIMEO passed */
    }
    if (p == -EINTR && !green__call_restarts(c)) {
        return -EINTR;
    }
    return 0;
}

/* The attempt of green__call_wait_ready: must it wait? */
static long ready(struct green__call *c, void *arg)
{
    (void)arg;
    return green__fd_must_wait(c->fd, c->kind & GREEN__CALL_READ ? POLLIN
                                                                 : POLLOUT)
        ? GREEN__MUST_WAIT : 0;
}

int green__call_wait_ready(struct green__call *c)
{
    const int entry_errno = errno;
    const int r = (int)green__call_run(c, ready, NULL);
    errno = entry_errno;
    return r < 0 ? r : 0;
}
