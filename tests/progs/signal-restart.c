/* SPDX-License-Identifier: MIT */
/* signal-restart: a handler interrupts a blocked call that signal(7) says
 * SA_RESTART restarts.
 *
 * Each case blocks main in one call.  A poker thread waits until main
 * said it is about to call and sleeps in the call (handshake.h: no step
 * depends on timing), sends SIGUSR1 to main with pthread_kill, waits
 * until the handler ran, and then does what lets the call complete
 * (writes the pipe, connects, unlocks, ...).  Installed without SA_RESTART
 * the handler makes
 * the call fail with EINTR; installed with SA_RESTART the call restarts
 * and completes.  Calls: read and write on pipes, recv and send on a
 * socketpair, accept on TCP loopback, connect to an AF_UNIX listener whose
 * backlog is full, waitpid, sem_wait (EINTR without SA_RESTART, as
 * glibc's sem_wait reports it) and pthread_mutex_lock (never EINTR).  One
 * transcript line per case: the result, errno name, and how many times
 * the handler ran, and in which thread.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "handshake.h"

static volatile sig_atomic_t handled;
static pthread_t main_thread;
static pid_t main_tid;
static volatile sig_atomic_t handler_in_main;
static struct handshake handler_ran;    /* posted by each handler run */

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

/* What the poker does after the signal, and with what. */
struct poke {
    void (*before)(void); /* run first, before main makes its call */
    void (*then)(void *);
    void *arg;
};

static struct handshake poker_ready;   /* the poker ran `before` */
static struct handshake calling;       /* main is about to call */

static struct poke poke;

static void *poker(void *arg)
{
    (void)arg;
    if (poke.before != NULL) {
        poke.before();
    }
    hs_post(&poker_ready);
    hs_wait(&calling);
    wait_blocked(main_tid);
    CHECK_RC(pthread_kill(main_thread, SIGUSR1));
    hs_wait(&handler_ran);
    if (poke.then != NULL) {
        poke.then(poke.arg);
    }
    return NULL;
}

/* The case's objects, shared by its call and its completion. */
static int fds[2];
static int lfd;
static int cfd = -1;
static pid_t child;
static sem_t sem;
static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
static int child_status;

/* Run `call` in main with SIGUSR1 installed with `flags`; print
 * "LABEL [MODE]: RESULT ERRNO, handler ran N in main" and check against
 * the expected result (`want` >= 0 meaning any result >= 0 with `want_e`
 * 0). */
static long run_case(const char *label, int flags, long (*call)(void),
                     void (*then)(void *), long want, int want_e)
{
    pthread_t t;

    install(flags);
    handled = 0;
    handler_in_main = 0;
    poke.then = then;
    poke.arg = NULL;
    CHECK_RC(pthread_create(&t, NULL, poker, NULL));
    hs_wait(&poker_ready);
    hs_post(&calling);
    errno = 0;
    const long r = call();
    const int e = r < 0 ? errno : 0;
    CHECK_RC(pthread_join(t, NULL));
    printf("%s [%s]: %s %s, handler ran %d in main %s\n", label,
           flags & SA_RESTART ? "SA_RESTART" : "no SA_RESTART",
           r < 0 ? "-1" : "ok", errno_name(e), (int)handled,
           handler_in_main ? "yes" : "no");
    fflush(stdout);
    CHECK_EQ(handled, 1);
    CHECK(handler_in_main);
    if (want < 0) {
        if (r != -1 || e != want_e) {
            check_fail(__FILE__, __LINE__, e, "%s: expected -1 %s, got %ld",
                       label, errno_name(want_e), r);
        }
    } else if (r < 0) {
        check_fail(__FILE__, __LINE__, e, "%s: expected success", label);
    }
    install(0);
    poke.before = NULL;
    return r;
}

/* read on an empty pipe. */
static long read_pipe(void)
{
    char c;
    return read(fds[0], &c, 1);
}

static void write_pipe(void *arg)
{
    (void)arg;
    CHECK_EQ(write(fds[1], "x", 1), 1);
}

/* write on a full pipe. */
static void fill_pipe(int fd)
{
    char buf[4096];
    const int fl = fcntl(fd, F_GETFL);

    memset(buf, 'f', sizeof buf);
    CHECK_OK(fcntl(fd, F_SETFL, fl | O_NONBLOCK));
    while (write(fd, buf, sizeof buf) > 0) {
    }
    CHECK_EQ(errno, EAGAIN);
    CHECK_OK(fcntl(fd, F_SETFL, fl));
}

static long write_full_pipe(void)
{
    return write(fds[1], "y", 1);
}

static void drain_pipe(void *arg)
{
    static char buf[65536];
    (void)arg;
    CHECK(read(fds[0], buf, sizeof buf) > 0);
}

/* recv and send on a socketpair. */
static long recv_pair(void)
{
    char c;
    return recv(fds[0], &c, 1, 0);
}

static void send_pair(void *arg)
{
    (void)arg;
    CHECK_EQ(send(fds[1], "x", 1, 0), 1);
}

static void fill_socket(int fd)
{
    char buf[1024];

    memset(buf, 'f', sizeof buf);
    while (send(fd, buf, sizeof buf, MSG_DONTWAIT) > 0) {
    }
    while (send(fd, buf, 1, MSG_DONTWAIT) > 0) {
    }
    CHECK_EQ(errno, EAGAIN);
}

static long send_full_pair(void)
{
    return send(fds[1], "y", 1, 0);
}

static void drain_socket(void *arg)
{
    static char buf[65536];
    (void)arg;
    while (recv(fds[0], buf, sizeof buf, MSG_DONTWAIT) > 0) {
    }
}

/* accept on a TCP loopback listener. */
static int tcp_listener(void)
{
    struct sockaddr_in a = { .sin_family = AF_INET };
    const int fd = socket(AF_INET, SOCK_STREAM, 0);

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK_OK(bind(fd, (struct sockaddr *)&a, sizeof a));
    CHECK_OK(listen(fd, 8));
    return fd;
}

static long accept_tcp(void)
{
    const int fd = accept(lfd, NULL, NULL);
    if (fd >= 0) {
        close(fd);
    }
    return fd;
}

static void connect_tcp(void *arg)
{
    struct sockaddr_in a;
    socklen_t len = sizeof a;

    (void)arg;
    CHECK_OK(getsockname(lfd, (struct sockaddr *)&a, &len));
    cfd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK_OK(connect(cfd, (struct sockaddr *)&a, len));
}

/* connect to an AF_UNIX listener (abstract name) whose backlog is full:
 * with listen(fd, 0) one connection may wait; a second connect blocks
 * until the listener accepts the first. */
static struct sockaddr_un unix_addr;
static socklen_t unix_len;

static void unix_listener(void)
{
    memset(&unix_addr, 0, sizeof unix_addr);
    unix_addr.sun_family = AF_UNIX;
    const int n = snprintf(unix_addr.sun_path + 1,
                           sizeof unix_addr.sun_path - 1,
                           "libgreen-signal-restart-%d", (int)getpid());
    unix_len = offsetof(struct sockaddr_un, sun_path) + 1 + n;
    lfd = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK_OK(bind(lfd, (struct sockaddr *)&unix_addr, unix_len));
    CHECK_OK(listen(lfd, 0));
    cfd = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK_OK(connect(cfd, (struct sockaddr *)&unix_addr, unix_len));
}

static long connect_full_unix(void)
{
    const int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    const long r = connect(fd, (struct sockaddr *)&unix_addr, unix_len);
    const int e = errno;
    close(fd);
    errno = e;
    return r;
}

static void accept_unix(void *arg)
{
    (void)arg;
    const int fd = accept(lfd, NULL, NULL);
    CHECK(fd >= 0);
    close(fd);
}

static void unix_close(void)
{
    close(cfd);
    close(lfd);
    cfd = -1;
}

/* waitpid on a child that waits until the poker kills it.  Should the
 * parent die first, the child dies with it (PR_SET_PDEATHSIG) and never
 * outlives 10 s (alarm); it holds no copy of stdout or stderr, which would
 * keep a test's output pipe open. */
static void start_child(void)
{
    child = fork();
    if (child == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        const int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        dup2(null, 2);
        alarm(10);
        for (;;) {
            pause();
        }
    }
    CHECK(child > 0);
}

static long waitpid_child(void)
{
    return waitpid(child, &child_status, 0);
}

static void kill_child(void *arg)
{
    (void)arg;
    CHECK_OK(kill(child, SIGKILL));
}

/* sem_wait on a zero semaphore. */
static long sem_wait_zero(void)
{
    return sem_wait(&sem);
}

static void sem_post_one(void *arg)
{
    (void)arg;
    CHECK_OK(sem_post(&sem));
}

/* pthread_mutex_lock on a mutex the poker locked before main's call and
 * unlocks after the signal. */
static long lock_held(void)
{
    const int rc = pthread_mutex_lock(&mutex);
    if (rc != 0) {
        errno = rc;
        return -1;
    }
    return 0;
}

static void unlock_mutex(void *arg)
{
    (void)arg;
    CHECK_RC(pthread_mutex_unlock(&mutex));
}

static void lock_mutex(void)
{
    CHECK_RC(pthread_mutex_lock(&mutex));
}

static void pipes(void)
{
    for (int restart = 0; restart <= 1; restart++) {
        const int flags = restart ? SA_RESTART : 0;
        CHECK_OK(pipe(fds));
        run_case("read empty pipe", flags, read_pipe, write_pipe,
                 restart ? 1 : -1, EINTR);
        close(fds[0]);
        close(fds[1]);

        CHECK_OK(pipe(fds));
        fill_pipe(fds[1]);
        run_case("write full pipe", flags, write_full_pipe, drain_pipe,
                 restart ? 1 : -1, EINTR);
        close(fds[0]);
        close(fds[1]);
    }
}

static void sockets(void)
{
    for (int restart = 0; restart <= 1; restart++) {
        const int flags = restart ? SA_RESTART : 0;
        CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, fds));
        run_case("recv empty socketpair", flags, recv_pair, send_pair,
                 restart ? 1 : -1, EINTR);
        close(fds[0]);
        close(fds[1]);

        CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, fds));
        fill_socket(fds[1]);
        run_case("send full socketpair", flags, send_full_pair,
                 drain_socket, restart ? 1 : -1, EINTR);
        close(fds[0]);
        close(fds[1]);

        lfd = tcp_listener();
        run_case("accept TCP loopback", flags, accept_tcp, connect_tcp,
                 restart ? 0 : -1, EINTR);
        close(cfd);
        close(lfd);

        unix_listener();
        run_case("connect AF_UNIX full backlog", flags, connect_full_unix,
                 accept_unix, restart ? 0 : -1, EINTR);
        unix_close();
    }
}

static void waits(void)
{
    for (int restart = 0; restart <= 1; restart++) {
        const int flags = restart ? SA_RESTART : 0;
        start_child();
        child_status = 0;
        if (run_case("waitpid", flags, waitpid_child, kill_child,
                     restart ? 0 : -1, EINTR) == -1) {
            CHECK_EQ(waitpid(child, &child_status, 0), child);
        }
        printf("child killed by SIGKILL: %s\n",
               WIFSIGNALED(child_status) && WTERMSIG(child_status) == SIGKILL
                   ? "yes" : "no");

        CHECK_OK(sem_init(&sem, 0, 0));
        if (run_case("sem_wait", flags, sem_wait_zero, sem_post_one,
                     restart ? 0 : -1, EINTR) == -1) {
            /* The poker has posted (it was joined). */
            CHECK_OK(sem_trywait(&sem));
        }
        CHECK_OK(sem_destroy(&sem));

        poke.before = lock_mutex;
        if (run_case("pthread_mutex_lock", flags, lock_held, unlock_mutex, 0,
                     0) == 0) {
            CHECK_RC(pthread_mutex_unlock(&mutex));
        }
    }
}

/* The same connect without a signal: what the restarted connect waits for
 * (a listener accepting, once main sleeps in connect), shown on its own. */
static void *accept_later(void *arg)
{
    (void)arg;
    hs_wait(&calling);
    wait_blocked(main_tid);
    accept_unix(NULL);
    return NULL;
}

static void connect_without_signal(void)
{
    pthread_t t;

    unix_listener();
    CHECK_RC(pthread_create(&t, NULL, accept_later, NULL));
    hs_post(&calling);
    REPORT_ERRNO("connect AF_UNIX full backlog, no signal, until accepted",
                 connect_full_unix(), 0);
    CHECK_RC(pthread_join(t, NULL));
    unix_close();
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
    hs_init(&poker_ready);
    hs_init(&calling);
    pipes();
    connect_without_signal();
    sockets();
    waits();
    return check_exit_status();
}
