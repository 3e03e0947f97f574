/* SPDX-License-Identifier: MIT */
/* Finds the next definition of each wrapped function after libgreen in the
 * lookup order (normally glibc's), via dlsym(RTLD_NEXT), the first time
 * GREEN_REAL_FN asks for it, and keeps it in green__real.
 */
#include "config.h"

#include "preload/real.h"

#include <dlfcn.h>
#include <link.h>
#include <stdint.h>
#include <string.h>

#include "preload/preload.h"

struct green__real_table green__real;

/* libgreen's own ELF header, which the linker defines in every object. */
extern const ElfW(Ehdr) __ehdr_start __attribute__((visibility("hidden")));

/* True when `fn` lies in libgreen itself: within the segments its program
 * headers describe (read once; a race computes the same values). */
static bool ours(const void *fn)
{
    static uintptr_t lo, hi;
    if (hi == 0) {
        const ElfW(Ehdr) *eh = &__ehdr_start;
        const ElfW(Phdr) *ph = (const void *)((const char *)eh + eh->e_phoff);
        uintptr_t first = UINTPTR_MAX, end = 0;
        for (unsigned i = 0; i < eh->e_phnum; i++) {
            if (ph[i].p_type == PT_LOAD) {
                first = ph[i].p_vaddr < first ? ph[i].p_vaddr : first;
                end = ph[i].p_vaddr + ph[i].p_memsz > end
                    ? ph[i].p_vaddr + ph[i].p_memsz : end;
            }
        }
        lo = (uintptr_t)eh;
        hi = lo + (end - first);
    }
    return (uintptr_t)fn >= lo && (uintptr_t)fn < hi;
}

static void *lookup(const char *name)
{
    void *fn = dlsym(RTLD_NEXT, name);
    if (fn == NULL) {
        green__log("cannot find the real %s: %s\n", name, dlerror());
    }
    GREEN_ASSERT(fn != NULL, "a wrapped libc function has no definition");
    GREEN_ASSERT(!ours(fn), "a wrapped libc function resolves to libgreen");
    return fn;
}

#define GREEN_REAL(ret, name, params)                                      \
    ret (*green__real_resolve_##name(void)) params                         \
    {                                                                      \
        ret (*fn) params = (ret (*) params)lookup(#name);                  \
        __atomic_store_n(&green__real.name, fn, __ATOMIC_RELAXED);         \
        return fn;                                                         \
    }
#include "preload/real-list.h"
#undef GREEN_REAL
