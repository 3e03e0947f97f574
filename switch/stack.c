/* SPDX-License-Identifier: MIT */
/* Stacks of green threads: the shared region and the copying that lets many
 * threads take turns on it (greenlet-style slicing), plus mapped stacks for
 * LIBGREEN_STACK=separate and foreign stacks the program provides.
 *
 * The shared region, stack growing down:
 *
 *   region.hi -> +---------------------------+  top of every thread main made
 *                | T1 (created by main)      |
 *                |   ... T1's sp when it     |
 *                |   created T2 ...          |
 *   T2.top    -> +---------------------------+  T2 starts below its creator
 *                | T2                        |
 *                |                           |
 *   region.lo -> +---------------------------+
 *                | guard page (PROT_NONE)    |
 *                +---------------------------+
 *
 * At any moment each byte of the region holds the bytes of at most one
 * thread; a sorted array of segments says whose. Before thread X resumes,
 * [X.sp, X.top) must hold X's bytes, and above X.top its creators' live
 * frames (a child may use its creator's locals while the creator waits):
 * creator C owns [max(C.sp, child.top), C.top). Every other thread's bytes
 * below X.top are in the way (X may grow down anywhere below its sp), so
 * they are saved to that thread's heap buffer first, and only those parts.
 * Bytes of X's chain that are not resident are then copied back. Bytes above
 * X.top that belong to nobody in the chain stay where they are.
 *
 * Mapped stacks (separate mode) of exited threads are cached for reuse, up
 * to CACHED_STACKS of them; their touched pages (usually one or two)
 * stay resident while cached, at most a few MiB, so that a program that
 * makes and joins threads in batches makes no system call for their
 * stacks once warm.
 *
 * This file knows nothing of threads or scheduling; the hub calls it around
 * every switch. It never runs on the region itself.
 */
#include "config.h"

#include "switch/switch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "preload/preload.h"

#define GREEN__MADV_GUARD_INSTALL 102   /* <linux/mman.h>, Linux 6.13 */

struct segment {
    uintptr_t lo, hi;
    struct green__stack *owner;
};

static struct {
    void *map;
    size_t map_len;
    uintptr_t lo, hi;               /* usable bytes, guard page below lo */
    struct segment *segs;           /* sorted by address, disjoint */
    size_t nsegs, cap;
    struct green__stack *last;      /* ran last: its chain is all resident */
    uint64_t copied;
} region;

/* Mapped stacks released by exited threads, kept for reuse: creating a
 * thread then costs no mmap, madvise or munmap. */
#define CACHED_STACKS 1024

static struct {
    void *map[CACHED_STACKS];
    size_t len[CACHED_STACKS];
    unsigned n;
} cache;

static size_t page_size(void)
{
    static size_t page;
    if (!page) {
        page = (size_t)sysconf(_SC_PAGESIZE);
    }
    return page;
}

int green__stack_region_init(size_t size)
{
    const size_t page = page_size();
    size = (size + page - 1) & ~(page - 1);
    void *map = mmap(NULL, size + page, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK,
                     -1, 0);
    if (map == MAP_FAILED) {
        return -ENOMEM;
    }
    if (mprotect(map, page, PROT_NONE) != 0) {
        munmap(map, size + page);
        return -ENOMEM;
    }
    region.map = map;
    region.map_len = size + page;
    region.lo = (uintptr_t)map + page;
    region.hi = (uintptr_t)map + size + page;
    return 0;
}

uint64_t green__stack_copied_bytes(void)
{
    return region.copied;
}

bool green__stack_pinned(const struct green__stack *st)
{
    return st->children != 0;
}

/* The heap copy of byte `a` of `st` (valid for sp <= a < top once the
 * buffer is large enough). */
static unsigned char *saved_at(struct green__stack *st, uintptr_t a)
{
    return st->saved + st->saved_cap - (st->top - a);
}

/* Make st->saved mirror at least [lo, top), keeping what it holds. The
 * buffer is what the thread needs plus an eighth, not the next power of
 * two: a thread parked with an 8.5 KiB frame would otherwise keep 16 KiB,
 * pages the heap hands out again touched. */
static void saved_reserve(struct green__stack *st, uintptr_t lo)
{
    const size_t need = st->top - lo;
    if (need <= st->saved_cap) {
        return;
    }
    size_t cap = (need + need / 8 + 63) & ~(size_t)63;
    if (cap < 256) {
        cap = 256;
    }
    unsigned char *buf = malloc(cap);
    GREEN_ASSERT(buf != NULL, "out of memory saving a green thread's stack");
    if (st->saved_cap) {
        memcpy(buf + cap - st->saved_cap, st->saved, st->saved_cap);
    }
    free(st->saved);
    st->saved = buf;
    st->saved_cap = cap;
}

static void seg_reserve(size_t n)
{
    if (n <= region.cap) {
        return;
    }
    size_t cap = region.cap ? region.cap * 2 : 16;
    while (cap < n) {
        cap *= 2;
    }
    struct segment *segs = realloc(region.segs, cap * sizeof *segs);
    GREEN_ASSERT(segs != NULL, "out of memory tracking the stack region");
    region.segs = segs;
    region.cap = cap;
}

/* Save to their owners, and drop from the map, the parts of all segments
 * in [lo, hi) not owned by `keep` (NULL: evacuate everything). */
__attribute__((no_sanitize_address))
static void evacuate(uintptr_t lo, uintptr_t hi, struct green__stack *keep)
{
    if (lo >= hi) {
        return;
    }
    seg_reserve(region.nsegs * 2 + 2);
    size_t out = 0;
    const size_t n = region.nsegs;
    struct segment *segs = region.segs;
    /* Splitting adds at most one segment per split one; build the result
     * from the end of a larger buffer to keep this a single pass. */
    struct segment *tmp = segs + region.cap - n;
    memmove(tmp, segs, n * sizeof *segs);
    for (size_t i = 0; i < n; i++) {
        const struct segment s = tmp[i];
        if (s.hi <= lo || s.lo >= hi || s.owner == keep) {
            segs[out++] = s;
            continue;
        }
        const uintptr_t a = s.lo > lo ? s.lo : lo;
        const uintptr_t b = s.hi < hi ? s.hi : hi;
        GREEN_ASSERT(a >= s.owner->sp && b <= s.owner->top,
                     "resident bytes outside their owner's stack");
        saved_reserve(s.owner, s.owner->sp);
        memcpy(saved_at(s.owner, a), (void *)a, b - a);
        region.copied += b - a;
        if (s.lo < a) {
            segs[out++] = (struct segment){ s.lo, a, s.owner };
        }
        if (b < s.hi) {
            segs[out++] = (struct segment){ b, s.hi, s.owner };
        }
    }
    region.nsegs = out;
}

static void seg_insert(uintptr_t lo, uintptr_t hi, struct green__stack *owner)
{
    seg_reserve(region.nsegs + 1);
    size_t i = 0;
    while (i < region.nsegs && region.segs[i].lo < lo) {
        i++;
    }
    /* Join a neighbour of the same owner instead of adding a segment. */
    if (i > 0 && region.segs[i - 1].owner == owner
        && region.segs[i - 1].hi == lo) {
        region.segs[i - 1].hi = hi;
        if (i < region.nsegs && region.segs[i].owner == owner
            && region.segs[i].lo == hi) {
            region.segs[i - 1].hi = region.segs[i].hi;
            memmove(&region.segs[i], &region.segs[i + 1],
                    (region.nsegs - i - 1) * sizeof *region.segs);
            region.nsegs--;
        }
        return;
    }
    if (i < region.nsegs && region.segs[i].owner == owner
        && region.segs[i].lo == hi) {
        region.segs[i].lo = lo;
        return;
    }
    memmove(&region.segs[i + 1], &region.segs[i],
            (region.nsegs - i) * sizeof *region.segs);
    region.segs[i] = (struct segment){ lo, hi, owner };
    region.nsegs++;
}

/* Copy back the bytes of `owner` in [lo, hi) that are not resident, after
 * evacuate() has cleared everyone else's out of that range. */
__attribute__((no_sanitize_address))
static void fill(struct green__stack *owner, uintptr_t lo, uintptr_t hi)
{
    GREEN_ASSERT(lo >= region.lo && hi <= region.hi && lo >= owner->sp
                 && hi <= owner->top, "restoring outside the stack region");
    uintptr_t at = lo;
    size_t i = 0;
    while (at < hi) {
        while (i < region.nsegs && region.segs[i].hi <= at) {
            i++;
        }
        uintptr_t gap_end = hi;
        if (i < region.nsegs && region.segs[i].lo <= at) {
            at = region.segs[i].hi;         /* resident already: skip it */
            continue;
        }
        if (i < region.nsegs && region.segs[i].lo < hi) {
            gap_end = region.segs[i].lo;
        }
        GREEN_ASSERT(owner->saved_cap >= owner->top - at,
                     "stack bytes neither resident nor saved");
        memcpy((void *)at, saved_at(owner, at), gap_end - at);
        region.copied += gap_end - at;
        seg_insert(at, gap_end, owner);
        at = gap_end;
        i = 0;
    }
}

void green__stack_prepare(struct green__stack *st)
{
    if (st->kind != GREEN__STACK_COPIED || region.last == st) {
        return;
    }
    evacuate(region.lo, st->sp, NULL);
    evacuate(st->sp, st->top, st);
    fill(st, st->sp, st->top);
    uintptr_t below = st->top;
    for (struct green__stack *c = st->creator; c; c = c->creator) {
        if (c->live) {
            const uintptr_t lo = c->sp > below ? c->sp : below;
            if (lo < c->top) {
                evacuate(lo, c->top, c);
                fill(c, lo, c->top);
            }
        }
        below = c->top;
    }
    region.last = st;
}

/* Drop every resident segment of `st`. */
static void forget(struct green__stack *st)
{
    size_t out = 0;
    for (size_t i = 0; i < region.nsegs; i++) {
        if (region.segs[i].owner != st) {
            region.segs[out++] = region.segs[i];
        }
    }
    region.nsegs = out;
}

void green__stack_suspended(struct green__stack *st, uintptr_t sp)
{
    if (st->kind != GREEN__STACK_COPIED) {
        st->sp = sp;
        return;
    }
    GREEN_ASSERT(sp >= region.lo && sp < st->top,
                 "green thread switched out with sp outside its stack");
    forget(st);
    st->sp = sp;
    seg_insert(sp, st->top, st);
    region.last = st;
}

/* Make the page at `map` a guard page. A lightweight guard
 * (MADV_GUARD_INSTALL, Linux 6.13) leaves the mapping one VMA, and
 * neighbouring stacks then merge into one, so that the number of stacks
 * is not capped by vm.max_map_count (65530 by default: two VMAs per
 * stack stopped near 32,000 threads); older kernels get PROT_NONE. */
static int guard(void *map, size_t page)
{
    /* Valgrind keeps its own map of the process's protections and takes a
     * lightweight guard page for readable memory: it crashes reading it.
     * Its preloaded libraries say it is there. */
    static int light = -1;
    if (light < 0) {
        const char *preload = getenv("LD_PRELOAD");
        light = preload == NULL || strstr(preload, "/vgpreload_") == NULL;
    }
    if (light && madvise(map, page, GREEN__MADV_GUARD_INSTALL) == 0) {
        return 0;
    }
    return mprotect(map, page, PROT_NONE);
}

/* A cached mapping of exactly `len` bytes (guard page included), or NULL. */
static void *map_cached(size_t len)
{
    for (unsigned i = cache.n; i-- > 0;) {
        if (cache.len[i] == len) {
            void *map = cache.map[i];
            cache.n--;
            cache.map[i] = cache.map[cache.n];
            cache.len[i] = cache.len[cache.n];
            return map;
        }
    }
    return NULL;
}

/* Keep a released mapping for reuse, or unmap it when the cache is full
 * and `unmap`. */
static void map_release(void *map, size_t len, bool unmap)
{
    if (cache.n < CACHED_STACKS) {
        cache.map[cache.n] = map;
        cache.len[cache.n] = len;
        cache.n++;
        return;
    }
    if (unmap) {
        munmap(map, len);
    }
}

int green__stack_create(struct green__stack *st, struct green__ctx *ctx,
                        enum green__stack_kind kind,
                        struct green__stack *creator, uintptr_t creator_sp,
                        void *base, size_t size,
                        void (*fn)(void *), void *arg)
{
    memset(st, 0, sizeof *st);
    st->kind = kind;
    st->live = true;
    const uintptr_t entry = (uintptr_t)green__trampoline;
    switch (kind) {
    case GREEN__STACK_COPIED: {
        uintptr_t top = region.hi;
        if (creator && creator->kind == GREEN__STACK_COPIED) {
            /* Leave the creator's live frames (and a red zone) above us. */
            top = (creator_sp - 256) & ~(uintptr_t)63;
            st->creator = creator;
        }
        if (top < region.lo + 64 * 1024) {
            return -EAGAIN;
        }
        st->top = top;
        st->limit = region.lo;
        st->sp = top - GREEN__CTX_FRAME;
        saved_reserve(st, st->sp);
        memcpy(saved_at(st, st->sp), &entry, sizeof entry);
        if (st->creator) {
            st->creator->children++;
        }
        break;
    }
    case GREEN__STACK_MAPPED: {
        const size_t page = page_size();
        size = (size + page - 1) & ~(page - 1);
        void *map = map_cached(size + page);
        if (map == NULL) {
            map = mmap(NULL, size + page, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE
                       | MAP_STACK, -1, 0);
            if (map == MAP_FAILED) {
                return -EAGAIN;
            }
            if (guard(map, page) != 0) {
                munmap(map, size + page);
                return -EAGAIN;
            }
        }
        st->map = map;
        st->map_len = size + page;
        st->limit = (uintptr_t)map + page;
        st->top = (uintptr_t)map + page + size;
        break;
    }
    case GREEN__STACK_FOREIGN:
        st->limit = (uintptr_t)base;
        st->top = ((uintptr_t)base + size) & ~(uintptr_t)15;
        break;
    }
    if (kind != GREEN__STACK_COPIED) {
        st->sp = st->top - GREEN__CTX_FRAME;
        memcpy((void *)st->sp, &entry, sizeof entry);
    }
    green__ctx_init(ctx, (void *)st->sp, fn, arg);
    return 0;
}

static void release(struct green__stack *st, bool unmap)
{
    st->live = false;
    if (st->kind == GREEN__STACK_MAPPED) {
        map_release(st->map, st->map_len, unmap);
        st->map = NULL;
    }
    if (st->kind != GREEN__STACK_COPIED) {
        return;
    }
    forget(st);
    if (region.last == st) {
        region.last = NULL;
    }
    free(st->saved);
    st->saved = NULL;
    st->saved_cap = 0;
}

void green__stack_release(struct green__stack *st)
{
    release(st, true);
}

void green__stack_abandon(struct green__stack *st)
{
    release(st, false);
}

struct green__stack *green__stack_unlink(struct green__stack *st)
{
    GREEN_ASSERT(!st->live && st->children == 0,
                 "unlinking a stack that is still in use");
    struct green__stack *c = st->creator;
    st->creator = NULL;
    if (c && --c->children == 0 && !c->live) {
        return c;
    }
    return NULL;
}
