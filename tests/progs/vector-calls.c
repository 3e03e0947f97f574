/* SPDX-License-Identifier: MIT */
/* vector-calls [udp|stream|pipe|errors | parked [HOLD_FILE]]: readv,
 * writev, recvfrom, recvmsg, sendto and sendmsg between threads on
 * loopback UDP, a stream socketpair and a pipe; their blocking semantics,
 * timeouts and errors.
 *
 * With a section name, that section; without arguments, udp, stream, pipe
 * and errors: one transcript line per check (the call, its result, the
 * errno name, and facts about the data and addresses).  A companion
 * thread stays parked for the whole run, so that every call is made while
 * the program has more than one thread.  A thread that must find another
 * one waiting acts only once that one announced its call through a gate
 * (a pipe): under libgreen it first runs when the caller parked.  A
 * receive that must get its data has an hour's SO_RCVTIMEO; timeouts are
 * checked as lower bounds only.
 *
 * With "parked": a thread blocks in recvfrom on a UDP socket; once it said
 * it is about to, main prints "parked in recvfrom", waits (at most 60 s)
 * for HOLD_FILE when given so that a test can inspect the process, then
 * sends a datagram and prints what recvfrom returned.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

enum { MIB = 1 << 20, UDP_MAX = 65507 };

/* Counts hidden from the compiler's access checks. */
static volatile int minus_one = -1;
static volatile int iov_max_plus_one = IOV_MAX + 1;

/* The byte at offset i of every large transfer. */
static unsigned char pattern(long i)
{
    return (unsigned char)(i * 7 % 251);
}

static unsigned char big[MIB];

/* A UDP socket bound to 127.0.0.1 on a port of the kernel's choice; its
 * address in *sa. */
static int udp_socket(struct sockaddr_in *sa)
{
    const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    socklen_t len = sizeof *sa;

    CHECK_OK(fd);
    *sa = (struct sockaddr_in){ .sin_family = AF_INET };
    sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK_OK(bind(fd, (struct sockaddr *)sa, sizeof *sa));
    CHECK_OK(getsockname(fd, (struct sockaddr *)sa, &len));
    return fd;
}

static int same_address(const struct sockaddr_in *a,
                        const struct sockaddr_in *b)
{
    return a->sin_family == b->sin_family && a->sin_port == b->sin_port &&
           a->sin_addr.s_addr == b->sin_addr.s_addr;
}

/* A gate: a thread announces a call (gate_open) and another waits for the
 * announcement (gate_pass) before it acts. */
static int gate[2] = { -1, -1 };

static void gate_open(void)
{
    CHECK_EQ(write(gate[1], "g", 1), 1);
}

static void gate_pass(void)
{
    char byte;
    CHECK_EQ(read(gate[0], &byte, 1), 1);
}

/* A datagram a helper thread sends once main opened the gate. */
struct datagram {
    int fd;
    struct sockaddr_in to;
    const char *data;
};

static void *send_datagram_later(void *arg)
{
    struct datagram *const d = arg;
    const size_t len = strlen(d->data);

    gate_pass();
    CHECK_EQ(sendto(d->fd, d->data, len, 0, (struct sockaddr *)&d->to,
                    sizeof d->to),
             len);
    return NULL;
}

static void udp_between_threads(void)
{
    struct sockaddr_in rx_addr, tx_addr, from;
    const int rx = udp_socket(&rx_addr);
    const int tx = udp_socket(&tx_addr);
    char buf[64];
    pthread_t t;

    struct datagram ping = { .fd = tx, .to = rx_addr, .data = "ping" };
    CHECK_RC(pthread_create(&t, NULL, send_datagram_later, &ping));
    gate_open();
    socklen_t fromlen = sizeof from;
    memset(&from, 0, sizeof from);
    long r = REPORT_ERRNO("recvfrom waits for a datagram from a thread",
                          recvfrom(rx, buf, sizeof buf, 0,
                                   (struct sockaddr *)&from, &fromlen),
                          0);
    printf("recvfrom data \"%.*s\", fromlen %u, source is the sender: %d\n",
           (int)(r > 0 ? r : 0), buf, (unsigned)fromlen,
           same_address(&from, &tx_addr));
    CHECK_EQ(r, 4);
    CHECK(same_address(&from, &tx_addr));
    CHECK_RC(pthread_join(t, NULL));

    /* recvmsg: the source address and a datagram spread over 3 iovecs. */
    char a[3], b[3], c[8];
    struct iovec iov[3] = { { a, sizeof a }, { b, sizeof b },
                            { c, sizeof c } };
    memset(&from, 0, sizeof from);
    struct msghdr msg = { .msg_name = &from, .msg_namelen = sizeof from,
                          .msg_iov = iov, .msg_iovlen = 3 };
    ping.data = "0123456789";
    CHECK_RC(pthread_create(&t, NULL, send_datagram_later, &ping));
    gate_open();
    r = REPORT_ERRNO("recvmsg into 3 iovecs waits for a datagram",
                     recvmsg(rx, &msg, 0), 0);
    printf("recvmsg iovecs \"%.3s\" \"%.3s\" \"%.4s\", namelen %u, "
           "source is the sender: %d, flags 0x%x\n",
           a, b, c, (unsigned)msg.msg_namelen, same_address(&from, &tx_addr),
           (unsigned)msg.msg_flags);
    CHECK_EQ(r, 10);
    CHECK_RC(pthread_join(t, NULL));

    /* A datagram longer than the iovecs is cut: MSG_TRUNC in msg_flags. */
    ping.data = "abcdefghijklmnopqrstuvwxyz";
    CHECK_RC(pthread_create(&t, NULL, send_datagram_later, &ping));
    gate_open();
    msg.msg_namelen = sizeof from;
    r = REPORT_ERRNO("recvmsg 26-byte datagram into 14 bytes of iovecs",
                     recvmsg(rx, &msg, 0), 0);
    printf("recvmsg MSG_TRUNC set: %d\n", (msg.msg_flags & MSG_TRUNC) != 0);
    CHECK_EQ(r, 14);
    CHECK_RC(pthread_join(t, NULL));

    /* MSG_TRUNC to recvfrom: the real length of the datagram. */
    ping.data = "0123456789";
    CHECK_RC(pthread_create(&t, NULL, send_datagram_later, &ping));
    gate_open();
    r = REPORT_ERRNO("recvfrom MSG_TRUNC, 10-byte datagram into 4 bytes",
                     recvfrom(rx, buf, 4, MSG_TRUNC, NULL, NULL), 0);
    CHECK_EQ(r, 10);
    CHECK_RC(pthread_join(t, NULL));

    /* sendmsg with a destination and 3 iovecs makes one datagram. */
    struct iovec out[3] = { { "abc", 3 }, { "defg", 4 }, { "hi", 2 } };
    struct msghdr smsg = { .msg_name = &rx_addr,
                           .msg_namelen = sizeof rx_addr,
                           .msg_iov = out, .msg_iovlen = 3 };
    REPORT_ERRNO("sendmsg 3 iovecs as one datagram", sendmsg(tx, &smsg, 0),
                 0);
    fromlen = sizeof from;
    r = REPORT_ERRNO("recvfrom that datagram",
                     recvfrom(rx, buf, sizeof buf, 0,
                              (struct sockaddr *)&from, &fromlen),
                     0);
    printf("datagram \"%.*s\", source is the sender: %d\n",
           (int)(r > 0 ? r : 0), buf, same_address(&from, &tx_addr));
    CHECK_EQ(r, 9);

    /* The largest UDP payload goes; one byte more does not. */
    char *const huge = calloc(1, UDP_MAX + 1);
    CHECK(huge != NULL);
    REPORT_ERRNO("sendto 65507 bytes over UDP",
                 sendto(tx, huge, UDP_MAX, 0, (struct sockaddr *)&rx_addr,
                        sizeof rx_addr),
                 0);
    REPORT_ERRNO("recvfrom the 65507-byte datagram",
                 recvfrom(rx, huge, UDP_MAX + 1, 0, NULL, NULL), 0);
    REPORT_ERRNO("sendto 65508 bytes over UDP",
                 sendto(tx, huge, UDP_MAX + 1, 0, (struct sockaddr *)&rx_addr,
                        sizeof rx_addr),
                 EMSGSIZE);
    struct iovec halves[2] = { { huge, 40000 }, { huge + 40000, 25508 } };
    smsg.msg_iov = halves;
    smsg.msg_iovlen = 2;
    REPORT_ERRNO("sendmsg 65508 bytes in 2 iovecs over UDP",
                 sendmsg(tx, &smsg, 0), EMSGSIZE);
    free(huge);

    /* Non-blocking receives. */
    REPORT_ERRNO("recvfrom MSG_DONTWAIT, nothing queued",
                 recvfrom(rx, buf, sizeof buf, MSG_DONTWAIT, NULL, NULL),
                 EAGAIN);
    msg.msg_namelen = sizeof from;
    REPORT_ERRNO("recvmsg MSG_DONTWAIT, nothing queued",
                 recvmsg(rx, &msg, MSG_DONTWAIT), EAGAIN);
    CHECK_OK(fcntl(rx, F_SETFL, fcntl(rx, F_GETFL) | O_NONBLOCK));
    REPORT_ERRNO("recvfrom O_NONBLOCK, nothing queued",
                 recvfrom(rx, buf, sizeof buf, 0, NULL, NULL), EAGAIN);
    REPORT_ERRNO("recvmsg O_NONBLOCK, nothing queued", recvmsg(rx, &msg, 0),
                 EAGAIN);
    REPORT_ERRNO("readv O_NONBLOCK UDP socket, nothing queued",
                 readv(rx, iov, 3), EAGAIN);
    CHECK_OK(fcntl(rx, F_SETFL, fcntl(rx, F_GETFL) & ~O_NONBLOCK));

    /* SO_RCVTIMEO: blocking receives give up with EAGAIN. */
    struct timeval tv = { .tv_usec = 50000 };
    CHECK_OK(setsockopt(rx, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
    long long start = now_ns(CLOCK_MONOTONIC);
    REPORT_ERRNO("recvfrom SO_RCVTIMEO 50 ms",
                 recvfrom(rx, buf, sizeof buf, 0, NULL, NULL), EAGAIN);
    CHECK_WAITED(start, 50);
    start = now_ns(CLOCK_MONOTONIC);
    msg.msg_namelen = sizeof from;
    REPORT_ERRNO("recvmsg SO_RCVTIMEO 50 ms", recvmsg(rx, &msg, 0), EAGAIN);
    CHECK_WAITED(start, 50);
    start = now_ns(CLOCK_MONOTONIC);
    REPORT_ERRNO("readv SO_RCVTIMEO 50 ms", readv(rx, iov, 3), EAGAIN);
    CHECK_WAITED(start, 50);

    /* A datagram arriving before the timeout still wins. */
    tv = (struct timeval){ .tv_sec = 3600 };
    CHECK_OK(setsockopt(rx, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
    ping.data = "late";
    CHECK_RC(pthread_create(&t, NULL, send_datagram_later, &ping));
    gate_open();
    REPORT_ERRNO("recvfrom SO_RCVTIMEO 3600 s, a thread sends meanwhile",
                 recvfrom(rx, buf, sizeof buf, 0, NULL, NULL), 0);
    CHECK_RC(pthread_join(t, NULL));

    REPORT_ERRNO("sendto unconnected UDP without an address",
                 sendto(tx, "x", 1, 0, NULL, 0), EDESTADDRREQ);
    CHECK_OK(close(rx));
    CHECK_OK(close(tx));
}

/* A reader that reads `expect` bytes in small readv calls, sleeping a
 * little between them, and checks them against pattern(). */
struct reader {
    int fd;
    long expect;
    long got;
    long bad;
};

static void *slow_reader(void *arg)
{
    struct reader *const rd = arg;
    unsigned char a[100], b[3996], c[12288];
    struct iovec iov[3] = { { a, sizeof a }, { b, sizeof b },
                            { c, sizeof c } };

    rd->got = 0;
    rd->bad = 0;
    while (rd->got < rd->expect) {
        const ssize_t r = readv(rd->fd, iov, 3);
        CHECK(r > 0);
        if (r <= 0) {
            break;
        }
        for (ssize_t i = 0; i < r; i++) {
            const unsigned char byte =
                i < 100 ? a[i] : i < 4096 ? b[i - 100] : c[i - 4096];
            if (byte != pattern(rd->got + i)) {
                rd->bad++;
            }
        }
        rd->got += r;
        usleep(200);
    }
    return NULL;
}

/* 1 MiB in 3 iovecs: a small head, a large middle and a small tail. */
static void mib_iovecs(struct iovec iov[3])
{
    iov[0] = (struct iovec){ big, 1000 };
    iov[1] = (struct iovec){ big + 1000, MIB - 2000 };
    iov[2] = (struct iovec){ big + MIB - 1000, 1000 };
}

static void stream_socketpair(void)
{
    int sv[2];
    struct iovec iov[3];
    pthread_t t;
    struct reader rd;

    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
    mib_iovecs(iov);

    rd = (struct reader){ .fd = sv[1], .expect = MIB };
    CHECK_RC(pthread_create(&t, NULL, slow_reader, &rd));
    REPORT_ERRNO("writev 1 MiB in 3 iovecs to a slow reader thread",
                 writev(sv[0], iov, 3), 0);
    CHECK_RC(pthread_join(t, NULL));
    printf("reader got %ld bytes, %ld wrong\n", rd.got, rd.bad);

    rd = (struct reader){ .fd = sv[1], .expect = MIB };
    CHECK_RC(pthread_create(&t, NULL, slow_reader, &rd));
    struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 3 };
    REPORT_ERRNO("sendmsg 1 MiB in 3 iovecs to a slow reader thread",
                 sendmsg(sv[0], &msg, 0), 0);
    CHECK_RC(pthread_join(t, NULL));
    printf("reader got %ld bytes, %ld wrong\n", rd.got, rd.bad);

    rd = (struct reader){ .fd = sv[1], .expect = MIB };
    CHECK_RC(pthread_create(&t, NULL, slow_reader, &rd));
    REPORT_ERRNO("sendto 1 MiB to a slow reader thread",
                 sendto(sv[0], big, MIB, 0, NULL, 0), 0);
    CHECK_RC(pthread_join(t, NULL));
    printf("reader got %ld bytes, %ld wrong\n", rd.got, rd.bad);

    /* readv spreads one write over several iovecs. */
    char a[4], b[4], c[4];
    struct iovec in[3] = { { a, 4 }, { b, 4 }, { c, 4 } };
    CHECK_EQ(write(sv[0], "0123456789", 10), 10);
    REPORT_ERRNO("readv 10 bytes into 3 iovecs of 4", readv(sv[1], in, 3),
                 0);
    printf("readv iovecs \"%.4s\" \"%.4s\" \"%.2s\"\n", a, b, c);

    /* recvfrom and recvmsg on a stream socket take what is queued. */
    CHECK_EQ(write(sv[0], "abcdef", 6), 6);
    REPORT_ERRNO("recvfrom stream socket, 6 bytes queued, 4 asked",
                 recvfrom(sv[1], a, sizeof a, 0, NULL, NULL), 0);
    msg = (struct msghdr){ .msg_iov = in, .msg_iovlen = 3 };
    REPORT_ERRNO("recvmsg the other 2 into 3 iovecs", recvmsg(sv[1], &msg, 0),
                 0);
    printf("recvmsg first iovec \"%.2s\"\n", a);

    /* Full send buffer: MSG_DONTWAIT, O_NONBLOCK, SO_SNDTIMEO. */
    while (send(sv[0], big, 4096, MSG_DONTWAIT) > 0) {
    }
    CHECK_EQ(errno, EAGAIN);
    struct iovec one = { "x", 1 };
    msg = (struct msghdr){ .msg_iov = &one, .msg_iovlen = 1 };
    REPORT_ERRNO("sendmsg MSG_DONTWAIT, send buffer full",
                 sendmsg(sv[0], &msg, MSG_DONTWAIT), EAGAIN);
    REPORT_ERRNO("sendto MSG_DONTWAIT, send buffer full",
                 sendto(sv[0], "x", 1, MSG_DONTWAIT, NULL, 0), EAGAIN);
    struct timeval tv = { .tv_usec = 50000 };
    CHECK_OK(setsockopt(sv[0], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv));
    long long start = now_ns(CLOCK_MONOTONIC);
    REPORT_ERRNO("writev SO_SNDTIMEO 50 ms, send buffer full",
                 writev(sv[0], &one, 1), EAGAIN);
    CHECK_WAITED(start, 50);
    CHECK_OK(fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK));
    REPORT_ERRNO("writev O_NONBLOCK, send buffer full",
                 writev(sv[0], &one, 1), EAGAIN);
    REPORT_ERRNO("sendmsg O_NONBLOCK, send buffer full",
                 sendmsg(sv[0], &msg, 0), EAGAIN);
    CHECK_OK(close(sv[0]));
    CHECK_OK(close(sv[1]));
}

/* A helper thread's writev once main opened the gate. */
struct vec_job {
    int fd;
};

static void *writev_later(void *arg)
{
    struct vec_job *const j = arg;
    struct iovec iov[3] = { { "abc", 3 }, { "defg", 4 }, { "hi", 2 } };

    gate_pass();
    CHECK_EQ(writev(j->fd, iov, 3), 9);
    return NULL;
}

static void pipe_between_threads(void)
{
    int p[2];
    pthread_t t;
    char a[5], b[5], c[5];
    struct iovec in[3] = { { a, 5 }, { b, 5 }, { c, 5 } };

    CHECK_OK(pipe(p));
    struct vec_job job = { .fd = p[1] };
    CHECK_RC(pthread_create(&t, NULL, writev_later, &job));
    gate_open();
    REPORT_ERRNO("readv pipe waits for a writev from a thread",
                 readv(p[0], in, 3), 0);
    printf("readv iovecs \"%.5s\" \"%.4s\"\n", a, b);
    CHECK_RC(pthread_join(t, NULL));

    /* A writev larger than the pipe blocks until a reader takes it all. */
    struct reader rd = { .fd = p[0], .expect = 256 * 1024 };
    struct iovec out[3] = { { big, 1 }, { big + 1, 256 * 1024 - 2 },
                            { big + 256 * 1024 - 1, 1 } };
    CHECK_RC(pthread_create(&t, NULL, slow_reader, &rd));
    REPORT_ERRNO("writev 256 KiB in 3 iovecs into a pipe a thread reads",
                 writev(p[1], out, 3), 0);
    CHECK_RC(pthread_join(t, NULL));
    printf("reader got %ld bytes, %ld wrong\n", rd.got, rd.bad);

    CHECK_OK(fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK));
    REPORT_ERRNO("readv O_NONBLOCK empty pipe", readv(p[0], in, 3), EAGAIN);
    CHECK_OK(fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) & ~O_NONBLOCK));

    CHECK_OK(fcntl(p[1], F_SETFL, fcntl(p[1], F_GETFL) | O_NONBLOCK));
    long filled = 0;
    ssize_t w;
    while ((w = write(p[1], big, 4096)) > 0) {
        filled += w;
    }
    CHECK_EQ(errno, EAGAIN);
    REPORT_ERRNO("writev O_NONBLOCK full pipe", writev(p[1], out, 3),
                 EAGAIN);
    CHECK_OK(fcntl(p[1], F_SETFL, fcntl(p[1], F_GETFL) & ~O_NONBLOCK));
    while (filled > 0) {
        const ssize_t r = read(p[0], big + MIB / 2, 4096);
        CHECK(r > 0);
        if (r <= 0) {
            break;
        }
        filled -= r;
    }
    CHECK_OK(close(p[0]));
    CHECK_OK(close(p[1]));
}

static void errors(void)
{
    int p[2], closed[2];
    char buf[16];
    struct iovec iov[2] = { { buf, 8 }, { buf + 8, 8 } };
    struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };
    struct sockaddr_in sa = { .sin_family = AF_INET };

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons(9);
    CHECK_OK(pipe(p));
    CHECK_OK(pipe(closed));
    CHECK_OK(close(closed[0]));
    CHECK_OK(close(closed[1]));

    REPORT_ERRNO("readv closed fd", readv(closed[0], iov, 2), EBADF);
    REPORT_ERRNO("writev closed fd", writev(closed[1], iov, 2), EBADF);
    REPORT_ERRNO("recvfrom closed fd",
                 recvfrom(closed[0], buf, sizeof buf, 0, NULL, NULL), EBADF);
    REPORT_ERRNO("recvmsg closed fd", recvmsg(closed[0], &msg, 0), EBADF);
    REPORT_ERRNO("sendto closed fd",
                 sendto(closed[1], "x", 1, 0, (struct sockaddr *)&sa,
                        sizeof sa),
                 EBADF);
    REPORT_ERRNO("sendmsg closed fd", sendmsg(closed[1], &msg, 0), EBADF);
    REPORT_ERRNO("readv fd -1", readv(-1, iov, 2), EBADF);

    REPORT_ERRNO("recvfrom on a pipe",
                 recvfrom(p[0], buf, sizeof buf, 0, NULL, NULL), ENOTSOCK);
    REPORT_ERRNO("recvmsg on a pipe", recvmsg(p[0], &msg, 0), ENOTSOCK);
    REPORT_ERRNO("sendto on a pipe",
                 sendto(p[1], "x", 1, 0, (struct sockaddr *)&sa, sizeof sa),
                 ENOTSOCK);
    REPORT_ERRNO("sendmsg on a pipe", sendmsg(p[1], &msg, 0), ENOTSOCK);

    /* Invalid counts are refused before anything blocks: the read end is
     * empty and the write end has room. */
    REPORT_ERRNO("readv iovcnt -1, empty pipe", readv(p[0], iov, minus_one),
                 EINVAL);
    REPORT_ERRNO("writev iovcnt -1", writev(p[1], iov, minus_one), EINVAL);
    struct iovec *const many = calloc(IOV_MAX + 1, sizeof *many);
    CHECK(many != NULL);
    for (int i = 0; i <= IOV_MAX; i++) {
        many[i] = (struct iovec){ buf, 1 };
    }
    REPORT_ERRNO("readv iovcnt IOV_MAX+1, empty pipe",
                 readv(p[0], many, iov_max_plus_one), EINVAL);
    REPORT_ERRNO("writev iovcnt IOV_MAX+1",
                 writev(p[1], many, iov_max_plus_one), EINVAL);
    REPORT_ERRNO("writev iovcnt IOV_MAX", writev(p[1], many, IOV_MAX), 0);
    REPORT_ERRNO("readv iovcnt IOV_MAX", readv(p[0], many, IOV_MAX), 0);

    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
    msg = (struct msghdr){ .msg_iov = many, .msg_iovlen = IOV_MAX + 1 };
    REPORT_ERRNO("sendmsg msg_iovlen IOV_MAX+1", sendmsg(sv[0], &msg, 0),
                 EMSGSIZE);
    REPORT_ERRNO("recvmsg msg_iovlen IOV_MAX+1, nothing queued",
                 recvmsg(sv[1], &msg, 0), EMSGSIZE);
    free(many);

    /* Bad pointers: data is ready (or room available), so only the
     * pointer can fail. */
    struct iovec bad = { bad_address, 8 };
    CHECK_EQ(write(p[1], "12345678", 8), 8);
    REPORT_ERRNO("readv bad iov_base, pipe has data", readv(p[0], &bad, 1),
                 EFAULT);
    REPORT_ERRNO("readv iov a bad pointer, pipe has data",
                 readv(p[0], bad_address, 1), EFAULT);
    REPORT_ERRNO("readv the data is still there", readv(p[0], iov, 1), 0);
    REPORT_ERRNO("writev bad iov_base", writev(p[1], &bad, 1), EFAULT);
    REPORT_ERRNO("writev iov a bad pointer", writev(p[1], bad_address, 1),
                 EFAULT);
    msg = (struct msghdr){ .msg_iov = &bad, .msg_iovlen = 1 };
    REPORT_ERRNO("sendmsg bad iov_base", sendmsg(sv[0], &msg, 0), EFAULT);
    REPORT_ERRNO("sendmsg msghdr a bad pointer",
                 sendmsg(sv[0], bad_address, 0), EFAULT);
    REPORT_ERRNO("sendto buffer a bad pointer",
                 sendto(sv[0], bad_address, 8, 0, NULL, 0), EFAULT);
    CHECK_EQ(write(sv[0], "12345678", 8), 8);
    REPORT_ERRNO("recvmsg bad iov_base, data queued",
                 recvmsg(sv[1], &msg, 0), EFAULT);
    REPORT_ERRNO("recvmsg msghdr a bad pointer",
                 recvmsg(sv[1], bad_address, 0), EFAULT);

    CHECK_OK(close(sv[0]));
    CHECK_OK(close(sv[1]));
    CHECK_OK(close(p[0]));
    CHECK_OK(close(p[1]));
}

struct parked {
    int fd;
    long result;
    struct sockaddr_in from;
    char buf[16];
};

static void *park_in_recvfrom(void *arg)
{
    struct parked *const p = arg;
    socklen_t len = sizeof p->from;

    gate_open();
    p->result = recvfrom(p->fd, p->buf, sizeof p->buf, 0,
                         (struct sockaddr *)&p->from, &len);
    return NULL;
}

/* "parked": a thread blocked in recvfrom while main waits for a file. */
static void parked(const char *hold)
{
    struct sockaddr_in rx_addr, tx_addr;
    const int rx = udp_socket(&rx_addr);
    const int tx = udp_socket(&tx_addr);
    struct parked waiter = { .fd = rx };
    pthread_t t;

    CHECK_RC(pthread_create(&t, NULL, park_in_recvfrom, &waiter));
    gate_pass();            /* the waiter calls recvfrom right after */
    printf("parked in recvfrom\n");
    fflush(stdout);
    if (hold != NULL) {
        wait_for_file(hold, 60);
    }
    CHECK_EQ(sendto(tx, "hello", 5, 0, (struct sockaddr *)&rx_addr,
                    sizeof rx_addr),
             5);
    CHECK_RC(pthread_join(t, NULL));
    printf("recvfrom returned %ld \"%.*s\", source is the sender: %d\n",
           waiter.result, (int)(waiter.result > 0 ? waiter.result : 0),
           waiter.buf, same_address(&waiter.from, &tx_addr));
    CHECK_EQ(waiter.result, 5);
    CHECK_OK(close(rx));
    CHECK_OK(close(tx));
}

static const struct section sections[] = {
    { "udp", udp_between_threads },
    { "stream", stream_socketpair },
    { "pipe", pipe_between_threads },
    { "errors", errors },
};

int main(int argc, char **argv)
{
    for (long i = 0; i < MIB; i++) {
        big[i] = pattern(i);
    }
    CHECK_OK(pipe(gate));
    if (argc >= 2 && strcmp(argv[1], "parked") == 0 && argc <= 3) {
        companion_start();
        parked(argc == 3 ? argv[2] : NULL);
        companion_stop();
        return check_exit_status();
    }
    if (argc > 2) {
        fprintf(stderr, "usage: %s [SECTION | parked [HOLD_FILE]]\n",
                argv[0]);
        return 2;
    }
    companion_start();
    return RUN_SECTIONS(argc, argv, sections, companion_stop);
}
