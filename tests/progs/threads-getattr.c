/* SPDX-License-Identifier: MIT */
/* threads-getattr: pthread_getattr_np describes the stack a thread really
 * runs on (garbage collectors, language runtimes and stack-overflow
 * checks rely on it).
 *
 * For main, a default thread, a thread with a stack size attribute and a
 * thread on a stack of the program's own (pthread_attr_setstack), checks
 * that the address of a local lies inside the reported [addr, addr+size),
 * before and after the thread slept while others ran, and that the
 * reported size honours the attribute.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"

enum { OWN_STACK = 1 << 20, STACKSIZE = 256 << 10 };

struct report {
    int inside_before, inside_after;
    size_t size;
    void *addr;
};

static int local_inside(struct report *r)
{
    pthread_attr_t attr;
    char local = 0;
    int inside = 0;

    if (pthread_getattr_np(pthread_self(), &attr) != 0) {
        CHECK(!"pthread_getattr_np");
        return 0;
    }
    CHECK_RC(pthread_attr_getstack(&attr, &r->addr, &r->size));
    CHECK_RC(pthread_attr_destroy(&attr));
    inside = (char *)&local >= (char *)r->addr &&
             (char *)&local < (char *)r->addr + r->size;
    return inside;
}

static void *look(void *arg)
{
    struct report *const r = arg;

    r->inside_before = local_inside(r);
    usleep(5000);
    r->inside_after = local_inside(r);
    return NULL;
}

static void run(const char *label, pthread_attr_t *attr, struct report *r)
{
    pthread_t t, other;
    struct report ignored;

    CHECK_RC(pthread_create(&t, attr, look, r));
    CHECK_RC(pthread_create(&other, NULL, look, &ignored));
    CHECK_RC(pthread_join(t, NULL));
    CHECK_RC(pthread_join(other, NULL));
    printf("%s: a local is inside the reported stack: %d, after a sleep: %d\n",
           label, r->inside_before, r->inside_after);
}

int main(void)
{
    struct report r = { 0, 0, 0, NULL };
    pthread_attr_t attr;

    r.inside_before = local_inside(&r);
    printf("main: a local is inside the reported stack: %d\n",
           r.inside_before);

    run("default thread", NULL, &r);

    CHECK_RC(pthread_attr_init(&attr));
    CHECK_RC(pthread_attr_setstacksize(&attr, STACKSIZE));
    run("stacksize 256 KiB", &attr, &r);
    printf("stacksize 256 KiB: reported size at least 256 KiB: %d\n",
           r.size >= STACKSIZE);
    CHECK_RC(pthread_attr_destroy(&attr));

    char *stack = NULL;
    CHECK_RC(posix_memalign((void **)&stack, 65536, OWN_STACK));
    CHECK_RC(pthread_attr_init(&attr));
    CHECK_RC(pthread_attr_setstack(&attr, stack, OWN_STACK));
    run("own stack", &attr, &r);
    printf("own stack: reported exactly: %d\n",
           r.addr == stack && r.size == OWN_STACK);
    CHECK_RC(pthread_attr_destroy(&attr));
    free(stack);
    return check_exit_status();
}
