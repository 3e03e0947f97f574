/* SPDX-License-Identifier: MIT */
/* sync-deadline: odd absolute deadlines given to timed waits.
 *
 * pthread_cond_timedwait (on CLOCK_REALTIME and CLOCK_MONOTONIC condition
 * variables), pthread_mutex_timedlock and pthread_mutex_clocklock, with
 * deadlines before the epoch (ETIMEDOUT at once), a negative or too large
 * tv_nsec (EINVAL), and on a free mutex (glibc takes it without looking at
 * the deadline).  Another thread holds the mutex or stays alive meanwhile.
 * Prints the error number each call returns.  A call that never returns
 * is ended by the test's timeout.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t held = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t release_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t release = PTHREAD_COND_INITIALIZER;
static int holding, released;

/* Holds `held` until main sets `released`. */
static void *holder(void *arg)
{
    (void)arg;
    CHECK_RC(pthread_mutex_lock(&held));
    pthread_mutex_lock(&release_lock);
    holding = 1;
    pthread_cond_broadcast(&release);
    while (!released) {
        pthread_cond_wait(&release, &release_lock);
    }
    pthread_mutex_unlock(&release_lock);
    CHECK_RC(pthread_mutex_unlock(&held));
    return NULL;
}

static void cond_deadlines(const char *clock_name, clockid_t clock)
{
    pthread_condattr_t attr;
    pthread_cond_t cond;
    char label[128];
    static const struct {
        const char *name;
        struct timespec ts;
    } cases[] = {
        { "tv_sec -1", { -1, 0 } },
        { "tv_sec -1000000", { -1000000, 0 } },
        { "the epoch", { 0, 0 } },
        { "tv_nsec -1", { 0, -1 } },
        { "tv_nsec 1000000000", { 0, 1000000000 } },
    };

    CHECK_RC(pthread_condattr_init(&attr));
    CHECK_RC(pthread_condattr_setclock(&attr, clock));
    CHECK_RC(pthread_cond_init(&cond, &attr));
    CHECK_RC(pthread_condattr_destroy(&attr));
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(label, sizeof label, "cond %s: timedwait until %s",
                 clock_name, cases[i].name);
        REPORT_RC(label, pthread_cond_timedwait(&cond, &lock, &cases[i].ts));
    }
    pthread_mutex_unlock(&lock);
    CHECK_RC(pthread_cond_destroy(&cond));
}

int main(void)
{
    pthread_t t;
    const struct timespec before_epoch = { -1, 0 };
    const struct timespec bad_nsec = { 0, 2000000000 };

    CHECK_RC(pthread_create(&t, NULL, holder, NULL));
    pthread_mutex_lock(&release_lock);
    while (!holding) {
        pthread_cond_wait(&release, &release_lock);
    }
    pthread_mutex_unlock(&release_lock);

    cond_deadlines("CLOCK_REALTIME", CLOCK_REALTIME);
    cond_deadlines("CLOCK_MONOTONIC", CLOCK_MONOTONIC);

    REPORT_RC("timedlock until tv_sec -1 while another thread holds it",
              pthread_mutex_timedlock(&held, &before_epoch));
    REPORT_RC("clocklock CLOCK_REALTIME until tv_sec -1 while held",
              pthread_mutex_clocklock(&held, CLOCK_REALTIME, &before_epoch));
    REPORT_RC("clocklock CLOCK_MONOTONIC until tv_sec -1 while held",
              pthread_mutex_clocklock(&held, CLOCK_MONOTONIC,
                                      &before_epoch));
    REPORT_RC("timedlock with tv_nsec 2000000000 while held",
              pthread_mutex_timedlock(&held, &bad_nsec));

    pthread_mutex_lock(&release_lock);
    released = 1;
    pthread_cond_signal(&release);
    pthread_mutex_unlock(&release_lock);
    CHECK_RC(pthread_join(t, NULL));

    REPORT_RC("timedlock with tv_nsec 2000000000 when free",
              pthread_mutex_timedlock(&held, &bad_nsec));
    CHECK_RC(pthread_mutex_unlock(&held));
    REPORT_RC("clocklock CLOCK_MONOTONIC until tv_sec -1 when free",
              pthread_mutex_clocklock(&held, CLOCK_MONOTONIC,
                                      &before_epoch));
    CHECK_RC(pthread_mutex_unlock(&held));
    return check_exit_status();
}
