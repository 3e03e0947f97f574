/* SPDX-License-Identifier: MIT */
/* A thread made with a small stack (pthread_attr_setstacksize, 64 KiB)
 * that recurses without end faults at the guard below that stack, as
 * natively: the SIGSEGV handler, on an alternate stack, finds the thread
 * fewer than 128 frames of 1 KiB deep, and ends the process.
 *
 * Usage: stack-overflow
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FRAME 1024
#define STACK (64 * 1024)

static volatile int frames;

static void on_segv(int sig)
{
    (void)sig;
    const char *m = frames < 2 * STACK / FRAME
        ? "the overflow faulted within the thread's 64 KiB stack: yes\n"
        : "the overflow faulted within the thread's 64 KiB stack: no\n";
    if (write(1, m, strlen(m)) < 0) {
        _exit(2);
    }
    _exit(0);
}

/* Not a tail call: the frame stays until the next returns. */
static int recurse(int n)
{
    volatile char buf[FRAME];
    memset((char *)buf, n, sizeof buf);
    frames++;
    return n > 0 ? recurse(n - 1) + buf[0] : 0;
}

static void *run(void *arg)
{
    (void)arg;
    stack_t alt = { .ss_sp = malloc(SIGSTKSZ * 4), .ss_size = SIGSTKSZ * 4 };
    if (alt.ss_sp == NULL || sigaltstack(&alt, NULL) != 0) {
        perror("sigaltstack");
        exit(1);
    }
    printf("recursing in a thread with a 64 KiB stack\n");
    fflush(stdout);
    return (void *)(long)recurse(1 << 24);
}

int main(void)
{
    struct sigaction sa = { .sa_handler = on_segv, .sa_flags = SA_ONSTACK };
    sigemptyset(&sa.sa_mask);
    pthread_attr_t attr;
    pthread_t t;
    if (sigaction(SIGSEGV, &sa, NULL) != 0 || pthread_attr_init(&attr) != 0
        || pthread_attr_setstacksize(&attr, STACK) != 0
        || pthread_create(&t, &attr, run, NULL) != 0) {
        perror("setup");
        return 1;
    }
    pthread_join(t, NULL);
    printf("the recursion ended without a fault\n");
    return 1;
}
