/* SPDX-License-Identifier: MIT */
/* Parking: the single way a green thread waits for something outside the
 * run queue — an fd to become ready, a set of fds (poll), a deadline — and
 * the hub-side callback that ends the wait. A signal for the thread ends
 * any wait too (hub/signal.c), after its handler has run. Every watcher lives in the
 * thread object (or a heap array it owns), never on the thread's stack,
 * which copy mode moves around. Parking reports why it woke; retrying the
 * real call is the wrapper's job.
 *
 * A thread's single-fd wait lingers after it ends: it stays among the
 * fd's waiters (hub/fdtable.c) while the thread runs, so the fd stays in
 * epoll, and the thread's next wait on the same fd for the same events
 * uses it as it is. A thread per connection that reads, answers and
 * reads again so costs no epoll_ctl per request. A lingering wait ends
 * when it fires while its thread is neither waiting on it nor about to
 * run, when the thread waits for anything else, when the program closes
 * or replaces the fd (hub/fdtable.c), and when the thread exits. A close
 * the wrappers never see (a raw close system call) while a watcher
 * lingers, followed by the number's reuse, would leave that watcher with
 * no epoll registration; libgreen's close wrappers cover close, dup2,
 * dup3, close_range, closefrom and the stdio and dirent closes.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include "hub/internal.h"
#include "preload/real.h"

int64_t green__now(void)
{
    struct timespec ts;
    GREEN_REAL_FN(clock_gettime)(CLOCK_MONOTONIC, &ts);
    return green__timespec_ns(&ts);
}

void green__park_unlinger(struct green__thread *t)
{
    if (t->io_linger) {
        green__fd_unwatch(&t->io);
        t->io_armed = false;
        t->io_linger = false;
    }
}

void green__park_disarm(struct green__thread *t)
{
    t->io_linger = t->io_armed;
    for (unsigned i = 0; i < t->nios; i++) {
        green__fd_unwatch(&t->ios[i]);
    }
    t->nios = 0;
    if (t->timer_armed) {
        green__loop_timer_stop(&t->timer);
        t->timer_armed = false;
    }
    if (t->lot_key != NULL) {
        green__lot_unlink(t);
    }
}

void green__park_fire(void *data, bool timeout)
{
    struct green__thread *t = data;
    if (t->state != GREEN__PARKED) {
        /* Runnable for a signal handler, still in a lot queue: a deadline
         * that passed meanwhile is seen when it parks again. Or the fd of
         * a lingering watcher is ready again before its thread ran: it is
         * on the run queue and soon parks on that fd again or stops the
         * watcher, so leave it (stopping and restarting would cost libev
         * two epoll_ctl). */
        if (timeout) {
            t->timer_armed = false;
        } else if (t->state != GREEN__RUNNABLE) {
            green__park_unlinger(t);
        }
        return;
    }
    t->woke = timeout ? GREEN__WOKE_TIMEOUT : GREEN__WOKE_EVENT;
    green__park_disarm(t);
    green__sched_ready(t);
}

int green__park_block(struct green__thread *self, int64_t deadline)
{
    green__park_unlinger(self);         /* waiting for something else */
    if (deadline >= 0 && !self->timer_armed) {
        green__loop_timer_start(&self->timer, deadline, self);
        self->timer_armed = true;
    }
    self->state = GREEN__PARKED;
    green__sched_private.parks++;
    const unsigned runs = self->sig_runs;
    green__sched_block();
    /* A handler that ran as the thread resumed interrupted the wait, even
     * if the fd or the deadline woke it first: the blocking call it
     * stands for was still in the kernel when the signal came. A lot
     * wait that was woken has its wake-up, and keeps it. */
    if (self->sig_runs != runs && self->woke != GREEN__WOKE_LOT) {
        return -EINTR;
    }
    switch (self->woke) {
    case GREEN__WOKE_TIMEOUT:
        return -ETIMEDOUT;
    case GREEN__WOKE_SIGNAL:
        return -EINTR;
    default:
        return 0;
    }
}

int green__park_fd(int fd, int events, int64_t deadline)
{
    struct green__thread *self = green__sched.current;
    if (green__deadline_passed(deadline)) {
        return -ETIMEDOUT;
    }
    if (self->io_linger && self->io.wait.fd == fd
        && self->io.wait.events == events) {
        self->io_linger = false;        /* still started: use it */
    } else {
        green__park_unlinger(self);
        green__fd_watch(&self->io, fd, events, self);
        self->io_armed = true;
    }
    return green__park_block(self, deadline);
}

int green__park_poll(const struct pollfd *fds, nfds_t nfds, int64_t deadline)
{
    struct green__thread *self = green__sched.current;
    if (green__deadline_passed(deadline)) {
        return -ETIMEDOUT;
    }
    free(self->ios);
    self->ios = NULL;
    if (nfds > 0) {
        self->ios = malloc(nfds * sizeof *self->ios);
        if (self->ios == NULL) {
            return -ENOMEM;
        }
    }
    unsigned n = 0;
    for (nfds_t i = 0; i < nfds; i++) {
        int events = 0;
        if (fds[i].events & (POLLIN | POLLPRI | POLLRDNORM | POLLRDBAND
                             | POLLRDHUP)) {
            events |= GREEN__READ;
        }
        if (fds[i].events & (POLLOUT | POLLWRNORM | POLLWRBAND)) {
            events |= GREEN__WRITE;
        }
        /* An fd polled for nothing can still report POLLHUP/POLLERR;
         * both also make it readable for epoll. */
        if (fds[i].fd >= 0) {
            green__fd_watch(&self->ios[n++], fds[i].fd,
                                 events ? events : GREEN__READ, self);
        }
    }
    self->nios = n;
    int r = green__park_block(self, deadline);
    free(self->ios);
    self->ios = NULL;
    return r;
}

int green__park_until(int64_t deadline)
{
    struct green__thread *self = green__sched.current;
    if (green__now() >= deadline) {
        green__sched_spun();            /* a sleep of 0, in a loop */
        return 0;
    }
    while (green__now() < deadline) {
        if (green__park_block(self, deadline) == -EINTR) {
            return -EINTR;
        }
    }
    return 0;
}
