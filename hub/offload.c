/* SPDX-License-Identifier: MIT */
/* Offloading: run a function that blocks inside libc, where no wrapper sees
 * its system calls (the resolver behind getaddrinfo), on a helper kernel
 * thread, and park only the calling green thread until it is done.
 *
 * The helpers are a small pool of ordinary glibc threads, made on first use
 * with the real pthread_create, at most GREEN__OFFLOAD_MAX of them, so that
 * one slow job does not hold up the others; jobs queue when all are busy.
 * A helper that stays idle for IDLE_SECONDS ends, so a program that
 * resolved a few names at start-up goes back to one kernel thread. Helpers
 * block every signal (a process-directed signal is never delivered on
 * them), and every wrapper passes straight through on them, as on any
 * kernel thread the runtime did not make.
 *
 *   green thread               helper kernel thread
 *   ------------               --------------------
 *   queue job, signal  ----->  take job
 *   lot wait on job            fn(arg)
 *     (parked)                 job->done = 1
 *                              green__remote_wake(job)  --> hub: lot wake
 *   done? return  <---------------------------------------------'
 *
 * A wake-up that comes before the caller parks is not lost: the hub, which
 * drains remote wake-ups, runs on the caller's kernel thread only once the
 * caller is queued in the lot; and the caller tests `done` before every
 * wait. A job done before its caller even parked leaves its wake-up in the
 * hub's queue after the caller has gone on; so that it can never reach a
 * waiter on some object of the program's at the same address, job records
 * are never given back to malloc but kept for later jobs, whose callers
 * take such a stale wake-up for what it is (`done` still 0) and wait on.
 *
 * What it leaves to the caller: the job's memory (`arg`) must not be on
 * the caller's stack, which copy mode moves away while it is parked; the
 * wrappers (wrappers/resolve.c) copy arguments and results through the
 * heap. After fork the child has no helpers: the pool is rebuilt lazily
 * in a process whose pid differs from the one that built it.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "hub/internal.h"
#include "preload/real.h"

#define IDLE_SECONDS 5

struct job {
    void (*fn)(void *);
    void *arg;
    struct job *next;               /* queue order, or the free list */
    int done;                       /* set (release) by the helper */
};

/* Job records no caller uses now (see above). Green kernel thread only. */
static struct job *free_jobs;

static struct {
    pid_t pid;                      /* process the pool belongs to; 0: none */
    pthread_mutex_t lock;           /* glibc's, never the green one */
    pthread_cond_t work;            /* a job was queued (CLOCK_MONOTONIC) */
    struct job *head, *tail;        /* queued, not yet taken */
    unsigned queued;                /* jobs in the queue */
    unsigned helpers;               /* helper threads alive (or starting) */
    unsigned idle;                  /* helpers waiting for work */
} pool;

/* Forget any pool (none yet, or the parent's, whose threads did not survive
 * fork) and make an empty one. Green kernel thread, before any locking. */
static void pool_reset(void)
{
    pthread_mutex_init(&pool.lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&pool.work, &ca);
    pthread_condattr_destroy(&ca);
    pool.head = pool.tail = NULL;
    pool.queued = pool.helpers = pool.idle = 0;
    pool.pid = getpid();
}

static void lock(void)
{
    GREEN_REAL_FN(pthread_mutex_lock)(&pool.lock);
}

static void unlock(void)
{
    GREEN_REAL_FN(pthread_mutex_unlock)(&pool.lock);
}

/* The next queued job, or NULL. With the lock held. */
static struct job *take(void)
{
    struct job *j = pool.head;
    if (j != NULL) {
        pool.head = j->next;
        if (pool.head == NULL) {
            pool.tail = NULL;
        }
        pool.queued--;
    }
    return j;
}

/* Wait for a job at most IDLE_SECONDS. NULL: none came, and the helper,
 * no longer counted, must end. With the lock held. */
static struct job *await_job(void)
{
    const struct timespec until = green__ns_timespec(
        green__deadline_in(IDLE_SECONDS * GREEN__NS_PER_SEC));
    struct job *j;
    while ((j = take()) == NULL) {
        pool.idle++;
        const int r = GREEN_REAL_FN(pthread_cond_timedwait)(&pool.work,
                                                         &pool.lock, &until);
        pool.idle--;
        if (r == ETIMEDOUT && pool.head == NULL) {
            pool.helpers--;
            return NULL;
        }
    }
    return j;
}

/* A helper kernel thread: run jobs until idle for too long. Every wrapper
 * passes through here (green__on_green_kthread() is false). */
static void *helper_main(void *unused)
{
    (void)unused;
    lock();
    struct job *j;
    while ((j = await_job()) != NULL) {
        unlock();
        j->fn(j->arg);
        /* After this store the caller may free the job: only its address
         * is used, as the lot key. */
        __atomic_store_n(&j->done, 1, __ATOMIC_RELEASE);
        green__remote_wake(j, 1);
        lock();
    }
    unlock();
    return NULL;
}

/* Start one more helper: detached, every signal blocked from its first
 * instruction. glibc's pthread_create links the new thread into its list
 * of threads through the creator's TLS area, so the green caller makes it
 * at home (hub/tls.c), as fork and setxid do. Returns 0 or -errno. Green
 * thread only. */
static int helper_start(void)
{
    pthread_attr_t attr;
    int r = pthread_attr_init(&attr);
    if (r != 0) {
        return -r;
    }
    sigset_t all;
    sigfillset(&all);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    r = pthread_attr_setsigmask_np(&attr, &all);
    if (r == 0) {
        struct green__thread *self = green__sched.current;
        pthread_t th;
        green__tls_home(self);
        r = GREEN_REAL_FN(pthread_create)(&th, &attr, helper_main, NULL);
        green__tls_away(self);
    }
    pthread_attr_destroy(&attr);
    return -r;
}

/* Queue `j` and make sure a helper will take it. Returns 0, or -EAGAIN
 * when no helper exists and none could be started (`j` is not queued).
 * Green thread only. */
static int submit(struct job *j)
{
    lock();
    j->next = NULL;
    if (pool.tail != NULL) {
        pool.tail->next = j;
    } else {
        pool.head = j;
    }
    pool.tail = j;
    pool.queued++;
    const bool more = pool.queued > pool.idle
                      && pool.helpers < GREEN__OFFLOAD_MAX;
    if (more) {
        pool.helpers++;             /* counted before it runs */
    }
    if (pool.idle > 0) {
        GREEN_REAL_FN(pthread_cond_signal)(&pool.work);
    }
    unlock();
    if (!more) {
        return 0;
    }
    const int r = helper_start();
    lock();
    if (r == 0) {
        const unsigned n = pool.helpers;
        unlock();
        GREEN_DEBUG("offload: helper thread %u of at most %d started\n", n,
                    GREEN__OFFLOAD_MAX);
        return 0;
    }
    pool.helpers--;
    if (pool.helpers > 0 || pool.head != j) {
        unlock();                   /* another helper will take it */
        return 0;
    }
    take();                         /* no helper at all: take it back */
    unlock();
    GREEN_DEBUG("offload: no helper thread (%d): the caller blocks\n", -r);
    return -EAGAIN;
}

int green__offload_run(void (*fn)(void *), void *arg)
{
    if (pool.pid != getpid()) {
        pool_reset();
    }
    struct job *j = free_jobs;
    if (j != NULL) {
        free_jobs = j->next;
    } else if ((j = malloc(sizeof *j)) == NULL) {
        fn(arg);
        return -ENOMEM;
    }
    j->done = 0;
    j->fn = fn;
    j->arg = arg;
    const int r = submit(j);
    if (r < 0) {
        j->next = free_jobs;
        free_jobs = j;
        fn(arg);
        return r;
    }
    /* Not interruptible: a signal handler runs meanwhile and the wait goes
     * on, as the resolver restarts its own waits. */
    while (!__atomic_load_n(&j->done, __ATOMIC_ACQUIRE)) {
        green__lot_wait(j, -1);
    }
    j->next = free_jobs;
    free_jobs = j;
    return 0;
}
