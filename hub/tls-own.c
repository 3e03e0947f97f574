/* SPDX-License-Identifier: MIT */
/* Own TLS areas: in separate mode (the default) each green thread has a
 * TLS area of its own, laid out as glibc lays out the area of a thread it
 * makes, and keeps it for life:
 *
 *   [tp - below ..................... tp ............... tp + above)
 *    static TLS blocks: program,        TCB: glibc's struct pthread,
 *    libraries, libgreen, libc          a copy of the kernel thread's
 *                                       with a module table (dtv) of
 *                                       its own
 *
 * glibc fills the area itself: _dl_allocate_tls gives the TCB a dtv of
 * its own and copies every static block's initial image (.tdata, zeroed
 * .tbss), as for a thread it creates, and __tls_get_addr (or the TLS
 * descriptors of -mtls-dialect=gnu2) later grows that dtv and allocates
 * the blocks of libraries dlopen'ed at any time, per thread, on first
 * use. So every library's thread-locals are per thread and stay at one
 * address for the thread's life, and a switch moves nothing but glibc's
 * own block (below): it only points %fs at the next thread's area.
 *
 * Shared with the kernel thread, as in copy mode:
 *   - glibc's own block (errno, malloc's thread cache and arena, locale,
 *     resolver state): its state belongs to the kernel thread, which runs
 *     every green thread, and a thread cache per green thread would be
 *     lost when the thread ends (glibc frees it in start_thread, which
 *     never runs for a green thread). Its bytes follow %fs: each move
 *     copies them from the area left to the area entered. The scheduler
 *     keeps errno and h_errno per thread itself;
 *   - libgreen's own block, copied from the kernel thread's at creation
 *     (it says which kernel thread this is, and never changes after);
 *   - the TCB's fields the kernel and glibc's thread list know: the tid,
 *     the robust list, the rseq area. The copy's rseq cpu_id says
 *     "unregistered", so sched_getcpu asks the kernel.
 *
 * main() keeps the kernel thread's own area, its *home*. The hub runs on
 * whatever area it last switched from. Calls that walk glibc's thread list
 * or register the TCB with the kernel (fork, setxid, pthread_create of a
 * helper) run at home (green__tls_home); they touch no thread-local of the
 * program.
 *
 * glibc's thread list holds the kernel thread once, as natively: the node
 * (struct pthread's `list`) of the area %fs points at takes the place of
 * the previous one at each move, so glibc always finds the running
 * thread's TCB there, as its own code expects of THREAD_SELF. A library
 * with initial-exec TLS (DF_STATIC_TLS) dlopen'ed while threads exist gets
 * a block in static TLS, which glibc initialises in the areas on its
 * list: the loader's. Before each switch, a look at the next unused entry
 * of glibc's module list (its slotinfo list, found as glibc describes it
 * to libthread_db) tells whether a library with TLS was loaded since; if
 * so, its block, when static, gets its initial image in every other area.
 */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <elf.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <sys/rseq.h>

#include "hub/internal.h"

/* Ended threads' areas kept for new ones, with their module tables, as
 * many as switch/stack.c keeps stacks, and reused as glibc reuses a
 * cached stack's: the table cleared, then _dl_allocate_tls_init. An area
 * (4 KiB or so) is larger than malloc's thread cache takes, and creating
 * threads would otherwise pay malloc's and free's slow paths, the page
 * faults of a heap that grows and shrinks, and a new table, for each. */
#define SPARE_AREAS 1024

static struct {
    bool on;
    bool fast;                      /* wrfsbase allowed */
    uintptr_t home;                 /* the kernel thread's thread pointer */
    uintptr_t tp;                   /* where %fs points now */
    size_t below;                   /* static TLS below the thread pointer */
    size_t above;                   /* sizeof(struct pthread) */
    size_t align;                   /* of the thread pointer */
    size_t libc_off, libc_size;     /* glibc's block: tp - its address */
    size_t own_off, own_size;       /* libgreen's block */
    size_t tid_off;                 /* struct pthread's tid */
    size_t rseq_off;                /* the rseq area, 0: none */
    void *(*allocate)(void *tcb);
    void *(*reinit)(void *tcb, bool init_tls);
    void (*deallocate)(void *tcb, bool free_tcb);
    unsigned char *doomed;          /* an exited thread's area, freed when
                                       %fs next leaves it */
    unsigned char **spare;          /* memory of areas that ended */
    unsigned nspare;
} own;

/* The block being handed out, and the area not to give it. */
static struct green__tls_image image;
static uintptr_t image_skip;

static bool give_image(struct green__thread *t, int unused)
{
    (void)unused;
    const uintptr_t tp = t->tls_tp != 0 ? t->tls_tp : own.home;
    if (tp != image_skip) {
        unsigned char *block = (unsigned char *)(tp - image.off);
        memcpy(block, image.data, image.filesz);
        memset(block + image.filesz, 0, image.memsz - image.filesz);
    }
    return false;
}

/* Libraries with TLS loaded since the last look (one load, usually):
 * give the static blocks among them their initial image in every area
 * but `skip`, the loader's, which glibc did. */
static void mods_check(uintptr_t skip)
{
    while (green__tls_mods_next(&image)) {
        if (image.off <= own.below) {
            image_skip = skip;
            green__sched_find(give_image, 0);
        }
    }
}

/* Find glibc's block and libgreen's among the static blocks at home. */
static int find_blocks(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    (void)data;
    const uintptr_t addr = (uintptr_t)info->dlpi_tls_data;
    if (addr == 0 || addr >= own.home || own.home - addr > own.below) {
        return 0;
    }
    size_t memsz = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        if (info->dlpi_phdr[i].p_type == PT_TLS) {
            memsz = info->dlpi_phdr[i].p_memsz;
        }
    }
    const uintptr_t ours = (uintptr_t)&green__kthread_role;
    if (green__tls_is_libc(info->dlpi_name)) {
        own.libc_off = own.home - addr;
        own.libc_size = memsz;
    } else if (ours >= addr && ours - addr < memsz) {
        own.own_off = own.home - addr;
        own.own_size = memsz;
    }
    return 0;
}

bool green__tls_own_init(void)
{
    void (*static_info)(size_t *, size_t *) =
        (void (*)(size_t *, size_t *))dlsym(RTLD_DEFAULT,
                                            "_dl_get_tls_static_info");
    const uint32_t *tcb_size = dlsym(RTLD_DEFAULT,
                                     "_thread_db_sizeof_pthread");
    own.allocate = (void *(*)(void *))dlsym(RTLD_DEFAULT, "_dl_allocate_tls");
    own.reinit = (void *(*)(void *, bool))dlsym(RTLD_DEFAULT,
                                                "_dl_allocate_tls_init");
    own.deallocate = (void (*)(void *, bool))dlsym(RTLD_DEFAULT,
                                                   "_dl_deallocate_tls");
    own.tid_off = green__tls_db_offset("_thread_db_pthread_tid");
    if (static_info == NULL || tcb_size == NULL || own.allocate == NULL
        || own.reinit == NULL || own.deallocate == NULL
        || own.tid_off == 0) {
        GREEN_DEBUG("glibc's TLS layout is unknown: separate mode shares "
                    "one TLS area\n");
        return false;
    }
    size_t static_size;
    static_info(&static_size, &own.align);
    own.above = *tcb_size;
    if (static_size <= own.above || own.align == 0
        || (own.align & (own.align - 1)) || own.above < GREEN__TCB_SELF + 8
        || own.tid_off + sizeof(pid_t) > own.above) {
        return false;
    }
    own.below = static_size - own.above;
    own.home = own.tp = (uintptr_t)__builtin_thread_pointer();
    dl_iterate_phdr(find_blocks, NULL);
    if (own.libc_size == 0) {
        return false;
    }
    if (__rseq_size > 0 && __rseq_offset > 0
        && (size_t)__rseq_offset + sizeof(struct rseq) <= own.above) {
        own.rseq_off = (size_t)__rseq_offset;
    }
    own.fast = green__fsgsbase();
    green__tls_list_init(own.home);
    green__tls_mods_init();
    own.on = true;
    return true;
}

bool green__tls_own_on(void)
{
    return own.on;
}

/* Memory for an area: a spare one, or new. */
/* The thread pointer of the area in `mem`. */
static uintptr_t tp_of(const unsigned char *mem)
{
    return ((uintptr_t)mem + own.below + own.align - 1)
           & ~(uintptr_t)(own.align - 1);
}

/* Keep the area in `mem` for a new thread, or free it: either way its
 * dynamic blocks go, as glibc's get_cached_stack clears a cached stack's
 * module table. */
static void area_give(unsigned char *mem)
{
    const uintptr_t tp = tp_of(mem);
    if (own.spare == NULL) {
        own.spare = malloc(SPARE_AREAS * sizeof *own.spare);
    }
    if (own.spare == NULL || own.nspare == SPARE_AREAS) {
        own.deallocate((void *)tp, false);
        free(mem);
        return;
    }
    union green__dtv_entry *dtv = *(void **)(tp + GREEN__TCB_DTV);
    for (size_t i = 1; i <= dtv[-1].counter; i++) {
        free(dtv[i].pointer.to_free);
    }
    memset(dtv, 0, (dtv[-1].counter + 1) * sizeof *dtv);
    own.spare[own.nspare++] = mem;
}

int green__tls_own_create(struct green__thread *t)
{
    const bool reuse = own.nspare > 0;
    unsigned char *mem = reuse ? own.spare[--own.nspare]
                               : malloc(own.below + own.above + own.align);
    if (mem == NULL) {
        return -EAGAIN;
    }
    const uintptr_t tp = tp_of(mem);
    void *const dtv = reuse ? *(void **)(tp + GREEN__TCB_DTV) : NULL;
    memcpy((void *)tp, (const void *)own.home, own.above);
    *(uintptr_t *)(tp + GREEN__TCB_SELF0) = tp;
    *(uintptr_t *)(tp + GREEN__TCB_SELF) = tp;
    *(void **)(tp + GREEN__TCB_DTV) = dtv;
    if (own.rseq_off != 0) {
        struct rseq *rs = (struct rseq *)(tp + own.rseq_off);
        rs->cpu_id_start = 0;
        rs->cpu_id = (uint32_t)RSEQ_CPU_ID_UNINITIALIZED;
        rs->rseq_cs = 0;
    }
    /* Every static block from its image, the module table up to date. */
    if ((reuse ? own.reinit((void *)tp, true)
               : own.allocate((void *)tp)) == NULL) {
        if (reuse) {
            area_give(mem);
        } else {
            free(mem);
        }
        return -EAGAIN;
    }
    if (own.own_size != 0) {
        memcpy((void *)(tp - own.own_off), (const void *)(own.home
               - own.own_off), own.own_size);
    }
    t->tls = mem;
    t->tls_tp = tp;
    return 0;
}

/* Point %fs at `to`, taking glibc's block and list node along. */
static void move(uintptr_t to)
{
    if (to == own.tp) {
        return;
    }
    green__tls_list_move(own.tp, to);
    memcpy((void *)(to - own.libc_off), (const void *)(own.tp - own.libc_off),
           own.libc_size);
    green__thread_pointer_set(to, own.fast);
    own.tp = to;
    if (own.doomed != NULL) {
        area_give(own.doomed);
        own.doomed = NULL;
    }
}

static uintptr_t area_of(const struct green__thread *t)
{
    return t->tls_tp != 0 && t->tls_home == 0 ? t->tls_tp : own.home;
}

void green__tls_own_switch(struct green__thread *to)
{
    if (green__tls_mods_loaded()) {
        mods_check(own.tp);
    }
    move(area_of(to));
}

void green__tls_own_home(struct green__thread *self)
{
    self->tls_home++;
    move(own.home);
}

void green__tls_own_away(struct green__thread *self)
{
    self->tls_home--;
    if (self->tls_tp != 0 && self->tls_home == 0) {
        /* The kernel's tid may be new (a fork's child). */
        memcpy((void *)(self->tls_tp + own.tid_off),
               (const void *)(own.home + own.tid_off), sizeof(pid_t));
    }
    move(area_of(self));
}

void green__tls_own_release(struct green__thread *t)
{
    if (t->tls_tp == 0) {
        return;
    }
    if (own.tp == t->tls_tp) {
        /* The hub still runs on it (glibc's block is there). */
        if (own.doomed != NULL) {
            area_give(own.doomed);
        }
        own.doomed = t->tls;
    } else {
        area_give(t->tls);
    }
    t->tls = NULL;
    t->tls_tp = 0;
}
