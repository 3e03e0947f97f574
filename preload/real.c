/* SPDX-License-Identifier: MIT */
/* Finds the next definition of each wrapped function after libgreen in the
 * lookup order (normally glibc's), via dlsym(RTLD_NEXT), the first time
 * GREEN_REAL_FN asks for it, and keeps it in green__real.
 */
#include "config.h"

#include "preload/real.h"

#include <dlfcn.h>
#include <string.h>

#include "preload/preload.h"

struct green__real_table green__real;

/* True when `fn` lies in libgreen itself. */
static bool ours(void *fn)
{
    Dl_info self, found;
    return dladdr((void *)ours, &self) != 0 && dladdr(fn, &found) != 0
        && self.dli_fbase == found.dli_fbase;
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
