/* SPDX-License-Identifier: MIT */
/* sync-rwlock: reader-writer locks between threads.
 *
 * Writers update two fields under the write lock while readers check that
 * they always see them equal; several readers hold the lock at once;
 * tryrdlock/trywrlock give EBUSY while the lock is held in a conflicting
 * mode; rdlock/wrlock by the current writer give EDEADLK; timed and clock
 * locks time out (ETIMEDOUT, after at least 40 ms of a 50 ms deadline) or
 * reject bad deadlines and clocks (EINVAL); a writer-preferring lock
 * (PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP, from attributes and from
 * the static initialiser) turns new readers away while a writer waits,
 * where the default (reader-preferring) kind lets them in.
 *
 *   sync-rwlock [pairs|overlap|conflicts|own|preference]
 *
 * runs one section; no argument runs them all.  One transcript line per
 * check; every order printed is forced by the program, never by timing:
 * a thread that must find another one waiting for a lock polls for what
 * that one does just before it waits, or tries the lock until it is
 * turned away; a holder that must unlock while another thread waits in a
 * timed lock is told to once that thread is about to wait, and the timed
 * lock has an hour's deadline.  Timeouts are checked as lower bounds only
 * (at least 40 ms of a 50 ms deadline).  Each poll gives up after 30000
 * milliseconds at least, only to turn a hang into a failure.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

enum { WRITERS = 2, READERS = 4, WRITES = 200, READS = 300, OVERLAP = 4 };

static struct timespec in_ms(clockid_t clock, long ms)
{
    const long long t = now_ns(clock) + ms * 1000000LL;

    return (struct timespec){ t / 1000000000LL, t % 1000000000LL };
}

/* Poll *flag (every millisecond, 30000 times at most) until it is at
 * least `want`; returns whether it got there. */
static int wait_for(const int *flag, int want)
{
    for (int i = 0; i < 30000; i++) {
        if (LOAD(flag) >= want) {
            return 1;
        }
        usleep(1000);
    }
    return LOAD(flag) >= want;
}

/* ---- writers and readers checking consistent pairs ---- */

static pthread_rwlock_t pair_lock = PTHREAD_RWLOCK_INITIALIZER;
static long pair_a, pair_b;
static int mismatches, reads_done;

static void *pair_writer(void *arg)
{
    (void)arg;
    for (int i = 0; i < WRITES; i++) {
        CHECK_RC(pthread_rwlock_wrlock(&pair_lock));
        const long v = pair_a + 1;
        pair_a = v;
        if (i % 20 == 0) {
            usleep(200); /* readers must wait for the second field */
        }
        pair_b = v;
        CHECK_RC(pthread_rwlock_unlock(&pair_lock));
        if (i % 5 == 0) {
            usleep(100);
        }
    }
    return NULL;
}

static void *pair_reader(void *arg)
{
    (void)arg;
    for (int i = 0; i < READS; i++) {
        CHECK_RC(pthread_rwlock_rdlock(&pair_lock));
        const long a = pair_a;
        if (i % 25 == 0) {
            usleep(100); /* writers must wait for this reader */
        }
        const long b = pair_b;
        if (a != b) {
            ADD(&mismatches, 1);
        }
        CHECK_RC(pthread_rwlock_unlock(&pair_lock));
        ADD(&reads_done, 1);
        if (i % 10 == 0) {
            usleep(100);
        }
    }
    return NULL;
}

static void consistent_pairs(void)
{
    pthread_t w[WRITERS], r[READERS];

    for (int i = 0; i < READERS; i++) {
        CHECK_RC(pthread_create(&r[i], NULL, pair_reader, NULL));
    }
    for (int i = 0; i < WRITERS; i++) {
        CHECK_RC(pthread_create(&w[i], NULL, pair_writer, NULL));
    }
    for (int i = 0; i < WRITERS; i++) {
        CHECK_RC(pthread_join(w[i], NULL));
    }
    for (int i = 0; i < READERS; i++) {
        CHECK_RC(pthread_join(r[i], NULL));
    }
    printf("pairs: %d writers x %d writes, %d readers x %d reads: "
           "a=%ld b=%ld, reads %d, mismatched reads %d\n",
           WRITERS, WRITES, READERS, READS, pair_a, pair_b,
           LOAD(&reads_done), LOAD(&mismatches));
    CHECK_EQ(pair_a, WRITERS * WRITES);
    CHECK_EQ(pair_b, WRITERS * WRITES);
    CHECK_EQ(LOAD(&mismatches), 0);
}

/* ---- several readers inside at once ---- */

static pthread_rwlock_t overlap_lock = PTHREAD_RWLOCK_INITIALIZER;
static int entered, inside, max_inside, saw_all;

static void *overlap_reader(void *arg)
{
    (void)arg;
    CHECK_RC(pthread_rwlock_rdlock(&overlap_lock));
    ADD(&entered, 1);
    const int n = ADD(&inside, 1);
    int m = LOAD(&max_inside);
    while (n > m && !__atomic_compare_exchange_n(&max_inside, &m, n, 0,
                                                 __ATOMIC_SEQ_CST,
                                                 __ATOMIC_SEQ_CST)) {
    }
    /* Hold the read lock until every reader has entered: this only ends
     * (before wait_for gives up) if the readers hold the lock together. */
    if (wait_for(&entered, OVERLAP)) {
        ADD(&saw_all, 1);
    }
    ADD(&inside, -1);
    CHECK_RC(pthread_rwlock_unlock(&overlap_lock));
    return NULL;
}

static void readers_overlap(void)
{
    pthread_t t[OVERLAP];

    for (int i = 0; i < OVERLAP; i++) {
        CHECK_RC(pthread_create(&t[i], NULL, overlap_reader, NULL));
    }
    for (int i = 0; i < OVERLAP; i++) {
        CHECK_RC(pthread_join(t[i], NULL));
    }
    printf("readers overlapped: %s\n", LOAD(&max_inside) > 1 ? "yes" : "no");
    printf("%d readers each saw all %d inside while holding the lock: %d\n",
           OVERLAP, OVERLAP, LOAD(&saw_all));
    printf("most readers inside at once: %d\n", LOAD(&max_inside));
    CHECK_EQ(LOAD(&max_inside), OVERLAP);
    CHECK_EQ(LOAD(&saw_all), OVERLAP);
}

/* ---- a thread holding a lock in one mode ---- */

struct holder {
    pthread_rwlock_t *lock;
    int write;
    int held;
    int release;
    pthread_t t;
};

static void *hold_main(void *arg)
{
    struct holder *const h = arg;

    CHECK_RC(h->write ? pthread_rwlock_wrlock(h->lock)
                      : pthread_rwlock_rdlock(h->lock));
    STORE(&h->held, 1);
    CHECK(wait_for(&h->release, 1));
    CHECK_RC(pthread_rwlock_unlock(h->lock));
    return NULL;
}

/* Start a thread holding `lock` (for write when `write`) and return once
 * it holds it. */
static void hold_start(struct holder *h, pthread_rwlock_t *lock, int write)
{
    memset(h, 0, sizeof *h);
    h->lock = lock;
    h->write = write;
    CHECK_RC(pthread_create(&h->t, NULL, hold_main, h));
    CHECK(wait_for(&h->held, 1));
}

/* Tell the holder to unlock; it may do so at once or later. */
static void hold_release(struct holder *h)
{
    STORE(&h->release, 1);
}

static void hold_stop(struct holder *h)
{
    hold_release(h);
    CHECK_RC(pthread_join(h->t, NULL));
}

typedef int (*clock_lock_fn)(pthread_rwlock_t *, clockid_t,
                             const struct timespec *);
typedef int (*timed_lock_fn)(pthread_rwlock_t *, const struct timespec *);

/* Print the result of a 50 ms timed lock attempt and whether it waited at
 * least 40 ms (a lower bound, never a check of precision). */
static void report_timed(const char *label, pthread_rwlock_t *l, int rc,
                         long long start, clockid_t clock)
{
    const long long waited = now_ns(clock) - start;

    EXPECT_RC(ETIMEDOUT, rc, "%s", label);
    printf("%s: waited at least 40 ms: %s\n", label,
           waited >= 40000000LL ? "yes" : "no");
    CHECK(waited >= 40000000LL);
    if (rc == 0) {
        CHECK_RC(pthread_rwlock_unlock(l));
    }
}

static void timed_50ms(const char *what, pthread_rwlock_t *l,
                       timed_lock_fn fn, const char *fn_name)
{
    char label[160];
    const struct timespec deadline = in_ms(CLOCK_REALTIME, 50);
    const long long start = now_ns(CLOCK_REALTIME);

    snprintf(label, sizeof label, "%s: %s 50 ms", what, fn_name);
    const int rc = fn(l, &deadline);
    report_timed(label, l, rc, start, CLOCK_REALTIME);
}

static void clock_50ms(const char *what, pthread_rwlock_t *l,
                       clock_lock_fn fn, const char *fn_name,
                       clockid_t clock, const char *clock_name)
{
    char label[160];
    const struct timespec deadline = in_ms(clock, 50);
    const long long start = now_ns(clock);

    snprintf(label, sizeof label, "%s: %s %s 50 ms", what, fn_name,
             clock_name);
    const int rc = fn(l, clock, &deadline);
    report_timed(label, l, rc, start, clock);
}

static void conflicts(void)
{
    pthread_rwlock_t *const l = &pair_lock;
    struct holder h;
    const struct timespec bad_nsec = { 0, 1000000000 };
    const struct timespec neg_nsec = { 0, -1 };
    struct timespec deadline;
    const char *const w = "write-held by another thread";
    const char *const r = "read-held by another thread";

    hold_start(&h, l, 1);
    EXPECT_RC(EBUSY, pthread_rwlock_tryrdlock(l), "%s: tryrdlock", w);
    EXPECT_RC(EBUSY, pthread_rwlock_trywrlock(l), "%s: trywrlock", w);
    timed_50ms(w, l, pthread_rwlock_timedrdlock, "timedrdlock");
    timed_50ms(w, l, pthread_rwlock_timedwrlock, "timedwrlock");
    clock_50ms(w, l, pthread_rwlock_clockrdlock, "clockrdlock",
               CLOCK_MONOTONIC, "CLOCK_MONOTONIC");
    clock_50ms(w, l, pthread_rwlock_clockwrlock, "clockwrlock",
               CLOCK_MONOTONIC, "CLOCK_MONOTONIC");
    clock_50ms(w, l, pthread_rwlock_clockwrlock, "clockwrlock",
               CLOCK_REALTIME, "CLOCK_REALTIME");
    EXPECT_RC(EINVAL, pthread_rwlock_timedrdlock(l, &bad_nsec),
              "%s: timedrdlock tv_nsec 1000000000", w);
    EXPECT_RC(EINVAL, pthread_rwlock_timedwrlock(l, &bad_nsec),
              "%s: timedwrlock tv_nsec 1000000000", w);
    EXPECT_RC(EINVAL, pthread_rwlock_timedwrlock(l, &neg_nsec),
              "%s: timedwrlock tv_nsec -1", w);
    deadline = in_ms(CLOCK_MONOTONIC, 50);
    EXPECT_RC(EINVAL,
              pthread_rwlock_clockrdlock(l, CLOCK_PROCESS_CPUTIME_ID,
                                         &deadline),
              "%s: clockrdlock CLOCK_PROCESS_CPUTIME_ID", w);
    EXPECT_RC(EINVAL,
              pthread_rwlock_clockwrlock(l, CLOCK_PROCESS_CPUTIME_ID,
                                         &deadline),
              "%s: clockwrlock CLOCK_PROCESS_CPUTIME_ID", w);
    deadline = (struct timespec){ 0, 0 };
    EXPECT_RC(ETIMEDOUT, pthread_rwlock_timedwrlock(l, &deadline),
              "%s: timedwrlock until the epoch", w);
    hold_stop(&h);

    /* A writer told to unlock just before a timed lock with an hour's
     * deadline: the timed lock gets the lock. */
    hold_start(&h, l, 1);
    deadline = in_ms(CLOCK_REALTIME, 3600000);
    hold_release(&h);
    EXPECT_RC(0, pthread_rwlock_timedrdlock(l, &deadline),
              "timedrdlock 3600 s, the writer unlocks meanwhile");
    CHECK_RC(pthread_rwlock_unlock(l));
    CHECK_RC(pthread_join(h.t, NULL));
    hold_start(&h, l, 1);
    deadline = in_ms(CLOCK_MONOTONIC, 3600000);
    hold_release(&h);
    EXPECT_RC(0, pthread_rwlock_clockwrlock(l, CLOCK_MONOTONIC, &deadline),
              "clockwrlock CLOCK_MONOTONIC 3600 s, the writer unlocks "
              "meanwhile");
    CHECK_RC(pthread_rwlock_unlock(l));
    CHECK_RC(pthread_join(h.t, NULL));

    hold_start(&h, l, 0);
    EXPECT_RC(EBUSY, pthread_rwlock_trywrlock(l), "%s: trywrlock", r);
    int rc = pthread_rwlock_tryrdlock(l);
    EXPECT_RC(0, rc, "%s: tryrdlock", r);
    if (rc == 0) {
        CHECK_RC(pthread_rwlock_unlock(l));
    }
    rc = pthread_rwlock_rdlock(l);
    EXPECT_RC(0, rc, "%s: rdlock", r);
    if (rc == 0) {
        CHECK_RC(pthread_rwlock_unlock(l));
    }
    timed_50ms(r, l, pthread_rwlock_timedwrlock, "timedwrlock");
    clock_50ms(r, l, pthread_rwlock_clockwrlock, "clockwrlock",
               CLOCK_MONOTONIC, "CLOCK_MONOTONIC");
    hold_stop(&h);
}

/* ---- the caller's own lock ---- */

struct op {
    pthread_rwlock_t *lock;
    int (*fn)(pthread_rwlock_t *);
    int rc;
};

static void *do_op(void *arg)
{
    struct op *const op = arg;

    op->rc = op->fn(op->lock);
    if (op->rc == 0) {
        CHECK_RC(pthread_rwlock_unlock(op->lock));
    }
    return NULL;
}

/* fn (then unlock if it succeeded) in a new thread; its result. */
static int in_thread(pthread_rwlock_t *l, int (*fn)(pthread_rwlock_t *))
{
    struct op op = { .lock = l, .fn = fn, .rc = -1 };
    pthread_t t;

    CHECK_RC(pthread_create(&t, NULL, do_op, &op));
    CHECK_RC(pthread_join(t, NULL));
    return op.rc;
}

static void own_lock(void)
{
    static pthread_rwlock_t l = PTHREAD_RWLOCK_INITIALIZER;
    const struct timespec deadline = in_ms(CLOCK_REALTIME, 50);

    EXPECT_RC(0, pthread_rwlock_wrlock(&l), "static initializer: wrlock");
    EXPECT_RC(EDEADLK, pthread_rwlock_rdlock(&l), "writer: rdlock");
    EXPECT_RC(EDEADLK, pthread_rwlock_wrlock(&l), "writer: wrlock");
    EXPECT_RC(EDEADLK, pthread_rwlock_timedwrlock(&l, &deadline),
              "writer: timedwrlock 50 ms");
    EXPECT_RC(EBUSY, pthread_rwlock_tryrdlock(&l), "writer: tryrdlock");
    EXPECT_RC(EBUSY, pthread_rwlock_trywrlock(&l), "writer: trywrlock");
    EXPECT_RC(EBUSY, in_thread(&l, pthread_rwlock_tryrdlock),
              "writer: tryrdlock from another thread");
    EXPECT_RC(0, pthread_rwlock_unlock(&l), "writer: unlock");
    EXPECT_RC(0, in_thread(&l, pthread_rwlock_wrlock),
              "wrlock from another thread after unlock");

    EXPECT_RC(0, pthread_rwlock_rdlock(&l), "static initializer: rdlock");
    EXPECT_RC(0, pthread_rwlock_rdlock(&l), "reader: rdlock again");
    EXPECT_RC(0, pthread_rwlock_tryrdlock(&l), "reader: tryrdlock again");
    EXPECT_RC(EBUSY, pthread_rwlock_trywrlock(&l), "reader: trywrlock");
    EXPECT_RC(0, in_thread(&l, pthread_rwlock_rdlock),
              "reader: rdlock from another thread");
    EXPECT_RC(EBUSY, in_thread(&l, pthread_rwlock_trywrlock),
              "reader: trywrlock from another thread");
    EXPECT_RC(0, pthread_rwlock_unlock(&l), "reader: unlock 1 of 3");
    EXPECT_RC(0, pthread_rwlock_unlock(&l), "reader: unlock 2 of 3");
    EXPECT_RC(EBUSY, in_thread(&l, pthread_rwlock_trywrlock),
              "reader: trywrlock from another thread, still read once");
    EXPECT_RC(0, pthread_rwlock_unlock(&l), "reader: unlock 3 of 3");
    EXPECT_RC(0, in_thread(&l, pthread_rwlock_trywrlock),
              "trywrlock from another thread after unlock");
}

/* ---- writer preference ---- */

static pthread_mutex_t order_lock = PTHREAD_MUTEX_INITIALIZER;
static char order[64];

static void record(const char *who)
{
    pthread_mutex_lock(&order_lock);
    if (order[0] != '\0') {
        strncat(order, ", ", sizeof order - strlen(order) - 1);
    }
    strncat(order, who, sizeof order - strlen(order) - 1);
    pthread_mutex_unlock(&order_lock);
}

struct contender {
    pthread_rwlock_t *lock;
    int started;
    int got;
    pthread_t t;
};

static void *late_writer(void *arg)
{
    struct contender *const c = arg;

    STORE(&c->started, 1);
    CHECK_RC(pthread_rwlock_wrlock(c->lock));
    STORE(&c->got, 1);
    record("writer");
    usleep(20000);
    CHECK_RC(pthread_rwlock_unlock(c->lock));
    return NULL;
}

static void *late_reader(void *arg)
{
    struct contender *const c = arg;

    STORE(&c->started, 1);
    CHECK_RC(pthread_rwlock_rdlock(c->lock));
    STORE(&c->got, 1);
    record("new reader");
    CHECK_RC(pthread_rwlock_unlock(c->lock));
    return NULL;
}

/* A reader holds `l`, a writer waits for it; then a new reader comes. */
static void preference(const char *kind, pthread_rwlock_t *l,
                       int prefer_writer)
{
    struct holder h;
    struct contender w = { .lock = l }, r = { .lock = l };
    int rc;

    order[0] = '\0';
    hold_start(&h, l, 0);
    CHECK_RC(pthread_create(&w.t, NULL, late_writer, &w));
    /* The writer calls wrlock right after it says it started. */
    CHECK(wait_for(&w.started, 1));
    if (prefer_writer) {
        /* Until the writer waits, a new reader may still get in. */
        for (int i = 0; i < 30000; i++) {
            rc = pthread_rwlock_tryrdlock(l);
            if (rc != 0) {
                break;
            }
            CHECK_RC(pthread_rwlock_unlock(l));
            usleep(1000);
        }
    } else {
        rc = pthread_rwlock_tryrdlock(l);
        if (rc == 0) {
            CHECK_RC(pthread_rwlock_unlock(l));
        }
    }
    EXPECT_RC(prefer_writer ? EBUSY : 0, rc,
              "%s: a reader holds, a writer waits: tryrdlock", kind);

    const struct timespec deadline = in_ms(CLOCK_REALTIME, 50);
    rc = pthread_rwlock_timedrdlock(l, &deadline);
    EXPECT_RC(prefer_writer ? ETIMEDOUT : 0, rc,
              "%s: a reader holds, a writer waits: timedrdlock 50 ms", kind);
    if (rc == 0) {
        CHECK_RC(pthread_rwlock_unlock(l));
    }
    printf("%s: a reader holds, a writer waits: writer has it: %s\n", kind,
           LOAD(&w.got) ? "yes" : "no");
    CHECK(!LOAD(&w.got));

    /* The new reader calls rdlock right after it says it started: with
     * writer preference it then waits behind the writer, and whether or
     * not it waits yet, the writer gets the lock first. */
    CHECK_RC(pthread_create(&r.t, NULL, late_reader, &r));
    CHECK(wait_for(&r.started, 1));
    if (!prefer_writer) {
        CHECK(wait_for(&r.got, 1));
    }
    hold_stop(&h);
    CHECK_RC(pthread_join(w.t, NULL));
    CHECK_RC(pthread_join(r.t, NULL));
    printf("%s: after the first reader unlocks, the lock went to: %s\n",
           kind, order);
    CHECK(strcmp(order, prefer_writer ? "writer, new reader"
                                      : "new reader, writer") == 0);
}

static void preferences(void)
{
    static pthread_rwlock_t static_writer_pref =
        PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP;
    static pthread_rwlock_t static_default = PTHREAD_RWLOCK_INITIALIZER;
    pthread_rwlockattr_t attr;
    pthread_rwlock_t l;

    CHECK_RC(pthread_rwlockattr_init(&attr));
    CHECK_RC(pthread_rwlockattr_setkind_np(
        &attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP));
    CHECK_RC(pthread_rwlock_init(&l, &attr));
    CHECK_RC(pthread_rwlockattr_destroy(&attr));
    preference("attr PREFER_WRITER_NONRECURSIVE", &l, 1);
    EXPECT_RC(0, pthread_rwlock_destroy(&l), "destroy");

    preference("static WRITER_NONRECURSIVE initializer", &static_writer_pref,
               1);

    CHECK_RC(pthread_rwlockattr_init(&attr));
    CHECK_RC(pthread_rwlockattr_setkind_np(
        &attr, PTHREAD_RWLOCK_PREFER_READER_NP));
    CHECK_RC(pthread_rwlock_init(&l, &attr));
    CHECK_RC(pthread_rwlockattr_destroy(&attr));
    preference("attr PREFER_READER", &l, 0);
    CHECK_RC(pthread_rwlock_destroy(&l));

    preference("static default initializer", &static_default, 0);
}

static const struct section sections[] = {
    { "pairs", consistent_pairs },
    { "overlap", readers_overlap },
    { "conflicts", conflicts },
    { "own", own_lock },
    { "preference", preferences },
};

int main(int argc, char **argv)
{
    /* Line-buffered even into a pipe: when the run's timeout ends a lock
     * that never returns, the transcript so far shows where it stopped. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    return RUN_SECTIONS(argc, argv, sections, NULL);
}
