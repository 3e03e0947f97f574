/* SPDX-License-Identifier: MIT */
/* pthread_exit unwinds as glibc's does: the cleanup handlers pushed with
 * pthread_cleanup_push run innermost first, across nested frames, then
 * the thread's key destructors, and the joiner gets the exit value; from
 * main, main's handlers run and the process lives on until the last
 * thread ends, with exit status 0.
 *
 * Usage: exit-unwind
 *
 * Order is by handshake: the last thread waits on a pipe that main's
 * cleanup handler writes to, so it finishes after main's unwind.
 */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#include "check.h"

static pthread_key_t key;
static int release[2];

static void say(void *what)
{
    printf("cleanup handler: %s\n", (const char *)what);
}

static void key_destructor(void *value)
{
    printf("key destructor: %s\n", (const char *)value);
}

static void exit_from_depth(int depth)
{
    pthread_cleanup_push(say, depth == 0 ? "depth 0" : "depth 1");
    if (depth == 0) {
        pthread_cleanup_push(say, "depth 0, second");
        pthread_exit((void *)42);
        pthread_cleanup_pop(0);
    } else {
        exit_from_depth(depth - 1);
    }
    pthread_cleanup_pop(0);
}

static void *nested(void *arg)
{
    (void)arg;
    CHECK_RC(pthread_setspecific(key, "nested thread's value"));
    pthread_cleanup_push(say, "start routine");
    exit_from_depth(1);
    pthread_cleanup_pop(0);
    printf("not reached\n");
    return NULL;
}

/* A handler that pops without running, one that runs on pop, then exit. */
static void *popped(void *arg)
{
    pthread_cleanup_push(say, "popped, not run");
    pthread_cleanup_pop(0);
    pthread_cleanup_push(say, "popped and run");
    pthread_cleanup_pop(1);
    pthread_cleanup_push(say, "run by the exit");
    pthread_exit(arg);
    pthread_cleanup_pop(0);
    return NULL;
}

static void release_last(void *what)
{
    say(what);
    CHECK_EQ(write(release[1], "x", 1), 1);
}

static void *last(void *arg)
{
    (void)arg;
    char byte;
    CHECK_EQ(read(release[0], &byte, 1), 1);
    printf("the last thread runs after main's unwind, then ends the process\n");
    CHECK_RC(pthread_setspecific(key, "last thread's value"));
    return NULL;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    CHECK_RC(pthread_key_create(&key, key_destructor));
    CHECK_OK(pipe(release));
    pthread_t t;
    void *result;
    CHECK_RC(pthread_create(&t, NULL, nested, NULL));
    CHECK_RC(pthread_join(t, &result));
    printf("joined the nested thread: %ld\n", (long)result);
    CHECK_RC(pthread_create(&t, NULL, popped, (void *)7));
    CHECK_RC(pthread_join(t, &result));
    printf("joined the popping thread: %ld\n", (long)result);
    CHECK_RC(pthread_create(&t, NULL, last, NULL));
    CHECK_RC(pthread_detach(t));
    if (check_failures != 0) {
        return check_exit_status();
    }
    pthread_cleanup_push(release_last, "main");
    pthread_exit(NULL);
    pthread_cleanup_pop(0);
    return 1;
}
