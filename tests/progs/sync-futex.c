/* SPDX-License-Identifier: MIT */
/* sync-futex [SECTION [HOLD_FILE]]: raw futex(2) through
 * syscall(SYS_futex, ...), the way Rust's std and libstdc++
 * (std::atomic::wait) use it.
 *
 * Runs one SECTION, or all of them in this order:
 * parked: PARKED threads block at once in FUTEX_WAIT_PRIVATE on one word;
 *   main waits until all are waiting, prints "parked N on a futex", waits
 *   (at most 120 s) for HOLD_FILE when given, so that a test can inspect
 *   the process, then sets the word, wakes them all and joins them;
 * mutex: a futex mutex (the 0/1/2 protocol) keeps a counter exact across
 *   threads that sleep inside the critical section;
 * waits: FUTEX_WAIT returns EAGAIN when the word differs, ETIMEDOUT after
 *   a relative timeout, EINVAL for a bad timeout, bitset 0 or a misaligned
 *   address, EFAULT for an unmapped one; FUTEX_WAIT_BITSET times out at
 *   absolute CLOCK_MONOTONIC and (with FUTEX_CLOCK_REALTIME)
 *   CLOCK_REALTIME deadlines (lower bounds only);
 * wake: FUTEX_WAKE returns how many waiters it woke;
 * bitset: FUTEX_WAKE_BITSET wakes only waiters whose bitset matches;
 * pingpong: a Rust-style park/unpark handshake between threads.
 *
 * One transcript line per check.  Waits that must fail at once carry a
 * 30 ms timeout, so that a wrong implementation reports ETIMEDOUT instead
 * of hanging.  No sleep orders anything: before it wakes waiters, main
 * waits until they are waiting (waiting_for), and after a wake until the
 * woken ones said so.  A wait that never returns is ended by the test's
 * timeout.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

enum { PARKED = 10, LOCKERS = 4, INCREMENTS = 500, PING_PONGS = 1000 };

static long futex(void *uaddr, int op, uint32_t val,
                  const struct timespec *timeout, uint32_t val3)
{
    return syscall(SYS_futex, uaddr, op, val, timeout, NULL, val3);
}

static struct timespec in_ms(clockid_t clock, long ms)
{
    const long long t = now_ns(clock) + ms * 1000000LL;

    return (struct timespec){ t / 1000000000LL, t % 1000000000LL };
}

/* Whether every kernel thread of this process other than the caller's is
 * blocked in futex(2): /proc/self/task/TID/syscall starts with the number
 * of the system call a blocked thread is in ("running" for one that is
 * not blocked).  A thread that has no kernel thread of its own (under a
 * green-thread runtime) has no entry there: it stopped running only by
 * waiting. */
static int others_in_futex(void)
{
    char self[64] = "", want[32], path[300], line[64];
    if (readlink("/proc/thread-self", self, sizeof self - 1) < 0) {
        CHECK(!"readlink /proc/thread-self");
        return 1;
    }
    const char *const self_tid = strrchr(self, '/') + 1;
    snprintf(want, sizeof want, "%ld ", (long)SYS_futex);
    DIR *const d = opendir("/proc/self/task");
    if (d == NULL) {
        CHECK(!"opendir /proc/self/task");
        return 1;
    }
    int all = 1;
    for (struct dirent *e; all && (e = readdir(d)) != NULL;) {
        if (e->d_name[0] == '.' || strcmp(e->d_name, self_tid) == 0) {
            continue;
        }
        snprintf(path, sizeof path, "/proc/self/task/%s/syscall", e->d_name);
        const int fd = open(path, O_RDONLY);
        const ssize_t n = fd < 0 ? -1 : read(fd, line, sizeof line - 1);
        if (fd >= 0) {
            close(fd);
        }
        line[n > 0 ? n : 0] = '\0';
        /* A thread that ended between readdir and open is not waiting. */
        all = n > 0 && strncmp(line, want, strlen(want)) == 0;
    }
    closedir(d);
    return all;
}

/* Poll (every millisecond, 30000 times at most) until *counter reaches
 * `want` and the threads that counted themselves, each just before its
 * futex wait, are waiting: every other kernel thread is blocked in
 * futex(2). */
static void waiting_for(const int *counter, int want)
{
    for (int i = 0; i < 30000; i++) {
        if (LOAD(counter) >= want && others_in_futex()) {
            return;
        }
        usleep(1000);
    }
    errno = ETIMEDOUT;
    CHECK(!"the waiters never all waited");
}

/* Poll (every millisecond, 30000 times at most) until *counter reaches
 * `want`. */
static void wait_count(const int *counter, int want)
{
    for (int i = 0; i < 30000 && LOAD(counter) < want; i++) {
        usleep(1000);
    }
    CHECK(LOAD(counter) >= want);
}

/* ---- many threads parked on one futex ---- */

static uint32_t park_word;
static int park_arrived, park_done;

static void *park_waiter(void *arg)
{
    (void)arg;
    ADD(&park_arrived, 1);
    while (LOAD(&park_word) == 0) {
        const long r = futex(&park_word, FUTEX_WAIT_PRIVATE, 0, NULL, 0);
        CHECK(r == 0 || errno == EAGAIN || errno == EINTR);
    }
    ADD(&park_done, 1);
    return NULL;
}

static const char *hold_file;

static void parked(void)
{
    pthread_t t[PARKED];

    for (int i = 0; i < PARKED; i++) {
        CHECK_RC(pthread_create(&t[i], NULL, park_waiter, NULL));
    }
    waiting_for(&park_arrived, PARKED);
    printf("parked %d on a futex\n", LOAD(&park_arrived));
    printf("returned from FUTEX_WAIT before the wake: %d\n",
           LOAD(&park_done));
    CHECK_EQ(LOAD(&park_arrived), PARKED);
    CHECK_EQ(LOAD(&park_done), 0);
    fflush(stdout);
    if (hold_file != NULL) {
        wait_for_file(hold_file, 120);
    }
    STORE(&park_word, 1);
    CHECK_EQ(REPORT_ERRNO("FUTEX_WAKE_PRIVATE INT_MAX with the parked "
                          "waiters",
                          futex(&park_word, FUTEX_WAKE_PRIVATE, INT_MAX,
                                NULL, 0),
                          0),
             PARKED);
    for (int i = 0; i < PARKED; i++) {
        CHECK_RC(pthread_join(t[i], NULL));
    }
    printf("released %d\n", LOAD(&park_done));
    CHECK_EQ(LOAD(&park_done), PARKED);
}

/* ---- a futex mutex: 0 unlocked, 1 locked, 2 locked with waiters ---- */

static uint32_t fmutex;
static long fcounter;

static void fmutex_lock(void)
{
    uint32_t c = 0;

    if (__atomic_compare_exchange_n(&fmutex, &c, 1, 0, __ATOMIC_SEQ_CST,
                                    __ATOMIC_SEQ_CST)) {
        return;
    }
    if (c != 2) {
        c = __atomic_exchange_n(&fmutex, 2, __ATOMIC_SEQ_CST);
    }
    while (c != 0) {
        const long r = futex(&fmutex, FUTEX_WAIT_PRIVATE, 2, NULL, 0);
        CHECK(r == 0 || errno == EAGAIN || errno == EINTR);
        c = __atomic_exchange_n(&fmutex, 2, __ATOMIC_SEQ_CST);
    }
}

static void fmutex_unlock(void)
{
    if (__atomic_fetch_sub(&fmutex, 1, __ATOMIC_SEQ_CST) != 1) {
        STORE(&fmutex, 0);
        CHECK_OK(futex(&fmutex, FUTEX_WAKE_PRIVATE, 1, NULL, 0));
    }
}

static void *locker(void *arg)
{
    (void)arg;
    for (int i = 0; i < INCREMENTS; i++) {
        fmutex_lock();
        const long seen = fcounter;
        if (i % 25 == 0) {
            usleep(200); /* the others must wait in FUTEX_WAIT */
        }
        fcounter = seen + 1;
        fmutex_unlock();
    }
    return NULL;
}

static void futex_mutex(void)
{
    pthread_t t[LOCKERS];

    for (int i = 0; i < LOCKERS; i++) {
        CHECK_RC(pthread_create(&t[i], NULL, locker, NULL));
    }
    for (int i = 0; i < LOCKERS; i++) {
        CHECK_RC(pthread_join(t[i], NULL));
    }
    printf("futex mutex: %d threads x %d increments: %ld, word after: %u\n",
           LOCKERS, INCREMENTS, fcounter, LOAD(&fmutex));
    CHECK_EQ(fcounter, LOCKERS * INCREMENTS);
    CHECK_EQ(LOAD(&fmutex), 0);
}

/* ---- waits that return at once or time out ---- */

static void report_waited(const char *label, long long start,
                          clockid_t clock, long long at_least_ns)
{
    const long long waited = now_ns(clock) - start;

    printf("%s: waited at least %lld ms: %s\n", label,
           at_least_ns / 1000000, waited >= at_least_ns ? "yes" : "no");
    CHECK(waited >= at_least_ns);
}

static void waits(void)
{
    static uint32_t words[2];
    uint32_t *const word = &words[0];
    const struct timespec rel30 = { 0, 30000000 };
    struct timespec ts;
    long long start;
    const char *label;

    REPORT_ERRNO("FUTEX_WAIT_PRIVATE, word 0, expected 1",
                 futex(word, FUTEX_WAIT_PRIVATE, 1, &rel30, 0), EAGAIN);
    REPORT_ERRNO("FUTEX_WAIT (shared), word 0, expected 1",
                 futex(word, FUTEX_WAIT, 1, &rel30, 0), EAGAIN);
    REPORT_ERRNO("FUTEX_WAIT_BITSET_PRIVATE, word 0, expected 1",
                 futex(word, FUTEX_WAIT_BITSET_PRIVATE, 1, NULL,
                       FUTEX_BITSET_MATCH_ANY), EAGAIN);

    label = "FUTEX_WAIT_PRIVATE, relative timeout 30 ms";
    start = now_ns(CLOCK_MONOTONIC);
    REPORT_ERRNO(label, futex(word, FUTEX_WAIT_PRIVATE, 0, &rel30, 0),
                 ETIMEDOUT);
    report_waited(label, start, CLOCK_MONOTONIC, 25000000LL);

    label = "FUTEX_WAIT_BITSET_PRIVATE, CLOCK_MONOTONIC deadline in 30 ms";
    ts = in_ms(CLOCK_MONOTONIC, 30);
    start = now_ns(CLOCK_MONOTONIC);
    REPORT_ERRNO(label, futex(word, FUTEX_WAIT_BITSET_PRIVATE, 0, &ts,
                              FUTEX_BITSET_MATCH_ANY), ETIMEDOUT);
    report_waited(label, start, CLOCK_MONOTONIC, 25000000LL);

    label = "FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME, "
            "CLOCK_REALTIME deadline in 30 ms";
    ts = in_ms(CLOCK_REALTIME, 30);
    start = now_ns(CLOCK_REALTIME);
    REPORT_ERRNO(label,
                 futex(word, FUTEX_WAIT_BITSET_PRIVATE | FUTEX_CLOCK_REALTIME,
                       0, &ts, FUTEX_BITSET_MATCH_ANY), ETIMEDOUT);
    report_waited(label, start, CLOCK_REALTIME, 25000000LL);

    ts = (struct timespec){ 1, 0 };
    REPORT_ERRNO("FUTEX_WAIT_BITSET_PRIVATE, CLOCK_MONOTONIC deadline 1 s "
                 "after boot",
                 futex(word, FUTEX_WAIT_BITSET_PRIVATE, 0, &ts,
                       FUTEX_BITSET_MATCH_ANY), ETIMEDOUT);
    REPORT_ERRNO("FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME, deadline "
                 "1 s after the epoch",
                 futex(word, FUTEX_WAIT_BITSET_PRIVATE | FUTEX_CLOCK_REALTIME,
                       0, &ts, FUTEX_BITSET_MATCH_ANY), ETIMEDOUT);
    REPORT_ERRNO("FUTEX_WAIT_PRIVATE, timeout 0",
                 futex(word, FUTEX_WAIT_PRIVATE, 0,
                       &(struct timespec){ 0, 0 }, 0), ETIMEDOUT);

    ts = (struct timespec){ 0, 1000000000 };
    REPORT_ERRNO("FUTEX_WAIT_PRIVATE, timeout tv_nsec 1000000000",
                 futex(word, FUTEX_WAIT_PRIVATE, 0, &ts, 0), EINVAL);
    ts = in_ms(CLOCK_MONOTONIC, 30);
    REPORT_ERRNO("FUTEX_WAIT_BITSET_PRIVATE, bitset 0",
                 futex(word, FUTEX_WAIT_BITSET_PRIVATE, 0, &ts, 0), EINVAL);
    REPORT_ERRNO("FUTEX_WAKE_BITSET_PRIVATE, bitset 0",
                 futex(word, FUTEX_WAKE_BITSET_PRIVATE, 1, NULL, 0), EINVAL);
    REPORT_ERRNO("FUTEX_WAIT_PRIVATE on a misaligned address",
                 futex((char *)word + 1, FUTEX_WAIT_PRIVATE, 0, &rel30, 0),
                 EINVAL);

    /* An aligned address with nothing mapped there. */
    void *const page = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(page != MAP_FAILED);
    CHECK_OK(munmap(page, 4096));
    REPORT_ERRNO("FUTEX_WAIT_PRIVATE on an unmapped address",
                 futex(page, FUTEX_WAIT_PRIVATE, 0, &rel30, 0), EFAULT);
    REPORT_ERRNO("FUTEX_WAIT_BITSET_PRIVATE on an unmapped address",
                 futex(page, FUTEX_WAIT_BITSET_PRIVATE, 0, NULL,
                       FUTEX_BITSET_MATCH_ANY), EFAULT);

    CHECK_EQ(REPORT_ERRNO("FUTEX_WAKE_PRIVATE with no waiters",
                          futex(word, FUTEX_WAKE_PRIVATE, 1, NULL, 0), 0),
             0);
}

/* ---- FUTEX_WAKE counts ---- */

static uint32_t wake_word;
static int wake_waiting, wake_woken;

static void *wake_waiter(void *arg)
{
    (void)arg;
    ADD(&wake_waiting, 1);
    /* One wait: it returns only when woken (the word never changes). */
    const long r = futex(&wake_word, FUTEX_WAIT_PRIVATE, 0, NULL, 0);
    CHECK_EQ(r, 0);
    ADD(&wake_woken, 1);
    return NULL;
}

static void wake_counts(void)
{
    pthread_t t[3];

    for (int i = 0; i < 3; i++) {
        CHECK_RC(pthread_create(&t[i], NULL, wake_waiter, NULL));
    }
    waiting_for(&wake_waiting, 3);
    printf("FUTEX_WAKE_PRIVATE: waiting %d, woken %d\n",
           LOAD(&wake_waiting), LOAD(&wake_woken));
    CHECK_EQ(LOAD(&wake_woken), 0);
    CHECK_EQ(REPORT_ERRNO("FUTEX_WAKE_PRIVATE 2 with 3 waiters",
                          futex(&wake_word, FUTEX_WAKE_PRIVATE, 2, NULL, 0),
                          0),
             2);
    wait_count(&wake_woken, 2);
    printf("woken after waking 2: %d\n", LOAD(&wake_woken));
    CHECK_EQ(LOAD(&wake_woken), 2);
    CHECK_EQ(REPORT_ERRNO("FUTEX_WAKE_PRIVATE 10 with 1 waiter",
                          futex(&wake_word, FUTEX_WAKE_PRIVATE, 10, NULL, 0),
                          0),
             1);
    for (int i = 0; i < 3; i++) {
        CHECK_RC(pthread_join(t[i], NULL));
    }
    printf("woken after waking 10: %d\n", LOAD(&wake_woken));
    CHECK_EQ(LOAD(&wake_woken), 3);
    CHECK_EQ(REPORT_ERRNO("FUTEX_WAKE_PRIVATE 10 with no waiter",
                          futex(&wake_word, FUTEX_WAKE_PRIVATE, 10, NULL, 0),
                          0),
             0);
}

/* ---- FUTEX_WAKE_BITSET ---- */

static uint32_t bits_word;
static int bits_waiting, bits_woken_mask, bits_woken;

static void *bits_waiter(void *arg)
{
    const uint32_t bits = (uint32_t)(uintptr_t)arg;

    ADD(&bits_waiting, 1);
    const long r = futex(&bits_word, FUTEX_WAIT_BITSET_PRIVATE, 0, NULL,
                         bits);
    CHECK_EQ(r, 0);
    __atomic_fetch_or(&bits_woken_mask, (int)bits, __ATOMIC_SEQ_CST);
    ADD(&bits_woken, 1);
    return NULL;
}

static void wake_bitset(void)
{
    static const uint32_t bits[3] = { 0x1, 0x2, 0x4 };
    pthread_t t[3];

    for (int i = 0; i < 3; i++) {
        CHECK_RC(pthread_create(&t[i], NULL, bits_waiter,
                                (void *)(uintptr_t)bits[i]));
    }
    waiting_for(&bits_waiting, 3);
    CHECK_EQ(REPORT_ERRNO("FUTEX_WAKE_BITSET_PRIVATE 0x2, waiters 0x1 0x2 "
                          "0x4",
                          futex(&bits_word, FUTEX_WAKE_BITSET_PRIVATE,
                                INT_MAX, NULL, 0x2),
                          0),
             1);
    wait_count(&bits_woken, 1);
    printf("woken bitsets: 0x%x\n", LOAD(&bits_woken_mask));
    CHECK_EQ(LOAD(&bits_woken_mask), 0x2);
    CHECK_EQ(REPORT_ERRNO("FUTEX_WAKE_BITSET_PRIVATE 0x8, waiters 0x1 0x4",
                          futex(&bits_word, FUTEX_WAKE_BITSET_PRIVATE,
                                INT_MAX, NULL, 0x8),
                          0),
             0);
    CHECK_EQ(REPORT_ERRNO("FUTEX_WAKE_BITSET_PRIVATE 0x3, waiters 0x1 0x4",
                          futex(&bits_word, FUTEX_WAKE_BITSET_PRIVATE,
                                INT_MAX, NULL, 0x3),
                          0),
             1);
    wait_count(&bits_woken, 2);
    printf("woken bitsets: 0x%x\n", LOAD(&bits_woken_mask));
    CHECK_EQ(LOAD(&bits_woken_mask), 0x3);
    CHECK_EQ(REPORT_ERRNO("FUTEX_WAKE_PRIVATE (any bitset), waiter 0x4",
                          futex(&bits_word, FUTEX_WAKE_PRIVATE, INT_MAX,
                                NULL, 0),
                          0),
             1);
    for (int i = 0; i < 3; i++) {
        CHECK_RC(pthread_join(t[i], NULL));
    }
    printf("woken bitsets: 0x%x\n", LOAD(&bits_woken_mask));
    CHECK_EQ(LOAD(&bits_woken_mask), 0x7);
}

/* ---- park/unpark, as Rust's std::thread::park on Linux ---- */

enum { EMPTY = 0, NOTIFIED = 1, PARKED_STATE = -1 };

struct parker {
    int32_t state;
};

static void park(struct parker *p)
{
    if (__atomic_fetch_sub(&p->state, 1, __ATOMIC_SEQ_CST) == NOTIFIED) {
        return; /* NOTIFIED -> EMPTY */
    }
    for (;;) {
        /* EMPTY -> PARKED: wait while still PARKED. */
        const long r = futex(&p->state, FUTEX_WAIT_BITSET_PRIVATE,
                             (uint32_t)PARKED_STATE, NULL,
                             FUTEX_BITSET_MATCH_ANY);
        CHECK(r == 0 || errno == EAGAIN || errno == EINTR);
        int32_t expected = NOTIFIED;
        if (__atomic_compare_exchange_n(&p->state, &expected, EMPTY, 0,
                                        __ATOMIC_SEQ_CST,
                                        __ATOMIC_SEQ_CST)) {
            return;
        }
    }
}

static void unpark(struct parker *p)
{
    if (__atomic_exchange_n(&p->state, NOTIFIED, __ATOMIC_SEQ_CST) ==
        PARKED_STATE) {
        CHECK_OK(futex(&p->state, FUTEX_WAKE_PRIVATE, 1, NULL, 0));
    }
}

static struct parker main_parker, ponger_parker;
static int ball, returned, out_of_turn;

static void *ponger(void *arg)
{
    (void)arg;
    for (int i = 0; i < PING_PONGS; i++) {
        /* park may return spuriously (a stale NOTIFIED): wait for i. */
        while (LOAD(&ball) != i) {
            park(&ponger_parker);
        }
        if (i % 100 == 0) {
            usleep(100);
        }
        STORE(&returned, i);
        unpark(&main_parker);
    }
    return NULL;
}

static void ping_pong(void)
{
    pthread_t t;
    int round_trips = 0;

    STORE(&ball, -1);
    STORE(&returned, -1);
    CHECK_RC(pthread_create(&t, NULL, ponger, NULL));
    for (int i = 0; i < PING_PONGS; i++) {
        STORE(&ball, i);
        unpark(&ponger_parker);
        while (LOAD(&returned) != i) {
            if (LOAD(&returned) > i) {
                ADD(&out_of_turn, 1);
                break;
            }
            park(&main_parker);
        }
        round_trips++;
    }
    CHECK_RC(pthread_join(t, NULL));
    printf("park/unpark ping-pong: %d round trips, out of turn %d\n",
           round_trips, LOAD(&out_of_turn));
    CHECK_EQ(round_trips, PING_PONGS);
    CHECK_EQ(LOAD(&out_of_turn), 0);
}

static const struct section sections[] = {
    { "parked", parked },
    { "mutex", futex_mutex },
    { "waits", waits },
    { "wake", wake_counts },
    { "bitset", wake_bitset },
    { "pingpong", ping_pong },
};

int main(int argc, char **argv)
{
    if (argc > 3 || (argc == 3 && strcmp(argv[1], "parked") != 0)) {
        fprintf(stderr, "usage: %s [SECTION | parked HOLD_FILE]\n", argv[0]);
        return 2;
    }
    hold_file = argc == 3 ? argv[2] : NULL;
    /* Line-buffered even into a pipe: when the run's timeout ends a wait
     * that never returns, the transcript so far shows where it stopped. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    return RUN_SECTIONS(argc, argv, sections, NULL);
}
