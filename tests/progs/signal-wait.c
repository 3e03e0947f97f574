/* SPDX-License-Identifier: MIT */
/* signal-wait [parked [HOLD_FILE]]: sigwait, sigwaitinfo, sigtimedwait,
 * sigsuspend, pause and sigpending, while other threads keep running.
 *
 * main blocks SIGUSR1, SIGUSR2 and SIGRTMIN before it starts any thread,
 * so every thread inherits that mask.  No step depends on timing: a
 * thread that waits for a signal first says so (a handshake), the sender
 * waits until it sleeps in its call (wait_blocked, handshake.h), and,
 * where main waits, two other threads make 3 round trips before the
 * signal is sent: main's wait ends only because they ran while it was
 * blocked.  Checked: the signal number and siginfo (si_signo, si_code
 * SI_USER for kill and also for pthread_kill: the kernel says SI_TKILL,
 * as a handler sees it, but glibc's sigtimedwait and sigwaitinfo fold
 * SI_TKILL into SI_USER; SI_QUEUE with si_value for sigqueue; si_pid and
 * si_uid), the sigtimedwait timeout (EAGAIN, not before its deadline) and
 * its zero timeout, a sigtimedwait interrupted by a handler for another
 * signal (EINTR even with SA_RESTART), sigsuspend and pause returning -1
 * EINTR after the handler ran in the waiting thread, sigsuspend restoring
 * the mask, sigpending showing process-wide and thread-private pending
 * signals, a standard signal sent twice while blocked being delivered
 * once, and real-time signals queued in order with their values.  Waits
 * that must end by a signal have a 10 s timeout, which only turns a lost
 * signal into a failure.
 *
 * With "parked": one thread blocks in sigwait and one in read; main prints
 * "parked in sigwait and read" once both are in their calls, waits (at
 * most 15 s) for HOLD_FILE when given, then sends kill(getpid(), SIGUSR1)
 * and writes the pipe.
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
#include "handshake.h"

enum { ROUNDS = 3 };

/* The partner that the sender, or main, makes ROUNDS round trips with
 * while another thread waits. */
static struct partner partner;

/* Print that ROUNDS round trips were made while `what` (they were made
 * between `r0`, the count before the wait, and its end). */
static void rounds_made(const char *what, long r0)
{
    const long n = LOAD(&partner.rounds) - r0;

    printf("round trips of two other threads while %s: %ld\n", what, n);
    fflush(stdout);
    CHECK_EQ(n, ROUNDS);
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

/* How the sender thread sends `sig`: once main said it is about to wait
 * (`about`) and sleeps in its call, and after ROUNDS round trips with
 * the partner. */
enum how { BY_KILL, BY_PTHREAD_KILL, BY_SIGQUEUE };

struct send {
    enum how how;
    int sig;
    pthread_t target;
    int value;
};

static struct handshake about;
static pid_t main_tid;

static void *sender(void *arg)
{
    const struct send *const s = arg;

    hs_wait(&about);
    wait_blocked(main_tid);
    partner_rounds(&partner, ROUNDS);
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

    const long r0 = LOAD(&partner.rounds);
    const pthread_t t = start_sender(&s);
    hs_post(&about);
    const int rc = sigwait(&set, &sig);
    printf("sigwait for kill(getpid(), SIGUSR1): %s, %s\n",
           errno_name(rc), sig_name(sig));
    CHECK_EQ(rc, 0);
    CHECK_EQ(sig, SIGUSR1);
    rounds_made("main waited in sigwait", r0);
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
    const long r0 = LOAD(&partner.rounds);
    const pthread_t t = start_sender(&s);
    hs_post(&about);
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
    rounds_made("main waited in sigwaitinfo", r0);
    CHECK_RC(pthread_join(t, NULL));
}

static void sigtimedwait_timeouts(void)
{
    static struct send s = { BY_KILL, SIGUSR1, 0, 0 };
    const sigset_t set = one(SIGUSR1);
    const struct timespec zero = { 0, 0 };
    const struct timespec short_wait = { 0, 50000000 };
    const struct timespec long_wait = { 10, 0 };

    /* The timeout only turns a lost signal into a failure. */
    const long r0 = LOAD(&partner.rounds);
    const pthread_t t = start_sender(&s);
    hs_post(&about);
    const int got = sigtimedwait(&set, NULL, &long_wait);
    printf("sigtimedwait 10 s for kill(getpid(), SIGUSR1): %s\n",
           got == -1 ? errno_name(errno) : sig_name(got));
    CHECK_EQ(got, SIGUSR1);
    rounds_made("main waited in sigtimedwait", r0);
    CHECK_RC(pthread_join(t, NULL));

    /* A timeout ends the wait, never before its deadline (a bound that
     * load can only make later). */
    const long long start = now_ns(CLOCK_MONOTONIC);
    REPORT_ERRNO("sigtimedwait 50 ms, nothing sent",
                 sigtimedwait(&set, NULL, &short_wait), EAGAIN);
    CHECK_WAITED(start, 50);

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
    pid_t tid;            /* the worker's gettid() */
    struct handshake ready;   /* posted just before the wait */
};

enum { W_SIGTIMEDWAIT, W_SIGTIMEDWAIT_UNBLOCKED, W_SIGSUSPEND, W_PAUSE };

static void *waiter_main(void *arg)
{
    struct waiter *const w = arg;
    const sigset_t usr1 = one(SIGUSR1);
    const sigset_t usr2 = one(SIGUSR2);
    const struct timespec ten = { 10, 0 };    /* a lost signal fails */
    sigset_t none, now;

    sigemptyset(&none);
    w->tid = gettid();
    if (w->kind == W_SIGTIMEDWAIT_UNBLOCKED || w->kind == W_PAUSE) {
        CHECK_RC(pthread_sigmask(SIG_UNBLOCK, &usr1, NULL));
    }
    hs_post(&w->ready);
    errno = 0;
    switch (w->kind) {
    case W_SIGTIMEDWAIT:
    case W_SIGTIMEDWAIT_UNBLOCKED:
        w->r = sigtimedwait(&usr2, &w->si, &ten);
        break;
    case W_SIGSUSPEND:
        w->r = sigsuspend(&none);
        break;
    case W_PAUSE:
        w->r = pause();
        break;
    }
    w->e = errno;
    CHECK_RC(pthread_sigmask(SIG_BLOCK, NULL, &now));
    w->still_blocked = sigismember(&now, SIGUSR1);
    return NULL;
}

/* Start a worker making wait `kind`; once it sleeps there, make ROUNDS
 * round trips with the partner, send it `sig` with pthread_kill and join
 * it. */
static void worker_wait(struct waiter *w, int kind, int sig)
{
    pthread_t t;

    memset(w, 0, sizeof *w);
    w->kind = kind;
    hs_init(&w->ready);
    handled = 0;
    handler_thread = pthread_self();
    CHECK_RC(pthread_create(&t, NULL, waiter_main, w));
    hs_wait(&w->ready);
    wait_blocked(w->tid);
    const long r0 = LOAD(&partner.rounds);
    partner_rounds(&partner, ROUNDS);
    CHECK_RC(pthread_kill(t, sig));
    CHECK_RC(pthread_join(t, NULL));
    hs_destroy(&w->ready);
    rounds_made("a worker waited", r0);
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
    long r0 = LOAD(&partner.rounds);
    pthread_t t = start_sender(&s);
    hs_post(&about);
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
    rounds_made("main waited in sigsuspend", r0);

    CHECK_RC(pthread_sigmask(SIG_UNBLOCK, &usr1, NULL));
    handled = 0;
    r0 = LOAD(&partner.rounds);
    t = start_sender(&s);
    hs_post(&about);
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
    rounds_made("main waited in pause", r0);
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
static pid_t parked_tid[2];
static struct handshake parked_ready;

static void *park_sigwait(void *arg)
{
    const sigset_t set = one(SIGUSR1);
    (void)arg;
    parked_tid[0] = gettid();
    hs_post(&parked_ready);
    CHECK_RC(sigwait(&set, &parked_sig));
    return NULL;
}

static void *park_read(void *arg)
{
    char c;
    (void)arg;
    parked_tid[1] = gettid();
    hs_post(&parked_ready);
    parked_read = read(parked_pipe[0], &c, 1);
    return NULL;
}

static void parked(const char *hold)
{
    pthread_t a, b;

    CHECK_OK(pipe(parked_pipe));
    hs_init(&parked_ready);
    CHECK_RC(pthread_create(&a, NULL, park_sigwait, NULL));
    CHECK_RC(pthread_create(&b, NULL, park_read, NULL));
    hs_wait(&parked_ready);
    hs_wait(&parked_ready);
    wait_blocked(parked_tid[0]);
    wait_blocked(parked_tid[1]);
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
    hs_destroy(&parked_ready);
}

int main(int argc, char **argv)
{
    sigset_t set;

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
    alarm(30);
    main_tid = gettid();
    hs_init(&about);
    partner_start(&partner);
    sigwait_in_main();
    sigwaitinfo_in_main(BY_KILL, SIGUSR1, SI_USER);
    sigwaitinfo_in_main(BY_PTHREAD_KILL, SIGUSR2, SI_USER);
    sigwaitinfo_in_main(BY_SIGQUEUE, SIGUSR2, SI_QUEUE);
    sigtimedwait_timeouts();
    waits_in_a_worker();
    waits_in_main();
    pending_signals();
    realtime_queue();
    partner_stop(&partner);
    hs_destroy(&about);
    return check_exit_status();
}
