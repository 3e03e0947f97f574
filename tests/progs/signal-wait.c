/* SPDX-License-Identifier: MIT */
/* signal-wait [parked [HOLD_FILE]]: sigwait, sigwaitinfo, sigtimedwait,
 * sigsuspend, pause and sigpending, while other threads keep running.
 *
 * main blocks SIGUSR1, SIGUSR2 and SIGRTMIN before it starts any thread,
 * so every thread inherits that mask.  A ticker thread counts every 5 ms
 * for the whole run: each wait checks that it advanced while the waiter
 * was blocked (the wait blocks only the calling thread).  Signals are sent
 * by another thread 100 ms after the waiter started.  Checked: the signal
 * number and siginfo (si_signo, si_code SI_USER for kill and also for
 * pthread_kill: the kernel says SI_TKILL, as a handler sees it, but
 * glibc's sigtimedwait and sigwaitinfo fold SI_TKILL into SI_USER;
 * SI_QUEUE with si_value for sigqueue; si_pid and si_uid), the
 * sigtimedwait timeout (EAGAIN, never early) and its zero timeout, a
 * sigtimedwait interrupted by a handler for another signal (EINTR even
 * with SA_RESTART), sigsuspend and pause returning -1 EINTR after the
 * handler ran in the waiting thread, sigsuspend restoring the mask,
 * sigpending showing process-wide and thread-private pending signals,
 * a standard signal sent twice while blocked being delivered once, and
 * real-time signals queued in order with their values.
 *
 * With "parked": one thread blocks in sigwait and one in read; main prints
 * "parked in sigwait and read", waits (at most 15 s) for HOLD_FILE when
 * given, then sends kill(getpid(), SIGUSR1) and writes the pipe.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

enum { DELAY_US = 100000, MIN_TICKS = 3 };

static int ticks;
static int stop_ticker;

static void *ticker(void *arg)
{
    (void)arg;
    while (!LOAD(&stop_ticker)) {
        usleep(5000);
        ADD(&ticks, 1);
    }
    return NULL;
}

/* Print whether the ticker advanced MIN_TICKS since `t0`. */
static void ticked(const char *what, int t0)
{
    const int n = LOAD(&ticks) - t0;

    printf("ticker advanced while %s: %s\n", what,
           n >= MIN_TICKS ? "yes" : "no");
    fflush(stdout);
    CHECK(n >= MIN_TICKS);
}

static const char *sig_name(int sig)
{
    static char other[16];

    switch (sig) {
    case SIGUSR1: return "SIGUSR1";
    case SIGUSR2: return "SIGUSR2";
    case SIGALRM: return "SIGALRM";
    }
    if (sig == SIGRTMIN) {
        return "SIGRTMIN";
    }
    snprintf(other, sizeof other, "signal %d", sig);
    return other;
}

static const char *code_name(int code)
{
    switch (code) {
    case SI_USER: return "SI_USER";
    case SI_TKILL: return "SI_TKILL";
    case SI_QUEUE: return "SI_QUEUE";
    }
    return "other";
}

/* How the sender thread sends `sig`, DELAY_US after it starts. */
enum how { BY_KILL, BY_PTHREAD_KILL, BY_SIGQUEUE };

struct send {
    enum how how;
    int sig;
    pthread_t target;
    int value;
};

static void *sender(void *arg)
{
    const struct send *const s = arg;

    usleep(DELAY_US);
    switch (s->how) {
    case BY_KILL:
        CHECK_OK(kill(getpid(), s->sig));
        break;
    case BY_PTHREAD_KILL:
        CHECK_RC(pthread_kill(s->target, s->sig));
        break;
    case BY_SIGQUEUE:
        CHECK_OK(sigqueue(getpid(), s->sig,
                          (union sigval){ .sival_int = s->value }));
        break;
    }
    return NULL;
}

static pthread_t start_sender(struct send *s)
{
    pthread_t t;

    CHECK_RC(pthread_create(&t, NULL, sender, s));
    return t;
}

static sigset_t one(int sig)
{
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, sig);
    return set;
}

static void sigwait_in_main(void)
{
    static struct send s = { BY_KILL, SIGUSR1, 0, 0 };
    const sigset_t set = one(SIGUSR1);
    int sig = 0;

    const int t0 = LOAD(&ticks);
    const pthread_t t = start_sender(&s);
    const int rc = sigwait(&set, &sig);
    printf("sigwait for kill(getpid(), SIGUSR1): %s, %s\n",
           errno_name(rc), sig_name(sig));
    CHECK_EQ(rc, 0);
    CHECK_EQ(sig, SIGUSR1);
    ticked("main waited in sigwait", t0);
    CHECK_RC(pthread_join(t, NULL));
}

/* sigwaitinfo in main for a signal sent `how`. */
static void sigwaitinfo_in_main(enum how how, int sig, int expected_code)
{
    static struct send s;
    const sigset_t set = one(sig);
    siginfo_t si;

    s = (struct send){ how, sig, pthread_self(), 42 };
    memset(&si, 0, sizeof si);
    const int t0 = LOAD(&ticks);
    const pthread_t t = start_sender(&s);
    errno = 0;
    const int r = sigwaitinfo(&set, &si);
    printf("sigwaitinfo: %s, si_signo %s, si_code %s, si_pid is ours %s",
           r == -1 ? errno_name(errno) : sig_name(r), sig_name(si.si_signo),
           code_name(si.si_code), si.si_pid == getpid() ? "yes" : "no");
    if (how == BY_SIGQUEUE) {
        printf(", si_value %d", si.si_value.sival_int);
        CHECK_EQ(si.si_value.sival_int, 42);
    }
    printf("\n");
    CHECK_EQ(r, sig);
    CHECK_EQ(si.si_signo, sig);
    CHECK_EQ(si.si_code, expected_code);
    CHECK_EQ(si.si_pid, getpid());
    CHECK_EQ(si.si_uid, getuid());
    ticked("main waited in sigwaitinfo", t0);
    CHECK_RC(pthread_join(t, NULL));
}

static void sigtimedwait_timeouts(void)
{
    const sigset_t set = one(SIGUSR1);
    const struct timespec zero = { 0, 0 };
    const struct timespec short_wait = { 0, 150000000 };

    const int t0 = LOAD(&ticks);
    const long long start = now_ns(CLOCK_MONOTONIC);
    REPORT_ERRNO("sigtimedwait 150 ms, nothing sent",
                 sigtimedwait(&set, NULL, &short_wait), EAGAIN);
    CHECK_WAITED(start, 150);
    ticked("main waited in sigtimedwait", t0);

    REPORT_ERRNO("sigtimedwait 0, nothing pending",
                 sigtimedwait(&set, NULL, &zero), EAGAIN);
    CHECK_OK(kill(getpid(), SIGUSR1));
    const int r = sigtimedwait(&set, NULL, &zero);
    printf("sigtimedwait 0, SIGUSR1 pending: %s\n",
           r == -1 ? errno_name(errno) : sig_name(r));
    CHECK_EQ(r, SIGUSR1);

    const struct timespec bad = { 0, 1000000000 };
    REPORT_ERRNO("sigtimedwait tv_nsec 1000000000",
                 sigtimedwait(&set, NULL, &bad), EINVAL);
}

/* A worker waiting in sigtimedwait for SIGUSR2, with a handler for
 * SIGUSR1 (SA_RESTART) that it does not block. */
static volatile sig_atomic_t handled;
static pthread_t handler_thread;

static void on_usr1(int sig)
{
    (void)sig;
    handled++;
    handler_thread = pthread_self();
}

static void install_usr1(int flags)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = flags;
    CHECK_OK(sigaction(SIGUSR1, &sa, NULL));
}

struct waiter {
    int kind;       /* which wait the worker makes */
    long r;
    int e;
    siginfo_t si;
    int still_blocked;    /* SIGUSR1 in the mask after the wait */
};

enum { W_SIGTIMEDWAIT, W_SIGTIMEDWAIT_UNBLOCKED, W_SIGSUSPEND, W_PAUSE };

static void *waiter_main(void *arg)
{
    struct waiter *const w = arg;
    const sigset_t usr2 = one(SIGUSR2);
    const struct timespec second = { 1, 0 };
    sigset_t none, now;

    sigemptyset(&none);
    errno = 0;
    switch (w->kind) {
    case W_SIGTIMEDWAIT:
        w->r = sigtimedwait(&usr2, &w->si, &second);
        break;
    case W_SIGTIMEDWAIT_UNBLOCKED: {
        const sigset_t usr1 = one(SIGUSR1);
        CHECK_RC(pthread_sigmask(SIG_UNBLOCK, &usr1, NULL));
        w->r = sigtimedwait(&usr2, &w->si, &second);
        break;
    }
    case W_SIGSUSPEND:
        w->r = sigsuspend(&none);
        break;
    case W_PAUSE: {
        const sigset_t usr1 = one(SIGUSR1);
        CHECK_RC(pthread_sigmask(SIG_UNBLOCK, &usr1, NULL));
        w->r = pause();
        break;
    }
    }
    w->e = errno;
    CHECK_RC(pthread_sigmask(SIG_BLOCK, NULL, &now));
    w->still_blocked = sigismember(&now, SIGUSR1);
    return NULL;
}

/* Start a worker making wait `kind`, send it `sig` with pthread_kill
 * 100 ms later, and join it; main counts ticks meanwhile. */
static void worker_wait(struct waiter *w, int kind, int sig)
{
    pthread_t t;

    memset(w, 0, sizeof *w);
    w->kind = kind;
    handled = 0;
    handler_thread = pthread_self();
    const int t0 = LOAD(&ticks);
    CHECK_RC(pthread_create(&t, NULL, waiter_main, w));
    usleep(DELAY_US);
    CHECK_RC(pthread_kill(t, sig));
    CHECK_RC(pthread_join(t, NULL));
    ticked("a worker waited", t0);
    printf("handler ran %d time(s), in the worker: %s\n", (int)handled,
           handled && pthread_equal(handler_thread, t) ? "yes" : "no");
    if (handled) {
        CHECK(pthread_equal(handler_thread, t));
    }
}

static void waits_in_a_worker(void)
{
    struct waiter w;

    install_usr1(SA_RESTART);
    worker_wait(&w, W_SIGTIMEDWAIT, SIGUSR2);
    printf("worker sigtimedwait for pthread_kill(W, SIGUSR2): %s, "
           "si_signo %s, si_code %s\n",
           w.r == -1 ? errno_name(w.e) : sig_name(w.r),
           sig_name(w.si.si_signo), code_name(w.si.si_code));
    CHECK_EQ(w.r, SIGUSR2);
    CHECK_EQ(w.si.si_code, SI_USER);
    CHECK_EQ(handled, 0);

    worker_wait(&w, W_SIGTIMEDWAIT_UNBLOCKED, SIGUSR1);
    printf("worker sigtimedwait for SIGUSR2, handled SIGUSR1 arrives "
           "(SA_RESTART): %ld %s\n", w.r, errno_name(w.r == -1 ? w.e : 0));
    CHECK_EQ(w.r, -1);
    CHECK_EQ(w.e, EINTR);
    CHECK_EQ(handled, 1);

    install_usr1(0);
    worker_wait(&w, W_SIGSUSPEND, SIGUSR1);
    printf("worker sigsuspend(empty mask): %ld %s, SIGUSR1 blocked again "
           "after: %s\n", w.r, errno_name(w.r == -1 ? w.e : 0),
           w.still_blocked ? "yes" : "no");
    CHECK_EQ(w.r, -1);
    CHECK_EQ(w.e, EINTR);
    CHECK_EQ(handled, 1);
    CHECK(w.still_blocked);

    worker_wait(&w, W_PAUSE, SIGUSR1);
    printf("worker pause: %ld %s\n", w.r, errno_name(w.r == -1 ? w.e : 0));
    CHECK_EQ(w.r, -1);
    CHECK_EQ(w.e, EINTR);
    CHECK_EQ(handled, 1);
}

/* main in pause and in sigsuspend, woken by a process-directed signal. */
static void waits_in_main(void)
{
    static struct send s = { BY_KILL, SIGUSR1, 0, 0 };
    const sigset_t usr1 = one(SIGUSR1);
    sigset_t none, now;

    install_usr1(0);
    sigemptyset(&none);

    handled = 0;
    int t0 = LOAD(&ticks);
    pthread_t t = start_sender(&s);
    errno = 0;
    long r = sigsuspend(&none);
    int e = errno;
    CHECK_RC(pthread_join(t, NULL));
    CHECK_RC(pthread_sigmask(SIG_BLOCK, NULL, &now));
    printf("main sigsuspend, kill(getpid()): %ld %s, handler ran %d in "
           "main %s, SIGUSR1 blocked again after: %s\n", r,
           errno_name(r == -1 ? e : 0), (int)handled,
           pthread_equal(handler_thread, pthread_self()) ? "yes" : "no",
           sigismember(&now, SIGUSR1) ? "yes" : "no");
    CHECK_EQ(r, -1);
    CHECK_EQ(handled, 1);
    ticked("main waited in sigsuspend", t0);

    CHECK_RC(pthread_sigmask(SIG_UNBLOCK, &usr1, NULL));
    handled = 0;
    t0 = LOAD(&ticks);
    t = start_sender(&s);
    errno = 0;
    r = pause();
    e = errno;
    CHECK_RC(pthread_join(t, NULL));
    printf("main pause, kill(getpid()): %ld %s, handler ran %d in main %s\n",
           r, errno_name(r == -1 ? e : 0), (int)handled,
           pthread_equal(handler_thread, pthread_self()) ? "yes" : "no");
    CHECK_EQ(r, -1);
    CHECK_EQ(e, EINTR);
    CHECK_EQ(handled, 1);
    ticked("main waited in pause", t0);
    CHECK_RC(pthread_sigmask(SIG_BLOCK, &usr1, NULL));

    /* A signal already pending when sigsuspend unblocks it. */
    handled = 0;
    CHECK_OK(kill(getpid(), SIGUSR1));
    r = sigsuspend(&none);
    printf("main sigsuspend with SIGUSR1 already pending: %ld %s, handler "
           "ran %d\n", r, errno_name(r == -1 ? errno : 0), (int)handled);
    CHECK_EQ(handled, 1);
}

/* sigpending: process-wide and per-thread pending signals. */
static int go[2];
static int pending_in_w[3];

static void *pending_worker(void *arg)
{
    sigset_t set;
    char c;
    int sig;

    (void)arg;
    CHECK_EQ(read(go[0], &c, 1), 1);
    CHECK_OK(sigpending(&set));
    pending_in_w[0] = sigismember(&set, SIGUSR1);
    pending_in_w[1] = sigismember(&set, SIGUSR2);
    const sigset_t both = ({
        sigset_t b = one(SIGUSR1);
        sigaddset(&b, SIGUSR2);
        b;
    });
    int got = 0;
    for (int i = 0; i < 2; i++) {
        CHECK_RC(sigwait(&both, &sig));
        got |= sig == SIGUSR1 ? 1 : sig == SIGUSR2 ? 2 : 4;
    }
    pending_in_w[2] = got;
    return NULL;
}

static void pending_signals(void)
{
    pthread_t t;
    sigset_t set;

    CHECK_OK(pipe(go));
    CHECK_RC(pthread_create(&t, NULL, pending_worker, NULL));
    CHECK_OK(kill(getpid(), SIGUSR1));
    CHECK_OK(kill(getpid(), SIGUSR1));
    CHECK_RC(pthread_kill(t, SIGUSR2));
    CHECK_OK(sigpending(&set));
    printf("main sigpending: SIGUSR1 %d, SIGUSR2 %d\n",
           sigismember(&set, SIGUSR1), sigismember(&set, SIGUSR2));
    CHECK_EQ(sigismember(&set, SIGUSR1), 1);
    CHECK_EQ(sigismember(&set, SIGUSR2), 0);
    CHECK_EQ(write(go[1], "g", 1), 1);
    CHECK_RC(pthread_join(t, NULL));
    printf("worker sigpending: SIGUSR1 %d, SIGUSR2 %d\n", pending_in_w[0],
           pending_in_w[1]);
    printf("worker sigwait twice took SIGUSR1 and SIGUSR2: %s\n",
           pending_in_w[2] == 3 ? "yes" : "no");
    CHECK_EQ(pending_in_w[0], 1);
    CHECK_EQ(pending_in_w[1], 1);
    CHECK_EQ(pending_in_w[2], 3);
    CHECK_OK(sigpending(&set));
    printf("main sigpending after: SIGUSR1 %d (sent twice, delivered "
           "once)\n", sigismember(&set, SIGUSR1));
    CHECK_EQ(sigismember(&set, SIGUSR1), 0);
    close(go[0]);
    close(go[1]);
}

/* Real-time signals queue, in order, with their values. */
static void realtime_queue(void)
{
    const sigset_t set = one(SIGRTMIN);
    const struct timespec zero = { 0, 0 };
    siginfo_t si;

    for (int i = 1; i <= 3; i++) {
        CHECK_OK(sigqueue(getpid(), SIGRTMIN,
                          (union sigval){ .sival_int = i }));
    }
    printf("SIGRTMIN queued 3 times, values:");
    for (int i = 1; i <= 3; i++) {
        memset(&si, 0, sizeof si);
        CHECK_EQ(sigtimedwait(&set, &si, &zero), SIGRTMIN);
        printf(" %d", si.si_value.sival_int);
        CHECK_EQ(si.si_value.sival_int, i);
    }
    printf("\n");
    REPORT_ERRNO("fourth sigtimedwait", sigtimedwait(&set, NULL, &zero),
                 EAGAIN);
}

/* "parked": one thread in sigwait, one in read, for a kernel thread
 * count taken from outside. */
static int parked_pipe[2];
static int parked_sig;
static long parked_read;

static void *park_sigwait(void *arg)
{
    const sigset_t set = one(SIGUSR1);
    (void)arg;
    CHECK_RC(sigwait(&set, &parked_sig));
    return NULL;
}

static void *park_read(void *arg)
{
    char c;
    (void)arg;
    parked_read = read(parked_pipe[0], &c, 1);
    return NULL;
}

static void parked(const char *hold)
{
    pthread_t a, b;

    CHECK_OK(pipe(parked_pipe));
    CHECK_RC(pthread_create(&a, NULL, park_sigwait, NULL));
    CHECK_RC(pthread_create(&b, NULL, park_read, NULL));
    usleep(DELAY_US);
    printf("parked in sigwait and read\n");
    fflush(stdout);
    if (hold != NULL) {
        wait_for_file(hold, 15);
    }
    CHECK_OK(kill(getpid(), SIGUSR1));
    CHECK_EQ(write(parked_pipe[1], "x", 1), 1);
    CHECK_RC(pthread_join(a, NULL));
    CHECK_RC(pthread_join(b, NULL));
    printf("sigwait: %s, read: %ld\n", sig_name(parked_sig), parked_read);
    CHECK_EQ(parked_sig, SIGUSR1);
    CHECK_EQ(parked_read, 1);
    close(parked_pipe[0]);
    close(parked_pipe[1]);
}

int main(int argc, char **argv)
{
    sigset_t set;
    pthread_t tick;

    /* Line-buffered, so that a run killed for hanging shows how far it
     * got. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGUSR2);
    sigaddset(&set, SIGRTMIN);
    CHECK_RC(pthread_sigmask(SIG_BLOCK, &set, NULL));
    if (argc >= 2 && strcmp(argv[1], "parked") == 0 && argc <= 3) {
        parked(argc == 3 ? argv[2] : NULL);
        return check_exit_status();
    }
    if (argc != 1) {
        fprintf(stderr, "usage: %s [parked [HOLD_FILE]]\n", argv[0]);
        return 2;
    }
    alarm(20);
    CHECK_RC(pthread_create(&tick, NULL, ticker, NULL));
    sigwait_in_main();
    sigwaitinfo_in_main(BY_KILL, SIGUSR1, SI_USER);
    sigwaitinfo_in_main(BY_PTHREAD_KILL, SIGUSR2, SI_USER);
    sigwaitinfo_in_main(BY_SIGQUEUE, SIGUSR2, SI_QUEUE);
    sigtimedwait_timeouts();
    waits_in_a_worker();
    waits_in_main();
    pending_signals();
    realtime_queue();
    STORE(&stop_ticker, 1);
    CHECK_RC(pthread_join(tick, NULL));
    return check_exit_status();
}
