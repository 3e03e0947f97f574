/* SPDX-License-Identifier: MIT */
/* Signals as a process of green threads sees them: each green thread has
 * its own mask and pending set, a process-directed signal goes to the
 * thread the kernel would pick, and a signal interrupts that thread's
 * wait (hub/park.c reports -EINTR) after its handler has run in it.
 *
 * The kernel sees one thread. It blocks exactly the signals every green
 * thread blocks (blocked_by counts them), so a signal some green thread
 * takes always arrives, and one nobody takes stays pending in the kernel,
 * where sigwait and sigpending find it. For a handler function the kernel
 * holds `trampoline`, never the program's handler; sigaction reports the
 * program's own (wrappers/signal.c). The trampoline picks the target:
 *
 *   fault (SIGSEGV, ...), no runtime,      -> run the handler now, as
 *   or another kernel thread                  natively
 *   abort()/SIGPIPE of the running thread  -> the running thread
 *   process-directed                        -> main if its mask lets it
 *                                              through, else the running
 *                                              thread, else the hub looks
 *
 * When the target is the running green thread and it was interrupted on
 * its own stack, the handler runs at once, in the kernel's signal frame.
 * Otherwise (the hub was running, or the target is another thread) the
 * trampoline only records the signal in a lock-free ring and pokes the
 * hub, which queues it on the target (malloc is fine there) and wakes it
 * if it is parked; the target runs the handler as it resumes
 * (green__sched_block), then its wait returns -EINTR. Handlers never
 * switch threads: while one runs, every wrapper passes straight through.
 *
 * A signal a green thread sends itself (raise, pthread_kill, tgkill: the
 * wrappers call green__signal_send) never reaches the kernel: it is
 * queued on the thread, pending there while the thread blocks it, and
 * handled before the call returns when it does not. What the one thread
 * had pending for itself when the runtime starts becomes main's.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "hub/internal.h"
#include "hub/sigset.h"
#include "preload/real.h"

struct green__sigrec {
    siginfo_t info;
    struct green__sigrec *next;
};

/* The program's actions as it installed them (index: signal). */
static struct sigaction actions[GREEN__NSIGS + 1];

/* Live threads blocking each signal (index: signal - 1). */
static unsigned blocked_by[GREEN__NSIGS];
static uint64_t blocked_by_any;     /* the signals with blocked_by > 0 */
static unsigned counted;            /* live threads whose masks count */
static uint64_t kernel_mask;        /* what the kernel thread blocks */
static pid_t self_pid;
static pid_t kernel_tid;

/* Signals for the process that no thread took when they came. */
static struct green__sigrec *proc_q;
static uint64_t proc_pending;

/* ---- masks ---------------------------------------------------------- */

/* Make the kernel thread block what every counted thread blocks. */
static void sync_kernel_mask(void)
{
    uint64_t m = 0;
    for (uint64_t b = counted > 0 ? blocked_by_any : 0; b != 0; b &= b - 1) {
        const int i = __builtin_ctzll(b);
        if (blocked_by[i] == counted) {
            m |= 1ULL << i;
        }
    }
    if (m != kernel_mask) {
        kernel_mask = m;
        sigset_t s;
        green__sigset_make(&s, m);
        GREEN_REAL_FN(pthread_sigmask)(SIG_SETMASK, &s, NULL);
    }
}

/* Add `delta` to the counts of the signals in `mask`. */
static void count(uint64_t mask, int delta)
{
    for (; mask != 0; mask &= mask - 1) {
        const int i = __builtin_ctzll(mask);
        blocked_by[i] += (unsigned)delta;
        if (blocked_by[i] != 0) {
            blocked_by_any |= 1ULL << i;
        } else {
            blocked_by_any &= ~(1ULL << i);
        }
    }
}

static void set_mask(struct green__thread *t, uint64_t m)
{
    m &= ~GREEN__SIGS_UNBLOCKABLE;
    const uint64_t added = m & ~t->sigmask, removed = t->sigmask & ~m;
    if (added == 0 && removed == 0) {
        return;
    }
    t->sigmask = m;
    count(added, 1);
    count(removed, -1);
    bool grows = false;
    for (uint64_t a = added; a != 0 && !grows; a &= a - 1) {
        grows = blocked_by[__builtin_ctzll(a)] == counted;
    }
    if (grows || (removed & kernel_mask)) {
        sync_kernel_mask();
    }
}

void green__signal_exec_begin(const struct green__thread *self)
{
    if (counted > 0 && self->sigmask != kernel_mask) {
        sigset_t s;
        green__sigset_make(&s, self->sigmask);
        GREEN_REAL_FN(pthread_sigmask)(SIG_SETMASK, &s, NULL);
    }
}

void green__signal_exec_end(const struct green__thread *self)
{
    if (counted > 0 && self->sigmask != kernel_mask) {
        sigset_t s;
        green__sigset_make(&s, kernel_mask);
        GREEN_REAL_FN(pthread_sigmask)(SIG_SETMASK, &s, NULL);
    }
}

static void enqueue(struct green__sigrec **q, uint64_t *pending,
                    const siginfo_t *info);

/* The kernel thread's own pending set (SigPnd in /proc/thread-self/status,
 * proc(5)), without the process's: 0 when /proc does not say. */
static uint64_t kernel_thread_pending(void)
{
    char buf[2048];
    const long fd = green__sys(SYS_openat, AT_FDCWD, "/proc/thread-self/status",
                               O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return 0;
    }
    const long n = green__sys(SYS_read, fd, buf, sizeof buf - 1);
    green__sys(SYS_close, fd);
    if (n <= 0) {
        return 0;
    }
    buf[n] = '\0';
    const char *p = strstr(buf, "\nSigPnd:");
    if (p == NULL) {
        return 0;
    }
    p += strlen("\nSigPnd:");
    while (*p == ' ' || *p == '\t') {
        p++;
    }
    return strtoull(p, NULL, 16);
}

/* Signals sent to the one thread before the runtime started (raise(), a
 * pthread_kill of main) and still pending are main's: new threads start
 * with an empty pending set (pthread_create(3)), so they must not see
 * them in sigpending. Move them from the kernel thread to main's queue;
 * the kernel takes a thread's own signals before the process's
 * (dequeue_signal), so each take below is one of main's. */
static void adopt_kernel_pending(struct green__thread *main_thread,
                                 uint64_t blocked)
{
    sigset_t k;
    if (GREEN_REAL_FN(sigpending)(&k) != 0
        || (green__sigset_word(&k) & blocked) == 0) {
        return;
    }
    uint64_t own;
    while ((own = kernel_thread_pending() & blocked) != 0) {
        const int sig = __builtin_ctzll(own) + 1;
        sigset_t one;
        green__sigset_make(&one, GREEN__SIGBIT(sig));
        const struct timespec zero = { 0, 0 };
        siginfo_t info;
        if (green__sys(SYS_rt_sigtimedwait, &one, &info, &zero,
                       sizeof(uint64_t)) != sig) {
            return;
        }
        enqueue(&main_thread->sigq, &main_thread->sigpending, &info);
    }
}

void green__signal_activate(struct green__thread *main_thread)
{
    sigset_t s;
    GREEN_REAL_FN(pthread_sigmask)(SIG_SETMASK, NULL, &s);
    self_pid = getpid();
    kernel_tid = (pid_t)green__sys(SYS_gettid);
    main_thread->sigmask = green__sigset_word(&s) & ~GREEN__SIGS_UNBLOCKABLE;
    kernel_mask = main_thread->sigmask;
    count(main_thread->sigmask, 1);
    counted = 1;
    adopt_kernel_pending(main_thread, main_thread->sigmask);
}

void green__signal_adopt(struct green__thread *t,
                         const struct green__thread *creator)
{
    /* The creator's mask contains the kernel's: nothing to sync. */
    t->sigmask = creator->sigmask;
    count(t->sigmask, 1);
    counted++;
}

static void free_queue(struct green__sigrec *r)
{
    while (r != NULL) {
        struct green__sigrec *next = r->next;
        free(r);
        r = next;
    }
}

void green__signal_forget(struct green__thread *t)
{
    count(t->sigmask, -1);
    counted--;
    free_queue(t->sigq);
    t->sigq = NULL;
    t->sigpending = 0;
    sync_kernel_mask();
}

/* ---- queues --------------------------------------------------------- */

/* Append `info` to queue *q with pending set *pending; a standard signal
 * already pending is not queued twice (only real-time signals queue). */
static void enqueue(struct green__sigrec **q, uint64_t *pending,
                    const siginfo_t *info)
{
    const int sig = info->si_signo;
    if (sig < SIGRTMIN && (*pending & GREEN__SIGBIT(sig))) {
        return;
    }
    struct green__sigrec *r = malloc(sizeof *r);
    if (r == NULL) {
        return;                     /* lost, as when the kernel's queue is */
    }
    r->info = *info;
    r->next = NULL;
    while (*q != NULL) {
        q = &(*q)->next;
    }
    *q = r;
    *pending |= GREEN__SIGBIT(sig);
}

/* Remove the oldest record of a signal in `set` from queue *q into *info.
 * Returns the signal, or 0. */
static int dequeue(struct green__sigrec **q, uint64_t *pending, uint64_t set,
                   siginfo_t *info)
{
    if ((*pending & set) == 0) {
        return 0;
    }
    for (; *q != NULL; q = &(*q)->next) {
        struct green__sigrec *r = *q;
        const int sig = r->info.si_signo;
        if (set & GREEN__SIGBIT(sig)) {
            *info = r->info;
            *q = r->next;
            free(r);
            bool more = false;
            for (struct green__sigrec *o = *q; o && !more; o = o->next) {
                more = o->info.si_signo == sig;
            }
            if (!more) {
                *pending &= ~GREEN__SIGBIT(sig);
            }
            return sig;
        }
    }
    return 0;
}

static bool accepts(struct green__thread *t, int sig)
{
    const uint64_t bit = GREEN__SIGBIT(sig);
    return !(t->sigmask & bit) || (t->sigwaiting & bit);
}

/* Queue `info` on `t`; if `t` takes it now, have it run: it delivers as
 * it resumes, and its wait ends with -EINTR, except a lot wait that goes
 * on after the handler (it keeps its place in the queue). Hub or green. */
static void queue_on(struct green__thread *t, const siginfo_t *info)
{
    enqueue(&t->sigq, &t->sigpending, info);
    if (accepts(t, info->si_signo) && t->state == GREEN__PARKED) {
        if (t->lot_key == NULL || t->lot_intr) {
            green__park_disarm(t);
        }
        t->woke = GREEN__WOKE_SIGNAL;
        green__sched_ready(t);
    }
}

/* A process-directed signal: to main if it takes it, else to the first
 * thread that does, else kept for the process. */
static void route(const siginfo_t *info)
{
    const int sig = info->si_signo;
    struct green__thread *t = green__sched_main();
    if (green__sched_finished(t) || !accepts(t, sig)) {
        t = green__sched_find(accepts, sig);
    }
    if (t != NULL) {
        queue_on(t, info);
    } else {
        enqueue(&proc_q, &proc_pending, info);
    }
}

/* ---- running handlers ----------------------------------------------- */

/* Run the program's handler for `sig` in running thread `t` as delivery
 * does: with sa_mask and the signal itself (unless SA_NODEFER) added to
 * the thread's mask, reset first with SA_RESETHAND, and every wrapper
 * passing through meanwhile. */
static void run_handler(struct green__thread *t, int sig, siginfo_t *info,
                        void *uc)
{
    struct sigaction *a = &actions[sig];
    const struct sigaction act = *a;
    if (act.sa_handler == SIG_DFL || act.sa_handler == SIG_IGN) {
        return;
    }
    if (act.sa_flags & SA_RESETHAND) {
        a->sa_handler = SIG_DFL;
        a->sa_flags &= ~SA_SIGINFO;
    }
    uint64_t old = 0;
    if (t != NULL) {
        old = t->sigmask;
        set_mask(t, old | green__sigset_word(&act.sa_mask)
                    | (act.sa_flags & SA_NODEFER ? 0 : GREEN__SIGBIT(sig)));
        t->sig_runs++;
        if (!(act.sa_flags & SA_RESTART)) {
            t->sig_restart = false;
        }
        green__sched.handler_depth++;
    }
    if (act.sa_flags & SA_SIGINFO) {
        act.sa_sigaction(sig, info, uc);
    } else {
        act.sa_handler(sig);
    }
    if (t != NULL) {
        green__sched.handler_depth--;
        set_mask(t, old);           /* what sigreturn does */
    }
}

/* Deliver one queued signal to running thread `self`: its handler, or the
 * kernel's default action when it has none any more. */
static void deliver_one(struct green__thread *self, siginfo_t *info)
{
    const int sig = info->si_signo;
    const __sighandler_t h = actions[sig].sa_handler;
    if (h == SIG_IGN) {
        return;
    }
    if (h == SIG_DFL) {
        green__sys(SYS_tgkill, self_pid, kernel_tid, sig);
        return;
    }
    ucontext_t uc;
    getcontext(&uc);
    run_handler(self, sig, info, &uc);
}

unsigned green__signal_deliver(struct green__thread *self)
{
    unsigned ran = 0;
    self->sig_restart = true;
    siginfo_t info;
    while (dequeue(&self->sigq, &self->sigpending,
                   ~self->sigmask & ~self->sigwaiting, &info) != 0) {
        deliver_one(self, &info);
        ran++;
    }
    return ran;
}

void green__signal_setmask(uint64_t mask)
{
    struct green__thread *self = green__sched.current;
    set_mask(self, mask);
    siginfo_t info;
    while (dequeue(&proc_q, &proc_pending, ~self->sigmask, &info) != 0) {
        enqueue(&self->sigq, &self->sigpending, &info);
    }
    if (green__signal_due(self)) {
        green__signal_deliver(self);
    }
}

/* ---- the trampoline and its ring ------------------------------------ */

#define RING 64

/* Filled by the trampoline (which may nest), emptied by the hub. */
static struct slot {
    siginfo_t info;
    struct green__thread *target;   /* NULL: process-directed */
    const void *key;                /* a deferred lot wake-up instead */
    unsigned n;
    int full;
} ring[RING];
static unsigned ring_head, ring_tail;
volatile int green__signal_queued;

/* Async-signal-safe: reserve a slot, fill it, mark it full, poke. */
static void ring_push(struct green__thread *target, const siginfo_t *info,
                      const void *key, unsigned n)
{
    unsigned t = __atomic_load_n(&ring_tail, __ATOMIC_ACQUIRE);
    do {
        if (t - __atomic_load_n(&ring_head, __ATOMIC_ACQUIRE) >= RING) {
            return;                 /* full: lost, like a coalesced signal */
        }
    } while (!__atomic_compare_exchange_n(&ring_tail, &t, t + 1, false,
                                          __ATOMIC_ACQ_REL,
                                          __ATOMIC_ACQUIRE));
    struct slot *s = &ring[t % RING];
    if (info != NULL) {
        s->info = *info;
    }
    s->target = target;
    s->key = key;
    s->n = n;
    __atomic_store_n(&s->full, 1, __ATOMIC_RELEASE);
    green__signal_queued = 1;
    green__remote_poke();
}

void green__signal_defer_wake(const void *key, unsigned n)
{
    ring_push(NULL, NULL, key, n);
}

void green__signal_drain(void)
{
    green__signal_queued = 0;
    for (;;) {
        struct slot *s = &ring[ring_head % RING];
        if (!__atomic_load_n(&s->full, __ATOMIC_ACQUIRE)) {
            return;
        }
        const struct slot copy = *s;
        __atomic_store_n(&s->full, 0, __ATOMIC_RELEASE);
        __atomic_store_n(&ring_head, ring_head + 1, __ATOMIC_RELEASE);
        if (copy.key != NULL) {
            green__lot_wake(copy.key, copy.n);
        } else if (copy.target != NULL
                   && !green__sched_finished(copy.target)) {
            queue_on(copy.target, &copy.info);
        } else {
            route(&copy.info);
        }
    }
}

static bool is_fault(int sig, const siginfo_t *info)
{
    return info->si_code > 0
        && (sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE
            || sig == SIGILL || sig == SIGTRAP || sig == SIGSYS);
}

/* Which green thread the kernel would have given `info` to, as far as the
 * trampoline can tell without walking the thread list: NULL when only
 * the hub can find it. */
static struct green__thread *pick(const siginfo_t *info,
                                  struct green__thread *cur)
{
    const int sig = info->si_signo;
    const bool from_self = info->si_pid == self_pid
        && (info->si_code == SI_TKILL
            || (info->si_code == SI_USER
                && (sig == SIGPIPE || sig == SIGXFSZ)));
    if (from_self && cur != NULL) {
        return cur;                 /* abort(), or the kernel's SIGPIPE */
    }
    struct green__thread *main_thread = green__sched_main();
    if (!green__sched_private.main_exited && accepts(main_thread, sig)) {
        return main_thread;
    }
    if (cur != NULL && accepts(cur, sig)) {
        return cur;
    }
    return NULL;
}

static void trampoline(int sig, siginfo_t *info, void *uc)
{
    const int entry_errno = errno;
    if (!green__sched.active || !green__on_green_kthread()
        || is_fault(sig, info)) {
        run_handler(NULL, sig, info, uc);
        return;
    }
    struct green__thread *cur = green__sched.current;
    struct green__thread *target = pick(info, cur);
    if (target != NULL && target == cur && !(cur->sigmask & GREEN__SIGBIT(sig))
        && !green__hub_owns(GREEN__UCTX_SP(uc))) {
        const uint64_t before = kernel_mask;
        errno = entry_errno;
        run_handler(cur, sig, info, uc);
        if (kernel_mask != before) {
            /* sigreturn restores uc_sigmask: make it the new mask. */
            ucontext_t *u = uc;
            const uint64_t keep = green__sigset_word(&u->uc_sigmask)
                & GREEN__SIGS_UNBLOCKABLE;
            memcpy(&u->uc_sigmask, &(uint64_t){ kernel_mask | keep },
                   sizeof(uint64_t));
        }
        return;
    }
    ring_push(target, info, NULL, 0);
    errno = entry_errno;
}

/* ---- actions -------------------------------------------------------- */

/* Drop every record of `sig` from queue *q with pending set *pending. */
static void discard(struct green__sigrec **q, uint64_t *pending, int sig)
{
    while (*q != NULL) {
        struct green__sigrec *r = *q;
        if (r->info.si_signo == sig) {
            *q = r->next;
            free(r);
        } else {
            q = &r->next;
        }
    }
    *pending &= ~GREEN__SIGBIT(sig);
}

static bool discard_from(struct green__thread *t, int sig)
{
    discard(&t->sigq, &t->sigpending, sig);
    return false;                   /* go on: every thread */
}

/* Whether action `h` ignores `sig`: SIG_IGN, or the default of a signal
 * whose default is to ignore it (the kernel's sig_handler_ignored). */
static bool ignores(__sighandler_t h, int sig)
{
    return h == SIG_IGN
        || (h == SIG_DFL && (sig == SIGCHLD || sig == SIGURG
                             || sig == SIGWINCH || sig == SIGCONT));
}

int green__signal_action(int sig, const struct sigaction *act,
                         struct sigaction *old)
{
    if (!green__sig_usable(sig) || act == NULL) {
        const int r = GREEN_REAL_FN(sigaction)(sig, act, old);
        if (r == 0 && old != NULL && sig >= 1 && sig <= GREEN__NSIGS
            && old->sa_sigaction == trampoline) {
            old->sa_sigaction = actions[sig].sa_sigaction;
            old->sa_flags = (old->sa_flags & ~SA_SIGINFO)
                | (actions[sig].sa_flags & SA_SIGINFO);
        }
        return r == 0 ? 0 : -errno;
    }
    struct sigaction k = *act;
    const struct sigaction prev = actions[sig];
    if (sig != SIGKILL && sig != SIGSTOP) {
        actions[sig] = k;
    }
    if (k.sa_handler != SIG_DFL && k.sa_handler != SIG_IGN) {
        k.sa_sigaction = trampoline;
        k.sa_flags |= SA_SIGINFO;
    }
    if (GREEN_REAL_FN(sigaction)(sig, &k, old) != 0) {
        const int err = errno;
        actions[sig] = prev;
        return -err;
    }
    if (old != NULL && old->sa_sigaction == trampoline) {
        old->sa_sigaction = prev.sa_sigaction;
        old->sa_flags = (old->sa_flags & ~SA_SIGINFO)
            | (prev.sa_flags & SA_SIGINFO);
    }
    if (green__sched.active && ignores(act->sa_handler, sig)) {
        /* sigaction(2): a pending signal whose action becomes "ignore"
         * is discarded, in every thread; the kernel dropped its own. */
        green__sched_find(discard_from, sig);
        discard(&proc_q, &proc_pending, sig);
    }
    return 0;
}

/* ---- sending, taking, waiting --------------------------------------- */

/* green__signal_send of `sig` from this process and user, as a thread
 * sends it (`code`: SI_TKILL or SI_QUEUE with `value`). */
static int send_from_here(struct green__thread *t, int sig, int code,
                          union sigval value)
{
    siginfo_t info;
    memset(&info, 0, sizeof info);
    info.si_signo = sig;
    info.si_code = code;
    info.si_pid = getpid();
    info.si_uid = getuid();
    info.si_value = value;
    return green__signal_send(t, &info);
}

int green__signal_tkill(struct green__thread *t, int sig)
{
    return send_from_here(t, sig, SI_TKILL, (union sigval){ 0 });
}

int green__signal_sigqueue(struct green__thread *t, int sig,
                           union sigval value)
{
    return send_from_here(t, sig, SI_QUEUE, value);
}

int green__signal_send(struct green__thread *t, const siginfo_t *info)
{
    const int sig = info->si_signo;
    struct sigaction k;
    if (GREEN_REAL_FN(sigaction)(sig, NULL, &k) != 0) {
        return errno;
    }
    if (k.sa_handler == SIG_IGN && !(t->sigmask & GREEN__SIGBIT(sig))) {
        return 0;   /* discarded, as by the kernel unless blocked (the
                       handler may change before it is unblocked) */
    }
    if (k.sa_sigaction == trampoline || (t->sigmask & GREEN__SIGBIT(sig))) {
        queue_on(t, info);
        if (t == green__sched.current && green__signal_due(t)) {
            green__signal_deliver(t);   /* to itself: before returning */
        }
        return 0;
    }
    /* No handler: the default action is the whole process's. */
    return -(int)green__sys(SYS_tgkill, self_pid, kernel_tid, sig);
}

int green__signal_take(uint64_t set, siginfo_t *info)
{
    struct green__thread *self = green__sched.current;
    const int sig = dequeue(&self->sigq, &self->sigpending, set, info);
    return sig ? sig : dequeue(&proc_q, &proc_pending, set, info);
}

uint64_t green__signal_pending(void)
{
    return green__sched.current->sigpending | proc_pending;
}

/* sigwait's readiness: one signalfd for the union of the waited sets. */
static int sfd = -1;
static unsigned waiting_for[GREEN__NSIGS];
static uint64_t sfd_mask;

/* Point the signalfd at exactly the signals some thread waits for. */
static int sync_sfd(void)
{
    uint64_t m = 0;
    for (int i = 0; i < GREEN__NSIGS; i++) {
        if (waiting_for[i] > 0) {
            m |= 1ULL << i;
        }
    }
    if (sfd >= 0 && m == sfd_mask) {
        return sfd;
    }
    sigset_t s;
    green__sigset_make(&s, m);
    const int fd = signalfd(sfd, &s, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd < 0) {
        return -errno;
    }
    sfd = fd;
    sfd_mask = m;
    return fd;
}

int green__signal_fd(void)
{
    return sfd;
}

int green__signal_wait_begin(uint64_t set)
{
    const int entry_errno = errno;
    green__sched.current->sigwaiting = set;
    for (uint64_t s = set; s != 0; s &= s - 1) {
        waiting_for[__builtin_ctzll(s)]++;
    }
    const int fd = sync_sfd();
    errno = entry_errno;
    return fd;
}

void green__signal_wait_end(uint64_t set)
{
    const int entry_errno = errno;
    green__sched.current->sigwaiting = 0;
    for (uint64_t s = set; s != 0; s &= s - 1) {
        waiting_for[__builtin_ctzll(s)]--;
    }
    sync_sfd();
    errno = entry_errno;
}

/* ---- fork ------------------------------------------------------------ */

void green__signal_fork(struct green__thread *self)
{
    self_pid = getpid();
    kernel_tid = (pid_t)green__sys(SYS_gettid);
    free_queue(proc_q);
    proc_q = NULL;
    proc_pending = 0;
    free_queue(self->sigq);
    self->sigq = NULL;
    self->sigpending = 0;
    for (unsigned i = 0; i < RING; i++) {
        ring[i].full = 0;
    }
    ring_head = ring_tail = 0;
    green__signal_queued = 0;
    if (sfd >= 0) {
        const int entry_errno = errno;
        GREEN_REAL_FN(close)(sfd);
        errno = entry_errno;
        sfd = -1;
    }
    sfd_mask = 0;
    memset(waiting_for, 0, sizeof waiting_for);
}

uint64_t green__signal_mask(void)
{
    return green__sched.current->sigmask;
}

unsigned green__signal_runs(void)
{
    return green__sched.current->sig_runs;
}

bool green__signal_restarts(void)
{
    return green__sched.current->sig_restart;
}
