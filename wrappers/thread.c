/* SPDX-License-Identifier: MIT */
/* Thread management: a pthread is a green thread. pthread_create (attr:
 * detach state, stack size, the program's own stack), pthread_join,
 * pthread_tryjoin_np, pthread_timedjoin_np, pthread_clockjoin_np,
 * pthread_detach, pthread_exit (also from main: the process lives until the
 * last thread ends), pthread_self, pthread_equal, pthread_getattr_np (the
 * stack a green thread really runs on: the shared region in copy mode, its
 * own mapping in separate mode, the program's memory for its own stack),
 * sched_yield and pthread_yield.
 *
 * The first pthread_create on the initial kernel thread starts the runtime;
 * if it cannot (libev missing), threads stay native and every wrapper
 * passes through for good. Calls from other kernel threads pass through.
 */
#include "config.h"

#include <limits.h>
#include <sched.h>
#include <unistd.h>

#include "green.h"
#include "wrappers/wrap.h"

/* Stack size for a thread that did not ask for one (separate mode). */
static size_t default_stack_size(void)
{
    if (green__config.stack_size_set) {
        return green__config.stack_size;
    }
    size_t size = 8 << 20;
    pthread_attr_t def;
    if (pthread_getattr_default_np(&def) == 0) {
        pthread_attr_getstacksize(&def, &size);
        pthread_attr_destroy(&def);
    }
    return size;
}

/* A fork's child: what wrappers/ keep per thread stays only for the
 * forking thread `self`, once thread `parent_id`. */
static void fork_child(const struct green__thread *self, int parent_id)
{
    green__stdio_lock_fork(self);
    green__tid_fork(parent_id, green__thread_id(self));
}

static const struct green__hooks hooks = {
    .thread_made = green__tid_inherit,
    .thread_ending = green__thread_destructors,
    .fork_child = fork_child,
};

GREEN_WRAP int pthread_create(pthread_t *thread, const pthread_attr_t *attr,
                              void *(*start)(void *), void *arg)
{
    green__ensure_init();
    if (!green__on_green_kthread()) {
        return GREEN_REAL_FN(pthread_create)(thread, attr, start, arg);
    }
    if (!green__sched.active && green__sched_activate(&hooks) < 0) {
        green__kthread_role = -1;       /* native threads from now on */
        GREEN_DEBUG("runtime could not start: threads are native\n");
        return GREEN_REAL_FN(pthread_create)(thread, attr, start, arg);
    }
    bool detached = false;
    void *stack = NULL;
    size_t stack_size = 0;
    size_t size = 0;                    /* only a mapped stack needs it */
    if (green__config.stack_mode == GREEN__MODE_SEPARATE) {
        size = default_stack_size();
    }
    if (attr != NULL) {
        int state = PTHREAD_CREATE_JOINABLE;
        pthread_attr_getdetachstate(attr, &state);
        detached = state == PTHREAD_CREATE_DETACHED;
        /* glibc reports an address it was never given as
         * (NULL - stacksize): base + size wraps to 0 exactly then. */
        void *base = NULL;
        size_t len = 0;
        if (pthread_attr_getstack(attr, &base, &len) == 0
            && (uintptr_t)base + len != 0) {
            stack = base;
            stack_size = len;
        }
        pthread_attr_getstacksize(attr, &size);
    }
    const int entry_errno = errno;
    struct green__thread *t;
    const int r = green__sched_spawn(&t, start, arg, detached, stack,
                                     stack_size, size);
    errno = entry_errno;
    if (r < 0) {
        return -r;
    }
    *thread = green__sched_handle(t);
    return 0;
}

static struct green__thread *green_target(pthread_t thread)
{
    return green__in_green_thread() ? green__sched_lookup(thread) : NULL;
}

/* A join of a thread that is gone (hub/hub.h, green__sched_stale), as
 * glibc 2.36 answers it: a joined thread's descriptor reads tid -1 (ESRCH;
 * a try finds it not yet ended, EBUSY), a detached one's is detached
 * (EINVAL). */
static int join_gone(enum green__stale gone, bool try)
{
    if (gone == GREEN__STALE_DETACHED) {
        return EINVAL;
    }
    return try ? EBUSY : ESRCH;
}

GREEN_WRAP int pthread_join(pthread_t thread, void **retval)
{
    green__ensure_init();
    struct green__thread *t = green_target(thread);
    if (t == NULL) {
        const enum green__stale gone = green__sched_stale(thread);
        if (gone != GREEN__STALE_NO) {
            return join_gone(gone, false);
        }
        return GREEN_REAL_FN(pthread_join)(thread, retval);
    }
    return green__sched_join(t, retval, -1);
}

GREEN_WRAP int pthread_tryjoin_np(pthread_t thread, void **retval)
{
    green__ensure_init();
    struct green__thread *t = green_target(thread);
    if (t == NULL) {
        const enum green__stale gone = green__sched_stale(thread);
        if (gone != GREEN__STALE_NO) {
            return join_gone(gone, true);
        }
        return GREEN_REAL_FN(pthread_tryjoin_np)(thread, retval);
    }
    return green__sched_join(t, retval, 0);
}

GREEN_WRAP int pthread_clockjoin_np(pthread_t thread, void **retval,
                                    clockid_t clock,
                                    const struct timespec *abstime)
{
    green__ensure_init();
    struct green__thread *t = green_target(thread);
    if (t == NULL) {
        const enum green__stale gone = green__sched_stale(thread);
        if (gone != GREEN__STALE_NO) {
            return join_gone(gone, false);
        }
        return GREEN_REAL_FN(pthread_clockjoin_np)(thread, retval, clock,
                                                abstime);
    }
    if (abstime == NULL) {
        return green__sched_join(t, retval, -1);
    }
    if (!green__abs_clock_valid(clock) || !green__timespec_valid(abstime)) {
        return EINVAL;
    }
    const int64_t deadline = green__deadline_abs(clock, abstime);
    return green__sched_join(t, retval, deadline > 0 ? deadline : 1);
}

GREEN_WRAP int pthread_timedjoin_np(pthread_t thread, void **retval,
                                    const struct timespec *abstime)
{
    return pthread_clockjoin_np(thread, retval, CLOCK_REALTIME, abstime);
}

GREEN_WRAP int pthread_detach(pthread_t thread)
{
    green__ensure_init();
    struct green__thread *t = green_target(thread);
    if (t == NULL) {
        const enum green__stale gone = green__sched_stale(thread);
        if (gone != GREEN__STALE_NO) {
            /* glibc: tid -1 is ESRCH, a detached thread EINVAL. */
            return gone == GREEN__STALE_JOINED ? ESRCH : EINVAL;
        }
        return GREEN_REAL_FN(pthread_detach)(thread);
    }
    return green__sched_detach(t);
}

GREEN_WRAP void pthread_exit(void *retval)
{
    green__ensure_init();
    if (green__in_green_thread()
        && (!green__thread_is_main(green__self()) || green__sched.live > 1)) {
        green__exit_unwind(retval);
    }
    GREEN_REAL_FN(pthread_exit)(retval);
    __builtin_unreachable();
}

/* After a cleanup handler that pthread_cleanup_push registered: go on
 * with the green thread's unwind (hub/exit.c), else glibc's. */
GREEN_WRAP void __pthread_unwind_next(__pthread_unwind_buf_t *buf)
{
    green__ensure_init();
    if (green__in_green_thread() && green__exit_unwinding()) {
        green__exit_unwind(NULL);
    }
    GREEN_REAL_FN(__pthread_unwind_next)(buf);
    __builtin_unreachable();
}

GREEN_WRAP pthread_t pthread_self(void)
{
    green__ensure_init();
    if (green__in_green_thread()) {
        return green__sched_handle(green__self());
    }
    return GREEN_REAL_FN(pthread_self)();
}

GREEN_WRAP int pthread_getattr_np(pthread_t thread, pthread_attr_t *attr)
{
    green__ensure_init();
    struct green__thread *t = green_target(thread);
    const enum green__stale gone = t == NULL ? green__sched_stale(thread)
                                             : GREEN__STALE_NO;
    if (gone == GREEN__STALE_JOINED) {
        return ESRCH;                   /* glibc: tid -1 */
    }
    if (gone == GREEN__STALE_DETACHED) {
        /* glibc describes what is left of a detached thread's descriptor;
         * its stack is gone here: only the detach state remains. */
        int r = pthread_attr_init(attr);
        return r != 0 ? r : pthread_attr_setdetachstate(
                                attr, PTHREAD_CREATE_DETACHED);
    }
    if (t == NULL || green__thread_is_main(t)) {
        return GREEN_REAL_FN(pthread_getattr_np)(thread, attr);
    }
    void *lo;
    size_t size, guard;
    green__thread_stack(t, &lo, &size, &guard);
    int r = pthread_attr_init(attr);
    if (r == 0) {
        r = pthread_attr_setstack(attr, lo, size);
    }
    if (r == 0) {
        r = pthread_attr_setdetachstate(attr, green__thread_detached(t)
                                        ? PTHREAD_CREATE_DETACHED
                                        : PTHREAD_CREATE_JOINABLE);
    }
    if (r == 0) {
        r = pthread_attr_setguardsize(attr, guard);
    }
    return r;
}

GREEN_WRAP int pthread_equal(pthread_t a, pthread_t b)
{
    return a == b;
}

GREEN_WRAP int sched_yield(void)
{
    green__ensure_init();
    if (!green__may_park()) {
        return GREEN_REAL_FN(sched_yield)();
    }
    green__sched_yield();
    return 0;
}

/* glibc's headers turn pthread_yield into sched_yield, so programs built
 * against them call the wrapper above; older binaries import the symbol
 * pthread_yield, whose glibc version calls its internal sched_yield. */
GREEN_WRAP int green__pthread_yield(void) __asm__("pthread_yield");

GREEN_WRAP int green__pthread_yield(void)
{
    return sched_yield();
}

GREEN_EXPORT int green_is_green(void)
{
    return green__ready && green__in_green_thread();
}
