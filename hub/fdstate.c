/* SPDX-License-Identifier: MIT */
/* The program's fd numbers and the green threads waiting on them: for
 * every fd number, the lists of its waiters and the one libev watcher
 * (hub/loop.c) that waits for the union of their events, so that waking
 * them, adding one and removing one cost O(1) however many wait on one
 * fd; closing or replacing a number (wrappers/fd.c: close, dup2, dup3,
 * close_range, closefrom, fclose, freopen, pclose, closedir, fcloseall)
 * never leaves a waiter on a closed or reused number (ev(3), "The special
 * problem of disappearing file descriptors"); and the descriptors the
 * runtime keeps for calls whose fd was closed under them.
 *
 * Who is woken. A read, recv or accept waits exclusively (GREEN__ONE),
 * as the kernel's waits in a pipe read, an accept or a datagram receive
 * do: one readiness wakes the reader that has waited longest. The watcher
 * is level-triggered, so while data is left (the woken reader took part
 * of it, or went elsewhere) the next poll wakes the next reader; a
 * thousand threads blocked in accept on one listener cost one wake-up per
 * connection, not a thousand. Every other wait (poll, select, epoll_wait,
 * writers, the runtime's own) is woken whenever its events come.
 *
 * What the program sees when it closes an fd another thread waits on.
 * Linux does not wake a thread blocked in read, recv, accept, poll, select
 * or epoll_wait when another thread closes the fd or dup2s over it: the
 * blocked call holds its own reference to the open file description and
 * goes on with it, returning the data that later arrives there (poll and
 * select, which look the numbers up again on each wake-up, then report
 * the closed number as POLLNVAL, or as ready in select's sets, or see
 * the new file that took the number). Only shutdown(2) ends such a wait,
 * and it needs no help here. The issue asked for the waiter to fail with
 * EBADF instead; that is what Linux does when the close comes before the
 * call, but a program that waits until the reader blocks, closes, and
 * writes to the other end would see a difference (a lost byte, a FIN sent
 * to a peer while the native reader still holds the socket open). So the
 * rule here is the kernel's: before the real close, every watcher on the
 * number moves to a descriptor the runtime keeps for the same open file
 * description (F_DUPFD_CLOEXEC near the top of RLIMIT_NOFILE, so that the
 * program's own numbering is unchanged), a single-fd call retries its
 * real call there (green__fd_resume), and the kept descriptor is closed
 * when the last call using it ends (green__fdstate_call_end), which is
 * when the kernel would drop the blocked call's reference. A poll or
 * select waiter keeps waiting for the old description and, when it fires,
 * asks the kernel about the program's numbers again, as the kernel does.
 * Events of a new file that takes the number can never wake the old
 * waiter: no watcher of it is left on the number. When no descriptor can
 * be kept (EMFILE), the waiters wake and their retries fail with EBADF.
 *
 * Kept descriptors and the runtime's own fds (libev's epoll fd, the
 * remote wake-up eventfd) are not the program's: close gives EBADF for
 * them and close_range/closefrom step around them, as if they were not
 * open, which natively they are not.
 *
 * Only the green kernel thread touches this state; nothing is locked.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "hub/internal.h"
#include "preload/real.h"

/* Kept descriptors stay below this even when RLIMIT_NOFILE is larger: the
 * kernel sizes a process's fd table by its highest number. */
#define KEEP_CEILING 65536

/* A list of waiters, oldest first. */
struct waiters {
    struct green__watcher *head, *tail;
};

struct fdrec {
    struct waiters shared;          /* woken together: poll, writers, ... */
    struct waiters one;             /* GREEN__ONE readers: one per event */
    unsigned readers, writers;      /* waiters for GREEN__READ, __WRITE */
    struct green__fdwatch *watch;   /* libev's watcher, made on first use */
    unsigned refs;                  /* kept: watchers and calls using it */
    bool kept;                      /* a descriptor the runtime keeps */
};

static struct {
    struct fdrec *rec;              /* indexed by fd number */
    unsigned len;
} fds;

/* The waiter green__fdstate_fire looks at next: ending that wait moves
 * it on, so a wake-up may end any waits it likes. */
static struct green__watcher *cursor;

static struct fdrec *rec_of(int fd)
{
    return fd >= 0 && (unsigned)fd < fds.len ? &fds.rec[fd] : NULL;
}

/* The record of `fd`, growing the table. NULL when memory ran out. */
static struct fdrec *rec_grow(int fd)
{
    if ((unsigned)fd >= fds.len) {
        unsigned len = fds.len ? fds.len : 64;
        while (len <= (unsigned)fd) {
            len *= 2;
        }
        struct fdrec *rec = realloc(fds.rec, len * sizeof *rec);
        if (rec == NULL) {
            return NULL;
        }
        for (unsigned i = fds.len; i < len; i++) {
            rec[i] = (struct fdrec){ 0 };
        }
        fds.rec = rec;
        fds.len = len;
    }
    return &fds.rec[fd];
}

/* Drop one reference to kept descriptor `fd`; close it after the last. */
static void unref(int fd)
{
    struct fdrec *r = rec_of(fd);
    GREEN_ASSERT(r != NULL && r->kept && r->refs > 0, "kept fd refcount");
    if (--r->refs == 0) {
        r->kept = false;
        const int saved = errno;
        GREEN_REAL_FN(close)(fd);
        errno = saved;
    }
}

/* Thread `t` no longer needs the descriptor its call moved to. */
static void drop_moved(struct green__thread *t)
{
    t->fd_moved = false;
    if (t->fd_moved_to >= 0) {
        unref(t->fd_moved_to);
    }
}

/* Add `delta` waiters for `events` to `r`, and have its libev watcher
 * wait for what its waiters now wait for. */
static void count(struct fdrec *r, int events, int delta)
{
    if (events & GREEN__READ) {
        r->readers += (unsigned)delta;
    }
    if (events & GREEN__WRITE) {
        r->writers += (unsigned)delta;
    }
    green__loop_fd_set(r->watch, (r->readers ? GREEN__READ : 0)
                                 | (r->writers ? GREEN__WRITE : 0));
}

static struct waiters *list_of(struct fdrec *r, const struct green__watcher *w)
{
    return (w->wait.events & GREEN__ONE) ? &r->one : &r->shared;
}

static void list_append(struct waiters *l, struct green__watcher *w)
{
    w->wait.next = NULL;
    w->wait.prev = l->tail;
    if (l->tail != NULL) {
        l->tail->wait.next = w;
    } else {
        l->head = w;
    }
    l->tail = w;
}

static void list_remove(struct waiters *l, struct green__watcher *w)
{
    if (cursor == w) {
        cursor = w->wait.next;
    }
    if (w->wait.prev != NULL) {
        w->wait.prev->wait.next = w->wait.next;
    } else {
        l->head = w->wait.next;
    }
    if (w->wait.next != NULL) {
        w->wait.next->wait.prev = w->wait.prev;
    } else {
        l->tail = w->wait.prev;
    }
}

/* The first waiter on `r`, or NULL. */
static struct green__watcher *first(const struct fdrec *r)
{
    return r->shared.head != NULL ? r->shared.head : r->one.head;
}

void green__fdstate_watch(struct green__watcher *w, int fd, int events,
                          void *data)
{
    struct fdrec *r = rec_grow(fd);
    if (r != NULL && r->watch == NULL) {
        r->watch = green__loop_fd_new(fd);
    }
    GREEN_ASSERT(r != NULL && r->watch != NULL,
                 "out of memory recording an fd wait");
    w->wait.fd = fd;
    w->wait.events = events;
    w->wait.data = data;
    list_append(list_of(r, w), w);
    w->wait.linked = true;
    if (r->kept) {
        r->refs++;
    }
    count(r, events, 1);
}

void green__fdstate_unwatch(struct green__watcher *w)
{
    if (!w->wait.linked) {
        return;
    }
    const int fd = w->wait.fd;
    struct fdrec *r = rec_of(fd);
    GREEN_ASSERT(r != NULL, "a waiter's fd has a record");
    list_remove(list_of(r, w), w);
    w->wait.linked = false;
    count(r, w->wait.events, -1);
    if (r->kept) {
        unref(fd);
    }
}

/* Wake the exclusive reader of `r` that waited longest. Readers already
 * woken (their watchers linger until they run, hub/park.c) go to the
 * back of the queue on the way, so the next readiness finds the next
 * waiting one first. */
static void wake_one_reader(struct fdrec *r)
{
    for (struct green__watcher *w = r->one.head, *end = r->one.tail;
         w != NULL; w = r->one.head) {
        struct green__thread *t = w->wait.data;
        list_remove(&r->one, w);
        list_append(&r->one, w);
        if (t->state == GREEN__PARKED) {
            green__park_fire(t, false);
            return;
        }
        if (w == end) {
            return;                 /* each looked at once */
        }
    }
}

void green__fdstate_fire(int fd, int revents, bool error)
{
    struct fdrec *r = rec_of(fd);
    if (r == NULL) {
        return;
    }
    struct green__watcher *w;
    if (error) {
        /* Every waiter retries and sees what became of the fd; no wait
         * stays on it, as libev stopped watching it. */
        while ((w = first(r)) != NULL) {
            struct green__thread *t = w->wait.data;
            green__park_fire(t, false);
            green__park_unlinger(t);
            green__fdstate_unwatch(w);
        }
        return;
    }
    for (w = r->shared.head; w != NULL; w = cursor) {
        cursor = w->wait.next;
        if (w->wait.events & revents) {
            green__park_fire(w->wait.data, false);
        }
    }
    cursor = NULL;
    if (revents & GREEN__READ) {
        wake_one_reader(r);
    }
}

bool green__fdstate_private(int fd)
{
    const struct fdrec *r = rec_of(fd);
    return (r != NULL && r->kept) || green__loop_owns_fd(fd);
}

bool green__fdstate_busy(int fd)
{
    const struct fdrec *r = rec_of(fd);
    return (r != NULL && (first(r) != NULL || r->kept))
        || green__loop_owns_fd(fd);
}

/* A new descriptor for the open file description of `fd`, as high as
 * RLIMIT_NOFILE (capped) allows, close-on-exec; -1 when none can be had
 * (errno kept by the caller). */
static int keep_fd(int fd)
{
    struct rlimit rl;
    rlim_t top = KEEP_CEILING;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < top) {
        top = rl.rlim_cur;
    }
    for (rlim_t span = 16; span / 8 < top; span *= 8) {
        const rlim_t from = span < top ? top - span : 0;
        const int k = (int)green__sys(SYS_fcntl, fd, F_DUPFD_CLOEXEC, from);
        if (k >= 0) {
            /* Two numbers share the flags now: the cache knows neither. */
            green__fdcache_forget(fd);
            green__fdcache_forget(k);
            return k;
        }
        errno = -k;
        if (k != -EMFILE || from == 0) {
            break;
        }
    }
    return -1;
}

void green__fdstate_release(int fd)
{
    struct fdrec *r = rec_of(fd);
    if (r == NULL || first(r) == NULL || r->kept) {
        return;
    }
    /* Lingering watchers (hub/park.c): nobody waits on them, just stop. */
    for (int i = 0; i < 2; i++) {
        struct green__watcher *w = i == 0 ? r->shared.head : r->one.head;
        for (struct green__watcher *next; w != NULL; w = next) {
            next = w->wait.next;
            struct green__thread *t = w->wait.data;
            if (w == &t->io && t->io_linger) {
                green__park_unlinger(t);
            }
        }
    }
    if (first(r) == NULL) {
        return;
    }
    const int saved = errno;
    const int keep = keep_fd(fd);
    struct fdrec *k = keep >= 0 ? rec_grow(keep) : NULL;
    if (keep >= 0 && k == NULL) {
        GREEN_REAL_FN(close)(keep);
    }
    const int to = k != NULL ? keep : -1;
    if (k != NULL) {
        k->kept = true;
        k->refs = 1;                /* held until every watcher moved */
        r = rec_of(fd);             /* rec_grow may have moved the table */
    }
    struct green__watcher *w;
    while ((w = first(r)) != NULL) {
        struct green__thread *t = w->wait.data;
        const int events = w->wait.events;
        green__fdstate_unwatch(w);
        if (w == &t->io) {
            /* The call retries on the kept descriptor (green__fd_resume)
             * and holds it until green__fdstate_call_end. */
            if (t->fd_moved) {
                drop_moved(t);      /* a call that never ended: stale */
            }
            t->fd_moved = true;
            t->fd_moved_from = fd;
            t->fd_moved_to = to;
            if (k != NULL) {
                k->refs++;
            }
        }
        if (k != NULL) {
            green__fdstate_watch(w, keep, events, t);
        } else {
            green__park_fire(t, false);     /* retries see EBADF */
        }
    }
    if (k != NULL) {
        unref(keep);
    }
    errno = saved;
}

void green__fdstate_release_range(unsigned lo, unsigned hi)
{
    for (unsigned fd = lo; fd < fds.len && fd <= hi; fd++) {
        green__fdstate_release((int)fd);
    }
}

int green__fdstate_next_private(unsigned lo, unsigned hi)
{
    int best = -1;
    int own[GREEN__OWN_FDS];
    const unsigned n = green__loop_fds(own);
    for (unsigned i = 0; i < n; i++) {
        if (own[i] >= 0 && (unsigned)own[i] >= lo && (unsigned)own[i] <= hi
            && (best < 0 || own[i] < best)) {
            best = own[i];
        }
    }
    for (unsigned fd = lo; fd < fds.len && fd <= hi; fd++) {
        if (best >= 0 && fd >= (unsigned)best) {
            break;
        }
        if (fds.rec[fd].kept) {
            return (int)fd;
        }
    }
    return best;
}

void green__fdstate_call_end(void)
{
    struct green__thread *self = green__sched.current;
    if (self != NULL && green__on_green_kthread()) {
        green__fdstate_call_gone(self);
    }
}

void green__fdstate_call_gone(struct green__thread *t)
{
    if (t->fd_moved) {
        green__park_unlinger(t);        /* may be on the kept descriptor */
        drop_moved(t);
    }
}
