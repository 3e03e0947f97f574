/* SPDX-License-Identifier: MIT */
/* fd-again: a thread reads an fd, and its next wait is on the same fd
 * number after something changed under it, or on something else while the
 * old fd becomes ready.  A runtime that keeps a thread's fd watcher between
 * its waits (libgreen does, hub/park.c) must notice each of these; natively
 * they are ordinary.  Each step prints a line; a watchdog thread ends the
 * program with status 3 after 20 s, so a lost wake-up fails instead of
 * hanging.
 *
 *   same fd: a reader reads 3 messages, one by one, as they arrive.
 *   closed and reused: after the reader got a message on fd N, main closes
 *     N and makes a new pipe whose read end is N again; the reader reads
 *     N once more and gets the new pipe's message.
 *   the reader closes and reuses it itself.
 *   dup2 over it: main dup2()s another pipe's read end onto N.
 *   ready while waiting for a mutex: the reader, having read from N, waits
 *     for a mutex held by main while N becomes readable; it must get the
 *     mutex only when main unlocks (and then read N).
 *   ready while waiting for a condvar and a sleep: the same for a condition
 *     wait (woken only by the signal) and a 50 ms sleep (not cut short:
 *     a lower bound, which no load can break).
 *   socketpair and write waits: a writer fills a socket, is drained, writes
 *     again; then the fd is replaced by a socket of a new pair.
 *
 * Nothing else depends on timing: main writes the reader's fd once the
 * reader said it is about to wait and sleeps in its call (handshake.h),
 * and gives a wrong wake-up its chance by letting other threads run
 * (round trips with a partner thread), not by sleeping.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <sys/socket.h>

#include "check.h"
#include "handshake.h"

static int fd_n;                    /* the number the reader reads */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int cond_flag;
static int step;                    /* main and reader take turns */
static pthread_mutex_t step_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t step_cond = PTHREAD_COND_INITIALIZER;
static struct handshake waiting;    /* the reader is about to wait */
static pid_t reader_tid;
static struct partner partner;

/* The reader says its next call waits. */
static void about_to_wait(void)
{
    reader_tid = gettid();
    hs_post(&waiting);
}

/* main waits until the reader sleeps in that call. */
static void when_reader_waits(void)
{
    hs_wait(&waiting);
    wait_blocked(reader_tid);
}

static void set_step(int s)
{
    pthread_mutex_lock(&step_lock);
    step = s;
    pthread_cond_broadcast(&step_cond);
    pthread_mutex_unlock(&step_lock);
}

static void wait_step(int s)
{
    pthread_mutex_lock(&step_lock);
    while (step < s) {
        pthread_cond_wait(&step_cond, &step_lock);
    }
    pthread_mutex_unlock(&step_lock);
}

/* Read one message from `fd` with a plain blocking read (the watchdog
 * thread bounds the whole program); with `waits`, say so first. */
static void read_msg(const char *what, int fd, int waits)
{
    char buf[64];
    if (waits) {
        about_to_wait();
    }
    const ssize_t r = read(fd, buf, sizeof buf - 1);
    if (r < 0) {
        printf("%s: read -1 %s\n", what, errno_name(errno));
        return;
    }
    buf[r] = '\0';
    printf("%s: read \"%s\"\n", what, buf);
    fflush(stdout);
}

/* A read main writes for once it waits. */
static void read_line(const char *what, int fd)
{
    read_msg(what, fd, 1);
}

static void put(int fd, const char *msg)
{
    CHECK_EQ(write(fd, msg, strlen(msg)), (long)strlen(msg));
}

static void *reader_same(void *arg)
{
    (void)arg;
    for (int i = 0; i < 3; i++) {
        read_line("same fd", fd_n);
        set_step(i + 1);
    }
    return NULL;
}

static void *reader_reused(void *arg)
{
    const char *what = arg;
    read_line(what, fd_n);
    set_step(1);
    wait_step(2);                   /* main replaced the fd */
    read_line(what, fd_n);
    return NULL;
}

static void *reader_self(void *arg)
{
    (void)arg;
    int p[2];
    read_line("reader closes and reuses", fd_n);
    CHECK_OK(close(fd_n));
    CHECK_OK(pipe(p));
    printf("reader closes and reuses: new read end has the same number: %s\n",
           p[0] == fd_n ? "yes" : "no");
    set_step(1);
    wait_step(2);
    put(p[1], "second");
    read_msg("reader closes and reuses", p[0], 0);
    close(p[0]);
    close(p[1]);
    return NULL;
}

static void *reader_then_mutex(void *arg)
{
    (void)arg;
    read_line("ready while waiting for a mutex", fd_n);
    set_step(1);
    about_to_wait();
    pthread_mutex_lock(&lock);      /* main holds it; fd_n becomes ready */
    printf("ready while waiting for a mutex: got the mutex after main "
           "unlocked: %s\n", step >= 3 ? "yes" : "no");
    pthread_mutex_unlock(&lock);
    read_msg("ready while waiting for a mutex", fd_n, 0);
    return NULL;
}

static void *reader_then_cond(void *arg)
{
    (void)arg;
    read_line("ready while waiting for a condvar", fd_n);
    pthread_mutex_lock(&lock);
    set_step(1);
    about_to_wait();                /* holding the lock until it waits */
    while (!cond_flag) {
        pthread_cond_wait(&cond, &lock);
    }
    printf("ready while waiting for a condvar: woke after the signal: %s\n",
           step >= 3 ? "yes" : "no");
    pthread_mutex_unlock(&lock);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    usleep(50000);                  /* fd_n is readable all along */
    clock_gettime(CLOCK_MONOTONIC, &t1);
    const long ms = (t1.tv_sec - t0.tv_sec) * 1000
        + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    printf("ready while waiting for a condvar: slept at least 50 ms: %s\n",
           ms >= 50 ? "yes" : "no");
    read_msg("ready while waiting for a condvar", fd_n, 0);
    return NULL;
}

static void *writer_sock(void *arg)
{
    (void)arg;
    static char big[1 << 16];
    size_t total = 0;
    /* Fill the socket: the last write blocks until main drains it. */
    for (int i = 0; i < 40; i++) {
        const ssize_t w = write(fd_n, big, sizeof big);
        if (w < 0) {
            printf("socket writes: -1 %s\n", errno_name(errno));
            return NULL;
        }
        total += (size_t)w;
    }
    printf("socket writes: %zu bytes written\n", total);
    set_step(1);
    wait_step(2);                   /* main replaced the socket */
    put(fd_n, "after");
    return NULL;
}

/* Watchdog: a lost wake-up must not hang the test. */
static void *watchdog(void *arg)
{
    (void)arg;
    sleep(20);
    fprintf(stderr, "fd-again: still running after 20 s\n");
    _exit(3);
}

static void run(void *(*fn)(void *), void *arg, pthread_t *t)
{
    step = 0;
    CHECK_RC(pthread_create(t, NULL, fn, arg));
}

int main(void)
{
    pthread_t t, dog;
    int p[2], q[2];
    CHECK_RC(pthread_create(&dog, NULL, watchdog, NULL));
    CHECK_RC(pthread_detach(dog));
    hs_init(&waiting);
    partner_start(&partner);

    /* same fd */
    CHECK_OK(pipe(p));
    fd_n = p[0];
    run(reader_same, NULL, &t);
    for (int i = 1; i <= 3; i++) {
        when_reader_waits();
        put(p[1], i == 1 ? "one" : i == 2 ? "two" : "three");
        wait_step(i);
    }
    CHECK_RC(pthread_join(t, NULL));
    close(p[0]);
    close(p[1]);

    /* closed and reused by main */
    CHECK_OK(pipe(p));
    fd_n = p[0];
    run(reader_reused, "closed and reused", &t);
    when_reader_waits();
    put(p[1], "first");
    wait_step(1);
    CHECK_OK(close(p[0]));
    CHECK_OK(close(p[1]));
    CHECK_OK(pipe(q));
    printf("closed and reused: same number: %s\n", q[0] == fd_n ? "yes" : "no");
    set_step(2);
    when_reader_waits();
    put(q[1], "second");
    CHECK_RC(pthread_join(t, NULL));
    close(q[0]);
    close(q[1]);

    /* closed and reused by the reader */
    CHECK_OK(pipe(p));
    fd_n = p[0];
    run(reader_self, NULL, &t);
    when_reader_waits();
    put(p[1], "first");
    wait_step(1);
    close(p[1]);
    set_step(2);
    CHECK_RC(pthread_join(t, NULL));

    /* dup2 over it */
    CHECK_OK(pipe(p));
    CHECK_OK(pipe(q));
    fd_n = p[0];
    run(reader_reused, "dup2 over it", &t);
    when_reader_waits();
    put(p[1], "first");
    wait_step(1);
    CHECK_EQ(dup2(q[0], p[0]), p[0]);
    set_step(2);
    when_reader_waits();
    put(q[1], "second");
    CHECK_RC(pthread_join(t, NULL));
    close(p[0]);
    close(p[1]);
    close(q[0]);
    close(q[1]);

    /* ready while waiting for a mutex */
    CHECK_OK(pipe(p));
    fd_n = p[0];
    pthread_mutex_lock(&lock);
    run(reader_then_mutex, NULL, &t);
    when_reader_waits();
    put(p[1], "first");
    wait_step(1);
    when_reader_waits();            /* in pthread_mutex_lock */
    put(p[1], "second");            /* ready while it waits for the lock */
    partner_rounds(&partner, 3);    /* other threads run; it still waits */
    step = 3;
    pthread_mutex_unlock(&lock);
    CHECK_RC(pthread_join(t, NULL));
    close(p[0]);
    close(p[1]);

    /* ready while waiting for a condvar, then during a sleep */
    CHECK_OK(pipe(p));
    fd_n = p[0];
    run(reader_then_cond, NULL, &t);
    when_reader_waits();
    put(p[1], "first");
    wait_step(1);
    when_reader_waits();            /* in pthread_cond_wait */
    put(p[1], "second");
    partner_rounds(&partner, 3);    /* other threads run; it still waits */
    pthread_mutex_lock(&lock);
    step = 3;
    cond_flag = 1;
    pthread_cond_signal(&cond);
    pthread_mutex_unlock(&lock);
    CHECK_RC(pthread_join(t, NULL));
    close(p[0]);
    close(p[1]);

    /* a writer on a socket, then the socket replaced */
    int s[2], s2[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, s));
    fd_n = s[0];
    run(writer_sock, NULL, &t);
    static char sink[1 << 16];
    size_t drained = 0;
    while (drained < 40u * sizeof sink) {
        const ssize_t r = read(s[1], sink, sizeof sink);
        if (r <= 0) {
            break;
        }
        drained += (size_t)r;
    }
    wait_step(1);
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, s2));
    CHECK_EQ(dup2(s2[0], s[0]), s[0]);
    set_step(2);
    CHECK_RC(pthread_join(t, NULL));
    read_line("socket replaced, then written", s2[1]);
    close(s[0]);
    close(s[1]);
    close(s2[0]);
    close(s2[1]);
    partner_stop(&partner);
    hs_destroy(&waiting);
    return check_exit_status();
}
