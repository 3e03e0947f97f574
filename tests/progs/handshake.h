/* SPDX-License-Identifier: MIT */
/* Handshakes for the test programs of tests/progs/ that must know where
 * another thread is without looking at a clock: a busy machine may delay
 * any thread for any time, so "100 ms later it is surely blocked" is not
 * true there, and neither is "it ran within 100 ms".
 *
 * - struct handshake: a pipe that one thread posts to and another waits
 *   on, one byte per post (a semaphore that blocks in read);
 * - wait_blocked(tid): once a thread has posted that its next call
 *   blocks, wait until it sleeps in that call (wait_blocked_unless: or
 *   until it says the call returned);
 * - struct partner: a thread that answers each byte sent to it, so that
 *   a number of round trips with it shows that two threads ran;
 * - struct handshake as a handler's way out: hs_post is a write(2), which
 *   a signal handler may call.
 *
 * Ordinary pthread code; needs check.h first.
 */
#ifndef TESTS_PROGS_HANDSHAKE_H
#define TESTS_PROGS_HANDSHAKE_H

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

struct handshake {
    int fd[2];
};

static inline void hs_init(struct handshake *h) __attribute__((unused));
static inline void hs_init(struct handshake *h)
{
    CHECK_OK(pipe2(h->fd, O_CLOEXEC));
}

static inline void hs_destroy(struct handshake *h) __attribute__((unused));
static inline void hs_destroy(struct handshake *h)
{
    close(h->fd[0]);
    close(h->fd[1]);
}

/* One post; a handler interrupting it (no SA_RESTART) does not lose it. */
static inline void hs_post(struct handshake *h) __attribute__((unused));
static inline void hs_post(struct handshake *h)
{
    const int saved = errno;
    ssize_t r;

    do {
        r = write(h->fd[1], "h", 1);
    } while (r == -1 && errno == EINTR);
    CHECK_EQ(r, 1);
    errno = saved;
}

/* Wait for one post. */
static inline void hs_wait(struct handshake *h) __attribute__((unused));
static inline void hs_wait(struct handshake *h)
{
    const int saved = errno;
    char c;
    ssize_t r;

    do {
        r = read(h->fd[0], &c, 1);
    } while (r == -1 && errno == EINTR);
    CHECK_EQ(r, 1);
    errno = saved;
}

/* The kernel's id of the calling thread's kernel thread, read from
 * /proc/thread-self ("PID/task/TID"); -1 if /proc does not say. */
static inline pid_t kernel_thread_id(void) __attribute__((unused));
static inline pid_t kernel_thread_id(void)
{
    char link[64];
    const ssize_t n = readlink("/proc/thread-self", link, sizeof link - 1);

    if (n <= 0) {
        return -1;
    }
    link[n] = '\0';
    const char *const task = strstr(link, "/task/");
    return task != NULL ? (pid_t)atoi(task + 6) : -1;
}

/* The state letter of thread `tid` of process `pid` in
 * /proc/PID/task/TID/stat (R, S, D, ...), or 0 when /proc does not list
 * it. */
static inline char task_state(pid_t pid, pid_t tid) __attribute__((unused));
static inline char task_state(pid_t pid, pid_t tid)
{
    char path[64], buf[512];

    snprintf(path, sizeof path, "/proc/%d/task/%d/stat", (int)pid, (int)tid);
    const int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd == -1) {
        return 0;
    }
    const ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) {
        return 0;
    }
    buf[n] = '\0';
    /* "TID (COMM) STATE ...": COMM may hold anything, even ") ". */
    const char *const paren = strrchr(buf, ')');
    return paren != NULL && paren[1] == ' ' ? paren[2] : 0;
}

/* The same for thread `tid` of this process. */
static inline char thread_state(pid_t tid) __attribute__((unused));
static inline char thread_state(pid_t tid)
{
    return task_state(getpid(), tid);
}

/* Wait until the thread whose gettid() is `tid` sleeps in the kernel
 * (state S, interruptible sleep).  Call it after that thread posted that
 * its next call blocks, with nothing that may sleep in between: then it
 * returns once the thread is in that call, however long the machine
 * took to get it there.
 *
 * Natively each thread is a kernel thread of its own.  A thread that
 * /proc does not list as one of this process's kernel threads, or that
 * is the caller's own kernel thread, shares its kernel thread with the
 * caller (a runtime of green threads, like libgreen): it is not running
 * while the caller runs, so it already stopped where it gave way, in its
 * blocking call.
 *
 * wait_blocked_unless(tid, returned) also returns once *returned is set
 * (atomically, by that thread after its call): for a call that may not
 * block at all.
 */
static inline void wait_blocked_unless(pid_t tid, const int *returned)
    __attribute__((unused));
static inline void wait_blocked_unless(pid_t tid, const int *returned)
{
    if (tid == kernel_thread_id()) {
        return;
    }
    for (;;) {
        if (returned != NULL && LOAD(returned)) {
            return;
        }
        const char state = thread_state(tid);
        if (state == 0 || state == 'S') {
            return;
        }
        usleep(200);
    }
}

static inline void wait_blocked(pid_t tid) __attribute__((unused));
static inline void wait_blocked(pid_t tid)
{
    wait_blocked_unless(tid, NULL);
}

/* A thread that answers each byte written to it with the same byte. */
struct partner {
    int to[2];
    int from[2];
    pthread_t t;
    long rounds;        /* round trips made so far */
};

/* The partner blocks every signal: it never takes one meant for the
 * program's own threads. */
static __attribute__((unused)) void *partner_main(void *arg)
{
    struct partner *const p = (struct partner *)arg;
    sigset_t all;
    char c;

    sigfillset(&all);
    CHECK_RC(pthread_sigmask(SIG_BLOCK, &all, NULL));
    for (;;) {
        ssize_t r = read(p->to[0], &c, 1);
        if (r == -1 && errno == EINTR) {
            continue;
        }
        if (r != 1) {
            break;
        }
        do {
            r = write(p->from[1], &c, 1);
        } while (r == -1 && errno == EINTR);
        CHECK_EQ(r, 1);
    }
    return NULL;
}

static inline void partner_start(struct partner *p) __attribute__((unused));
static inline void partner_start(struct partner *p)
{
    CHECK_OK(pipe2(p->to, O_CLOEXEC));
    CHECK_OK(pipe2(p->from, O_CLOEXEC));
    p->rounds = 0;
    CHECK_RC(pthread_create(&p->t, NULL, partner_main, p));
}

/* Make `n` round trips with the partner; returns the total so far. */
static inline long partner_rounds(struct partner *p, int n)
    __attribute__((unused));
static inline long partner_rounds(struct partner *p, int n)
{
    for (int i = 0; i < n; i++) {
        char c = 'p';
        ssize_t r;
        do {
            r = write(p->to[1], &c, 1);
        } while (r == -1 && errno == EINTR);
        CHECK_EQ(r, 1);
        do {
            r = read(p->from[0], &c, 1);
        } while (r == -1 && errno == EINTR);
        CHECK_EQ(r, 1);
        ADD(&p->rounds, 1);
    }
    return LOAD(&p->rounds);
}

static inline void partner_stop(struct partner *p) __attribute__((unused));
static inline void partner_stop(struct partner *p)
{
    close(p->to[1]);
    CHECK_RC(pthread_join(p->t, NULL));
    close(p->to[0]);
    close(p->from[0]);
    close(p->from[1]);
}

#endif
