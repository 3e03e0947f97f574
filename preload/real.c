/* SPDX-License-Identifier: MIT */
/* Fills green__real with the next definition of each wrapped function after
 * libgreen in the lookup order (normally glibc's), via dlsym(RTLD_NEXT).
 */
#include "config.h"

#include "preload/real.h"

#include <dlfcn.h>
#include <string.h>

#include "preload/preload.h"

struct green__real_table green__real;

static void *lookup(const char *name, void *ours)
{
    void *fn = dlsym(RTLD_NEXT, name);
    if (fn == NULL) {
        green__log("cannot find the real %s: %s\n", name, dlerror());
    }
    GREEN_ASSERT(fn != NULL, "a wrapped libc function has no definition");
    GREEN_ASSERT(fn != ours, "a wrapped libc function resolves to libgreen");
    return fn;
}

void green__real_load(void)
{
#define GREEN_REAL(ret, name, params)                                      \
    green__real.name = (ret (*) params)lookup(#name, (void *)&name);
#include "preload/real-list.h"
#undef GREEN_REAL
}
