/* SPDX-License-Identifier: MIT */
/* foreign-libc-thread: a kernel thread made with libc's own pthread_create
 * (as jemalloc makes its background thread, through dlsym), started while
 * green threads run, makes system calls through syscall(2) and libc, and
 * is joined. Under libgreen that thread is not green: every wrapper must
 * pass straight through for it, never loop asking what it is. main keeps
 * running, without a blocking call, until that thread says it made its
 * calls (at most 10 s, then it fails).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <sys/syscall.h>

#include "check.h"

typedef int create_fn(pthread_t *, const pthread_attr_t *,
                      void *(*)(void *), void *);

static void *green_thread(void *arg)
{
    usleep(1000);
    return arg;
}

static int calls_made;              /* atomic: the kernel thread is done */

static void *kernel_thread(void *arg)
{
    (void)arg;
    const long tid = syscall(SYS_gettid);
    printf("libc's thread: syscall(SYS_gettid) is its own tid: %d\n",
           tid > 0 && tid != getpid());
    printf("libc's thread: a 1 ms nanosleep returns %d\n",
           nanosleep(&(struct timespec){ 0, 1000000 }, NULL));
    STORE(&calls_made, 1);
    return NULL;
}

int main(void)
{
    alarm(30);
    pthread_t g, k;
    CHECK_RC(pthread_create(&g, NULL, green_thread, NULL));
    void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
    create_fn *libc_create = libc ? (create_fn *)dlsym(libc, "pthread_create")
                                  : NULL;
    CHECK(libc_create != NULL);
    CHECK_RC(libc_create(&k, NULL, kernel_thread, NULL));
    /* Keep this thread running, without a blocking call, while k runs. */
    const long long start = now_ns(CLOCK_MONOTONIC);
    while (!LOAD(&calls_made)
           && now_ns(CLOCK_MONOTONIC) - start < 10000000000LL) {
    }
    CHECK(LOAD(&calls_made));
    CHECK_RC(pthread_join(k, NULL));
    CHECK_RC(pthread_join(g, NULL));
    printf("joined both\n");
    return check_exit_status();
}
