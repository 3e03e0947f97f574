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
 * generation count) whenever that can begin: fork (hub/fork.c's prepare
 * handler, which _Fork and a raw fork call too), posix_spawn, system,
 * popen, a descriptor passed with SCM_RIGHTS, and any raw syscall() the
 * wrappers do not understand that names an fd. What cannot be seen is
 * another process taking the fd with pidfd_getfd(2), which needs ptrace
 * rights over this one.
 *
 * The green kernel thread writes the table; another kernel thread (a
 * resolver helper, a thread libgreen did not make) that closes or changes
 * an fd only clears that fd's entry, with an atomic store. The table is
 * made of chunks that never move once allocated, so that store is safe at
 * any moment.
 */
#include "config.h"

#include <stdlib.h>

#include "hub/internal.h"

#define CHUNK 4096                  /* entries per chunk */
#define CHUNKS 256                  /* fds up to 1,048,576 (nr_open) */

struct entry {
    uint32_t gen;                   /* valid while equal to cache.gen */
    uint8_t bits;                   /* GREEN__FDC_* */
};

static struct {
    struct entry *chunk[CHUNKS];    /* NULL until an fd there is known */
    uint32_t gen;                   /* never 0: 0 marks an empty entry */
} cache = { .gen = 1 };

/* The entry of `fd` if its chunk exists, else NULL. Any kernel thread. */
static struct entry *entry_of(int fd)
{
    if (fd < 0 || fd >= CHUNK * CHUNKS) {
        return NULL;
    }
    struct entry *c = __atomic_load_n(&cache.chunk[fd / CHUNK],
                                      __ATOMIC_ACQUIRE);
    return c != NULL ? &c[fd % CHUNK] : NULL;
}

void green__fdcache_forget_all(void)
{
    if (__atomic_add_fetch(&cache.gen, 1, __ATOMIC_RELAXED) == 0) {
        __atomic_add_fetch(&cache.gen, 1, __ATOMIC_RELAXED);
    }
}

void green__fdcache_made(int fd, unsigned bits)
{
    if (fd < 0 || fd >= CHUNK * CHUNKS || !green__on_green_kthread()) {
        return;
    }
    struct entry *e = entry_of(fd);
    if (e == NULL) {
        struct entry *c = calloc(CHUNK, sizeof *c);
        if (c == NULL) {
            return;                 /* not known: the probes answer */
        }
        __atomic_store_n(&cache.chunk[fd / CHUNK], c, __ATOMIC_RELEASE);
        e = &c[fd % CHUNK];
    }
    e->bits = (uint8_t)bits;
    __atomic_store_n(&e->gen, __atomic_load_n(&cache.gen, __ATOMIC_RELAXED),
                     __ATOMIC_RELEASE);
}

unsigned green__fdcache_get(int fd)
{
    const struct entry *e = entry_of(fd);
    if (e == NULL || !green__on_green_kthread()
        || __atomic_load_n(&e->gen, __ATOMIC_ACQUIRE)
               != __atomic_load_n(&cache.gen, __ATOMIC_RELAXED)) {
        return 0;
    }
    return e->bits;
}

void green__fdcache_forget(int fd)
{
    struct entry *e = entry_of(fd);
    if (e != NULL) {
        __atomic_store_n(&e->gen, 0, __ATOMIC_RELEASE);
    }
}

void green__fdcache_update(int fd, unsigned clear, unsigned set)
{
    if (!green__on_green_kthread()) {
        green__fdcache_forget(fd);  /* bits are the green thread's to write */
        return;
    }
    if (green__fdcache_get(fd) != 0) {
        struct entry *e = entry_of(fd);
        e->bits = (uint8_t)((e->bits & ~clear) | set);
    }
}
