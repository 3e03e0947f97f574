/* SPDX-License-Identifier: MIT */
/* The only file that sees <ev.h>: libev from Debian's package, loaded with
 * dlopen(RTLD_LOCAL) the first time a program makes a thread, so a program
 * that never does pays nothing, and libev's symbols never enter the
 * program's namespace (a program using libev itself is unaffected). One
 * private loop (ev_loop_new, never the default loop), epoll backend.
 * Its watchers: a timer per waiting thread, one fd watcher per fd number
 * for all the threads waiting on it (hub/fdtable.c keeps them: libev's
 * own per-fd watcher list is walked on every stop and every event, which
 * made N waiters on one fd cost O(N^2)), and the remote wake-up eventfd.
 *
 * libev calls libc by name (epoll_wait, read, ...); it runs only on the hub,
 * where every wrapper passes straight through.
 */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <ev.h>
#include <stdlib.h>

#include "hub/internal.h"

_Static_assert(sizeof(ev_timer)
               <= sizeof(((struct green__watcher *)0)->opaque),
               "ev_timer fits");
_Static_assert(GREEN__READ == EV_READ && GREEN__WRITE == EV_WRITE,
               "event bits match libev's");

static struct {
    struct ev_loop *loop;
    __typeof__(ev_loop_new) *loop_new;
    __typeof__(ev_run) *run;
    __typeof__(ev_loop_fork) *loop_fork;
    __typeof__(ev_now_update) *now_update;
    __typeof__(ev_io_start) *io_start;
    __typeof__(ev_io_stop) *io_stop;
    __typeof__(ev_timer_start) *timer_start;
    __typeof__(ev_timer_stop) *timer_stop;
    int backend_fd;                 /* libev's epoll fd, -1 until known */
    bool inside;                    /* libev is running (loop_new, run) */
} ev = { .backend_fd = -1 };

int green__loop_open(void)
{
    void *lib = dlopen(GREEN_LIBEV_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL) {
        green__log("cannot load %s (%s); threads stay native\n",
                   GREEN_LIBEV_SONAME, dlerror());
        return -ENOSYS;
    }
#define LOAD(field, name)                                                  \
    if ((ev.field = (__typeof__(ev.field))dlsym(lib, #name)) == NULL) {   \
        green__log("%s has no %s; threads stay native\n",                  \
                   GREEN_LIBEV_SONAME, #name);                             \
        return -ENOSYS;                                                    \
    }
    LOAD(loop_new, ev_loop_new)
    LOAD(run, ev_run)
    LOAD(loop_fork, ev_loop_fork)
    LOAD(now_update, ev_now_update)
    LOAD(io_start, ev_io_start)
    LOAD(io_stop, ev_io_stop)
    LOAD(timer_start, ev_timer_start)
    LOAD(timer_stop, ev_timer_stop)
#undef LOAD
    const unsigned flags = EVFLAG_NOENV | EVFLAG_NOSIGMASK;
    ev.inside = true;
    ev.loop = ev.loop_new(EVBACKEND_EPOLL | flags);
    if (ev.loop == NULL) {
        ev.loop = ev.loop_new(EVFLAG_AUTO | flags);
    }
    ev.inside = false;
    if (ev.loop == NULL) {
        green__log("libev could not create a loop; threads stay native\n");
        return -ENOSYS;
    }
    return 0;
}

static void timer_fired(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    green__park_fire(w->data, true);
}

struct green__fdwatch {
    ev_io io;
    int events;                     /* what it waits for; 0: stopped */
};

static void fd_fired(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)loop;
    struct green__fdwatch *fw = (struct green__fdwatch *)w;
    const bool error = (revents & EV_ERROR) != 0;
    if (error) {
        fw->events = 0;             /* libev stopped it (ev(3), EV_ERROR) */
    }
    green__fd_fire(w->fd, revents & (EV_READ | EV_WRITE), error);
}

struct green__fdwatch *green__loop_fd_new(int fd)
{
    struct green__fdwatch *fw = malloc(sizeof *fw);
    if (fw != NULL) {
        ev_io_init(&fw->io, fd_fired, fd, EV_READ);
        fw->events = 0;
    }
    return fw;
}

void green__loop_fd_set(struct green__fdwatch *fw, int events)
{
    if (events == fw->events) {
        return;
    }
    if (fw->events != 0) {
        ev.io_stop(ev.loop, &fw->io);
    }
    fw->events = events;
    if (events != 0) {
        ev_io_set(&fw->io, fw->io.fd, events);
        ev.io_start(ev.loop, &fw->io);
    }
}

void green__loop_timer_start(struct green__watcher *gw, int64_t deadline,
                             void *data)
{
    ev_timer *w = (ev_timer *)gw->opaque;
    /* libev times timers from its cached loop time: refresh it so that
     * "after" is measured from now, not from the last iteration. */
    ev.now_update(ev.loop);
    ev_timer_init(w, timer_fired,
                  green__ns_seconds(green__ns_left(deadline)), 0.);
    w->data = data;
    ev.timer_start(ev.loop, w);
}

void green__loop_timer_stop(struct green__watcher *gw)
{
    ev.timer_stop(ev.loop, (ev_timer *)gw->opaque);
}

static struct {
    ev_io io;
    void (*cb)(void);
} watched;

static void watched_fired(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)loop;
    (void)w;
    (void)revents;
    watched.cb();
}

void green__loop_watch(int fd, void (*cb)(void))
{
    watched.cb = cb;
    ev_io_init(&watched.io, watched_fired, fd, EV_READ);
    ev.io_start(ev.loop, &watched.io);
}

unsigned green__loop_fds(int out[GREEN__OWN_FDS])
{
    unsigned n = 0;
    if (ev.loop != NULL) {
        out[n++] = ev.backend_fd;
    }
    if (watched.cb != NULL) {
        out[n++] = watched.io.fd;
    }
    if (green__signal_fd() >= 0) {
        out[n++] = green__signal_fd();
    }
    if (green__uring_fd() >= 0) {
        out[n++] = green__uring_fd();
    }
    return n;
}

bool green__loop_owns_fd(int fd)
{
    int own[GREEN__OWN_FDS];
    const unsigned n = green__loop_fds(own);
    for (unsigned i = 0; i < n; i++) {
        if (fd == own[i]) {
            return fd >= 0;
        }
    }
    return false;
}

void green__loop_note_fd(int fd)
{
    if (ev.inside) {
        ev.backend_fd = fd;
    }
}

void green__loop_fork(void)
{
    ev.loop_fork(ev.loop);
}

int green__loop_run(bool block)
{
    ev.inside = true;
    const int r = ev.run(ev.loop, block ? EVRUN_ONCE : EVRUN_NOWAIT);
    ev.inside = false;
    return r;
}
