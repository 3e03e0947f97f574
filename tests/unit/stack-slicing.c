/* SPDX-License-Identifier: MIT */
/* Unit test of switch/: the context switch and greenlet-style stack slicing,
 * driven by a tiny scheduler on the process stack (standing in for the hub).
 *
 * Checks: callee-saved registers and the FP control words survive switches;
 * coroutines of varying depth keep their locals across many interleavings;
 * a child started below its creator reads and writes the creator's array
 * while the creator is suspended and siblings run in between; resuming the
 * coroutine that ran last copies no byte; the guard page below the region
 * stops an overflow with SIGSEGV. Prints one line per check; exits 0 only
 * when all passed.
 */
#include "config.h"

#include <errno.h>
#include <fenv.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "switch/switch.h"

static int failures;

#define CHECK(cond)                                                        \
    do {                                                                   \
        if (!(cond)) {                                                     \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__,         \
                    __LINE__, #cond);                                      \
            failures++;                                                    \
        }                                                                  \
    } while (0)

/* switch/stack.c reports broken invariants through these (preload/). */
void green__log(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
}

void green__assert_fail(const char *file, int line, const char *cond,
                        const char *why)
{
    fprintf(stderr, "%s:%d: %s: %s\n", file, line, cond, why);
    abort();
}

/* ---- a miniature hub ------------------------------------------------ */

struct co {
    struct green__ctx ctx;
    struct green__stack st;
    void (*body)(struct co *);
    void *arg;
    int id;
    bool done;
};

static struct green__ctx sched_ctx;
static struct co *running;

static void co_yield(void)
{
    green__switch(&running->ctx, &sched_ctx);
}

static void co_entry(void *arg)
{
    struct co *c = arg;
    c->body(c);
    c->done = true;
    co_yield();
    abort();
}

/* Resume `c` until it yields; release it once it is done. */
static void co_resume(struct co *c)
{
    green__stack_prepare(&c->st);
    running = c;
    green__switch(&sched_ctx, &c->ctx);
    running = NULL;
    if (c->done) {
        green__stack_release(&c->st);
    } else {
        green__stack_suspended(&c->st, c->ctx.sp);
    }
}

/* Start `body(arg)` on a copied stack below the running coroutine (or at
 * the region top when called from the scheduler). */
static struct co *co_new(void (*body)(struct co *), void *arg, int id)
{
    struct co *c = calloc(1, sizeof *c);
    c->body = body;
    c->arg = arg;
    c->id = id;
    const int r = green__stack_create(
        &c->st, &c->ctx, GREEN__STACK_COPIED,
        running ? &running->st : NULL,
        (uintptr_t)__builtin_frame_address(0), NULL, 0, co_entry, c);
    if (r != 0) {
        fprintf(stderr, "green__stack_create: %s\n", strerror(-r));
        exit(1);
    }
    return c;
}

static void co_free(struct co *c)
{
    while (c->st.creator != NULL && green__stack_unlink(&c->st) != NULL) {
    }
    free(c);
}

/* ---- bodies ---------------------------------------------------------- */

/* Recurse `depth` frames with a pattern on each, yield at the bottom
 * `yields` times, verify every frame on the way back. */
static int deep(int id, int depth, int yields)
{
    volatile unsigned char pad[200];
    for (size_t i = 0; i < sizeof pad; i++) {
        pad[i] = (unsigned char)(id * 31 + depth * 7 + i);
    }
    int bad = 0;
    if (depth == 0) {
        for (int y = 0; y < yields; y++) {
            co_yield();
        }
    } else {
        bad += deep(id, depth - 1, yields);
    }
    for (size_t i = 0; i < sizeof pad; i++) {
        bad += pad[i] != (unsigned char)(id * 31 + depth * 7 + i);
    }
    return bad;
}

static int deep_bad;

static void body_deep(struct co *c)
{
    deep_bad += deep(c->id, 5 + c->id * 7 % 40, 3 + c->id % 4);
}

/* ---- checks ---------------------------------------------------------- */

static void check_registers(void)
{
    fesetround(FE_UPWARD);
    struct co *c = co_new(body_deep, NULL, 1);
    int mode_ok = 1;
    while (!c->done) {
        co_resume(c);
        mode_ok &= fegetround() == FE_UPWARD;
    }
    fesetround(FE_TONEAREST);
    CHECK(mode_ok);
    CHECK(deep_bad == 0);
    co_free(c);
    printf("rounding mode and locals survive switches: %s\n",
           mode_ok && deep_bad == 0 ? "ok" : "FAILED");
}

static void check_interleaving(void)
{
    enum { N = 24 };
    struct co *cs[N];
    for (int i = 0; i < N; i++) {
        cs[i] = co_new(body_deep, NULL, i + 2);
    }
    deep_bad = 0;
    for (int left = N; left > 0;) {
        left = 0;
        for (int i = 0; i < N; i++) {
            if (!cs[i]->done) {
                co_resume(cs[i]);
                left += !cs[i]->done;
            }
        }
    }
    CHECK(deep_bad == 0);
    for (int i = 0; i < N; i++) {
        co_free(cs[i]);
    }
    printf("%d coroutines of depths 5..45 interleaved: %s\n", N,
           deep_bad == 0 ? "ok" : "FAILED");
}

static void check_resume_last_copies_nothing(void)
{
    struct co *c = co_new(body_deep, NULL, 3);
    co_resume(c);
    const uint64_t before = green__stack_copied_bytes();
    co_resume(c);
    const uint64_t copied = green__stack_copied_bytes() - before;
    CHECK(copied == 0);
    while (!c->done) {
        co_resume(c);
    }
    co_free(c);
    printf("resuming the coroutine that ran last copies %llu bytes\n",
           (unsigned long long)copied);
}

/* Creator-locals: the child writes into the creator's array while the
 * creator is suspended and an unrelated coroutine runs in between. */
static struct co *creator, *child, *sibling;
static int creator_bad;

static void body_child(struct co *c)
{
    int *arr = c->arg;
    for (int i = 0; i < 16; i++) {
        arr[i] += 1000;
    }
    co_yield();
    for (int i = 0; i < 16; i++) {
        arr[i] += 1000;
    }
}

static void body_creator(struct co *c)
{
    (void)c;
    int arr[16];
    for (int i = 0; i < 16; i++) {
        arr[i] = i;
    }
    child = co_new(body_child, arr, 11);
    while (!child->done) {
        co_yield();                 /* the scheduler runs child and sibling */
    }
    for (int i = 0; i < 16; i++) {
        creator_bad += arr[i] != i + 2000;
    }
}

static void check_creator_locals(void)
{
    creator = co_new(body_creator, NULL, 10);
    sibling = co_new(body_deep, NULL, 12);
    deep_bad = 0;
    co_resume(creator);             /* creates child, yields */
    while (!creator->done) {
        if (!child->done) {
            co_resume(child);
        }
        if (!sibling->done) {
            co_resume(sibling);
        }
        co_resume(creator);
    }
    while (!sibling->done) {
        co_resume(sibling);
    }
    CHECK(creator_bad == 0 && deep_bad == 0);
    co_free(child);
    co_free(creator);
    co_free(sibling);
    printf("child writes its creator's locals across switches: %s\n",
           creator_bad == 0 && deep_bad == 0 ? "ok" : "FAILED");
}

/* 64 KiB a frame, far more frames than the region holds. */
static void recurse_64k(int depth)
{
    volatile char big[1 << 16];
    big[0] = (char)depth;
    if (depth > 0) {
        recurse_64k(depth - 1);
    }
    (void)big[0];
}

static void overflow(struct co *c)
{
    (void)c;
    recurse_64k(1000);
}

static void check_guard_page(void)
{
    fflush(stdout);
    const pid_t pid = fork();
    if (pid == 0) {
        struct co *c = co_new(overflow, NULL, 20);
        co_resume(c);
        _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    const bool segv = WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV;
    CHECK(segv);
    printf("overflowing the region hits the guard page: %s\n",
           segv ? "SIGSEGV" : "FAILED");
}

int main(void)
{
    if (green__stack_region_init(4 << 20) != 0) {
        fprintf(stderr, "cannot reserve the region\n");
        return 1;
    }
    check_registers();
    check_interleaving();
    check_resume_last_copies_nothing();
    check_creator_locals();
    check_guard_page();
    return failures ? 1 : 0;
}
