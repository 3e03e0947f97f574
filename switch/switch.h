/* SPDX-License-Identifier: MIT */
/* The contract of switch/: saving and loading a context (registers, in the
 * per-architecture switch/<arch>/switch.S) and keeping each green thread's
 * stack bytes where its code expects them (switch/stack.c).
 *
 * Stacks come in three kinds:
 *   copied   the thread runs in the one shared stack region and its bytes
 *            are copied out to the heap when another thread needs the
 *            addresses (LIBGREEN_STACK=copy);
 *   mapped   the thread has its own mmap'd stack with a guard page below it
 *            (LIBGREEN_STACK=separate, the default);
 *   foreign  the thread runs on memory it was given: the program's own
 *            (pthread_attr_setstack) or the process stack (main).
 * Only copied stacks are ever moved; nothing else in switch/ touches them.
 */
#ifndef GREEN_SWITCH_SWITCH_H
#define GREEN_SWITCH_SWITCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctx.h"

/* Save the running context's registers into `from` and resume `to`.
 * Returns when something switches back to `from`. Any context. */
void green__switch(struct green__ctx *from, struct green__ctx *to);

/* Fill `ctx` so that switching to it calls fn(arg) on the stack below `sp`,
 * with the caller's floating-point control words. The GREEN__CTX_FRAME
 * bytes at `sp` must hold green__ctx_frame() first (see green__stack_*). */
void green__ctx_init(struct green__ctx *ctx, void *sp, void (*fn)(void *),
                     void *arg);

/* Make `tp` the calling kernel thread's thread pointer; `fast` says the
 * CPU instruction is allowed (see ctx.h). Any context. */
void green__thread_pointer_set(uintptr_t tp, int fast);

/* First resume address of every new context (switch/<arch>/switch.S). */
extern char green__trampoline[];

enum green__stack_kind { GREEN__STACK_COPIED, GREEN__STACK_MAPPED,
                         GREEN__STACK_FOREIGN };

/* One green thread's stack. For a copied stack, the bytes of
 * [sp, top) are each either in the region (a "resident" segment owned by
 * this stack) or in `saved`, which mirrors [top - saved_cap, top). */
struct green__stack {
    enum green__stack_kind kind;
    uintptr_t top;                  /* one past the highest byte */
    uintptr_t sp;                   /* lowest live byte while switched out */
    uintptr_t limit;                /* lowest usable byte (above any guard) */
    void *map;                      /* mapped: the whole mapping, for munmap */
    size_t map_len;
    bool live;                      /* false once the thread has exited */
    struct green__stack *creator;   /* copied: the copied stack this one was
                                       started below, or NULL (region top) */
    unsigned children;              /* copied stacks whose creator is this */
    unsigned char *saved;
    size_t saved_cap;
};

/* Reserve the shared region of `size` bytes (plus a guard page below) for
 * copied stacks. Returns 0 or -ENOMEM. Call once, before any copied stack. */
int green__stack_region_init(size_t size);

/* Set up a new stack for a context entering fn(arg), and its ctx.
 * kind COPIED: starts at the region top, or just below `creator_sp` when
 *   `creator` (the running thread's stack) is itself copied;
 * kind MAPPED: mmaps `size` bytes plus a guard page;
 * kind FOREIGN: runs on [base, base + size) given by the program.
 * Returns 0, -EAGAIN (no memory or region space). Green thread or hub. */
int green__stack_create(struct green__stack *st, struct green__ctx *ctx,
                        enum green__stack_kind kind,
                        struct green__stack *creator, uintptr_t creator_sp,
                        void *base, size_t size,
                        void (*fn)(void *), void *arg);

/* Make the region hold what `st`'s thread needs before it resumes: its own
 * bytes in [sp, top) and those of its creators above, with every other
 * thread's bytes below its top saved to the heap first (only the parts that
 * are in the way). Resuming the stack that ran last copies nothing.
 * Hub only (it must not run on the region). */
void green__stack_prepare(struct green__stack *st);

/* Record that `st`'s thread switched out with stack pointer `sp`. Hub only. */
void green__stack_suspended(struct green__stack *st, uintptr_t sp);

/* The thread of `st` has exited and switched away for good: drop its bytes
 * and unmap a mapped stack. The struct stays valid (children may still walk
 * through it to their other creators) until green__stack_unlink. Hub only. */
void green__stack_release(struct green__stack *st);

/* As green__stack_release, for the stack of a thread a fork's child
 * drops: a mapped stack beyond the cache stays mapped, as glibc leaves
 * the stacks of the threads that did not come along mapped (and readable
 * by pointers the forking thread kept) in the child. Hub or green. */
void green__stack_abandon(struct green__stack *st);

/* The object holding released stack `st` is about to be freed. Returns the
 * creator's stack if `st` was its last child and it is released too (its
 * owner may now be freed in turn), else NULL. Any. */
struct green__stack *green__stack_unlink(struct green__stack *st);

/* True while other copied stacks still name `st` as their creator, so the
 * thread object holding `st` must not be freed yet. Any. */
bool green__stack_pinned(const struct green__stack *st);

/* Bytes copied into and out of the region so far (LIBGREEN_STATS). */
uint64_t green__stack_copied_bytes(void);

#endif
