/* SPDX-License-Identifier: MIT */
/* Green-thread lifecycle and the run queue: starting the runtime on the
 * first pthread_create, creating threads, making them runnable, blocking,
 * yielding, exiting, and laying them to rest once joined or detached
 * (the graveyard: a stale pthread_t keeps pointing at a thread object). The hub
 * (hub/hub.c) decides what runs; switch/ moves registers and stack bytes.
 *
 * main() keeps running on the process stack as the thread object
 * `main_thread`; its pthread_t stays glibc's, and its id (written into
 * mutexes' __owner field) is its kernel tid, exactly what glibc writes, so
 * a mutex locked before the first thread existed unlocks correctly after.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/single_threaded.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "hub/internal.h"
#include "preload/real.h"

struct green__sched green__sched;
struct green__sched_private green__sched_private;

static struct green__thread main_thread;
static pthread_t main_handle;
static int next_id = 0x40000000;    /* above every kernel tid (pid_max) */
static const struct green__hooks *hooks;

static struct {
    struct green__thread *head, *tail;
    unsigned len;
} runq;

/* Every live thread, main first: where a process-directed signal looks
 * for a thread that takes it. */
static struct green__thread *all_tail = &main_thread;

static void all_add(struct green__thread *t)
{
    t->all_prev = all_tail;
    t->all_next = NULL;
    all_tail->all_next = t;
    all_tail = t;
}

static void all_remove(struct green__thread *t)
{
    if (t->is_main) {
        return;                     /* stays the head; found by is_main */
    }
    t->all_prev->all_next = t->all_next;
    if (t->all_next) {
        t->all_next->all_prev = t->all_prev;
    } else {
        all_tail = t->all_prev;
    }
}

int green__sched_activate(const struct green__hooks *wrapper_hooks)
{
    if (green__sched.active) {
        return 0;
    }
    hooks = wrapper_hooks;
    int r = green__loop_open();
    if (r < 0) {
        return r;
    }
    r = green__hub_init();
    if (r < 0) {
        return r;
    }
    r = green__remote_init();
    if (r < 0) {
        return r;
    }
    if (green__config.stack_mode == GREEN__MODE_COPY) {
        const size_t size = green__config.stack_size_set
            ? green__config.stack_size : (size_t)64 << 20;
        r = green__stack_region_init(size);
        if (r < 0) {
            green__log("cannot reserve the shared stack region; "
                       "threads stay native\n");
            return r;
        }
    }
    main_thread.magic = GREEN__THREAD_MAGIC;
    main_thread.id = green__sched_kernel_tid();
    main_thread.state = GREEN__RUNNING;
    main_thread.is_main = true;
    main_thread.stack.kind = GREEN__STACK_FOREIGN;
    main_thread.stack.live = true;
    green__exit_init();
    if (green__tls_init(&main_thread) < 0) {
        GREEN_DEBUG("no memory to track TLS: __thread values are shared\n");
    }
    main_handle = GREEN_REAL_FN(pthread_self)();
    green__signal_activate(&main_thread);
    green__sched.current = &main_thread;
    green__sched.live = 1;
    green__sched.active = true;
    /* glibc clears this when it makes a second thread; libstdc++ and
     * others skip their locking while it is set. */
    __libc_single_threaded = 0;
    GREEN_DEBUG("runtime started in pid %d: stack mode %s, %s %zu KiB\n",
                (int)getpid(),
                green__config.stack_mode == GREEN__MODE_COPY ? "copy"
                                                              : "separate",
                green__config.stack_mode == GREEN__MODE_COPY
                    ? "shared region" : "default stack",
                (green__config.stack_size_set ? green__config.stack_size
                 : green__config.stack_mode == GREEN__MODE_COPY
                     ? (size_t)64 << 20 : (size_t)8 << 20) >> 10);
    return 0;
}

/* The green kernel thread's tid; 0: not asked yet, or a fork's child. */
static int kernel_tid;

int green__sched_kernel_tid(void)
{
    if (kernel_tid == 0) {
        kernel_tid = (int)GREEN_REAL_FN(gettid)();
    }
    return kernel_tid;
}

void green__sched_forget_tid(void)
{
    kernel_tid = 0;
}

int green__sched_self_id(void)
{
    if (green__sched.current != NULL) {
        return green__sched.current->id;
    }
    return green__sched_kernel_tid();
}

static bool has_id(struct green__thread *t, int id)
{
    return t->id == id;
}

struct green__thread *green__sched_by_id(int id)
{
    const struct green__thread *self = green__sched.current;
    if (self != NULL && self->id == id) {
        return green__sched.current;
    }
    return green__sched.active ? green__sched_find(has_id, id) : NULL;
}

/* A thread id no live thread has (gettid() of the new thread, whose
 * scheduling values are the creator's, wrappers/tid.c). */
static int take_id(void)
{
    const int id = next_id++;
    if (next_id == INT_MAX) {
        next_id = 0x40000000;
    }
    hooks->thread_made(id, green__sched.current->id);
    return id;
}

static struct green__thread *unbury(void);
static void bury(struct green__thread *t);

/* First function of every green thread, on its own stack. */
static void thread_main(void *arg)
{
    struct green__thread *self = arg;
    errno = 0;
    h_errno = 0;                    /* glibc's, shared by green threads */
    /* pthread_exit's unwind ends at this frame, and no cleanup buffer of
     * the thread that made this TCB's copy is this thread's. */
    self->unwind_top = (uintptr_t)__builtin_frame_address(0);
    void **chain = green__exit_chain();
    if (chain != NULL) {
        *chain = NULL;
    }
    green__sched_exit(self->start(self->arg));
}

int green__sched_spawn(struct green__thread **out, void *(*start)(void *),
                       void *arg, bool detached, void *stack,
                       size_t stack_size, size_t size_hint)
{
    struct green__thread *t = unbury();
    if (t == NULL) {
        return -EAGAIN;
    }
    t->magic = GREEN__THREAD_MAGIC;
    t->id = take_id();
    t->start = start;
    t->arg = arg;
    t->detached = detached;
    enum green__stack_kind kind = GREEN__STACK_COPIED;
    size_t size = stack_size;
    if (stack != NULL) {
        kind = GREEN__STACK_FOREIGN;
    } else if (green__config.stack_mode == GREEN__MODE_SEPARATE) {
        kind = GREEN__STACK_MAPPED;
        size = size_hint;
    }
    /* Everything the creator has live lies above this frame. */
    const uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
    int r = green__tls_create(t);
    if (r == 0) {
        r = green__stack_create(&t->stack, &t->ctx, kind,
                                &green__sched.current->stack, sp, stack,
                                size, thread_main, t);
    }
    if (r < 0) {
        green__tls_release(t);
        t->detached = true;
        bury(t);
        return r;
    }
    green__signal_adopt(t, green__sched.current);
    all_add(t);
    green__sched.live++;
    green__sched_private.created++;
    green__sched_ready(t);
    *out = t;
    return 0;
}

void green__sched_ready(struct green__thread *t)
{
    t->state = GREEN__RUNNABLE;
    t->runq_next = NULL;
    if (runq.tail) {
        runq.tail->runq_next = t;
    } else {
        runq.head = t;
    }
    runq.tail = t;
    runq.len++;
}

struct green__thread *green__sched_next(void)
{
    struct green__thread *t = runq.head;
    if (t) {
        runq.len--;
        runq.head = t->runq_next;
        if (runq.head == NULL) {
            runq.tail = NULL;
        }
    }
    return t;
}

bool green__sched_idle(void)
{
    return runq.head == NULL;
}

unsigned green__sched_queued(void)
{
    return runq.len;
}

void green__sched_block(void)
{
    struct green__thread *self = green__sched.current;
    green__sched_private.spins = 0;
    self->saved_errno = errno;
    self->saved_h_errno = h_errno;
    green__hub_enter(self);
    errno = self->saved_errno;
    h_errno = self->saved_h_errno;
    if (green__signal_due(self)) {
        green__signal_deliver(self);
    }
}

void green__sched_yield(void)
{
    green__sched_ready(green__sched.current);
    green__sched_block();
}

void green__sched_spun(void)
{
    if (++green__sched_private.spins >= GREEN__SPINS && green__may_park()) {
        green__sched_private.poll_soon = true;
        green__sched_yield();
    }
}

void green__sched_exit(void *retval)
{
    struct green__thread *self = green__sched.current;
    hooks->thread_ending();
    self->retval = retval;
    green__signal_forget(self);
    green__park_unlinger(self);
    all_remove(self);
    self->state = GREEN__EXITED;
    green__sched.live--;
    green__lot_wake(self, UINT_MAX);
    if (green__sched.live == 0 && green__sched_private.main_exited) {
        if (main_thread.state == GREEN__EXITED) {
            /* A fork's child, main left behind: the last thread ends the
             * process, as glibc's start_thread does. */
            exit(0);
        }
        green__sched_ready(&main_thread);
    }
    green__hub_enter(self);
    GREEN_ASSERT(false, "an exited green thread was resumed");
    __builtin_unreachable();
}

void green__sched_exit_main(void *retval)
{
    hooks->thread_ending();
    main_thread.retval = retval;
    green__signal_forget(&main_thread);
    green__sched_private.main_exited = true;
    green__sched.live--;
    green__lot_wake(&main_thread, UINT_MAX);
    while (green__sched.live > 0) {
        main_thread.state = GREEN__PARKED;
        green__sched_block();
    }
    /* The last thread has ended: the process ends as glibc ends it. */
    exit(0);
}

bool green__sched_finished(const struct green__thread *t)
{
    return t->is_main ? green__sched_private.main_exited : t->state == GREEN__EXITED;
}

struct green__thread *green__sched_main(void)
{
    return &main_thread;
}

struct green__thread *green__sched_find(bool (*pred)(struct green__thread *,
                                                     int),
                                        int arg)
{
    for (struct green__thread *t = &main_thread; t != NULL;
         t = t->all_next) {
        if (!green__sched_finished(t) && pred(t, arg)) {
            return t;
        }
    }
    return NULL;
}

enum green__stale green__sched_stale(pthread_t th)
{
    if (!green__sched.active || th == main_handle || th == 0) {
        return GREEN__STALE_NO;
    }
    const struct green__thread *t = (const struct green__thread *)th;
    return t->magic == GREEN__THREAD_GONE ? t->gone : GREEN__STALE_NO;
}

struct green__thread *green__sched_lookup(pthread_t th)
{
    if (!green__sched.active) {
        return NULL;
    }
    if (th == main_handle) {
        return &main_thread;
    }
    struct green__thread *t = (struct green__thread *)th;
    if (t == NULL || t->magic != GREEN__THREAD_MAGIC) {
        return NULL;
    }
    return t;
}

pthread_t green__sched_handle(struct green__thread *t)
{
    return t->is_main ? main_handle : (pthread_t)t;
}

/* Thread objects are never given back to malloc: a program may keep an
 * ended thread's pthread_t, which is the object's address, and pass it to
 * pthread_join or pthread_kill later, as it may with glibc's (whose
 * descriptors stay in its stack cache). An object that is no thread's
 * waits in the graveyard, oldest first, marked GREEN__THREAD_GONE, until
 * GRAVE_KEEP newer ones wait behind it; only then is it used for a new
 * thread, as glibc reuses its cached descriptors, so that a stale handle
 * reaches a new thread only after many threads have come and gone. */
#define GRAVE_KEEP 64

static struct {
    struct green__thread *head, *tail;  /* linked through runq_next */
    unsigned len;
} grave;

static void bury(struct green__thread *t)
{
    const enum green__stale gone = t->joined ? GREEN__STALE_JOINED
                                             : GREEN__STALE_DETACHED;
    memset(t, 0, sizeof *t);
    t->magic = GREEN__THREAD_GONE;
    t->gone = gone;
    if (grave.tail != NULL) {
        grave.tail->runq_next = t;
    } else {
        grave.head = t;
    }
    grave.tail = t;
    grave.len++;
}

/* A zeroed thread object: the oldest buried one once enough are, else a
 * new one; NULL when out of memory. */
static struct green__thread *unbury(void)
{
    if (grave.len <= GRAVE_KEEP) {
        return calloc(1, sizeof(struct green__thread));
    }
    struct green__thread *t = grave.head;
    grave.head = t->runq_next;
    grave.len--;
    memset(t, 0, sizeof *t);
    return t;
}

/* Free `t` if nothing can refer to it any more; that may in turn free the
 * creators it kept alive for the stack chain. */
static void free_if_done(struct green__thread *t)
{
    while (t != NULL && !t->is_main && t->state == GREEN__EXITED
           && !t->stack.live && (t->detached || t->joined)
           && !green__stack_pinned(&t->stack)) {
        struct green__stack *c = green__stack_unlink(&t->stack);
        free(t->ios);
        free(t->keys);
        bury(t);
        t = c ? (struct green__thread *)((char *)c
                 - offsetof(struct green__thread, stack)) : NULL;
    }
}

int green__sched_join(struct green__thread *t, void **retval,
                      int64_t deadline)
{
    if (t == green__sched.current) {
        return EDEADLK;
    }
    if (t->detached || t->joined) {
        return EINVAL;
    }
    while (!green__sched_finished(t)) {
        if (deadline == 0) {
            return EBUSY;
        }
        if (green__lot_wait(t, deadline) < 0) {
            return ETIMEDOUT;
        }
    }
    if (retval != NULL) {
        *retval = t->retval;
    }
    t->joined = true;
    free_if_done(t);
    return 0;
}

int green__sched_detach(struct green__thread *t)
{
    if (t->detached) {
        return EINVAL;
    }
    t->detached = true;
    free_if_done(t);
    return 0;
}

/* ---- what wrappers/ may know of a thread ---------------------------- */

int64_t green__sched_kthread_cpu(void)
{
    struct timespec ts;
    if (green__sys(SYS_clock_gettime, CLOCK_THREAD_CPUTIME_ID, &ts) != 0) {
        return 0;
    }
    return green__timespec_ns(&ts);
}

void green__sched_cpu_start(void)
{
    if (green__sched_private.cpu_on) {
        return;
    }
    /* What ran so far is main's: it had the kernel thread to itself
     * until the runtime started, and a thread's time counts from here. */
    const int64_t now = green__sched_kthread_cpu();
    if (green__sched.current == &main_thread) {
        green__sched_private.cpu_in = 0;
    } else {
        main_thread.cpu_ns = now;
        green__sched_private.cpu_in = now;
    }
    green__sched_private.cpu_on = true;
}

int64_t green__thread_cpu_ns(const struct green__thread *t)
{
    green__sched_cpu_start();
    if (t != green__sched.current) {
        return t->cpu_ns;
    }
    return t->cpu_ns + green__sched_kthread_cpu()
           - green__sched_private.cpu_in;
}

int green__thread_id(const struct green__thread *t)
{
    return t->id;
}

bool green__thread_is_main(const struct green__thread *t)
{
    return t->is_main;
}

char *green__thread_name(struct green__thread *t)
{
    return t->name;
}

void **green__thread_keys(struct green__thread *t)
{
    return &t->keys;
}

bool green__thread_detached(const struct green__thread *t)
{
    return t->detached;
}

void green__thread_stack(const struct green__thread *t, void **lo,
                         size_t *size, size_t *guard)
{
    *lo = (void *)t->stack.limit;
    *size = t->stack.top - t->stack.limit;
    *guard = t->stack.kind == GREEN__STACK_FOREIGN
        ? 0 : (size_t)sysconf(_SC_PAGESIZE);
}

void green__sched_switched_out(struct green__thread *t)
{
    if (t->state == GREEN__EXITED) {
        green__stack_release(&t->stack);
        green__tls_release(t);
        free_if_done(t);
    } else {
        green__stack_suspended(&t->stack, t->ctx.sp);
    }
}

/* True when `t`'s stack is one of those `self` runs below (copy mode):
 * its bytes above self's stack stay, as natively a dead thread's stack
 * stays mapped in a fork's child. */
static bool creates(const struct green__thread *t,
                    const struct green__thread *self)
{
    for (const struct green__stack *c = self->stack.creator; c != NULL;
         c = c->creator) {
        if (c == &t->stack) {
            return true;
        }
    }
    return false;
}

/* Drop thread `t` from a fork's child, where `self` is the only thread:
 * nothing of its own runs (no destructors, no joiner wakes). */
static void drop(struct green__thread *t, const struct green__thread *self)
{
    green__park_disarm(t);
    green__park_unlinger(t);
    green__fd_moved_gone(t);
    if (!green__sched_finished(t)) {
        green__signal_forget(t);    /* not main after its pthread_exit */
    }
    green__tls_release(t);
    t->state = GREEN__EXITED;
    if (t->is_main) {
        return;                     /* the process stack is not ours */
    }
    all_remove(t);
    t->detached = true;
    if (!creates(t, self)) {
        green__stack_abandon(&t->stack);
        free_if_done(t);
    }
}

void green__sched_fork(struct green__thread *self)
{
    runq.head = runq.tail = NULL;
    runq.len = 0;
    for (struct green__thread *t = &main_thread, *next; t != NULL; t = next) {
        next = t->all_next;
        if (t != self) {
            drop(t, self);
        }
    }
    /* The child's only thread has the child's tid, its pid, as natively
     * (hub/fork.c made green__sched_kernel_tid ask again). */
    const int parent_id = self->id;
    self->id = green__sched_kernel_tid();
    /* The child's kernel thread is new: its CPU clock, and so the
     * thread's, starts again from zero, as natively. */
    self->cpu_ns = 0;
    green__sched_private.cpu_in = 0;
    if (!self->is_main) {
        green__sched_private.main_exited = true;
    }
    hooks->fork_child(self, parent_id);
    green__sched.live = 1;
}

/* LIBGREEN_STATS: the counters on stderr when the process exits. */
static void report(void)
{
    green__log("stats: threads=%llu switches=%llu parks=%llu "
               "copied_bytes=%llu\n",
               (unsigned long long)green__sched_private.created,
               (unsigned long long)green__sched_private.switches,
               (unsigned long long)green__sched_private.parks,
               (unsigned long long)green__stack_copied_bytes());
}

__attribute__((destructor))
static void report_at_exit(void)
{
    if (green__config.stats && green__sched.active) {
        report();
    }
}
