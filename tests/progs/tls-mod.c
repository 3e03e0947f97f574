/* SPDX-License-Identifier: MIT */
/* tls-mod: a shared library with thread-local variables, which
 * tests/progs/tls-dlopen.c dlopens.  tests/tests.am builds it three ways:
 * libtls-mod-gd.so (the default model for -fPIC, global-dynamic through
 * __tls_get_addr), libtls-mod-desc.so (-mtls-dialect=gnu2, TLS
 * descriptors) and libtls-mod-ie.so (-ftls-model=initial-exec: a static
 * TLS block, which dlopen must place in every existing thread).
 *
 * The accessors are functions of the library, so every access goes
 * through the library's own TLS code sequence.
 */
#include <stddef.h>

#ifndef TLS_MOD_BIG
#define TLS_MOD_BIG 4096
#endif

__thread int tls_mod_counter = 1000;
__thread long tls_mod_zero;
__thread unsigned char tls_mod_big[TLS_MOD_BIG];

int *tls_mod_counter_addr(void)
{
    return &tls_mod_counter;
}

long *tls_mod_zero_addr(void)
{
    return &tls_mod_zero;
}

unsigned char *tls_mod_big_addr(void)
{
    return tls_mod_big;
}

size_t tls_mod_big_size(void)
{
    return sizeof tls_mod_big;
}

/* Increment the calling thread's counter n times, one access each. */
int tls_mod_bump(int n)
{
    for (int i = 0; i < n; i++) {
        tls_mod_counter++;
        __asm__ volatile("" ::: "memory");
    }
    return tls_mod_counter;
}

int tls_mod_counter_value(void)
{
    return tls_mod_counter;
}
