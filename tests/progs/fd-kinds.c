/* SPDX-License-Identifier: MIT */
/* fd-kinds: eventfd, timerfd and signalfd wait for readiness like sockets
 * do.
 *
 * Threads block in read() on an eventfd until another thread writes it,
 * in write() on an eventfd whose counter is full until another thread
 * reads it, on a timerfd (periodic and one-shot, CLOCK_MONOTONIC; the
 * number of expirations is checked against bounds that the time that
 * passed sets, which load cannot break), on a signalfd for SIGUSR1, which
 * every thread blocks, until kill(getpid()) sends it, and in poll() on
 * all three at once. Nothing depends on timing: a thread says it is
 * about to wait, main waits until it sleeps in its call (handshake.h),
 * makes 3 round trips with a partner thread, and only then writes, arms
 * the timer or sends the signal: each wait checks that those round trips
 * happened while it waited. Also EFD_SEMAPHORE (one read takes one unit,
 * a write of n wakes n blocked readers), EAGAIN for EFD_NONBLOCK,
 * TFD_NONBLOCK and SFD_NONBLOCK, and the errors: a read or write of fewer
 * than 8 bytes on an eventfd (EINVAL), a write of UINT64_MAX (EINVAL), a
 * short signalfd read (EINVAL), EBADF.
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
#include "handshake.h"

/* main makes round trips with it while another thread waits. */
static struct partner partner;
static struct handshake ready;      /* a thread is about to wait */

static const char *yes(int cond)
{
    return cond ? "yes" : "no";
}

/* A thread says its next call waits. */
static pid_t about_to_wait(void)
{
    hs_post(&ready);
    return gettid();
}

/* main, once that thread sleeps in the call, lets others run. */
static void while_it_waits(const pid_t *tid)
{
    hs_wait(&ready);
    wait_blocked(LOAD(tid));
    partner_rounds(&partner, 3);
}

/* One blocking read (or write) of 8 bytes in a thread. */
struct op {
    int fd;
    int write;                      /* write `value` instead of reading */
    uint64_t value;
    ssize_t r;
    int err;
    long counted;                   /* partner round trips during it */
    int done;
    pid_t tid;
    struct handshake *finished;     /* posted after the call, if set */
};

static void *op_main(void *arg)
{
    struct op *o = arg;
    const long before = LOAD(&partner.rounds);

    STORE(&o->tid, gettid());
    about_to_wait();
    o->r = o->write ? write(o->fd, &o->value, sizeof o->value)
                    : read(o->fd, &o->value, sizeof o->value);
    o->err = o->r == -1 ? errno : 0;
    o->counted = LOAD(&partner.rounds) - before;
    STORE(&o->done, 1);
    if (o->finished != NULL) {
        hs_post(o->finished);
    }
    return NULL;
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
    while_it_waits(&rd.tid);
    printf("eventfd reader still blocked while others ran: %s\n",
           yes(!LOAD(&rd.done)));
    v = 5;
    CHECK_EQ(write(efd, &v, sizeof v), 8);
    CHECK_RC(pthread_join(t, NULL));
    printf("eventfd read woken by a write of 5: %zd %s, value %llu, others "
           "ran meanwhile: %s\n", rd.r, errno_name(rd.err),
           (unsigned long long)rd.value, yes(rd.counted >= 3));
    CHECK_EQ(rd.value, 5);

    /* A write that would take the counter past UINT64_MAX - 1 blocks
     * until a read empties it. */
    v = UINT64_MAX - 1;
    CHECK_EQ(write(efd, &v, sizeof v), 8);
    struct op wr = { .fd = efd, .write = 1, .value = 3 };
    CHECK_RC(pthread_create(&t, NULL, op_main, &wr));
    while_it_waits(&wr.tid);
    printf("eventfd writer blocked on a full counter while others ran: "
           "%s\n", yes(!LOAD(&wr.done)));
    CHECK_EQ(read(efd, &v, sizeof v), 8);
    printf("eventfd read of the full counter: %s\n",
           yes(v == UINT64_MAX - 1));
    CHECK_RC(pthread_join(t, NULL));
    printf("eventfd blocked write completes after the read: %zd %s, others "
           "ran meanwhile: %s\n", wr.r, errno_name(wr.err),
           yes(wr.counted >= 3));
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
    struct handshake finished;
    hs_init(&finished);
    for (int i = 0; i < NSEM; i++) {
        rd[i] = (struct op){ .fd = efd, .finished = &finished };
        CHECK_RC(pthread_create(&t[i], NULL, op_main, &rd[i]));
    }
    for (int i = 0; i < NSEM; i++) {
        hs_wait(&ready);
    }
    for (int i = 0; i < NSEM; i++) {
        wait_blocked(LOAD(&rd[i].tid));
    }
    for (int i = 0; i < NSEM; i++) {
        done += LOAD(&rd[i].done);
    }
    printf("EFD_SEMAPHORE: %d readers, done before any write: %d\n", NSEM,
           done);
    v = 2;
    CHECK_EQ(write(efd, &v, sizeof v), 8);
    hs_wait(&finished);
    hs_wait(&finished);
    /* The third still waits, once it sleeps and others ran. */
    for (int i = 0; i < NSEM; i++) {
        if (!LOAD(&rd[i].done)) {
            wait_blocked(LOAD(&rd[i].tid));
        }
    }
    partner_rounds(&partner, 3);
    done = 0;
    for (int i = 0; i < NSEM; i++) {
        done += LOAD(&rd[i].done);
    }
    printf("EFD_SEMAPHORE: done after a write of 2, once others ran: %d\n",
           done);
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
    hs_wait(&finished);
    hs_destroy(&finished);
}

/* ---- timerfd --------------------------------------------------------- */

static void timerfd_wait(void)
{
    const int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
    struct itimerspec its = { .it_value = { 0, 20 * 1000000 },
                              .it_interval = { 0, 20 * 1000000 } };
    uint64_t v, total = 0;
    int each = 1;

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
           "waited 100 ms: %s\n",
           yes(total >= 5 && (long long)total <= ms / 20), yes(ms >= 100));
    if (total < 5 || (long long)total > ms / 20) {
        check_fail(__FILE__, __LINE__, 0,
                   "%llu expirations in %lld ms", (unsigned long long)total,
                   ms);
    }
    struct itimerspec off = { { 0, 0 }, { 0, 0 } };
    CHECK_OK(timerfd_settime(tfd, 0, &off, NULL));

    /* One-shot, read in another thread, armed once it waits. */
    its = (struct itimerspec){ .it_value = { 0, 50 * 1000000 } };
    struct op rd = { .fd = tfd };
    pthread_t t;
    CHECK_RC(pthread_create(&t, NULL, op_main, &rd));
    while_it_waits(&rd.tid);
    start = now_ns(CLOCK_MONOTONIC);
    CHECK_OK(timerfd_settime(tfd, 0, &its, NULL));
    CHECK_RC(pthread_join(t, NULL));
    printf("one-shot timerfd, 50 ms, read in a thread: %zd %s, expirations "
           "%llu, waited 50 ms: %s, others ran meanwhile: %s\n", rd.r,
           errno_name(rd.err), (unsigned long long)rd.value,
           yes(now_ns(CLOCK_MONOTONIC) - start >= 50 * 1000000LL),
           yes(rd.counted >= 3));
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
    pid_t tid;
};

static void *sigread_main(void *arg)
{
    struct sigread *s = arg;
    const long before = LOAD(&partner.rounds);

    STORE(&s->tid, gettid());
    about_to_wait();
    s->r = read(s->fd, &s->si, sizeof s->si);
    s->counted = LOAD(&partner.rounds) - before;
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
    while_it_waits(&s.tid);
    CHECK_OK(kill(getpid(), SIGUSR1));
    CHECK_RC(pthread_join(t, NULL));
    printf("signalfd read woken by kill(getpid(), SIGUSR1): %zd, signal "
           "SIGUSR1: %s, code SI_USER: %s, pid ours: %s, others ran "
           "meanwhile: %s\n", s.r, yes(s.si.ssi_signo == SIGUSR1),
           yes(s.si.ssi_code == SI_USER),
           yes(s.si.ssi_pid == (uint32_t)getpid()), yes(s.counted >= 3));
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
    pid_t tid;
    struct handshake done;          /* posted after each round */
};

static int efd_p, tfd_p, sfd_p;

static void *poller_main(void *arg)
{
    struct poller *p = arg;

    STORE(&p->tid, gettid());
    for (int round = 0; round < 3; round++) {
        const long before = LOAD(&partner.rounds);
        for (int i = 0; i < 3; i++) {
            p->fds[i].revents = 0;
        }
        about_to_wait();
        p->r[round] = poll(p->fds, 3, 10000);
        p->counted[round] = LOAD(&partner.rounds) - before;
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
        hs_post(&p->done);
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
    hs_init(&p.done);
    CHECK_RC(pthread_create(&t, NULL, poller_main, &p));

    while_it_waits(&p.tid);
    uint64_t v = 1;
    CHECK_EQ(write(efd_p, &v, sizeof v), 8);
    hs_wait(&p.done);

    while_it_waits(&p.tid);
    struct itimerspec its = { .it_value = { 0, 30 * 1000000 } };
    CHECK_OK(timerfd_settime(tfd_p, 0, &its, NULL));
    hs_wait(&p.done);

    while_it_waits(&p.tid);
    CHECK_OK(kill(getpid(), SIGUSR1));
    hs_wait(&p.done);
    CHECK_RC(pthread_join(t, NULL));
    hs_destroy(&p.done);

    static const char *const what[3] = { "eventfd written",
                                         "timerfd expired",
                                         "SIGUSR1 sent" };
    for (int round = 0; round < 3; round++) {
        printf("poll on eventfd, timerfd, signalfd; %s: %d, revents "
               "%#x %#x %#x, others ran meanwhile: %s\n", what[round],
               p.r[round], (unsigned)p.revents[round][0],
               (unsigned)p.revents[round][1], (unsigned)p.revents[round][2],
               yes(p.counted[round] >= 3));
        CHECK_EQ(p.r[round], 1);
    }
    CHECK_OK(close(efd_p));
    CHECK_OK(close(tfd_p));
    CHECK_OK(close(sfd_p));
}

int main(void)
{
    sigset_t usr1;

    alarm(30);
    setvbuf(stdout, NULL, _IOLBF, 0);
    /* Blocked before any thread exists: blocked in every thread, so it
     * stays pending for the signalfds. */
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    CHECK_RC(pthread_sigmask(SIG_BLOCK, &usr1, NULL));
    hs_init(&ready);
    partner_start(&partner);

    eventfd_wait();
    eventfd_semaphore();
    timerfd_wait();
    signalfd_wait();
    poll_all();

    partner_stop(&partner);
    hs_destroy(&ready);
    printf("done\n");
    return check_exit_status();
}
