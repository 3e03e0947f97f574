/* SPDX-License-Identifier: MIT */
/* stack-cross [owners|waiters|readers]: threads read and write, through
 * pointers, the locals of other threads (not their creators) while those
 * are blocked and yet other threads run in between.  Without an argument
 * all three cases run.
 *
 * owners   OWNERS threads each keep a struct on their stack (guards, values
 *          of their own, two areas for visitors, a counter and the mutex
 *          that guards it), publish its address in a global table and
 *          block: in pthread_cond_wait, in read on a pipe or in sem_wait.
 *          VISITORS threads, created by main, each write a pattern of
 *          their own into area `a` of one owner and area `b` of another,
 *          a chunk at a time, switching after every chunk (sched_yield, or
 *          a pipe round trip with a relay thread), and add to the owner's
 *          counter holding the owner's mutex across a switch.  Then main
 *          wakes the owners one by one; each checks that its struct holds
 *          exactly what its own code and its two visitors wrote and prints
 *          "owner N: ok".
 * waiters  WAITERS threads each push a node that lives on their stack onto
 *          a shared list under a mutex and wait, some on a condition
 *          variable inside their node, some on a shared one (Ruby's
 *          waiter lists).  A waker thread pops the nodes one by one,
 *          writes a value, a message and a tail into each in two halves
 *          with a switch between them, then wakes that waiter.  Each
 *          waiter checks its node.
 * readers  READERS threads each hand a buffer on their stack to a filler
 *          thread and block in read on a pipe of their own; the filler
 *          read()s into that buffer from a data pipe that a feeder thread
 *          fills slowly, so the kernel writes into the stack of a thread
 *          blocked elsewhere while the filler itself waits.  Each reader
 *          checks its buffer and the guards around it.
 *
 * main prints the results in thread order, so the transcript is the same
 * whatever the interleaving.
 */
#define _GNU_SOURCE
#include <alloca.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

enum { OWNERS = 16, VISITORS = 16, CHUNKS = 8, CHUNK = 512, INITIAL = 64 };
enum { WAITERS = 16, TAIL = 1024 };
enum { READERS = 8, READ_BYTES = 6000, FEED_CHUNK = 700 };

static const unsigned GUARD_LO = 0x5a5aa5a5u, GUARD_HI = 0xc3c33c3cu;

/* Read or write exactly n bytes, retrying on EINTR and short transfers. */
static int read_full(int fd, void *buf, size_t n)
{
    size_t done = 0;

    while (done < n) {
        ssize_t r = read(fd, (char *)buf + done, n - done);
        if (r == -1 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            return -1;
        }
        done += (size_t)r;
    }
    return 0;
}

static int write_full(int fd, const void *buf, size_t n)
{
    size_t done = 0;

    while (done < n) {
        ssize_t r = write(fd, (const char *)buf + done, n - done);
        if (r == -1 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            return -1;
        }
        done += (size_t)r;
    }
    return 0;
}

/* ---- owners and visitors -------------------------------------------- */

/* What an owner keeps on its stack while it is blocked. */
struct owner_locals {
    unsigned guard_lo;
    int id;
    long initial[INITIAL];            /* written by the owner */
    int writer_a, writer_b;           /* written by the visitors */
    unsigned char a[CHUNKS * CHUNK];  /* written by visitor writer_a */
    pthread_mutex_t lock;             /* guards visits */
    long visits;                      /* added to by both visitors */
    unsigned char b[CHUNKS * CHUNK];  /* written by visitor writer_b */
    unsigned guard_hi;
};

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t table_cv = PTHREAD_COND_INITIALIZER;
static struct owner_locals *table[OWNERS];
static int published;

/* How main wakes owner i: i % 3 picks one. */
static pthread_cond_t release_cv = PTHREAD_COND_INITIALIZER;
static int released[OWNERS];
static int owner_pipe[OWNERS][2];
static sem_t owner_sem[OWNERS];

/* The relay thread answers each request byte on the visitor's reply pipe. */
static int relay_req[2], relay_reply[VISITORS][2];

/* Visitor v writes area a of owner target_a(v) and area b of owner
 * target_b(v); both are permutations of 0..15, and never the same
 * owner for one visitor (2v + 3 is odd). */
static int target_a(int v) { return (5 * v + 3) % OWNERS; }
static int target_b(int v) { return (7 * v + 6) % OWNERS; }

static int writer_of_a(int owner)
{
    for (int v = 0; v < VISITORS; v++) {
        if (target_a(v) == owner) {
            return v;
        }
    }
    return -1;
}

static int writer_of_b(int owner)
{
    for (int v = 0; v < VISITORS; v++) {
        if (target_b(v) == owner) {
            return v;
        }
    }
    return -1;
}

static long initial_value(int owner, int k)
{
    return 1000003L * (owner + 1) + 7919L * k;
}

static unsigned char pattern(int v, int area, int i)
{
    return (unsigned char)(v * 37 + area * 101 + i * 13 + (i >> 8));
}

static long visit_value(int v, int area)
{
    return 1L << (v * 2 + area);
}

/* Let other threads run: a yield, or a round trip through the relay. */
static void switch_away(int v)
{
    if (v % 2 == 0) {
        CHECK_OK(sched_yield());
        return;
    }
    unsigned char byte = (unsigned char)v, reply = 0;
    CHECK_OK(write_full(relay_req[1], &byte, 1));
    CHECK_OK(read_full(relay_reply[v][0], &reply, 1));
    CHECK_EQ(reply, v + 100);
}

static void *relay(void *arg)
{
    unsigned char byte;

    (void)arg;
    while (read_full(relay_req[0], &byte, 1) == 0 && byte != 0xff) {
        unsigned char reply = (unsigned char)(byte + 100);
        CHECK_OK(write_full(relay_reply[byte][1], &reply, 1));
    }
    return NULL;
}

/* Check an area another thread wrote; returns 1 when it holds v's pattern. */
static int area_holds(const unsigned char *p, int v, int area, int upto)
{
    for (int i = 0; i < upto; i++) {
        if (p[i] != pattern(v, area, i)) {
            check_fail(__FILE__, __LINE__, 0,
                       "area %c byte %d is %d, visitor %d wrote %d",
                       'a' + area, i, p[i], v, pattern(v, area, i));
            return 0;
        }
    }
    return 1;
}

/* Check the values owner `id` wrote into its own struct; the first wrong
 * one is reported. */
static void initial_holds(const struct owner_locals *o, int id)
{
    for (int k = 0; k < INITIAL; k++) {
        if (o->initial[k] != initial_value(id, k)) {
            check_fail(__FILE__, __LINE__, 0,
                       "owner %d: initial[%d] is %ld, the owner wrote %ld", id,
                       k, o->initial[k], initial_value(id, k));
            return;
        }
    }
}

static void *visitor(void *arg)
{
    const int v = (int)(intptr_t)arg;

    pthread_mutex_lock(&table_lock);
    while (published < OWNERS) {
        pthread_cond_wait(&table_cv, &table_lock);
    }
    struct owner_locals *const oa = table[target_a(v)];
    struct owner_locals *const ob = table[target_b(v)];
    pthread_mutex_unlock(&table_lock);

    /* Read what the owners wrote themselves. */
    CHECK_EQ(oa->id, target_a(v));
    CHECK_EQ(ob->id, target_b(v));
    initial_holds(oa, target_a(v));
    initial_holds(ob, target_b(v));
    oa->writer_a = v;
    ob->writer_b = v;

    for (int c = 0; c < CHUNKS; c++) {
        for (int i = c * CHUNK; i < (c + 1) * CHUNK; i++) {
            oa->a[i] = pattern(v, 0, i);
        }
        switch_away(v);
        for (int i = c * CHUNK; i < (c + 1) * CHUNK; i++) {
            ob->b[i] = pattern(v, 1, i);
        }
        switch_away(v);
        /* Everything written so far is still there. */
        area_holds(oa->a, v, 0, (c + 1) * CHUNK);
        area_holds(ob->b, v, 1, (c + 1) * CHUNK);
    }

    /* The owner's mutex, held across a switch, against the other visitor
     * of the same owner. */
    CHECK_RC(pthread_mutex_lock(&oa->lock));
    const long before = oa->visits;
    switch_away(v);
    oa->visits = before + visit_value(v, 0);
    CHECK_RC(pthread_mutex_unlock(&oa->lock));
    CHECK_RC(pthread_mutex_lock(&ob->lock));
    const long before_b = ob->visits;
    switch_away(v);
    ob->visits = before_b + visit_value(v, 1);
    CHECK_RC(pthread_mutex_unlock(&ob->lock));

    CHECK_EQ(oa->writer_a, v);
    CHECK_EQ(ob->writer_b, v);
    return NULL;
}

/* The frame of an owner, at a depth that differs from owner to owner. */
static __attribute__((noinline)) void owner_frame(int id)
{
    struct owner_locals me;

    memset(&me, 0, sizeof me);
    me.guard_lo = GUARD_LO;
    me.guard_hi = GUARD_HI;
    me.id = id;
    me.writer_a = me.writer_b = -1;
    for (int k = 0; k < INITIAL; k++) {
        me.initial[k] = initial_value(id, k);
    }
    CHECK_RC(pthread_mutex_init(&me.lock, NULL));

    pthread_mutex_lock(&table_lock);
    table[id] = &me;
    published++;
    pthread_cond_broadcast(&table_cv);
    pthread_mutex_unlock(&table_lock);

    switch (id % 3) {
    case 0:
        pthread_mutex_lock(&table_lock);
        while (!released[id]) {
            pthread_cond_wait(&release_cv, &table_lock);
        }
        pthread_mutex_unlock(&table_lock);
        break;
    case 1: {
        char byte = 0;
        CHECK_OK(read_full(owner_pipe[id][0], &byte, 1));
        CHECK_EQ(byte, 'g');
        break;
    }
    default:
        while (sem_wait(&owner_sem[id]) == -1 && errno == EINTR) {
        }
        break;
    }

    const int va = writer_of_a(id), vb = writer_of_b(id);
    const int failures = LOAD(&check_failures);
    CHECK_EQ(me.guard_lo, GUARD_LO);
    CHECK_EQ(me.guard_hi, GUARD_HI);
    CHECK_EQ(me.id, id);
    initial_holds(&me, id);
    CHECK_EQ(me.writer_a, va);
    CHECK_EQ(me.writer_b, vb);
    area_holds(me.a, va, 0, CHUNKS * CHUNK);
    area_holds(me.b, vb, 1, CHUNKS * CHUNK);
    CHECK_EQ(me.visits, visit_value(va, 0) + visit_value(vb, 1));
    CHECK_RC(pthread_mutex_trylock(&me.lock));
    CHECK_RC(pthread_mutex_unlock(&me.lock));
    CHECK_RC(pthread_mutex_destroy(&me.lock));
    printf("owner %d: %s (a by visitor %d, b by visitor %d)\n", id,
           LOAD(&check_failures) == failures ? "ok" : "BAD", va, vb);
    fflush(stdout);
}

static void *owner(void *arg)
{
    const int id = (int)(intptr_t)arg;
    volatile char *pad = alloca((size_t)id * 208 + 16);

    pad[0] = (char)id;
    owner_frame(id);
    return (void *)(intptr_t)pad[0];
}

static void run_owners(void)
{
    pthread_t owners[OWNERS], visitors[VISITORS], relay_thread;

    CHECK_OK(pipe(relay_req));
    for (int v = 0; v < VISITORS; v++) {
        CHECK_OK(pipe(relay_reply[v]));
    }
    for (int i = 0; i < OWNERS; i++) {
        CHECK_OK(pipe(owner_pipe[i]));
        CHECK_OK(sem_init(&owner_sem[i], 0, 0));
    }
    CHECK_RC(pthread_create(&relay_thread, NULL, relay, NULL));
    for (int i = 0; i < OWNERS; i++) {
        CHECK_RC(pthread_create(&owners[i], NULL, owner, (void *)(intptr_t)i));
    }
    pthread_mutex_lock(&table_lock);
    while (published < OWNERS) {
        pthread_cond_wait(&table_cv, &table_lock);
    }
    pthread_mutex_unlock(&table_lock);
    for (int v = 0; v < VISITORS; v++) {
        CHECK_RC(pthread_create(&visitors[v], NULL, visitor,
                                (void *)(intptr_t)v));
    }
    for (int v = 0; v < VISITORS; v++) {
        CHECK_RC(pthread_join(visitors[v], NULL));
    }
    printf("visitors: %d done\n", VISITORS);
    fflush(stdout);

    /* Wake the owners one at a time, in order. */
    for (int i = 0; i < OWNERS; i++) {
        switch (i % 3) {
        case 0:
            pthread_mutex_lock(&table_lock);
            released[i] = 1;
            pthread_cond_broadcast(&release_cv);
            pthread_mutex_unlock(&table_lock);
            break;
        case 1:
            CHECK_OK(write_full(owner_pipe[i][1], "g", 1));
            break;
        default:
            CHECK_OK(sem_post(&owner_sem[i]));
            break;
        }
        void *ret = NULL;
        CHECK_RC(pthread_join(owners[i], &ret));
        CHECK_EQ((intptr_t)ret, i);
    }

    unsigned char stop = 0xff;
    CHECK_OK(write_full(relay_req[1], &stop, 1));
    CHECK_RC(pthread_join(relay_thread, NULL));
    for (int i = 0; i < OWNERS; i++) {
        close(owner_pipe[i][0]);
        close(owner_pipe[i][1]);
        sem_destroy(&owner_sem[i]);
    }
    for (int v = 0; v < VISITORS; v++) {
        close(relay_reply[v][0]);
        close(relay_reply[v][1]);
    }
    close(relay_req[0]);
    close(relay_req[1]);
}

/* ---- a list of waiters whose nodes live on their stacks ----------- */

struct wnode {
    unsigned guard_lo;
    struct wnode *next;
    int id;
    int woken;
    pthread_cond_t cond;     /* waited on by even waiters */
    long value;              /* written by the waker */
    char msg[48];            /* written by the waker */
    unsigned char tail[TAIL]; /* written by the waker, in two halves */
    unsigned guard_hi;
};

static pthread_mutex_t list_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t list_cv = PTHREAD_COND_INITIALIZER;   /* pushes */
static pthread_cond_t shared_cv = PTHREAD_COND_INITIALIZER; /* odd waiters */
static struct wnode *list_head;
static int pushed;
static int waiter_ok[WAITERS];
static int waker_pipe[2], waker_echo[2];

static long waiter_value(int id)
{
    return 77777L * (id + 3);
}

static unsigned char tail_byte(int id, int i)
{
    return (unsigned char)(id * 53 + i * 7 + 1);
}

static void *waiter(void *arg)
{
    const int id = (int)(intptr_t)arg;
    volatile char *pad = alloca((size_t)id * 136 + 8);
    struct wnode node;

    pad[0] = 1;
    memset(&node, 0, sizeof node);
    node.guard_lo = GUARD_LO;
    node.guard_hi = GUARD_HI;
    node.id = id;
    node.value = -1;
    CHECK_RC(pthread_cond_init(&node.cond, NULL));

    pthread_mutex_lock(&list_lock);
    node.next = list_head;
    list_head = &node;
    pushed++;
    pthread_cond_signal(&list_cv);
    while (!node.woken) {
        pthread_cond_wait(id % 2 == 0 ? &node.cond : &shared_cv, &list_lock);
    }
    pthread_mutex_unlock(&list_lock);

    const int failures = LOAD(&check_failures);
    char want[48];
    snprintf(want, sizeof want, "waiter %d, woken by the waker", id);
    CHECK_EQ(node.guard_lo, GUARD_LO);
    CHECK_EQ(node.guard_hi, GUARD_HI);
    CHECK_EQ(node.id, id);
    CHECK_EQ(node.value, waiter_value(id));
    if (strcmp(node.msg, want) != 0) {
        check_fail(__FILE__, __LINE__, 0, "waiter %d: message '%s'", id,
                   node.msg);
    }
    for (int i = 0; i < TAIL; i++) {
        if (node.tail[i] != tail_byte(id, i)) {
            check_fail(__FILE__, __LINE__, 0, "waiter %d: tail byte %d",
                       id, i);
            break;
        }
    }
    CHECK_RC(pthread_cond_destroy(&node.cond));
    waiter_ok[id] = LOAD(&check_failures) == failures;
    return NULL;
}

/* The echo thread answers the waker, so that the waker switches out with a
 * pipe round trip between the two halves of each node. */
static void *echo(void *arg)
{
    unsigned char byte;

    (void)arg;
    while (read_full(waker_pipe[0], &byte, 1) == 0 && byte != 0xff) {
        CHECK_OK(write_full(waker_echo[1], &byte, 1));
    }
    return NULL;
}

static void *waker(void *arg)
{
    int walked = 0;

    (void)arg;
    pthread_mutex_lock(&list_lock);
    while (pushed < WAITERS) {
        pthread_cond_wait(&list_cv, &list_lock);
    }
    pthread_mutex_unlock(&list_lock);

    for (;;) {
        pthread_mutex_lock(&list_lock);
        struct wnode *const n = list_head;
        if (n == NULL) {
            pthread_mutex_unlock(&list_lock);
            break;
        }
        list_head = n->next;
        const int id = n->id;
        n->value = waiter_value(id);
        for (int i = 0; i < TAIL / 2; i++) {
            n->tail[i] = tail_byte(id, i);
        }
        pthread_mutex_unlock(&list_lock);

        /* Others run while this waiter's node is half written. */
        unsigned char byte = (unsigned char)id, back = 0;
        if (walked % 2 == 0) {
            CHECK_OK(write_full(waker_pipe[1], &byte, 1));
            CHECK_OK(read_full(waker_echo[0], &back, 1));
            CHECK_EQ(back, id);
        } else {
            CHECK_OK(sched_yield());
        }

        pthread_mutex_lock(&list_lock);
        CHECK_EQ(n->id, id);
        CHECK_EQ(n->woken, 0);
        CHECK_EQ(n->value, waiter_value(id));
        for (int i = TAIL / 2; i < TAIL; i++) {
            n->tail[i] = tail_byte(id, i);
        }
        snprintf(n->msg, sizeof n->msg, "waiter %d, woken by the waker", id);
        n->woken = 1;
        if (id % 2 == 0) {
            pthread_cond_signal(&n->cond);
        } else {
            pthread_cond_broadcast(&shared_cv);
        }
        pthread_mutex_unlock(&list_lock);
        walked++;
        CHECK_OK(sched_yield());
    }
    return (void *)(intptr_t)walked;
}

static void run_waiters(void)
{
    pthread_t waiters[WAITERS], waker_thread, echo_thread;
    void *walked = NULL;

    CHECK_OK(pipe(waker_pipe));
    CHECK_OK(pipe(waker_echo));
    CHECK_RC(pthread_create(&echo_thread, NULL, echo, NULL));
    for (int i = 0; i < WAITERS; i++) {
        CHECK_RC(pthread_create(&waiters[i], NULL, waiter,
                                (void *)(intptr_t)i));
    }
    CHECK_RC(pthread_create(&waker_thread, NULL, waker, NULL));
    CHECK_RC(pthread_join(waker_thread, &walked));
    for (int i = 0; i < WAITERS; i++) {
        CHECK_RC(pthread_join(waiters[i], NULL));
    }
    unsigned char stop = 0xff;
    CHECK_OK(write_full(waker_pipe[1], &stop, 1));
    CHECK_RC(pthread_join(echo_thread, NULL));
    printf("waker: walked %ld nodes\n", (long)(intptr_t)walked);
    for (int i = 0; i < WAITERS; i++) {
        printf("waiter %d: %s\n", i, waiter_ok[i] ? "ok" : "BAD");
    }
    fflush(stdout);
    close(waker_pipe[0]);
    close(waker_pipe[1]);
    close(waker_echo[0]);
    close(waker_echo[1]);
}

/* ---- read() into a blocked thread's stack -------------------------- */

struct request {
    unsigned char *buf; /* on the reader's stack */
    size_t len;
    int done_fd;        /* the reader blocks reading the other end */
};

static struct request requests[READERS];
static int request_pipe[2], feed_cmd[2], data_pipe[2];
static int reader_ok[READERS];

static unsigned char data_byte(int id, int i)
{
    return (unsigned char)(id * 29 + i * 11 + (i >> 9) + 5);
}

static void *reader(void *arg)
{
    const int id = (int)(intptr_t)arg;
    struct {
        unsigned guard_lo;
        unsigned char buf[READ_BYTES];
        unsigned guard_hi;
    } mine;
    int done[2];

    memset(&mine, 0, sizeof mine);
    mine.guard_lo = GUARD_LO;
    mine.guard_hi = GUARD_HI;
    CHECK_OK(pipe(done));
    requests[id] = (struct request){ .buf = mine.buf, .len = READ_BYTES,
                                     .done_fd = done[1] };
    CHECK_OK(write_full(request_pipe[1], &id, sizeof id));

    /* Blocked here while the filler read()s into mine.buf. */
    char byte = 0;
    CHECK_OK(read_full(done[0], &byte, 1));
    CHECK_EQ(byte, 'd');

    const int failures = LOAD(&check_failures);
    CHECK_EQ(mine.guard_lo, GUARD_LO);
    CHECK_EQ(mine.guard_hi, GUARD_HI);
    for (int i = 0; i < READ_BYTES; i++) {
        if (mine.buf[i] != data_byte(id, i)) {
            check_fail(__FILE__, __LINE__, 0, "reader %d: byte %d is %d",
                       id, i, mine.buf[i]);
            break;
        }
    }
    reader_ok[id] = LOAD(&check_failures) == failures;
    close(done[0]);
    close(done[1]);
    return NULL;
}

/* Writes reader id's data in chunks, letting others run in between. */
static void *feeder(void *arg)
{
    int id;

    (void)arg;
    while (read_full(feed_cmd[0], &id, sizeof id) == 0 && id >= 0) {
        unsigned char chunk[FEED_CHUNK];
        for (int off = 0; off < READ_BYTES; off += FEED_CHUNK) {
            const int n = READ_BYTES - off < FEED_CHUNK ? READ_BYTES - off
                                                        : FEED_CHUNK;
            for (int i = 0; i < n; i++) {
                chunk[i] = data_byte(id, off + i);
            }
            CHECK_OK(sched_yield());
            CHECK_OK(write_full(data_pipe[1], chunk, (size_t)n));
        }
    }
    return NULL;
}

static void *filler(void *arg)
{
    (void)arg;
    for (int served = 0; served < READERS; served++) {
        int id = -1;
        CHECK_OK(read_full(request_pipe[0], &id, sizeof id));
        CHECK(id >= 0 && id < READERS);
        if (id < 0 || id >= READERS) {
            break;
        }
        const struct request r = requests[id];
        CHECK_OK(write_full(feed_cmd[1], &id, sizeof id));
        /* The kernel writes into the reader's stack, straight from the
         * pipe, while this thread waits for the feeder. */
        size_t got = 0;
        while (got < r.len) {
            ssize_t n = read(data_pipe[0], r.buf + got, r.len - got);
            if (n == -1 && errno == EINTR) {
                continue;
            }
            if (n <= 0) {
                CHECK(n > 0);
                break;
            }
            got += (size_t)n;
        }
        CHECK_OK(write_full(r.done_fd, "d", 1));
    }
    return NULL;
}

static void run_readers(void)
{
    pthread_t readers[READERS], filler_thread, feeder_thread;

    CHECK_OK(pipe(request_pipe));
    CHECK_OK(pipe(feed_cmd));
    CHECK_OK(pipe(data_pipe));
    CHECK_RC(pthread_create(&feeder_thread, NULL, feeder, NULL));
    CHECK_RC(pthread_create(&filler_thread, NULL, filler, NULL));
    for (int i = 0; i < READERS; i++) {
        CHECK_RC(pthread_create(&readers[i], NULL, reader,
                                (void *)(intptr_t)i));
    }
    for (int i = 0; i < READERS; i++) {
        CHECK_RC(pthread_join(readers[i], NULL));
    }
    CHECK_RC(pthread_join(filler_thread, NULL));
    int stop = -1;
    CHECK_OK(write_full(feed_cmd[1], &stop, sizeof stop));
    CHECK_RC(pthread_join(feeder_thread, NULL));
    for (int i = 0; i < READERS; i++) {
        printf("reader %d: %s\n", i, reader_ok[i] ? "ok" : "BAD");
    }
    fflush(stdout);
    close(request_pipe[0]);
    close(request_pipe[1]);
    close(feed_cmd[0]);
    close(feed_cmd[1]);
    close(data_pipe[0]);
    close(data_pipe[1]);
}

int main(int argc, char **argv)
{
    const char *which = argc > 1 ? argv[1] : "all";
    const int all = strcmp(which, "all") == 0;

    if (!all && strcmp(which, "owners") != 0 &&
        strcmp(which, "waiters") != 0 && strcmp(which, "readers") != 0) {
        fprintf(stderr, "usage: %s [owners|waiters|readers]\n", argv[0]);
        return 2;
    }
    if (all || strcmp(which, "owners") == 0) {
        run_owners();
    }
    if (all || strcmp(which, "waiters") == 0) {
        run_waiters();
    }
    if (all || strcmp(which, "readers") == 0) {
        run_readers();
    }
    return check_exit_status();
}
