/* SPDX-License-Identifier: MIT */
/* threads-tls errno|tls|keys: per-thread state survives while other
 * threads run.
 *
 * THREADS threads each set their own state of the chosen kind, then sleep
 * repeatedly so that all the others run in between, and check after every
 * sleep that their own state is unchanged:
 *   errno  errno left by a failed call (EBADF or ENOTSOCK);
 *   tls    __thread variables, zero-initialised and initialised ones, which
 *          must also start with their initial values in every new thread
 *          and never change main's; their addresses, and errno's, differ
 *          in every thread (Rust's channels tell threads apart by such an
 *          address); a child forked by a thread sees that thread's values;
 *   keys   pthread_setspecific values; each key destructor runs once per
 *          thread, with that thread's value.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

enum { THREADS = 8, ROUNDS = 20 };
enum kind { ERRNO, TLS, KEYS };

static enum kind kind;

static __thread long tls_counter;
static __thread char tls_name[32];
static __thread long tls_initialised = 1234;

/* Addresses seen by each thread, and by main in the last slot. */
static const void *tls_addr[THREADS + 1], *errno_addr[THREADS + 1];

static pthread_key_t key;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int destructor_calls, kept;
static long destructor_sum;

static void destroy(void *value)
{
    pthread_mutex_lock(&lock);
    destructor_calls++;
    destructor_sum += (long)(intptr_t)value;
    pthread_mutex_unlock(&lock);
}

/* Set this thread's state; returns 0 if it did not start out fresh. */
static int set_state(long me)
{
    switch (kind) {
    case ERRNO:
        /* A failed call leaves a per-thread errno behind. */
        CHECK(me % 2 ? close(-1) == -1 : shutdown(0, SHUT_RD) == -1);
        return 1;
    case TLS: {
        const int fresh = tls_counter == 0 && tls_name[0] == '\0' &&
                          tls_initialised == 1234;
        tls_counter = me;
        snprintf(tls_name, sizeof tls_name, "thread-%ld", me);
        tls_initialised = -me;
        tls_addr[me] = &tls_counter;
        errno_addr[me] = &errno;
        return fresh;
    }
    case KEYS: {
        const int fresh = pthread_getspecific(key) == NULL;
        CHECK_RC(pthread_setspecific(key, (void *)(intptr_t)(me + 1)));
        return fresh;
    }
    }
    return 0;
}

/* Is this thread's state still what set_state(me) left? */
static int state_kept(long me)
{
    char want[32];

    switch (kind) {
    case ERRNO:
        return errno == (me % 2 ? EBADF : ENOTSOCK);
    case TLS:
        snprintf(want, sizeof want, "thread-%ld", me);
        return tls_counter == me && strcmp(tls_name, want) == 0 &&
               tls_initialised == -me;
    case KEYS:
        return pthread_getspecific(key) == (void *)(intptr_t)(me + 1);
    }
    return 0;
}

/* The forked child of thread `me` reports whether it sees me's values. */
static void fork_and_check(long me)
{
    const pid_t pid = fork();
    if (pid == 0) {
        char want[32];
        snprintf(want, sizeof want, "thread-%ld", me);
        _exit(tls_counter == me && strcmp(tls_name, want) == 0 ? 0 : 1);
    }
    int status = 0;
    CHECK(pid > 0);
    CHECK(waitpid(pid, &status, 0) == pid);
    printf("tls: a child forked by a thread sees that thread's values: %d\n",
           WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* How many of the n addresses differ from all the others. */
static int distinct(const void *const *addr, int n)
{
    int count = 0;
    for (int i = 0; i < n; i++) {
        int unique = 1;
        for (int j = 0; j < n; j++) {
            unique &= j == i || addr[j] != addr[i];
        }
        count += unique;
    }
    return count;
}

static void *worker(void *arg)
{
    const long me = (long)(intptr_t)arg;

    if (!set_state(me)) {
        check_fail(__FILE__, __LINE__, 0, "thread %ld: state not fresh", me);
    }
    if (kind == TLS && me == THREADS / 2) {
        fork_and_check(me);
    }
    int ok = 1;
    for (int round = 0; ok && round < ROUNDS; round++) {
        /* usleep succeeds, so it leaves errno alone. */
        usleep((unsigned)(1000 + 300 * ((me + round) % THREADS)));
        if (!state_kept(me)) {
            check_fail(__FILE__, __LINE__, errno,
                       "thread %ld round %d: state changed", me, round);
            ok = 0;
        }
    }
    pthread_mutex_lock(&lock);
    kept += ok;
    pthread_mutex_unlock(&lock);
    return NULL;
}

int main(int argc, char **argv)
{
    static const char *const names[] = { "errno", "tls", "keys" };
    pthread_t t[THREADS];

    if (argc != 2) {
        fprintf(stderr, "usage: %s errno|tls|keys\n", argv[0]);
        return 2;
    }
    for (kind = ERRNO; kind <= KEYS && strcmp(argv[1], names[kind]) != 0;
         kind++) {
    }
    if (kind > KEYS) {
        fprintf(stderr, "usage: %s errno|tls|keys\n", argv[0]);
        return 2;
    }
    CHECK_RC(pthread_key_create(&key, destroy));
    tls_counter = -1;
    snprintf(tls_name, sizeof tls_name, "main");
    for (long i = 0; i < THREADS; i++) {
        CHECK_RC(pthread_create(&t[i], NULL, worker, (void *)(intptr_t)i));
    }
    for (int i = 0; i < THREADS; i++) {
        CHECK_RC(pthread_join(t[i], NULL));
    }
    printf("%s: threads that kept their own state: %d of %d\n", argv[1],
           kept, THREADS);
    CHECK_EQ(kept, THREADS);
    if (kind == TLS) {
        const int untouched = tls_counter == -1 &&
                              strcmp(tls_name, "main") == 0 &&
                              tls_initialised == 1234;
        printf("tls: main's __thread values untouched: %d\n", untouched);
        CHECK(untouched);
        tls_addr[THREADS] = &tls_counter;
        errno_addr[THREADS] = &errno;
        printf("tls: threads (main included) with an address of their own: "
               "__thread %d of %d, errno %d of %d\n",
               distinct(tls_addr, THREADS + 1), THREADS + 1,
               distinct(errno_addr, THREADS + 1), THREADS + 1);
        CHECK_EQ(distinct(tls_addr, THREADS + 1), THREADS + 1);
    }
    if (kind == KEYS) {
        printf("keys: main's value: %p\n", pthread_getspecific(key));
        printf("keys: destructors: %d calls, sum %ld\n", destructor_calls,
               destructor_sum);
        CHECK_EQ(destructor_calls, THREADS);
    }
    CHECK_RC(pthread_key_delete(key));
    return check_exit_status();
}
