/* SPDX-License-Identifier: MIT */
/* Readiness waits: poll, ppoll, epoll_wait, epoll_pwait, epoll_pwait2,
 * select, pselect.
 *
 * poll: ask the kernel with a zero timeout first (it validates the array:
 * EFAULT, EINVAL and POLLNVAL come from there), and if nothing is ready
 * park on every fd at once until one may be, or the deadline. The timeout
 * becomes an absolute deadline once, at entry; retries never extend it.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>

#include "wrappers/wrap.h"

/* ppoll, pselect and epoll_pwait wait with `mask` as the thread's signal
 * mask, as the kernel does: it is set for the whole wait (which runs the
 * handlers of pending signals it unblocks at once: the wait then ends with
 * EINTR), and the thread's own mask comes back after. */
struct wait_mask {
    bool on;
    uint64_t saved;
    unsigned runs;                  /* handlers run before the wait */
};

static void wait_mask_begin(struct wait_mask *w, const sigset_t *mask)
{
    uint64_t m;
    w->runs = green__signal_runs();
    w->on = mask != NULL && green__peek(&m, mask, sizeof m) == 0;
    if (w->on) {
        w->saved = green__signal_mask();
        green__signal_setmask(m);
    }
}

static bool wait_mask_interrupted(const struct wait_mask *w)
{
    return green__signal_runs() != w->runs;
}

static void wait_mask_end(const struct wait_mask *w)
{
    if (w->on) {
        green__signal_setmask(w->saved);
    }
}

/* Every call here ends through this: one that returned without waiting
 * counts towards a yield (green__sched_spun), one that parked has reset
 * the count already. errno is the thread's own across a yield. */
static int spun(int r)
{
    green__sched_spun();
    return r;
}

static int poll_call(struct pollfd *fds, nfds_t nfds, int timeout)
{
    green__ensure_init();
    if (!green__may_park() || timeout == 0) {
        return GREEN_REAL_FN(poll)(fds, nfds, timeout);
    }
    const int entry_errno = errno;
    const int64_t deadline = green__deadline_ms(timeout);
    for (;;) {
        const int r = GREEN_REAL_FN(poll)(fds, nfds, 0);
        if (r != 0) {
            return r < 0 ? -1 : (int)green__wrap_ret(r, entry_errno);
        }
        const int p = green__park_poll(fds, nfds, deadline);
        if (p == -EINTR) {
            return (int)green__wrap_ret(p, entry_errno);   /* never restarts */
        }
        if (p == -ETIMEDOUT) {
            return (int)green__wrap_ret(GREEN_REAL_FN(poll)(fds, nfds, 0),
                                        entry_errno);
        }
        if (p == -ENOMEM) {
            /* No memory for the watchers: wait the correct, blocking way. */
            const int64_t left = deadline < 0 ? -1
                : green__ns_left(deadline) / GREEN__NS_PER_MS;
            return GREEN_REAL_FN(poll)(fds, nfds, (int)left);
        }
    }
}

GREEN_WRAP int poll(struct pollfd *fds, nfds_t nfds, int timeout)
{
    return spun(poll_call(fds, nfds, timeout));
}

/* ppoll: poll with a timespec (read once, never written back: glibc keeps
 * the caller's) and a signal mask for the wait. */
static int ppoll_green(struct pollfd *fds, nfds_t nfds, int64_t deadline,
                       const struct wait_mask *w)
{
    const struct timespec zero = { 0, 0 };
    for (;;) {
        if (wait_mask_interrupted(w)) {
            return -EINTR;
        }
        const int r = GREEN_REAL_FN(ppoll)(fds, nfds, &zero, NULL);
        if (r != 0) {
            return r < 0 ? green__neg_errno() : r;
        }
        const int p = green__park_poll(fds, nfds, deadline);
        if (p == -ENOMEM || p == -EINTR) {
            return p;
        }
        if (p == -ETIMEDOUT) {
            const int last = GREEN_REAL_FN(ppoll)(fds, nfds, &zero, NULL);
            return last < 0 ? green__neg_errno() : last;
        }
    }
}

static int ppoll_call(struct pollfd *fds, nfds_t nfds,
                     const struct timespec *timeout, const sigset_t *mask)
{
    green__ensure_init();
    struct timespec ts = { 0, 0 };
    if (!green__may_park() || (timeout != NULL
        && (green__peek(&ts, timeout, sizeof ts) != 0
            || !green__timeout_valid(&ts) || green__timespec_zero(&ts)))) {
        return GREEN_REAL_FN(ppoll)(fds, nfds, timeout, mask);
    }
    const int entry_errno = errno;
    struct wait_mask w;
    wait_mask_begin(&w, mask);
    const int r = ppoll_green(fds, nfds,
                              timeout ? green__deadline_after(&ts) : -1, &w);
    wait_mask_end(&w);
    return (int)green__wrap_ret(r, entry_errno);
}

GREEN_WRAP int ppoll(struct pollfd *fds, nfds_t nfds,
                     const struct timespec *timeout, const sigset_t *mask)
{
    return spun(ppoll_call(fds, nfds, timeout, mask));
}

/* epoll_wait and friends: the epoll fd is itself pollable, so the thread
 * parks on it (the hub's epoll watches the program's) until it is readable
 * or the deadline passes, and asks again without waiting. The signal mask
 * of epoll_pwait is applied only by the final, real call. A signal handler
 * ends any of these waits with EINTR: signal(7) never restarts them. */
static int epoll_green(int epfd, struct epoll_event *events, int max,
                       int64_t deadline, const sigset_t *mask)
{
    const int entry_errno = errno;
    struct wait_mask w;
    wait_mask_begin(&w, mask);
    int r;
    for (;;) {
        if (wait_mask_interrupted(&w)) {
            r = -EINTR;
            break;
        }
        r = GREEN_REAL_FN(epoll_pwait)(epfd, events, max, 0, NULL);
        if (r != 0) {
            r = r < 0 ? green__neg_errno() : r;
            break;
        }
        r = green__park_fd(epfd, GREEN__READ, deadline);
        epfd = green__fd_resume(epfd);
        if (r == -EINTR) {
            break;                          /* never restarts */
        }
        if (r == -ETIMEDOUT) {
            r = GREEN_REAL_FN(epoll_pwait)(epfd, events, max, 0, NULL);
            r = r < 0 ? green__neg_errno() : r;
            break;
        }
    }
    wait_mask_end(&w);
    return (int)green__wrap_ret(r, entry_errno);
}

static int epoll_wait_call(int epfd, struct epoll_event *events, int max,
                          int timeout)
{
    green__ensure_init();
    if (!green__may_park() || timeout == 0) {
        return GREEN_REAL_FN(epoll_wait)(epfd, events, max, timeout);
    }
    return epoll_green(epfd, events, max, green__deadline_ms(timeout), NULL);
}

GREEN_WRAP int epoll_wait(int epfd, struct epoll_event *events, int max,
                          int timeout)
{
    return spun(epoll_wait_call(epfd, events, max, timeout));
}

static int epoll_pwait_call(int epfd, struct epoll_event *events, int max,
                           int timeout, const sigset_t *mask)
{
    green__ensure_init();
    if (!green__may_park() || timeout == 0) {
        return GREEN_REAL_FN(epoll_pwait)(epfd, events, max, timeout, mask);
    }
    return epoll_green(epfd, events, max, green__deadline_ms(timeout), mask);
}

GREEN_WRAP int epoll_pwait(int epfd, struct epoll_event *events, int max,
                           int timeout, const sigset_t *mask)
{
    return spun(epoll_pwait_call(epfd, events, max, timeout, mask));
}

static int epoll_pwait2_call(int epfd, struct epoll_event *events, int max,
                            const struct timespec *timeout,
                            const sigset_t *mask)
{
    green__ensure_init();
    struct timespec ts = { 0, 0 };
    if (!green__may_park() || (timeout != NULL
        && (green__peek(&ts, timeout, sizeof ts) != 0
            || !green__timeout_valid(&ts) || green__timespec_zero(&ts)))) {
        /* No waiting, or a bad timeout the kernel reports. */
        return GREEN_REAL_FN(epoll_pwait2)(epfd, events, max, timeout, mask);
    }
    const int64_t deadline = timeout ? green__deadline_after(&ts) : -1;
    return epoll_green(epfd, events, max, deadline, mask);
}

GREEN_WRAP int epoll_pwait2(int epfd, struct epoll_event *events, int max,
                            const struct timespec *timeout,
                            const sigset_t *mask)
{
    return spun(epoll_pwait2_call(epfd, events, max, timeout, mask));
}

/* select and pselect: the kernel overwrites the sets, so keep copies of the
 * ones the program passed, ask without waiting, and while nothing is ready
 * park on every fd they name. */
struct fd_sets {
    fd_set *set[3];                 /* the program's read, write, except */
    unsigned char *copy[3];         /* their first `bytes` bytes */
    size_t bytes;
};

/* Copy the program's sets (0 or -EFAULT). */
static int sets_save(struct fd_sets *s, int nfds)
{
    s->bytes = ((size_t)nfds + 63) / 64 * 8;    /* what the kernel reads */
    for (int i = 0; i < 3; i++) {
        s->copy[i] = NULL;
        if (s->set[i] == NULL) {
            continue;
        }
        s->copy[i] = malloc(s->bytes ? s->bytes : 1);
        if (s->copy[i] == NULL
            || green__peek(s->copy[i], s->set[i], s->bytes) != 0) {
            return -EFAULT;
        }
    }
    return 0;
}

static void sets_restore(struct fd_sets *s)
{
    for (int i = 0; i < 3; i++) {
        if (s->set[i] != NULL) {
            memcpy(s->set[i], s->copy[i], s->bytes);
        }
    }
}

static void sets_free(struct fd_sets *s)
{
    for (int i = 0; i < 3; i++) {
        free(s->copy[i]);
    }
}

/* The saved sets as a pollfd array (the caller frees it) of *n entries:
 * each fd named in them, asked for POLLIN, POLLOUT and POLLPRI as its
 * sets say. NULL when out of memory. */
static struct pollfd *sets_pollfds(const struct fd_sets *s, int nfds,
                                   nfds_t *n)
{
    static const short events[3] = { POLLIN, POLLOUT, POLLPRI };
    struct pollfd *fds = malloc(((size_t)nfds + 1) * sizeof *fds);
    if (fds == NULL) {
        return NULL;
    }
    *n = 0;
    for (int fd = 0; fd < nfds; fd++) {
        short ev = 0;
        for (int i = 0; i < 3; i++) {
            if (s->copy[i] && (s->copy[i][fd / 8] & (1u << (fd % 8)))) {
                ev |= events[i];
            }
        }
        if (ev) {
            fds[(*n)++] = (struct pollfd){ .fd = fd, .events = ev };
        }
    }
    return fds;
}

/* Park on every fd of the saved sets. Returns 0, -ETIMEDOUT, -EINTR or
 * -ENOMEM. */
static int sets_park(const struct fd_sets *s, int nfds, int64_t deadline)
{
    nfds_t n;
    struct pollfd *fds = sets_pollfds(s, nfds, &n);
    if (fds == NULL) {
        return -ENOMEM;
    }
    const int r = green__park_poll(fds, n, deadline);
    free(fds);
    return r;
}

/* What the kernel's select reports when it looks at the sets again after
 * a wake-up and finds an fd the program closed meanwhile (fs/select.c:
 * POLLNVAL belongs to POLLIN_SET, POLLOUT_SET and POLLEX_SET since Linux
 * 5.x): that fd ready in every set it is in, the others as poll sees them.
 * Only the first look fails with EBADF. Returns the count or -errno. */
static int sets_rescan(struct fd_sets *s, int nfds)
{
    static const short ready[3] = {
        POLLIN | POLLRDNORM | POLLRDBAND | POLLHUP | POLLERR | POLLNVAL,
        POLLOUT | POLLWRNORM | POLLWRBAND | POLLERR | POLLNVAL,
        POLLPRI | POLLNVAL,
    };
    nfds_t n;
    struct pollfd *fds = sets_pollfds(s, nfds, &n);
    if (fds == NULL) {
        return -ENOMEM;
    }
    if (GREEN_REAL_FN(poll)(fds, n, 0) < 0) {
        const int err = errno;
        free(fds);
        return -err;
    }
    int count = 0;
    for (int i = 0; i < 3; i++) {
        if (s->set[i] != NULL) {
            memset(s->set[i], 0, s->bytes);
        }
    }
    for (nfds_t j = 0; j < n; j++) {
        const int fd = fds[j].fd;
        for (int i = 0; i < 3; i++) {
            if (s->copy[i] && (s->copy[i][fd / 8] & (1u << (fd % 8)))
                && (fds[j].revents & ready[i])) {
                ((unsigned char *)s->set[i])[fd / 8] |= 1u << (fd % 8);
                count++;
            }
        }
    }
    free(fds);
    return count;
}

/* Wait for the sets until `deadline`. Returns the real select's count,
 * -1 with errno set, or (timed out) the final zero-timeout answer. */
static int select_green(int nfds, struct fd_sets *s, int64_t deadline,
                        const sigset_t *mask)
{
    const int entry_errno = errno;
    const struct timespec zero = { 0, 0 };
    struct wait_mask w;
    wait_mask_begin(&w, mask);
    bool woken = false;         /* parked once: the kernel looks again */
    int r;
    for (;;) {
        if (wait_mask_interrupted(&w)) {
            r = -EINTR;
            break;
        }
        sets_restore(s);
        r = GREEN_REAL_FN(pselect)(nfds, s->set[0], s->set[1], s->set[2],
                                &zero, NULL);
        if (r < 0 && errno == EBADF && woken) {
            r = sets_rescan(s, nfds);
            if (r != 0) {
                break;
            }
        }
        if (r != 0) {
            r = r < 0 ? green__neg_errno() : r;
            break;
        }
        r = sets_park(s, nfds, deadline);
        woken = true;
        if (r == -ENOMEM || r == -EINTR) {
            break;                          /* EINTR: never restarts */
        }
        if (r == -ETIMEDOUT) {
            sets_restore(s);
            r = GREEN_REAL_FN(pselect)(nfds, s->set[0], s->set[1], s->set[2],
                                    &zero, NULL);
            if (r < 0 && errno == EBADF) {
                r = sets_rescan(s, nfds);
            } else {
                r = r < 0 ? green__neg_errno() : r;
            }
            break;
        }
    }
    wait_mask_end(&w);
    return (int)green__wrap_ret(r, entry_errno);
}

static int select_call(int nfds, fd_set *readfds, fd_set *writefds,
                      fd_set *exceptfds, struct timeval *timeout)
{
    green__ensure_init();
    struct timeval tv = { 0, 0 };
    if (!green__may_park() || nfds < 0 || nfds > FD_SETSIZE
        || (timeout != NULL
            && (green__peek(&tv, timeout, sizeof tv) != 0 || tv.tv_sec < 0
                || tv.tv_usec < 0 || green__timeval_zero(&tv)))) {
        return GREEN_REAL_FN(select)(nfds, readfds, writefds, exceptfds,
                                  timeout);
    }
    struct fd_sets s = { .set = { readfds, writefds, exceptfds } };
    if (sets_save(&s, nfds) != 0) {
        sets_free(&s);
        return GREEN_REAL_FN(select)(nfds, readfds, writefds, exceptfds,
                                  timeout);
    }
    const struct timespec rel = green__timeval_timespec(&tv);
    const int64_t deadline = timeout ? green__deadline_after(&rel) : -1;
    const int r = select_green(nfds, &s, deadline, NULL);
    sets_free(&s);
    if (timeout != NULL) {
        /* Linux reports the time not slept, as the kernel does. */
        *timeout = green__ns_timeval(green__ns_left(deadline));
    }
    return r;
}

GREEN_WRAP int select(int nfds, fd_set *readfds, fd_set *writefds,
                      fd_set *exceptfds, struct timeval *timeout)
{
    return spun(select_call(nfds, readfds, writefds, exceptfds, timeout));
}

static int pselect_call(int nfds, fd_set *readfds, fd_set *writefds,
                       fd_set *exceptfds, const struct timespec *timeout,
                       const sigset_t *mask)
{
    green__ensure_init();
    struct timespec ts = { 0, 0 };
    if (!green__may_park() || nfds < 0 || nfds > FD_SETSIZE
        || (timeout != NULL
            && (green__peek(&ts, timeout, sizeof ts) != 0
                || !green__timeout_valid(&ts) || green__timespec_zero(&ts)))) {
        return GREEN_REAL_FN(pselect)(nfds, readfds, writefds, exceptfds,
                                   timeout, mask);
    }
    struct fd_sets s = { .set = { readfds, writefds, exceptfds } };
    if (sets_save(&s, nfds) != 0) {
        sets_free(&s);
        return GREEN_REAL_FN(pselect)(nfds, readfds, writefds, exceptfds,
                                   timeout, mask);
    }
    const int r = select_green(nfds, &s,
                               timeout ? green__deadline_after(&ts) : -1,
                               mask);
    sets_free(&s);
    return r;
}

GREEN_WRAP int pselect(int nfds, fd_set *readfds, fd_set *writefds,
                       fd_set *exceptfds, const struct timespec *timeout,
                       const sigset_t *mask)
{
    return spun(pselect_call(nfds, readfds, writefds, exceptfds, timeout,
                             mask));
}
