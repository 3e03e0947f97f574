/* SPDX-License-Identifier: MIT */
/* Thread-local storage of green threads in copy mode, and the choice of
 * scheme: separate mode gives each thread an area of its own
 * (hub/tls-own.c) where glibc's layout is known and that is worth a %fs
 * move per switch (the CPU has FSGSBASE, or the process has static TLS of
 * its own); otherwise, and in copy mode, the scheme below.
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
 * glibc's bookkeeping: the robust list and the rseq area registered with
 * the kernel stay home; fork runs at home (green__tls_home), and the rseq
 * area is never copied home, so the kernel's values stay. The area's TCB
 * takes the kernel thread's place on glibc's thread list wherever it
 * moves (hub/tls-glibc.c), so that a dlopen initialises an initial-exec
 * block where the loader runs.
 *
 * What. The values of __thread variables are per green thread, as
 * natively: the static blocks of the program and of every library (C++
 * exception state in libstdc++ among them), also of a library dlopen'ed
 * later into static TLS (found at the next switch: blocks_add), are saved
 * per thread and swapped into the area when the hub resumes a thread
 * other than the one whose values are in place. Blocks glibc allocates on
 * the heap (libraries dlopen'ed with global-dynamic TLS or descriptors)
 * are reached through the module table, the dtv: each thread has its own,
 * installed in the area at each switch, so glibc gives each thread its
 * own blocks. A new thread starts from each module's initial image
 * (.tdata copied, .tbss zeroed), as glibc starts a thread. Not per
 * thread: glibc's own block, whose state belongs to the kernel thread
 * (malloc's per-thread cache, locale) and whose errno the scheduler keeps
 * per thread itself; libgreen's own; and the block of a library that
 * replaced glibc's malloc (jemalloc, tcmalloc), whose cache belongs to
 * the kernel thread just as glibc's does. Such an allocator also turns
 * windows off: jemalloc links its thread state into global lists by
 * address and points into it from the heap, so that state must never
 * move, and every green thread then sees the home addresses. Known gap:
 * an allocator linked statically into the program lives in the program's
 * block, which stays per thread and windowed; not handled.
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


uintptr_t green__allocator_lo, green__allocator_hi;

static struct {
    struct block *blocks;           /* per-thread values */
    size_t n;
    size_t total;                   /* bytes a thread's buffer holds */
    struct green__thread *owner;    /* whose values are at home */
    struct green__thread *running;  /* whose dtv is installed */
    union green__dtv_entry *doomed_dtv;    /* an exited thread's, installed */

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

/* Where the module's block lies in the area at home, if it has one in
 * static TLS: its link map's l_tls_offset says (glibc's dl_iterate_phdr
 * reports a block only once this thread's module table points at it,
 * which for a library dlopen'ed into static TLS may be never). Else NULL:
 * no block, or one glibc allocates per thread on the heap. */
static unsigned char *static_block(const struct dl_phdr_info *info)
{
    const size_t off_field = green__tls_db_offset(
        "_thread_db_link_map_l_tls_offset");
    Dl_info where;
    struct link_map *map = NULL;
    for (int i = 0; i < info->dlpi_phnum && off_field != 0; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD && ph->p_memsz != 0) {
            if (dladdr1((void *)(info->dlpi_addr + ph->p_vaddr), &where,
                        (void **)&map, RTLD_DL_LINKMAP) == 0) {
                map = NULL;
            }
            break;
        }
    }
    if (map == NULL) {
        return info->dlpi_tls_data;
    }
    const ptrdiff_t off = *(const ptrdiff_t *)((const char *)map
                                               + off_field);
    if (off <= 0 || (size_t)off > tls.static_below) {
        return NULL;                /* none yet, or forced dynamic (-1) */
    }
    return (unsigned char *)(tls.home - (size_t)off);
}

/* Static blocks (those below the current thread pointer) set how much of
 * the area must move. */
static int measure(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    (void)data;
    const uintptr_t addr = (uintptr_t)static_block(info);
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
    return info->dlpi_name[0] != '\0' && !green__tls_is_libc(info->dlpi_name)
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
    if (ph == NULL || green__tls_is_libc(info->dlpi_name)) {
        return 0;
    }
    if (is_allocator(info, malloc_addr)) {
        /* The allocator that replaced glibc's (jemalloc, tcmalloc): its
         * per-thread cache belongs to the kernel thread, like glibc's. */
        tls.allocator = true;
        return 0;
    }
    unsigned char *addr = static_block(info);
    if (addr == NULL || (uintptr_t)addr >= tls.home
        || tls.home - (uintptr_t)addr > tls.static_below) {
        /* A block glibc allocated on the heap (a library dlopen'ed before
         * the runtime started): not at a fixed offset from the thread
         * pointer, so not part of the area. */
        return 0;
    }
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

/* Read glibc's static TLS layout: tls.static_below and tls.above, and
 * *align. False on a glibc this code does not know. */
static bool layout_init(size_t *align)
{
    void (*static_info)(size_t *, size_t *) =
        (void (*)(size_t *, size_t *))dlsym(RTLD_DEFAULT,
                                            "_dl_get_tls_static_info");
    const uint32_t *tcb_size = dlsym(RTLD_DEFAULT,
                                     "_thread_db_sizeof_pthread");
    if (static_info == NULL || tcb_size == NULL) {
        return false;
    }
    size_t static_size;
    static_info(&static_size, align);
    if (static_size <= *tcb_size || *align == 0 || (*align & (*align - 1))
        || *tcb_size < GREEN__TCB_UNUSED_TO) {
        return false;
    }
    tls.above = *tcb_size;
    tls.static_below = static_size - tls.above;
    return true;
}

/* Rebase `dtv`'s pointers to static blocks from the area at `from` to
 * the area at `to`. */
static void dtv_rebase(union green__dtv_entry *dtv, uintptr_t from, uintptr_t to)
{
    if (from == to) {
        return;
    }
    const size_t len = dtv[-1].counter;
    for (size_t i = 1; i <= len; i++) {
        const uintptr_t p = (uintptr_t)dtv[i].pointer.val;
        if (p < from && from - p <= tls.static_below) {
            dtv[i].pointer.val = (void *)(p - from + to);
        }
    }
}

static union green__dtv_entry **dtv_field(uintptr_t tp)
{
    return (union green__dtv_entry **)(tp + GREEN__TCB_DTV);
}

/* A module table for a new thread, made from the installed one: its
 * static entries point into the area at tls.tp, and the blocks of
 * libraries dlopen'ed (dynamic TLS) are the thread's own, allocated by
 * __tls_get_addr on first use. It holds the modules loaded so far, not
 * glibc's spare entries (glibc grows a table when a library loaded later
 * needs it): some 200 bytes less per thread. NULL when memory ran out.
 * blocks_add must have run (the module count is up to date). */
static union green__dtv_entry *dtv_new(void)
{
    const union green__dtv_entry *cur = *dtv_field(tls.tp);
    size_t len = cur[-1].counter;
    const size_t used = green__tls_mods_count();
    if (used != 0 && used < len) {
        len = used;
    }
    union green__dtv_entry *d = malloc((len + 2) * sizeof *d);
    if (d == NULL) {
        return NULL;
    }
    d[0].counter = len;
    d[1].counter = cur[0].counter;  /* the generation it is valid for */
    for (size_t i = 1; i <= len; i++) {
        const uintptr_t p = (uintptr_t)cur[i].pointer.val;
        const bool in_area = p < tls.tp && tls.tp - p <= tls.static_below;
        d[i + 1].pointer.val = in_area ? cur[i].pointer.val
                                       : GREEN__TLS_DTV_UNALLOCATED;
        d[i + 1].pointer.to_free = NULL;
    }
    return d + 1;
}

/* Free a thread's module table and the dynamic blocks it holds. */
static void dtv_free(union green__dtv_entry *dtv)
{
    const size_t len = dtv[-1].counter;
    for (size_t i = 1; i <= len; i++) {
        free(dtv[i].pointer.to_free);
    }
    free(dtv - 1);
}

/* Take the running thread's module table out of the area (glibc may
 * have grown it, moving it), before the area moves for another thread. */
static void dtv_detach(void)
{
    if (tls.running != NULL) {
        tls.running->dtv = *dtv_field(tls.tp);
        tls.running->dtv_tp = tls.tp;
        if (green__exit_chain_off != 0) {
            tls.running->cleanup_chain =
                *(void **)(tls.tp + green__exit_chain_off);
        }
        tls.running = NULL;
    }
    if (tls.doomed_dtv != NULL) {
        dtv_free(tls.doomed_dtv);
        tls.doomed_dtv = NULL;
    }
}

/* Install `to`'s module table in the area where it now is. */
static void dtv_attach(struct green__thread *to)
{
    dtv_rebase(to->dtv, to->dtv_tp, tls.tp);
    *dtv_field(tls.tp) = to->dtv;
    if (green__exit_chain_off != 0) {
        *(void **)(tls.tp + green__exit_chain_off) = to->cleanup_chain;
    }
    tls.running = to;
}

/* Reserve the windows' region, or leave windows off (addresses shared, as
 * on a glibc this code does not know). */
static void windows_init(size_t align)
{
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
    tls.windows = true;
}

int green__tls_init(struct green__thread *main_thread)
{
    tls.home = tls.tp = (uintptr_t)__builtin_thread_pointer();
    tls.owner = tls.running = main_thread;
    main_thread->dtv = *dtv_field(tls.home);
    main_thread->dtv_tp = tls.home;
    tls.fast = green__fsgsbase();
    uintptr_t malloc_addr = (uintptr_t)dlsym(RTLD_DEFAULT, "malloc");
    dl_iterate_phdr(find_allocator, &malloc_addr);
    size_t align;
    const bool layout = layout_init(&align);
    if (layout && dl_iterate_phdr(collect, &malloc_addr) != 0) {
        free(tls.blocks);
        tls.blocks = NULL;
        tls.n = tls.total = 0;
        return -ENOMEM;
    }
    /* Without FSGSBASE each move of %fs is a system call (3.6 us on some
     * virtual machines). A process whose only static TLS is glibc's and
     * libgreen's would gain nothing observable but &errno from areas or
     * windows of its own: it keeps one area, and only the blocks of
     * libraries it dlopens (reached through each thread's module table)
     * are per thread. */
    const bool areas = tls.fast || tls.total != 0;
    if (green__config.stack_mode == GREEN__MODE_SEPARATE && areas
        && green__tls_own_init()) {
        free(tls.blocks);
        tls.blocks = NULL;
        tls.n = tls.total = 0;
        return 0;
    }
    if (!layout) {
        GREEN_DEBUG("glibc's TLS layout is unknown: thread-local values "
                    "and addresses are shared\n");
        return 0;
    }
    green__tls_list_init(tls.home);
    green__tls_mods_init();
    if (tls.allocator) {
        /* Its thread state must stay at one address: jemalloc links it
         * into global lists and points into it from the heap. */
        GREEN_DEBUG("the allocator has thread-local state: thread-local "
                    "addresses are shared\n");
    } else if (!areas) {
        GREEN_DEBUG("no FSGSBASE and no static TLS but glibc's: one TLS "
                    "area for every thread\n");
    } else {
        windows_init(align);
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

static void blocks_add(void);

int green__tls_create(struct green__thread *t)
{
    if (green__tls_own_on()) {
        return green__tls_own_create(t);
    }
    blocks_add();
    t->dtv = dtv_new();
    if (t->dtv == NULL) {
        return -EAGAIN;
    }
    t->dtv_tp = tls.tp;
    t->tls_slot = slot_take();
    if (tls.total == 0) {
        return 0;
    }
    unsigned char *buf = malloc(tls.total);
    if (buf == NULL) {
        slot_give(t->tls_slot);
        t->tls_slot = 0;
        dtv_free(t->dtv);
        t->dtv = NULL;
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

/* The block being added, for add_values. */
static const struct green__tls_image *adding;

/* Give thread `t`'s saved values the initial image of the block being
 * added (for the owner, whose values are in the area, a placeholder). */
static bool add_values(struct green__thread *t, int unused)
{
    (void)unused;
    if (t->tls == NULL && tls.total != 0) {
        return false;               /* main, never switched out: its */
    }                               /* buffer is made at its first save */
    unsigned char *buf = realloc(t->tls, tls.total + adding->memsz);
    GREEN_ASSERT(buf != NULL, "out of memory saving thread-local storage");
    memcpy(buf + tls.total, adding->data, adding->filesz);
    memset(buf + tls.total + adding->filesz, 0,
           adding->memsz - adding->filesz);
    t->tls = buf;
    return false;
}

/* Libraries dlopen'ed since the last switch whose blocks are in static
 * TLS: their values become per thread, each thread's from the initial
 * image but the loader's (the owner's, in the area: glibc initialised
 * the block there, where the thread list pointed). */
static void blocks_add(void)
{
    struct green__tls_image im;
    while (green__tls_mods_next(&im)) {
        if (im.off > tls.static_below) {
            continue;
        }
        struct block *b = realloc(tls.blocks, (tls.n + 1) * sizeof *b);
        GREEN_ASSERT(b != NULL, "out of memory tracking thread-locals");
        tls.blocks = b;
        adding = &im;
        green__sched_find(add_values, 0);
        tls.blocks[tls.n++] = (struct block){ .off = im.off,
                                              .size = im.memsz,
                                              .image = im.data,
                                              .filesz = im.filesz };
        tls.total += im.memsz;
        if (im.off > tls.below) {
            tls.below = im.off;     /* moves of the area carry it */
        }
    }
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
    if (tls.running != NULL) {
        dtv_rebase(*dtv_field(to), from, to);   /* the thread moves */
    }
    green__tls_list_move(from, to);
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
    if (green__tls_own_on()) {
        green__tls_own_switch(to);
        return;
    }
    if (green__tls_mods_loaded()) {
        blocks_add();
    }
    if (tls.running == to) {
        return;                     /* it ran last: all is in place */
    }
    dtv_detach();
    values_switch(to);
    if (tls.windows) {
        area_move(window_of(to));
    }
    dtv_attach(to);
}

void green__tls_home(struct green__thread *self)
{
    if (green__tls_own_on()) {
        green__tls_own_home(self);
        return;
    }
    self->tls_home++;
    if (tls.windows) {
        area_move(tls.home);
    }
}

void green__tls_away(struct green__thread *self)
{
    if (green__tls_own_on()) {
        green__tls_own_away(self);
        return;
    }
    self->tls_home--;
    if (tls.windows) {
        area_move(window_of(self));
    }
}

void green__tls_release(struct green__thread *t)
{
    if (green__tls_own_on()) {
        green__tls_own_release(t);
        return;
    }
    if (tls.owner == t) {
        tls.owner = NULL;
    }
    if (t->dtv != NULL && !t->is_main) {
        if (tls.running == t) {
            tls.running = NULL;     /* installed until the next switch */
            tls.doomed_dtv = t->dtv;
        } else {
            dtv_free(t->dtv);
        }
    }
    t->dtv = NULL;
    slot_give(t->tls_slot);
    t->tls_slot = 0;
    free(t->tls);
    t->tls = NULL;
}

