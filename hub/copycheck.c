/* SPDX-License-Identifier: MIT */
/* The copy-mode check (LIBGREEN_STACK=copy with LIBGREEN_DEBUG=1): when a
 * green thread on the shared region switches out, look for a pointer into
 * its live frames that other threads can reach, and say once on stderr
 * that copy mode cannot run the program. Such a pointer is valid only while
 * the thread's bytes happen to be resident; through it another thread
 * reads or writes whoever's bytes are at that address then.
 *
 * Where it looks, for a word (8-byte aligned) whose value is in
 * [X.sp, X.top) of the outgoing copied thread X:
 *   - the writable PT_LOAD segments (globals) of every loaded module but
 *     libgreen, libev, ld.so and glibc's own libraries;
 *   - main's process stack [main's sp, __libc_stack_end), and the live
 *     part of every other stack not on the region (pthread_attr_setstack).
 * Part of X's frames is legitimately shared: a descendant (a thread whose
 * creator chain contains X) may use X's locals while X waits, and the hub
 * restores them for it down to the top of X's child in that chain. Only
 * [X.sp, lowest such child top) is checked when X has live descendants.
 *
 * Where it does not look: the heap (it holds stale copies and the saved
 * stacks themselves), thread-locals, and the stacks of other copied
 * threads. Those share the region's addresses with X: a word of thread T
 * that lies in X's range is just as well T's own pointer (or a stale value
 * left in an unused slot) to the same address, and every copied thread's
 * chain reaches up to the region's top, so no value there tells a pointer
 * to another thread from one of T's own.
 *
 * It sees stores, not uses: a pointer left in a global after its use is
 * over, or one only its own thread reads, is reported too.
 *
 * It only reads memory the process has mapped, and costs one predictable
 * branch per switch when LIBGREEN_DEBUG is off (hub/hub.c).
 */
#include "config.h"

#include <errno.h>
#include <link.h>
#include <stdio.h>
#include <string.h>

#include "hub/internal.h"

extern void *__libc_stack_end;      /* ld.so: main's sp at process start */

/* main's sp is taken to be on the process stack, and [sp, __libc_stack_end)
 * to be mapped, only this close below its top: the kernel keeps at least
 * 128 MiB below the stack's top free of other mappings (mmap_base in
 * mm/util.c), less the program's arguments and environment. A main that
 * runs on a stack of its own (makecontext) is not scanned. */
#define MAIN_REACH ((uintptr_t)64 << 20)

static struct {
    bool reported;                  /* one report per process */
    const struct green__thread *x;  /* the thread switching out */
    uintptr_t lo, hi;               /* the range checked */
    char where[160];                /* where a pointer was found */
} check;

/* The first 8-byte aligned word in [lo, hi) whose value lies in the
 * checked range, or 0. */
static uintptr_t find_word(uintptr_t lo, uintptr_t hi)
{
    const uintptr_t a = check.lo, len = check.hi - check.lo;
    for (uintptr_t p = (lo + 7) & ~(uintptr_t)7; p + 8 <= hi; p += 8) {
        if (*(const uintptr_t *)p - a < len) {
            return p;
        }
    }
    return 0;
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* glibc's own libraries and libev keep no program data; ld.so's segment
 * ends in the thread descriptor of main, which points at whatever stack
 * runs. */
static bool runtime_module(const struct dl_phdr_info *info)
{
    static const char *const skip[] = { "libc.so", "ld-linux", "ld64.so",
                                        "libev.so", "libpthread.so",
                                        "libdl.so", "librt.so" };
    const char *base = base_name(info->dlpi_name);
    for (size_t i = 0; i < sizeof skip / sizeof *skip; i++) {
        if (strncmp(base, skip[i], strlen(skip[i])) == 0) {
            return true;
        }
    }
    const uintptr_t self = (uintptr_t)&check;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        const uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && self >= lo && self - lo < ph->p_memsz) {
            return true;            /* libgreen itself */
        }
    }
    return false;
}

static int scan_module(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    (void)data;
    if (runtime_module(info)) {
        return 0;
    }
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_W)) {
            continue;
        }
        const uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        const uintptr_t at = find_word(lo, lo + ph->p_memsz);
        if (at != 0) {
            const char *name = info->dlpi_name[0] != '\0'
                ? base_name(info->dlpi_name) : program_invocation_short_name;
            snprintf(check.where, sizeof check.where,
                     "a global of %s (offset %#lx)", name,
                     (unsigned long)(at - info->dlpi_addr));
            return 1;
        }
    }
    return 0;
}

/* The live part of thread `t`'s stack, when it is not on the region. */
static bool scan_stack(struct green__thread *t, int unused)
{
    (void)unused;
    if (t == check.x || t->stack.kind == GREEN__STACK_COPIED) {
        return false;
    }
    const uintptr_t sp = t->ctx.sp;
    uintptr_t top = t->stack.top, limit = t->stack.limit;
    if (t->is_main) {
        top = (uintptr_t)__libc_stack_end;
        limit = top - MAIN_REACH;
    }
    if (sp < limit || sp >= top || find_word(sp, top) == 0) {
        return false;               /* e.g. main on a stack of its own */
    }
    if (t->is_main) {
        snprintf(check.where, sizeof check.where, "the stack of main()");
    } else {
        snprintf(check.where, sizeof check.where, "the stack of thread %d",
                 t->id);
    }
    return true;
}

/* Lower check.hi to the top of X's child in `t`'s creator chain, if any:
 * the hub restores X's bytes above it whenever `t` runs. In the end
 * check.hi is the lowest top of a child of X with a live subtree. */
static bool shrink_for_descendant(struct green__thread *t, int unused)
{
    (void)unused;
    if (t == check.x || t->stack.kind != GREEN__STACK_COPIED) {
        return false;
    }
    const struct green__stack *below = &t->stack;
    for (const struct green__stack *c = below->creator; c != NULL;
         below = c, c = c->creator) {
        if (c == &check.x->stack) {
            if (below->top < check.hi) {
                check.hi = below->top > check.lo ? below->top : check.lo;
            }
            break;
        }
    }
    return false;
}

void green__copycheck(struct green__thread *x)
{
    if (check.reported || green__config.stack_mode != GREEN__MODE_COPY
        || x->state == GREEN__EXITED || x->stack.kind != GREEN__STACK_COPIED
        || x->ctx.sp >= x->stack.top) {
        return;
    }
    check.x = x;
    check.lo = x->ctx.sp;
    check.hi = x->stack.top;
    if (green__stack_pinned(&x->stack)) {
        green__sched_find(shrink_for_descendant, 0);
    }
    if (check.lo >= check.hi) {
        return;
    }
    check.where[0] = '\0';
    if (dl_iterate_phdr(scan_module, NULL) == 0
        && green__sched_find(scan_stack, 0) == NULL) {
        return;
    }
    check.reported = true;
    green__log("copy mode: a pointer to the stack of switched-out thread %d "
               "is stored in %s; copy mode cannot support this program, use "
               "LIBGREEN_STACK=separate (the default)\n", x->id, check.where);
}
