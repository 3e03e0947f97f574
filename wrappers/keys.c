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
 * Each green thread's values are kept here, in a block its thread object
 * points at (green__thread_keys), stamped with the key's generation: a
 * key deleted and created again reads NULL in every thread, as POSIX
 * requires.
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

/* One C++ thread_local destructor (__cxa_thread_atexit_impl). */
struct dtor {
    void (*func)(void *);
    void *obj;
    struct dtor *next;
};

/* A green thread's key values and thread_local destructors: one block,
 * which its thread object points at (green__thread_keys) and the runtime
 * frees with it. A value counts while its `gen` is its key's. */
struct values {
    struct dtor *dtors;             /* last registered first */
    unsigned n;                     /* entries in v */
    struct {
        unsigned gen;
        void *value;
    } v[];
};

/* Where the running green thread's values live, or NULL when the calling
 * thread's are glibc's (main, other kernel threads, no runtime). */
static struct values **owner(void)
{
    if (!green__in_green_thread() || green__thread_is_main(green__self())) {
        return NULL;
    }
    return (struct values **)green__thread_keys(green__self());
}

/* Make room in *vs for `n` values. Returns false when memory ran out. */
static bool grow(struct values **vs, unsigned n)
{
    const unsigned had = *vs != NULL ? (*vs)->n : 0;
    if (*vs != NULL && n <= had) {
        return true;
    }
    struct values *g = realloc(*vs, sizeof *g + n * sizeof g->v[0]);
    if (g == NULL) {
        return false;
    }
    if (*vs == NULL) {
        g->dtors = NULL;
    }
    memset(&g->v[had], 0, (n - had) * sizeof g->v[0]);
    g->n = n;
    *vs = g;
    return true;
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
    struct values **vs = owner();
    if (vs == NULL) {
        return GREEN_REAL_FN(pthread_getspecific)(key);
    }
    const struct values *v = *vs;
    if (v == NULL || key >= v->n || !keys[key].used
        || v->v[key].gen != keys[key].gen) {
        return NULL;
    }
    return v->v[key].value;
}

GREEN_WRAP int pthread_setspecific(pthread_key_t key, const void *value)
{
    green__ensure_init();
    struct values **vs = owner();
    if (vs == NULL) {
        return GREEN_REAL_FN(pthread_setspecific)(key, value);
    }
    if (key >= KEYS || !keys[key].used) {
        return EINVAL;
    }
    if (!grow(vs, key < 8 ? 8 : key + 1)) {
        return ENOMEM;
    }
    (*vs)->v[key].gen = keys[key].gen;
    (*vs)->v[key].value = (void *)value;
    return 0;
}

GREEN_WRAP int __cxa_thread_atexit_impl(void (*func)(void *), void *obj,
                                        void *dso)
{
    green__ensure_init();
    struct values **vs = owner();
    if (vs == NULL) {
        return GREEN_REAL_FN(__cxa_thread_atexit_impl)(func, obj, dso);
    }
    struct dtor *d = malloc(sizeof *d);
    GREEN_ASSERT(d != NULL && grow(vs, 1),
                 "out of memory registering a TLS destructor");
    *d = (struct dtor){ .func = func, .obj = obj, .next = (*vs)->dtors };
    (*vs)->dtors = d;
    return 0;
}

/* thread_local destructors, last registered first. */
static void run_tls_dtors(struct values **vs)
{
    while (*vs != NULL && (*vs)->dtors != NULL) {
        struct dtor *d = (*vs)->dtors;
        (*vs)->dtors = d->next;
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
    struct values **vs = owner();
    if (vs != NULL) {
        run_tls_dtors(vs);
    }
    run_key_dtors();
}
