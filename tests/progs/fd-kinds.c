/* SPDX-License-Identifier: MIT */
/* fd-kinds: eventfd, timerfd and signalfd wait for readiness like sockets
 * do.
 *
 * Threads block in read() on an eventfd until another thread writes it,
 * in write() on an eventfd whose counter is full until another thread
 * reads it, on a timerfd (periodic and one-shot, CLOCK_MONOTONIC; the
 * number of expirations is checked against bounds), on a signalfd for
 * SIGUSR1, which every thread blocks, until kill(getpid()) sends it, and
 * in poll() on all three at once. A counter thread keeps counting
 * meanwhile: each wait checks that it went on. Also EFD_SEMAPHORE (one
 * read takes one unit, a write of n wakes n blocked readers), EAGAIN for
 * EFD_NONBLOCK, TFD_NONBLOCK and SFD_NONBLOCK, and the errors: a read or
 * write of fewer than 8 bytes on an eventfd (EINVAL), a write of
 * UINT64_MAX (EINVAL), a short signalfd read (EINVAL), EBADF.
 *
 * Other threads only record; main prints everything after joining them.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static long counter;                /* bumped by the counter thread */
static int stop_counter;

static const char *yes(int cond)
{
    return cond ? "yes" : "no";
}

static void *counter_main(void *arg)
{
    (void)arg;
    while (!LOAD(&stop_counter)) {
        ADD(&counter, 1);
        usleep(1000);
    }
    return NULL;
}

static void pause_ms(int ms)
{
    usleep((useconds_t)ms * 1000);
}

/* One blocking read (or write) of 8 bytes in a thread. */
struct op {
    int fd;
    int write;                      /* write `value` instead of reading */
    uint64_t value;
    ssize_t r;
    int err;
    long counted;                   /* counter steps during the call */
    int done;
};

static void *op_main(void *arg)
{
    struct op *o = arg;
    const long before = LOAD(&counter);

    o->r = o->write ? write(o->fd, &o->value, sizeof o->value)
                    : read(o->fd, &o->value, sizeof o->value);
    o->err = o->r == -1 ? errno : 0;
    o->counted = LOAD(&counter) - before;
    STORE(&o->done, 1);
    return NULL;
}

static void wait_done(int *done, int n)
{
    for (int i = 0; i < 2000 && LOAD(done) < n; i++) {
        usleep(1000);
    }
}

/* ---- eventfd --------------------------------------------------------- */

static void eventfd_wait(void)
{
    const int efd = eventfd(0, EFD_CLOEXEC);
    pthread_t t;
    uint64_t v;

    CHECK(efd >= 0);
    struct op rd = { .fd = efd };
    CHECK_RC(pthread_create(&t, NULL, op_main, &rd));
    pause_ms(30);
    printf("eventfd reader still blocked after 30 ms: %s\n", yes(!rd.done));
    v = 5;
    CHECK_EQ(write(efd, &v, sizeof v), 8);
    CHECK_RC(pthread_join(t, NULL));
    printf("eventfd read woken by a write of 5: %zd %s, value %llu, counter "
           "went on meanwhile: %s\n", rd.r, errno_name(rd.err),
           (unsigned long long)rd.value, yes(rd.counted > 0));
    CHECK_EQ(rd.value, 5);

    /* A write that would take the counter past UINT64_MAX - 1 blocks
     * until a read empties it. */
    v = UINT64_MAX - 1;
    CHECK_EQ(write(efd, &v, sizeof v), 8);
    struct op wr = { .fd = efd, .write = 1, .value = 3 };
    CHECK_RC(pthread_create(&t, NULL, op_main, &wr));
    pause_ms(30);
    printf("eventfd writer blocked on a full counter after 30 ms: %s\n",
           yes(!wr.done));
    CHECK_EQ(read(efd, &v, sizeof v), 8);
    printf("eventfd read of the full counter: %s\n",
           yes(v == UINT64_MAX - 1));
    CHECK_RC(pthread_join(t, NULL));
    printf("eventfd blocked write completes after the read: %zd %s, counter "
           "went on meanwhile: %s\n", wr.r, errno_name(wr.err),
           yes(wr.counted > 0));
    CHECK_EQ(read(efd, &v, sizeof v), 8);
    printf("eventfd then holds %llu\n", (unsigned long long)v);

    char small[4];
    REPORT_ERRNO("eventfd read of 4 bytes", read(efd, small, sizeof small),
                 EINVAL);
    REPORT_ERRNO("eventfd write of 4 bytes",
                 write(efd, small, sizeof small), EINVAL);
    v = UINT64_MAX;
    REPORT_ERRNO("eventfd write of UINT64_MAX", write(efd, &v, sizeof v),
                 EINVAL);
    CHECK_OK(close(efd));
    REPORT_ERRNO("eventfd read after close", read(efd, &v, sizeof v), EBADF);
    REPORT_ERRNO("eventfd write after close", write(efd, &v, sizeof v),
                 EBADF);

    const int nb = eventfd(0, EFD_NONBLOCK);
    REPORT_ERRNO("EFD_NONBLOCK read of 0", read(nb, &v, sizeof v), EAGAIN);
    v = UINT64_MAX - 1;
    CHECK_EQ(write(nb, &v, sizeof v), 8);
    v = 1;
    REPORT_ERRNO("EFD_NONBLOCK write to a full counter",
                 write(nb, &v, sizeof v), EAGAIN);
    CHECK_OK(close(nb));
}

#define NSEM 3

static void eventfd_semaphore(void)
{
    uint64_t v;
    pthread_t t[NSEM];
    struct op rd[NSEM];
    int done = 0;

    const int nb = eventfd(3, EFD_SEMAPHORE | EFD_NONBLOCK);
    for (int i = 0; i < 4; i++) {
        char label[64];
        v = 0;
        snprintf(label, sizeof label, "EFD_SEMAPHORE of 3, read %d", i + 1);
        const long r = REPORT_ERRNO(label, read(nb, &v, sizeof v),
                                    i < 3 ? 0 : EAGAIN);
        if (r == 8) {
            printf("  value %llu\n", (unsigned long long)v);
        }
    }
    CHECK_OK(close(nb));

    const int efd = eventfd(0, EFD_SEMAPHORE);
    for (int i = 0; i < NSEM; i++) {
        rd[i] = (struct op){ .fd = efd };
        CHECK_RC(pthread_create(&t[i], NULL, op_main, &rd[i]));
    }
    pause_ms(30);
    for (int i = 0; i < NSEM; i++) {
        done += LOAD(&rd[i].done);
    }
    printf("EFD_SEMAPHORE: %d readers, done before any write: %d\n", NSEM,
           done);
    v = 2;
    CHECK_EQ(write(efd, &v, sizeof v), 8);
    for (int i = 0; i < 2000; i++) {
        done = 0;
        for (int j = 0; j < NSEM; j++) {
            done += LOAD(&rd[j].done);
        }
        if (done >= 2) {
            break;
        }
        usleep(1000);
    }
    pause_ms(30);
    done = 0;
    for (int i = 0; i < NSEM; i++) {
        done += LOAD(&rd[i].done);
    }
    printf("EFD_SEMAPHORE: done 30 ms after a write of 2: %d\n", done);
    v = 1;
    CHECK_EQ(write(efd, &v, sizeof v), 8);
    int ones = 0;
    for (int i = 0; i < NSEM; i++) {
        CHECK_RC(pthread_join(t[i], NULL));
        ones += rd[i].r == 8 && rd[i].value == 1;
    }
    printf("EFD_SEMAPHORE: after a write of 1 all %d done, reads of "
           "value 1: %d\n", NSEM, ones);
    CHECK_EQ(ones, NSEM);
    CHECK_OK(close(efd));
}

/* ---- timerfd --------------------------------------------------------- */

static void timerfd_wait(void)
{
    const int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
    struct itimerspec its = { .it_value = { 0, 20 * 1000000 },
                              .it_interval = { 0, 20 * 1000000 } };
    uint64_t v, total = 0;
    int each = 1;
    long before = LOAD(&counter);

    CHECK(tfd >= 0);
    long long start = now_ns(CLOCK_MONOTONIC);
    CHECK_OK(timerfd_settime(tfd, 0, &its, NULL));
    for (int i = 0; i < 5; i++) {
        const ssize_t r = read(tfd, &v, sizeof v);
        CHECK_EQ(r, 8);
        each &= r == 8 && v >= 1;
        total += v;
    }
    const long long ms = (now_ns(CLOCK_MONOTONIC) - start) / 1000000;
    printf("periodic timerfd, 20 ms: 5 blocking reads, each >= 1 "
           "expiration: %s\n", yes(each));
    printf("periodic timerfd: 5 <= expirations <= elapsed / 20 ms: %s, "
           "waited 100 ms: %s, counter went on: %s\n",
           yes(total >= 5 && (long long)total <= ms / 20),
           yes(ms >= 100), yes(LOAD(&counter) > before));
    if (total < 5 || (long long)total > ms / 20) {
        check_fail(__FILE__, __LINE__, 0,
                   "%llu expirations in %lld ms", (unsigned long long)total,
                   ms);
    }
    struct itimerspec off = { { 0, 0 }, { 0, 0 } };
    CHECK_OK(timerfd_settime(tfd, 0, &off, NULL));

    /* One-shot, read in another thread. */
    its = (struct itimerspec){ .it_value = { 0, 50 * 1000000 } };
    struct op rd = { .fd = tfd };
    pthread_t t;
    start = now_ns(CLOCK_MONOTONIC);
    CHECK_OK(timerfd_settime(tfd, 0, &its, NULL));
    CHECK_RC(pthread_create(&t, NULL, op_main, &rd));
    CHECK_RC(pthread_join(t, NULL));
    printf("one-shot timerfd, 50 ms, read in a thread: %zd %s, expirations "
           "%llu, waited 50 ms: %s, counter went on: %s\n", rd.r,
           errno_name(rd.err), (unsigned long long)rd.value,
           yes(now_ns(CLOCK_MONOTONIC) - start >= 50 * 1000000LL),
           yes(rd.counted > 0));
    CHECK_EQ(rd.value, 1);
    struct itimerspec cur;
    CHECK_OK(timerfd_gettime(tfd, &cur));
    printf("one-shot timerfd after expiring: disarmed: %s\n",
           yes(cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec == 0));

    /* Absolute, on CLOCK_MONOTONIC. */
    start = now_ns(CLOCK_MONOTONIC);
    const long long at = start + 30 * 1000000LL;
    its = (struct itimerspec){ .it_value = { .tv_sec = at / 1000000000,
                                             .tv_nsec = at % 1000000000 } };
    CHECK_OK(timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL));
    v = 0;
    const ssize_t r = read(tfd, &v, sizeof v);
    printf("absolute timerfd, now + 30 ms: %zd, expirations %llu, waited "
           "30 ms: %s\n", r, (unsigned long long)v,
           yes(now_ns(CLOCK_MONOTONIC) - start >= 30 * 1000000LL));

    char small[4];
    its = (struct itimerspec){ .it_value = { 0, 1000000 } };
    CHECK_OK(timerfd_settime(tfd, 0, &its, NULL));
    REPORT_ERRNO("timerfd read of 4 bytes", read(tfd, small, sizeof small),
                 EINVAL);
    CHECK_OK(close(tfd));
    REPORT_ERRNO("timerfd read after close", read(tfd, &v, sizeof v), EBADF);

    const int nb = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
    REPORT_ERRNO("TFD_NONBLOCK read, disarmed", read(nb, &v, sizeof v),
                 EAGAIN);
    its = (struct itimerspec){ .it_value = { 10, 0 } };
    CHECK_OK(timerfd_settime(nb, 0, &its, NULL));
    REPORT_ERRNO("TFD_NONBLOCK read, armed for 10 s",
                 read(nb, &v, sizeof v), EAGAIN);
    CHECK_OK(close(nb));
    REPORT_ERRNO("timerfd_create bad clock", timerfd_create(12345, 0),
                 EINVAL);
}

/* ---- signalfd -------------------------------------------------------- */

struct sigread {
    int fd;
    ssize_t r;
    struct signalfd_siginfo si;
    long counted;
};

static void *sigread_main(void *arg)
{
    struct sigread *s = arg;
    const long before = LOAD(&counter);

    s->r = read(s->fd, &s->si, sizeof s->si);
    s->counted = LOAD(&counter) - before;
    return NULL;
}

static void signalfd_wait(void)
{
    sigset_t usr1;
    pthread_t t;

    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    const int sfd = signalfd(-1, &usr1, SFD_CLOEXEC);
    CHECK(sfd >= 0);
    struct sigread s = { .fd = sfd };
    CHECK_RC(pthread_create(&t, NULL, sigread_main, &s));
    pause_ms(30);
    CHECK_OK(kill(getpid(), SIGUSR1));
    CHECK_RC(pthread_join(t, NULL));
    printf("signalfd read woken by kill(getpid(), SIGUSR1): %zd, signal "
           "SIGUSR1: %s, code SI_USER: %s, pid ours: %s, counter went on: "
           "%s\n", s.r, yes(s.si.ssi_signo == SIGUSR1),
           yes(s.si.ssi_code == SI_USER),
           yes(s.si.ssi_pid == (uint32_t)getpid()), yes(s.counted > 0));
    CHECK_EQ(s.r, (ssize_t)sizeof s.si);

    char small[16];
    CHECK_OK(kill(getpid(), SIGUSR1));
    REPORT_ERRNO("signalfd read of 16 bytes, one pending",
                 read(sfd, small, sizeof small), EINVAL);
    struct signalfd_siginfo si;
    REPORT_ERRNO("signalfd read of the pending one",
                 read(sfd, &si, sizeof si), 0);
    CHECK_OK(close(sfd));
    REPORT_ERRNO("signalfd read after close", read(sfd, &si, sizeof si),
                 EBADF);

    const int nb = signalfd(-1, &usr1, SFD_NONBLOCK);
    REPORT_ERRNO("SFD_NONBLOCK read, none pending", read(nb, &si, sizeof si),
                 EAGAIN);
    CHECK_OK(close(nb));
}

/* ---- poll on all three ------------------------------------------------ */

struct poller {
    struct pollfd fds[3];
    int rounds;
    short revents[3][3];            /* per round, per fd */
    int r[3];
    long counted[3];
    int ready;                      /* rounds done */
};

static int efd_p, tfd_p, sfd_p;

static void *poller_main(void *arg)
{
    struct poller *p = arg;

    for (int round = 0; round < 3; round++) {
        const long before = LOAD(&counter);
        for (int i = 0; i < 3; i++) {
            p->fds[i].revents = 0;
        }
        p->r[round] = poll(p->fds, 3, 10000);
        p->counted[round] = LOAD(&counter) - before;
        for (int i = 0; i < 3; i++) {
            p->revents[round][i] = p->fds[i].revents;
        }
        /* Drain what woke it. */
        uint64_t v;
        struct signalfd_siginfo si;
        if (p->fds[0].revents & POLLIN) {
            CHECK_EQ(read(efd_p, &v, sizeof v), 8);
        }
        if (p->fds[1].revents & POLLIN) {
            CHECK_EQ(read(tfd_p, &v, sizeof v), 8);
        }
        if (p->fds[2].revents & POLLIN) {
            CHECK_EQ(read(sfd_p, &si, sizeof si), (ssize_t)sizeof si);
        }
        STORE(&p->ready, round + 1);
    }
    return NULL;
}

static void poll_all(void)
{
    sigset_t usr1;
    pthread_t t;
    struct poller p;

    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    efd_p = eventfd(0, 0);
    tfd_p = timerfd_create(CLOCK_MONOTONIC, 0);
    sfd_p = signalfd(-1, &usr1, 0);
    CHECK(efd_p >= 0 && tfd_p >= 0 && sfd_p >= 0);
    memset(&p, 0, sizeof p);
    p.fds[0] = (struct pollfd){ .fd = efd_p, .events = POLLIN };
    p.fds[1] = (struct pollfd){ .fd = tfd_p, .events = POLLIN };
    p.fds[2] = (struct pollfd){ .fd = sfd_p, .events = POLLIN };
    CHECK_RC(pthread_create(&t, NULL, poller_main, &p));

    pause_ms(30);
    uint64_t v = 1;
    CHECK_EQ(write(efd_p, &v, sizeof v), 8);
    wait_done(&p.ready, 1);

    pause_ms(10);
    struct itimerspec its = { .it_value = { 0, 30 * 1000000 } };
    CHECK_OK(timerfd_settime(tfd_p, 0, &its, NULL));
    wait_done(&p.ready, 2);

    pause_ms(30);
    CHECK_OK(kill(getpid(), SIGUSR1));
    CHECK_RC(pthread_join(t, NULL));

    static const char *const what[3] = { "eventfd written",
                                         "timerfd expired",
                                         "SIGUSR1 sent" };
    for (int round = 0; round < 3; round++) {
        printf("poll on eventfd, timerfd, signalfd; %s: %d, revents "
               "%#x %#x %#x, counter went on: %s\n", what[round],
               p.r[round], (unsigned)p.revents[round][0],
               (unsigned)p.revents[round][1], (unsigned)p.revents[round][2],
               yes(p.counted[round] > 0));
        CHECK_EQ(p.r[round], 1);
    }
    CHECK_OK(close(efd_p));
    CHECK_OK(close(tfd_p));
    CHECK_OK(close(sfd_p));
}

int main(void)
{
    sigset_t usr1;
    pthread_t counter_t;

    alarm(30);
    setvbuf(stdout, NULL, _IOLBF, 0);
    /* Blocked before any thread exists: blocked in every thread, so it
     * stays pending for the signalfds. */
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    CHECK_RC(pthread_sigmask(SIG_BLOCK, &usr1, NULL));
    CHECK_RC(pthread_create(&counter_t, NULL, counter_main, NULL));

    eventfd_wait();
    eventfd_semaphore();
    timerfd_wait();
    signalfd_wait();
    poll_all();

    STORE(&stop_counter, 1);
    CHECK_RC(pthread_join(counter_t, NULL));
    printf("done\n");
    return check_exit_status();
}
