/* SPDX-License-Identifier: MIT */
/* fork-parked [--hold PATH] [ROUND...]: fork while 100 other threads are
 * blocked.
 *
 * main starts 100 threads and waits until all of them are blocked (each
 * says so, and main waits until it sleeps in its call: handshake.h): 20
 * in pthread_cond_wait, 20 in read on a pipe (the first holding a mutex),
 * 20 in nanosleep/usleep of 1000 s (which a SIGUSR1 ends when they are
 * released), 10 in pthread_barrier_wait and 10 in pthread_join of those,
 * 20 in poll on a socketpair.  Then it forks in the ROUNDs named, or in
 * all four: "thread", from a dedicated thread (the child ends with
 * _exit(7)); "main", from main (exit(9)); "return", from a thread whose
 * start routine then returns in the child; and "pthread_exit", from a
 * thread that calls pthread_exit in the child (both end the child with
 * status 0, as it is the last thread).  Three pthread_atfork
 * handler triples record the order they ran in; the last prepare handler
 * to run locks a normal mutex, which the parent and child handlers unlock.
 *
 * The child prints that its pid differs from its parent's, that the
 * forking thread's locals and its creator's data (reached by pointer) are
 * intact, the order of the atfork handlers, that the mutex a parked thread
 * held stays locked (trylock EBUSY, as glibc does) while the prepare
 * handler's mutex is free, and the results of 50 threads it creates
 * itself, which pass a token round a mutex and condition variable, play
 * ping-pong over pipes and sleep 5 ms, then block (half on a condition
 * variable, half reading a pipe) until the child releases and joins them.
 * The parent waits for each child and prints its status, then releases
 * and joins the 100 threads and prints what each group returned.
 *
 * With --hold PATH, in the "thread" round the child writes "child ready
 * pid=N" to stderr once its 50 threads are blocked and waits (at most
 * 60 s) for PATH to exist, so that a test can count the kernel threads of
 * both processes; stdout is the same with or without it.
 * Exit status: 0 only when every check passed, in parent and children.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "check.h"
#include "handshake.h"

#define GROUP 20
#define CHILD_THREADS 50
#define RING_LAPS 3
#define PINGS 10

static const char *hold_path;

/* ---- the 100 parked threads ---- */

static pthread_mutex_t park_mu = PTHREAD_MUTEX_INITIALIZER;
static int parked;                 /* under park_mu */
static int woken;                  /* atomic: blocking calls that returned */
static pid_t parked_tid[5 * GROUP];    /* under park_mu, in parking order */
static struct handshake parking;   /* a thread is about to block */

/* Called by each of the 100 threads just before its blocking call. */
static void mark_parked(void)
{
    CHECK_RC(pthread_mutex_lock(&park_mu));
    parked_tid[parked] = gettid();
    parked++;
    CHECK_RC(pthread_mutex_unlock(&park_mu));
    hs_post(&parking);
}

static pthread_mutex_t cv_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int cv_released;            /* under cv_mu */

static void *cond_waiter(void *arg)
{
    (void)arg;
    CHECK_RC(pthread_mutex_lock(&cv_mu));
    mark_parked();
    while (!cv_released) {
        CHECK_RC(pthread_cond_wait(&cv, &cv_mu));
    }
    ADD(&woken, 1);
    CHECK_RC(pthread_mutex_unlock(&cv_mu));
    return (void *)1;
}

/* Locked by the first pipe reader for as long as it is parked. */
static pthread_mutex_t held_mu = PTHREAD_MUTEX_INITIALIZER;
static int reader_pipe[GROUP][2];

static void *pipe_reader(void *arg)
{
    const int i = (int)(intptr_t)arg;
    char byte = 0;
    ssize_t r;

    if (i == 0) {
        CHECK_RC(pthread_mutex_lock(&held_mu));
    }
    mark_parked();
    do {
        r = read(reader_pipe[i][0], &byte, 1);
    } while (r == -1 && errno == EINTR);
    ADD(&woken, 1);
    CHECK_EQ(r, 1);
    if (i == 0) {
        CHECK_RC(pthread_mutex_unlock(&held_mu));
    }
    return (void *)(intptr_t)(byte == 'a' + i % 26);
}

/* A sleeper sleeps 1000 s until main, releasing it, sends it SIGUSR1
 * (a handler without SA_RESTART): its sleep then fails with EINTR. */
static int sleep_released;         /* atomic */

static void on_usr1(int sig)
{
    (void)sig;
}

static void *sleeper(void *arg)
{
    const int i = (int)(intptr_t)arg;
    int interrupted = 0;

    mark_parked();
    while (!LOAD(&sleep_released)) {
        if (i % 2 == 0) {
            struct timespec ts = { .tv_sec = 1000, .tv_nsec = 0 };
            interrupted = nanosleep(&ts, &ts) == -1 && errno == EINTR;
        } else {
            interrupted = usleep(1000000000) == -1 && errno == EINTR;
        }
    }
    ADD(&woken, 1);
    return (void *)(intptr_t)interrupted;
}

static pthread_barrier_t barrier;  /* GROUP/2 waiters and main */
static pthread_t barrier_thread[GROUP / 2];

static void *barrier_waiter(void *arg)
{
    (void)arg;
    mark_parked();
    const int rc = pthread_barrier_wait(&barrier);
    ADD(&woken, 1);
    CHECK(rc == 0 || rc == PTHREAD_BARRIER_SERIAL_THREAD);
    return (void *)1;
}

static void *joiner(void *arg)
{
    const int i = (int)(intptr_t)arg;
    void *ret = NULL;

    mark_parked();
    CHECK_RC(pthread_join(barrier_thread[i], &ret));
    ADD(&woken, 1);
    return (void *)(intptr_t)(ret == (void *)1);
}

static int poll_pair[GROUP][2];

static void *poller(void *arg)
{
    const int i = (int)(intptr_t)arg;
    struct pollfd p = { .fd = poll_pair[i][0], .events = POLLIN };
    int r;
    char byte = 0;

    mark_parked();
    do {
        r = poll(&p, 1, -1);
    } while (r == -1 && errno == EINTR);
    ADD(&woken, 1);
    CHECK_EQ(r, 1);
    CHECK(p.revents & POLLIN);
    CHECK_EQ(read(poll_pair[i][0], &byte, 1), 1);
    return (void *)(intptr_t)(byte == 'A' + i % 26);
}

/* ---- atfork handlers ---- */

static char order[64];
static pthread_mutex_t prep_mu = PTHREAD_MUTEX_INITIALIZER;

static void note(const char *s)
{
    strncat(order, s, sizeof order - strlen(order) - 1);
}

static void prepare1(void) { note(" P1"); pthread_mutex_lock(&prep_mu); }
static void prepare2(void) { note(" P2"); }
static void prepare3(void) { note(" P3"); }
static void parent1(void) { pthread_mutex_unlock(&prep_mu); note(" a1"); }
static void parent2(void) { note(" a2"); }
static void parent3(void) { note(" a3"); }
static void child1(void) { pthread_mutex_unlock(&prep_mu); note(" c1"); }
static void child2(void) { note(" c2"); }
static void child3(void) { note(" c3"); }

/* ---- what the forking thread keeps ---- */

struct creator {
    unsigned magic;
    char name[24];
    int values[8];
};

static void fill_creator(struct creator *c)
{
    memset(c, 0, sizeof *c);
    c->magic = 0xC0FFEEu;
    snprintf(c->name, sizeof c->name, "made by main");
    for (int i = 0; i < 8; i++) {
        c->values[i] = 1000 + 7 * i;
    }
}

static int creator_intact(const struct creator *c)
{
    struct creator want;
    fill_creator(&want);
    return memcmp(c, &want, sizeof want) == 0;
}

struct locals {
    char note[32];
    long squares[16];
    volatile unsigned sum;
};

static void fill_locals(struct locals *l, int round)
{
    memset(l, 0, sizeof *l);
    snprintf(l->note, sizeof l->note, "forker of round %d", round);
    l->sum = 0;
    for (int i = 0; i < 16; i++) {
        l->squares[i] = (long)(i + round) * (i + round);
        l->sum += (unsigned)l->squares[i];
    }
}

static int locals_intact(const struct locals *l, int round)
{
    struct locals want;
    fill_locals(&want, round);
    unsigned sum = 0;
    for (int i = 0; i < 16; i++) {
        sum += (unsigned)l->squares[i];
    }
    return strcmp(l->note, want.note) == 0 &&
           memcmp(l->squares, want.squares, sizeof want.squares) == 0 &&
           sum == l->sum && l->sum == want.sum;
}

/* ---- the child's own 50 threads ---- */

static pthread_mutex_t ring_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ring_cv = PTHREAD_COND_INITIALIZER;
static int ring_turn;              /* under ring_mu */
static int ring_handoffs;          /* under ring_mu */
static int ping_pipe[CHILD_THREADS][2]; /* written by i's partner, read by i */
static int child_finished;         /* under ring_mu */
static int gate_open;              /* under ring_mu */
static int gate_pipe[2];
static int pings_done, naps_done;  /* atomic */
static pid_t child_tid[CHILD_THREADS];
static struct handshake child_blocking;    /* a worker is about to block */

static void *child_worker(void *arg)
{
    const int i = (int)(intptr_t)arg;
    const int partner = i ^ 1;
    char byte;

    /* A token goes round all threads RING_LAPS times. */
    CHECK_RC(pthread_mutex_lock(&ring_mu));
    for (int lap = 0; lap < RING_LAPS; lap++) {
        while (ring_turn != lap * CHILD_THREADS + i) {
            CHECK_RC(pthread_cond_wait(&ring_cv, &ring_mu));
        }
        ring_turn++;
        ring_handoffs++;
        CHECK_RC(pthread_cond_broadcast(&ring_cv));
    }
    CHECK_RC(pthread_mutex_unlock(&ring_mu));

    /* Ping-pong with the partner: the even one serves first. */
    for (int k = 0; k < PINGS; k++) {
        if (i % 2 == 0) {
            byte = (char)k;
            CHECK_EQ(write(ping_pipe[partner][1], &byte, 1), 1);
            CHECK_EQ(read(ping_pipe[i][0], &byte, 1), 1);
            CHECK_EQ(byte, k);
            ADD(&pings_done, 1);
        } else {
            CHECK_EQ(read(ping_pipe[i][0], &byte, 1), 1);
            CHECK_EQ(byte, k);
            CHECK_EQ(write(ping_pipe[partner][1], &byte, 1), 1);
        }
    }

    struct timespec ts = { .tv_sec = 0, .tv_nsec = 5000000 };
    CHECK_OK(nanosleep(&ts, NULL));
    ADD(&naps_done, 1);

    /* Stay blocked until the child lets everyone go. */
    child_tid[i] = gettid();
    CHECK_RC(pthread_mutex_lock(&ring_mu));
    child_finished++;
    CHECK_RC(pthread_cond_broadcast(&ring_cv));
    hs_post(&child_blocking);
    if (i % 2 == 0) {
        while (!gate_open) {
            CHECK_RC(pthread_cond_wait(&ring_cv, &ring_mu));
        }
        CHECK_RC(pthread_mutex_unlock(&ring_mu));
    } else {
        CHECK_RC(pthread_mutex_unlock(&ring_mu));
        CHECK_EQ(read(gate_pipe[0], &byte, 1), 1);
    }
    return (void *)(intptr_t)(i + 1);
}

static void child_threads(int round)
{
    pthread_t th[CHILD_THREADS];

    ring_turn = ring_handoffs = child_finished = gate_open = 0;
    pings_done = naps_done = 0;
    for (int i = 0; i < CHILD_THREADS; i++) {
        CHECK_OK(pipe(ping_pipe[i]));
    }
    CHECK_OK(pipe(gate_pipe));
    hs_init(&child_blocking);
    for (int i = 0; i < CHILD_THREADS; i++) {
        CHECK_RC(pthread_create(&th[i], NULL, child_worker,
                                (void *)(intptr_t)i));
    }
    for (int i = 0; i < CHILD_THREADS; i++) {
        hs_wait(&child_blocking);
    }
    CHECK_RC(pthread_mutex_lock(&ring_mu));
    CHECK_EQ(child_finished, CHILD_THREADS);
    CHECK_RC(pthread_mutex_unlock(&ring_mu));
    for (int i = 0; i < CHILD_THREADS; i++) {
        wait_blocked(child_tid[i]);    /* the last ones reach their wait */
    }
    if (round == 1 && hold_path != NULL) {
        fprintf(stderr, "child ready pid=%d\n", (int)getpid());
        fflush(stderr);
        wait_for_file(hold_path, 60);
    }
    CHECK_RC(pthread_mutex_lock(&ring_mu));
    gate_open = 1;
    CHECK_RC(pthread_cond_broadcast(&ring_cv));
    CHECK_RC(pthread_mutex_unlock(&ring_mu));
    char bytes[CHILD_THREADS / 2];
    memset(bytes, 'g', sizeof bytes);
    CHECK_EQ(write(gate_pipe[1], bytes, sizeof bytes), (long)sizeof bytes);
    long joined = 0;
    for (int i = 0; i < CHILD_THREADS; i++) {
        void *ret = NULL;
        CHECK_RC(pthread_join(th[i], &ret));
        CHECK_EQ((intptr_t)ret, i + 1);
        joined += (intptr_t)ret == i + 1;
    }
    for (int i = 0; i < CHILD_THREADS; i++) {
        close(ping_pipe[i][0]);
        close(ping_pipe[i][1]);
    }
    close(gate_pipe[0]);
    close(gate_pipe[1]);
    hs_destroy(&child_blocking);
    printf("child %d: %d threads: %d ring hand-offs, %d ping-pongs, "
           "%d naps, %ld joined\n", round, CHILD_THREADS, ring_handoffs,
           LOAD(&pings_done), LOAD(&naps_done), joined);
}

/* Everything the child checks and prints; main or a thread calls it right
 * after fork returned 0. */
static void child_side(int round, pid_t parent, const struct creator *cd,
                       const struct locals *mine)
{
    printf("child %d: pid differs from the parent's: %s\n", round,
           getpid() != parent ? "yes" : "no");
    printf("child %d: parent is the forking process: %s\n", round,
           getppid() == parent ? "yes" : "no");
    CHECK(getpid() != parent);
    CHECK(getppid() == parent);
    printf("child %d: atfork order:%s\n", round, order);
    printf("child %d: forker's locals intact: %s (%s)\n", round,
           locals_intact(mine, round) ? "yes" : "no", mine->note);
    CHECK(locals_intact(mine, round));
    if (cd != NULL) {
        printf("child %d: creator's data intact: %s (%s)\n", round,
               creator_intact(cd) ? "yes" : "no", cd->name);
        CHECK(creator_intact(cd));
    }
    EXPECT_RC(EBUSY, pthread_mutex_trylock(&held_mu),
              "child %d: trylock of the mutex a parked thread held", round);
    if (EXPECT_RC(0, pthread_mutex_trylock(&prep_mu),
                  "child %d: trylock of the prepare handler's mutex",
                  round) == 0) {
        CHECK_RC(pthread_mutex_unlock(&prep_mu));
    }
    child_threads(round);
    fflush(stdout);
}

/* The parent's side after fork: its handlers and the child's status. */
static void parent_side(int round, pid_t child, int want_status,
                        const struct locals *mine)
{
    int st = 0;
    pid_t w;

    char ran[sizeof order];

    /* Nothing is printed until the child has printed everything. */
    memcpy(ran, order, sizeof ran);
    do {
        w = waitpid(child, &st, 0);
    } while (w == -1 && errno == EINTR);
    CHECK_EQ(w, child);
    printf("parent %d: atfork order:%s\n", round, ran);
    if (WIFEXITED(st)) {
        printf("parent %d: child exited %d\n", round, WEXITSTATUS(st));
    } else if (WIFSIGNALED(st)) {
        printf("parent %d: child killed by signal %d\n", round,
               WTERMSIG(st));
    } else {
        printf("parent %d: child status %#x\n", round, st);
    }
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == want_status);
    printf("parent %d: forker's locals intact: %s\n", round,
           locals_intact(mine, round) ? "yes" : "no");
    CHECK(locals_intact(mine, round));
    if (EXPECT_RC(0, pthread_mutex_trylock(&prep_mu),
                  "parent %d: trylock of the prepare handler's mutex",
                  round) == 0) {
        CHECK_RC(pthread_mutex_unlock(&prep_mu));
    }
    fflush(stdout);
}

/* How the child of a round ends. */
enum ending { END_EXIT7, END_EXIT9, END_RETURN, END_PTHREAD_EXIT };

struct forker_arg {
    int round;
    enum ending ending;
    const struct creator *creator;
};

static void *forker(void *arg)
{
    const struct forker_arg *fa = arg;
    const int round = fa->round;
    struct locals mine;
    const pid_t parent = getpid();

    fill_locals(&mine, round);
    order[0] = '\0';
    fflush(stdout);
    const pid_t pid = fork();
    if (pid == -1) {
        CHECK_OK(pid);
        return NULL;
    }
    if (pid == 0) {
        child_side(round, parent, fa->creator, &mine);
        const int failed = check_exit_status() != 0;
        switch (fa->ending) {
        case END_EXIT7:
            _exit(failed ? 1 : 7);
        case END_EXIT9:
            exit(failed ? 1 : 9);
        case END_RETURN:
            if (failed) {
                _exit(1);
            }
            return (void *)2;  /* the last thread: the process exits 0 */
        case END_PTHREAD_EXIT:
            if (failed) {
                _exit(1);
            }
            pthread_exit(NULL);
        }
        _exit(1);
    }
    parent_side(round, pid, fa->ending == END_EXIT7 ? 7 : 0, &mine);
    return (void *)1;
}

static void fork_from_thread(int round, enum ending ending,
                             const struct creator *cd)
{
    struct forker_arg fa = { .round = round, .ending = ending,
                             .creator = cd };
    pthread_t t;
    void *ret = NULL;

    CHECK_RC(pthread_create(&t, NULL, forker, &fa));
    CHECK_RC(pthread_join(t, &ret));
    CHECK(ret == (void *)1);
}

static void fork_from_main(int round)
{
    struct locals mine;
    const pid_t parent = getpid();

    fill_locals(&mine, round);
    order[0] = '\0';
    fflush(stdout);
    const pid_t pid = fork();
    if (pid == -1) {
        CHECK_OK(pid);
        return;
    }
    if (pid == 0) {
        child_side(round, parent, NULL, &mine);
        exit(check_exit_status() != 0 ? 1 : 9);
    }
    parent_side(round, pid, 9, &mine);
}

static int parked_now(void)
{
    CHECK_RC(pthread_mutex_lock(&park_mu));
    const int n = parked;
    CHECK_RC(pthread_mutex_unlock(&park_mu));
    return n;
}

/* The rounds, by name; a round's number is its place here. */
static const char *const round_names[] = { "thread", "main", "return",
                                           "pthread_exit" };

static void fork_round(int round, const struct creator *cd)
{
    switch (round) {
    case 1:
        fork_from_thread(1, END_EXIT7, cd);
        break;
    case 2:
        fork_from_main(2);
        break;
    case 3:
        fork_from_thread(3, END_RETURN, cd);
        break;
    case 4:
        fork_from_thread(4, END_PTHREAD_EXIT, cd);
        break;
    }
}

int main(int argc, char **argv)
{
    int rounds[8], nrounds = 0;

    for (int a = 1; a < argc; a++) {
        if (strcmp(argv[a], "--hold") == 0 && a + 1 < argc) {
            hold_path = argv[++a];
            continue;
        }
        int r = 0;
        while (r < 4 && strcmp(argv[a], round_names[r]) != 0) {
            r++;
        }
        if (r == 4 || nrounds == 8) {
            fprintf(stderr, "usage: %s [--hold PATH] [thread | main | "
                    "return | pthread_exit]...\n", argv[0]);
            return 2;
        }
        rounds[nrounds++] = r + 1;
    }
    if (nrounds == 0) {
        for (int r = 1; r <= 4; r++) {
            rounds[nrounds++] = r;
        }
    }

    struct sigaction sa = { .sa_handler = on_usr1 };   /* no SA_RESTART */
    sigemptyset(&sa.sa_mask);
    CHECK_OK(sigaction(SIGUSR1, &sa, NULL));
    hs_init(&parking);
    CHECK_RC(pthread_atfork(prepare1, parent1, child1));
    CHECK_RC(pthread_atfork(prepare2, parent2, child2));
    CHECK_RC(pthread_atfork(prepare3, parent3, child3));

    struct creator cd;
    fill_creator(&cd);

    pthread_t cond_th[GROUP], pipe_th[GROUP], sleep_th[GROUP],
        join_th[GROUP / 2], poll_th[GROUP];
    CHECK_RC(pthread_barrier_init(&barrier, NULL, GROUP / 2 + 1));
    for (int i = 0; i < GROUP; i++) {
        CHECK_OK(pipe(reader_pipe[i]));
        CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, poll_pair[i]));
    }
    for (int i = 0; i < GROUP; i++) {
        void *const a = (void *)(intptr_t)i;
        CHECK_RC(pthread_create(&cond_th[i], NULL, cond_waiter, a));
        CHECK_RC(pthread_create(&pipe_th[i], NULL, pipe_reader, a));
        CHECK_RC(pthread_create(&sleep_th[i], NULL, sleeper, a));
        CHECK_RC(pthread_create(&poll_th[i], NULL, poller, a));
    }
    for (int i = 0; i < GROUP / 2; i++) {
        CHECK_RC(pthread_create(&barrier_thread[i], NULL, barrier_waiter,
                                NULL));
    }
    for (int i = 0; i < GROUP / 2; i++) {
        CHECK_RC(pthread_create(&join_th[i], NULL, joiner,
                                (void *)(intptr_t)i));
    }
    for (int i = 0; i < 5 * GROUP; i++) {
        hs_wait(&parking);
    }
    CHECK_EQ(parked_now(), 5 * GROUP);
    for (int i = 0; i < 5 * GROUP; i++) {
        wait_blocked(parked_tid[i]);   /* each is in its blocking call */
    }
    printf("parked: %d threads\n", parked_now());
    fflush(stdout);

    for (int i = 0; i < nrounds; i++) {
        fork_round(rounds[i], &cd);
    }

    /* Nobody was woken by the forks. */
    EXPECT_RC(EBUSY, pthread_mutex_trylock(&held_mu),
              "parent: trylock of the mutex the parked reader holds");
    printf("parent: parked threads still parked: %d\n",
           parked_now() - LOAD(&woken));
    printf("parent: creator's data intact: %s\n",
           creator_intact(&cd) ? "yes" : "no");
    CHECK(creator_intact(&cd));

    /* Release everyone. */
    CHECK_RC(pthread_mutex_lock(&cv_mu));
    cv_released = 1;
    CHECK_RC(pthread_cond_broadcast(&cv));
    CHECK_RC(pthread_mutex_unlock(&cv_mu));
    for (int i = 0; i < GROUP; i++) {
        const char r = (char)('a' + i % 26), p = (char)('A' + i % 26);
        CHECK_EQ(write(reader_pipe[i][1], &r, 1), 1);
        CHECK_EQ(write(poll_pair[i][1], &p, 1), 1);
    }
    STORE(&sleep_released, 1);
    for (int i = 0; i < GROUP; i++) {
        CHECK_RC(pthread_kill(sleep_th[i], SIGUSR1));
    }
    const int rc = pthread_barrier_wait(&barrier);
    CHECK(rc == 0 || rc == PTHREAD_BARRIER_SERIAL_THREAD);

    int got[5] = { 0 };
    for (int i = 0; i < GROUP; i++) {
        void *ret = NULL;
        CHECK_RC(pthread_join(cond_th[i], &ret));
        got[0] += ret == (void *)1;
        CHECK_RC(pthread_join(pipe_th[i], &ret));
        got[1] += ret == (void *)1;
        CHECK_RC(pthread_join(sleep_th[i], &ret));
        got[2] += ret == (void *)1;
        CHECK_RC(pthread_join(poll_th[i], &ret));
        got[4] += ret == (void *)1;
    }
    for (int i = 0; i < GROUP / 2; i++) {
        void *ret = NULL;
        CHECK_RC(pthread_join(join_th[i], &ret));
        got[3] += 2 * (ret == (void *)1);   /* the joiner and its target */
    }
    printf("released: cond %d, pipe %d, sleep %d, barrier+join %d, "
           "poll %d\n", got[0], got[1], got[2], got[3], got[4]);
    for (int k = 0; k < 5; k++) {
        CHECK_EQ(got[k], GROUP);
    }
    CHECK_RC(pthread_mutex_trylock(&held_mu));
    CHECK_RC(pthread_mutex_unlock(&held_mu));
    CHECK_RC(pthread_barrier_destroy(&barrier));
    hs_destroy(&parking);
    for (int i = 0; i < GROUP; i++) {
        close(reader_pipe[i][0]);
        close(reader_pipe[i][1]);
        close(poll_pair[i][0]);
        close(poll_pair[i][1]);
    }
    printf("done\n");
    return check_exit_status();
}
