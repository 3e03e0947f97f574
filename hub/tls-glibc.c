/* SPDX-License-Identifier: MIT */
/* What glibc knows of thread-local storage and of its threads, read the
 * way libthread_db reads it: glibc exports a description of each field
 * libthread_db needs (_thread_db_* symbols: {bits, count, offset}), so
 * nothing here hard-codes a glibc version's layout.
 *
 *   its thread list    the list node of each struct pthread; the
 *                      runtime keeps the node of the area %fs points at
 *                      on the list, in the kernel thread's place
 *                      (green__tls_list_move), so that glibc's walks of
 *                      the list (a dlopen initialising static TLS, a
 *                      dlclose waiting for lookups) find the running
 *                      thread's TCB, as they would natively;
 *   its module list    the slotinfo list, one entry per module with TLS:
 *                      a cursor on its next unused entry tells, in a few
 *                      loads, whether a library with TLS was loaded since
 *                      the last look (green__tls_mods_next).
 *
 * The TLS schemes (hub/tls.c for copy mode, hub/tls-own.c for separate
 * mode) decide what to do with that.
 */
#include "config.h"

#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <string.h>

#include "hub/internal.h"

size_t green__tls_db_offset(const char *name)
{
    const uint32_t *desc = dlsym(RTLD_DEFAULT, name);
    return desc != NULL ? desc[2] : 0;
}

bool green__tls_is_libc(const char *name)
{
    const char *base = strrchr(name, '/');
    return strncmp(base ? base + 1 : name, "libc.so", 7) == 0;
}

/* ---- the thread list ------------------------------------------------ */

/* glibc's list_t. */
struct node {
    struct node *next, *prev;
};

static size_t list_off;             /* struct pthread's node; 0: unknown */

bool green__tls_list_init(uintptr_t home)
{
    list_off = green__tls_db_offset("_thread_db_pthread_list");
    const struct node *n = (const struct node *)(home + list_off);
    if (list_off == 0 || n->next == NULL || n->prev == NULL
        || n->next->prev != n || n->prev->next != n) {
        list_off = 0;
    }
    return list_off != 0;
}

void green__tls_list_move(uintptr_t from, uintptr_t to)
{
    if (list_off == 0 || from == to) {
        return;
    }
    struct node *f = (struct node *)(from + list_off);
    struct node *t = (struct node *)(to + list_off);
    t->next = f->next;
    t->prev = f->prev;
    f->next->prev = t;
    f->prev->next = t;
}

/* ---- the module list -------------------------------------------------- */

/* Chunks {len, next, slotinfo[len]} of entries {gen, map}, and a cursor
 * on the next entry not yet seen. */
static struct {
    size_t len_off, next_off, slots_off, slot_size, map_off;
    size_t tls_offset_off;          /* link_map's l_tls_offset */
    const char *chunk;              /* NULL: the list is unknown */
    size_t index;                   /* the cursor: chunk->slotinfo[index] */
    size_t base;                    /* module id of chunk->slotinfo[0] */
} mods;

/* A word that stays NULL until something is loaded: while nothing is
 * known of the list, this one. */
static const void *const nothing = NULL;
const void *const *green__tls_mods_watch = &nothing;

/* The map of the entry under the cursor, moving it to the next chunk at
 * the end of one; NULL when nothing was loaded there yet. Points
 * green__tls_mods_watch at the word that changes when something is: the
 * entry's map, or the last chunk's link to a next one. */
static const char *mods_peek(void)
{
    for (;;) {
        const size_t len = *(const size_t *)(mods.chunk + mods.len_off);
        if (mods.index < len) {
            const char *const *map = (const char *const *)(
                mods.chunk + mods.slots_off + mods.index * mods.slot_size
                + mods.map_off);
            green__tls_mods_watch = (const void *const *)map;
            return *map;
        }
        const char *const *next = (const char *const *)(mods.chunk
                                                        + mods.next_off);
        if (*next == NULL) {
            green__tls_mods_watch = (const void *const *)next;
            return NULL;
        }
        mods.base += len;
        mods.chunk = *next;
        mods.index = 0;
    }
}

void green__tls_mods_init(void)
{
    const char *rtld = dlsym(RTLD_DEFAULT, "_rtld_global");
    const size_t head_off = green__tls_db_offset(
        "_thread_db_rtld_global__dl_tls_dtv_slotinfo_list");
    const uint32_t *slot_size = dlsym(RTLD_DEFAULT,
                                      "_thread_db_sizeof_dtv_slotinfo");
    mods.len_off = green__tls_db_offset("_thread_db_dtv_slotinfo_list_len");
    mods.next_off = green__tls_db_offset(
        "_thread_db_dtv_slotinfo_list_next");
    mods.slots_off = green__tls_db_offset(
        "_thread_db_dtv_slotinfo_list_slotinfo");
    mods.map_off = green__tls_db_offset("_thread_db_dtv_slotinfo_map");
    mods.tls_offset_off = green__tls_db_offset(
        "_thread_db_link_map_l_tls_offset");
    if (rtld == NULL || head_off == 0 || slot_size == NULL
        || mods.next_off == 0 || mods.slots_off == 0 || mods.map_off == 0
        || mods.tls_offset_off == 0) {
        return;
    }
    mods.slot_size = *slot_size;
    mods.chunk = *(const char *const *)(rtld + head_off);
    mods.index = 1;                 /* module ids start at 1 */
    mods.base = 0;
    if (mods.chunk == NULL) {
        return;
    }
    /* Past the last module loaded, gaps (modules unloaded) included. */
    const char *chunk = mods.chunk;
    size_t base = 0;
    for (;;) {
        const size_t len = *(const size_t *)(chunk + mods.len_off);
        for (size_t i = 0; i < len; i++) {
            if (*(const char *const *)(chunk + mods.slots_off
                                       + i * mods.slot_size + mods.map_off)
                != NULL) {
                mods.chunk = chunk;
                mods.base = base;
                mods.index = i + 1;
            }
        }
        const char *next = *(const char *const *)(chunk + mods.next_off);
        if (next == NULL) {
            break;
        }
        base += len;
        chunk = next;
    }
    mods_peek();                    /* sets the watch */
}

size_t green__tls_mods_count(void)
{
    return mods.chunk != NULL ? mods.base + mods.index - 1 : 0;
}

static int find_image(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    struct green__tls_image *im = data;
    if (info->dlpi_tls_modid != im->modid) {
        return 0;
    }
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_TLS && ph->p_filesz <= ph->p_memsz) {
            im->data = (const unsigned char *)(info->dlpi_addr
                                               + ph->p_vaddr);
            im->filesz = ph->p_filesz;
            im->memsz = ph->p_memsz;
        }
    }
    return 1;
}

bool green__tls_mods_next(struct green__tls_image *im)
{
    if (*green__tls_mods_watch == NULL) {
        return false;
    }
    for (const char *map; (map = mods_peek()) != NULL;) {
        const ptrdiff_t off = *(const ptrdiff_t *)(map
                                                   + mods.tls_offset_off);
        *im = (struct green__tls_image){ .modid = mods.base + mods.index };
        mods.index++;
        if (off <= 0) {
            continue;               /* dynamic: glibc makes it per thread */
        }
        im->off = (uintptr_t)off;
        dl_iterate_phdr(find_image, im);
        if (im->data != NULL) {
            return true;
        }
    }
    return false;
}
