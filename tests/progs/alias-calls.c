/* SPDX-License-Identifier: MIT */
/* alias-calls: the other names of calls libgreen wraps, each used while
 * other threads exist: signal()'s aliases (bsd_signal, ssignal,
 * sysv_signal, __sysv_signal) and __sigaction, sigprocmask in a thread,
 * pthread_sigqueue to a thread in sigwaitinfo, wait3 and wait4 for a
 * child that exits only when a thread of the parent, which makes 3 round
 * trips with another one first, tells it to (so other threads ran while
 * main waited), dup3 over an fd a thread is blocked reading, freopen64,
 * popen/pclose, closedir and fcloseall. One transcript line per check.
 * Threads meet by handshakes (handshake.h), never by sleeping.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "check.h"
#include "handshake.h"

/* Older names glibc still exports; not every header declares them. */
extern __sighandler_t bsd_signal(int, __sighandler_t);
extern __sighandler_t __sysv_signal(int, __sighandler_t);
extern int __sigaction(int, const struct sigaction *, struct sigaction *);

static volatile sig_atomic_t hits;
static pthread_t handler_thread;

static void on_signal(int sig)
{
    (void)sig;
    hits++;
    handler_thread = pthread_self();
}

/* Install with `install`, then show what sigaction reports. */
static void alias_case(const char *name, __sighandler_t (*install)(int,
                                                                   __sighandler_t))
{
    CHECK(install(SIGUSR1, on_signal) != SIG_ERR);
    struct sigaction now;
    CHECK_OK(sigaction(SIGUSR1, NULL, &now));
    printf("%s: handler ours %d, flags %#x, SIGUSR1 in sa_mask %d\n", name,
           now.sa_handler == on_signal, (unsigned)now.sa_flags,
           sigismember(&now.sa_mask, SIGUSR1));
    hits = 0;
    raise(SIGUSR1);
    CHECK_OK(sigaction(SIGUSR1, NULL, &now));
    printf("%s: raise ran it %d time(s), handler after %s\n", name,
           (int)hits, now.sa_handler == on_signal ? "ours"
                      : now.sa_handler == SIG_DFL ? "SIG_DFL" : "other");
    CHECK(install(SIGUSR1, SIG_DFL) != SIG_ERR);
}

static void signal_aliases(void)
{
    alias_case("bsd_signal", bsd_signal);
    alias_case("ssignal", ssignal);
    alias_case("sysv_signal", sysv_signal);
    alias_case("__sysv_signal", __sysv_signal);
    struct sigaction sa = { .sa_handler = on_signal }, old;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    CHECK_OK(__sigaction(SIGUSR2, &sa, NULL));
    CHECK_OK(__sigaction(SIGUSR2, NULL, &old));
    printf("__sigaction: handler ours %d, SA_RESTART %d\n",
           old.sa_handler == on_signal, !!(old.sa_flags & SA_RESTART));
    errno = 0;
    const int bad = __sigaction(0, &sa, NULL);
    printf("__sigaction(0): %d %s\n", bad, errno_name(errno));
}

/* ---- sigprocmask in a thread, pthread_sigqueue -------------------- */

static struct handshake masked, go;

static void *masker(void *arg)
{
    (void)arg;
    sigset_t usr2, pending;
    sigemptyset(&usr2);
    sigaddset(&usr2, SIGUSR2);
    CHECK_OK(sigprocmask(SIG_BLOCK, &usr2, NULL));
    hs_post(&masked);
    hs_wait(&go);
    CHECK_OK(sigpending(&pending));
    printf("masker: SIGUSR2 pending here %d, handler ran %d\n",
           sigismember(&pending, SIGUSR2), (int)hits);
    CHECK_OK(sigprocmask(SIG_UNBLOCK, &usr2, NULL));
    printf("masker: after SIG_UNBLOCK the handler ran %d time(s), here %d\n",
           (int)hits, pthread_equal(handler_thread, pthread_self()));
    return NULL;
}

static struct handshake waiting;
static pid_t waiter_tid;

static void *queued(void *arg)
{
    (void)arg;
    sigset_t rt;
    sigemptyset(&rt);
    sigaddset(&rt, SIGRTMIN);
    siginfo_t si;
    waiter_tid = gettid();
    hs_post(&waiting);
    const int sig = sigwaitinfo(&rt, &si);
    printf("sigwaitinfo: SIGRTMIN %d, SI_QUEUE %d, value %d\n",
           sig == SIGRTMIN, si.si_code == SI_QUEUE, si.si_value.sival_int);
    return NULL;
}

static void thread_signals(void)
{
    hits = 0;
    pthread_t t;
    hs_init(&masked);
    hs_init(&go);
    CHECK_RC(pthread_create(&t, NULL, masker, NULL));
    hs_wait(&masked);
    CHECK_RC(pthread_kill(t, SIGUSR2));
    sigset_t pending;
    CHECK_OK(sigpending(&pending));
    printf("main: SIGUSR2 pending in main %d\n",
           sigismember(&pending, SIGUSR2));
    hs_post(&go);
    CHECK_RC(pthread_join(t, NULL));
    hs_destroy(&masked);
    hs_destroy(&go);

    sigset_t rt;
    sigemptyset(&rt);
    sigaddset(&rt, SIGRTMIN);
    CHECK_OK(pthread_sigmask(SIG_BLOCK, &rt, NULL));
    hs_init(&waiting);
    CHECK_RC(pthread_create(&t, NULL, queued, NULL));
    hs_wait(&waiting);
    wait_blocked(waiter_tid);
    CHECK_RC(pthread_sigqueue(t, SIGRTMIN, (union sigval){ .sival_int = 7 }));
    CHECK_RC(pthread_join(t, NULL));
    hs_destroy(&waiting);
    CHECK_OK(pthread_sigmask(SIG_UNBLOCK, &rt, NULL));
}

/* ---- wait3, wait4 -------------------------------------------------- */

/* The child exits with `code` once it reads a byte (or EOF) from its
 * pipe; the releaser thread writes that byte once main said it is about
 * to wait and sleeps there, after 3 round trips with the partner. */
static struct partner partner;
static struct handshake about_to_wait;
static pid_t main_tid;
static int release_fd = -1;

static void *releaser(void *arg)
{
    (void)arg;
    hs_wait(&about_to_wait);
    wait_blocked(main_tid);
    partner_rounds(&partner, 3);
    CHECK_EQ(write(release_fd, "x", 1), 1);
    return NULL;
}

static pid_t child_exiting(int code, pthread_t *rel)
{
    int p[2];
    CHECK_OK(pipe(p));
    const pid_t pid = fork();
    if (pid == 0) {
        char c;
        close(p[1]);
        (void)!read(p[0], &c, 1);
        _exit(code);
    }
    CHECK(pid > 0);
    close(p[0]);
    release_fd = p[1];
    CHECK_RC(pthread_create(rel, NULL, releaser, NULL));
    return pid;
}

static void child_reaped(pthread_t rel)
{
    CHECK_RC(pthread_join(rel, NULL));
    close(release_fd);
}

static void waits(void)
{
    int status = 0;
    struct rusage ru;
    pthread_t rel;

    partner_start(&partner);
    hs_init(&about_to_wait);
    main_tid = gettid();
    pid_t pid = child_exiting(3, &rel);
    long before = LOAD(&partner.rounds);
    hs_post(&about_to_wait);
    const pid_t w4 = wait4(pid, &status, 0, &ru);
    printf("wait4: the child %d, exit status %d, others ran meanwhile %d\n",
           w4 == pid, WEXITSTATUS(status),
           LOAD(&partner.rounds) == before + 3);
    child_reaped(rel);
    pid = child_exiting(4, &rel);
    before = LOAD(&partner.rounds);
    hs_post(&about_to_wait);
    const pid_t w3 = wait3(&status, 0, &ru);
    printf("wait3: the child %d, exit status %d, others ran meanwhile %d\n",
           w3 == pid, WEXITSTATUS(status),
           LOAD(&partner.rounds) == before + 3);
    child_reaped(rel);
    errno = 0;
    const pid_t none = wait4(-1, &status, 0, NULL);
    printf("wait4 with no children: %d %s\n", (int)none, errno_name(errno));
    hs_destroy(&about_to_wait);
    partner_stop(&partner);
}

/* ---- dup3, freopen64, popen/pclose, closedir, fcloseall ------------ */

struct reader {
    int fd;
    ssize_t got;
    char byte;
    pid_t tid;
    struct handshake ready;     /* posted just before the read */
};

static void *read_one(void *arg)
{
    struct reader *r = arg;
    r->tid = gettid();
    hs_post(&r->ready);
    r->got = read(r->fd, &r->byte, 1);
    return NULL;
}

static void streams(void)
{
    int old[2], fresh[2];
    CHECK_OK(pipe(old));
    CHECK_OK(pipe(fresh));
    struct reader r = { .fd = old[0] };
    pthread_t t;
    hs_init(&r.ready);
    CHECK_RC(pthread_create(&t, NULL, read_one, &r));
    hs_wait(&r.ready);
    wait_blocked(r.tid);
    const int d = dup3(fresh[0], old[0], O_CLOEXEC);
    printf("dup3 over the read end: %s, FD_CLOEXEC %d\n",
           d == old[0] ? "same number" : "other",
           !!(fcntl(old[0], F_GETFD) & FD_CLOEXEC));
    CHECK(write(old[1], "o", 1) == 1);      /* the blocked read's file */
    CHECK_RC(pthread_join(t, NULL));
    printf("the blocked read got %zd byte '%c' from its own pipe\n", r.got,
           r.byte);
    hs_destroy(&r.ready);
    close(old[0]);
    close(old[1]);
    close(fresh[0]);
    close(fresh[1]);

    FILE *f = fopen("/dev/zero", "r");
    CHECK(f != NULL);
    f = freopen64("/dev/null", "r", f);
    printf("freopen64 to /dev/null: %s, then getc EOF %d\n",
           f ? "ok" : "failed", f && getc(f) == EOF);
    CHECK_OK(fclose(f));

    FILE *p = popen("echo from the shell; exit 5", "r");
    char line[64] = "";
    CHECK(p != NULL && fgets(line, sizeof line, p) != NULL);
    const int st = pclose(p);
    printf("popen read: %s", line);
    printf("pclose: exit status %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);

    DIR *dir = opendir("/");
    CHECK(dir != NULL);
    printf("closedir: %d\n", closedir(dir));

    CHECK(fopen("/dev/null", "r") != NULL);
    fflush(stdout);
    const int r2 = fcloseall();
    char msg[64];
    const int n = snprintf(msg, sizeof msg, "fcloseall: %d\n", r2);
    CHECK(write(1, msg, (size_t)n) == n);
}

int main(void)
{
    alarm(30);
    setvbuf(stdout, NULL, _IOLBF, 0);
    companion_start();
    signal_aliases();
    thread_signals();
    waits();
    streams();
    companion_stop();
    return check_exit_status();
}
