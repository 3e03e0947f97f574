/* SPDX-License-Identifier: MIT */
/* What the runtime knows about an fd without asking the kernel: for the
 * sockets and pipes the program made in this process (socket, socketpair,
 * accept, accept4, pipe, pipe2), their kind, whether O_NONBLOCK is set and
 * whether SO_RCVTIMEO or SO_SNDTIMEO is. A blocking call that must wait
 * then parks at once, instead of asking fcntl(F_GETFL), getsockopt and
 * poll first (three to four system calls per wait).
 *
 * The knowledge is only as good as the rule that nothing changes an fd
 * unseen. Within the process, every libc call that could is wrapped and
 * updates or forgets the entry: fcntl(F_SETFL) and ioctl(FIONBIO) set the
 * flag, setsockopt the timeouts, close, dup2, dup3 and the closes of
 * streams forget the number, and a descriptor duplicated by dup or
 * F_DUPFD makes its source unknown (the flags are then reachable through
 * another number). Another process can only change them if it shares the
 * open file description, so all knowledge is dropped at once (a
 * generation count) whenever that can begin: fork, posix_spawn, system,
 * popen, a descriptor passed with SCM_RIGHTS, and any raw syscall() the
 * wrappers do not understand that names an fd. What cannot be seen is
 * another process taking the fd with pidfd_getfd(2), which needs ptrace
 * rights over this one.
 *
 * The green kernel thread owns the table. Another kernel thread that does
 * any of the above drops everything (an atomic increment); it never
 * touches the table.
 */
#include "config.h"

#include <stdlib.h>

#include "hub/internal.h"

struct entry {
    uint32_t gen;                   /* valid while equal to cache.gen */
    uint8_t bits;                   /* GREEN__FDC_* */
};

static struct {
    struct entry *e;                /* indexed by fd number */
    unsigned len;
    uint32_t gen;                   /* never 0: 0 marks an empty entry */
} cache = { .gen = 1 };

void green__fdcache_forget_all(void)
{
    __atomic_fetch_add(&cache.gen, 1, __ATOMIC_RELAXED);
    if (__atomic_load_n(&cache.gen, __ATOMIC_RELAXED) == 0) {
        __atomic_fetch_add(&cache.gen, 1, __ATOMIC_RELAXED);
    }
}

void green__fdcache_made(int fd, unsigned bits)
{
    if (fd < 0 || !green__on_green_kthread()) {
        return;
    }
    if (cache.e == NULL) {
        /* fork, daemon, forkpty: before the child exists. */
        pthread_atfork(green__fdcache_forget_all, NULL, NULL);
    }
    if ((unsigned)fd >= cache.len) {
        unsigned len = cache.len ? cache.len : 256;
        while (len <= (unsigned)fd) {
            len *= 2;
        }
        struct entry *e = realloc(cache.e, len * sizeof *e);
        if (e == NULL) {
            return;                 /* not known: the probes answer */
        }
        for (unsigned i = cache.len; i < len; i++) {
            e[i] = (struct entry){ 0, 0 };
        }
        cache.e = e;
        cache.len = len;
    }
    cache.e[fd] = (struct entry){ cache.gen, (uint8_t)bits };
}

unsigned green__fdcache_get(int fd)
{
    if (fd < 0 || (unsigned)fd >= cache.len
        || cache.e[fd].gen != __atomic_load_n(&cache.gen, __ATOMIC_RELAXED)
        || !green__on_green_kthread()) {
        return 0;
    }
    return cache.e[fd].bits;
}

void green__fdcache_forget(int fd)
{
    if (!green__on_green_kthread()) {
        green__fdcache_forget_all();
    } else if (fd >= 0 && (unsigned)fd < cache.len) {
        cache.e[fd].gen = 0;
    }
}

void green__fdcache_update(int fd, unsigned clear, unsigned set)
{
    const unsigned bits = green__fdcache_get(fd);
    if (bits != 0) {
        cache.e[fd].bits = (uint8_t)((bits & ~clear) | set);
    } else if (!green__on_green_kthread()) {
        green__fdcache_forget_all();
    }
}
