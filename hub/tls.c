/* SPDX-License-Identifier: MIT */
/* Thread-local storage of green threads: where it is and what it holds.
 *
 * Where. Every green thread runs on the one kernel thread, whose thread
 * pointer (%fs) locates glibc's TCB and every static TLS block. Natively
 * each thread has its own, so &some_thread_local differs between threads,
 * and programs rely on that: Rust's channels tell threads apart by such an
 * address. So each green thread gets a *window*: its own thread pointer,
 * 64 bytes or so from its neighbours' in one reserved region. There is one
 * TLS area (the used static TLS below the thread pointer and struct
 * pthread above it); its *home* is the kernel thread's own thread pointer,
 * where main() runs. Before the hub resumes a thread it copies the area
 * into that thread's window and points %fs there. Windows overlap, and
 * %fs must always point at a complete area (a signal handler may run at
 * any moment), so a move between overlapping windows goes through home.
 * To make that rare, consecutive slots alternate between BANKS parts of
 * the region. A parked thread costs no TLS memory but its slot's bytes of
 * address space, which pages in as its window is used.
 *
 *   region:  | bank 0: slots 1, 9, 17 ... | bank 1: slots 2, 10 ... | ...
 *            (slots of a bank are `gap` bytes apart)
 *                 window of a slot:
 *            [tp - below ........ tp ........ tp + above)
 *             static TLS blocks    TCB (struct pthread)
 *
 * glibc's bookkeeping keeps pointing home: the thread lists, the robust
 * list and rseq area registered with the kernel. fork, which walks those
 * lists, runs at home (green__tls_home); the rseq area is never copied
 * home, so the kernel's values stay. The module table (dtv) holds absolute
 * addresses of static blocks; each move rebases those entries. Known gap:
 * a library with initial-exec TLS (DF_STATIC_TLS) dlopen'ed by a thread
 * other than main() gets its initial image at home only, so that thread
 * sees its block uninitialised. Wrapping dlopen would fix it, but glibc's
 * dlopen finds the caller's search path from its return address, which a
 * wrapper would make libgreen's.
 *
 * What. The values of __thread variables are per green thread, as
 * natively: the blocks of the program and of every library loaded by the
 * time the runtime starts (C++ exception state in libstdc++ among them)
 * are saved per thread, and swapped into the area when the hub resumes a
 * thread other than the one whose values are in place. A new thread starts
 * from each module's initial image (.tdata copied, .tbss zeroed), as glibc
 * starts a thread. Not per thread: glibc's own block, whose state belongs
 * to the kernel thread (malloc's per-thread cache, locale) and whose errno
 * the scheduler keeps per thread itself; libgreen's own; blocks of
 * libraries dlopen'ed later (shared by all green threads); and the block of
 * a library that replaced glibc's malloc (jemalloc, tcmalloc), whose cache
 * belongs to the kernel thread just as glibc's does. Such an allocator
 * also turns windows off: jemalloc links its thread state into global
 * lists by address and points into it from the heap, so that state must
 * never move, and every green thread then sees the home addresses. Known
 * gap: an allocator linked statically into the program lives in the
 * program's block, which stays per thread and windowed; not handled.
 *
 *   TLS area below the thread pointer
 *   +------------+------------+-------------+-----------+
 *   | program    | libstdc++  | libgreen    | libc      |  TCB
 *   +------------+------------+-------------+-----------+
 *     per thread   per thread   shared        shared
 */
#include "config.h"

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/rseq.h>

#include "hub/internal.h"

#define REGION_BYTES ((size_t)1 << 30)  /* address space for windows */
#define BANKS 8                         /* parts of the region */
#define MIN_GAP 64                      /* bytes between windows */

struct block {
    size_t off;                     /* thread pointer minus block address */
    size_t size;                    /* p_memsz */
    const unsigned char *image;     /* .tdata initial image */
    size_t filesz;                  /* bytes of image; the rest is zero */
};

/* dtv_t of glibc: entry i > 0 holds module i's block address first. */
union dtv_entry {
    size_t counter;
    struct {
        void *val;
        void *to_free;
    } pointer;
};

uintptr_t green__allocator_lo, green__allocator_hi;

static struct {
    struct block *blocks;           /* per-thread values */
    size_t n;
    size_t total;                   /* bytes a thread's buffer holds */
    struct green__thread *owner;    /* whose values are at home */

    bool allocator;                 /* malloc's module has TLS (shared) */
    bool windows;                   /* false: every thread uses home */
    bool fast;                      /* wrfsbase allowed */
    uintptr_t home;                 /* the kernel thread's thread pointer */
    uintptr_t tp;                   /* where %fs points now */
    size_t below;                   /* bytes of used static TLS below tp */
    size_t static_below;            /* the whole static TLS below tp */
    size_t above;                   /* sizeof(struct pthread) */
    size_t rseq_off, rseq_len;      /* rseq area, above tp; kept home */
    size_t gap;                     /* distance between windows */
    uintptr_t slot0;                /* thread pointer of slot 1 */
    size_t bank_bytes;
    uint32_t nslots, next_slot;
    uint32_t *free_slots;           /* released slot numbers, LIFO */
    uint32_t nfree, free_cap;
} tls;

static bool is_libc(const char *name)
{
    const char *base = strrchr(name, '/');
    return strncmp(base ? base + 1 : name, "libc.so", 7) == 0;
}

static const ElfW(Phdr) *tls_phdr(const struct dl_phdr_info *info)
{
    for (int i = 0; i < info->dlpi_phnum; i++) {
        if (info->dlpi_phdr[i].p_type == PT_TLS
            && info->dlpi_phdr[i].p_memsz != 0) {
            return &info->dlpi_phdr[i];
        }
    }
    return NULL;
}

/* Static blocks (those below the current thread pointer) set how much of
 * the area must move. */
static int measure(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    (void)data;
    const uintptr_t addr = (uintptr_t)info->dlpi_tls_data;
    if (addr != 0 && addr < tls.tp && tls.tp - addr <= tls.static_below
        && tls.tp - addr > tls.below) {
        tls.below = tls.tp - addr;
    }
    return 0;
}

/* True if `addr` lies in one of the module's loaded segments. */
static bool module_holds(const struct dl_phdr_info *info, uintptr_t addr)
{
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        const uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && addr >= lo && addr - lo < ph->p_memsz) {
            return true;
        }
    }
    return false;
}

/* Is this module a shared library, other than libc, that provides the
 * process's malloc? (An allocator linked into the program itself is not
 * handled: see the top of this file.) */
static bool is_allocator(const struct dl_phdr_info *info, uintptr_t malloc_addr)
{
    return info->dlpi_name[0] != '\0' && !is_libc(info->dlpi_name)
        && module_holds(info, malloc_addr);
}

/* Record the executable range of that module (green__called_by_allocator). */
static int find_allocator(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    if (!is_allocator(info, *(const uintptr_t *)data)) {
        return 0;
    }
    uintptr_t lo = UINTPTR_MAX, hi = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
            const uintptr_t a = info->dlpi_addr + ph->p_vaddr;
            lo = a < lo ? a : lo;
            hi = a + ph->p_memsz > hi ? a + ph->p_memsz : hi;
        }
    }
    if (lo < hi) {
        green__allocator_lo = lo;
        green__allocator_hi = hi;
    }
    return 1;
}

static int collect(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    const uintptr_t malloc_addr = *(const uintptr_t *)data;
    const ElfW(Phdr) *ph = tls_phdr(info);
    if (info->dlpi_tls_data == NULL || ph == NULL || is_libc(info->dlpi_name)) {
        return 0;
    }
    if (is_allocator(info, malloc_addr)) {
        /* The allocator that replaced glibc's (jemalloc, tcmalloc): its
         * per-thread cache belongs to the kernel thread, like glibc's. */
        tls.allocator = true;
        return 0;
    }
    unsigned char *addr = info->dlpi_tls_data;
    const unsigned char *ours = (const unsigned char *)&green__kthread_role;
    if (ours >= addr && ours < addr + ph->p_memsz) {
        return 0;
    }
    struct block *b = realloc(tls.blocks, (tls.n + 1) * sizeof *b);
    if (b == NULL) {
        return -1;
    }
    tls.blocks = b;
    tls.blocks[tls.n++] = (struct block){
        .off = tls.home - (uintptr_t)addr,
        .size = ph->p_memsz,
        .image = (const unsigned char *)(info->dlpi_addr + ph->p_vaddr),
        .filesz = ph->p_filesz,
    };
    tls.total += ph->p_memsz;
    return 0;
}

/* Reserve the windows' region, or leave windows off (addresses shared, as
 * on a glibc this code does not know). */
static void windows_init(void)
{
    void (*static_info)(size_t *, size_t *) =
        (void (*)(size_t *, size_t *))dlsym(RTLD_DEFAULT,
                                            "_dl_get_tls_static_info");
    const uint32_t *tcb_size = dlsym(RTLD_DEFAULT,
                                     "_thread_db_sizeof_pthread");
    if (static_info == NULL || tcb_size == NULL) {
        GREEN_DEBUG("glibc's TLS layout is unknown: thread-local addresses "
                    "are shared\n");
        return;
    }
    size_t static_size, align;
    static_info(&static_size, &align);
    tls.above = *tcb_size;
    if (static_size <= tls.above || align == 0 || (align & (align - 1))
        || tls.above < GREEN__TCB_UNUSED_TO) {
        return;
    }
    tls.static_below = static_size - tls.above;
    dl_iterate_phdr(measure, NULL);
    tls.gap = align > MIN_GAP ? align : MIN_GAP;
    if (__rseq_size > 0 && __rseq_offset >= GREEN__TCB_UNUSED_TO
        && (size_t)__rseq_offset + sizeof(struct rseq) <= tls.above) {
        tls.rseq_off = (size_t)__rseq_offset;
        tls.rseq_len = sizeof(struct rseq);
    }
    const size_t reach = tls.static_below + tls.above;
    void *map = mmap(NULL, REGION_BYTES, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (map == MAP_FAILED) {
        GREEN_DEBUG("no address space for TLS windows: thread-local "
                    "addresses are shared\n");
        return;
    }
    tls.slot0 = ((uintptr_t)map + tls.static_below + tls.gap - 1)
                & ~(uintptr_t)(tls.gap - 1);
    tls.bank_bytes = (REGION_BYTES / BANKS) & ~(tls.gap - 1);
    tls.nslots = BANKS * (uint32_t)((tls.bank_bytes - reach - tls.gap)
                                    / tls.gap);
    tls.fast = (getauxval(AT_HWCAP2) & GREEN__HWCAP2_FSGSBASE) != 0;
    tls.windows = true;
}

int green__tls_init(struct green__thread *main_thread)
{
    tls.home = tls.tp = (uintptr_t)__builtin_thread_pointer();
    tls.owner = main_thread;
    uintptr_t malloc_addr = (uintptr_t)dlsym(RTLD_DEFAULT, "malloc");
    dl_iterate_phdr(find_allocator, &malloc_addr);
    if (dl_iterate_phdr(collect, &malloc_addr) != 0) {
        free(tls.blocks);
        tls.blocks = NULL;
        tls.n = tls.total = 0;
        return -ENOMEM;
    }
    if (tls.allocator) {
        /* Its thread state must stay at one address: jemalloc links it
         * into global lists and points into it from the heap. */
        GREEN_DEBUG("the allocator has thread-local state: thread-local "
                    "addresses are shared\n");
    } else {
        windows_init();
    }
    return 0;
}

static uint32_t slot_take(void)
{
    if (tls.nfree > 0) {
        return tls.free_slots[--tls.nfree];
    }
    if (!tls.windows || tls.next_slot >= tls.nslots) {
        return 0;                   /* home: shared addresses */
    }
    return ++tls.next_slot;
}

static void slot_give(uint32_t slot)
{
    if (slot == 0) {
        return;
    }
    if (tls.nfree == tls.free_cap) {
        const uint32_t cap = tls.free_cap ? 2 * tls.free_cap : 256;
        uint32_t *f = realloc(tls.free_slots, cap * sizeof *f);
        if (f == NULL) {
            return;                 /* the slot is lost, nothing else */
        }
        tls.free_slots = f;
        tls.free_cap = cap;
    }
    tls.free_slots[tls.nfree++] = slot;
}

int green__tls_create(struct green__thread *t)
{
    t->tls_slot = slot_take();
    if (tls.total == 0) {
        return 0;
    }
    unsigned char *buf = malloc(tls.total);
    if (buf == NULL) {
        slot_give(t->tls_slot);
        return -EAGAIN;
    }
    unsigned char *at = buf;
    for (size_t i = 0; i < tls.n; i++) {
        const struct block *b = &tls.blocks[i];
        memcpy(at, b->image, b->filesz);
        memset(at + b->filesz, 0, b->size - b->filesz);
        at += b->size;
    }
    t->tls = buf;
    return 0;
}

/* Swap the per-thread values in the area: save the owner's, load `to`'s. */
static void values_switch(struct green__thread *to)
{
    if (tls.total == 0 || tls.owner == to) {
        return;
    }
    struct green__thread *from = tls.owner;
    if (from != NULL) {
        if (from->tls == NULL) {
            from->tls = malloc(tls.total);      /* main, first time */
            GREEN_ASSERT(from->tls != NULL,
                         "out of memory saving thread-local storage");
        }
        unsigned char *at = from->tls;
        for (size_t i = 0; i < tls.n; i++) {
            memcpy(at, (void *)(tls.tp - tls.blocks[i].off),
                   tls.blocks[i].size);
            at += tls.blocks[i].size;
        }
    }
    const unsigned char *at = to->tls;
    for (size_t i = 0; i < tls.n; i++) {
        memcpy((void *)(tls.tp - tls.blocks[i].off), at,
               tls.blocks[i].size);
        at += tls.blocks[i].size;
    }
    tls.owner = to;
}

/* Rebase the dtv's pointers to static blocks from the area at `from` to
 * the area at `to` (the dtv itself is one array, shared). */
static void dtv_rebase(uintptr_t from, uintptr_t to)
{
    union dtv_entry *dtv = *(union dtv_entry **)(to + GREEN__TCB_DTV);
    const size_t len = dtv[-1].counter;
    for (size_t i = 1; i <= len; i++) {
        const uintptr_t p = (uintptr_t)dtv[i].pointer.val;
        if (p < from && from - p <= tls.static_below) {
            dtv[i].pointer.val = (void *)(p - from + to);
        }
    }
}

/* Copy bytes [lo, hi) of the area at `from` (offsets from the thread
 * pointer) to the area at `to`. */
static void copy_part(uintptr_t to, uintptr_t from, ptrdiff_t lo,
                      ptrdiff_t hi)
{
    memcpy((void *)(to + lo), (void *)(from + lo), (size_t)(hi - lo));
}

/* Copy the area from where %fs points to `to`, which must not overlap,
 * then point %fs there. tcbhead_t's reserved tail is never copied, and
 * the rseq area is left out on the way home: the kernel keeps the home
 * one up to date. */
static void area_copy(uintptr_t to)
{
    const uintptr_t from = tls.tp;
    copy_part(to, from, -(ptrdiff_t)tls.below, GREEN__TCB_UNUSED_FROM);
    if (to == tls.home && tls.rseq_len != 0) {
        copy_part(to, from, GREEN__TCB_UNUSED_TO, (ptrdiff_t)tls.rseq_off);
        copy_part(to, from, (ptrdiff_t)(tls.rseq_off + tls.rseq_len),
                  (ptrdiff_t)tls.above);
    } else {
        copy_part(to, from, GREEN__TCB_UNUSED_TO, (ptrdiff_t)tls.above);
    }
    *(uintptr_t *)(to + GREEN__TCB_SELF0) = to;
    *(uintptr_t *)(to + GREEN__TCB_SELF) = to;
    dtv_rebase(from, to);
    green__thread_pointer_set(to, tls.fast);
    tls.tp = to;
}

static void area_move(uintptr_t to)
{
    const uintptr_t from = tls.tp;
    if (to == from) {
        return;
    }
    const size_t reach = tls.below + tls.above;
    const size_t apart = to > from ? to - from : from - to;
    if (apart < reach) {
        area_copy(tls.home);        /* windows overlap: through home */
    }
    area_copy(to);
}

static uintptr_t window_of(const struct green__thread *t)
{
    if (t->tls_slot == 0 || t->tls_home != 0) {
        return tls.home;
    }
    const uint32_t k = t->tls_slot - 1;
    return tls.slot0 + (k % BANKS) * tls.bank_bytes
           + (uintptr_t)(k / BANKS) * tls.gap;
}

void green__tls_switch(struct green__thread *to)
{
    values_switch(to);
    if (tls.windows) {
        area_move(window_of(to));
    }
}

void green__tls_home(struct green__thread *self)
{
    self->tls_home++;
    if (tls.windows) {
        area_move(tls.home);
    }
}

void green__tls_away(struct green__thread *self)
{
    self->tls_home--;
    if (tls.windows) {
        area_move(window_of(self));
    }
}

void green__tls_release(struct green__thread *t)
{
    if (tls.owner == t) {
        tls.owner = NULL;
    }
    slot_give(t->tls_slot);
    t->tls_slot = 0;
    free(t->tls);
    t->tls = NULL;
}
