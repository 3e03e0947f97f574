/* SPDX-License-Identifier: MIT */
/* Thread-specific data and what runs when a green thread ends: C++
 * thread_local destructors (__cxa_thread_atexit_impl, which libstdc++
 * calls), then pthread key destructors, in glibc's order.
 *
 * glibc keeps thread_local destructors in a list of the kernel thread's,
 * run when that kernel thread ends: every green thread's would pile up
 * there and run at exit, on the wrong objects. Each green thread keeps its
 * own list instead (main keeps glibc's).
 *
 * Keys: pthread_key_create/delete, pthread_getspecific/setspecific.
 *
 * glibc still allocates every key (so a key works in any kernel thread) and
 * keeps the values of main and of kernel threads the runtime did not make.
 * The runtime keeps each green thread's values in a small array in the
 * thread object, stamped with the key's generation: a key deleted and
 * created again reads NULL in every thread, as POSIX requires.
 */
#include "config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "wrappers/wrap.h"

#define KEYS PTHREAD_KEYS_MAX

static struct {
    unsigned gen;           /* bumped by create and delete */
    bool used;
    void (*destructor)(void *);
} keys[KEYS];
static pthread_key_t keys_end;      /* one past the highest key created */

/* Values of the running green thread, or NULL when the values of the
 * calling thread are glibc's (main, other kernel threads, no runtime). */
static struct green__thread *green_owner(void)
{
    if (!green__in_green_thread() || green__sched.current->is_main) {
        return NULL;
    }
    return green__sched.current;
}

GREEN_WRAP int pthread_key_create(pthread_key_t *key,
                                  void (*destructor)(void *))
{
    green__ensure_init();
    const int r = GREEN_REAL_FN(pthread_key_create)(key, destructor);
    if (r == 0 && *key < KEYS) {
        keys[*key].gen++;
        keys[*key].used = true;
        keys[*key].destructor = destructor;
        if (*key >= keys_end) {
            keys_end = *key + 1;
        }
    }
    return r;
}

GREEN_WRAP int pthread_key_delete(pthread_key_t key)
{
    green__ensure_init();
    const int r = GREEN_REAL_FN(pthread_key_delete)(key);
    if (r == 0 && key < KEYS) {
        keys[key].gen++;
        keys[key].used = false;
        keys[key].destructor = NULL;
    }
    return r;
}

GREEN_WRAP void *pthread_getspecific(pthread_key_t key)
{
    green__ensure_init();
    const struct green__thread *t = green_owner();
    if (t == NULL) {
        return GREEN_REAL_FN(pthread_getspecific)(key);
    }
    if (key >= t->nspecific || !keys[key].used
        || t->specific[key].gen != keys[key].gen) {
        return NULL;
    }
    return t->specific[key].value;
}

GREEN_WRAP int pthread_setspecific(pthread_key_t key, const void *value)
{
    green__ensure_init();
    struct green__thread *t = green_owner();
    if (t == NULL) {
        return GREEN_REAL_FN(pthread_setspecific)(key, value);
    }
    if (key >= KEYS || !keys[key].used) {
        return EINVAL;
    }
    if (key >= t->nspecific) {
        const unsigned n = key < 8 ? 8 : key + 1;
        struct green__specific *s = realloc(t->specific, n * sizeof *s);
        if (s == NULL) {
            return ENOMEM;
        }
        memset(s + t->nspecific, 0, (n - t->nspecific) * sizeof *s);
        t->specific = s;
        t->nspecific = n;
    }
    t->specific[key].gen = keys[key].gen;
    t->specific[key].value = (void *)value;
    return 0;
}

GREEN_WRAP int __cxa_thread_atexit_impl(void (*func)(void *), void *obj,
                                        void *dso)
{
    green__ensure_init();
    struct green__thread *t = green_owner();
    if (t == NULL) {
        return GREEN_REAL_FN(__cxa_thread_atexit_impl)(func, obj, dso);
    }
    struct green__tls_dtor *d = malloc(sizeof *d);
    GREEN_ASSERT(d != NULL, "out of memory registering a TLS destructor");
    *d = (struct green__tls_dtor){ .func = func, .obj = obj,
                                   .next = t->tls_dtors };
    t->tls_dtors = d;
    return 0;
}

/* thread_local destructors, last registered first. */
static void run_tls_dtors(struct green__thread *t)
{
    while (t->tls_dtors != NULL) {
        struct green__tls_dtor *d = t->tls_dtors;
        t->tls_dtors = d->next;
        d->func(d->obj);
        free(d);
    }
}

/* Key destructors of the calling thread's non-NULL values, again while
 * destructors set new ones, at most PTHREAD_DESTRUCTOR_ITERATIONS rounds,
 * as glibc does at thread exit. */
static void run_key_dtors(void)
{
    for (int round = 0; round < PTHREAD_DESTRUCTOR_ITERATIONS; round++) {
        bool called = false;
        for (pthread_key_t k = 0; k < keys_end; k++) {
            if (!keys[k].used || keys[k].destructor == NULL) {
                continue;
            }
            void *const value = pthread_getspecific(k);
            if (value != NULL) {
                pthread_setspecific(k, NULL);
                keys[k].destructor(value);
                called = true;
            }
        }
        if (!called) {
            break;
        }
    }
}

void green__thread_destructors(void)
{
    struct green__thread *t = green_owner();
    if (t != NULL) {
        run_tls_dtors(t);
    }
    run_key_dtors();
}
