/* SPDX-License-Identifier: MIT */
/* pthread_spin_lock: spinning would keep the only kernel thread from running
 * the holder, so a green thread that finds the lock taken yields to the
 * others and tries again. The lock word is glibc's business (its encoding
 * differs between architectures): taking it is glibc's trylock, which also
 * keeps kernel threads using glibc's spinlock on the same word correct.
 * With no other green thread to yield to, glibc spins, as natively.
 * Trylock and unlock never wait: glibc's serve.
 */
#include "config.h"

#include "wrappers/wrap.h"

GREEN_WRAP int pthread_spin_lock(pthread_spinlock_t *lock)
{
    green__ensure_init();
    if (!green__may_park()) {
        return GREEN_REAL_FN(pthread_spin_lock)(lock);
    }
    int r;
    while ((r = pthread_spin_trylock(lock)) == EBUSY) {
        green__sched_yield();
    }
    return r;
}
