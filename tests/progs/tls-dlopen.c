/* SPDX-License-Identifier: MIT */
/* tls-dlopen LIBRARY before|after [HOLD_FILE]: thread-local variables of a
 * library loaded with dlopen are per thread, as natively.
 *
 * LIBRARY is tests/progs/tls-mod.c built with one TLS model
 * (libtls-mod-gd.so, libtls-mod-desc.so or libtls-mod-ie.so); it has an
 * initialised __thread int (1000), a zero __thread long and a 4 KiB
 * __thread array, and functions returning their addresses.
 *
 *   before  main dlopens LIBRARY before the first thread exists, checks
 *           and changes its own values, then starts the threads.
 *   after   main starts the threads first; thread 0 and then thread 1
 *           each dlopen LIBRARY (the same handle), and the other threads,
 *           which never call dlopen, use the functions thread 0 found.
 *           main, which never dlopened it either, uses it last.
 *
 * THREADS threads take turns, ROUNDS rounds in a fixed order, handing a
 * token on through pipes (even threads) or a condition variable (odd
 * threads), so every thread blocks between its turns while all the others
 * run.  In its first turn a thread checks that it sees the initial values
 * (1000, 0, an all-zero array); in every turn it checks that the addresses
 * have not changed and that its values are exactly what it left last turn,
 * then adds id+1 to its counter, one increment at a time inside the
 * library, and writes a new value and a new array pattern.  At the end main
 * checks that every thread (and main) had addresses of its own, with no
 * overlap.  Between the first and the second round main prints
 * "parked THREADS" and, when HOLD_FILE is given, waits for it, so that a
 * test can count the process's kernel threads.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

enum { THREADS = 8, ROUNDS = 6, BIG = 4096, MAIN = THREADS };

struct api {
    void *handle;
    int *(*counter)(void);
    long *(*zero)(void);
    unsigned char *(*big)(void);
    size_t (*big_size)(void);
    int (*bump)(int);
    int (*value)(void);
};

static const char *library;
static int after;
static struct api shared_api; /* main's (before) or thread 0's (after) */
static void *second_handle;   /* thread 1's (after) */

/* The addresses each thread saw, main's in the last slot. */
static const void *counter_at[THREADS + 1], *zero_at[THREADS + 1],
    *big_at[THREADS + 1];

/* The token: even ids wait on their pipe, odd ones on `turn`. */
static int token_pipe[THREADS + 1][2];
static pthread_mutex_t turn_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t turn_cv = PTHREAD_COND_INITIALIZER;
static int turn = -1;

static void pass_to(int id)
{
    if (id % 2 == 0) {
        char t = 't';
        ssize_t r;
        do {
            r = write(token_pipe[id][1], &t, 1);
        } while (r == -1 && errno == EINTR);
        CHECK_EQ(r, 1);
        return;
    }
    pthread_mutex_lock(&turn_lock);
    turn = id;
    pthread_cond_broadcast(&turn_cv);
    pthread_mutex_unlock(&turn_lock);
}

static void wait_turn(int id)
{
    if (id % 2 == 0) {
        char t = 0;
        ssize_t r;
        do {
            r = read(token_pipe[id][0], &t, 1);
        } while (r == -1 && errno == EINTR);
        CHECK_EQ(r, 1);
        CHECK_EQ(t, 't');
        return;
    }
    pthread_mutex_lock(&turn_lock);
    while (turn != id) {
        pthread_cond_wait(&turn_cv, &turn_lock);
    }
    turn = -1;
    pthread_mutex_unlock(&turn_lock);
}

/* Who gets the token after `id` in round `round`: main between rounds 0
 * and 1 and after the last round. */
static int next_of(int id, int round)
{
    if (id < THREADS - 1) {
        return id + 1;
    }
    return round == 0 || round == ROUNDS - 1 ? MAIN : 0;
}

static int load_api(struct api *api)
{
    api->handle = dlopen(library, RTLD_NOW | RTLD_LOCAL);
    if (api->handle == NULL) {
        check_fail(__FILE__, __LINE__, 0, "dlopen %s: %s", library,
                   dlerror());
        return -1;
    }
    *(void **)&api->counter = dlsym(api->handle, "tls_mod_counter_addr");
    *(void **)&api->zero = dlsym(api->handle, "tls_mod_zero_addr");
    *(void **)&api->big = dlsym(api->handle, "tls_mod_big_addr");
    *(void **)&api->big_size = dlsym(api->handle, "tls_mod_big_size");
    *(void **)&api->bump = dlsym(api->handle, "tls_mod_bump");
    *(void **)&api->value = dlsym(api->handle, "tls_mod_counter_value");
    if (!api->counter || !api->zero || !api->big || !api->big_size ||
        !api->bump || !api->value) {
        check_fail(__FILE__, __LINE__, 0, "dlsym in %s: %s", library,
                   dlerror());
        return -1;
    }
    CHECK_EQ(api->big_size(), BIG);
    return 0;
}

static unsigned char big_byte(int id, int round, int k)
{
    return (unsigned char)(id * 31 + round * 7 + k + (k >> 8));
}

/* The values a thread sees when it has not touched them yet. */
static int check_fresh(const struct api *api, int id)
{
    const int failures = LOAD(&check_failures);
    const unsigned char *big = api->big();

    CHECK_EQ(*api->counter(), 1000);
    CHECK_EQ(api->value(), 1000);
    CHECK_EQ(*api->zero(), 0);
    for (int k = 0; k < BIG; k++) {
        if (big[k] != 0) {
            check_fail(__FILE__, __LINE__, 0,
                       "thread %d: fresh array byte %d is %d", id, k, big[k]);
            break;
        }
    }
    return LOAD(&check_failures) == failures;
}

static void *worker(void *arg)
{
    const int id = (int)(intptr_t)arg;
    struct api api;
    int fresh = 0, stable = 1, kept = 1;

    memset(&api, 0, sizeof api);
    for (int round = 0; round < ROUNDS; round++) {
        wait_turn(id);
        if (round == 0) {
            if (after && (id == 0 || id == 1)) {
                if (load_api(&api) != 0) {
                    exit(1);
                }
                if (id == 0) {
                    shared_api = api;
                } else {
                    second_handle = api.handle;
                    CHECK(api.handle == shared_api.handle);
                    CHECK(api.counter == shared_api.counter);
                }
            } else {
                api = shared_api;
            }
            fresh = check_fresh(&api, id);
            counter_at[id] = api.counter();
            zero_at[id] = api.zero();
            big_at[id] = api.big();
        } else {
            /* Same addresses; exactly what this thread left last turn. */
            const int failures = LOAD(&check_failures);
            CHECK(api.counter() == counter_at[id]);
            CHECK(api.zero() == zero_at[id]);
            CHECK(api.big() == big_at[id]);
            if (LOAD(&check_failures) != failures) {
                stable = 0;
            }
            const int kept_failures = LOAD(&check_failures);
            CHECK_EQ(api.value(), 1000 + round * (id + 1));
            CHECK_EQ(*api.counter(), 1000 + round * (id + 1));
            CHECK_EQ(*api.zero(), id * 100 + round - 1);
            const unsigned char *big = api.big();
            for (int k = 0; k < BIG; k++) {
                if (big[k] != big_byte(id, round - 1, k)) {
                    check_fail(__FILE__, __LINE__, 0,
                               "thread %d round %d: array byte %d is %d, "
                               "expected %d", id, round, k, big[k],
                               big_byte(id, round - 1, k));
                    break;
                }
            }
            if (LOAD(&check_failures) != kept_failures) {
                kept = 0;
            }
        }
        CHECK_EQ(api.bump(id + 1), 1000 + (round + 1) * (id + 1));
        *api.zero() = id * 100 + round;
        unsigned char *big = api.big();
        for (int k = 0; k < BIG; k++) {
            big[k] = big_byte(id, round, k);
        }
        if (round == 0) {
            printf("thread %d: %s\n", id,
                   fresh ? "starts with counter 1000, zero 0, array zero"
                         : "BAD initial values");
        } else if (round == ROUNDS - 1) {
            printf("thread %d: counter %d, zero %ld, addresses %s, values "
                   "%s\n", id, api.value(), *api.zero(),
                   stable ? "stable" : "MOVED", kept ? "kept" : "DISTURBED");
        }
        fflush(stdout);
        pass_to(next_of(id, round));
    }
    return NULL;
}

/* No two of the threads' (and main's) variables share an address. */
static int addresses_distinct(void)
{
    const int failures = LOAD(&check_failures);

    for (int i = 0; i <= THREADS; i++) {
        for (int j = 0; j <= THREADS; j++) {
            const uintptr_t big_lo = (uintptr_t)big_at[j];
            const uintptr_t big_hi = big_lo + BIG;
            if ((uintptr_t)counter_at[i] >= big_lo &&
                (uintptr_t)counter_at[i] < big_hi) {
                check_fail(__FILE__, __LINE__, 0,
                           "counter of %d inside the array of %d", i, j);
            }
            if ((uintptr_t)zero_at[i] >= big_lo &&
                (uintptr_t)zero_at[i] < big_hi) {
                check_fail(__FILE__, __LINE__, 0,
                           "zero of %d inside the array of %d", i, j);
            }
            if (i == j) {
                continue;
            }
            if (counter_at[i] == counter_at[j] || zero_at[i] == zero_at[j]) {
                check_fail(__FILE__, __LINE__, 0,
                           "threads %d and %d share a variable (%p %p)", i,
                           j, counter_at[i], zero_at[i]);
            }
            const uintptr_t lo = (uintptr_t)big_at[i];
            if (lo < big_hi && big_lo < lo + BIG) {
                check_fail(__FILE__, __LINE__, 0,
                           "arrays of %d and %d overlap", i, j);
            }
        }
    }
    return LOAD(&check_failures) == failures;
}

int main(int argc, char **argv)
{
    pthread_t threads[THREADS];
    int main_fresh = 1;

    if (argc < 3 || (strcmp(argv[2], "before") != 0 &&
                     strcmp(argv[2], "after") != 0)) {
        fprintf(stderr, "usage: %s LIBRARY before|after [HOLD_FILE]\n",
                argv[0]);
        return 2;
    }
    library = argv[1];
    after = strcmp(argv[2], "after") == 0;
    const char *hold = argc > 3 ? argv[3] : NULL;

    for (int i = 0; i <= THREADS; i++) {
        CHECK_OK(pipe(token_pipe[i]));
    }
    if (!after) {
        if (load_api(&shared_api) != 0) {
            return 1;
        }
        main_fresh = check_fresh(&shared_api, MAIN);
        CHECK_EQ(shared_api.bump(7), 1007);
        *shared_api.zero() = -1;
        memset(shared_api.big(), 0xa5, BIG);
        counter_at[MAIN] = shared_api.counter();
        zero_at[MAIN] = shared_api.zero();
        big_at[MAIN] = shared_api.big();
    }
    printf("loaded %s\n", after ? "by threads 0 and 1, after the threads "
                                  "started"
                                : "by main, before the first thread");
    fflush(stdout);

    for (int i = 0; i < THREADS; i++) {
        CHECK_RC(pthread_create(&threads[i], NULL, worker,
                                (void *)(intptr_t)i));
    }
    pass_to(0);
    wait_turn(MAIN); /* round 0 done: every thread waits for its turn */
    printf("parked %d\n", THREADS);
    fflush(stdout);
    if (after) {
        /* While every thread is alive (blocks of threads that ended may
         * be reused). */
        main_fresh = check_fresh(&shared_api, MAIN);
        counter_at[MAIN] = shared_api.counter();
        zero_at[MAIN] = shared_api.zero();
        big_at[MAIN] = shared_api.big();
    }
    if (hold != NULL) {
        wait_for_file(hold, 120);
    }
    pass_to(0);
    wait_turn(MAIN);
    for (int i = 0; i < THREADS; i++) {
        CHECK_RC(pthread_join(threads[i], NULL));
    }

    /* main's own values: untouched by the threads. */
    const int failures = LOAD(&check_failures);
    if (after) {
        CHECK(shared_api.counter() == counter_at[MAIN]);
        CHECK_EQ(shared_api.value(), 1000);
    } else {
        CHECK(shared_api.counter() == counter_at[MAIN]);
        CHECK_EQ(shared_api.value(), 1007);
        CHECK_EQ(*shared_api.zero(), -1);
        const unsigned char *big = shared_api.big();
        for (int k = 0; k < BIG; k++) {
            if (big[k] != 0xa5) {
                check_fail(__FILE__, __LINE__, 0, "main's array byte %d", k);
                break;
            }
        }
    }
    printf("main: %s\n", main_fresh && LOAD(&check_failures) == failures
                             ? "own values untouched by the threads"
                             : "BAD values");
    printf("addresses: %s\n", addresses_distinct()
                                  ? "every thread's variables distinct"
                                  : "SHARED");
    fflush(stdout);

    if (after) {
        CHECK(dlclose(second_handle) == 0);
    }
    CHECK(dlclose(shared_api.handle) == 0);
    return check_exit_status();
}
