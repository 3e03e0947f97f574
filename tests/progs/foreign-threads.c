/* SPDX-License-Identifier: MIT */
/* foreign-threads: green threads and kernel threads the runtime did not
 * make wake each other. glibc runs a SIGEV_THREAD timer's function on a
 * thread of its own, created inside glibc (no pthread_create call a
 * preload can see): those stay real kernel threads. Each scenario fires a
 * 1 ms timer whose function releases something a green thread waits for,
 * or waits for something a green thread releases:
 *   condition signalled, semaphore posted, futex woken, mutex unlocked by
 *   the timer thread while a green thread waits;
 *   condition signalled and mutex unlocked by a green thread while the
 *   timer thread waits.
 * Nothing depends on timing: the waiting side says it is about to wait
 * and the other waits until it sleeps in its call (handshake.h); for
 * main's waits a green thread arms the timer only then.  Every wait has
 * a bound (alarm) so a lost wake-up fails instead of hanging.
 */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "handshake.h"

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t held = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t c = PTHREAD_COND_INITIALIZER;
static sem_t sem, done;
static int flag, word;
static pid_t main_tid;
static struct handshake main_waits;     /* main is about to wait */
static struct handshake timer_waits;    /* the timer thread is, too */
static pid_t timer_tid;

/* Fire `fn` once on a glibc timer thread after 1 ms. */
static void after_1ms(void (*fn)(union sigval))
{
    struct sigevent ev = { .sigev_notify = SIGEV_THREAD,
                           .sigev_notify_function = fn };
    timer_t t;
    CHECK_OK(timer_create(CLOCK_MONOTONIC, &ev, &t));
    struct itimerspec its = { .it_value = { 0, 1000000 } };
    CHECK_OK(timer_settime(t, 0, &its, NULL));
}

/* A green thread that arms the timer once main sleeps in its wait. */
static void *arm_when_main_waits(void *arg)
{
    hs_wait(&main_waits);
    wait_blocked(main_tid);
    after_1ms((void (*)(union sigval))arg);
    return NULL;
}

static pthread_t armer;

static void fire_when_main_waits(void (*fn)(union sigval))
{
    CHECK_RC(pthread_create(&armer, NULL, arm_when_main_waits, (void *)fn));
    hs_post(&main_waits);
}

static void armer_done(void)
{
    CHECK_RC(pthread_join(armer, NULL));
}

static void signal_cond(union sigval v)
{
    (void)v;
    pthread_mutex_lock(&m);
    flag = 1;
    pthread_cond_signal(&c);
    pthread_mutex_unlock(&m);
}

static void post_sem(union sigval v)
{
    (void)v;
    sem_post(&sem);
}

static void wake_futex(union sigval v)
{
    (void)v;
    __atomic_store_n(&word, 1, __ATOMIC_SEQ_CST);
    syscall(SYS_futex, &word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static void hold_then_unlock(union sigval v)
{
    (void)v;
    pthread_mutex_lock(&held);
    sem_post(&done);                /* the green thread may try now */
    hs_wait(&main_waits);
    wait_blocked(main_tid);         /* it waits for the mutex */
    pthread_mutex_unlock(&held);
}

static void wait_cond(union sigval v)
{
    (void)v;
    pthread_mutex_lock(&m);
    STORE(&timer_tid, gettid());
    hs_post(&timer_waits);          /* holding m until it waits */
    while (flag != 2) {
        pthread_cond_wait(&c, &m);
    }
    pthread_mutex_unlock(&m);
    sem_post(&done);
}

static void lock_held(union sigval v)
{
    (void)v;
    STORE(&timer_tid, gettid());
    hs_post(&timer_waits);
    pthread_mutex_lock(&held);      /* a green thread holds it */
    pthread_mutex_unlock(&held);
    sem_post(&done);
}

static void *companion(void *arg)
{
    (void)arg;
    while (__atomic_load_n(&flag, __ATOMIC_SEQ_CST) != 3) {
        usleep(5000);
    }
    return NULL;
}

int main(void)
{
    pthread_t t;

    alarm(20);
    main_tid = gettid();
    hs_init(&main_waits);
    hs_init(&timer_waits);
    CHECK_OK(sem_init(&sem, 0, 0));
    CHECK_OK(sem_init(&done, 0, 0));
    CHECK_RC(pthread_create(&t, NULL, companion, NULL));

    CHECK_RC(pthread_mutex_lock(&m));
    fire_when_main_waits(signal_cond);
    while (flag != 1) {
        CHECK_RC(pthread_cond_wait(&c, &m));
    }
    CHECK_RC(pthread_mutex_unlock(&m));
    armer_done();
    printf("condition signalled by a timer thread: woken\n");

    fire_when_main_waits(post_sem);
    REPORT_ERRNO("semaphore posted by a timer thread: sem_wait",
                 sem_wait(&sem), 0);
    armer_done();

    fire_when_main_waits(wake_futex);
    while (__atomic_load_n(&word, __ATOMIC_SEQ_CST) == 0) {
        syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
    }
    armer_done();
    printf("futex woken by a timer thread: word %d\n", word);

    after_1ms(hold_then_unlock);
    CHECK_OK(sem_wait(&done));
    hs_post(&main_waits);
    REPORT_RC("mutex held by a timer thread: lock",
              pthread_mutex_lock(&held));
    CHECK_RC(pthread_mutex_unlock(&held));

    after_1ms(wait_cond);
    hs_wait(&timer_waits);
    wait_blocked(LOAD(&timer_tid)); /* the timer thread is waiting now */
    CHECK_RC(pthread_mutex_lock(&m));
    flag = 2;
    CHECK_RC(pthread_cond_signal(&c));
    CHECK_RC(pthread_mutex_unlock(&m));
    REPORT_ERRNO("timer thread woken by a green thread's signal",
                 sem_wait(&done), 0);

    CHECK_RC(pthread_mutex_lock(&held));
    after_1ms(lock_held);
    hs_wait(&timer_waits);
    wait_blocked(LOAD(&timer_tid)); /* the timer thread waits for it */
    CHECK_RC(pthread_mutex_unlock(&held));
    REPORT_ERRNO("timer thread got the mutex a green thread released",
                 sem_wait(&done), 0);

    __atomic_store_n(&flag, 3, __ATOMIC_SEQ_CST);
    CHECK_RC(pthread_join(t, NULL));
    return check_exit_status();
}
