/* SPDX-License-Identifier: MIT */
/* The signal API a program sees: sigaction and the signal() family report
 * the program's own handlers (hub/signal.c installs its trampoline in the
 * kernel); sigprocmask and pthread_sigmask set the calling green thread's
 * mask; sigpending, sigwait, sigwaitinfo, sigtimedwait, sigsuspend and
 * pause wait in the calling green thread only; pthread_sigqueue reaches a
 * green thread as pthread_kill does (wrappers/thread-info.c), and raise()
 * is pthread_kill(pthread_self(), sig): glibc's raise signals the kernel
 * thread's tid through a system call of its own, which would make the
 * signal the running thread's of the moment it arrives.
 *
 * Outside a green thread (before the runtime starts, on other kernel
 * threads) the calls are glibc's, except sigaction and signal(), which
 * always keep the program's action in the runtime's table.
 */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include "hub/sigset.h"
#include "wrappers/wrap.h"

GREEN_WRAP int sigaction(int sig, const struct sigaction *act,
                         struct sigaction *old)
{
    green__ensure_init();
    struct sigaction k;
    if (act != NULL && green__peek(&k, act, sizeof k) != 0) {
        return GREEN_REAL_FN(sigaction)(sig, act, old);    /* EFAULT */
    }
    const int r = green__signal_action(sig, act ? &k : NULL, old);
    return (int)green__wrap_ret(r, errno);
}

GREEN_WRAP int __sigaction(int sig, const struct sigaction *act,
                           struct sigaction *old)
{
    return sigaction(sig, act, old);
}

/* Signals siginterrupt() made interrupting: signal() leaves SA_RESTART
 * off for them, as glibc's own set does. */
static uint64_t interrupting;

/* signal() and its aliases: BSD semantics, as glibc's __bsd_signal. */
static __sighandler_t bsd_signal_green(int sig, __sighandler_t handler)
{
    green__ensure_init();
    struct sigaction act = { .sa_handler = handler }, old;
    if (handler == SIG_ERR || !green__sig_usable(sig)
        || sigemptyset(&act.sa_mask) != 0
        || sigaddset(&act.sa_mask, sig) != 0) {
        errno = EINVAL;
        return SIG_ERR;
    }
    act.sa_flags = (interrupting & GREEN__SIGBIT(sig)) ? 0 : SA_RESTART;
    const int r = green__signal_action(sig, &act, &old);
    if (r < 0) {
        errno = -r;
        return SIG_ERR;
    }
    return old.sa_handler;
}

GREEN_WRAP __sighandler_t signal(int sig, __sighandler_t handler)
{
    return bsd_signal_green(sig, handler);
}

GREEN_WRAP __sighandler_t bsd_signal(int sig, __sighandler_t handler)
{
    return bsd_signal_green(sig, handler);
}

GREEN_WRAP __sighandler_t ssignal(int sig, __sighandler_t handler)
{
    return bsd_signal_green(sig, handler);
}

/* System V semantics: one-shot, not masked during the handler. */
GREEN_WRAP __sighandler_t sysv_signal(int sig, __sighandler_t handler)
{
    green__ensure_init();
    struct sigaction act = { .sa_handler = handler }, old;
    if (handler == SIG_ERR || !green__sig_usable(sig)) {
        errno = EINVAL;
        return SIG_ERR;
    }
    sigemptyset(&act.sa_mask);
    act.sa_flags = (int)(SA_RESETHAND | SA_NODEFER | SA_INTERRUPT);
    const int r = green__signal_action(sig, &act, &old);
    if (r < 0) {
        errno = -r;
        return SIG_ERR;
    }
    return old.sa_handler;
}

GREEN_WRAP __sighandler_t __sysv_signal(int sig, __sighandler_t handler)
{
    return sysv_signal(sig, handler);
}

GREEN_WRAP int siginterrupt(int sig, int flag)
{
    green__ensure_init();
    struct sigaction act;
    if (!green__sig_usable(sig) || green__signal_action(sig, NULL, &act) < 0) {
        errno = EINVAL;
        return -1;
    }
    if (flag) {
        interrupting |= GREEN__SIGBIT(sig);
        act.sa_flags &= ~SA_RESTART;
    } else {
        interrupting &= ~GREEN__SIGBIT(sig);
        act.sa_flags |= SA_RESTART;
    }
    const int r = green__signal_action(sig, &act, NULL);
    return (int)green__wrap_ret(r, errno);
}

/* The calling green thread's mask: pthread_sigmask's contract (an error
 * number). Reads `set` and writes `old` (8 bytes, what the kernel
 * writes) without faulting. */
static int mask_green(int how, const sigset_t *set, sigset_t *old)
{
    const uint64_t mask = green__signal_mask();
    uint64_t want = mask;
    if (set != NULL) {
        uint64_t s;
        if (green__peek(&s, set, sizeof s) != 0) {
            return EFAULT;
        }
        switch (how) {
        case SIG_BLOCK:
            want |= s;
            break;
        case SIG_UNBLOCK:
            want &= ~s;
            break;
        case SIG_SETMASK:
            want = s;
            break;
        default:
            return EINVAL;
        }
    }
    if (old != NULL && green__poke(old, &mask, sizeof mask)) {
        return EFAULT;
    }
    if (set != NULL) {
        green__signal_setmask(want);
    }
    return 0;
}

GREEN_WRAP int pthread_sigmask(int how, const sigset_t *set, sigset_t *old)
{
    green__ensure_init();
    if (!green__in_green_thread()) {
        return GREEN_REAL_FN(pthread_sigmask)(how, set, old);
    }
    return mask_green(how, set, old);
}

GREEN_WRAP int sigprocmask(int how, const sigset_t *set, sigset_t *old)
{
    green__ensure_init();
    if (!green__in_green_thread()) {
        return GREEN_REAL_FN(sigprocmask)(how, set, old);
    }
    const int r = mask_green(how, set, old);
    return (int)green__wrap_ret(-r, errno);
}

GREEN_WRAP int sigpending(sigset_t *set)
{
    green__ensure_init();
    if (!green__in_green_thread()) {
        return GREEN_REAL_FN(sigpending)(set);
    }
    sigset_t k;
    if (GREEN_REAL_FN(sigpending)(&k) != 0) {
        return -1;
    }
    const uint64_t w = (green__sigset_word(&k) | green__signal_pending())
        & green__signal_mask();
    if (green__poke(set, &w, sizeof w) != 0) {
        errno = EFAULT;
        return -1;
    }
    return 0;
}

/* sigtimedwait for a green thread: take a signal of `set` pending for the
 * thread or the process, else park until one comes (or the deadline, or a
 * handler of another signal runs). Returns the signal or -errno. */
static int sigwait_green(uint64_t set, siginfo_t *info, int64_t deadline)
{
    sigset_t kset;
    green__sigset_make(&kset, set);
    for (;;) {
        siginfo_t si;
        int sig = green__signal_take(set, &si);
        if (sig == 0) {
            const struct timespec zero = { 0, 0 };
            sig = GREEN_REAL_FN(sigtimedwait)(&kset, &si, &zero);
            if (sig < 0 && errno != EAGAIN) {
                return green__neg_errno();     /* EINTR: a handler ran */
            }
        }
        if (sig > 0) {
            if (si.si_code == SI_TKILL) {
                si.si_code = SI_USER;   /* what glibc's sigtimedwait says */
            }
            if (info != NULL && green__poke(info, &si, sizeof si) != 0) {
                return -EFAULT;
            }
            return sig;
        }
        if (green__deadline_passed(deadline)) {
            return -EAGAIN;
        }
        const int fd = green__signal_wait_begin(set);
        const unsigned runs = green__signal_runs();
        int p = fd < 0 ? fd : green__park_fd(fd, GREEN__READ, deadline);
        green__signal_wait_end(set);
        if (fd < 0) {
            return fd;
        }
        if (p == -EINTR && green__signal_runs() != runs) {
            return -EINTR;
        }
    }
}

/* The set sigtimedwait waits for, read without faulting: 0 or -EFAULT. */
static int read_set(const sigset_t *set, uint64_t *out)
{
    if (green__peek(out, set, sizeof *out) != 0) {
        return -EFAULT;
    }
    *out &= ~GREEN__SIGS_UNBLOCKABLE;
    return 0;
}

GREEN_WRAP int sigtimedwait(const sigset_t *set, siginfo_t *info,
                            const struct timespec *timeout)
{
    green__ensure_init();
    struct timespec ts = { 0, 0 };
    uint64_t s;
    if (!green__may_park() || read_set(set, &s) != 0
        || (timeout != NULL
            && (green__peek(&ts, timeout, sizeof ts) != 0
                || !green__timeout_valid(&ts)))) {
        return GREEN_REAL_FN(sigtimedwait)(set, info, timeout);
    }
    const int entry_errno = errno;
    const int64_t deadline = timeout ? green__deadline_after(&ts) : -1;
    return (int)green__wrap_ret(sigwait_green(s, info, deadline),
                                entry_errno);
}

GREEN_WRAP int sigwaitinfo(const sigset_t *set, siginfo_t *info)
{
    return sigtimedwait(set, info, NULL);
}

GREEN_WRAP int sigwait(const sigset_t *set, int *sig)
{
    green__ensure_init();
    uint64_t s;
    if (!green__may_park() || read_set(set, &s) != 0) {
        return GREEN_REAL_FN(sigwait)(set, sig);
    }
    const int entry_errno = errno;
    int r;
    do {                            /* glibc's sigwait never fails EINTR */
        r = sigwait_green(s, NULL, -1);
    } while (r == -EINTR);
    errno = entry_errno;
    if (r < 0) {
        return -r;
    }
    *sig = r;
    return 0;
}

/* Park until a handler has run in this thread, with mask `mask` in force
 * meanwhile; the mask is restored after. Returns -EINTR, as sigsuspend. */
static int suspend_green(uint64_t mask)
{
    const uint64_t old = green__signal_mask();
    const unsigned runs = green__signal_runs();
    green__signal_setmask(mask);
    while (green__signal_runs() == runs) {
        green__park_block(green__self(), -1);
    }
    green__signal_setmask(old);
    return -EINTR;
}

GREEN_WRAP int sigsuspend(const sigset_t *mask)
{
    green__ensure_init();
    uint64_t m;
    if (!green__may_park() || green__peek(&m, mask, sizeof m) != 0) {
        return GREEN_REAL_FN(sigsuspend)(mask);
    }
    return (int)green__wrap_ret(suspend_green(m), errno);
}

GREEN_WRAP int pause(void)
{
    green__ensure_init();
    if (!green__may_park()) {
        return GREEN_REAL_FN(pause)();
    }
    return (int)green__wrap_ret(suspend_green(green__signal_mask()),
                                errno);
}

GREEN_WRAP int pthread_sigqueue(pthread_t thread, int sig,
                                const union sigval value)
{
    green__ensure_init();
    struct green__thread *t = green__sched_lookup(thread);
    if (t == NULL && green__sched_stale(thread) != GREEN__STALE_NO) {
        return ESRCH;                   /* glibc: tid 0 or -1 */
    }
    if (t == NULL || !green__in_green_thread() || !green__sig_usable(sig)) {
        return GREEN_REAL_FN(pthread_sigqueue)(
            t != NULL ? GREEN_REAL_FN(pthread_self)() : thread, sig, value);
    }
    if (green__sched_finished(t)) {
        return ESRCH;
    }
    return green__signal_sigqueue(t, sig, value);
}

/* raise and its alias gsignal: glibc's raise is
 * pthread_kill(pthread_self(), sig), with the error in errno. */
static int raise_green(int sig)
{
    struct green__thread *const self = green__self();
    const int r = green__signal_tkill(self, sig);
    if (r != 0) {
        errno = r;
        return -1;
    }
    return 0;
}

GREEN_WRAP int raise(int sig)
{
    green__ensure_init();
    if (!green__in_green_thread() || !green__sig_usable(sig)) {
        return GREEN_REAL_FN(raise)(sig);
    }
    return raise_green(sig);
}

GREEN_WRAP int gsignal(int sig)
{
    green__ensure_init();
    if (!green__in_green_thread() || !green__sig_usable(sig)) {
        return GREEN_REAL_FN(gsignal)(sig);
    }
    return raise_green(sig);
}
