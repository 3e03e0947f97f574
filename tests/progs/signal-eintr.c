/* SPDX-License-Identifier: MIT */
/* signal-eintr: a handler installed WITH SA_RESTART still interrupts the
 * calls signal(7) says are never restarted, and the sleeps report the
 * time left.
 *
 * Each case blocks main in one call with a 1 s timeout (so that a missed
 * signal shows as a timeout, not a hang); a poker thread sends SIGUSR1 to
 * main with pthread_kill 100 ms later.  Calls: poll, ppoll, select,
 * pselect, epoll_wait, epoll_pwait, nanosleep (rem about 0.9 s),
 * clock_nanosleep relative (rem) and absolute (rem untouched), sleep (the
 * whole seconds left, errno EINTR), usleep, and recv, read and accept on
 * sockets with SO_RCVTIMEO and send with SO_SNDTIMEO set.  The same
 * calls without SA_RESTART fail with EINTR too (read on a SO_RCVTIMEO
 * socket and nanosleep are repeated that way).  Timing is printed only
 * as bounded yes/no lines.
 */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

enum { DELAY_US = 100000 };

static volatile sig_atomic_t handled;
static pthread_t main_thread;
static volatile sig_atomic_t handler_in_main;

static void on_usr1(int sig)
{
    (void)sig;
    handled++;
    handler_in_main = pthread_equal(pthread_self(), main_thread);
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
    usleep(DELAY_US);
    CHECK_RC(pthread_kill(main_thread, SIGUSR1));
    return NULL;
}

static pthread_t poker_thread;
static long long started;

/* Start a case: handler installed with `flags`, poker on its way. */
static void begin(int flags)
{
    install(flags);
    handled = 0;
    handler_in_main = 0;
    started = now_ns(CLOCK_MONOTONIC);
    CHECK_RC(pthread_create(&poker_thread, NULL, poker, NULL));
}

/* End a case whose call returned `r` with errno `e` (for -1): print
 * "LABEL [MODE]: R ERRNO, handler ran N in main yes, early yes" and check
 * for -1 EINTR, one handler run in main, and an end well before the 1 s
 * timeout. */
static void end(const char *label, int flags, long r, int e)
{
    const long long ms = (now_ns(CLOCK_MONOTONIC) - started) / 1000000;

    CHECK_RC(pthread_join(poker_thread, NULL));
    printf("%s [%s]: %ld %s, handler ran %d in main %s, "
           "returned before the timeout %s\n",
           label, flags & SA_RESTART ? "SA_RESTART" : "no SA_RESTART", r,
           errno_name(r == -1 ? e : 0), (int)handled,
           handler_in_main ? "yes" : "no", ms < 800 ? "yes" : "no");
    fflush(stdout);
    if (r != -1 || e != EINTR) {
        check_fail(__FILE__, __LINE__, e, "%s: expected -1 EINTR, got %ld",
                   label, r);
    }
    CHECK_EQ(handled, 1);
    CHECK(handler_in_main);
    CHECK(ms < 800);
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

static void multiplexers(void)
{
    int p[2];
    const struct timespec second = { 1, 0 };

    CHECK_OK(pipe(p));
    struct pollfd pfd = { .fd = p[0], .events = POLLIN };
    CASE("poll", SA_RESTART, poll(&pfd, 1, 1000));
    CASE("poll", 0, poll(&pfd, 1, 1000));
    CASE("ppoll", SA_RESTART, ppoll(&pfd, 1, &second, NULL));

    fd_set set;
    FD_ZERO(&set);
    FD_SET(p[0], &set);
    struct timeval tv = { 1, 0 };
    CASE("select", SA_RESTART, select(p[0] + 1, &set, NULL, NULL, &tv));
    const int tv_left = tv.tv_sec == 0 && tv.tv_usec >= 500000 &&
                        tv.tv_usec <= 950000;
    printf("select left the timeval between 0.5 and 0.95 s: %s\n",
           tv_left ? "yes" : "no");
    CHECK(tv_left);
    FD_ZERO(&set);
    FD_SET(p[0], &set);
    CASE("pselect", SA_RESTART,
         pselect(p[0] + 1, &set, NULL, NULL, &second, NULL));

    const int ep = epoll_create1(0);
    struct epoll_event ev = { .events = EPOLLIN, .data.fd = p[0] };
    CHECK_OK(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev));
    CASE("epoll_wait", SA_RESTART, epoll_wait(ep, &ev, 1, 1000));
    sigset_t none;
    sigemptyset(&none);
    CASE("epoll_pwait", SA_RESTART, epoll_pwait(ep, &ev, 1, 1000, &none));
    close(ep);
    close(p[0]);
    close(p[1]);
}

/* "yes" when `ts` lies between `lo_ms` and `hi_ms`. */
static const char *between(const struct timespec *ts, long lo_ms, long hi_ms)
{
    const long long ms = ts->tv_sec * 1000LL + ts->tv_nsec / 1000000;
    return ms >= lo_ms && ms <= hi_ms ? "yes" : "no";
}

static void sleeps(void)
{
    const struct timespec second = { 1, 0 };
    struct timespec rem;

    rem = (struct timespec){ 7, 7 };
    CASE("nanosleep 1 s", SA_RESTART, nanosleep(&second, &rem));
    printf("nanosleep rem between 0.5 and 0.95 s: %s\n",
           between(&rem, 500, 950));
    CHECK(*between(&rem, 500, 950) == 'y');
    rem = (struct timespec){ 7, 7 };
    CASE("nanosleep 1 s", 0, nanosleep(&second, &rem));
    printf("nanosleep rem between 0.5 and 0.95 s: %s\n",
           between(&rem, 500, 950));
    CHECK(*between(&rem, 500, 950) == 'y');
    CASE("nanosleep 1 s, rem NULL", SA_RESTART, nanosleep(&second, NULL));

    int rc;
    rem = (struct timespec){ 7, 7 };
    begin(SA_RESTART);
    rc = clock_nanosleep(CLOCK_MONOTONIC, 0, &second, &rem);
    end("clock_nanosleep relative 1 s (as errno)", SA_RESTART,
        rc == 0 ? 0 : -1, rc);
    printf("clock_nanosleep rem between 0.5 and 0.95 s: %s\n",
           between(&rem, 500, 950));
    CHECK(*between(&rem, 500, 950) == 'y');

    struct timespec when;
    clock_gettime(CLOCK_MONOTONIC, &when);
    when.tv_sec += 1;
    rem = (struct timespec){ 7, 7 };
    begin(SA_RESTART);
    rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &when, &rem);
    end("clock_nanosleep absolute +1 s (as errno)", SA_RESTART,
        rc == 0 ? 0 : -1, rc);
    printf("clock_nanosleep absolute left rem alone: %s\n",
           rem.tv_sec == 7 && rem.tv_nsec == 7 ? "yes" : "no");

    begin(SA_RESTART);
    errno = 0;
    const unsigned left = sleep(3);
    const int e = errno;
    CHECK_RC(pthread_join(poker_thread, NULL));
    printf("sleep(3) interrupted after 0.1 s returns %u, errno %s, "
           "handler ran %d\n", left, errno_name(e), (int)handled);
    CHECK_EQ(left, 2);
    CHECK_EQ(handled, 1);
    install(0);

    CASE("usleep 1 s", SA_RESTART, usleep(1000000));
}

static void set_timeout(int fd, int opt)
{
    const struct timeval tv = { 1, 0 };
    CHECK_OK(setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof tv));
}

static void timed_sockets(void)
{
    int sv[2];
    char c, buf[1024];

    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    set_timeout(sv[0], SO_RCVTIMEO);
    CASE("recv, SO_RCVTIMEO 1 s", SA_RESTART, recv(sv[0], &c, 1, 0));
    CASE("recv, SO_RCVTIMEO 1 s", 0, recv(sv[0], &c, 1, 0));
    CASE("read, SO_RCVTIMEO 1 s", SA_RESTART, read(sv[0], &c, 1));

    memset(buf, 'f', sizeof buf);
    while (send(sv[1], buf, sizeof buf, MSG_DONTWAIT) > 0) {
    }
    while (send(sv[1], buf, 1, MSG_DONTWAIT) > 0) {
    }
    set_timeout(sv[1], SO_SNDTIMEO);
    CASE("send full socketpair, SO_SNDTIMEO 1 s", SA_RESTART,
         send(sv[1], "y", 1, 0));
    CASE("write full socketpair, SO_SNDTIMEO 1 s", SA_RESTART,
         write(sv[1], "y", 1));
    close(sv[0]);
    close(sv[1]);

    struct sockaddr_in a = { .sin_family = AF_INET };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const int lfd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK_OK(bind(lfd, (struct sockaddr *)&a, sizeof a));
    CHECK_OK(listen(lfd, 8));
    set_timeout(lfd, SO_RCVTIMEO);
    CASE("accept, SO_RCVTIMEO 1 s", SA_RESTART, accept(lfd, NULL, NULL));
    close(lfd);
}

int main(void)
{
    /* Line-buffered, so that a run killed for hanging shows how far it
     * got. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    alarm(20);
    main_thread = pthread_self();
    multiplexers();
    sleeps();
    timed_sockets();
    return check_exit_status();
}
