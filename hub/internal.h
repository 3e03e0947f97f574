/* SPDX-License-Identifier: MIT */
/* What hub/ shares only inside hub/: the green thread object, the
 * scheduler's run queue, the hub (hub/hub.c), the libev adapter
 * (hub/loop.c, the only file that sees <ev.h>), thread-local storage,
 * and the parts of parking, signals and fds that the hub drives. What
 * wrappers/ may use is in hub/hub.h, which this includes; scripts/
 * check-layers fails when a file outside hub/ includes this one.
 *
 * One kernel thread runs every green thread. Nothing here is locked: only
 * that kernel thread ever touches this state (green__on_green_kthread).
 */
#ifndef GREEN_HUB_INTERNAL_H
#define GREEN_HUB_INTERNAL_H

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/auxv.h>
#include <sys/socket.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <unwind.h>

#include "hub/hub.h"
#include "switch/switch.h"

/* ---- loop.c: libev behind a small interface ------------------------ */

/* One wait of a green thread, in its thread object (never on a stack,
 * which copy mode moves): a deadline, kept in a libev ev_timer (opaque
 * outside loop.c, which checks that it fits), or readiness of an fd
 * number, kept by hub/fdtable.c, which lists the waiters of each fd and
 * has one libev fd watcher per fd wait for all of them. */
struct green__watcher {
    union {
        _Alignas(16) unsigned char opaque[48];
        struct {
            int fd;
            int events;             /* GREEN__READ, GREEN__WRITE, GREEN__ONE */
            void *data;             /* the waiting thread */
            struct green__watcher *next, *prev;     /* the fd's waiters */
            bool linked;            /* in that list */
        } wait;
    };
};

/* dlopen libev (RTLD_LOCAL: its symbols never reach the program) and make
 * a private loop. Returns 0 or -ENOSYS with a message on stderr. Once. */
int green__loop_open(void);

/* The libev fd watcher of one fd number, which hub/fdtable.c starts for
 * the union of its waiters' events. */
struct green__fdwatch;

/* Make the watcher of `fd`, stopped. NULL when memory ran out. Any (green
 * kernel thread). */
struct green__fdwatch *green__loop_fd_new(int fd);

/* Have `w` wait for `events` (GREEN__READ | GREEN__WRITE; 0: stop it).
 * When the fd is ready it calls green__fd_fire on the hub. Any
 * (green kernel thread). */
void green__loop_fd_set(struct green__fdwatch *w, int events);

/* The runtime's own fds: libev's backend fd, the fd green__loop_watch
 * watches, sigwait's signalfd (hub/signal.c) and the io_uring of connect
 * (hub/uring.c). Stores up to GREEN__OWN_FDS in `out`, returns how many.
 * Any (green kernel thread). */
#define GREEN__OWN_FDS 4
unsigned green__loop_fds(int out[GREEN__OWN_FDS]);

/* True when `fd` is one of those. */
bool green__loop_owns_fd(int fd);

/* Call green__park_fire(data) at `deadline` (CLOCK_MONOTONIC ns). */
void green__loop_timer_start(struct green__watcher *w, int64_t deadline,
                             void *data);
void green__loop_timer_stop(struct green__watcher *w);

/* Watch `fd` for reading for the life of the process, calling `cb` on
 * the hub whenever it is readable. Once. Hub or green thread. */
void green__loop_watch(int fd, void (*cb)(void));

/* Run one loop iteration, waiting for events only if `block`. Returns the
 * number of active watchers left (0: nothing can ever wake anyone). Hub. */
int green__loop_run(bool block);

/* In a fork's child: have libev make its own epoll set (and register
 * every started watcher there) before it next runs; nothing touches the
 * parent's meanwhile (libev applies fd changes only as it runs). */
void green__loop_fork(void);

/* ---- the green thread ---------------------------------------------- */

enum green__state {
    GREEN__RUNNING,         /* the one running now */
    GREEN__RUNNABLE,        /* on the run queue */
    GREEN__PARKED,          /* waiting for green__park_fire/lot wake */
    GREEN__EXITED,          /* finished; waiting to be joined or freed */
};

/* Why a parked thread woke. */
enum green__wake { GREEN__WOKE_EVENT, GREEN__WOKE_TIMEOUT, GREEN__WOKE_LOT,
                   GREEN__WOKE_SIGNAL };

#define GREEN__THREAD_MAGIC 0x677265656e746872ULL   /* "greenthr" */
/* An ended thread's object kept after it was joined or detached, so that
 * its stale pthread_t still reads as ours (hub/sched.c, graveyard). */
#define GREEN__THREAD_GONE 0x677265656e676f6eULL    /* "greengon" */

struct green__thread {
    struct green__ctx ctx;          /* registers while switched out */
    uint64_t magic;                 /* tells our pthread_t from glibc's */
    int id;                         /* stored in mutexes' __owner field */
    enum green__state state;
    bool detached;
    bool joined;                    /* a pthread_join has collected it */
    bool is_main;                   /* main(), on the process stack */
    int saved_errno;                /* errno while switched out */
    int saved_h_errno;              /* h_errno (in glibc's TLS block,
                                       which green threads share) */
    void *(*start)(void *);
    void *arg;
    void *retval;
    struct green__thread *runq_next;
    void *keys;                     /* wrappers/keys.c's: freed with it */
    unsigned char *tls;             /* copy mode: __thread values while
                                       switched out; separate mode: the
                                       memory of its own TLS area */
    uintptr_t tls_tp;               /* separate mode: its area's thread
                                       pointer (tls-own.c); 0: home */
    void *dtv;                      /* copy mode: its module table (glibc's
                                       dtv) while switched out */
    uintptr_t dtv_tp;               /* the area its static entries point
                                       into then */
    uint32_t tls_slot;              /* TLS window (tls.c); 0: home */
    unsigned tls_home;              /* >0: in a call that runs at home */
    char name[16];                  /* pthread_setname_np; "" until set */
    int64_t cpu_ns;                 /* CPU time of its runs that ended:
                                       the kernel thread's CPU clock,
                                       sampled at each switch (ns) */
    enum green__stale gone;         /* magic GREEN__THREAD_GONE: how it
                                       ended (joined, or detached) */

    /* Parking: everything the hub points at lives here, never on a stack. */
    enum green__wake woke;
    struct green__watcher io;       /* single fd */
    struct green__watcher timer;    /* deadline */
    struct green__watcher *ios;     /* poll(): one per fd, heap */
    unsigned nios;
    bool io_armed, timer_armed;
    bool io_linger;                 /* io started, but not waited on */
    const void *lot_key;            /* non-NULL while in a lot queue */
    bool lot_intr;                  /* a signal ends this lot wait */
    uint32_t lot_bits;              /* wakers' bits must intersect these */
    struct green__thread *lot_next, *lot_prev;
    /* The program closed fd `fd_moved_from` while this thread's call
     * waited on it (fdtable.c): the call goes on with `fd_moved_to`, a
     * descriptor kept for the same open file description, or -1 if none
     * could be kept. */
    bool fd_moved;
    int fd_moved_from, fd_moved_to;

    /* Signals (hub/signal.c); bit sig-1 of a word stands for signal sig. */
    uint64_t sigmask;               /* blocked: pthread_sigmask's view */
    uint64_t sigpending;            /* pending for this thread only */
    uint64_t sigwaiting;            /* in sigwait: these end the wait */
    struct green__sigrec *sigq;     /* siginfo of the pending, oldest first */
    unsigned sig_runs;              /* handlers run in this thread so far */
    bool sig_restart;               /* the handlers that interrupted the
                                       last park all had SA_RESTART */
    struct green__thread *all_next, *all_prev;  /* every live thread */

    struct green__stack stack;

    /* pthread_exit's unwind (hub/exit.c). */
    bool unwinding;
    uintptr_t unwind_top;           /* thread_main's frame: the end */
    void *cleanup_chain;            /* glibc's cleanup buffers, while the
                                       TCB is another thread's (tls.c) */
    struct _Unwind_Exception exc;
};

/* ---- sched.c: lifecycle and run queue ------------------------------ */

/* The scheduler's state besides green__sched (hub/hub.h). */
struct green__sched_private {
    bool main_exited;               /* main called pthread_exit */
    unsigned spins;                 /* calls that could have waited and
                                       did not, since the last switch */
    bool poll_soon;                 /* the hub polls libev after this run */
    uint64_t created, switches, parks;
    bool cpu_on;                    /* threads' CPU time is accounted */
    int64_t cpu_in;                 /* the kernel thread's CPU clock when
                                       the running thread came in (ns) */
};

/* The kernel thread's CPU clock (CLOCK_THREAD_CPUTIME_ID) in ns, read
 * with the runtime's own system call. Green kernel thread. */
int64_t green__sched_kthread_cpu(void);

extern struct green__sched_private green__sched_private;

/* Once green__sched_cpu_start has run: at each switch, add the kernel
 * thread's CPU time since `self` came in to its clock. Green thread,
 * switching out. */
static inline void green__sched_cpu_out(struct green__thread *self)
{
    if (__builtin_expect(green__sched_private.cpu_on, 0)) {
        self->cpu_ns += green__sched_kthread_cpu()
                        - green__sched_private.cpu_in;
    }
}

/* The same as thread `t` comes in. Hub only. */
static inline void green__sched_cpu_in(void)
{
    if (__builtin_expect(green__sched_private.cpu_on, 0)) {
        green__sched_private.cpu_in = green__sched_kthread_cpu();
    }
}

/* Put `t` on the run queue. Any context on the green kernel thread. */
void green__sched_ready(struct green__thread *t);

/* Switch the running thread out to the hub until someone makes it ready
 * again; errno is kept. Green thread only. */
void green__sched_block(void);

/* True when no thread is runnable. Hub only. */
bool green__sched_idle(void);

/* How many threads are on the run queue. Green kernel thread. */
unsigned green__sched_queued(void);

/* The main thread's object (valid once the runtime started). */
struct green__thread *green__sched_main(void);

/* Next runnable thread or NULL. Hub only. */
struct green__thread *green__sched_next(void);

/* The hub has switched back from `t`: account for its stack, reap it if it
 * exited. Hub only. */
void green__sched_switched_out(struct green__thread *t);

/* In a fork's child: drop every thread but `self` (the caller of fork)
 * without running anything of theirs, give `self` a new lock-owner id,
 * as natively the child's thread has a new tid, and run the fork_child
 * hook. Green kernel thread, from the fork's child handler (hub/fork.c). */
void green__sched_fork(struct green__thread *self);

/* ---- remote.c: wake-ups from other kernel threads -------------------- */

/* Make the eventfd the hub watches for remote wake-ups. Returns 0 or
 * -errno. Once, when the runtime starts. */
int green__remote_init(void);

/* Poke the hub's eventfd so that it runs its loop soon. Async-signal-safe;
 * does nothing before the runtime starts. */
void green__remote_poke(void);

/* In a fork's child: a new eventfd in place of the parent's (same number,
 * so libev's watcher stays), and an empty ring. Green kernel thread. */
void green__remote_fork(void);

/* ---- signal.c: signals as a process of green threads sees them ------ */

/* One signal pending for a green thread. */
struct green__sigrec;

/* The runtime starts: main's mask is the kernel thread's. Once. */
void green__signal_activate(struct green__thread *main_thread);

/* New thread `t` inherits `creator`'s mask; `t` dies: drop its mask and
 * its pending signals. Green kernel thread. */
void green__signal_adopt(struct green__thread *t,
                         const struct green__thread *creator);
void green__signal_forget(struct green__thread *t);

/* Run the handlers of `self`'s pending signals its mask lets through (and
 * not waited for by sigwait). Returns how many ran. Green thread only,
 * after it resumes. */
unsigned green__signal_deliver(struct green__thread *self);

static inline bool green__signal_due(const struct green__thread *t)
{
    return (t->sigpending & ~t->sigmask & ~t->sigwaiting) != 0;
}

/* Deliver what signal handlers queued while the hub could not act. Hub. */
void green__signal_drain(void);
extern volatile int green__signal_queued;

/* sigwait's signalfd, or -1 before the first sigwait that parks. */
int green__signal_fd(void);

/* In a fork's child, where `self` called fork: nothing is pending (the
 * process's, `self`'s, the handlers' ring), the pid is new, and sigwait's
 * signalfd is dropped (made again when a thread next waits). Green kernel
 * thread, before green__sched_fork. */
void green__signal_fork(struct green__thread *self);

/* The ring's fd, or a negative number before (or without) one. Any. */
int green__uring_fd(void);

/* In a fork's child: forget the parent's ring (its memory is shared with
 * the parent); the child makes its own on first use. Green kernel thread. */
void green__uring_fork(void);

/* ---- tls.c: thread-local storage of green threads ------------------ */

/* True when %fs may be set with the wrfsbase instruction: the CPU and
 * kernel allow it (AT_HWCAP2, Linux >= 5.9) and LIBGREEN_FSGSBASE is not
 * 0 (which makes every move the arch_prctl system call, as on CPUs
 * without FSGSBASE: to measure that path anywhere). Any. */
static inline bool green__fsgsbase(void)
{
    return green__config.fsgsbase
        && (getauxval(AT_HWCAP2) & GREEN__HWCAP2_FSGSBASE) != 0;
}

/* An entry of glibc's module table (dtv_t): entry -1 holds the table's
 * length, entry 0 the generation it is valid for, entry i > 0 module i's
 * block address and what to free when the thread ends. */
union green__dtv_entry {
    size_t counter;
    struct {
        void *val;
        void *to_free;
    } pointer;
};

/* Find the TLS blocks to keep per green thread and reserve the windows
 * that give each thread its own thread-local addresses; `main_thread`'s
 * values are the ones in place. Returns 0 or -ENOMEM (then all share the
 * values). Once, on the kernel thread's own thread pointer. */
int green__tls_init(struct green__thread *main_thread);

/* Give new thread `t` fresh values (initial images) and a window. Returns
 * 0 or -EAGAIN. Green kernel thread. */
int green__tls_create(struct green__thread *t);

/* Put `to`'s values in place, saving those of their owner, and move the
 * TLS area into `to`'s window. Hub only, just before resuming `to`. */
void green__tls_switch(struct green__thread *to);

/* `t` has exited (or was dropped by fork): drop its values and window.
 * Hub, or green kernel thread for a thread other than the running one. */
void green__tls_release(struct green__thread *t);

/* ---- tls-glibc.c: glibc's thread and module lists -------------------- */

/* Offset of a field of glibc's structures, as glibc describes it to
 * libthread_db (`name` is a _thread_db_* symbol: {bits, count, offset}).
 * 0 when unknown. Any. */
size_t green__tls_db_offset(const char *name);

/* True when a module's path names glibc's libc.so. Any. */
bool green__tls_is_libc(const char *name);

/* Check that the TCB at `home` is on glibc's thread list. Returns false
 * when the list is unknown (green__tls_list_move then does nothing).
 * Once. */
bool green__tls_list_init(uintptr_t home);

/* Put the TCB at thread pointer `to` on glibc's thread list in the place
 * of the one at `from`. Green kernel thread. */
void green__tls_list_move(uintptr_t from, uintptr_t to);

/* A static TLS block of a library loaded with dlopen. */
struct green__tls_image {
    size_t modid;
    uintptr_t off;                  /* thread pointer minus block address */
    const unsigned char *data;      /* initial image (.tdata) */
    size_t filesz, memsz;           /* the rest of memsz is zero (.tbss) */
};

/* Start looking at glibc's module list: what is loaded now is known. */
void green__tls_mods_init(void);

/* The highest module id of the libraries with TLS seen so far (0:
 * unknown). Green kernel thread. */
size_t green__tls_mods_count(void);

/* Put in *im the next library with a static TLS block loaded since the
 * last call, if any. Green kernel thread. green__tls_mods_loaded says, in
 * two loads, whether to call it: whether a library with TLS was loaded. */
bool green__tls_mods_next(struct green__tls_image *im);
extern const void *const *green__tls_mods_watch;
static inline bool green__tls_mods_loaded(void)
{
    return __builtin_expect(*green__tls_mods_watch != NULL, 0);
}

/* ---- tls-own.c: a TLS area per green thread (separate mode) -------- */

/* Use own areas if glibc's layout is known. Returns whether they are on.
 * Once, from green__tls_init, on the kernel thread's own thread pointer. */
bool green__tls_own_init(void);
bool green__tls_own_on(void);

/* The green__tls_* functions above, when own areas are on. */
int green__tls_own_create(struct green__thread *t);
void green__tls_own_switch(struct green__thread *to);
void green__tls_own_home(struct green__thread *self);
void green__tls_own_away(struct green__thread *self);
void green__tls_own_release(struct green__thread *t);

/* ---- hub.c --------------------------------------------------------- */

/* Allocate the hub's stack and context. Returns 0 or -ENOMEM. Once. */
int green__hub_init(void);

/* Switch from thread `self` to the hub. Green thread only. */
void green__hub_enter(struct green__thread *self);

/* True when stack pointer `sp` lies in the hub's stack. Any. */
bool green__hub_owns(uintptr_t sp);

/* ---- copycheck.c: what copy mode cannot run (LIBGREEN_DEBUG) ------- */

/* Thread `x` has just switched out (and not yet been recorded as such):
 * in copy mode, if a global, main's stack or another stack off the region
 * holds a pointer into x's live frames (other than those its descendants
 * may use), say once on stderr that copy mode cannot run the program.
 * Only reads memory. Hub only; call only with LIBGREEN_DEBUG. */
void green__copycheck(struct green__thread *x);

/* ---- exit.c: pthread_exit's unwind ---------------------------------- */

/* Find where glibc's struct pthread keeps its cleanup buffers and load
 * the unwinder. Returns false when exits cannot unwind (they then end at
 * once, as before). Once, on the kernel thread's own thread pointer. */
bool green__exit_init(void);

/* The running TCB's head of glibc's registered cleanup buffers (struct
 * pthread's cleanup_jmp_buf), or NULL when unknown. Any. */
void **green__exit_chain(void);

/* Where struct pthread keeps that head, from the thread pointer; 0 when
 * unknown (exits then end at once, without unwinding). */
extern size_t green__exit_chain_off;

/* ---- park.c -------------------------------------------------------- */

/* Hub callback: an event or deadline for parked `t` fired; disarm the
 * thread's watchers and make it runnable. Hub only (called from loop.c). */
void green__park_fire(void *t, bool timeout);

/* Stop every watcher and lot entry of `t`, except that its single-fd
 * watcher lingers (see park.c). Any (green kernel thread). */
void green__park_disarm(struct green__thread *t);

/* ---- fdtable.c ----------------------------------------------------- */

/* Have thread `data` wait (with `w`) for `fd` to be ready for `events`
 * (GREEN__READ, GREEN__WRITE, GREEN__ONE): green__park_fire(data) when
 * it is. Any (green kernel thread). */
void green__fd_watch(struct green__watcher *w, int fd, int events,
                     void *data);

/* End wait `w`; ending an ended one does nothing. Any (green kthread). */
void green__fd_unwatch(struct green__watcher *w);

/* libev found `fd` ready for `revents`, or (`error`) found it closed
 * behind its back and stopped its watcher: wake its waiters (one
 * exclusive reader per readiness; on error every one, whose retry then
 * sees the error). Hub only (loop.c). */
void green__fd_fire(int fd, int revents, bool error);

/* Thread `t` is dropped with a call in progress (a fork's child): let go
 * of its kept descriptor. Green kernel thread. */
void green__fd_moved_gone(struct green__thread *t);

/* ---- lot.c --------------------------------------------------------- */

/* Remove `t` from the queue it waits in. Hub/park only. */
void green__lot_unlink(struct green__thread *t);

#endif
