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
 * SIGALRM from setitimer interrupts a nanosleep in main, which reports
 * the time left in rem.
 *
 * The handlers are installed without SA_RESTART; each posts to a
 * handshake (handshake.h) once it ran.  No step depends on timing: every
 * signal is sent once the threads it may interrupt said they are about
 * to block and sleep in their calls (wait_blocked), a thread it must
 * interrupt is joined (a lost signal is a hang, which the test's timeout
 * turns into a failure), and threads it must not interrupt are released
 * by writing their pipes only after the handler ran.  Transcript lines
 * name threads by role (main, W, X, sender).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "handshake.h"

static volatile sig_atomic_t handled;
static pthread_t handler_thread;
static struct handshake handler_ran;    /* posted by each handler run */

static void on_signal(int sig)
{
    (void)sig;
    handled++;
    handler_thread = pthread_self();
    hs_post(&handler_ran);
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
    int sleeps;     /* call sleep(1000) instead of read */
    long r;         /* the call's result */
    int e;          /* and its errno */
    pid_t tid;      /* its gettid() */
    struct handshake ready;     /* posted just before the call */
};

static void *worker_main(void *arg)
{
    struct worker *const w = arg;
    char c;

    if (w->unblock != 0) {
        set_mask(SIG_UNBLOCK, w->unblock);
    }
    w->tid = gettid();
    hs_post(&w->ready);
    errno = 0;
    const long r = w->sleeps ? (long)sleep(1000)
                             : (long)read(w->p[0], &c, 1);
    w->e = errno;
    STORE(&w->r, r);
    return NULL;
}

/* Start `w` and return once it sleeps in its call. */
static void start_sleeper(struct worker *w, const char *name, int unblock,
                          int sleeps)
{
    memset(w, 0, sizeof *w);
    w->name = name;
    w->unblock = unblock;
    w->sleeps = sleeps;
    CHECK_OK(pipe(w->p));
    hs_init(&w->ready);
    CHECK_RC(pthread_create(&w->t, NULL, worker_main, w));
    hs_wait(&w->ready);
    wait_blocked(w->tid);
}

static void start(struct worker *w, const char *name, int unblock)
{
    start_sleeper(w, name, unblock, 0);
}

/* Join `w`, print its result ("NAME read: R ERRNO") and free it. */
static void reap(struct worker *w)
{
    CHECK_RC(pthread_join(w->t, NULL));
    printf("%s %s: %ld %s\n", w->name, w->sleeps ? "sleep(1000)" : "read",
           w->r, errno_name(w->r == -1 ? w->e : 0));
    close(w->p[0]);
    close(w->p[1]);
    hs_destroy(&w->ready);
}

/* Release `w`, which still waits in read (write its pipe), and reap it. */
static void finish(struct worker *w)
{
    CHECK_EQ(write(w->p[1], "x", 1), 1);
    reap(w);
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
    CHECK_RC(pthread_kill(ws[0].t, SIGUSR1));
    hs_wait(&handler_ran);
    report_handler("pthread_kill(W) while W and X read", "W",
                   pthread_self(), ws, 2);
    reap(&ws[0]);
    finish(&ws[1]);
    CHECK_EQ(ws[0].r, -1);
    CHECK_EQ(ws[0].e, EINTR);
    CHECK_EQ(ws[1].r, 1);
}

/* pthread_kill to a thread in sleep(1000): sleep returns the whole
 * seconds left, rounded down: no fewer than 1000 less the time main
 * measured around it, and no more than 1000 (the kernel's nanosleep
 * counts the thread's timer slack, 50 us by default, as time left too:
 * prctl(2) PR_SET_TIMERSLACK). */
static void pthread_kill_sleeper(void)
{
    struct worker w;

    install(SIGUSR1);
    handled = 0;
    const long long t0 = now_ns(CLOCK_MONOTONIC);
    start_sleeper(&w, "W", 0, 1);
    CHECK_RC(pthread_kill(w.t, SIGUSR1));
    hs_wait(&handler_ran);
    CHECK_RC(pthread_join(w.t, NULL));
    const long long passed = now_ns(CLOCK_MONOTONIC) - t0;
    report_handler("pthread_kill(W) while W sleeps", "W", pthread_self(),
                   &w, 1);
    const long lo = 1000 - (long)((passed + 999999999) / 1000000000);
    const int left_ok = w.r >= lo && w.r <= 1000;
    printf("W sleep(1000): the whole seconds left (no fewer than 1000 "
           "less the time that passed): %s, errno %s\n",
           left_ok ? "yes" : "no", errno_name(w.e));
    if (!left_ok) {
        check_fail(__FILE__, __LINE__, 0, "sleep(1000) returned %ld after "
                   "%lld ms", w.r, passed / 1000000);
    }
    close(w.p[0]);
    close(w.p[1]);
    hs_destroy(&w.ready);
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
    CHECK_OK(kill(getpid(), SIGUSR1));
    hs_wait(&handler_ran);
    report_handler("kill(getpid()) with only W unblocking SIGUSR1", "W",
                   pthread_self(), ws, 2);
    reap(&ws[0]);
    finish(&ws[1]);
    CHECK_EQ(ws[0].r, -1);
    CHECK_EQ(ws[0].e, EINTR);
    CHECK_EQ(ws[1].r, 1);
    set_mask(SIG_UNBLOCK, SIGUSR1);
}

/* main and W both unblock SIGUSR1 and block in read; a sender thread
 * that blocks it sends kill(getpid()) once main sleeps in its read: main
 * takes it.  Then the sender writes main's pipe (which releases main if
 * the handler ran elsewhere). */
static struct worker main_as_worker;

static void *sender(void *arg)
{
    (void)arg;
    set_mask(SIG_BLOCK, SIGUSR1);
    hs_wait(&main_as_worker.ready);
    wait_blocked(main_as_worker.tid);
    CHECK_OK(kill(getpid(), SIGUSR1));
    hs_wait(&handler_ran);
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
    hs_init(&main_as_worker.ready);
    main_as_worker.tid = gettid();
    CHECK_RC(pthread_create(&s, NULL, sender, NULL));
    hs_post(&main_as_worker.ready);
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
    hs_destroy(&main_as_worker.ready);
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

static struct partner partner;   /* blocks every signal */

static void *unblock_later(void *arg)
{
    struct worker *const w = arg;
    char c;

    w->tid = gettid();
    hs_post(&w->ready);
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
    hs_init(&w.ready);
    CHECK_RC(pthread_create(&w.t, NULL, unblock_later, &w));
    hs_wait(&w.ready);
    wait_blocked(w.tid);
    CHECK_OK(kill(getpid(), SIGUSR1));
    /* Other threads run (the partner answers main), and still nobody
     * takes the signal. */
    partner_rounds(&partner, 3);
    printf("all threads block SIGUSR1, kill(getpid()): handler ran %d, "
           "pending in main %d\n", (int)handled, usr1_pending());
    CHECK_EQ(handled, 0);
    CHECK_EQ(usr1_pending(), 1);
    CHECK_EQ(write(go[1], "g", 1), 1);
    CHECK_RC(pthread_join(w.t, NULL));
    if (handled > 0) {
        hs_wait(&handler_ran);
    }
    hs_destroy(&w.ready);
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
    start(&ws[0], "W", SIGALRM);
    start(&ws[1], "X", 0);
    CHECK_EQ(alarm(1), 0);
    hs_wait(&handler_ran);
    report_handler("alarm(1) with only W unblocking SIGALRM", "W",
                   pthread_self(), ws, 2);
    reap(&ws[0]);
    CHECK_EQ(ws[0].r, -1);
    CHECK_EQ(ws[0].e, EINTR);
    finish(&ws[1]);
    CHECK_EQ(ws[1].r, 1);
    set_mask(SIG_UNBLOCK, SIGALRM);
}

/* A SIGALRM of setitimer's (the timer alarm uses) interrupts main's
 * nanosleep(1000 s), while another thread is blocked in read; rem is
 * 1000 s less the time slept, which is no more than the time that passed
 * around the call.  The timer (1 ms) is armed, once main sleeps, by a
 * thread that blocks SIGALRM. */
static struct handshake main_sleeps;
static pid_t main_tid;

static void *arm_timer(void *arg)
{
    const struct itimerval soon = { .it_value = { 0, 1000 } };

    (void)arg;
    set_mask(SIG_BLOCK, SIGALRM);
    hs_wait(&main_sleeps);
    wait_blocked(main_tid);
    CHECK_OK(setitimer(ITIMER_REAL, &soon, NULL));
    return NULL;
}

static void alarm_interrupts_nanosleep(void)
{
    struct worker w;
    const struct timespec thousand = { 1000, 0 };
    struct timespec rem = { 7, 7 };
    pthread_t armer;

    install(SIGALRM);
    handled = 0;
    start(&w, "W", 0);
    hs_init(&main_sleeps);
    main_tid = gettid();
    CHECK_RC(pthread_create(&armer, NULL, arm_timer, NULL));
    const long long t0 = now_ns(CLOCK_MONOTONIC);
    hs_post(&main_sleeps);
    errno = 0;
    const int r = nanosleep(&thousand, &rem);
    const int e = errno;
    const long long passed = now_ns(CLOCK_MONOTONIC) - t0;
    hs_wait(&handler_ran);
    CHECK_RC(pthread_join(armer, NULL));
    hs_destroy(&main_sleeps);
    report_handler("setitimer's SIGALRM while main sleeps", "main",
                   pthread_self(), &w, 1);
    const long long slept = 1000000000000LL - rem.tv_sec * 1000000000LL
                            - rem.tv_nsec;
    const int rem_ok = r == -1 && slept >= 0 && slept <= passed;
    printf("nanosleep(1000 s): %d %s, rem is 1000 s less at most the time "
           "that passed: %s\n", r, errno_name(r == -1 ? e : 0),
           rem_ok ? "yes" : "no");
    CHECK_EQ(r, -1);
    CHECK_EQ(e, EINTR);
    if (!rem_ok) {
        check_fail(__FILE__, __LINE__, 0, "slept %lld ns of 1000 s in "
                   "%lld ns", slept, passed);
    }
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
    hs_init(&handler_ran);
    partner_start(&partner);
    pthread_kill_results();
    pthread_kill_reader();
    pthread_kill_sleeper();
    kill_goes_to_the_unblocked_thread();
    kill_prefers_main();
    pending_until_unblocked();
    alarm_interrupts_read();
    alarm_interrupts_nanosleep();
    partner_stop(&partner);
    hs_destroy(&handler_ran);
    return check_exit_status();
}
