/* SPDX-License-Identifier: MIT */
/* signal-action: the program's own dispositions, and what its handlers
 * do to threads blocked in read.
 *
 * At start: which signals are not SIG_DFL, which are blocked, and for
 * which sigaction fails (a runtime must not show handlers or masks of its
 * own).  sigaction and signal return exactly the action the program
 * installed before (handler, sa_flags with and without the SA_RESTORER
 * glibc adds, sa_mask minus SIGKILL); their errors.  Then, each time with
 * a thread W blocked in read on a pipe and the signal sent to W with
 * pthread_kill once W sleeps in its read (handshake.h: no step depends on
 * timing; W's pipe is written only after the handler ran, or after a
 * real-time signal sent behind an ignored one was handled, which the
 * kernel delivers after any standard signal): an SA_SIGINFO handler gets
 * si_signo, si_code
 * and si_pid; SA_RESETHAND runs the handler once and leaves SIG_DFL;
 * without SA_NODEFER the signal and sa_mask are blocked in the handler
 * and a signal raised inside it runs after it, with SA_NODEFER it nests;
 * siginterrupt(sig, 1) makes the read fail with EINTR, siginterrupt(sig,
 * 0) makes it restart; an ignored signal (SIG_IGN, or SIG_DFL whose
 * default is to ignore) does not interrupt it.  Last, the self-pipe
 * trick: four threads blocked in read, a fifth blocked reading the
 * self-pipe, a SA_RESTART handler writing its thread's index to the
 * self-pipe; the reader wakes for each signal and the four reads restart.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "handshake.h"

enum { WORKERS = 4 };

#ifndef SA_RESTORER
#define SA_RESTORER 0x04000000
#endif

static void h1(int sig) { (void)sig; }
static void h2(int sig) { (void)sig; }

static const char *disposition(void (*h)(int))
{
    if (h == SIG_DFL) {
        return "SIG_DFL";
    }
    if (h == SIG_IGN) {
        return "SIG_IGN";
    }
    if (h == h1) {
        return "h1";
    }
    if (h == h2) {
        return "h2";
    }
    if (h == SIG_ERR) {
        return "SIG_ERR";
    }
    return "another handler";
}

static void at_start(void)
{
    sigset_t blocked;
    struct sigaction sa;

    CHECK_RC(pthread_sigmask(SIG_BLOCK, NULL, &blocked));
    printf("at start, not SIG_DFL:");
    for (int sig = 1; sig <= SIGRTMAX; sig++) {
        if (sigaction(sig, NULL, &sa) == 0 && sa.sa_handler != SIG_DFL) {
            printf(" %d=%s", sig, disposition(sa.sa_handler));
        }
    }
    printf("\nat start, sigaction query fails for:");
    for (int sig = 0; sig <= SIGRTMAX + 1; sig++) {
        if (sigaction(sig, NULL, &sa) != 0) {
            printf(" %d %s", sig, errno_name(errno));
        }
    }
    printf("\nat start, blocked:");
    for (int sig = 1; sig <= SIGRTMAX; sig++) {
        if (sigismember(&blocked, sig) == 1) {
            printf(" %d", sig);
        }
    }
    printf("\n");
    fflush(stdout);
}

/* Print an old action: handler, flags and the mask's members among a few
 * signals. */
static void show_old(const char *label, const struct sigaction *old)
{
    printf("%s: handler %s, sa_flags %#x (+SA_RESTORER: %s), sa_mask "
           "USR1 %d USR2 %d TERM %d INT %d KILL %d STOP %d\n", label,
           disposition(old->sa_handler),
           (unsigned)old->sa_flags & ~(unsigned)SA_RESTORER,
           old->sa_flags & SA_RESTORER ? "yes" : "no",
           sigismember(&old->sa_mask, SIGUSR1),
           sigismember(&old->sa_mask, SIGUSR2),
           sigismember(&old->sa_mask, SIGTERM),
           sigismember(&old->sa_mask, SIGINT),
           sigismember(&old->sa_mask, SIGKILL),
           sigismember(&old->sa_mask, SIGSTOP));
    fflush(stdout);
}

static void round_trips(void)
{
    struct sigaction sa, old;
    static const int flag_sets[] = {
        0,
        SA_RESTART,
        SA_RESTART | SA_NODEFER,
        SA_RESETHAND,
        SA_ONSTACK | SA_RESTART,
        SA_SIGINFO,
    };

    for (size_t i = 0; i < sizeof flag_sets / sizeof flag_sets[0]; i++) {
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = i % 2 ? h1 : h2;
        sigemptyset(&sa.sa_mask);
        sigaddset(&sa.sa_mask, SIGUSR2);
        sigaddset(&sa.sa_mask, SIGTERM);
        sigaddset(&sa.sa_mask, SIGKILL);
        sa.sa_flags = flag_sets[i];
        CHECK_OK(sigaction(SIGUSR1, &sa, NULL));
        memset(&old, 0, sizeof old);
        CHECK_OK(sigaction(SIGUSR1, NULL, &old));
        char label[64];
        snprintf(label, sizeof label, "sigaction SIGUSR1 set flags %#x",
                 flag_sets[i]);
        show_old(label, &old);
        CHECK(old.sa_handler == sa.sa_handler);
        CHECK_EQ(old.sa_flags & ~SA_RESTORER, flag_sets[i]);
        CHECK_EQ(sigismember(&old.sa_mask, SIGUSR2), 1);
    }

    /* The old action returned while installing a new one. */
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    CHECK_OK(sigaction(SIGUSR1, &sa, &old));
    show_old("sigaction SIGUSR1 SIG_DFL returns old", &old);
    CHECK(old.sa_handler == h1);
    CHECK_OK(sigaction(SIGUSR1, NULL, &old));
    show_old("then SIGUSR1 is", &old);

    /* signal(): BSD semantics in glibc. */
    void (*prev)(int) = signal(SIGUSR2, h1);
    printf("signal(SIGUSR2, h1) returned %s\n", disposition(prev));
    CHECK_OK(sigaction(SIGUSR2, NULL, &old));
    show_old("after signal(SIGUSR2, h1)", &old);
    CHECK(old.sa_handler == h1);
    prev = signal(SIGUSR2, SIG_IGN);
    printf("signal(SIGUSR2, SIG_IGN) returned %s\n", disposition(prev));
    CHECK(prev == h1);
    prev = signal(SIGUSR2, SIG_DFL);
    printf("signal(SIGUSR2, SIG_DFL) returned %s\n", disposition(prev));
    CHECK(prev == SIG_IGN);

    errno = 0;
    prev = signal(SIGKILL, h1);
    printf("signal(SIGKILL, h1): %s %s\n", disposition(prev),
           errno_name(errno));
    CHECK(prev == SIG_ERR);
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = h1;
    REPORT_ERRNO("sigaction(SIGSTOP, h1)", sigaction(SIGSTOP, &sa, NULL),
                 EINVAL);
    REPORT_ERRNO("sigaction(0, h1)", sigaction(0, &sa, NULL), EINVAL);
    REPORT_ERRNO("sigaction(SIGRTMAX + 1, h1)",
                 sigaction(SIGRTMAX + 1, &sa, NULL), EINVAL);
    /* No EFAULT checks: glibc copies act and oldact in user space, so a
     * bad pointer crashes natively. */
}

/* A thread W blocked in read on its own pipe. */
struct reader {
    pthread_t t;
    int p[2];
    int unblock;    /* signal W unblocks first, 0 for none */
    long r;
    int e;
    int index;
    pid_t tid;      /* W's gettid() */
    struct handshake ready;     /* posted just before the read */
};

static void *reader_main(void *arg)
{
    struct reader *const w = arg;
    char c;

    if (w->unblock != 0) {
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, w->unblock);
        CHECK_RC(pthread_sigmask(SIG_UNBLOCK, &set, NULL));
    }
    w->tid = gettid();
    hs_post(&w->ready);
    errno = 0;
    w->r = read(w->p[0], &c, 1);
    w->e = errno;
    return NULL;
}

/* Start W and return once it sleeps in its read. */
static void reader_start(struct reader *w, int unblock)
{
    w->unblock = unblock;
    w->r = 0;
    w->e = 0;
    CHECK_OK(pipe(w->p));
    hs_init(&w->ready);
    CHECK_RC(pthread_create(&w->t, NULL, reader_main, w));
    hs_wait(&w->ready);
    wait_blocked(w->tid);
}

/* Write W's pipe (in case it still waits), join it and print its read. */
static long reader_finish(struct reader *w, const char *label)
{
    CHECK_EQ(write(w->p[1], "x", 1), 1);
    CHECK_RC(pthread_join(w->t, NULL));
    printf("%s: W read %ld %s\n", label, w->r,
           errno_name(w->r == -1 ? w->e : 0));
    fflush(stdout);
    close(w->p[0]);
    close(w->p[1]);
    hs_destroy(&w->ready);
    return w->r == -1 ? -w->e : w->r;
}

/* Each run of a recording handler posts `ran`. */
static struct handshake ran;

/* Start W, send it `sig` once it sleeps in read, and wait until the
 * handler ran `runs` times. */
static struct reader w;

static void signal_reader(int sig, int runs)
{
    reader_start(&w, 0);
    CHECK_RC(pthread_kill(w.t, sig));
    for (int i = 0; i < runs; i++) {
        hs_wait(&ran);
    }
}

/* What the handlers saw. */
static volatile sig_atomic_t runs, depth, max_depth;
static volatile sig_atomic_t in_target, self_blocked, usr2_blocked;
static volatile sig_atomic_t si_signo_seen, si_code_seen, si_pid_ours;
static volatile sig_atomic_t raise_inside;

static void record(int sig)
{
    sigset_t now;

    runs++;
    in_target = pthread_equal(pthread_self(), w.t);
    pthread_sigmask(SIG_BLOCK, NULL, &now);
    self_blocked = sigismember(&now, sig);
    usr2_blocked = sigismember(&now, SIGUSR2);
    hs_post(&ran);
}

static void on_info(int sig, siginfo_t *si, void *uc)
{
    si_signo_seen = si->si_signo;
    si_code_seen = si->si_code;
    si_pid_ours = si->si_pid == getpid() && uc != NULL;
    record(sig);    /* last: it posts `ran` */
}

static void on_nest(int sig)
{
    depth++;
    if (depth > max_depth) {
        max_depth = depth;
    }
    record(sig);
    if (raise_inside) {
        raise_inside = 0;
        raise(sig);
    }
    depth--;
}

static void reset_seen(void)
{
    runs = depth = max_depth = 0;
    in_target = self_blocked = usr2_blocked = 0;
    si_signo_seen = si_code_seen = si_pid_ours = 0;
}

static void install(int sig, void (*h)(int), int flags)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = h;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGUSR2);
    sa.sa_flags = flags;
    CHECK_OK(sigaction(sig, &sa, NULL));
}

static void siginfo_handler(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_info;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_SIGINFO;
    CHECK_OK(sigaction(SIGUSR1, &sa, NULL));
    reset_seen();
    signal_reader(SIGUSR1, 1);
    printf("SA_SIGINFO handler: ran %d in W %s, si_signo %d, si_code %s, "
           "si_pid ours and ucontext given %s\n", (int)runs,
           in_target ? "yes" : "no", (int)si_signo_seen,
           si_code_seen == SI_TKILL ? "SI_TKILL"
           : si_code_seen == SI_USER ? "SI_USER" : "other",
           si_pid_ours ? "yes" : "no");
    CHECK_EQ(runs, 1);
    CHECK(in_target);
    CHECK_EQ(si_signo_seen, SIGUSR1);
    CHECK_EQ(si_code_seen, SI_TKILL);
    CHECK(si_pid_ours);
    CHECK_EQ(reader_finish(&w, "SA_SIGINFO"), -EINTR);
}

static void resethand(void)
{
    struct sigaction now;

    install(SIGUSR1, on_nest, SA_RESETHAND);
    reset_seen();
    signal_reader(SIGUSR1, 1);
    CHECK_OK(sigaction(SIGUSR1, NULL, &now));
    printf("SA_RESETHAND: ran %d in W %s, SIGUSR1 blocked inside %d, "
           "disposition after %s, sa_flags after %#x\n", (int)runs,
           in_target ? "yes" : "no", (int)self_blocked,
           disposition(now.sa_handler),
           (unsigned)now.sa_flags & ~(unsigned)SA_RESTORER);
    CHECK_EQ(runs, 1);
    CHECK(now.sa_handler == SIG_DFL);
    CHECK_EQ(reader_finish(&w, "SA_RESETHAND"), -EINTR);
}

static void nodefer(int flags, const char *label)
{
    install(SIGUSR1, on_nest, flags);
    reset_seen();
    raise_inside = 1;
    signal_reader(SIGUSR1, 2);
    printf("%s, raise inside: ran %d, max depth %d, SIGUSR1 blocked "
           "inside %d, SIGUSR2 (sa_mask) blocked inside %d\n", label,
           (int)runs, (int)max_depth, (int)self_blocked, (int)usr2_blocked);
    CHECK_EQ(runs, 2);
    CHECK_EQ(max_depth, flags & SA_NODEFER ? 2 : 1);
    CHECK_EQ(reader_finish(&w, label), -EINTR);
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
static void interrupt_flag(void)
{
    struct sigaction now;

    install(SIGUSR1, on_nest, SA_RESTART);
    CHECK_OK(siginterrupt(SIGUSR1, 1));
    CHECK_OK(sigaction(SIGUSR1, NULL, &now));
    printf("siginterrupt(SIGUSR1, 1): SA_RESTART %s\n",
           now.sa_flags & SA_RESTART ? "set" : "clear");
    reset_seen();
    signal_reader(SIGUSR1, 1);
    CHECK_EQ(runs, 1);
    CHECK_EQ(reader_finish(&w, "after siginterrupt(SIGUSR1, 1)"), -EINTR);

    CHECK_OK(siginterrupt(SIGUSR1, 0));
    CHECK_OK(sigaction(SIGUSR1, NULL, &now));
    printf("siginterrupt(SIGUSR1, 0): SA_RESTART %s\n",
           now.sa_flags & SA_RESTART ? "set" : "clear");
    reset_seen();
    signal_reader(SIGUSR1, 1);
    CHECK_EQ(runs, 1);
    CHECK_EQ(reader_finish(&w, "after siginterrupt(SIGUSR1, 0)"), 1);
    REPORT_ERRNO("siginterrupt(0, 1)", siginterrupt(0, 1), EINVAL);
}
#pragma GCC diagnostic pop

/* An ignored signal, then SIGRTMIN, whose SA_RESTART handler posts
 * `fence`: the kernel delivers standard signals before real-time ones,
 * so once the fence ran, the ignored signal was dealt with. */
static struct handshake fence;

static void on_fence(int sig)
{
    (void)sig;
    hs_post(&fence);
}

static void ignored_then_fence(int sig)
{
    reader_start(&w, 0);
    CHECK_RC(pthread_kill(w.t, sig));
    CHECK_RC(pthread_kill(w.t, SIGRTMIN));
    hs_wait(&fence);
}

static void ignored(void)
{
    struct sigaction sa;

    hs_init(&fence);
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_fence;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    CHECK_OK(sigaction(SIGRTMIN, &sa, NULL));

    signal(SIGUSR2, SIG_IGN);
    ignored_then_fence(SIGUSR2);
    CHECK_EQ(reader_finish(&w, "SIGUSR2 SIG_IGN"), 1);
    signal(SIGUSR2, SIG_DFL);

    signal(SIGWINCH, SIG_DFL);
    ignored_then_fence(SIGWINCH);
    CHECK_EQ(reader_finish(&w, "SIGWINCH SIG_DFL (ignore)"), 1);

    signal(SIGURG, SIG_DFL);
    ignored_then_fence(SIGURG);
    CHECK_EQ(reader_finish(&w, "SIGURG SIG_DFL (ignore)"), 1);

    signal(SIGRTMIN, SIG_DFL);
    hs_destroy(&fence);
}

/* The self-pipe trick. */
static struct reader workers[WORKERS];
static int self_pipe[2];
static int got[WORKERS + 2];
static int got_count;
static struct handshake got_one;    /* the reader took a byte */

static void to_self_pipe(int sig)
{
    const int saved = errno;
    char index = WORKERS + 1;

    (void)sig;
    for (int i = 0; i < WORKERS; i++) {
        if (pthread_equal(pthread_self(), workers[i].t)) {
            index = (char)i;
        }
    }
    if (write(self_pipe[1], &index, 1) != 1) {
        abort();
    }
    errno = saved;
}

static void *self_pipe_reader(void *arg)
{
    char c;

    (void)arg;
    for (int i = 0; i < WORKERS + 1; i++) {
        if (read(self_pipe[0], &c, 1) != 1) {
            CHECK(!"read self-pipe");
            break;
        }
        got[(unsigned char)c < WORKERS + 2 ? (unsigned char)c
                                           : WORKERS + 1]++;
        ADD(&got_count, 1);
        hs_post(&got_one);
    }
    return NULL;
}

static void self_pipe_trick(void)
{
    pthread_t r;
    sigset_t usr1;

    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    install(SIGUSR1, to_self_pipe, SA_RESTART);
    CHECK_RC(pthread_sigmask(SIG_BLOCK, &usr1, NULL));
    CHECK_OK(pipe(self_pipe));
    hs_init(&got_one);
    CHECK_RC(pthread_create(&r, NULL, self_pipe_reader, NULL));
    for (int i = 0; i < WORKERS; i++) {
        reader_start(&workers[i], SIGUSR1);
    }
    for (int i = 0; i < WORKERS; i++) {
        CHECK_RC(pthread_kill(workers[i].t, SIGUSR1));
    }
    for (int i = 0; i < WORKERS; i++) {
        hs_wait(&got_one);
    }
    printf("self-pipe reader woke for each pthread_kill: %s, bytes from "
           "workers:", LOAD(&got_count) == WORKERS ? "yes" : "no");
    for (int i = 0; i < WORKERS; i++) {
        printf(" %d", got[i]);
    }
    printf("\n");
    CHECK_EQ(LOAD(&got_count), WORKERS);

    /* Process-directed: main and the self-pipe reader block SIGUSR1, so
     * one of the workers runs the handler. */
    CHECK_OK(kill(getpid(), SIGUSR1));
    CHECK_RC(pthread_join(r, NULL));
    int from_workers = 0;
    for (int i = 0; i < WORKERS; i++) {
        from_workers += got[i];
    }
    printf("kill(getpid()): handler ran in a worker: %s\n",
           from_workers == WORKERS + 1 ? "yes" : "no");
    CHECK_EQ(from_workers, WORKERS + 1);
    for (int i = 0; i < WORKERS; i++) {
        char label[32];
        snprintf(label, sizeof label, "self-pipe worker %d", i);
        CHECK_EQ(reader_finish(&workers[i], label), 1);
    }
    CHECK_RC(pthread_sigmask(SIG_UNBLOCK, &usr1, NULL));
    close(self_pipe[0]);
    close(self_pipe[1]);
    hs_destroy(&got_one);
    signal(SIGUSR1, SIG_DFL);
}

int main(void)
{
    /* Line-buffered, so that a run killed for hanging shows how far it
     * got. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    at_start();
    alarm(30);
    hs_init(&ran);
    round_trips();
    siginfo_handler();
    resethand();
    nodefer(0, "without SA_NODEFER");
    nodefer(SA_NODEFER, "SA_NODEFER");
    interrupt_flag();
    ignored();
    self_pipe_trick();
    return check_exit_status();
}
