/* SPDX-License-Identifier: MIT */
/* signal-eintr: a handler installed WITH SA_RESTART still interrupts the
 * calls signal(7) says are never restarted, and the sleeps report the
 * time left.
 *
 * Each case blocks main in one call with a 10 s timeout (so that a
 * missed signal shows as a timeout, not a hang); a poker thread waits
 * until main said it is about to call and sleeps in the call (handshake.h:
 * no step depends on timing) and sends SIGUSR1 to main with pthread_kill.
 * Calls: poll, ppoll, select, pselect, epoll_wait, epoll_pwait, nanosleep
 * and clock_nanosleep relative (rem: the time left), clock_nanosleep
 * absolute (rem untouched), sleep (the whole seconds left, errno EINTR),
 * usleep, and recv, read and accept on sockets with SO_RCVTIMEO and send
 * with SO_SNDTIMEO set.  The same calls without SA_RESTART fail with
 * EINTR too (read on a SO_RCVTIMEO socket and nanosleep are repeated that
 * way).  The time left that select, nanosleep and sleep report is checked
 * against the time that passed around the call: 10 s less at most that,
 * which no load can break; the transcript says only yes or no.
 */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "handshake.h"

static volatile sig_atomic_t handled;
static pthread_t main_thread;
static pid_t main_tid;
static volatile sig_atomic_t handler_in_main;
static struct handshake handler_ran;    /* posted by each handler run */
static struct handshake calling;        /* main is about to call */

static void on_usr1(int sig)
{
    (void)sig;
    handled++;
    handler_in_main = pthread_equal(pthread_self(), main_thread);
    hs_post(&handler_ran);
}

static void install(int flags)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = flags;
    CHECK_OK(sigaction(SIGUSR1, &sa, NULL));
}

static void *poker(void *arg)
{
    (void)arg;
    hs_wait(&calling);
    wait_blocked(main_tid);
    CHECK_RC(pthread_kill(main_thread, SIGUSR1));
    return NULL;
}

static pthread_t poker_thread;
static long long started;   /* CLOCK_MONOTONIC ns, before the call */
static long long passed;    /* ns from `started` to the call's return */

/* Start a case: handler installed with `flags`, poker on its way; then
 * say that the call comes next. */
static void begin(int flags)
{
    install(flags);
    handled = 0;
    handler_in_main = 0;
    CHECK_RC(pthread_create(&poker_thread, NULL, poker, NULL));
    started = now_ns(CLOCK_MONOTONIC);
    hs_post(&calling);
}

/* End a case whose call returned `r` with errno `e` (for -1): print
 * "LABEL [MODE]: R ERRNO, handler ran N in main yes" and check for -1
 * EINTR (not the timeout) and one handler run in main. */
static void end(const char *label, int flags, long r, int e)
{
    passed = now_ns(CLOCK_MONOTONIC) - started;
    CHECK_RC(pthread_join(poker_thread, NULL));
    if (handled > 0) {
        hs_wait(&handler_ran);
    }
    printf("%s [%s]: %ld %s, handler ran %d in main %s\n",
           label, flags & SA_RESTART ? "SA_RESTART" : "no SA_RESTART", r,
           errno_name(r == -1 ? e : 0), (int)handled,
           handler_in_main ? "yes" : "no");
    fflush(stdout);
    if (r != -1 || e != EINTR) {
        check_fail(__FILE__, __LINE__, e, "%s: expected -1 EINTR, got %ld",
                   label, r);
    }
    CHECK_EQ(handled, 1);
    CHECK(handler_in_main);
    install(0);
}

/* Run `call` as one case; `call` is an expression using fds. */
#define CASE(label, flags, call)                                           \
    do {                                                                   \
        begin(flags);                                                      \
        errno = 0;                                                         \
        const long case_r_ = (long)(call);                                 \
        end((label), (flags), case_r_, errno);                             \
    } while (0)

/* "yes" when `left_ns` is what a wait of `asked_ns` interrupted in the
 * last case had left: asked less at most the time that passed around the
 * call, and no more than asked.  The kernel's nanosleep sets its timer
 * to expire between the time asked and that plus the thread's timer
 * slack (prctl(2) PR_SET_TIMERSLACK, 50 us by default), and counts what
 * is left up to the later one: left may exceed asked by the slack. */
static const char *left_ok(long long asked_ns, long long left_ns)
{
    const long long slack = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
    const int ok = left_ns >= 0 && left_ns <= asked_ns + slack
                   && asked_ns - left_ns <= passed;
    if (!ok) {
        check_fail(__FILE__, __LINE__, 0, "%lld ns left of %lld ns after "
                   "%lld ns", left_ns, asked_ns, passed);
    }
    return ok ? "yes" : "no";
}

static long long ns_of(const struct timespec *ts)
{
    return ts->tv_sec * 1000000000LL + ts->tv_nsec;
}

enum { TIMEOUT_MS = 10000 };
static const long long TIMEOUT_NS = TIMEOUT_MS * 1000000LL;

static void multiplexers(void)
{
    int p[2];
    const struct timespec timeout = { TIMEOUT_MS / 1000, 0 };

    CHECK_OK(pipe(p));
    struct pollfd pfd = { .fd = p[0], .events = POLLIN };
    CASE("poll", SA_RESTART, poll(&pfd, 1, TIMEOUT_MS));
    CASE("poll", 0, poll(&pfd, 1, TIMEOUT_MS));
    CASE("ppoll", SA_RESTART, ppoll(&pfd, 1, &timeout, NULL));

    fd_set set;
    FD_ZERO(&set);
    FD_SET(p[0], &set);
    struct timeval tv = { TIMEOUT_MS / 1000, 0 };
    CASE("select", SA_RESTART, select(p[0] + 1, &set, NULL, NULL, &tv));
    printf("select left the timeval at the time left: %s\n",
           left_ok(TIMEOUT_NS, tv.tv_sec * 1000000000LL
                                   + tv.tv_usec * 1000LL));
    FD_ZERO(&set);
    FD_SET(p[0], &set);
    CASE("pselect", SA_RESTART,
         pselect(p[0] + 1, &set, NULL, NULL, &timeout, NULL));

    const int ep = epoll_create1(0);
    struct epoll_event ev = { .events = EPOLLIN, .data.fd = p[0] };
    CHECK_OK(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev));
    CASE("epoll_wait", SA_RESTART, epoll_wait(ep, &ev, 1, TIMEOUT_MS));
    sigset_t none;
    sigemptyset(&none);
    CASE("epoll_pwait", SA_RESTART,
         epoll_pwait(ep, &ev, 1, TIMEOUT_MS, &none));
    close(ep);
    close(p[0]);
    close(p[1]);
}

static void sleeps(void)
{
    const struct timespec timeout = { TIMEOUT_MS / 1000, 0 };
    struct timespec rem;

    rem = (struct timespec){ 7, 7 };
    CASE("nanosleep 10 s", SA_RESTART, nanosleep(&timeout, &rem));
    printf("nanosleep rem is the time left: %s\n",
           left_ok(TIMEOUT_NS, ns_of(&rem)));
    rem = (struct timespec){ 7, 7 };
    CASE("nanosleep 10 s", 0, nanosleep(&timeout, &rem));
    printf("nanosleep rem is the time left: %s\n",
           left_ok(TIMEOUT_NS, ns_of(&rem)));
    CASE("nanosleep 10 s, rem NULL", SA_RESTART, nanosleep(&timeout, NULL));

    int rc;
    rem = (struct timespec){ 7, 7 };
    begin(SA_RESTART);
    rc = clock_nanosleep(CLOCK_MONOTONIC, 0, &timeout, &rem);
    end("clock_nanosleep relative 10 s (as errno)", SA_RESTART,
        rc == 0 ? 0 : -1, rc);
    printf("clock_nanosleep rem is the time left: %s\n",
           left_ok(TIMEOUT_NS, ns_of(&rem)));

    struct timespec when;
    clock_gettime(CLOCK_MONOTONIC, &when);
    when.tv_sec += TIMEOUT_MS / 1000;
    rem = (struct timespec){ 7, 7 };
    begin(SA_RESTART);
    rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &when, &rem);
    end("clock_nanosleep absolute +10 s (as errno)", SA_RESTART,
        rc == 0 ? 0 : -1, rc);
    printf("clock_nanosleep absolute left rem alone: %s\n",
           rem.tv_sec == 7 && rem.tv_nsec == 7 ? "yes" : "no");

    /* sleep returns the whole seconds left, rounded down: at most 10 (the
     * timer slack above may leave a little more than 10 s), and no fewer
     * than 10 less the time that passed, rounded up. */
    begin(SA_RESTART);
    errno = 0;
    const unsigned left = sleep(TIMEOUT_MS / 1000);
    const int e = errno;
    passed = now_ns(CLOCK_MONOTONIC) - started;
    CHECK_RC(pthread_join(poker_thread, NULL));
    if (handled > 0) {
        hs_wait(&handler_ran);
    }
    const long lo = TIMEOUT_MS / 1000 - (long)((passed + 999999999)
                                               / 1000000000);
    const int left_whole = (long)left >= lo && left <= TIMEOUT_MS / 1000;
    printf("sleep(10) interrupted returns the whole seconds left: %s, "
           "errno %s, handler ran %d\n", left_whole ? "yes" : "no",
           errno_name(e), (int)handled);
    if (!left_whole) {
        check_fail(__FILE__, __LINE__, 0, "sleep(10) returned %u after "
                   "%lld ns", left, passed);
    }
    CHECK_EQ(e, EINTR);
    CHECK_EQ(handled, 1);
    install(0);

    CASE("usleep 10 s", SA_RESTART, usleep(TIMEOUT_MS * 1000));
}

static void set_timeout(int fd, int opt)
{
    const struct timeval tv = { TIMEOUT_MS / 1000, 0 };
    CHECK_OK(setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof tv));
}

static void timed_sockets(void)
{
    int sv[2];
    char c, buf[1024];

    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    set_timeout(sv[0], SO_RCVTIMEO);
    CASE("recv, SO_RCVTIMEO 10 s", SA_RESTART, recv(sv[0], &c, 1, 0));
    CASE("recv, SO_RCVTIMEO 10 s", 0, recv(sv[0], &c, 1, 0));
    CASE("read, SO_RCVTIMEO 10 s", SA_RESTART, read(sv[0], &c, 1));

    memset(buf, 'f', sizeof buf);
    while (send(sv[1], buf, sizeof buf, MSG_DONTWAIT) > 0) {
    }
    while (send(sv[1], buf, 1, MSG_DONTWAIT) > 0) {
    }
    set_timeout(sv[1], SO_SNDTIMEO);
    CASE("send full socketpair, SO_SNDTIMEO 10 s", SA_RESTART,
         send(sv[1], "y", 1, 0));
    CASE("write full socketpair, SO_SNDTIMEO 10 s", SA_RESTART,
         write(sv[1], "y", 1));
    close(sv[0]);
    close(sv[1]);

    struct sockaddr_in a = { .sin_family = AF_INET };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const int lfd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK_OK(bind(lfd, (struct sockaddr *)&a, sizeof a));
    CHECK_OK(listen(lfd, 8));
    set_timeout(lfd, SO_RCVTIMEO);
    CASE("accept, SO_RCVTIMEO 10 s", SA_RESTART, accept(lfd, NULL, NULL));
    close(lfd);
}

int main(void)
{
    /* Line-buffered, so that a run killed for hanging shows how far it
     * got. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    alarm(30);
    main_thread = pthread_self();
    main_tid = gettid();
    hs_init(&handler_ran);
    hs_init(&calling);
    multiplexers();
    sleeps();
    timed_sockets();
    return check_exit_status();
}
