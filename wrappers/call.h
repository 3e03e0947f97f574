/* SPDX-License-Identifier: MIT */
/* One engine decides how a blocking call waits (wrappers/call.c). A
 * wrapper supplies the attempt, the real call made so that it cannot
 * block, and what kind of call it is; the engine owns the rest:
 *
 *   may it wait   the program's O_NONBLOCK on the fd (asked once per
 *                 call) makes a would-block the program's EAGAIN;
 *   until when    a socket's SO_RCVTIMEO or SO_SNDTIMEO, read when the
 *                 call first waits; EAGAIN when it passes, as the kernel;
 *   how it waits  parked on the fd, a read exclusively (one readiness
 *                 wakes one reader, as the kernel's pipe and accept
 *                 waits), a write shared;
 *   a signal      after a handler, the call restarts when every handler
 *                 that ran had SA_RESTART and no socket timeout bounds
 *                 it, else fails with EINTR (signal(7));
 *   a close       the fd closed or replaced under the call: it goes on
 *                 with the descriptor kept for it (hub/fdtable.c);
 *   progress      what a call did before it stopped (bytes sent,
 *                 messages received) is its result instead of an error.
 *
 * Calls that may not park at all (green__may_park() false, MSG_DONTWAIT,
 * RWF_NOWAIT) never come here: the wrapper makes the real call.
 */
#ifndef GREEN_WRAPPERS_CALL_H
#define GREEN_WRAPPERS_CALL_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hub/hub.h"

/* What kind of call: what it waits for, and whether the fd is a socket
 * whose timeouts bound it. */
#define GREEN__CALL_READ   1        /* waits for the fd to be readable */
#define GREEN__CALL_WRITE  2        /* waits for it to be writable */
#define GREEN__CALL_SOCKET 4        /* SO_RCVTIMEO / SO_SNDTIMEO apply */

/* One blocking call in progress, on the caller's stack (only the caller
 * uses it, only while it runs). */
struct green__call {
    int fd;                 /* the fd it waits on, then the one to retry
                               on (the kept descriptor after a close) */
    unsigned kind;          /* GREEN__CALL_* */
    int64_t deadline;       /* CLOCK_MONOTONIC ns; -1 none; unknown
                               (GREEN__NO_DEADLINE_YET) until it waits */
    size_t done;            /* progress, returned instead of an error */
    signed char nonblocking;    /* the program's O_NONBLOCK; -1 unknown */
};

#define GREEN__NO_DEADLINE_YET (-2)

#define GREEN__CALL(fd_, kind_)                                            \
    ((struct green__call){ .fd = (fd_), .kind = (kind_),                   \
                           .deadline = GREEN__NO_DEADLINE_YET,             \
                           .nonblocking = -1 })

/* What an attempt returns when the call must wait, known without the
 * engine asking about the program's O_NONBLOCK (-EAGAIN: the kernel said
 * so, and the engine asks). Outside the range of -errno. */
#define GREEN__MUST_WAIT (-4096L - 1)

/* Make the real call once, without blocking, on c->fd: its result (>= 0,
 * with c->done added when the attempt counts progress there), -errno,
 * -EAGAIN or GREEN__MUST_WAIT. */
typedef long green__attempt_fn(struct green__call *c, void *arg);

/* Park once on c->fd for c's kind. Returns 0 (attempt again), -EAGAIN
 * (the socket's timeout passed) or -EINTR (a handler that does not
 * restart this call ran). Green thread, parks. */
int green__call_wait(struct green__call *c);

/* Park until a call of c's kind on c->fd would not block (for fds that
 * take no non-blocking attempt: green__fd_must_wait decides). Returns 0
 * or as green__call_wait. errno is kept. Green thread, may park. */
int green__call_wait_ready(struct green__call *c);

/* The deadline of the call (CLOCK_MONOTONIC ns, -1: none): for a socket
 * call, from SO_RCVTIMEO or SO_SNDTIMEO, read on first use. */
int64_t green__call_deadline(struct green__call *c);

/* After a park of the call returned -EINTR: true when the call restarts,
 * as signal(7) says: every handler that ran had SA_RESTART, no socket
 * timeout bounds the call, and it has done nothing yet (a call that
 * transferred something returns that). */
bool green__call_restarts(const struct green__call *c);

/* True when the program itself made c->fd non-blocking (O_NONBLOCK on
 * its open file description); asked once per call. */
bool green__call_nonblocking(struct green__call *c);

/* True when the program itself made `fd` non-blocking: it then gets
 * EAGAIN exactly as natively. */
bool green__fd_nonblocking(int fd);

/* True when `fd` is known (hub/fdtable.c) to be a pipe the program made,
 * without O_NONBLOCK: EAGAIN from RWF_NOWAIT then means it must wait, and
 * there is nothing to ask the kernel first. */
static inline bool green__fd_blocking_pipe(int fd)
{
    return (green__fd_known(fd) & (GREEN__FD_PIPE | GREEN__FD_NONBLOCK))
        == GREEN__FD_PIPE;
}

/* Poll `fd` for `events` (POLLIN, POLLOUT) without waiting. True when the
 * real call would not block: it is ready, in error, hung up, or not a
 * valid fd at all (the real call then reports EBADF). Regular files are
 * always ready. */
bool green__fd_ready(int fd, short events);

/* True when a read (POLLIN) or write (POLLOUT) on `fd` would block: not
 * ready, and the real call would not fail or return at once anyway (a bad
 * fd, the wrong direction, O_NONBLOCK set by the program, a terminal in
 * non-canonical mode with VMIN 0). Costs a poll, and an fcntl only when
 * not ready. Not for sockets (MSG_DONTWAIT answers for them). */
bool green__fd_must_wait(int fd, short events);

/* The deadline a blocking call on socket `fd` gets from the program's
 * SO_RCVTIMEO or SO_SNDTIMEO (`optname`), measured from now; -1 when none
 * is set or `fd` is not a socket. */
int64_t green__sock_deadline(int fd, int optname);

/* Attempt, wait while it would block, attempt again, until it does not.
 * Returns the attempt's result, or on an error, a timeout or a signal
 * c->done if anything was done, else -errno (-EAGAIN for a timeout or
 * the program's O_NONBLOCK, -EINTR). Inline, so that the attempt is a
 * direct call on every blocking call's path. Green thread, may park. */
static inline long green__call_run(struct green__call *c,
                                   green__attempt_fn *attempt, void *arg)
{
    for (;;) {
        long r = attempt(c, arg);
        if (r == -EAGAIN && !green__call_nonblocking(c)) {
            r = GREEN__MUST_WAIT;
        }
        if (r == GREEN__MUST_WAIT) {
            r = green__call_wait(c);
            if (r == 0) {
                continue;
            }
        }
        return r < 0 && c->done > 0 ? (long)c->done : r;
    }
}

#endif
