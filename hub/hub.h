/* SPDX-License-Identifier: MIT */
/* What wrappers/ may use of the runtime: the scheduler's view of threads
 * (struct green__thread is opaque here, read through accessors), parking
 * and the parking lot, signals as green threads see them, what is known
 * of fds and who waits on them, helper kernel threads, and the hooks by
 * which the runtime calls back into wrappers/. hub/internal.h, which
 * only hub/ includes, holds the rest.
 */
#ifndef GREEN_HUB_HUB_H
#define GREEN_HUB_HUB_H

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include "hub/sigset.h"
#include "hub/time.h"
#include "preload/preload.h"

struct green__thread;

/* ---- waits on fds --------------------------------------------------- */

#define GREEN__READ  1      /* same values as EV_READ and EV_WRITE */
#define GREEN__WRITE 2
/* With GREEN__READ: an exclusive wait, as the kernel's for a pipe read
 * or an accept: one readiness of the fd wakes one such waiter (the one
 * that waited longest); while the fd stays readable, the next poll wakes
 * the next. Waits whose wake-up serves others too (poll, a shared ring)
 * must not ask for it. */
#define GREEN__ONE   4


/* epoll_create made `fd`: if libev is the caller (making or, after a
 * spurious event, remaking its loop), it is libev's backend fd. Green
 * kernel thread (wrappers/fd.c). */
void green__loop_note_fd(int fd);


/* ---- sched.c: threads and their lifecycle --------------------------- */

/* The scheduler's state that wrappers read (hub/sched.c writes it; the
 * rest is private to hub/). */
struct green__sched {
    struct green__thread *current;  /* NULL while the hub runs */
    unsigned live;                  /* threads not yet exited, incl. main */
    bool active;                    /* hub started by a pthread_create */
    unsigned handler_depth;         /* program signal handlers running */
    unsigned calls_moved;           /* calls whose fd was closed under
                                       them (hub/fdtable.c) */
};

extern struct green__sched green__sched;

/* The running green thread, or NULL (the hub, or no runtime). */
static inline struct green__thread *green__self(void)
{
    return green__sched.current;
}

/* True when the caller is a green thread of the running runtime (not the
 * hub, not another kernel thread): the runtime's own primitives apply. */
static inline bool green__in_green_thread(void)
{
    return green__sched.current != NULL && green__on_green_kthread();
}

/* True when the calling green thread may park: we are on the green kernel
 * thread, in a green thread (not the hub), not inside a signal handler
 * (which must never switch threads), and another thread exists that could
 * run meanwhile. Otherwise wrappers pass straight through. */
static inline bool green__may_park(void)
{
    return green__sched.live > 1 && green__sched.current != NULL
        && green__sched.handler_depth == 0 && green__on_green_kthread();
}

/* Id of the calling thread as stored in lock owner fields: the green
 * thread's id, or the kernel tid (what glibc stores) before the runtime
 * starts. Green kernel thread. */
int green__sched_self_id(void);

/* The green kernel thread's tid, asked of the kernel once; after
 * green__sched_forget_tid (a fork's child, hub/fork.c) asked again.
 * Green kernel thread. */
int green__sched_kernel_tid(void);
void green__sched_forget_tid(void);

/* The live green thread whose id (its gettid()) is `id`, or NULL: a walk
 * of the live threads. Green kernel thread. */
struct green__thread *green__sched_by_id(int id);

/* What wrappers/ have the runtime do for them at a thread's start and end
 * and in a fork's child: the runtime never calls wrappers/ by name. */
struct green__hooks {
    /* New thread `id` was made by thread `creator` (its scheduling
     * values are the creator's). Green kernel thread. */
    void (*thread_made)(int id, int creator);
    /* The running thread ends: its C++ thread_local and key destructors,
     * as glibc runs them. Green thread, on its own stack. */
    void (*thread_ending)(void);
    /* A fork's child: `self`, which was thread `parent_id`, is the only
     * thread left. Green kernel thread, from hub/fork.c. */
    void (*fork_child)(const struct green__thread *self, int parent_id);
};

/* Start the runtime: libev loop, hub, stack region, main's thread object;
 * `hooks` (every member set) stays in use. Returns 0 or -errno (then
 * threads stay native). Green kernel thread. */
int green__sched_activate(const struct green__hooks *hooks);

/* Create a green thread running start(arg). `stack`/`stack_size`: the
 * program's own stack (pthread_attr_setstack) or NULL; `size_hint`: the
 * attr's stack size for separate mode. Returns 0 or -EAGAIN. Green only. */
int green__sched_spawn(struct green__thread **out, void *(*start)(void *),
                       void *arg, bool detached, void *stack,
                       size_t stack_size, size_t size_hint);


/* Let every other runnable thread run once, then continue. Green only. */
void green__sched_yield(void);

/* A call that could have waited (poll, select, epoll_wait, a WNOHANG
 * wait, a sleep of 0) returned at once. After GREEN__SPINS such calls
 * without a switch the thread yields and the hub polls libev first: a
 * thread that polls in a loop (Python's multiprocessing pool does, while
 * results wait in a pipe another thread reads) would otherwise keep the
 * hub, which alone sees the events of the others, from ever running.
 * Natively the kernel would preempt it. Green thread, where parking is
 * allowed; any other caller does nothing. */
#define GREEN__SPINS 64
void green__sched_spun(void);

/* pthread_exit(retval) of the running green thread, main included: unwind
 * its frames as glibc does (C++ destructors, cleanup handlers), then end
 * it. Called again by __pthread_unwind_next after each cleanup handler,
 * when green__exit_unwinding(). Never returns. Green thread only. */
__attribute__((noreturn)) void green__exit_unwind(void *retval);
bool green__exit_unwinding(void);

/* End the running thread with `retval`. Never returns. Green only. */
__attribute__((noreturn)) void green__sched_exit(void *retval);

/* Main called pthread_exit(retval) while other threads live: wait until
 * the last one ends, then exit(0) as glibc does. Never returns. Main only. */
__attribute__((noreturn)) void green__sched_exit_main(void *retval);

/* True once `t` has ended (for main: called pthread_exit). Any. */
bool green__sched_finished(const struct green__thread *t);


/* The thread object behind a pthread_t, or NULL if it is not ours. */
struct green__thread *green__sched_lookup(pthread_t th);

/* What a pthread_t that was ours once is now, when it is no live
 * thread's: the thread ended and was joined (glibc's descriptor then
 * reads tid -1), or ended detached (tid 0). glibc answers calls on such
 * handles from that tid; wrappers answer as it does and never pass the
 * handle to glibc. */
enum green__stale {
    GREEN__STALE_NO = 0,        /* not a stale handle of ours */
    GREEN__STALE_JOINED,
    GREEN__STALE_DETACHED,
};

/* Whether `th` is the handle of one of our threads that is gone. Any
 * (green kernel thread). */
enum green__stale green__sched_stale(pthread_t th);

/* The pthread_t the program sees for `t`. */
pthread_t green__sched_handle(struct green__thread *t);


/* The first live thread for which pred(t, arg) holds, or NULL. Any
 * (green kernel thread, not a signal handler). */
struct green__thread *green__sched_find(bool (*pred)(struct green__thread *,
                                                     int),
                                        int arg);

/* A joiner has collected `t` or it was detached: free it when possible. */
void green__sched_release(struct green__thread *t);


/* Join `t` as pthread_join does, waiting until `deadline` (-1: none; 0:
 * do not wait). Returns 0, EDEADLK, EINVAL, EBUSY or ETIMEDOUT. Green
 * thread, may park. */
int green__sched_join(struct green__thread *t, void **retval,
                      int64_t deadline);

/* Detach `t` as pthread_detach does. Returns 0 or EINVAL. */
int green__sched_detach(struct green__thread *t);

/* What wrappers/ may know of a thread (struct green__thread is opaque
 * outside hub/): its id (gettid(), and the owner id in mutexes), whether
 * it is main, its name (GREEN__THREAD_NAME bytes, pthread_setname_np),
 * the slot wrappers/keys.c keeps its values in (freed with the thread),
 * whether it is detached, and the stack it runs on. Green kernel
 * thread. */
#define GREEN__THREAD_NAME 16
int green__thread_id(const struct green__thread *t);
bool green__thread_is_main(const struct green__thread *t);
char *green__thread_name(struct green__thread *t);
void **green__thread_keys(struct green__thread *t);
bool green__thread_detached(const struct green__thread *t);
void green__thread_stack(const struct green__thread *t, void **lo,
                         size_t *size, size_t *guard);

/* Start accounting threads' CPU time (two system calls a switch, so
 * only once a program asks for a green thread's CPU clock): from now on
 * each switch adds the time the kernel thread ran a thread to its clock;
 * the kernel thread's time until now is main's. Green kernel thread. */
void green__sched_cpu_start(void);

/* `t`'s CPU time in ns, accounted since green__sched_cpu_start (which
 * this calls): until now if it is running, else until it last switched
 * out; a thread made since then started at zero. Green kernel thread. */
int64_t green__thread_cpu_ns(const struct green__thread *t);

/* ---- fork.c: the fork sequence ------------------------------------- */

/* Fork with `fork_call`, a fork that runs no atfork handlers (_Fork, a
 * raw fork system call), between the runtime's own prepare handler and
 * its parent or child handler, as glibc's fork runs them around its own
 * (glibc's fork finds them registered with pthread_atfork). The prepare
 * handler also drops what the fd cache knows. Returns what `fork_call`
 * returned (0 in the child, the child's pid, or -1), with the errno it
 * left. Any thread. */
long green__fork_run(long (*fork_call)(void));


/* ---- remote.c: wake-ups from other kernel threads -------------------- */

/* From a kernel thread the runtime did not make: have the hub wake up to
 * `n` green threads waiting on lot `key`. Does nothing before the runtime
 * starts. Any kernel thread but the green one. */
void green__remote_wake(const void *key, unsigned n);


/* ---- signal.c: signals as a process of green threads sees them ------ */

/* A new program is about to start from green thread `self` (exec, or a
 * posix_spawn child): give the kernel thread `self`'s mask, which the new
 * program inherits, as natively; put the shared mask back afterwards (the
 * exec failed, or the child exists). Green kernel thread. */
void green__signal_exec_begin(const struct green__thread *self);
void green__signal_exec_end(const struct green__thread *self);

/* Set the calling green thread's mask to `mask` and run the handlers of
 * the pending signals it unblocks. Green thread only. */
void green__signal_setmask(uint64_t mask);


/* The calling green thread's mask (pthread_sigmask's view), and how many
 * handlers have run in it so far. Green thread only. */
uint64_t green__signal_mask(void);
unsigned green__signal_runs(void);

/* After a park returned -EINTR: true when every handler that interrupted
 * it had SA_RESTART. Green thread only. */
bool green__signal_restarts(void);

/* Send `info` to green thread `t` (pthread_kill, pthread_sigqueue, raise
 * from a green thread): queue it and interrupt the thread's wait if its
 * mask lets it through, or act as the kernel does for a signal without a
 * handler that `t` does not block. Sent to the calling thread itself, it
 * is handled before this returns unless blocked, else pending on it.
 * Returns 0 or an error number. Green thread only. */
int green__signal_send(struct green__thread *t, const siginfo_t *info);

/* green__signal_send of `sig` as tgkill, tkill and pthread_kill send it
 * (SI_TKILL, from this process and user). Green thread only. */
int green__signal_tkill(struct green__thread *t, int sig);

/* The same as pthread_sigqueue sends it (SI_QUEUE with `value`). */
int green__signal_sigqueue(struct green__thread *t, int sig,
                           union sigval value);

/* Take a pending signal of `set` meant for the calling thread (its own or
 * the process's kept by the runtime) into *info. Returns the signal or 0.
 * Green thread only. */
int green__signal_take(uint64_t set, siginfo_t *info);

/* Pending signals the runtime keeps for the calling thread and process.
 * Green thread only. */
uint64_t green__signal_pending(void);

/* While the calling thread waits in sigwait for `set`: a readable fd that
 * tells a signal of the set is pending in the kernel, or -errno. End the
 * wait with green__signal_wait_end. Green thread only. */
int green__signal_wait_begin(uint64_t set);
void green__signal_wait_end(uint64_t set);


/* From a signal handler: have the hub wake up to `n` waiters on `key`
 * (a handler must not touch the parking lot, which it may have
 * interrupted). Async-signal-safe. */
void green__signal_defer_wake(const void *key, unsigned n);

/* Install the program's action `act` (NULL: none; else readable) for
 * `sig`: the kernel gets the runtime's trampoline for a handler function,
 * and *old the previous action as the program sees it. sigaction(2)'s
 * contract; returns 0 or -errno. Any thread. */
int green__signal_action(int sig, const struct sigaction *act,
                         struct sigaction *old);


/* ---- uring.c: connect without touching the socket's flags ---------- */

/* One connect(2) in progress inside io_uring. */
struct green__uring_op;

/* Start connecting socket `fd` to `addr` (`len` bytes, libgreen's own
 * readable copy) without blocking and without changing any flag of the
 * socket; *op tracks it. Returns 0, or -ENOSYS when io_uring cannot be
 * used here (the caller connects another way). Green thread only. */
int green__uring_connect(int fd, const struct sockaddr *addr, socklen_t len,
                         struct green__uring_op **op);

/* Park until `op` completes or `deadline`: returns its result (0 or
 * -errno; `op` is freed), or -ETIMEDOUT / -EINTR with `op` still going
 * (wait again, or green__uring_abandon it). Green thread only. */
int green__uring_wait(struct green__uring_op *op, int64_t deadline);

/* Cancel `op`; it is freed when its cancellation completes. Green. */
void green__uring_abandon(struct green__uring_op *op);


/* ---- tls.c, tls-own.c: thread-local storage --------------------- */

/* Executable range of a malloc that replaced glibc's (jemalloc), else 0. */
extern uintptr_t green__allocator_lo, green__allocator_hi;

/* True when return address `ra` is in that allocator. Its locks and
 * condition variables are its own business with its own kernel thread
 * (jemalloc's purging thread) and are held only briefly, as glibc's malloc
 * holds its arena locks: the sync wrappers leave them to glibc. */
static inline bool green__called_by_allocator(const void *ra)
{
    return (uintptr_t)ra - green__allocator_lo
           < green__allocator_hi - green__allocator_lo;
}


/* Run green thread `self` at home until the matching green__tls_away:
 * for calls that walk glibc's thread list (fork). Green thread only. */
void green__tls_home(struct green__thread *self);
void green__tls_away(struct green__thread *self);


/* ---- offload.c: blocking libc calls on helper kernel threads -------- */

/* Most helper kernel threads at once; more jobs wait in a queue. */
#define GREEN__OFFLOAD_MAX 8

/* Run fn(arg) on a helper kernel thread (made on first use, ended after a
 * few idle seconds) and park the calling green thread until it returns;
 * signal handlers run meanwhile and the wait goes on. `arg` and all that
 * fn touches must not be on the caller's stack (copy mode moves it while
 * the caller is parked). fn runs with every signal blocked, on a kernel
 * thread where every wrapper passes through; its errno and h_errno are
 * the helper's own. Returns 0, or -ENOMEM / -EAGAIN when no helper could
 * take the job: fn(arg) then ran on the caller, blocking its kernel
 * thread. Green thread only, with green__may_park(). */
int green__offload_run(void (*fn)(void *), void *arg);


/* ---- park.c: the one blocking primitive ---------------------------- */

/* Park until `fd` is ready for `events` or `deadline` (CLOCK_MONOTONIC ns,
 * -1: none) passes. Returns 0 (ready: the caller retries its call),
 * -ETIMEDOUT, or -EINTR (a signal handler ran). Green thread only, with
 * green__may_park(). */
int green__park_fd(int fd, int events, int64_t deadline);

/* Park until one of `fds` (poll(2) semantics; negative fds ignored) may be
 * ready or `deadline` passes. Returns 0, -ETIMEDOUT, -EINTR or -ENOMEM.
 * Green. */
int green__park_poll(const struct pollfd *fds, nfds_t nfds, int64_t deadline);

/* Park until `deadline`. Returns 0 once it has passed, or -EINTR when a
 * signal handler ran first. Green only. */
int green__park_until(int64_t deadline);

/* Block the running thread `self`, whose wake-up source (watcher, lot
 * entry) is already armed, until it fires or `deadline` (-1: none).
 * Returns 0, -ETIMEDOUT if the deadline woke it, or -EINTR if a signal
 * did (its handlers have run; self->sig_restart says whether all had
 * SA_RESTART). Green thread only. */
int green__park_block(struct green__thread *self, int64_t deadline);


/* Stop `t`'s lingering single-fd watcher, if any. Any (green kernel
 * thread). */
void green__park_unlinger(struct green__thread *t);

/* ---- backoff.c: a growing sleep between polls ---------------------- */

/* A growing green sleep: GREEN__BACKOFF(first, cap) starts one. */
struct green__backoff {
    int64_t pause;      /* the next sleep, ns */
    int64_t cap;        /* after each sleep, pause doubles while below it */
};
#define GREEN__BACKOFF(first_ns, cap_ns) \
    ((struct green__backoff){ .pause = (first_ns), .cap = (cap_ns) })

/* Sleep b->pause, but not past `deadline` (-1: none), then grow the
 * pause. Returns 0, -EINTR when a signal handler ran (as
 * green__park_until), or -ETIMEDOUT at once, without sleeping, when the
 * deadline has passed. Green thread only, with green__may_park(). */
int green__backoff_sleep(struct green__backoff *b, int64_t deadline);


/* ---- fdtable.c: one record per fd number ---------------------------- */

/* What is known of an fd the program made here, without asking. */
#define GREEN__FD_SOCKET   1u       /* made by socket, socketpair, accept */
#define GREEN__FD_PIPE     2u       /* made by pipe, pipe2 */
#define GREEN__FD_NONBLOCK 4u       /* O_NONBLOCK set */
#define GREEN__FD_RCVTIMEO 8u       /* SO_RCVTIMEO set (not zero) */
#define GREEN__FD_SNDTIMEO 16u      /* SO_SNDTIMEO set (not zero) */

/* `fd` was just made with `bits` (a kind and its flags). Any (only the
 * green kernel thread records). */
void green__fd_made(int fd, unsigned bits);
/* The bits known of `fd`, or 0 if nothing is known. Any. */
unsigned green__fd_known(int fd);
/* If `fd` is known: clear `clear`, then set `set`. Any. */
void green__fd_update(int fd, unsigned clear, unsigned set);
/* `fd`'s flags may change unseen (it was duplicated): nothing is known of
 * it. Any kernel thread. */
void green__fd_forget(int fd);
/* Another process may now share any fd: nothing is known of any. Any. */
void green__fd_forget_all(void);

/* The program is about to close or replace fd number `fd` (close, dup2,
 * fclose, ...): forget what is known of it and, when a green thread
 * waits on it, move the waiters to a descriptor the runtime keeps for the
 * same open file description, so that their calls go on there as blocked
 * calls do in the kernel. Returns 0 (make the real call) or -EBADF: the
 * fd is the runtime's, not the program's. Any kernel thread. */
int green__fd_closing(int fd);


/* True when the runtime must act before `fd` is closed or replaced: a
 * green thread waits on it, or it is one of the runtime's own. A table
 * lookup. Any (green kernel thread). */
bool green__fd_busy(int fd);

/* Move every watcher on `fd` to a kept descriptor, as green__fd_closing
 * does (for a number known to be the program's). Green thread, before
 * the real call. */
void green__fd_release(int fd);

/* The same for every fd in [lo, hi]. */
void green__fd_release_range(unsigned lo, unsigned hi);

/* The lowest private fd (below) in [lo, hi], or -1. */
int green__fd_next_private(unsigned lo, unsigned hi);

/* True for an fd the program must never see: a kept descriptor or one
 * of the runtime's own (green__loop_owns_fd). Any (green kernel thread). */
bool green__fd_private(int fd);

/* The fd a call that parked waiting on `fd` goes on with: `fd`, or the
 * kept descriptor when the program closed `fd` meanwhile (-1 when none
 * could be kept: the retry then fails with EBADF, as after a close, and
 * never touches a new fd that took the number). Green thread only. */
int green__fd_resume_moved(int fd);
static inline int green__fd_resume(int fd)
{
    return __builtin_expect(green__sched.calls_moved == 0, 1)
        ? fd : green__fd_resume_moved(fd);
}


/* The calling thread's call has ended: let go of its kept descriptor.
 * errno is kept. Green thread, or any context when nothing was moved. */
void green__fd_moved_ended(void);
static inline void green__fd_moved_end(void)
{
    if (__builtin_expect(green__sched.calls_moved != 0, 0)) {
        green__fd_moved_ended();
    }
}


/* ---- lot.c: wait queues keyed by address --------------------------- */

/* Park the running thread on `key` until green__lot_wake or `deadline`.
 * Returns 0 (woken) or -ETIMEDOUT; a signal handler may run meanwhile,
 * and the wait goes on. Green thread only. */
int green__lot_wait(const void *key, int64_t deadline);

/* Wake up to `n` threads waiting on `key`, oldest first. Returns how many.
 * Any (green kernel thread). */
unsigned green__lot_wake(const void *key, unsigned n);

/* The same with a bitset, for FUTEX_WAIT_BITSET/FUTEX_WAKE_BITSET: a wake
 * reaches only waiters whose bits intersect the waker's. */
#define GREEN__LOT_ANY 0xffffffffu
int green__lot_wait_bits(const void *key, uint32_t bits, int64_t deadline);

/* The same, ended with -EINTR when a signal handler runs (sem_wait, the
 * futex wait). Green thread only. */
int green__lot_wait_intr(const void *key, uint32_t bits, int64_t deadline);
unsigned green__lot_wake_bits(const void *key, unsigned n, uint32_t bits);

#endif
