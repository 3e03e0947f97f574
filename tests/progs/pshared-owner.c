/* SPDX-License-Identifier: MIT */
/* Process-shared and robust mutexes used by several threads of one
 * process: each thread is told apart from the others as the owner.
 * For each kind (error-checking or recursive; process-shared, or robust
 * as well), with main holding the mutex, another thread's trylock gives
 * EBUSY and its unlock EPERM; main's relock deadlocks (EDEADLK) or
 * counts; then the other way round; and a lock waiting for another
 * thread's mutex returns once that thread has unlocked it.
 * Usage: pshared-owner [SECTION], a section per kind.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "handshake.h"

static pthread_mutex_t mutex;
static const char *kind;
static int type;
static struct handshake held, done, about_to_wait;
static pid_t main_tid;
static int unlocked;

/* Another thread's view of the mutex main holds. */
static void *other_tries(void *arg)
{
    (void)arg;
    printf("%s: main holds it: another thread's trylock: %s\n", kind,
           errno_name(pthread_mutex_trylock(&mutex)));
    printf("%s: main holds it: another thread's unlock: %s\n", kind,
           errno_name(pthread_mutex_unlock(&mutex)));
    fflush(stdout);
    return NULL;
}

/* Hold the mutex while main tries it, then until main waits for it. */
static void *other_holds(void *arg)
{
    (void)arg;
    CHECK_RC(pthread_mutex_lock(&mutex));
    hs_post(&held);
    hs_wait(&done);
    hs_wait(&about_to_wait);
    wait_blocked(main_tid);
    STORE(&unlocked, 1);
    CHECK_RC(pthread_mutex_unlock(&mutex));
    return NULL;
}

static void run(const char *name, int mutex_type, int robust)
{
    pthread_mutexattr_t a;
    pthread_t t;

    kind = name;
    type = mutex_type;
    main_tid = gettid();
    hs_init(&held);
    hs_init(&done);
    hs_init(&about_to_wait);
    CHECK_RC(pthread_mutexattr_init(&a));
    CHECK_RC(pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED));
    CHECK_RC(pthread_mutexattr_settype(&a, type));
    if (robust) {
        CHECK_RC(pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST));
    }
    CHECK_RC(pthread_mutex_init(&mutex, &a));
    CHECK_RC(pthread_mutexattr_destroy(&a));

    /* Main holds it. */
    CHECK_RC(pthread_mutex_lock(&mutex));
    CHECK_RC(pthread_create(&t, NULL, other_tries, NULL));
    CHECK_RC(pthread_join(t, NULL));
    printf("%s: main relocks: %s\n", kind,
           errno_name(pthread_mutex_lock(&mutex)));
    printf("%s: main tries again: %s\n", kind,
           errno_name(pthread_mutex_trylock(&mutex)));
    int n = 0;
    while (pthread_mutex_unlock(&mutex) == 0) {
        n++;
    }
    printf("%s: main's unlocks until EPERM: %d\n", kind, n);

    /* Another thread holds it. */
    CHECK_RC(pthread_create(&t, NULL, other_holds, NULL));
    hs_wait(&held);
    printf("%s: another thread holds it: main's trylock: %s\n", kind,
           errno_name(pthread_mutex_trylock(&mutex)));
    printf("%s: another thread holds it: main's unlock: %s\n", kind,
           errno_name(pthread_mutex_unlock(&mutex)));
    hs_post(&done);
    hs_post(&about_to_wait);
    const int r = pthread_mutex_lock(&mutex);
    printf("%s: main's lock waits until the holder unlocks: %s, after "
           "the unlock: %s\n", kind, errno_name(r),
           LOAD(&unlocked) ? "yes" : "no");
    CHECK_RC(pthread_mutex_unlock(&mutex));
    CHECK_RC(pthread_join(t, NULL));
    CHECK_RC(pthread_mutex_destroy(&mutex));
    hs_destroy(&held);
    hs_destroy(&done);
    hs_destroy(&about_to_wait);
}

static void errorcheck(void)
{
    run("errorcheck", PTHREAD_MUTEX_ERRORCHECK, 0);
}

static void recursive(void)
{
    run("recursive", PTHREAD_MUTEX_RECURSIVE, 0);
}

static void robust_errorcheck(void)
{
    run("robust-errorcheck", PTHREAD_MUTEX_ERRORCHECK, 1);
}

static void robust_recursive(void)
{
    run("robust-recursive", PTHREAD_MUTEX_RECURSIVE, 1);
}

int main(int argc, char **argv)
{
    static const struct section sections[] = {
        { "errorcheck", errorcheck },
        { "recursive", recursive },
        { "robust-errorcheck", robust_errorcheck },
        { "robust-recursive", robust_recursive },
    };
    return RUN_SECTIONS(argc, argv, sections, NULL);
}
