/* SPDX-License-Identifier: MIT */
/* fd-flags: every way a program, or a process it shares an fd with, can
 * make a blocking socket or pipe non-blocking or give it a timeout, and
 * what a read then does.  libgreen remembers the flags of the sockets and
 * pipes a program made (hub/fdcache.c) so as not to ask the kernel on each
 * wait; each case here changes them behind that memory's back in one of
 * the ways it must notice: fcntl, fcntl64, fcntl on a dup, F_DUPFD or dup2
 * duplicate, ioctl(FIONBIO), syscall(SYS_fcntl), a child made by fork,
 * vfork, _Fork or posix_spawn that sets O_NONBLOCK on an inherited fd, an
 * fd passed to an older child with SCM_RIGHTS, the number reused by an fd
 * made otherwise, SO_RCVTIMEO set, cleared and inherited through accept,
 * and SOCK_NONBLOCK / O_NONBLOCK at creation.
 *
 * Each case prints what the read returned.  A rescue thread writes a byte
 * once the read sleeps in the kernel (handshake.h), unless it returned
 * first: a read that must wait gets that byte ("read 1"), and one that
 * must not (EAGAIN) shows as "read 1" if it waited, instead of hanging.
 * A read with SO_RCVTIMEO may wait its timeout: its rescue comes only 10 s
 * later, to turn a hang into a failure.  Nothing depends on timing.
 * `fd-flags setnb FD` (used through posix_spawn) sets O_NONBLOCK on FD.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <netinet/in.h>
#include <spawn.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "check.h"
#include "handshake.h"

extern char **environ;

static struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int done;               /* the read returned */
    int fd;                 /* where the rescue byte goes */
    int patient;            /* the read may wait a timeout: rescue at 10 s */
    pid_t tid;              /* the reader's gettid() */
    struct handshake reading;   /* the reader is about to read */
    pthread_t thread;
} rescue = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, -1, 0,
             0, { { -1, -1 } }, 0 };

/* Once the read waits (or, patient, 10 s after it began), write a byte
 * unless it returned. */
static void *rescuer(void *arg)
{
    (void)arg;
    hs_wait(&rescue.reading);
    if (!rescue.patient) {
        wait_blocked_unless(rescue.tid, &rescue.done);
    } else {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 10;
        pthread_mutex_lock(&rescue.lock);
        int r = 0;
        while (!LOAD(&rescue.done) && r != ETIMEDOUT) {
            r = pthread_cond_timedwait(&rescue.cond, &rescue.lock, &until);
        }
        pthread_mutex_unlock(&rescue.lock);
    }
    if (!LOAD(&rescue.done)) {
        (void)!write(rescue.fd, "r", 1);
    }
    return NULL;
}

/* read(rfd) once, rescued by a write to wfd; print what it returned. */
static void read_rescued(const char *what, int rfd, int wfd, int patient)
{
    STORE(&rescue.done, 0);
    rescue.fd = wfd;
    rescue.patient = patient;
    rescue.tid = gettid();
    CHECK_RC(pthread_create(&rescue.thread, NULL, rescuer, NULL));
    char c;
    hs_post(&rescue.reading);
    errno = 0;
    const ssize_t r = read(rfd, &c, 1);
    const int err = errno;
    pthread_mutex_lock(&rescue.lock);
    STORE(&rescue.done, 1);
    pthread_cond_signal(&rescue.cond);
    pthread_mutex_unlock(&rescue.lock);
    CHECK_RC(pthread_join(rescue.thread, NULL));
    if (r < 0) {
        printf("%s: read -1 %s\n", what, errno_name(err));
    } else {
        printf("%s: read %zd\n", what, r);
    }
    fflush(stdout);
    /* Leave nothing behind for the next case. */
    const int fl = fcntl(rfd, F_GETFL);
    fcntl(rfd, F_SETFL, fl | O_NONBLOCK);
    while (read(rfd, &c, 1) > 0) {
    }
    fcntl(rfd, F_SETFL, fl);
}

/* A read that must not wait (EAGAIN), or must wait for a write. */
static void try_read(const char *what, int rfd, int wfd)
{
    read_rescued(what, rfd, wfd, 0);
}

/* A read that may wait its SO_RCVTIMEO. */
static void try_read_timeo(const char *what, int rfd, int wfd)
{
    read_rescued(what, rfd, wfd, 1);
}

static void set_nb(int fd)
{
    CHECK_OK(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK));
}

static void reap(pid_t pid)
{
    int st;
    CHECK_EQ(waitpid(pid, &st, 0), pid);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* A pipe and a socketpair, blocking, made fresh for each case. */
static int p[2], s[2];

static void fresh(void)
{
    CHECK_OK(pipe(p));
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, s));
}

static void done(void)
{
    close(p[0]);
    close(p[1]);
    close(s[0]);
    close(s[1]);
}

/* A blocking read that gets the byte another thread writes once it
 * waits. */
static void blocking_read(const char *what, int rfd, int wfd)
{
    try_read(what, rfd, wfd);
}

static void timeo(int fd, int optname, long ms)
{
    struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
    CHECK_OK(setsockopt(fd, SOL_SOCKET, optname, &tv, sizeof tv));
}

static void case_sockets_timeouts(void)
{
    fresh();
    timeo(s[0], SO_RCVTIMEO, 50);
    try_read_timeo("SO_RCVTIMEO 50 ms", s[0], s[1]);
    timeo(s[0], SO_RCVTIMEO, 0);
    blocking_read("SO_RCVTIMEO cleared", s[0], s[1]);
    done();

    /* accept copies the listener's timeouts to the new socket. */
    const int l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET,
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof a;
    CHECK_OK(bind(l, (struct sockaddr *)&a, sizeof a));
    CHECK_OK(listen(l, 4));
    CHECK_OK(getsockname(l, (struct sockaddr *)&a, &len));
    timeo(l, SO_RCVTIMEO, 50);
    const int c = socket(AF_INET, SOCK_STREAM, 0);
    CHECK_OK(connect(c, (struct sockaddr *)&a, sizeof a));
    const int acc = accept(l, NULL, NULL);
    try_read_timeo("accepted from a listener with SO_RCVTIMEO", acc, c);
    const int c2 = socket(AF_INET, SOCK_STREAM, 0);
    CHECK_OK(connect(c2, (struct sockaddr *)&a, sizeof a));
    const int acc2 = accept4(l, NULL, NULL, SOCK_NONBLOCK);
    timeo(acc2, SO_RCVTIMEO, 0);
    try_read("accept4 SOCK_NONBLOCK", acc2, c2);
    close(acc2);
    close(c2);
    close(acc);
    close(c);
    close(l);
}

static void case_made_nonblocking(void)
{
    int q[2];
    CHECK_OK(pipe2(q, O_NONBLOCK));
    try_read("pipe2 O_NONBLOCK", q[0], q[1]);
    close(q[0]);
    close(q[1]);
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, q));
    try_read("socketpair SOCK_NONBLOCK", q[0], q[1]);
    close(q[0]);
    close(q[1]);
}

static void case_in_process(void)
{
    fresh();
    set_nb(s[0]);
    try_read("fcntl O_NONBLOCK on a socket", s[0], s[1]);
    CHECK_OK(fcntl(s[0], F_SETFL, fcntl(s[0], F_GETFL) & ~O_NONBLOCK));
    blocking_read("fcntl O_NONBLOCK cleared", s[0], s[1]);
    int on = 1;
    CHECK_OK(ioctl(p[0], FIONBIO, &on));
    try_read("ioctl FIONBIO on a pipe", p[0], p[1]);
    on = 0;
    CHECK_OK(ioctl(p[0], FIONBIO, &on));
    blocking_read("ioctl FIONBIO cleared", p[0], p[1]);
    done();

    fresh();
    int d = dup(p[0]);
    set_nb(d);
    try_read("O_NONBLOCK through a dup", p[0], p[1]);
    close(d);
    d = fcntl(s[0], F_DUPFD_CLOEXEC, 50);
    set_nb(d);
    try_read("O_NONBLOCK through F_DUPFD_CLOEXEC", s[0], s[1]);
    close(d);
    done();

    fresh();
    CHECK_EQ(dup2(p[0], 90), 90);
    set_nb(90);
    try_read("O_NONBLOCK through a dup2 copy", p[0], p[1]);
    close(90);
    CHECK_OK(syscall(SYS_fcntl, s[0], F_SETFL, O_RDWR | O_NONBLOCK));
    try_read("syscall(SYS_fcntl) O_NONBLOCK", s[0], s[1]);
    CHECK_OK(fcntl64(p[0], F_SETFL, O_RDONLY | O_NONBLOCK));
    try_read("fcntl64 O_NONBLOCK", p[0], p[1]);
    done();

    /* The number taken by an fd made otherwise. */
    fresh();
    const int was = p[0];
    close(p[0]);
    const int e = eventfd(0, EFD_NONBLOCK);
    printf("eventfd took the pipe's number: %s\n", e == was ? "yes" : "no");
    uint64_t v;
    errno = 0;
    const ssize_t r = read(e, &v, sizeof v);
    printf("eventfd EFD_NONBLOCK on a reused number: read %zd %s\n", r,
           errno_name(r < 0 ? errno : 0));
    close(e);
    close(p[1]);
    close(s[0]);
    close(s[1]);
}

static void case_other_process(const char *self)
{
    fresh();
    pid_t pid = fork();
    if (pid == 0) {
        set_nb(p[0]);
        _exit(0);
    }
    reap(pid);
    try_read("fork child sets O_NONBLOCK", p[0], p[1]);
    done();

    fresh();
    pid = vfork();
    if (pid == 0) {
        fcntl(s[0], F_SETFL, O_RDWR | O_NONBLOCK);
        _exit(0);
    }
    reap(pid);
    try_read("vfork child sets O_NONBLOCK", s[0], s[1]);
    done();

    fresh();
    pid = _Fork();
    if (pid == 0) {
        fcntl(p[0], F_SETFL, O_RDONLY | O_NONBLOCK);
        _exit(0);
    }
    reap(pid);
    try_read("_Fork child sets O_NONBLOCK", p[0], p[1]);
    done();

    fresh();
    char arg[16];
    snprintf(arg, sizeof arg, "%d", p[0]);
    char *argv[] = { (char *)self, "setnb", arg, NULL };
    CHECK_RC(posix_spawn(&pid, self, NULL, NULL, argv, environ));
    reap(pid);
    try_read("posix_spawn child sets O_NONBLOCK", p[0], p[1]);
    done();

    /* A child forked before the pipe existed gets it with SCM_RIGHTS. */
    int u[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, u));
    pid = fork();
    if (pid == 0) {
        char byte;
        char ctl[CMSG_SPACE(sizeof(int))];
        struct iovec iov = { &byte, 1 };
        struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
                            .msg_control = ctl, .msg_controllen = sizeof ctl };
        if (recvmsg(u[1], &m, 0) != 1) {
            _exit(1);
        }
        int fd;
        memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&m)), sizeof fd);
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        _exit(write(u[1], "k", 1) == 1 ? 0 : 1);
    }
    fresh();
    char ctl[CMSG_SPACE(sizeof(int))] = { 0 };
    struct iovec iov = { "x", 1 };
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
                        .msg_control = ctl, .msg_controllen = sizeof ctl };
    struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &s[0], sizeof(int));
    CHECK_EQ(sendmsg(u[0], &m, 0), 1);
    char k;
    CHECK_EQ(read(u[0], &k, 1), 1);
    reap(pid);
    try_read("SCM_RIGHTS receiver sets O_NONBLOCK", s[0], s[1]);
    done();
    close(u[0]);
    close(u[1]);
}

static void *watchdog(void *arg)
{
    (void)arg;
    sleep(30);
    fprintf(stderr, "fd-flags: still running after 30 s\n");
    _exit(3);
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "setnb") == 0) {
        const int fd = atoi(argv[2]);
        return fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == 0
            ? 0 : 1;
    }
    pthread_t dog;
    hs_init(&rescue.reading);
    CHECK_RC(pthread_create(&dog, NULL, watchdog, NULL));
    CHECK_RC(pthread_detach(dog));
    case_made_nonblocking();
    case_in_process();
    case_sockets_timeouts();
    case_other_process("/proc/self/exe");
    return check_exit_status();
}
