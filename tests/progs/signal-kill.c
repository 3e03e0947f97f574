/* SPDX-License-Identifier: MIT */
/* signal-kill: which thread a signal interrupts.
 *
 * pthread_kill to a thread blocked in read or sleep runs the handler in
 * that thread (pthread_self() in the handler is the target) and
 * interrupts only that thread's call.  A process-directed signal
 * (kill(getpid()), alarm) goes to the main thread when main does not
 * block it, else to the one thread whose pthread_sigmask leaves it
 * unblocked; when every thread blocks it, it stays pending (sigpending
 * shows it in every thread) until a thread unblocks it, and then the
 * handler runs in that thread before pthread_sigmask returns.  alarm(1)
 * interrupts a blocked read in the one thread that accepts SIGALRM, and a
 * nanosleep(2 s) in main with about 1 s left in rem.
 *
 * The handlers are installed without SA_RESTART.  Every signal is sent
 * 100 ms after the threads it may interrupt were started, and threads it
 * must not interrupt are released afterwards by writing their pipes.
 * Transcript lines name threads by role (main, W, X, sender); timing is
 * printed only as bounded yes/no lines.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

enum { DELAY_US = 100000 };

static volatile sig_atomic_t handled;
static pthread_t handler_thread;

static void on_signal(int sig)
{
    (void)sig;
    handled++;
    handler_thread = pthread_self();
}

static void install(int sig)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    CHECK_OK(sigaction(sig, &sa, NULL));
}

static void set_mask(int how, int sig)
{
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, sig);
    CHECK_RC(pthread_sigmask(how, &set, NULL));
}

/* A thread blocked in read on its own pipe (or in sleep), with `sig`
 * unblocked in it when `unblock` is set. */
struct worker {
    const char *name;
    pthread_t t;
    int p[2];
    int unblock;    /* signal to unblock on start, 0 for none */
    int sleeps;     /* call sleep(2) instead of read */
    long r;         /* the call's result */
    int e;          /* and its errno */
};

static void *worker_main(void *arg)
{
    struct worker *const w = arg;
    char c;

    if (w->unblock != 0) {
        set_mask(SIG_UNBLOCK, w->unblock);
    }
    errno = 0;
    const long r = w->sleeps ? (long)sleep(2) : (long)read(w->p[0], &c, 1);
    w->e = errno;
    STORE(&w->r, r);
    return NULL;
}

static void start(struct worker *w, const char *name, int unblock)
{
    memset(w, 0, sizeof *w);
    w->name = name;
    w->unblock = unblock;
    CHECK_OK(pipe(w->p));
    CHECK_RC(pthread_create(&w->t, NULL, worker_main, w));
}

/* Release `w` if it still waits (write its pipe), join it and print its
 * result: "NAME read: R ERRNO". */
static void finish(struct worker *w)
{
    CHECK_EQ(write(w->p[1], "x", 1), 1);
    CHECK_RC(pthread_join(w->t, NULL));
    printf("%s %s: %ld %s\n", w->name, w->sleeps ? "sleep(2)" : "read",
           w->r, errno_name(w->r == -1 ? w->e : 0));
    close(w->p[0]);
    close(w->p[1]);
}

/* The role of the thread that ran the last handler. */
static const char *who(pthread_t main_t, struct worker *ws, int n)
{
    if (handled == 0) {
        return "nobody";
    }
    if (pthread_equal(handler_thread, main_t)) {
        return "main";
    }
    for (int i = 0; i < n; i++) {
        if (pthread_equal(handler_thread, ws[i].t)) {
            return ws[i].name;
        }
    }
    return "another thread";
}

static void report_handler(const char *label, const char *expected,
                           pthread_t main_t, struct worker *ws, int n)
{
    const char *const ran_in = who(main_t, ws, n);

    printf("%s: handler ran %d time(s), in %s\n", label, (int)handled,
           ran_in);
    fflush(stdout);
    CHECK_EQ(handled, 1);
    if (strcmp(ran_in, expected) != 0) {
        check_fail(__FILE__, __LINE__, 0, "%s: handler ran in %s, not %s",
                   label, ran_in, expected);
    }
}

/* pthread_kill to one of two threads blocked in read. */
static void pthread_kill_reader(void)
{
    struct worker ws[2];

    install(SIGUSR1);
    handled = 0;
    start(&ws[0], "W", 0);
    start(&ws[1], "X", 0);
    usleep(DELAY_US);
    CHECK_RC(pthread_kill(ws[0].t, SIGUSR1));
    usleep(DELAY_US);
    report_handler("pthread_kill(W) while W and X read", "W",
                   pthread_self(), ws, 2);
    finish(&ws[0]);
    finish(&ws[1]);
    CHECK_EQ(ws[0].r, -1);
    CHECK_EQ(ws[0].e, EINTR);
    CHECK_EQ(ws[1].r, 1);
}

/* pthread_kill to a thread in sleep(2): sleep returns the whole seconds
 * left (1). */
static void pthread_kill_sleeper(void)
{
    struct worker w;

    install(SIGUSR1);
    handled = 0;
    memset(&w, 0, sizeof w);
    w.name = "W";
    w.sleeps = 1;
    CHECK_OK(pipe(w.p));
    const long long t0 = now_ns(CLOCK_MONOTONIC);
    CHECK_RC(pthread_create(&w.t, NULL, worker_main, &w));
    usleep(DELAY_US);
    CHECK_RC(pthread_kill(w.t, SIGUSR1));
    CHECK_RC(pthread_join(w.t, NULL));
    const long long ms = (now_ns(CLOCK_MONOTONIC) - t0) / 1000000;
    report_handler("pthread_kill(W) while W sleeps", "W", pthread_self(),
                   &w, 1);
    printf("W sleep(2): %ld, errno %s, returned within 1 s: %s\n", w.r,
           errno_name(w.e), ms < 1000 ? "yes" : "no");
    CHECK_EQ(w.r, 1);
    CHECK(ms < 1000);
    close(w.p[0]);
    close(w.p[1]);
}

/* main blocks SIGUSR1 and keeps running; W unblocks it, X does not. */
static void kill_goes_to_the_unblocked_thread(void)
{
    struct worker ws[2];

    install(SIGUSR1);
    handled = 0;
    set_mask(SIG_BLOCK, SIGUSR1);
    start(&ws[0], "W", SIGUSR1);
    start(&ws[1], "X", 0);
    usleep(DELAY_US);
    CHECK_OK(kill(getpid(), SIGUSR1));
    usleep(DELAY_US);
    report_handler("kill(getpid()) with only W unblocking SIGUSR1", "W",
                   pthread_self(), ws, 2);
    finish(&ws[0]);
    finish(&ws[1]);
    CHECK_EQ(ws[0].r, -1);
    CHECK_EQ(ws[0].e, EINTR);
    CHECK_EQ(ws[1].r, 1);
    set_mask(SIG_UNBLOCK, SIGUSR1);
}

/* main and W both unblock SIGUSR1 and block in read; a sender thread
 * that blocks it sends kill(getpid()): main takes it. */
static struct worker main_as_worker;

static void *sender(void *arg)
{
    (void)arg;
    set_mask(SIG_BLOCK, SIGUSR1);
    usleep(DELAY_US);
    CHECK_OK(kill(getpid(), SIGUSR1));
    usleep(DELAY_US);
    CHECK_EQ(write(main_as_worker.p[1], "x", 1), 1);
    return NULL;
}

static void kill_prefers_main(void)
{
    struct worker ws[2];
    pthread_t s;
    char c;

    install(SIGUSR1);
    handled = 0;
    start(&ws[0], "W", 0);
    CHECK_OK(pipe(main_as_worker.p));
    CHECK_RC(pthread_create(&s, NULL, sender, NULL));
    errno = 0;
    const long r = read(main_as_worker.p[0], &c, 1);
    const int e = errno;
    ws[1].t = s;
    ws[1].name = "sender";
    report_handler("kill(getpid()) while main and W read", "main",
                   pthread_self(), ws, 2);
    printf("main read: %ld %s\n", r, errno_name(r == -1 ? e : 0));
    CHECK_EQ(r, -1);
    CHECK_EQ(e, EINTR);
    CHECK_RC(pthread_join(s, NULL));
    finish(&ws[0]);
    CHECK_EQ(ws[0].r, 1);
    close(main_as_worker.p[0]);
    close(main_as_worker.p[1]);
}

/* Every thread blocks SIGUSR1: the signal stays pending until W unblocks
 * it, and the handler has run in W when pthread_sigmask returns. */
static int go[2];
static volatile sig_atomic_t handled_at_unblock;
static int pending_in_w;
static int pending_in_w_after;

static int usr1_pending(void)
{
    sigset_t set;

    sigemptyset(&set);
    CHECK_OK(sigpending(&set));
    return sigismember(&set, SIGUSR1);
}

static void *unblock_later(void *arg)
{
    char c;

    (void)arg;
    CHECK_EQ(read(go[0], &c, 1), 1);
    pending_in_w = usr1_pending();
    set_mask(SIG_UNBLOCK, SIGUSR1);
    handled_at_unblock = handled;
    pending_in_w_after = usr1_pending();
    return NULL;
}

static void pending_until_unblocked(void)
{
    struct worker w;

    install(SIGUSR1);
    handled = 0;
    set_mask(SIG_BLOCK, SIGUSR1);
    CHECK_OK(pipe(go));
    memset(&w, 0, sizeof w);
    w.name = "W";
    CHECK_RC(pthread_create(&w.t, NULL, unblock_later, NULL));
    usleep(DELAY_US);
    CHECK_OK(kill(getpid(), SIGUSR1));
    usleep(DELAY_US);
    printf("all threads block SIGUSR1, kill(getpid()): handler ran %d, "
           "pending in main %d\n", (int)handled, usr1_pending());
    CHECK_EQ(handled, 0);
    CHECK_EQ(usr1_pending(), 1);
    CHECK_EQ(write(go[1], "g", 1), 1);
    CHECK_RC(pthread_join(w.t, NULL));
    printf("pending in W before it unblocks: %d\n", pending_in_w);
    printf("handler had run when W's pthread_sigmask returned: %d\n",
           (int)handled_at_unblock);
    printf("pending in W after: %d, in main after: %d\n",
           pending_in_w_after, usr1_pending());
    report_handler("W unblocked SIGUSR1", "W", pthread_self(), &w, 1);
    CHECK_EQ(pending_in_w, 1);
    CHECK_EQ(handled_at_unblock, 1);
    CHECK_EQ(pending_in_w_after, 0);
    CHECK_EQ(usr1_pending(), 0);
    close(go[0]);
    close(go[1]);
    set_mask(SIG_UNBLOCK, SIGUSR1);
}

/* alarm(1): interrupts the read of the one thread accepting SIGALRM. */
static void alarm_interrupts_read(void)
{
    struct worker ws[2];

    install(SIGALRM);
    handled = 0;
    set_mask(SIG_BLOCK, SIGALRM);
    const long long t0 = now_ns(CLOCK_MONOTONIC);
    start(&ws[0], "W", SIGALRM);
    start(&ws[1], "X", 0);
    usleep(DELAY_US);
    CHECK_EQ(alarm(1), 0);
    /* W's read should end at about 1 s; give up waiting at 2.5 s, when
     * finish() releases it (a missed signal then shows as "W read: 1"). */
    for (int i = 0; i < 250 && LOAD(&ws[0].r) == 0; i++) {
        usleep(10000);
    }
    const long long ms = (now_ns(CLOCK_MONOTONIC) - t0) / 1000000;
    printf("W's read ended between 0.9 and 2 s: %s\n",
           ms >= 900 && ms < 2000 ? "yes" : "no");
    CHECK(ms >= 900 && ms < 2000);
    report_handler("alarm(1) with only W unblocking SIGALRM", "W",
                   pthread_self(), ws, 2);
    finish(&ws[0]);
    CHECK_EQ(ws[0].r, -1);
    CHECK_EQ(ws[0].e, EINTR);
    finish(&ws[1]);
    CHECK_EQ(ws[1].r, 1);
    set_mask(SIG_UNBLOCK, SIGALRM);
}

/* alarm(1) interrupts main's nanosleep(2 s) with about 1 s left, while
 * another thread is blocked in read. */
static void alarm_interrupts_nanosleep(void)
{
    struct worker w;
    const struct timespec two = { 2, 0 };
    struct timespec rem = { 7, 7 };

    install(SIGALRM);
    handled = 0;
    start(&w, "W", 0);
    CHECK_EQ(alarm(1), 0);
    errno = 0;
    const int r = nanosleep(&two, &rem);
    const int e = errno;
    report_handler("alarm(1) while main sleeps", "main", pthread_self(),
                   &w, 1);
    const long long ms = rem.tv_sec * 1000LL + rem.tv_nsec / 1000000;
    printf("nanosleep(2 s): %d %s, rem between 0.9 and 1.1 s: %s\n", r,
           errno_name(r == -1 ? e : 0), ms >= 900 && ms <= 1100 ? "yes"
                                                                : "no");
    CHECK_EQ(r, -1);
    CHECK_EQ(e, EINTR);
    CHECK(ms >= 900 && ms <= 1100);
    finish(&w);
    CHECK_EQ(w.r, 1);

    CHECK_EQ(alarm(10), 0);
    const unsigned left = alarm(0);
    printf("alarm(0) after alarm(10) returns %u\n", left);
    CHECK_EQ(left, 10);
}

static void pthread_kill_results(void)
{
    struct worker w;

    start(&w, "W", 0);
    EXPECT_RC(0, pthread_kill(w.t, 0), "pthread_kill(W, 0)");
    EXPECT_RC(EINVAL, pthread_kill(w.t, 12345), "pthread_kill(W, 12345)");
    EXPECT_RC(EINVAL, pthread_kill(w.t, -1), "pthread_kill(W, -1)");
    finish(&w);
}

int main(void)
{
    /* Line-buffered, so that a run killed for hanging shows how far it
     * got. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    pthread_kill_results();
    pthread_kill_reader();
    pthread_kill_sleeper();
    kill_goes_to_the_unblocked_thread();
    kill_prefers_main();
    pending_until_unblocked();
    alarm_interrupts_read();
    alarm_interrupts_nanosleep();
    return check_exit_status();
}
