/* SPDX-License-Identifier: MIT */
/* Declarations shared inside hub/ and with wrappers/: the green thread
 * object, the scheduler (hub/sched.c), the hub (hub/hub.c), parking
 * (hub/park.c), the parking lot (hub/lot.c) and the libev adapter
 * (hub/loop.c, the only file that sees <ev.h>).
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

#include "hub/time.h"
#include "preload/preload.h"
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

#define GREEN__READ  1      /* same values as EV_READ and EV_WRITE */
#define GREEN__WRITE 2
/* With GREEN__READ: an exclusive wait, as the kernel's for a pipe read
 * or an accept: one readiness of the fd wakes one such waiter (the one
 * that waited longest); while the fd stays readable, the next poll wakes
 * the next. Waits whose wake-up serves others too (poll, a shared ring)
 * must not ask for it. */
#define GREEN__ONE   4

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

/* epoll_create made `fd`: if libev is the caller (making or, after a
 * spurious event, remaking its loop), it is libev's backend fd. Green
 * kernel thread (wrappers/fd.c). */
void green__loop_note_fd(int fd);

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

/* One C++ thread_local destructor (__cxa_thread_atexit_impl). */
struct green__tls_dtor {
    void (*func)(void *);
    void *obj;
    struct green__tls_dtor *next;
};

/* One pthread_setspecific value; `gen` is the key's generation when set. */
struct green__specific {
    unsigned gen;
    void *value;
};

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
    struct green__specific *specific;   /* key values, indexed by key */
    unsigned nspecific;
    struct green__tls_dtor *tls_dtors;  /* thread_local destructors, LIFO */
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
};

/* ---- sched.c: lifecycle and run queue ------------------------------ */

struct green__sched {
    struct green__thread *current;  /* NULL while the hub runs */
    unsigned live;                  /* threads not yet exited, incl. main */
    bool active;                    /* hub started by a pthread_create */
    bool main_exited;               /* main called pthread_exit */
    unsigned handler_depth;         /* program signal handlers running */
    unsigned spins;                 /* calls that could have waited and
                                       did not, since the last switch */
    bool poll_soon;                 /* the hub polls libev after this run */
    uint64_t created, switches, parks;
};

extern struct green__sched green__sched;

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

/* Put `t` on the run queue. Any context on the green kernel thread. */
void green__sched_ready(struct green__thread *t);

/* Switch the running thread out to the hub until someone makes it ready
 * again; errno is kept. Green thread only. */
void green__sched_block(void);

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

/* End the running thread with `retval`. Never returns. Green only. */
__attribute__((noreturn)) void green__sched_exit(void *retval);

/* Main called pthread_exit(retval) while other threads live: wait until
 * the last one ends, then exit(0) as glibc does. Never returns. Main only. */
__attribute__((noreturn)) void green__sched_exit_main(void *retval);

/* True once `t` has ended (for main: called pthread_exit). Any. */
bool green__sched_finished(const struct green__thread *t);

/* True when no thread is runnable. Hub only. */
bool green__sched_idle(void);

/* How many threads are on the run queue. Green kernel thread. */
unsigned green__sched_queued(void);

/* The thread object behind a pthread_t, or NULL if it is not ours. */
struct green__thread *green__sched_lookup(pthread_t th);

/* The pthread_t the program sees for `t`. */
pthread_t green__sched_handle(struct green__thread *t);

/* The main thread's object (valid once the runtime started). */
struct green__thread *green__sched_main(void);

/* The first live thread for which pred(t, arg) holds, or NULL. Any
 * (green kernel thread, not a signal handler). */
struct green__thread *green__sched_find(bool (*pred)(struct green__thread *,
                                                     int),
                                        int arg);

/* A joiner has collected `t` or it was detached: free it when possible. */
void green__sched_release(struct green__thread *t);

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

/* Make the eventfd the hub watches for remote wake-ups. Returns 0 or
 * -errno. Once, when the runtime starts. */
int green__remote_init(void);

/* From a kernel thread the runtime did not make: have the hub wake up to
 * `n` green threads waiting on lot `key`. Does nothing before the runtime
 * starts. Any kernel thread but the green one. */
void green__remote_wake(const void *key, unsigned n);

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

/* A new program is about to start from green thread `self` (exec, or a
 * posix_spawn child): give the kernel thread `self`'s mask, which the new
 * program inherits, as natively; put the shared mask back afterwards (the
 * exec failed, or the child exists). Green kernel thread. */
void green__signal_exec_begin(const struct green__thread *self);
void green__signal_exec_end(const struct green__thread *self);

/* Set the calling green thread's mask to `mask` and run the handlers of
 * the pending signals it unblocks. Green thread only. */
void green__signal_setmask(uint64_t mask);

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

/* Send `info` to green thread `t` (pthread_kill, pthread_sigqueue from a
 * green thread): queue it and interrupt the thread's wait if its mask
 * lets it through, or act as the kernel does for a signal without a
 * handler. Returns 0 or an error number. Green thread only. */
int green__signal_send(struct green__thread *t, const siginfo_t *info);

/* green__signal_send of `sig` as tgkill, tkill and pthread_kill send it
 * (SI_TKILL, from this process and user). Green thread only. */
int green__signal_tkill(struct green__thread *t, int sig);

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

/* sigwait's signalfd, or -1 before the first sigwait that parks. */
int green__signal_fd(void);

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

/* In a fork's child, where `self` called fork: nothing is pending (the
 * process's, `self`'s, the handlers' ring), the pid is new, and sigwait's
 * signalfd is dropped (made again when a thread next waits). Green kernel
 * thread, before green__sched_fork. */
void green__signal_fork(struct green__thread *self);

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

/* The ring's fd, or a negative number before (or without) one. Any. */
int green__uring_fd(void);

/* In a fork's child: forget the parent's ring (its memory is shared with
 * the parent); the child makes its own on first use. Green kernel thread. */
void green__uring_fork(void);

/* ---- tls.c: thread-local storage of green threads ------------------ */

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

/* Run green thread `self` at home until the matching green__tls_away:
 * for calls that walk glibc's thread list (fork). Green thread only. */
void green__tls_home(struct green__thread *self);
void green__tls_away(struct green__thread *self);

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

/* Hub callback: an event or deadline for parked `t` fired; disarm the
 * thread's watchers and make it runnable. Hub only (called from loop.c). */
void green__park_fire(void *t, bool timeout);

/* Stop every watcher and lot entry of `t`, except that its single-fd
 * watcher lingers (see park.c). Any (green kernel thread). */
void green__park_disarm(struct green__thread *t);

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
static inline int green__fd_resume(int fd)
{
    const struct green__thread *self = green__sched.current;
    return self->fd_moved && fd == self->fd_moved_from ? self->fd_moved_to
                                                       : fd;
}

/* The calling thread's call has ended: let go of its kept descriptor.
 * errno is kept. Green thread, or any context when nothing was moved. */
void green__fd_moved_end(void);

/* Thread `t` is dropped with a call in progress (a fork's child): let go
 * of its kept descriptor. Green kernel thread. */
void green__fd_moved_gone(struct green__thread *t);

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

/* Remove `t` from the queue it waits in. Hub/park only. */
void green__lot_unlink(struct green__thread *t);

#endif
