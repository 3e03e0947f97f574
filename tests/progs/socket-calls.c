/* SPDX-License-Identifier: MIT */
/* socket-calls: recv, send, accept, accept4 and connect between threads,
 * on socketpairs and loopback TCP, and their errors; one thread receiving
 * while another sends on the same socket.
 *
 *   socket-calls [socketpair|duplex|tcp|connect|errors]
 *
 * runs one section; no argument runs them all.  One transcript line per
 * check: the call, its result and the errno name.  A companion thread
 * stays parked for the whole run, so that every call is made while the
 * program has more than one thread.
 *
 * No sleep orders anything.  A thread that must find another waiting
 * acts only after that one announced its call through a gate (a pipe):
 * under libgreen it then first runs when the caller parks.  A sender
 * that must split its data across one waiting call sends the next part
 * only once the receiver took everything queued (FIONREAD is 0), so the
 * call cannot have returned.  Natively a call may or may not have to
 * wait; no line depends on it.  A call that held up the whole process
 * would never see its data: the run's timeout turns that hang into a
 * failure.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"

enum { BIG = 1 << 20 };

static unsigned char big[BIG];

/* A gate: a thread announces a call (gate_open) and another waits for
 * the announcement (gate_pass) before it acts. */
struct gate {
    int fd[2];
};

static void gate_init(struct gate *g)
{
    CHECK_OK(pipe(g->fd));
}

static void gate_open(struct gate *g)
{
    CHECK_EQ(write(g->fd[1], "g", 1), 1);
}

static void gate_pass(struct gate *g)
{
    char byte;
    CHECK_EQ(read(g->fd[0], &byte, 1), 1);
}

static void gate_close(struct gate *g)
{
    close(g->fd[0]);
    close(g->fd[1]);
}

/* Wait until the reader of socket `fd` took every byte queued on it, so
 * that what is sent next reaches a call that is still waiting.  Polls
 * every millisecond; the limit (30000 polls) only turns a hang into a
 * failure. */
static void wait_drained(int fd)
{
    for (int i = 0; i < 30000; i++) {
        int queued = -1;
        CHECK_OK(ioctl(fd, FIONREAD, &queued));
        if (queued == 0) {
            return;
        }
        usleep(1000);
    }
    errno = ETIMEDOUT;
    CHECK(!"the receiver never took its data");
}

/* What a helper thread does to fd, once `gate` (if any) lets it pass. */
struct job {
    int fd;
    struct gate *gate;
    int peer;               /* the receiving end, for wait_drained */
    int port;
    long result;
    unsigned long sum;
};

static void job_wait(struct job *j)
{
    if (j->gate != NULL) {
        gate_pass(j->gate);
    }
}

static struct sockaddr_in loopback(int port)
{
    struct sockaddr_in sa = { .sin_family = AF_INET,
                              .sin_port = htons((uint16_t)port) };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return sa;
}

/* A TCP socket bound to 127.0.0.1:0, listening when `listening`; sets
 * *port. */
static int bound_socket(int type, int listening, int *port)
{
    const int fd = socket(AF_INET, type, 0);
    struct sockaddr_in sa = loopback(0);
    socklen_t len = sizeof sa;

    CHECK_OK(fd);
    CHECK_OK(bind(fd, (struct sockaddr *)&sa, sizeof sa));
    if (listening) {
        CHECK_OK(listen(fd, 16));
    }
    CHECK_OK(getsockname(fd, (struct sockaddr *)&sa, &len));
    *port = ntohs(sa.sin_port);
    return fd;
}

static int connect_to(int fd, int port)
{
    struct sockaddr_in sa = loopback(port);

    return connect(fd, (struct sockaddr *)&sa, sizeof sa);
}

static int nonblock_visible(int fd)
{
    return (fcntl(fd, F_GETFL) & O_NONBLOCK) != 0;
}

static int cloexec_visible(int fd)
{
    return (fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0;
}

static void *send_ping(void *arg)
{
    struct job *const j = arg;

    job_wait(j);
    j->result = send(j->fd, "ping", 4, 0);
    return NULL;
}

/* Announces its recv through j->gate, which here is the other way round:
 * main waits for it. */
static void *recv_some(void *arg)
{
    struct job *const j = arg;
    char buf[64];

    gate_open(j->gate);
    j->result = recv(j->fd, buf, sizeof buf, 0);
    return NULL;
}

static void *send_in_three_parts(void *arg)
{
    struct job *const j = arg;
    char part[1000];

    memset(part, 'w', sizeof part);
    job_wait(j);
    for (int i = 0; i < 3; i++) {
        if (i > 0) {
            wait_drained(j->peer);
        }
        CHECK_EQ(send(j->fd, part, sizeof part, 0), 1000);
    }
    return NULL;
}

static void *send_then_close(void *arg)
{
    struct job *const j = arg;
    char part[1000];

    memset(part, 'c', sizeof part);
    job_wait(j);
    CHECK_EQ(send(j->fd, part, sizeof part, 0), 1000);
    wait_drained(j->peer);
    CHECK_OK(close(j->fd));
    return NULL;
}

static void *close_later(void *arg)
{
    struct job *const j = arg;

    job_wait(j);
    CHECK_OK(close(j->fd));
    return NULL;
}

static void *connect_later(void *arg)
{
    struct job *const j = arg;
    const int fd = socket(AF_INET, SOCK_STREAM, 0);

    job_wait(j);
    j->result = connect_to(fd, j->port);
    CHECK_EQ(j->result, 0);
    /* Keep the connection until the accepting side has looked at it. */
    char byte;
    CHECK_EQ(recv(fd, &byte, 1, 0), 0);
    close(fd);
    return NULL;
}

/* Accept one connection on j->fd and read it to EOF. */
static void *accept_and_drain(void *arg)
{
    struct job *const j = arg;
    unsigned char buf[5000];
    const int fd = accept(j->fd, NULL, NULL);

    CHECK_OK(fd);
    for (;;) {
        const ssize_t r = recv(fd, buf, sizeof buf, 0);
        if (r <= 0) {
            CHECK_EQ(r, 0);
            break;
        }
        for (ssize_t i = 0; i < r; i++) {
            j->sum = j->sum * 31 + buf[i];
        }
        j->result += r;
    }
    close(fd);
    return NULL;
}

static unsigned long checksum(const unsigned char *p, long n)
{
    unsigned long sum = 0;

    for (long i = 0; i < n; i++) {
        sum = sum * 31 + p[i];
    }
    return sum;
}

static void socketpair_calls(void)
{
    int sv[2];
    char buf[4096];
    pthread_t t;
    struct gate gate;

    gate_init(&gate);
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    struct job ping = { .fd = sv[1], .gate = &gate };
    CHECK_RC(pthread_create(&t, NULL, send_ping, &ping));
    gate_open(&gate);
    REPORT_ERRNO("socketpair: recv waits for a sending thread",
                 recv(sv[0], buf, sizeof buf, 0), 0);
    CHECK_RC(pthread_join(t, NULL));
    printf("socketpair: the thread's send: %ld\n", ping.result);

    struct job pong = { .fd = sv[1], .gate = &gate };
    CHECK_RC(pthread_create(&t, NULL, recv_some, &pong));
    gate_pass(&gate);
    REPORT_ERRNO("socketpair: send to a receiving thread",
                 send(sv[0], "pong", 4, 0), 0);
    CHECK_RC(pthread_join(t, NULL));
    printf("socketpair: the thread's recv: %ld\n", pong.result);

    REPORT_ERRNO("socketpair: recv MSG_DONTWAIT with no data",
                 recv(sv[0], buf, sizeof buf, MSG_DONTWAIT), EAGAIN);
    memset(buf, 's', sizeof buf);
    int sends = 0;
    while (sends < 100000 &&
           send(sv[0], buf, sizeof buf, MSG_DONTWAIT) > 0) {
        sends++;
    }
    printf("socketpair: send MSG_DONTWAIT until full: %s\n",
           errno_name(errno));
    CHECK_EQ(errno, EAGAIN);
    CHECK_OK(close(sv[0]));
    CHECK_OK(close(sv[1]));

    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    const int fl = fcntl(sv[0], F_GETFL);
    CHECK_OK(fcntl(sv[0], F_SETFL, fl | O_NONBLOCK));
    printf("socketpair: fcntl O_NONBLOCK visible: %d\n",
           nonblock_visible(sv[0]));
    REPORT_ERRNO("socketpair: recv after fcntl O_NONBLOCK",
                 recv(sv[0], buf, sizeof buf, 0), EAGAIN);
    CHECK_OK(fcntl(sv[0], F_SETFL, fl));
    int on = 1;
    CHECK_OK(ioctl(sv[0], FIONBIO, &on));
    printf("socketpair: ioctl FIONBIO visible: %d\n",
           nonblock_visible(sv[0]));
    REPORT_ERRNO("socketpair: recv after ioctl FIONBIO",
                 recv(sv[0], buf, sizeof buf, 0), EAGAIN);
    on = 0;
    CHECK_OK(ioctl(sv[0], FIONBIO, &on));
    printf("socketpair: ioctl FIONBIO cleared visible: %d\n",
           nonblock_visible(sv[0]));

    struct job parts = { .fd = sv[1], .gate = &gate, .peer = sv[0] };
    CHECK_RC(pthread_create(&t, NULL, send_in_three_parts, &parts));
    gate_open(&gate);
    REPORT_ERRNO("socketpair: recv MSG_WAITALL 3000 from 3 sends",
                 recv(sv[0], buf, 3000, MSG_WAITALL), 0);
    CHECK_RC(pthread_join(t, NULL));

    CHECK_EQ(send(sv[1], "peek", 4, 0), 4);
    REPORT_ERRNO("socketpair: recv MSG_PEEK",
                 recv(sv[0], buf, sizeof buf, MSG_PEEK), 0);
    REPORT_ERRNO("socketpair: recv after MSG_PEEK",
                 recv(sv[0], buf, sizeof buf, 0), 0);

    struct job closing = { .fd = sv[1], .gate = &gate, .peer = sv[0] };
    CHECK_RC(pthread_create(&t, NULL, send_then_close, &closing));
    gate_open(&gate);
    REPORT_ERRNO("socketpair: recv MSG_WAITALL 3000, peer sends 1000 and "
                 "closes", recv(sv[0], buf, 3000, MSG_WAITALL), 0);
    CHECK_RC(pthread_join(t, NULL));
    CHECK_OK(close(sv[0]));
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));

    struct job closer = { .fd = sv[1], .gate = &gate };
    CHECK_RC(pthread_create(&t, NULL, close_later, &closer));
    gate_open(&gate);
    REPORT_ERRNO("socketpair: recv returns 0 when a thread closes the peer",
                 recv(sv[0], buf, sizeof buf, 0), 0);
    CHECK_RC(pthread_join(t, NULL));
    REPORT_ERRNO("socketpair: send to a closed peer",
                 send(sv[0], "x", 1, 0), EPIPE);
    CHECK_OK(close(sv[0]));
    gate_close(&gate);
}

static void *recv_one(void *arg)
{
    struct job *const j = arg;
    char buf[100];

    gate_open(j->gate);
    j->result = recv(j->fd, buf, sizeof buf, 0);
    return NULL;
}

static void *send_big(void *arg)
{
    struct job *const j = arg;

    gate_open(j->gate);
    j->result = send(j->fd, big, BIG, 0);
    return NULL;
}

/* One thread waits in recv while another waits in send, on one socket. */
static void full_duplex(void)
{
    int sv[2];
    pthread_t r, s;
    unsigned char buf[65536];

    for (long i = 0; i < BIG; i++) {
        big[i] = (unsigned char)(i * 5 + (i >> 9));
    }
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    struct gate both;
    gate_init(&both);
    struct job receiver = { .fd = sv[0], .gate = &both };
    struct job sender = { .fd = sv[0], .gate = &both };
    CHECK_RC(pthread_create(&r, NULL, recv_one, &receiver));
    CHECK_RC(pthread_create(&s, NULL, send_big, &sender));
    gate_pass(&both);       /* both threads announced their calls */
    gate_pass(&both);
    CHECK_EQ(send(sv[1], "hello", 5, 0), 5);
    CHECK_RC(pthread_join(r, NULL));
    long total = 0;
    unsigned long sum = 0;
    while (total < BIG) {
        const ssize_t n = recv(sv[1], buf, sizeof buf, 0);
        if (n <= 0) {
            CHECK(n > 0);
            break;
        }
        for (ssize_t i = 0; i < n; i++) {
            sum = sum * 31 + buf[i];
        }
        total += n;
    }
    CHECK_RC(pthread_join(s, NULL));
    printf("duplex: one thread's recv %ld while another's send %ld, "
           "peer got %ld bytes, checksum %s\n", receiver.result,
           sender.result, total, sum == checksum(big, BIG) ? "ok" : "WRONG");
    CHECK_OK(close(sv[0]));
    CHECK_OK(close(sv[1]));
    gate_close(&both);
}

static void tcp_calls(void)
{
    int port;
    pthread_t t;
    const int lfd = bound_socket(SOCK_STREAM, 1, &port);

    /* 1 MiB in one send: the sender must wait for the receiving thread. */
    for (long i = 0; i < BIG; i++) {
        big[i] = (unsigned char)(i * 13 + (i >> 10));
    }
    struct job drain = { .fd = lfd };
    CHECK_RC(pthread_create(&t, NULL, accept_and_drain, &drain));
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    REPORT_ERRNO("tcp: connect to a listener", connect_to(fd, port), 0);
    printf("tcp: connected socket O_NONBLOCK visible: %d\n",
           nonblock_visible(fd));
    REPORT_ERRNO("tcp: send 1 MiB in one call to a receiving thread",
                 send(fd, big, BIG, 0), 0);
    REPORT_ERRNO("tcp: connect again", connect_to(fd, port), EISCONN);
    CHECK_OK(close(fd));
    CHECK_RC(pthread_join(t, NULL));
    printf("tcp: receiving thread got %ld bytes, checksum %s\n",
           drain.result, drain.sum == checksum(big, BIG) ? "ok" : "WRONG");

    /* accept waits for a connecting thread. */
    struct gate gate;
    gate_init(&gate);
    struct job conn = { .gate = &gate, .port = port };
    CHECK_RC(pthread_create(&t, NULL, connect_later, &conn));
    gate_open(&gate);
    int afd = accept(lfd, NULL, NULL);
    printf("tcp: accept waits for a connecting thread: %s\n",
           afd >= 0 ? "fd" : errno_name(errno));
    CHECK_OK(afd);
    printf("tcp: accept: O_NONBLOCK %d FD_CLOEXEC %d\n",
           nonblock_visible(afd), cloexec_visible(afd));
    close(afd);
    CHECK_RC(pthread_join(t, NULL));

    const int flag_sets[] = { 0, SOCK_NONBLOCK, SOCK_CLOEXEC,
                              SOCK_NONBLOCK | SOCK_CLOEXEC };
    const char *const flag_names[] = { "0", "SOCK_NONBLOCK", "SOCK_CLOEXEC",
                                       "SOCK_NONBLOCK|SOCK_CLOEXEC" };
    for (int i = 0; i < 4; i++) {
        CHECK_RC(pthread_create(&t, NULL, connect_later, &conn));
        gate_open(&gate);
        afd = accept4(lfd, NULL, NULL, flag_sets[i]);
        CHECK_OK(afd);
        printf("tcp: accept4 %s: O_NONBLOCK %d FD_CLOEXEC %d\n",
               flag_names[i], nonblock_visible(afd), cloexec_visible(afd));
        if (flag_sets[i] & SOCK_NONBLOCK) {
            char byte;
            REPORT_ERRNO("tcp: recv on the SOCK_NONBLOCK accepted socket",
                         recv(afd, &byte, 1, 0), EAGAIN);
        }
        close(afd);
        CHECK_RC(pthread_join(t, NULL));
    }

    /* The peer's address comes back too. */
    CHECK_RC(pthread_create(&t, NULL, connect_later, &conn));
    gate_open(&gate);
    struct sockaddr_in peer;
    socklen_t len = sizeof peer;
    afd = accept(lfd, (struct sockaddr *)&peer, &len);
    CHECK_OK(afd);
    printf("tcp: accept peer address %s length %u\n",
           inet_ntoa(peer.sin_addr), (unsigned)len);
    close(afd);
    CHECK_RC(pthread_join(t, NULL));
    CHECK_RC(pthread_create(&t, NULL, connect_later, &conn));
    gate_open(&gate);
    char small[4];
    len = sizeof small;
    afd = accept(lfd, (struct sockaddr *)small, &len);
    CHECK_OK(afd);
    printf("tcp: accept into a 4-byte address buffer: length %u\n",
           (unsigned)len);
    close(afd);
    CHECK_RC(pthread_join(t, NULL));
    gate_close(&gate);

    const int fl = fcntl(lfd, F_GETFL);
    CHECK_OK(fcntl(lfd, F_SETFL, fl | O_NONBLOCK));
    REPORT_ERRNO("tcp: accept on an O_NONBLOCK listener",
                 accept(lfd, NULL, NULL), EAGAIN);
    REPORT_ERRNO("tcp: accept4 on an O_NONBLOCK listener",
                 accept4(lfd, NULL, NULL, SOCK_CLOEXEC), EAGAIN);
    CHECK_OK(fcntl(lfd, F_SETFL, fl));
    CHECK_OK(close(lfd));

    int nport;
    const int nlfd = bound_socket(SOCK_STREAM | SOCK_NONBLOCK, 1, &nport);
    REPORT_ERRNO("tcp: accept on a SOCK_NONBLOCK listener",
                 accept(nlfd, NULL, NULL), EAGAIN);
    CHECK_OK(close(nlfd));
}

static void connect_calls(void)
{
    int port, lport;
    const int bound = bound_socket(SOCK_STREAM, 0, &port);
    const int lfd = bound_socket(SOCK_STREAM, 1, &lport);

    int fd = socket(AF_INET, SOCK_STREAM, 0);
    REPORT_ERRNO("connect: to a bound port nobody listens on",
                 connect_to(fd, port), ECONNREFUSED);
    CHECK_OK(close(fd));

    fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    REPORT_ERRNO("connect: SOCK_NONBLOCK socket", connect_to(fd, lport),
                 EINPROGRESS);
    struct pollfd pfd = { .fd = fd, .events = POLLOUT };
    REPORT_ERRNO("connect: poll for POLLOUT", poll(&pfd, 1, 10000), 0);
    int err = -1;
    socklen_t len = sizeof err;
    CHECK_OK(getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len));
    printf("connect: SO_ERROR after POLLOUT: %s\n", errno_name(err));
    CHECK_OK(close(fd));

    fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK_OK(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK));
    REPORT_ERRNO("connect: fcntl O_NONBLOCK socket", connect_to(fd, lport),
                 EINPROGRESS);
    CHECK_OK(close(fd));

    fd = socket(AF_INET, SOCK_STREAM, 0);
    REPORT_ERRNO("connect: blocking socket to a listener",
                 connect_to(fd, lport), 0);
    printf("connect: O_NONBLOCK visible afterwards: %d\n",
           nonblock_visible(fd));
    REPORT_ERRNO("connect: again on the connected socket",
                 connect_to(fd, lport), EISCONN);
    CHECK_OK(close(fd));

    fd = socket(AF_INET, SOCK_STREAM, 0);
    const struct sockaddr_in sa = loopback(lport);
    REPORT_ERRNO("connect: address length 1",
                 connect(fd, (const struct sockaddr *)&sa, 1), EINVAL);
    REPORT_ERRNO("connect: bad address pointer",
                 connect(fd, bad_address, sizeof sa), EFAULT);
    CHECK_OK(close(fd));
    REPORT_ERRNO("connect: fd -1", connect_to(-1, lport), EBADF);
    REPORT_ERRNO("connect: closed fd", connect_to(fd, lport), EBADF);
    int p[2];
    CHECK_OK(pipe(p));
    REPORT_ERRNO("connect: pipe", connect_to(p[0], lport), ENOTSOCK);
    CHECK_OK(close(p[0]));
    CHECK_OK(close(p[1]));
    CHECK_OK(close(bound));
    CHECK_OK(close(lfd));
}

static void errors(void)
{
    char buf[16];
    int p[2], port;

    CHECK_OK(pipe(p));
    REPORT_ERRNO("recv on a pipe", recv(p[0], buf, sizeof buf, 0), ENOTSOCK);
    REPORT_ERRNO("send on a pipe", send(p[1], "x", 1, 0), ENOTSOCK);
    REPORT_ERRNO("accept on a pipe", accept(p[0], NULL, NULL), ENOTSOCK);
    REPORT_ERRNO("accept4 on a pipe", accept4(p[0], NULL, NULL, 0),
                 ENOTSOCK);
    CHECK_OK(close(p[0]));
    CHECK_OK(close(p[1]));
    REPORT_ERRNO("recv fd -1", recv(-1, buf, sizeof buf, 0), EBADF);
    REPORT_ERRNO("send fd -1", send(-1, "x", 1, 0), EBADF);
    REPORT_ERRNO("accept fd -1", accept(-1, NULL, NULL), EBADF);
    REPORT_ERRNO("accept4 fd -1", accept4(-1, NULL, NULL, 0), EBADF);
    REPORT_ERRNO("recv closed fd", recv(p[0], buf, sizeof buf, 0), EBADF);
    REPORT_ERRNO("accept closed fd", accept(p[0], NULL, NULL), EBADF);

    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    REPORT_ERRNO("accept on a socket that is not listening",
                 accept(fd, NULL, NULL), EINVAL);
    REPORT_ERRNO("recv on an unconnected TCP socket",
                 recv(fd, buf, sizeof buf, 0), ENOTCONN);
    CHECK_OK(close(fd));
    const int lfd = bound_socket(SOCK_STREAM, 1, &port);
    REPORT_ERRNO("accept4 with unknown flags", accept4(lfd, NULL, NULL, 1),
                 EINVAL);
    CHECK_OK(close(lfd));

    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    CHECK_EQ(send(sv[1], "0123456789", 10, 0), 10);
    REPORT_ERRNO("recv into a bad buffer",
                 recv(sv[0], bad_address, 10, 0), EFAULT);
    REPORT_ERRNO("send from a bad buffer", send(sv[0], bad_address, 10, 0),
                 EFAULT);
    CHECK_OK(close(sv[0]));
    CHECK_OK(close(sv[1]));
}

static const struct section sections[] = {
    { "socketpair", socketpair_calls },
    { "duplex", full_duplex },
    { "tcp", tcp_calls },
    { "connect", connect_calls },
    { "errors", errors },
};

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    companion_start();
    return RUN_SECTIONS(argc, argv, sections, companion_stop);
}
