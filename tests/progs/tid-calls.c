/* SPDX-License-Identifier: MIT */
/* tid-calls [SECTION | ids HOLD_FILE]: every thread has its own thread id,
 * and the calls that take one treat it as that thread.  Runs one SECTION
 * (ids, signals, sched, mutex, fork), or all of them in this order.
 *
 * ids: 50 threads, all alive at once, see gettid() and syscall(SYS_gettid)
 * agree, distinct from each other and from getpid(), and unchanged across
 * blocking calls; main's is getpid(). (With HOLD_FILE the 50 wait, once
 * "ids: 50 threads alive" is printed, until that file exists.)
 * signals: tgkill(), syscall(SYS_tgkill) and syscall(SYS_tkill) to a
 * thread blocked in read run the handler in that thread (pthread_self()
 * and gettid() in the handler are the target's); to itself before the
 * call returns; signal 0 checks existence; a bad signal gives EINVAL, a
 * tid or tgid of 0 EINVAL, a joined thread's tid, a bogus tid and another
 * process's pid ESRCH (once the kernel no longer knows the joined thread:
 * main waits for that, however long it takes).
 * sched: sched_setaffinity, sched_setscheduler, sched_setparam and
 * setpriority on another thread's tid change that thread's values (read
 * back by it and by others) and not main's, with the kernel's errors for
 * bad input; a thread created afterwards takes its creator's values
 * (SCHED_RESET_ON_FORK cleared).
 * mutex: a mutex's __owner is its owner's gettid().
 * fork: after fork, in main or in another thread, the child's gettid() is
 * its pid and it keeps the forking thread's values.
 *
 * Values used are ones an unprivileged process may set: SCHED_BATCH and
 * SCHED_OTHER, nice values only raised, one allowed CPU and then all.
 * Lines never print a tid or pid.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

#define NTHREADS 50

static const char *yes(int cond)
{
    return cond ? "yes" : "no";
}

/* ---- ids ------------------------------------------------------------ */

static pthread_barrier_t all_alive, done_checking;
static pid_t ids[NTHREADS];
static int stable[NTHREADS];

static void *id_main(void *arg)
{
    const int i = (int)(long)arg;
    const pid_t tid = gettid();
    CHECK_EQ(syscall(SYS_gettid), tid);
    ids[i] = tid;
    pthread_barrier_wait(&all_alive);
    usleep(1000);
    int p[2];
    char c;
    CHECK_OK(pipe(p));
    CHECK_EQ(write(p[1], "x", 1), 1);
    CHECK_EQ(read(p[0], &c, 1), 1);
    close(p[0]);
    close(p[1]);
    stable[i] = gettid() == tid && syscall(SYS_gettid) == tid;
    pthread_barrier_wait(&done_checking);
    return NULL;
}

static const char *hold_file;

static void ids_are_distinct(void)
{
    const char *const hold = hold_file;
    pthread_t th[NTHREADS];
    CHECK_EQ(gettid(), getpid());
    CHECK_EQ(syscall(SYS_gettid), getpid());
    printf("main: gettid() is getpid(): %s\n", yes(gettid() == getpid()));
    pthread_barrier_init(&all_alive, NULL, NTHREADS + 1);
    pthread_barrier_init(&done_checking, NULL, NTHREADS + 1);
    for (long i = 0; i < NTHREADS; i++) {
        CHECK_RC(pthread_create(&th[i], NULL, id_main, (void *)i));
    }
    pthread_barrier_wait(&all_alive);
    printf("ids: %d threads alive\n", NTHREADS);
    fflush(stdout);
    if (hold != NULL) {
        wait_for_file(hold, 30);
    }
    pthread_barrier_wait(&done_checking);
    int distinct = 1, not_pid = 1, all_stable = 1;
    for (int i = 0; i < NTHREADS; i++) {
        not_pid &= ids[i] != getpid() && ids[i] > 0;
        all_stable &= stable[i];
        for (int j = 0; j < i; j++) {
            distinct &= ids[i] != ids[j];
        }
        CHECK_RC(pthread_join(th[i], NULL));
    }
    printf("ids: distinct %s, none is the pid %s, stable across blocking "
           "calls %s\n", yes(distinct), yes(not_pid), yes(all_stable));
    CHECK(distinct && not_pid && all_stable);
    CHECK_EQ(gettid(), getpid());
}

/* ---- a worker that runs requests in its own thread ------------------- */

struct worker {
    pthread_t th;
    pid_t tid;
    int cmd[2], ack[2];
    void (*fn)(struct worker *);
    int policy, prio, nice, ncpu;   /* what it read of itself */
};

static void *worker_main(void *arg)
{
    struct worker *const w = arg;
    w->tid = gettid();
    CHECK_EQ(write(w->ack[1], "a", 1), 1);
    for (;;) {
        char c;
        const ssize_t r = read(w->cmd[0], &c, 1);
        if (r == -1 && errno == EINTR) {
            continue;
        }
        if (r != 1 || c == 'q') {
            break;
        }
        w->fn(w);
        CHECK_EQ(write(w->ack[1], "a", 1), 1);
    }
    return NULL;
}

static void wait_ack(struct worker *w)
{
    char c;
    ssize_t r;
    do {
        r = read(w->ack[0], &c, 1);
    } while (r == -1 && errno == EINTR);
    CHECK_EQ(r, 1);
}

static void start(struct worker *w)
{
    memset(w, 0, sizeof *w);
    CHECK_OK(pipe(w->cmd));
    CHECK_OK(pipe(w->ack));
    CHECK_RC(pthread_create(&w->th, NULL, worker_main, w));
    wait_ack(w);
}

/* Run fn in w's thread and wait until it is done. */
static void run_in(struct worker *w, void (*fn)(struct worker *))
{
    w->fn = fn;
    CHECK_EQ(write(w->cmd[1], "r", 1), 1);
    wait_ack(w);
}

static void stop(struct worker *w)
{
    CHECK_EQ(write(w->cmd[1], "q", 1), 1);
    CHECK_RC(pthread_join(w->th, NULL));
    close(w->cmd[0]);
    close(w->cmd[1]);
    close(w->ack[0]);
    close(w->ack[1]);
}

static void noop(struct worker *w)
{
    (void)w;
}

/* ---- signals -------------------------------------------------------- */

static volatile sig_atomic_t handled;
static pthread_t handler_self;
static pid_t handler_tid;

static void on_usr1(int sig)
{
    (void)sig;
    handler_self = pthread_self();
    handler_tid = gettid();
    handled++;
}

/* A joined thread's tid: gone once the kernel has reaped the thread,
 * which may come just after pthread_join returns (polled every
 * millisecond, 30000 times at most). */
static pid_t dead_tid(void)
{
    struct worker w;
    start(&w);
    const pid_t tid = w.tid;
    stop(&w);
    for (int i = 0; i < 30000 && syscall(SYS_tgkill, getpid(), tid, 0) == 0;
         i++) {
        usleep(1000);
    }
    return tid;
}

static void signals_reach_their_thread(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    CHECK_OK(sigaction(SIGUSR1, &sa, NULL));
    struct worker w;
    start(&w);
    static const char *const how[] = { "tgkill()", "syscall(SYS_tgkill)",
                                       "syscall(SYS_tkill)" };
    for (int k = 0; k < 3; k++) {
        handled = 0;
        const long r = k == 0 ? tgkill(getpid(), w.tid, SIGUSR1)
            : k == 1 ? syscall(SYS_tgkill, getpid(), w.tid, SIGUSR1)
                     : syscall(SYS_tkill, w.tid, SIGUSR1);
        CHECK_EQ(r, 0);
        run_in(&w, noop);           /* the handler ran before this */
        const int in_w = handled == 1 && pthread_equal(handler_self, w.th)
            && handler_tid == w.tid;
        printf("%s to a thread in read: handler ran there (pthread_self, "
               "gettid): %s\n", how[k], yes(in_w));
        CHECK(in_w);
    }
    handled = 0;
    CHECK_OK(tgkill(getpid(), gettid(), SIGUSR1));
    const int at_once = handled == 1 && handler_tid == gettid()
        && pthread_equal(handler_self, pthread_self());
    printf("tgkill() to itself: handler ran before it returned: %s\n",
           yes(at_once));
    CHECK(at_once);
    handled = 0;
    CHECK_OK(syscall(SYS_tkill, gettid(), SIGUSR1));
    printf("syscall(SYS_tkill) to itself: handler ran before it returned: "
           "%s\n", yes(handled == 1));

    const pid_t gone = dead_tid();
    REPORT("tgkill(thread, 0)", tgkill(getpid(), w.tid, 0));
    REPORT("syscall(SYS_tkill, thread, 0)", syscall(SYS_tkill, w.tid, 0));
    REPORT("tgkill(thread, 65)", tgkill(getpid(), w.tid, 65));
    REPORT("tgkill(thread, -1)", tgkill(getpid(), w.tid, -1));
    REPORT("syscall(SYS_tkill, thread, 65)", syscall(SYS_tkill, w.tid, 65));
    REPORT("tgkill(tid 0)", tgkill(getpid(), 0, 0));
    REPORT("tgkill(tgid 0, thread)", tgkill(0, w.tid, 0));
    REPORT("tgkill(other process, thread)", tgkill(getppid(), w.tid, 0));
    REPORT("tgkill(joined thread, SIGUSR1)", tgkill(getpid(), gone, SIGUSR1));
    REPORT("syscall(SYS_tkill, joined thread)", syscall(SYS_tkill, gone, 0));
    REPORT("tgkill(bogus tid)", tgkill(getpid(), INT_MAX, 0));
    REPORT("main: tgkill(getpid(), getpid(), 0)",
           tgkill(getpid(), getpid(), 0));
    stop(&w);
    sa.sa_handler = SIG_DFL;
    CHECK_OK(sigaction(SIGUSR1, &sa, NULL));
}

/* ---- scheduling values ---------------------------------------------- */

static int base_nice, base_ncpu, first_cpu;
static cpu_set_t base_set;

static void read_own(struct worker *w)
{
    cpu_set_t set;
    struct sched_param p;
    w->policy = sched_getscheduler(0);
    CHECK_OK(sched_getparam(0, &p));
    w->prio = p.sched_priority;
    errno = 0;
    w->nice = getpriority(PRIO_PROCESS, 0);
    CHECK_EQ(errno, 0);
    CHECK_OK(sched_getaffinity(0, sizeof set, &set));
    w->ncpu = CPU_COUNT(&set);
}

/* A thread the worker creates reports its values through these. */
static struct worker *child_of;
static void *child_main(void *arg)
{
    (void)arg;
    read_own(child_of);
    CHECK(gettid() != child_of->tid);
    return NULL;
}

static void create_child(struct worker *w)
{
    pthread_t t;
    child_of = w;
    CHECK_RC(pthread_create(&t, NULL, child_main, NULL));
    CHECK_RC(pthread_join(t, NULL));
}

static void report_own(const char *label, struct worker *w)
{
    const int policy = w->policy & ~SCHED_RESET_ON_FORK;
    printf("%s: policy %s%s, priority %d, nice base%+d, CPUs %s\n", label,
           policy == SCHED_BATCH ? "SCHED_BATCH"
           : policy == SCHED_OTHER ? "SCHED_OTHER" : "other",
           w->policy & SCHED_RESET_ON_FORK ? "|SCHED_RESET_ON_FORK" : "",
           w->prio, w->nice - base_nice,
           w->ncpu == 1 ? "one" : w->ncpu == base_ncpu ? "all" : "some");
}

static void report_main(void)
{
    struct worker m;
    read_own(&m);
    report_own("main", &m);
}

/* The values the process started with. */
static void read_base(void)
{
    errno = 0;
    base_nice = getpriority(PRIO_PROCESS, 0);
    CHECK_EQ(errno, 0);
    CHECK_OK(sched_getaffinity(0, sizeof base_set, &base_set));
    base_ncpu = CPU_COUNT(&base_set);
    while (!CPU_ISSET(first_cpu, &base_set)) {
        first_cpu++;
    }
}

static void sched_values_per_thread(void)
{
    const int nice1 = base_nice + 3 > 19 ? 19 : base_nice + 3;
    const int nice2 = nice1 + 2 > 19 ? 19 : nice1 + 2;

    struct worker w;
    start(&w);
    run_in(&w, read_own);
    report_own("W at start", &w);

    cpu_set_t one, set, none;
    CPU_ZERO(&one);
    CPU_SET(first_cpu, &one);
    CPU_ZERO(&none);
    REPORT("sched_setaffinity(W, one CPU)",
           sched_setaffinity(w.tid, sizeof one, &one));
    CHECK_OK(sched_getaffinity(w.tid, sizeof set, &set));
    printf("sched_getaffinity(W): the one CPU: %s\n",
           yes(CPU_EQUAL(&set, &one)));
    const long n = syscall(SYS_sched_getaffinity, w.tid, sizeof set, &set);
    printf("syscall(SYS_sched_getaffinity, W): as for main: %s, the one CPU: "
           "%s\n", yes(n == syscall(SYS_sched_getaffinity, 0, sizeof set,
                                     &none)),
           yes(CPU_EQUAL(&set, &one)));
    CPU_ZERO(&none);
    REPORT("sched_setaffinity(W, no CPU)",
           sched_setaffinity(w.tid, sizeof none, &none));
    REPORT("sched_getaffinity(W, size 0)", sched_getaffinity(w.tid, 0, &set));
    REPORT("sched_getaffinity(W, bad address)",
           sched_getaffinity(w.tid, sizeof set, bad_address));
    REPORT("sched_setaffinity(W, bad address)",
           sched_setaffinity(w.tid, sizeof set, bad_address));

    struct sched_param p = { .sched_priority = 0 };
    REPORT("sched_setscheduler(W, SCHED_BATCH|SCHED_RESET_ON_FORK)",
           sched_setscheduler(w.tid, SCHED_BATCH | SCHED_RESET_ON_FORK, &p));
    printf("sched_getscheduler(W) is SCHED_BATCH|SCHED_RESET_ON_FORK: %s\n",
           yes(sched_getscheduler(w.tid)
               == (SCHED_BATCH | SCHED_RESET_ON_FORK)));
    REPORT("sched_setparam(W, 0)", sched_setparam(w.tid, &p));
    REPORT("sched_getparam(W)", sched_getparam(w.tid, &p));
    printf("W's priority: %d\n", p.sched_priority);
    REPORT("sched_setscheduler(W, policy 99)",
           sched_setscheduler(w.tid, 99, &p));
    REPORT("sched_setscheduler(W, -1)", sched_setscheduler(w.tid, -1, &p));
    p.sched_priority = 5;
    REPORT("sched_setscheduler(W, SCHED_OTHER, priority 5)",
           sched_setscheduler(w.tid, SCHED_OTHER, &p));
    REPORT("sched_setparam(W, priority 5)", sched_setparam(w.tid, &p));
    REPORT("sched_setscheduler(W, SCHED_BATCH, NULL)",
           sched_setscheduler(w.tid, SCHED_BATCH, NULL));
    REPORT("sched_setscheduler(W, SCHED_BATCH, bad address)",
           sched_setscheduler(w.tid, SCHED_BATCH, bad_address));
    REPORT("sched_getparam(W, NULL)", sched_getparam(w.tid, NULL));
    REPORT("sched_getparam(W, bad address)",
           sched_getparam(w.tid, bad_address));

    REPORT("setpriority(W, base+3)", setpriority(PRIO_PROCESS, w.tid, nice1));
    errno = 0;
    printf("getpriority(W): base%+d\n",
           getpriority(PRIO_PROCESS, w.tid) - base_nice);
    CHECK_EQ(errno, 0);
    printf("syscall(SYS_getpriority, W): 20 - nice: %s\n",
           yes(syscall(SYS_getpriority, PRIO_PROCESS, w.tid) == 20 - nice1));
    REPORT("getpriority(which 99)", getpriority(99, w.tid));

    run_in(&w, read_own);
    report_own("W, read by W", &w);
    report_main();
    run_in(&w, create_child);
    report_own("a thread W creates", &w);

    REPORT("setpriority(W, base+5)", setpriority(PRIO_PROCESS, w.tid, nice2));
    REPORT("sched_setaffinity(W, all CPUs)",
           sched_setaffinity(w.tid, sizeof base_set, &base_set));
    p.sched_priority = 0;
    REPORT("sched_setscheduler(W, SCHED_OTHER|SCHED_RESET_ON_FORK)",
           sched_setscheduler(w.tid, SCHED_OTHER | SCHED_RESET_ON_FORK, &p));
    run_in(&w, read_own);
    report_own("W, read by W", &w);

    const pid_t gone = dead_tid();
    REPORT("sched_getaffinity(joined thread)",
           sched_getaffinity(gone, sizeof set, &set));
    REPORT("sched_setaffinity(joined thread)",
           sched_setaffinity(gone, sizeof one, &one));
    REPORT("sched_getscheduler(joined thread)", sched_getscheduler(gone));
    REPORT("sched_setparam(joined thread)", sched_setparam(gone, &p));
    REPORT("getpriority(joined thread)", getpriority(PRIO_PROCESS, gone));
    REPORT("setpriority(joined thread)",
           setpriority(PRIO_PROCESS, gone, nice2));
    REPORT("sched_getscheduler(-1)", sched_getscheduler(-1));
    stop(&w);
    report_main();
}

/* ---- mutex owner ---------------------------------------------------- */

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t em;

static void lock_m(struct worker *w)
{
    CHECK_RC(pthread_mutex_lock(&m));
    CHECK_RC(pthread_mutex_lock(&em));
    CHECK_EQ(m.__data.__owner, gettid());
    CHECK_EQ(em.__data.__owner, w->tid);
}

static void unlock_m(struct worker *w)
{
    (void)w;
    CHECK_RC(pthread_mutex_unlock(&em));
    CHECK_RC(pthread_mutex_unlock(&m));
}

static void mutex_owner_is_the_tid(void)
{
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK);
    pthread_mutex_init(&em, &a);
    CHECK_RC(pthread_mutex_lock(&m));
    printf("main holds a mutex: __owner is its gettid(): %s\n",
           yes(m.__data.__owner == gettid()));
    CHECK_RC(pthread_mutex_unlock(&m));
    struct worker w;
    start(&w);
    run_in(&w, lock_m);
    printf("W holds a mutex and an error-checking one: __owner is W's "
           "gettid(): %s, %s\n", yes(m.__data.__owner == w.tid),
           yes(em.__data.__owner == w.tid));
    EXPECT_RC(EPERM, pthread_mutex_unlock(&em), "main unlocks W's "
              "error-checking mutex");
    run_in(&w, unlock_m);
    stop(&w);
}

/* ---- fork ----------------------------------------------------------- */

static void *fork_child_thread(void *arg)
{
    (void)arg;
    CHECK(gettid() != getpid());
    CHECK_RC(pthread_mutex_lock(&m));
    CHECK_EQ(m.__data.__owner, gettid());
    CHECK_RC(pthread_mutex_unlock(&m));
    return NULL;
}

/* Fork; the child checks its ids and values (W's, when W forks) and
 * reports through its exit status. */
static int fork_and_check(int want_nice)
{
    const pid_t pid = fork();
    if (pid == 0) {
        CHECK_EQ(gettid(), getpid());
        CHECK_EQ(syscall(SYS_gettid), getpid());
        CHECK_EQ(tgkill(getpid(), gettid(), 0), 0);
        CHECK_RC(pthread_mutex_lock(&m));
        CHECK_EQ(m.__data.__owner, getpid());
        CHECK_RC(pthread_mutex_unlock(&m));
        errno = 0;
        CHECK_EQ(getpriority(PRIO_PROCESS, 0), want_nice);
        CHECK_EQ(getpriority(PRIO_PROCESS, getpid()), want_nice);
        CHECK_EQ(sched_getscheduler(0), SCHED_OTHER);
        pthread_t t;
        CHECK_RC(pthread_create(&t, NULL, fork_child_thread, NULL));
        CHECK_RC(pthread_join(t, NULL));
        CHECK_EQ(gettid(), getpid());
        fflush(stderr);
        _exit(check_exit_status());
    }
    int st = -1;
    CHECK_EQ(waitpid(pid, &st, 0), pid);
    return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static int forked_ok;

static void fork_in_worker(struct worker *w)
{
    CHECK_OK(setpriority(PRIO_PROCESS, 0, w->nice));
    struct sched_param p = { .sched_priority = 0 };
    CHECK_OK(sched_setscheduler(0, SCHED_OTHER | SCHED_RESET_ON_FORK, &p));
    forked_ok = fork_and_check(w->nice);
}

static void fork_gives_the_pid(void)
{
    printf("fork from main: child's gettid() is its pid: %s\n",
           yes(fork_and_check(base_nice)));
    struct worker w;
    start(&w);
    w.nice = base_nice + 4 > 19 ? 19 : base_nice + 4;
    run_in(&w, fork_in_worker);
    printf("fork from W: child's gettid() is its pid, it keeps W's nice "
           "value: %s\n", yes(forked_ok));
    stop(&w);
}

static const struct section sections[] = {
    { "ids", ids_are_distinct },
    { "signals", signals_reach_their_thread },
    { "sched", sched_values_per_thread },
    { "mutex", mutex_owner_is_the_tid },
    { "fork", fork_gives_the_pid },
};

int main(int argc, char **argv)
{
    if (argc > 3 || (argc == 3 && strcmp(argv[1], "ids") != 0)) {
        fprintf(stderr, "usage: %s [SECTION | ids HOLD_FILE]\n", argv[0]);
        return 2;
    }
    hold_file = argc == 3 ? argv[2] : NULL;
    setvbuf(stdout, NULL, _IOLBF, 0);
    read_base();
    return RUN_SECTIONS(argc, argv, sections, NULL);
}
