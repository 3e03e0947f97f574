/* SPDX-License-Identifier: MIT */
/* Calls that take a pthread_t and would make glibc read its own thread
 * descriptor, which a green thread's handle is not: names, pthread_kill,
 * CPU-time clocks, scheduling parameters and CPU affinity.
 *
 * A green thread has its own name (16 bytes with the NUL, as the kernel's;
 * until set, it reads as the kernel thread's) and its own CPU clock
 * (wrappers/clock.c). Everything else describes the one kernel thread
 * that runs all green threads: a green thread's scheduling parameters and
 * affinity are that kernel thread's, and a signal sent to a green thread
 * goes to that kernel thread, whose current green thread runs the
 * handler. Main and threads the runtime did not make
 * get glibc's answers. The id of a green thread that is gone (joined, or
 * ended detached) gets the answer glibc gives for its own such ids,
 * and never reaches glibc.
 */
#include "config.h"

#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>

#include "hub/sigset.h"
#include "wrappers/wrap.h"

/* The green thread behind `thread`, if the runtime owns it (not main). */
static struct green__thread *green_only(pthread_t thread)
{
    struct green__thread *t = green__in_green_thread()
        ? green__sched_lookup(thread) : NULL;
    return t != NULL && !green__thread_is_main(t) ? t : NULL;
}

/* Whether `thread` is one of ours that is gone (hub/hub.h): glibc reads
 * such a thread's tid as -1 (joined) or 0 (ended detached). */
static enum green__stale gone(pthread_t thread)
{
    return green__sched_stale(thread);
}

/* The kernel thread every green thread runs on. */
static pthread_t kernel_thread(void)
{
    return GREEN_REAL_FN(pthread_self)();
}

GREEN_WRAP int pthread_setname_np(pthread_t thread, const char *name)
{
    green__ensure_init();
    struct green__thread *t = green_only(thread);
    const size_t len = strlen(name);
    if (t == NULL && gone(thread) == GREEN__STALE_NO) {
        return GREEN_REAL_FN(pthread_setname_np)(thread, name);
    }
    if (len >= GREEN__THREAD_NAME) {
        return ERANGE;
    }
    if (t == NULL) {
        return ENOENT;      /* glibc opens /proc/self/task/<tid>/comm */
    }
    memcpy(green__thread_name(t), name, len + 1);
    return 0;
}

GREEN_WRAP int pthread_getname_np(pthread_t thread, char *buf, size_t len)
{
    green__ensure_init();
    struct green__thread *t = green_only(thread);
    if (t == NULL && gone(thread) != GREEN__STALE_NO) {
        /* glibc checks the length, then opens /proc/self/task/<tid>. */
        return len < GREEN__THREAD_NAME ? ERANGE : ENOENT;
    }
    if (t == NULL) {
        return GREEN_REAL_FN(pthread_getname_np)(thread, buf, len);
    }
    char name[GREEN__THREAD_NAME];
    if (green__thread_name(t)[0] != '\0') {
        memcpy(name, green__thread_name(t), sizeof name);
    } else if (prctl(PR_GET_NAME, name) != 0) {
        return errno;
    }
    if (strlen(name) >= len) {
        return ERANGE;
    }
    strcpy(buf, name);
    return 0;
}

GREEN_WRAP int pthread_kill(pthread_t thread, int sig)
{
    green__ensure_init();
    struct green__thread *t = green__in_green_thread()
        ? green__sched_lookup(thread) : NULL;
    if (t == NULL && gone(thread) != GREEN__STALE_NO) {
        /* glibc 2.36 refuses its own signals, then sends nothing to an
         * ended thread and reports success. */
        return sig == GREEN__SIGCANCEL || sig == GREEN__SIGSETXID ? EINVAL
                                                                   : 0;
    }
    if (t == NULL) {
        return GREEN_REAL_FN(pthread_kill)(thread, sig);
    }
    if (green__sched_finished(t)) {
        return sig == 0 ? 0 : ESRCH;    /* glibc: exited, not joined */
    }
    if (sig == 0 || !green__sig_usable(sig)) {
        /* A check, or an invalid signal: glibc's. */
        return GREEN_REAL_FN(pthread_kill)(kernel_thread(), sig);
    }
    /* To itself too: the signal is the thread's own, pending on it while
     * it blocks the signal, handled before this returns if it does not. */
    return green__signal_tkill(t, sig);
}

GREEN_WRAP int pthread_getcpuclockid(pthread_t thread, clockid_t *clock)
{
    green__ensure_init();
    if (gone(thread) != GREEN__STALE_NO) {
        return ESRCH;                   /* glibc: tid 0 or -1 */
    }
    struct green__thread *t = green_only(thread);
    if (t != NULL) {
        /* Its own clock (wrappers/clock.c), not the kernel thread's. */
        green__sched_cpu_start();
        *clock = green__cpu_clock_of(green__thread_id(t));
        return 0;
    }
    return GREEN_REAL_FN(pthread_getcpuclockid)(thread, clock);
}

GREEN_WRAP int pthread_getschedparam(pthread_t thread, int *policy,
                                     struct sched_param *param)
{
    green__ensure_init();
    if (gone(thread) != GREEN__STALE_NO) {
        return ESRCH;                   /* glibc: tid 0 or -1 */
    }
    if (green_only(thread) != NULL) {
        thread = kernel_thread();
    }
    return GREEN_REAL_FN(pthread_getschedparam)(thread, policy, param);
}

GREEN_WRAP int pthread_setschedparam(pthread_t thread, int policy,
                                     const struct sched_param *param)
{
    green__ensure_init();
    if (gone(thread) != GREEN__STALE_NO) {
        return ESRCH;                   /* glibc: tid 0 or -1 */
    }
    if (green_only(thread) != NULL) {
        thread = kernel_thread();
    }
    return GREEN_REAL_FN(pthread_setschedparam)(thread, policy, param);
}

GREEN_WRAP int pthread_setschedprio(pthread_t thread, int prio)
{
    green__ensure_init();
    if (gone(thread) != GREEN__STALE_NO) {
        return ESRCH;                   /* glibc: tid 0 or -1 */
    }
    if (green_only(thread) != NULL) {
        thread = kernel_thread();
    }
    return GREEN_REAL_FN(pthread_setschedprio)(thread, prio);
}

GREEN_WRAP int pthread_getaffinity_np(pthread_t thread, size_t size,
                                      cpu_set_t *set)
{
    green__ensure_init();
    const enum green__stale was = gone(thread);
    if (was == GREEN__STALE_JOINED) {
        return ESRCH;                   /* glibc: sched_*affinity(-1) */
    }
    if (was == GREEN__STALE_DETACHED) {
        thread = kernel_thread();       /* glibc: tid 0, the caller */
    }
    if (green_only(thread) != NULL) {
        thread = kernel_thread();
    }
    return GREEN_REAL_FN(pthread_getaffinity_np)(thread, size, set);
}

GREEN_WRAP int pthread_setaffinity_np(pthread_t thread, size_t size,
                                      const cpu_set_t *set)
{
    green__ensure_init();
    const enum green__stale was = gone(thread);
    if (was == GREEN__STALE_JOINED) {
        return ESRCH;                   /* glibc: sched_*affinity(-1) */
    }
    if (was == GREEN__STALE_DETACHED) {
        thread = kernel_thread();       /* glibc: tid 0, the caller */
    }
    if (green_only(thread) != NULL) {
        thread = kernel_thread();
    }
    return GREEN_REAL_FN(pthread_setaffinity_np)(thread, size, set);
}
