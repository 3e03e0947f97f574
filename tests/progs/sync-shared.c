/* SPDX-License-Identifier: MIT */
/* sync-shared: mutexes and condition variables glibc keeps for the runtime
 * (process-shared, robust) used between threads of one process. With one
 * kernel thread, waiting for them must not block it: each check waits for
 * another thread that holds the lock, or signals, until main sleeps in its
 * wait (handshake.h), so a blocking wait would never end (the alarm would
 * fire). The timed lock's holder keeps the mutex until main's timedlock
 * returned: nothing depends on timing.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "handshake.h"

static pthread_mutex_t shared_mutex, robust_mutex;
static pthread_cond_t shared_cond;
static int flag, count;
static sem_t holding;
static struct handshake main_waits;     /* main is about to wait */
static struct handshake release;        /* main is done with the holder */
static pid_t main_tid;

/* Once main sleeps in its wait. */
static void when_main_waits(void)
{
    hs_wait(&main_waits);
    wait_blocked(main_tid);
}

/* Hold `arg` (a mutex) until main waits for it; post `holding` once it is
 * held. */
static void *hold(void *arg)
{
    pthread_mutex_t *m = arg;
    CHECK_RC(pthread_mutex_lock(m));
    CHECK_OK(sem_post(&holding));
    when_main_waits();
    count++;
    CHECK_RC(pthread_mutex_unlock(m));
    return NULL;
}

/* Hold `arg` until main posts `release`. */
static void *hold_until_released(void *arg)
{
    pthread_mutex_t *m = arg;
    CHECK_RC(pthread_mutex_lock(m));
    CHECK_OK(sem_post(&holding));
    hs_wait(&release);
    CHECK_RC(pthread_mutex_unlock(m));
    return NULL;
}

static void *signal_later(void *arg)
{
    (void)arg;
    when_main_waits();
    CHECK_RC(pthread_mutex_lock(&shared_mutex));
    flag = 1;
    CHECK_RC(pthread_cond_signal(&shared_cond));
    CHECK_RC(pthread_mutex_unlock(&shared_mutex));
    return NULL;
}

static struct timespec in_ms(int ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += ms * 1000000L;
    ts.tv_sec += ts.tv_nsec / 1000000000;
    ts.tv_nsec %= 1000000000;
    return ts;
}

int main(void)
{
    pthread_mutexattr_t ma, ra;
    pthread_condattr_t ca;
    pthread_t t;

    alarm(20);
    main_tid = gettid();
    hs_init(&main_waits);
    hs_init(&release);
    CHECK_OK(sem_init(&holding, 0, 0));
    CHECK_RC(pthread_mutexattr_init(&ma));
    CHECK_RC(pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED));
    CHECK_RC(pthread_mutex_init(&shared_mutex, &ma));
    CHECK_RC(pthread_condattr_init(&ca));
    CHECK_RC(pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED));
    CHECK_RC(pthread_cond_init(&shared_cond, &ca));
    CHECK_RC(pthread_mutexattr_init(&ra));
    CHECK_RC(pthread_mutexattr_setrobust(&ra, PTHREAD_MUTEX_ROBUST));
    CHECK_RC(pthread_mutex_init(&robust_mutex, &ra));

    CHECK_RC(pthread_create(&t, NULL, hold, &shared_mutex));
    CHECK_OK(sem_wait(&holding));
    hs_post(&main_waits);
    REPORT_RC("process-shared mutex held by another thread: lock",
              pthread_mutex_lock(&shared_mutex));
    count++;
    printf("both held it in turn: %d\n", count);
    CHECK_RC(pthread_mutex_unlock(&shared_mutex));
    CHECK_RC(pthread_join(t, NULL));

    CHECK_RC(pthread_create(&t, NULL, hold_until_released, &shared_mutex));
    CHECK_OK(sem_wait(&holding));
    struct timespec soon = in_ms(5);
    REPORT_RC("process-shared mutex held until then: timedlock for 5 ms",
              pthread_mutex_timedlock(&shared_mutex, &soon));
    hs_post(&release);
    CHECK_RC(pthread_join(t, NULL));

    CHECK_RC(pthread_create(&t, NULL, signal_later, NULL));
    CHECK_RC(pthread_mutex_lock(&shared_mutex));
    hs_post(&main_waits);           /* holding the mutex until it waits */
    while (!flag) {
        CHECK_RC(pthread_cond_wait(&shared_cond, &shared_mutex));
    }
    CHECK_RC(pthread_mutex_unlock(&shared_mutex));
    printf("process-shared condition: woken by another thread: %d\n", flag);
    CHECK_RC(pthread_join(t, NULL));

    struct timespec later = in_ms(20);
    int rc = 0;
    CHECK_RC(pthread_mutex_lock(&shared_mutex));
    while (rc == 0) {
        rc = pthread_cond_timedwait(&shared_cond, &shared_mutex, &later);
    }
    CHECK_RC(pthread_mutex_unlock(&shared_mutex));
    printf("process-shared condition: timedwait with no signal: %s\n",
           errno_name(rc));

    CHECK_RC(pthread_create(&t, NULL, hold, &robust_mutex));
    CHECK_OK(sem_wait(&holding));
    hs_post(&main_waits);
    REPORT_RC("robust mutex held by another thread: lock",
              pthread_mutex_lock(&robust_mutex));
    CHECK_RC(pthread_mutex_unlock(&robust_mutex));
    CHECK_RC(pthread_join(t, NULL));
    return check_exit_status();
}
