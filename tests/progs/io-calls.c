/* SPDX-License-Identifier: MIT */
/* io-calls: read and write on pipes between threads, and their errors;
 * two threads reading one pipe; eventfd and timerfd reads.
 *
 * One transcript line per check: the call, its result and the errno name.
 * A companion thread stays parked for the whole run, so that every call is
 * made while the program has more than one thread.  A thread that makes
 * main's call complete acts only once main said it is about to call and
 * sleeps in the call (handshake.h), so that the call really waits: no
 * step depends on timing.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "check.h"
#include "handshake.h"

enum { BIG = 1 << 20, MSG = 64, WRITERS = 4, MESSAGES = 100 };

static unsigned char big[BIG];

struct pipe_job {
    int fd;
    long total;
    unsigned long sum;
    pid_t tid;                  /* read_one: its gettid() */
    struct handshake *ready;    /* read_one: posted just before the read */
};

/* main posts `calling` just before a call that another thread completes;
 * that thread waits until main sleeps in it. */
static struct handshake calling;
static pid_t main_tid;

static void when_main_waits(void)
{
    hs_wait(&calling);
    wait_blocked(main_tid);
}

/* Once main waits, write "hello" to job->fd. */
static void *write_hello(void *arg)
{
    struct pipe_job *const job = arg;

    when_main_waits();
    CHECK_EQ(write(job->fd, "hello", 5), 5);
    return NULL;
}

/* Once main waits, close job->fd. */
static void *close_later(void *arg)
{
    struct pipe_job *const job = arg;

    when_main_waits();
    CHECK_OK(close(job->fd));
    return NULL;
}

/* Read job->fd to EOF in small reads, counting and summing the bytes. */
static void *read_all(void *arg)
{
    struct pipe_job *const job = arg;
    unsigned char buf[3000];

    for (;;) {
        const ssize_t r = read(job->fd, buf, sizeof buf);
        if (r <= 0) {
            CHECK_EQ(r, 0);
            break;
        }
        for (ssize_t i = 0; i < r; i++) {
            job->sum = job->sum * 31 + buf[i];
        }
        job->total += r;
    }
    return NULL;
}

/* Write all of `big` in one call. */
static void *write_big(void *arg)
{
    struct pipe_job *const job = arg;

    job->total = write(job->fd, big, BIG);
    CHECK_EQ(job->total, BIG);
    CHECK_OK(close(job->fd));
    return NULL;
}

static int writers_fd;

/* Write MESSAGES messages of MSG bytes (atomic: MSG <= PIPE_BUF). */
static void *write_messages(void *arg)
{
    const int me = (int)(intptr_t)arg;
    unsigned char msg[MSG];

    for (int m = 0; m < MESSAGES; m++) {
        memset(msg, 'A' + me, sizeof msg);
        msg[1] = (unsigned char)m;
        CHECK_EQ(write(writers_fd, msg, sizeof msg), MSG);
        if (m % 10 == me) {
            usleep(500);    /* mixes the writers' turns; nothing waits */
        }
    }
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

static void blocking_reads_and_writes(void)
{
    int p[2];
    char buf[64] = "";
    pthread_t t;

    CHECK_OK(pipe(p));
    struct pipe_job hello = { .fd = p[1] };
    CHECK_RC(pthread_create(&t, NULL, write_hello, &hello));
    hs_post(&calling);
    const long r = REPORT_ERRNO("read waits for a writer thread",
                                read(p[0], buf, sizeof buf), 0);
    printf("read got: %.*s\n", (int)(r > 0 ? r : 0), buf);
    CHECK_RC(pthread_join(t, NULL));

    /* A call that succeeds leaves errno alone, even after waiting. */
    CHECK_RC(pthread_create(&t, NULL, write_hello, &hello));
    hs_post(&calling);
    errno = 4242;
    const ssize_t waited = read(p[0], buf, sizeof buf);
    printf("read after waiting: %ld, errno still 4242: %d\n", (long)waited,
           errno == 4242);
    CHECK_RC(pthread_join(t, NULL));

    REPORT_ERRNO("read of 0 bytes", read(p[0], buf, 0), 0);
    REPORT_ERRNO("write of 0 bytes", write(p[1], buf, 0), 0);
    printf("blocking pipe O_NONBLOCK visible: %d\n",
           (fcntl(p[0], F_GETFL) & O_NONBLOCK) != 0);

    struct pipe_job closer = { .fd = p[1] };
    CHECK_RC(pthread_create(&t, NULL, close_later, &closer));
    hs_post(&calling);
    REPORT_ERRNO("read returns EOF when another thread closes the write end",
                 read(p[0], buf, sizeof buf), 0);
    CHECK_RC(pthread_join(t, NULL));
    CHECK_OK(close(p[0]));

    /* 1 MiB through a 64 KiB pipe: the writer must wait for the reader
     * (and the reader for the writer), whoever comes first. */
    for (long i = 0; i < BIG; i++) {
        big[i] = (unsigned char)(i * 7 + (i >> 12));
    }
    CHECK_OK(pipe(p));
    struct pipe_job reader = { .fd = p[0] };
    CHECK_RC(pthread_create(&t, NULL, read_all, &reader));
    REPORT_ERRNO("write 1 MiB in one call to a reader thread",
                 write(p[1], big, BIG), 0);
    CHECK_OK(close(p[1]));
    CHECK_RC(pthread_join(t, NULL));
    printf("reader thread got %ld bytes, checksum %s\n", reader.total,
           reader.sum == checksum(big, BIG) ? "ok" : "WRONG");
    CHECK_EQ(reader.total, BIG);
    CHECK(reader.sum == checksum(big, BIG));
    CHECK_OK(close(p[0]));

    /* And the other way round: main reads what a thread writes. */
    CHECK_OK(pipe(p));
    struct pipe_job writer = { .fd = p[1] };
    CHECK_RC(pthread_create(&t, NULL, write_big, &writer));
    struct pipe_job mine = { .fd = p[0] };
    read_all(&mine);
    CHECK_RC(pthread_join(t, NULL));
    printf("main read %ld bytes from a writer thread, checksum %s\n",
           mine.total, mine.sum == checksum(big, BIG) ? "ok" : "WRONG");
    CHECK_OK(close(p[0]));

    /* Several writers: messages of at most PIPE_BUF bytes stay whole. */
    CHECK_OK(pipe(p));
    writers_fd = p[1];
    pthread_t w[WRITERS];
    for (int i = 0; i < WRITERS; i++) {
        CHECK_RC(pthread_create(&w[i], NULL, write_messages,
                                (void *)(intptr_t)i));
    }
    int whole = 0, seen[WRITERS] = { 0 };
    for (int m = 0; m < WRITERS * MESSAGES; m++) {
        unsigned char msg[MSG];
        long got = 0;
        while (got < MSG) {
            const ssize_t n = read(p[0], msg + got, (size_t)(MSG - got));
            if (n <= 0) {
                CHECK(n > 0);
                break;
            }
            got += n;
        }
        const int who = msg[0] - 'A';
        int ok = got == MSG && who >= 0 && who < WRITERS &&
                 msg[1] == (unsigned char)seen[who];
        for (int i = 2; ok && i < MSG; i++) {
            ok = msg[i] == msg[0];
        }
        if (ok) {
            seen[who]++;
            whole++;
        }
    }
    for (int i = 0; i < WRITERS; i++) {
        CHECK_RC(pthread_join(w[i], NULL));
    }
    printf("%d writer threads x %d messages: %d whole and in order\n",
           WRITERS, MESSAGES, whole);
    CHECK_EQ(whole, WRITERS * MESSAGES);
    CHECK_OK(close(p[0]));
    CHECK_OK(close(p[1]));
}

static void errors(void)
{
    int p[2];
    char buf[16];
    pthread_t t;

    CHECK_OK(pipe(p));
    REPORT_ERRNO("read fd -1", read(-1, buf, sizeof buf), EBADF);
    REPORT_ERRNO("write fd -1", write(-1, "x", 1), EBADF);
    REPORT_ERRNO("read from the write end", read(p[1], buf, sizeof buf),
                 EBADF);
    REPORT_ERRNO("write to the read end", write(p[0], "x", 1), EBADF);

    REPORT_ERRNO("write from a bad buffer", write(p[1], bad_address, 10),
                 EFAULT);
    CHECK_EQ(write(p[1], "0123456789", 10), 10);
    REPORT_ERRNO("read into a bad buffer", read(p[0], bad_address, 10),
                 EFAULT);
    CHECK_OK(close(p[0]));
    CHECK_OK(close(p[1]));

    CHECK_OK(pipe(p));
    struct pipe_job hello = { .fd = p[1] };
    CHECK_RC(pthread_create(&t, NULL, write_hello, &hello));
    hs_post(&calling);
    REPORT_ERRNO("read into a bad buffer, waiting for a writer thread",
                 read(p[0], bad_address, 10), EFAULT);
    CHECK_RC(pthread_join(t, NULL));
    CHECK_OK(close(p[0]));
    REPORT_ERRNO("read a closed fd", read(p[0], buf, sizeof buf), EBADF);
    REPORT_ERRNO("write to a pipe without reader", write(p[1], "x", 1),
                 EPIPE);
    CHECK_OK(close(p[1]));
    REPORT_ERRNO("write a closed fd", write(p[1], "x", 1), EBADF);
}

static void nonblocking(void)
{
    int p[2];
    char buf[4096];

    CHECK_OK(pipe2(p, O_NONBLOCK));
    printf("pipe2(O_NONBLOCK) O_NONBLOCK visible: %d\n",
           (fcntl(p[0], F_GETFL) & O_NONBLOCK) != 0);
    REPORT_ERRNO("read empty pipe2(O_NONBLOCK) pipe",
                 read(p[0], buf, sizeof buf), EAGAIN);
    memset(buf, 'x', sizeof buf);
    long filled = 0;
    for (int i = 0; i < 1000; i++) {
        const ssize_t w = write(p[1], buf, sizeof buf);
        if (w < 0) {
            break;
        }
        filled += w;
    }
    printf("filled the O_NONBLOCK pipe with %ld bytes\n", filled);
    REPORT_ERRNO("write full O_NONBLOCK pipe", write(p[1], buf, sizeof buf),
                 EAGAIN);
    CHECK_OK(close(p[0]));
    CHECK_OK(close(p[1]));

    CHECK_OK(pipe(p));
    const int fl = fcntl(p[0], F_GETFL);
    CHECK_OK(fcntl(p[0], F_SETFL, fl | O_NONBLOCK));
    printf("fcntl O_NONBLOCK visible: %d\n",
           (fcntl(p[0], F_GETFL) & O_NONBLOCK) != 0);
    REPORT_ERRNO("read empty pipe after fcntl O_NONBLOCK",
                 read(p[0], buf, sizeof buf), EAGAIN);
    CHECK_OK(fcntl(p[0], F_SETFL, fl));
    printf("fcntl cleared O_NONBLOCK visible: %d\n",
           (fcntl(p[0], F_GETFL) & O_NONBLOCK) != 0);
    pthread_t t;
    struct pipe_job hello = { .fd = p[1] };
    CHECK_RC(pthread_create(&t, NULL, write_hello, &hello));
    hs_post(&calling);
    REPORT_ERRNO("read waits again after O_NONBLOCK is cleared",
                 read(p[0], buf, sizeof buf), 0);
    CHECK_RC(pthread_join(t, NULL));
    CHECK_OK(close(p[0]));
    CHECK_OK(close(p[1]));
}

/* Read one byte from job->fd into job->result. */
static void *read_one(void *arg)
{
    struct pipe_job *const job = arg;
    char byte;

    job->tid = gettid();
    hs_post(job->ready);
    job->total = read(job->fd, &byte, 1);
    job->sum = (unsigned char)byte;
    return NULL;
}

/* Once main waits, write the 8-byte counter 5 to an eventfd. */
static void *post_event(void *arg)
{
    struct pipe_job *const job = arg;
    const uint64_t v = 5;

    when_main_waits();
    CHECK_EQ(write(job->fd, &v, sizeof v), 8);
    return NULL;
}

static void shared_and_special_fds(void)
{
    int p[2];
    pthread_t t[2];
    struct pipe_job readers[2];

    /* Two threads wait in read on the same pipe; each gets one byte. */
    struct handshake ready;
    hs_init(&ready);
    CHECK_OK(pipe(p));
    for (int i = 0; i < 2; i++) {
        readers[i] = (struct pipe_job){ .fd = p[0], .ready = &ready };
        CHECK_RC(pthread_create(&t[i], NULL, read_one, &readers[i]));
    }
    for (int i = 0; i < 2; i++) {
        hs_wait(&ready);
    }
    for (int i = 0; i < 2; i++) {
        wait_blocked(readers[i].tid);
    }
    CHECK_EQ(write(p[1], "a", 1), 1);
    CHECK_EQ(write(p[1], "b", 1), 1);
    for (int i = 0; i < 2; i++) {
        CHECK_RC(pthread_join(t[i], NULL));
    }
    printf("two threads reading one pipe got %ld and %ld bytes, %s\n",
           readers[0].total, readers[1].total,
           readers[0].sum + readers[1].sum == 'a' + 'b' ? "a and b"
                                                       : "WRONG BYTES");
    CHECK_OK(close(p[0]));
    CHECK_OK(close(p[1]));
    hs_destroy(&ready);

    /* eventfd and timerfd reads wait like pipe reads. */
    uint64_t v = 0;
    const int efd = eventfd(0, 0);
    CHECK_OK(efd);
    struct pipe_job poster = { .fd = efd };
    CHECK_RC(pthread_create(&t[0], NULL, post_event, &poster));
    hs_post(&calling);
    REPORT_ERRNO("eventfd read waits for a thread's write",
                 read(efd, &v, sizeof v), 0);
    printf("eventfd value: %llu\n", (unsigned long long)v);
    CHECK_RC(pthread_join(t[0], NULL));
    CHECK_OK(close(efd));

    const int tfd = timerfd_create(CLOCK_MONOTONIC, 0);
    CHECK_OK(tfd);
    const struct itimerspec its = { { 0, 0 }, { 0, 30000000 } };
    CHECK_OK(timerfd_settime(tfd, 0, &its, NULL));
    REPORT_ERRNO("timerfd read waits for the 30 ms timer",
                 read(tfd, &v, sizeof v), 0);
    printf("timerfd expirations: %llu\n", (unsigned long long)v);
    CHECK_OK(close(tfd));
}

static void regular_file(void)
{
    char path[] = "/tmp/io-calls.XXXXXX";
    char buf[16] = "";
    const int fd = mkstemp(path);

    CHECK_OK(fd);
    unlink(path);
    REPORT_ERRNO("write regular file", write(fd, "0123456789", 10), 0);
    CHECK_OK(lseek(fd, 0, SEEK_SET));
    REPORT_ERRNO("read regular file", read(fd, buf, sizeof buf), 0);
    REPORT_ERRNO("read regular file at EOF", read(fd, buf, sizeof buf), 0);
    CHECK_OK(close(fd));
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    hs_init(&calling);
    main_tid = gettid();
    companion_start();
    blocking_reads_and_writes();
    errors();
    nonblocking();
    shared_and_special_fds();
    regular_file();
    companion_stop();
    return check_exit_status();
}
