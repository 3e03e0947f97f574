/* SPDX-License-Identifier: MIT */
/* One record per fd number (hub/fdtable.c): what the runtime knows of the
 * fd without asking the kernel, the green threads waiting on it, and the
 * descriptor kept for calls whose fd was closed under them. A number that
 * goes away is forgotten here, in one place (green__fd_closing).
 *
 * What is known. For the sockets and pipes the program made in this
 * process (socket, socketpair, accept, accept4, pipe, pipe2): their kind,
 * whether O_NONBLOCK is set and whether SO_RCVTIMEO or SO_SNDTIMEO is. A
 * blocking call that must wait then parks at once, instead of asking
 * fcntl(F_GETFL), getsockopt and poll first (three to four system calls
 * per wait).
 *
 * The knowledge is only as good as the rule that nothing changes an fd
 * unseen. Within the process, every libc call that could is wrapped and
 * updates or forgets the entry: fcntl(F_SETFL) and ioctl(FIONBIO) set the
 * flag, setsockopt the timeouts, close, dup2, dup3 and the closes of
 * streams forget the number, and a descriptor duplicated by dup or
 * F_DUPFD makes its source unknown (the flags are then reachable through
 * another number). Another process can only change them if it shares the
 * open file description, so all knowledge is dropped at once (a
 * generation count) whenever that can begin: fork (hub/fork.c's prepare
 * handler, which _Fork and a raw fork call too), posix_spawn, system,
 * popen, a descriptor passed with SCM_RIGHTS, and any raw syscall() the
 * wrappers do not understand that names an fd. What cannot be seen is
 * another process taking the fd with pidfd_getfd(2), which needs ptrace
 * rights over this one.
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
 * when the last call using it ends (green__fd_moved_end), which is
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
 * The green kernel thread writes the table; another kernel thread (a
 * resolver helper, a thread libgreen did not make) that closes or changes
 * an fd only clears what is known of it, with an atomic store. The table
 * is made of chunks that never move once allocated, so that store is safe
 * at any moment, and a record's address stays valid while the table
 * grows. Nothing is locked.
 */#include "config.h"

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
    /* What is known: valid while `gen` equals table.gen. */
    uint32_t gen;
    uint8_t bits;                   /* GREEN__FD_* */
    bool kept;                      /* a descriptor the runtime keeps */
    unsigned refs;                  /* kept: watchers and calls using it */
    /* Who waits. */
    struct waiters shared;          /* woken together: poll, writers, ... */
    struct waiters one;             /* GREEN__ONE readers: one per event */
    unsigned readers, writers;      /* waiters for GREEN__READ, __WRITE */
    struct green__fdwatch *watch;   /* libev's watcher, made on first use */
};

#define CHUNK 1024                  /* records per chunk */
#define CHUNKS 1024                 /* fds up to 1,048,576 (nr_open) */

static struct {
    struct fdrec *chunk[CHUNKS];    /* NULL until an fd there is used */
    unsigned len;                   /* chunks below this may exist */
    uint32_t gen;                   /* never 0: 0 marks nothing known */
} table = { .gen = 1 };

/* The waiter green__fd_fire looks at next: ending that wait moves it on,
 * so a wake-up may end any waits it likes. */
static struct green__watcher *cursor;

/* The record of `fd` if its chunk exists, else NULL. Any kernel thread. */
static struct fdrec *rec_of(int fd)
{
    if (fd < 0 || fd >= CHUNK * CHUNKS) {
        return NULL;
    }
    struct fdrec *c = __atomic_load_n(&table.chunk[fd / CHUNK],
                                      __ATOMIC_ACQUIRE);
    return c != NULL ? &c[fd % CHUNK] : NULL;
}

/* The record of `fd`, making its chunk. NULL when memory ran out or `fd`
 * is out of range. Green kernel thread. */
static struct fdrec *rec_make(int fd)
{
    struct fdrec *r = rec_of(fd);
    if (r != NULL || fd < 0 || fd >= CHUNK * CHUNKS) {
        return r;
    }
    struct fdrec *c = calloc(CHUNK, sizeof *c);
    if (c == NULL) {
        return NULL;
    }
    __atomic_store_n(&table.chunk[fd / CHUNK], c, __ATOMIC_RELEASE);
    if ((unsigned)fd / CHUNK >= table.len) {
        table.len = (unsigned)fd / CHUNK + 1;
    }
    return &c[fd % CHUNK];
}

/* ---- what is known ------------------------------------------------- */

void green__fd_forget_all(void)
{
    if (__atomic_add_fetch(&table.gen, 1, __ATOMIC_RELAXED) == 0) {
        __atomic_add_fetch(&table.gen, 1, __ATOMIC_RELAXED);
    }
}

void green__fd_made(int fd, unsigned bits)
{
    if (!green__on_green_kthread()) {
        return;
    }
    struct fdrec *r = rec_make(fd);
    if (r == NULL) {
        return;                     /* not known: the probes answer */
    }
    r->bits = (uint8_t)bits;
    __atomic_store_n(&r->gen, __atomic_load_n(&table.gen, __ATOMIC_RELAXED),
                     __ATOMIC_RELEASE);
}

unsigned green__fd_known(int fd)
{
    const struct fdrec *r = rec_of(fd);
    if (r == NULL || !green__on_green_kthread()
        || __atomic_load_n(&r->gen, __ATOMIC_ACQUIRE)
               != __atomic_load_n(&table.gen, __ATOMIC_RELAXED)) {
        return 0;
    }
    return r->bits;
}

void green__fd_forget(int fd)
{
    struct fdrec *r = rec_of(fd);
    if (r != NULL) {
        __atomic_store_n(&r->gen, 0, __ATOMIC_RELEASE);
    }
}

void green__fd_update(int fd, unsigned clear, unsigned set)
{
    if (!green__on_green_kthread()) {
        green__fd_forget(fd);       /* bits are the green thread's to write */
        return;
    }
    if (green__fd_known(fd) != 0) {
        struct fdrec *r = rec_of(fd);
        r->bits = (uint8_t)((r->bits & ~clear) | set);
    }
}

/* ---- who waits ----------------------------------------------------- */

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
    green__sched.calls_moved--;
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

void green__fd_watch(struct green__watcher *w, int fd, int events,
                          void *data)
{
    struct fdrec *r = rec_make(fd);
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

void green__fd_unwatch(struct green__watcher *w)
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

void green__fd_fire(int fd, int revents, bool error)
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
            green__fd_unwatch(w);
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

bool green__fd_private(int fd)
{
    const struct fdrec *r = rec_of(fd);
    return (r != NULL && r->kept) || green__loop_owns_fd(fd);
}

bool green__fd_busy(int fd)
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
            green__fd_forget(fd);
            green__fd_forget(k);
            return k;
        }
        errno = -k;
        if (k != -EMFILE || from == 0) {
            break;
        }
    }
    return -1;
}

void green__fd_release(int fd)
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
    struct fdrec *k = keep >= 0 ? rec_make(keep) : NULL;
    if (keep >= 0 && k == NULL) {
        GREEN_REAL_FN(close)(keep);
    }
    const int to = k != NULL ? keep : -1;
    if (k != NULL) {
        k->kept = true;
        k->refs = 1;                /* held until every watcher moved */
    }
    struct green__watcher *w;
    while ((w = first(r)) != NULL) {
        struct green__thread *t = w->wait.data;
        const int events = w->wait.events;
        green__fd_unwatch(w);
        if (w == &t->io) {
            /* The call retries on the kept descriptor (green__fd_resume)
             * and holds it until green__fd_moved_end. */
            if (t->fd_moved) {
                drop_moved(t);      /* a call that never ended: stale */
            }
            t->fd_moved = true;
            green__sched.calls_moved++;
            t->fd_moved_from = fd;
            t->fd_moved_to = to;
            if (k != NULL) {
                k->refs++;
            }
        }
        if (k != NULL) {
            green__fd_watch(w, keep, events, t);
        } else {
            green__park_fire(t, false);     /* retries see EBADF */
        }
    }
    if (k != NULL) {
        unref(keep);
    }
    errno = saved;
}

int green__fd_closing(int fd)
{
    green__fd_forget(fd);
    if (!green__on_green_kthread() || green__sched.current == NULL
        || !green__fd_busy(fd)) {
        return 0;
    }
    if (green__fd_private(fd)) {
        return -EBADF;
    }
    green__fd_release(fd);
    return 0;
}

void green__fd_release_range(unsigned lo, unsigned hi)
{
    const unsigned end = table.len * CHUNK;
    for (unsigned fd = lo; fd < end && fd <= hi; fd++) {
        green__fd_release((int)fd);
    }
}

int green__fd_next_private(unsigned lo, unsigned hi)
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
    const unsigned end = table.len * CHUNK;
    for (unsigned fd = lo; fd < end && fd <= hi; fd++) {
        if (best >= 0 && fd >= (unsigned)best) {
            break;
        }
        const struct fdrec *r = rec_of((int)fd);
        if (r != NULL && r->kept) {
            return (int)fd;
        }
    }
    return best;
}

void green__fd_moved_ended(void)
{
    struct green__thread *self = green__sched.current;
    if (self != NULL && self->fd_moved && green__on_green_kthread()) {
        green__fd_moved_gone(self);
    }
}

void green__fd_moved_gone(struct green__thread *t)
{
    if (t->fd_moved) {
        green__park_unlinger(t);        /* may be on the kept descriptor */
        drop_moved(t);
    }
}

int green__fd_resume_moved(int fd)
{
    const struct green__thread *self = green__sched.current;
    return self->fd_moved && fd == self->fd_moved_from ? self->fd_moved_to
                                                       : fd;
}
