/* SPDX-License-Identifier: MIT */
/* io-more SECTION... | parked [HOLD_FILE]: the rest of the blocking I/O
 * surface, natively and under any runtime.  Sections, in groups (a group's
 * name runs each of its sections):
 *
 *   pos       pread, pwrite, preadv, pwritev, preadv2, pwritev2 and the *64
 *             names: pos-files (regular files), pos-espipe (ESPIPE at
 *             once on pipes and sockets), pos-waits (preadv2/pwritev2 at
 *             offset -1 waiting like readv/writev, 1 MiB through a pipe
 *             and a socketpair to a reader that starts once the writer
 *             waits);
 *   batch     recvmmsg and sendmmsg: batch-receive (vlen, MSG_WAITFORONE,
 *             the timeout checked only after a datagram), batch-send
 *             (MSG_DONTWAIT, 1 MiB in one call to a late reader over a
 *             socketpair and TCP on 127.0.0.1, a full datagram queue),
 *             batch-errors;
 *   transfer  sendfile, splice and tee, waiting on either side:
 *             transfer-sendfile, transfer-splice-tee, transfer-splice-big,
 *             transfer-errors;
 *   parked    threads blocked in preadv2, recvmmsg, sendmmsg, sendfile,
 *             splice and tee at once; prints "parked N", waits for
 *             HOLD_FILE when given, then releases them.
 *
 * Every waiting call runs in a worker thread, which says it is about to
 * call; main waits until it sleeps in the call (handshake.h), makes
 * progress (sets `progress`), then gives the worker what it waits for;
 * the worker records whether it saw that progress, and main prints the
 * results after joining, so the transcript is the same whatever the
 * scheduling. Nothing depends on timing, except that two recvmmsg
 * timeouts must have passed before a datagram is sent (a sleep longer
 * than them: a lower bound, which load cannot break). Errors are printed
 * by name; every check failure goes to stderr.
 * Built twice: plainly, and with -D_FORTIFY_SOURCE=2 -O2 (io-more-fortify),
 * where pread becomes __pread_chk.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include "check.h"
#include "handshake.h"

enum { BIG = 1 << 20, READ_CHUNK = 16384 };

static unsigned char big[BIG];
static int progress;

/* One waiting call made by a worker thread. */
struct job {
    long (*call)(struct job *);
    int fd, fd2;
    size_t len;
    void *buf;
    long r;             /* what the call returned */
    int err;            /* its errno */
    int seen;           /* progress as the call returned */
    pid_t tid;          /* the worker's gettid() */
    pthread_t t;
};

/* A worker is about to make its call. */
static struct handshake calling;

/* A reader started by reader_start waits for this before it reads. */
static struct handshake reader_go;
static int reader_waiting;

/* main made progress: a reader waiting for it may start. */
static void progress_now(void)
{
    STORE(&progress, 1);
    if (reader_waiting) {
        reader_waiting = 0;
        hs_post(&reader_go);
    }
}

static void *job_main(void *arg)
{
    struct job *const j = arg;

    STORE(&j->tid, gettid());
    hs_post(&calling);
    errno = 0;
    j->r = j->call(j);
    j->err = errno;
    j->seen = LOAD(&progress);
    return NULL;
}

/* Start the worker; return once it sleeps in its call, having made
 * progress. */
static void job_start(struct job *j, long (*call)(struct job *))
{
    j->call = call;
    STORE(&progress, 0);
    CHECK_RC(pthread_create(&j->t, NULL, job_main, j));
    hs_wait(&calling);
    wait_blocked(LOAD(&j->tid));
    progress_now();
}

/* Join the worker and print its result, and whether main's progress came
 * first (it must: the call waited for it). */
static long job_report(struct job *j, const char *label)
{
    CHECK_RC(pthread_join(j->t, NULL));
    printf("%s: %ld %s, after the other thread ran: %d\n", label, j->r,
           errno_name(j->r == -1 ? j->err : 0), j->seen);
    fflush(stdout);
    CHECK_EQ(j->seen, 1);
    return j->r;
}

static unsigned long checksum(const unsigned char *p, long n)
{
    unsigned long sum = 0;

    for (long i = 0; i < n; i++) {
        sum = sum * 31 + p[i];
    }
    return sum;
}

/* Reads fd to EOF (or `want` bytes) once main has made progress, that is
 * once the writer sleeps in its call: a writer of more than the buffers
 * hold must wait for it. */
struct reader {
    int fd;
    long want, total;
    unsigned long sum;
    pthread_t t;
};

static void *slow_read(void *arg)
{
    struct reader *const rd = arg;
    unsigned char *const buf = malloc(READ_CHUNK);

    hs_wait(&reader_go);
    while (rd->total < rd->want) {
        const ssize_t r = read(rd->fd, buf, READ_CHUNK);
        if (r <= 0) {
            CHECK_EQ(r, 0);
            break;
        }
        for (ssize_t i = 0; i < r; i++) {
            rd->sum = rd->sum * 31 + buf[i];
        }
        rd->total += r;
    }
    free(buf);
    return NULL;
}

static void reader_start(struct reader *rd, int fd, long want)
{
    *rd = (struct reader){ .fd = fd, .want = want };
    STORE(&progress, 0);
    reader_waiting = 1;
    CHECK_RC(pthread_create(&rd->t, NULL, slow_read, rd));
}

static void reader_report(struct reader *rd, const char *label)
{
    CHECK_RC(pthread_join(rd->t, NULL));
    printf("%s: reader got %ld bytes, checksum %s\n", label, rd->total,
           rd->sum == checksum(big, rd->total) ? "ok" : "WRONG");
    CHECK(rd->sum == checksum(big, rd->total));
}

/* A connected TCP pair on 127.0.0.1, with 64 KiB buffers (no autotuning:
 * 1 MiB never fits in them). */
static void tcp_pair(int sv[2])
{
    struct sockaddr_in a = { .sin_family = AF_INET,
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t alen = sizeof a;
    const int l = socket(AF_INET, SOCK_STREAM, 0);
    const int size = 65536;

    CHECK_OK(setsockopt(l, SOL_SOCKET, SO_RCVBUF, &size, sizeof size));
    CHECK_OK(bind(l, (struct sockaddr *)&a, alen));
    CHECK_OK(listen(l, 1));
    CHECK_OK(getsockname(l, (struct sockaddr *)&a, &alen));
    sv[0] = socket(AF_INET, SOCK_STREAM, 0);
    CHECK_OK(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof size));
    CHECK_OK(connect(sv[0], (struct sockaddr *)&a, alen));
    sv[1] = accept(l, NULL, NULL);
    CHECK_OK(sv[1]);
    close(l);
}

/* Two UDP sockets on 127.0.0.1 connected to each other. */
static void udp_pair(int sv[2])
{
    struct sockaddr_in a[2];

    for (int i = 0; i < 2; i++) {
        socklen_t alen = sizeof a[i];
        a[i] = (struct sockaddr_in){ .sin_family = AF_INET,
                                     .sin_addr.s_addr =
                                         htonl(INADDR_LOOPBACK) };
        sv[i] = socket(AF_INET, SOCK_DGRAM, 0);
        CHECK_OK(bind(sv[i], (struct sockaddr *)&a[i], alen));
        CHECK_OK(getsockname(sv[i], (struct sockaddr *)&a[i], &alen));
    }
    CHECK_OK(connect(sv[0], (struct sockaddr *)&a[1], sizeof a[1]));
    CHECK_OK(connect(sv[1], (struct sockaddr *)&a[0], sizeof a[0]));
}

/* Fill a socket's or pipe's buffer (without O_NONBLOCK: MSG_DONTWAIT
 * for sockets, a temporary O_NONBLOCK for pipes). Returns the bytes. */
static long fill(int fd, bool is_socket)
{
    static char junk[4096];
    long n = 0;
    const int fl = fcntl(fd, F_GETFL);

    if (!is_socket) {
        fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    }
    for (int i = 0; i < 100000; i++) {
        const ssize_t w = is_socket ? send(fd, junk, sizeof junk,
                                           MSG_DONTWAIT)
                                    : write(fd, junk, sizeof junk);
        if (w <= 0) {
            break;
        }
        n += w;
    }
    if (!is_socket) {
        fcntl(fd, F_SETFL, fl);
    }
    return n;
}

/* Read and drop `n` bytes. */
static void drain(int fd, long n)
{
    static char junk[65536];

    while (n > 0) {
        const ssize_t r = read(fd, junk, n < (long)sizeof junk
                                             ? (size_t)n : sizeof junk);
        if (r <= 0) {
            CHECK(r > 0);
            return;
        }
        n -= r;
    }
}

static int temp_file(const void *data, size_t len)
{
    char path[] = "/tmp/io-more.XXXXXX";
    const int fd = mkstemp(path);

    CHECK_OK(fd);
    unlink(path);
    if (len > 0) {
        CHECK_EQ(write(fd, data, len), (long)len);
    }
    CHECK_OK(lseek(fd, 0, SEEK_SET));
    return fd;
}

/* ---- pos ------------------------------------------------------------ */

static long call_preadv2_pipe(struct job *j)
{
    struct iovec v = { .iov_base = j->buf, .iov_len = j->len };

    return preadv2(j->fd, &v, 1, -1, 0);
}

static long call_preadv64v2_pipe(struct job *j)
{
    struct iovec v = { .iov_base = j->buf, .iov_len = j->len };

    return preadv64v2(j->fd, &v, 1, -1, RWF_HIPRI);
}

static long call_pwritev2_big(struct job *j)
{
    struct iovec v[2] = { { big, BIG / 2 }, { big + BIG / 2, BIG / 2 } };

    return pwritev2(j->fd, v, 2, -1, 0);
}

static long call_pwritev2_small(struct job *j)
{
    struct iovec v = { .iov_base = big, .iov_len = j->len };

    return pwritev2(j->fd, &v, 1, -1, RWF_DSYNC);
}

/* Regular files: positions, the file offset left alone, EOF. */
static void positional_files(void)
{
    char buf[16] = "";
    volatile size_t len = 4;    /* unknown to the compiler: __pread_chk */
    const int fd = temp_file("0123456789", 10);

    REPORT_ERRNO("pwrite 3 at 10", pwrite(fd, "abc", 3, 10), 0);
    REPORT_ERRNO("pread 4 at 3", pread(fd, buf, len, 3), 0);
    printf("pread got %.4s, file offset still %ld\n", buf,
           (long)lseek(fd, 0, SEEK_CUR));
    REPORT_ERRNO("pwrite64 2 at 0", pwrite64(fd, "XY", 2, 0), 0);
    REPORT_ERRNO("pread64 5 at 0", pread64(fd, buf, 5, 0), 0);
    printf("pread64 got %.5s\n", buf);
    char a[3], b[4];
    struct iovec v[2] = { { a, sizeof a }, { b, sizeof b } };
    REPORT_ERRNO("preadv 7 at 6", preadv(fd, v, 2, 6), 0);
    printf("preadv got %.3s|%.4s\n", a, b);
    REPORT_ERRNO("preadv64 7 at 1", preadv64(fd, v, 2, 1), 0);
    REPORT_ERRNO("pwritev 7 at 13", pwritev(fd, v, 2, 13), 0);
    REPORT_ERRNO("pwritev64 7 at 20", pwritev64(fd, v, 2, 20), 0);
    REPORT_ERRNO("preadv2 7 at 0", preadv2(fd, v, 2, 0, 0), 0);
    REPORT_ERRNO("preadv2 7 at the file offset (-1)",
                 preadv2(fd, v, 2, -1, 0), 0);
    printf("preadv2(-1) got %.3s|%.4s, file offset now %ld\n", a, b,
           (long)lseek(fd, 0, SEEK_CUR));
    REPORT_ERRNO("pwritev2 RWF_DSYNC at 27", pwritev2(fd, v, 2, 27,
                                                      RWF_DSYNC), 0);
    REPORT_ERRNO("pwritev64v2 at -1", pwritev64v2(fd, v, 2, -1, 0), 0);
    REPORT_ERRNO("preadv64v2 at 30", preadv64v2(fd, v, 2, 30, 0), 0);
    REPORT_ERRNO("pread at end of file", pread(fd, buf, len, 100), 0);
    REPORT_ERRNO("pread of 0 bytes", pread(fd, buf, 0, 0), 0);
    REPORT_ERRNO("pread into a bad buffer", pread(fd, bad_address, 4, 0),
                 EFAULT);
    REPORT_ERRNO("pwrite from a bad buffer",
                 pwrite(fd, bad_address, 4, 0), EFAULT);
    REPORT_ERRNO("pread at a negative offset", pread(fd, buf, 4, -1),
                 EINVAL);
    REPORT_ERRNO("preadv2 at offset -2", preadv2(fd, v, 2, -2, 0), EINVAL);
    volatile int minus_one = -1;
    REPORT_ERRNO("preadv with -1 iovecs", preadv(fd, v, minus_one, 0),
                 EINVAL);
    REPORT_ERRNO("preadv2 with an unknown flag",
                 preadv2(fd, v, 2, 0, 0x10000000), EOPNOTSUPP);
    REPORT_ERRNO("pread fd -1", pread(-1, buf, 4, 0), EBADF);
    REPORT_ERRNO("pwrite64 fd -1", pwrite64(-1, buf, 4, 0), EBADF);
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    const int ro = open(path, O_RDONLY);
    REPORT_ERRNO("pwrite to a read-only fd", pwrite(ro, "x", 1, 0), EBADF);
    CHECK_OK(close(ro));
    CHECK_OK(close(fd));
}

/* Pipes and sockets have no position: ESPIPE at once, never a wait (no
 * other thread will ever write to these). */
static void positional_espipe(void)
{
    char buf[8];
    struct iovec v = { buf, sizeof buf };
    int p[2], sv[2];

    CHECK_OK(pipe(p));
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    REPORT_ERRNO("pread on an empty pipe", pread(p[0], buf, 8, 0), ESPIPE);
    REPORT_ERRNO("pread64 on an empty pipe", pread64(p[0], buf, 8, 0),
                 ESPIPE);
    REPORT_ERRNO("preadv on an empty socket", preadv(sv[0], &v, 1, 0),
                 ESPIPE);
    REPORT_ERRNO("preadv2 at 0 on an empty pipe",
                 preadv2(p[0], &v, 1, 0, 0), ESPIPE);
    CHECK_EQ(fill(p[1], false) > 0, 1);
    REPORT_ERRNO("pwrite on a full pipe", pwrite(p[1], "x", 1, 0), ESPIPE);
    REPORT_ERRNO("pwritev2 at 5 on a full pipe",
                 pwritev2(p[1], &v, 1, 5, 0), ESPIPE);
    REPORT_ERRNO("preadv2 RWF_NOWAIT on an empty socket",
                 preadv2(sv[0], &v, 1, -1, RWF_NOWAIT), EAGAIN);
    REPORT_ERRNO("pwritev2 RWF_NOWAIT on a full pipe",
                 pwritev2(p[1], &v, 1, -1, RWF_NOWAIT), EAGAIN);
    close(p[0]);
    REPORT_ERRNO("pwritev2(-1) to a pipe without reader",
                 pwritev2(p[1], &v, 1, -1, 0), EPIPE);
    close(p[1]);
    close(sv[1]);
    REPORT_ERRNO("preadv2(-1) on a socket whose peer closed",
                 preadv2(sv[0], &v, 1, -1, 0), 0);
    close(sv[0]);
}

/* preadv2/pwritev2 at offset -1 wait like readv/writev. */
static void positional_waits(void)
{
    char buf[16] = "";
    int p[2], sv[2];
    struct job j = { .buf = buf, .len = sizeof buf };

    CHECK_OK(pipe(p));
    j.fd = p[0];
    job_start(&j, call_preadv2_pipe);
    CHECK_EQ(write(p[1], "hello", 5), 5);
    job_report(&j, "preadv2(-1) on an empty pipe waits for a writer");
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    j.fd = sv[0];
    job_start(&j, call_preadv64v2_pipe);
    CHECK_EQ(write(sv[1], "hi", 2), 2);
    job_report(&j, "preadv64v2(-1, RWF_HIPRI) on an empty socket waits");

    const long filled = fill(p[1], false);
    j = (struct job){ .fd = p[1], .len = 100 };
    job_start(&j, call_pwritev2_small);
    drain(p[0], filled);
    job_report(&j, "pwritev2(-1, RWF_DSYNC) on a full pipe waits for room");
    drain(p[0], 100);

    struct reader rd;
    j = (struct job){ .fd = p[1] };
    reader_start(&rd, p[0], BIG);
    job_start(&j, call_pwritev2_big);
    job_report(&j, "pwritev2(-1) of 1 MiB through a pipe");
    reader_report(&rd, "pipe");
    j = (struct job){ .fd = sv[1] };
    reader_start(&rd, sv[0], BIG);
    job_start(&j, call_pwritev2_big);
    job_report(&j, "pwritev2(-1) of 1 MiB through a socketpair");
    reader_report(&rd, "socketpair");
    close(p[0]);
    close(p[1]);
    close(sv[0]);
    close(sv[1]);
}


/* ---- batch ---------------------------------------------------------- */

enum { VLEN = 4, DGRAM = 64 };

static char dgrams[VLEN][DGRAM];
static struct iovec dgram_iov[VLEN];
static struct mmsghdr dgram_vec[VLEN];
static struct timespec batch_timeout;
static int batch_flags;

static void dgram_vec_reset(void)
{
    memset(dgrams, 0, sizeof dgrams);
    memset(dgram_vec, 0, sizeof dgram_vec);
    for (int i = 0; i < VLEN; i++) {
        dgram_iov[i] = (struct iovec){ dgrams[i], DGRAM };
        dgram_vec[i].msg_hdr.msg_iov = &dgram_iov[i];
        dgram_vec[i].msg_hdr.msg_iovlen = 1;
    }
}

static void dgram_vec_print(const char *label, long n)
{
    printf("%s:", label);
    for (long i = 0; i < n; i++) {
        printf(" %u:%.*s", dgram_vec[i].msg_len, (int)dgram_vec[i].msg_len,
               dgrams[i]);
    }
    printf("\n");
}

/* Wait until the worker took what `fd` held (FIONREAD says 0) and sleeps
 * in its call again. */
static void wait_consumed(int fd, struct job *j)
{
    int n = 1;

    for (int i = 0; i < 50000; i++) {
        CHECK_OK(ioctl(fd, FIONREAD, &n));
        if (n == 0) {
            break;
        }
        usleep(200);
    }
    CHECK_EQ(n, 0);
    wait_blocked(LOAD(&j->tid));
}

static long call_recvmmsg(struct job *j)
{
    return recvmmsg(j->fd, dgram_vec, (unsigned)j->len, batch_flags,
                    j->buf);
}

static long call_sendmmsg(struct job *j)
{
    return sendmmsg(j->fd, j->buf, (unsigned)j->len, batch_flags);
}

/* vlen, MSG_WAITFORONE and the timeout, on UDP over 127.0.0.1. */
static void batch_receive(void)
{
    int u[2];
    struct job j;

    udp_pair(u);
    dgram_vec_reset();
    j = (struct job){ .fd = u[1], .len = 3 };
    job_start(&j, call_recvmmsg);
    CHECK_EQ(send(u[0], "a", 1, 0), 1);
    wait_consumed(u[1], &j);
    CHECK_EQ(send(u[0], "bb", 2, 0), 2);
    wait_consumed(u[1], &j);
    CHECK_EQ(send(u[0], "ccc", 3, 0), 3);
    dgram_vec_print("recvmmsg waits for all 3",
                    job_report(&j, "recvmmsg vlen 3"));

    dgram_vec_reset();
    batch_flags = MSG_WAITFORONE;
    j = (struct job){ .fd = u[1], .len = VLEN };
    job_start(&j, call_recvmmsg);
    CHECK_EQ(send(u[0], "one", 3, 0), 3);
    dgram_vec_print("MSG_WAITFORONE returns after the first",
                    job_report(&j, "recvmmsg MSG_WAITFORONE vlen 4"));
    CHECK_EQ(send(u[0], "x", 1, 0), 1);
    CHECK_EQ(send(u[0], "yy", 2, 0), 2);
    REPORT_ERRNO("recvmmsg MSG_WAITFORONE with 2 queued",
                 recvmmsg(u[1], dgram_vec, VLEN, MSG_WAITFORONE, NULL), 0);
    batch_flags = 0;

    /* The timeout is checked after each datagram only: 100 ms pass while
     * waiting for the second (main sleeps 120 ms after the call began:
     * at least that long, however loaded the machine), which ends the
     * call once it arrives. */
    dgram_vec_reset();
    batch_timeout = (struct timespec){ 0, 100000000 };
    j = (struct job){ .fd = u[1], .len = VLEN, .buf = &batch_timeout };
    job_start(&j, call_recvmmsg);
    CHECK_EQ(send(u[0], "d1", 2, 0), 2);
    usleep(120000);
    CHECK_EQ(send(u[0], "d2", 2, 0), 2);
    dgram_vec_print("a 100 ms timeout ends the call after the next datagram",
                    job_report(&j, "recvmmsg vlen 4, 100 ms timeout"));
    printf("time left written back: %ld.%09ld\n",
           (long)batch_timeout.tv_sec, batch_timeout.tv_nsec);

    /* A timeout never ends the wait for the first datagram (main sleeps
     * 20 ms after the call began: the 1 ms passed). */
    batch_timeout = (struct timespec){ 0, 1000000 };
    j = (struct job){ .fd = u[1], .len = VLEN, .buf = &batch_timeout };
    job_start(&j, call_recvmmsg);
    usleep(20000);
    CHECK_EQ(send(u[0], "late", 4, 0), 4);
    job_report(&j, "recvmmsg with a 1 ms timeout still waits for one");

    REPORT_ERRNO("recvmmsg MSG_DONTWAIT on an empty blocking socket",
                 recvmmsg(u[1], dgram_vec, VLEN, MSG_DONTWAIT, NULL), EAGAIN);
    REPORT_ERRNO("recv MSG_DONTWAIT on an empty blocking socket",
                 recv(u[1], dgrams[0], DGRAM, MSG_DONTWAIT), EAGAIN);
    REPORT_ERRNO("recvmmsg MSG_ERRQUEUE with nothing queued",
                 recvmmsg(u[1], dgram_vec, VLEN, MSG_ERRQUEUE, NULL), EAGAIN);
    REPORT_ERRNO("recv MSG_ERRQUEUE with nothing queued",
                 recv(u[1], dgrams[0], DGRAM, MSG_ERRQUEUE), EAGAIN);
    REPORT_ERRNO("recvmsg MSG_ERRQUEUE with nothing queued",
                 recvmsg(u[1], &dgram_vec[0].msg_hdr, MSG_ERRQUEUE), EAGAIN);
    close(u[0]);
    close(u[1]);
}

/* Stream sockets: 1 MiB in one sendmmsg to a slow reader, over a
 * socketpair and TCP on 127.0.0.1; a full datagram socket. */
static void batch_send(void)
{
    struct iovec v[3] = { { big, 300000 }, { big + 300000, 400000 },
                          { big + 700000, BIG - 700000 } };
    struct mmsghdr m[3] = { 0 };
    int sv[2];
    struct reader rd;
    struct job j;

    for (int i = 0; i < 3; i++) {
        m[i].msg_hdr.msg_iov = &v[i];
        m[i].msg_hdr.msg_iovlen = 1;
    }
    for (int tcp = 0; tcp < 2; tcp++) {
        if (tcp) {
            tcp_pair(sv);
        } else {
            CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
        }
        reader_start(&rd, sv[1], BIG);
        j = (struct job){ .fd = sv[0], .len = 3, .buf = m };
        job_start(&j, call_sendmmsg);
        job_report(&j, tcp ? "sendmmsg 3 messages, 1 MiB, TCP"
                           : "sendmmsg 3 messages, 1 MiB, socketpair");
        printf("msg_len: %u %u %u\n", m[0].msg_len, m[1].msg_len,
               m[2].msg_len);
        reader_report(&rd, tcp ? "TCP" : "socketpair");
        fill(sv[0], true);
        REPORT_ERRNO("sendmmsg MSG_DONTWAIT on a full blocking socket",
                     sendmmsg(sv[0], m, 1, MSG_DONTWAIT), EAGAIN);
        close(sv[0]);
        close(sv[1]);
    }

    /* A datagram socketpair whose peer's queue is full. */
    CHECK_OK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
    struct iovec small = { (void *)"msg", 3 };
    struct mmsghdr two[2] = { { .msg_hdr = { .msg_iov = &small,
                                             .msg_iovlen = 1 } },
                              { .msg_hdr = { .msg_iov = &small,
                                             .msg_iovlen = 1 } } };
    long queued = 0;
    while (queued < 100000 && send(sv[0], "q", 1, MSG_DONTWAIT) == 1) {
        queued++;
    }
    j = (struct job){ .fd = sv[0], .len = 2, .buf = two };
    job_start(&j, call_sendmmsg);
    drain(sv[1], queued);       /* 1-byte datagrams: a writer wakes only
                                   once 3/4 of the buffer is free */
    job_report(&j, "sendmmsg of 2 datagrams waits for room in the queue");
    close(sv[0]);
    close(sv[1]);
}

static void batch_errors(void)
{
    int p[2], sv[2];
    struct timespec bad_ns = { 0, 2000000000 };

    CHECK_OK(pipe(p));
    CHECK_OK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
    dgram_vec_reset();
    REPORT_ERRNO("recvmmsg fd -1", recvmmsg(-1, dgram_vec, 2, 0, NULL),
                 EBADF);
    REPORT_ERRNO("recvmmsg on a pipe", recvmmsg(p[0], dgram_vec, 2, 0, NULL),
                 ENOTSOCK);
    REPORT_ERRNO("recvmmsg into a bad vector",
                 recvmmsg(sv[0], bad_address, 2, 0, NULL), EFAULT);
    REPORT_ERRNO("recvmmsg with tv_nsec 2e9",
                 recvmmsg(sv[0], dgram_vec, 2, 0, &bad_ns), EINVAL);
    REPORT_ERRNO("recvmmsg with a bad timeout pointer",
                 recvmmsg(sv[0], dgram_vec, 2, 0, bad_address), EFAULT);
    REPORT_ERRNO("recvmmsg with MSG_CMSG_COMPAT",
                 recvmmsg(sv[0], dgram_vec, 2, (int)0x80000000, NULL),
                 EINVAL);
    REPORT_ERRNO("recvmmsg vlen 0 fd -1", recvmmsg(-1, dgram_vec, 0, 0, NULL),
                 EBADF);
    REPORT_ERRNO("sendmmsg fd -1", sendmmsg(-1, dgram_vec, 1, 0), EBADF);
    REPORT_ERRNO("sendmmsg on a pipe", sendmmsg(p[1], dgram_vec, 1, 0),
                 ENOTSOCK);
    REPORT_ERRNO("sendmmsg from a bad vector", sendmmsg(sv[0], bad_address,
                                                        1, 0), EFAULT);
    CHECK_EQ(send(sv[0], "ok", 2, 0), 2);
    dgram_iov[1].iov_base = bad_address;
    REPORT_ERRNO("recvmmsg, second buffer bad, one datagram queued",
                 recvmmsg(sv[1], dgram_vec, 2, MSG_WAITFORONE, NULL), 0);
    dgram_vec_reset();
    close(sv[1]);
    REPORT_ERRNO("sendmmsg to a closed peer (SIGPIPE ignored)",
                 sendmmsg(sv[0], dgram_vec, 1, 0), ECONNREFUSED);
    close(sv[0]);
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    close(sv[1]);
    REPORT_ERRNO("sendmmsg on a stream whose peer closed",
                 sendmmsg(sv[0], dgram_vec, 2, 0), EPIPE);
    dgram_vec_reset();
    REPORT_ERRNO("recvmmsg on a stream whose peer closed",
                 recvmmsg(sv[0], dgram_vec, 2, 0, NULL), 0);
    close(sv[0]);
    close(p[0]);
    close(p[1]);
}


/* ---- transfer ------------------------------------------------------- */

static off_t transfer_off;

static long call_sendfile(struct job *j)
{
    return sendfile(j->fd, j->fd2, j->buf, j->len);
}

static long call_sendfile64(struct job *j)
{
    return sendfile64(j->fd, j->fd2, j->buf, j->len);
}

static long call_splice(struct job *j)
{
    return splice(j->fd, NULL, j->fd2, NULL, j->len, 0);
}

static long call_tee(struct job *j)
{
    return tee(j->fd, j->fd2, j->len, 0);
}

/* sendfile of 1 MiB from a file to a slow reader, over a socketpair and
 * over TCP; the file offset or *offset ends where natively. */
static void transfer_sendfile(void)
{
    const int fd = temp_file(big, BIG);
    int sv[2];
    struct reader rd;
    struct job j;

    for (int tcp = 0; tcp < 2; tcp++) {
        if (tcp) {
            tcp_pair(sv);
        } else {
            CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
        }
        CHECK_OK(lseek(fd, 0, SEEK_SET));
        reader_start(&rd, sv[1], BIG);
        j = (struct job){ .fd = sv[0], .fd2 = fd, .len = BIG };
        job_start(&j, call_sendfile);
        job_report(&j, tcp ? "sendfile 1 MiB, TCP"
                           : "sendfile 1 MiB, socketpair");
        printf("file offset after: %ld\n", (long)lseek(fd, 0, SEEK_CUR));
        reader_report(&rd, tcp ? "TCP" : "socketpair");

        CHECK_OK(lseek(fd, 0, SEEK_SET));
        transfer_off = BIG / 2;
        reader_start(&rd, sv[1], BIG / 2);
        j = (struct job){ .fd = sv[0], .fd2 = fd, .len = BIG,
                          .buf = &transfer_off };
        job_start(&j, call_sendfile64);
        job_report(&j, "sendfile64 from offset 512 KiB, count 1 MiB");
        printf("*offset after: %ld, file offset after: %ld\n",
               (long)transfer_off, (long)lseek(fd, 0, SEEK_CUR));
        CHECK_RC(pthread_join(rd.t, NULL));
        printf("reader got %ld bytes, checksum %s\n", rd.total,
               rd.sum == checksum(big + BIG / 2, BIG / 2) ? "ok" : "WRONG");
        close(sv[0]);
        close(sv[1]);
    }

    /* Into a full pipe: waits until there is room, then moves what fits. */
    int p[2];
    CHECK_OK(pipe(p));
    const long filled = fill(p[1], false);
    transfer_off = 0;
    j = (struct job){ .fd = p[1], .fd2 = fd, .len = 4096,
                      .buf = &transfer_off };
    job_start(&j, call_sendfile);
    drain(p[0], filled);
    job_report(&j, "sendfile of 4 KiB into a full pipe");
    close(p[0]);
    close(p[1]);
    close(fd);
}

static void transfer_splice_tee(void)
{
    char buf[16] = "";
    int a[2], b[2], t[2];
    struct job j;

    CHECK_OK(pipe(a));
    CHECK_OK(pipe(b));
    tcp_pair(t);
    j = (struct job){ .fd = a[0], .fd2 = b[1], .len = 100 };
    job_start(&j, call_splice);
    CHECK_EQ(write(a[1], "hello", 5), 5);
    job_report(&j, "splice from an empty pipe to a pipe");
    REPORT_ERRNO("read what splice moved", read(b[0], buf, sizeof buf), 0);

    j = (struct job){ .fd = a[0], .fd2 = t[0], .len = 100 };
    job_start(&j, call_splice);
    CHECK_EQ(write(a[1], "world", 5), 5);
    job_report(&j, "splice from an empty pipe to a TCP socket");
    REPORT_ERRNO("recv what splice sent", recv(t[1], buf, sizeof buf, 0), 0);

    j = (struct job){ .fd = t[1], .fd2 = b[1], .len = 100 };
    job_start(&j, call_splice);
    CHECK_EQ(send(t[0], "sock!", 5, 0), 5);
    job_report(&j, "splice from an empty TCP socket to a pipe");
    REPORT_ERRNO("read what splice moved", read(b[0], buf, sizeof buf), 0);

    const long filled = fill(b[1], false);
    CHECK_EQ(write(a[1], "full", 4), 4);
    j = (struct job){ .fd = a[0], .fd2 = b[1], .len = 100 };
    job_start(&j, call_splice);
    drain(b[0], filled);
    job_report(&j, "splice into a full pipe waits for room");
    drain(b[0], 4);

    j = (struct job){ .fd = a[0], .fd2 = b[1], .len = 100 };
    job_start(&j, call_tee);
    CHECK_EQ(write(a[1], "abc", 3), 3);
    job_report(&j, "tee from an empty pipe");
    REPORT_ERRNO("the source still holds it", read(a[0], buf, sizeof buf),
                 0);
    REPORT_ERRNO("the copy", read(b[0], buf, sizeof buf), 0);

    const long refilled = fill(b[1], false);
    CHECK_EQ(write(a[1], "xyz", 3), 3);
    j = (struct job){ .fd = a[0], .fd2 = b[1], .len = 100 };
    job_start(&j, call_tee);
    drain(b[0], refilled);
    job_report(&j, "tee into a full pipe waits for room");
    drain(b[0], 3);
    drain(a[0], 3);

    REPORT_ERRNO("splice SPLICE_F_NONBLOCK from an empty pipe",
                 splice(a[0], NULL, b[1], NULL, 10, SPLICE_F_NONBLOCK),
                 EAGAIN);
    REPORT_ERRNO("tee SPLICE_F_NONBLOCK from an empty pipe",
                 tee(a[0], b[1], 10, SPLICE_F_NONBLOCK), EAGAIN);
    close(a[0]);
    close(a[1]);
    close(b[0]);
    close(b[1]);
    close(t[0]);
    close(t[1]);
}

/* 1 MiB from a writer thread through a pipe, spliced to a TCP socket read
 * by a slow reader: each splice sends all that the pipe held. */
static void *write_big_pipe(void *arg)
{
    const int fd = *(int *)arg;

    CHECK_EQ(write(fd, big, BIG), BIG);
    CHECK_OK(close(fd));
    return NULL;
}

static void transfer_splice_big(void)
{
    int p[2], t[2];
    pthread_t w;
    struct reader rd;
    long total = 0;

    CHECK_OK(pipe(p));
    tcp_pair(t);
    reader_start(&rd, t[1], BIG);
    CHECK_RC(pthread_create(&w, NULL, write_big_pipe, &p[1]));
    progress_now();
    for (int i = 0; i < 100000; i++) {
        const ssize_t r = splice(p[0], NULL, t[0], NULL, BIG, 0);
        if (r <= 0) {
            CHECK_EQ(r, 0);
            break;
        }
        total += r;
    }
    CHECK_RC(pthread_join(w, NULL));
    printf("spliced %ld bytes from a pipe to a TCP socket\n", total);
    reader_report(&rd, "TCP");
    close(p[0]);
    close(t[0]);
    close(t[1]);
}

static void transfer_errors(void)
{
    int p[2], sv[2];
    const int fd = temp_file("0123456789", 10);
    off_t off = 0;
    loff_t loff = 0;

    CHECK_OK(pipe(p));
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    REPORT_ERRNO("sendfile out fd -1", sendfile(-1, fd, NULL, 5), EBADF);
    REPORT_ERRNO("sendfile in fd -1", sendfile(sv[0], -1, NULL, 5), EBADF);
    REPORT_ERRNO("sendfile from a pipe", sendfile(sv[0], p[0], NULL, 5),
                 EINVAL);
    REPORT_ERRNO("sendfile from a pipe with an offset",
                 sendfile(sv[0], p[0], &off, 5), ESPIPE);
    REPORT_ERRNO("sendfile with a bad offset pointer",
                 sendfile(sv[0], fd, bad_address, 5), EFAULT);
    REPORT_ERRNO("sendfile of SIZE_MAX bytes",
                 sendfile(sv[0], fd, NULL, (size_t)-1), EINVAL);
    REPORT_ERRNO("sendfile to a socket", sendfile(sv[0], fd, NULL, 100), 0);
    drain(sv[1], 10);
    REPORT_ERRNO("sendfile at end of file", sendfile(sv[0], fd, NULL, 100),
                 0);
    REPORT_ERRNO("splice between two files",
                 splice(fd, NULL, fd, NULL, 5, 0), EINVAL);
    REPORT_ERRNO("splice fd -1", splice(-1, NULL, p[1], NULL, 5, 0), EBADF);
    REPORT_ERRNO("splice from a pipe at an offset",
                 splice(p[0], &loff, sv[0], NULL, 5, 0), ESPIPE);
    REPORT_ERRNO("splice with unknown flags",
                 splice(p[0], NULL, sv[0], NULL, 5, 0x100), EINVAL);
    REPORT_ERRNO("tee from a pipe to itself", tee(p[0], p[1], 5, 0), EINVAL);
    REPORT_ERRNO("tee from a file", tee(fd, p[1], 5, 0), EINVAL);
    REPORT_ERRNO("tee of 0 bytes", tee(p[0], sv[0], 0, 0), 0);
    CHECK_EQ(write(p[1], "12345", 5), 5);
    close(sv[1]);
    REPORT_ERRNO("sendfile to a socket whose peer closed",
                 sendfile(sv[0], fd, &off, 5), EPIPE);
    REPORT_ERRNO("splice to a socket whose peer closed",
                 splice(p[0], NULL, sv[0], NULL, 5, 0), EPIPE);
    close(p[0]);
    REPORT_ERRNO("splice to a pipe without reader",
                 splice(fd, &loff, p[1], NULL, 5, 0), EPIPE);
    close(p[1]);
    close(sv[0]);
    close(fd);
}


/* ---- parked --------------------------------------------------------- */

enum { PER_KIND = 2, KINDS = 6 };

static int arrived;

/* Count the caller as (about to be) blocked. */
static void arrive(void)
{
    ADD(&arrived, 1);
}

static long park_preadv2(struct job *j)
{
    arrive();
    return call_preadv2_pipe(j);
}

static long park_recvmmsg(struct job *j)
{
    struct mmsghdr m = { .msg_hdr = { .msg_iov = &(struct iovec){ j->buf,
                                                                  j->len },
                                      .msg_iovlen = 1 } };

    arrive();
    return recvmmsg(j->fd, &m, 1, 0, NULL);
}

static long park_sendmmsg(struct job *j)
{
    struct mmsghdr m = { .msg_hdr = { .msg_iov = &(struct iovec){ big,
                                                                  j->len },
                                      .msg_iovlen = 1 } };

    arrive();
    const int r = sendmmsg(j->fd, &m, 1, 0);
    return r == 1 ? (long)m.msg_len : r;
}

static long park_sendfile(struct job *j)
{
    arrive();
    return call_sendfile(j);
}

static long park_splice(struct job *j)
{
    arrive();
    return call_splice(j);
}

static long park_tee(struct job *j)
{
    arrive();
    return call_tee(j);
}

static const char *const park_names[KINDS] = {
    "preadv2", "recvmmsg", "sendmmsg", "sendfile", "splice", "tee",
};

static void *park_thread(void *arg)
{
    return job_main(arg);
}

static void parked(const char *hold)
{
    static long (*const calls[KINDS])(struct job *) = {
        park_preadv2, park_recvmmsg, park_sendmmsg, park_sendfile,
        park_splice, park_tee,
    };
    struct job jobs[KINDS][PER_KIND];
    int fds[KINDS][PER_KIND][2], out[KINDS][PER_KIND][2];
    long filled[KINDS][PER_KIND] = { { 0 } };
    char bufs[KINDS][PER_KIND][16];
    const int file = temp_file(big, 4096);

    for (int k = 0; k < KINDS; k++) {
        for (int i = 0; i < PER_KIND; i++) {
            struct job *const j = &jobs[k][i];
            int *const f = fds[k][i], *const o = out[k][i];
            *j = (struct job){ .call = calls[k], .buf = bufs[k][i],
                               .len = 16 };
            o[0] = o[1] = -1;
            if (k == 1) {
                udp_pair(f);
                j->fd = f[1];
            } else if (k == 2 || k == 3) {
                CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, f));
                filled[k][i] = fill(f[0], true);
                *j = (struct job){ .call = calls[k], .fd = f[0], .fd2 = file,
                                   .len = 4096 };
            } else {
                CHECK_OK(pipe(f));
                CHECK_OK(pipe(o));
                j->fd = f[0];
                j->fd2 = o[1];
            }
            CHECK_RC(pthread_create(&j->t, NULL, park_thread, j));
        }
    }
    for (int i = 0; i < KINDS * PER_KIND; i++) {
        hs_wait(&calling);
    }
    for (int k = 0; k < KINDS; k++) {
        for (int i = 0; i < PER_KIND; i++) {
            wait_blocked(LOAD(&jobs[k][i].tid));    /* in the call */
        }
    }
    printf("parked %d\n", LOAD(&arrived));
    fflush(stdout);
    if (hold != NULL) {
        wait_for_file(hold, 120);
    }
    STORE(&progress, 1);
    for (int k = 0; k < KINDS; k++) {
        for (int i = 0; i < PER_KIND; i++) {
            const int *const f = fds[k][i];
            if (k == 1) {
                CHECK_EQ(send(f[0], "dgram", 5, 0), 5);
            } else if (k == 2 || k == 3) {
                drain(f[1], filled[k][i] + 4096);
            } else {
                CHECK_EQ(write(f[1], "pipe!", 5), 5);
            }
        }
    }
    for (int k = 0; k < KINDS; k++) {
        long sum = 0;
        for (int i = 0; i < PER_KIND; i++) {
            CHECK_RC(pthread_join(jobs[k][i].t, NULL));
            CHECK_EQ(jobs[k][i].seen, 1);
            sum += jobs[k][i].r;
            close(fds[k][i][0]);
            close(fds[k][i][1]);
            if (out[k][i][0] >= 0) {
                close(out[k][i][0]);
                close(out[k][i][1]);
            }
        }
        printf("%d threads in %s returned %ld in all\n", PER_KIND,
               park_names[k], sum);
    }
    close(file);
}

/* The sections, in the order a group runs them. */
static const struct section sections[] = {
    { "pos-files", positional_files },
    { "pos-espipe", positional_espipe },
    { "pos-waits", positional_waits },
    { "batch-receive", batch_receive },
    { "batch-send", batch_send },
    { "batch-errors", batch_errors },
    { "transfer-sendfile", transfer_sendfile },
    { "transfer-splice-tee", transfer_splice_tee },
    { "transfer-splice-big", transfer_splice_big },
    { "transfer-errors", transfer_errors },
};
#define NSECTIONS (sizeof sections / sizeof sections[0])

/* Does `arg` name section `i`, or its group ("pos" for "pos-files")? */
static int names(const char *arg, size_t i)
{
    const char *const name = sections[i].name;
    const size_t n = strlen(arg);

    return strcmp(arg, name) == 0
           || (strncmp(arg, name, n) == 0 && name[n] == '-'
               && strchr(arg, '-') == NULL);
}

int main(int argc, char **argv)
{
    alarm(30);                  /* a call that blocks everything: fail */
    signal(SIGPIPE, SIG_IGN);
    for (int a = 1; a < argc; a++) {
        int known = strcmp(argv[a], "parked") == 0 && a == 1 && argc <= 3;
        for (size_t i = 0; i < NSECTIONS && !known; i++) {
            known = names(argv[a], i);
        }
        if (!known) {
            fprintf(stderr, "usage: io-more SECTION... | parked [HOLD]; "
                    "SECTION: pos, batch, transfer or one of theirs\n");
            return 2;
        }
        if (a == 1 && strcmp(argv[a], "parked") == 0) {
            break;
        }
    }
    if (argc < 2) {
        fprintf(stderr, "usage: io-more SECTION... | parked [HOLD]\n");
        return 2;
    }
    for (long i = 0; i < BIG; i++) {
        big[i] = (unsigned char)(i * 7 + (i >> 12));
    }
    hs_init(&calling);
    hs_init(&reader_go);
    companion_start();
    if (strcmp(argv[1], "parked") == 0) {
        parked(argc > 2 ? argv[2] : NULL);
    } else {
        for (int a = 1; a < argc; a++) {
            for (size_t i = 0; i < NSECTIONS; i++) {
                if (names(argv[a], i)) {
                    sections[i].run();
                }
            }
        }
    }
    companion_stop();
    return check_exit_status();
}
