/* SPDX-License-Identifier: MIT */
/* What every wrapper shares: the export attribute, the pass-through test,
 * errno helpers (internal code returns -errno; only wrappers set errno, on
 * the way out), copies of the program's memory and iovec arrays, and the
 * hooks' state kept in wrappers/. How a blocking call waits is
 * wrappers/call.h's; time arithmetic is hub/time.h's.
 */
#ifndef GREEN_WRAPPERS_WRAP_H
#define GREEN_WRAPPERS_WRAP_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>

#include "hub/hub.h"
#include "hub/time.h"
#include "preload/preload.h"
#include "preload/real.h"
#include "wrappers/call.h"

#define GREEN_WRAP __attribute__((visibility("default")))
#define GREEN_EXPORT GREEN_WRAP

/* The wrapper's call is over: if the program closed its fd while it
 * waited, let go of the descriptor kept for it (hub/fdtable.c). Every
 * wrapper that parks on an fd ends with this (green__wrap_ret does it). */
static inline void green__fd_call_end(void)
{
    green__fd_moved_end();
}

/* Turn an internal result into the wrapper's: r < 0 sets errno = -r and
 * gives -1; success restores the errno the program had on entry (a retry
 * that first failed with EAGAIN must not leak EAGAIN). EAGAIN for the
 * program's own non-blocking fd counts towards a yield, as a loop of
 * them is a poll (green__sched_spun). */
static inline long green__wrap_ret(long r, int entry_errno)
{
    green__fd_call_end();
    if (r < 0) {
        if (r == -EAGAIN) {
            green__sched_spun();
        }
        errno = (int)-r;
        return -1;
    }
    errno = entry_errno;
    return r;
}

/* A call the program made non-waiting (MSG_DONTWAIT) returned `r`, as
 * the real call left it: EAGAIN counts towards a yield, as above. */
static inline long green__nowait_ret(long r)
{
    if (r < 0 && errno == EAGAIN) {
        green__sched_spun();
    }
    return r;
}

/* glibc is about to close `stream`'s fd itself (fclose, freopen, pclose):
 * wait until no other green thread is inside a stdio read of it, move the
 * waiters off its fd and forget what is known of it (wrappers/fd.c). */
void green__stream_closing(FILE *stream);

/* -errno of the last failed real call. */
static inline long green__neg_errno(void)
{
    return -(long)errno;
}


/* Wait on lot `key` for a synchronisation primitive the runtime handles
 * from the start (rwlock, semaphore, barrier, once, stdio locks): parks
 * while the runtime runs. Before it starts only this thread exists, so
 * only a signal handler can change what the caller waits for: sleep until
 * the deadline (-1: none) or until a handler has run. Returns 0 (woken),
 * -EINTR (before the runtime: a handler ran; look again) or -ETIMEDOUT.
 * Green kernel thread. */
int green__sync_wait(const void *key, int64_t deadline);

/* green__sync_wait for a primitive whose state is the 32-bit `word` (a
 * semaphore's value), waiting while it holds `val`. Before the runtime
 * starts this is the kernel's futex wait, as glibc's own, so that a
 * handler changing the word cannot be missed and the kernel decides
 * whether a handler restarts the wait (futex(2), signal(7)). Returns 0
 * (woken, or the word changed), -EINTR or -ETIMEDOUT. Green kernel
 * thread. */
int green__sync_wait_word(const uint32_t *word, uint32_t val,
                          int64_t deadline);

/* The CPU clock id of the thread with id `id` (wrappers/clock.c): for a
 * kernel tid, glibc's (pthread_getcpuclockid(3)); for a green id, one in
 * the same encoding that no kernel tid has. Any. */
clockid_t green__cpu_clock_of(int id);

/* The live green thread whose CPU clock `clock` is
 * (CLOCK_THREAD_CPUTIME_ID: the calling green thread), or NULL: a clock
 * for glibc. Green kernel thread. */
struct green__thread *green__cpu_clock_thread(clockid_t clock);

/* Copy `len` bytes of the program's memory at `src` without faulting.
 * Returns 0 or -EFAULT. Any. */
int green__peek(void *dst, const void *src, size_t len);

/* Copy `len` bytes to the program's memory at `dst` without faulting.
 * Returns 0 or -EFAULT. Any. */
int green__poke(void *dst, const void *src, size_t len);

/* Skip `n` bytes already transferred from the iovec array *iov of *cnt
 * entries (a copy the caller owns). */
static inline void green__iov_advance(struct iovec **iov, size_t *cnt,
                                      size_t n)
{
    while (n > 0 && n >= (*iov)[0].iov_len) {
        n -= (*iov)[0].iov_len;
        (*iov)++;
        (*cnt)--;
    }
    if (n > 0) {
        (*iov)[0].iov_base = (char *)(*iov)[0].iov_base + n;
        (*iov)[0].iov_len -= n;
    }
}

static inline size_t green__iov_total(const struct iovec *iov, size_t cnt)
{
    size_t total = 0;
    for (size_t i = 0; i < cnt; i++) {
        total += iov[i].iov_len;
    }
    return total;
}

/* Copy an iovec array into *one (a single entry) or a new heap array, and
 * point *out at the copy (free it when it is not `one`). The program's own
 * array (not `trusted`) is read without faulting. Returns 0, -EFAULT for a
 * bad pointer (the real call then reports it) or -ENOMEM. Any. */
int green__iov_copy(const struct iovec *src, size_t cnt, bool trusted,
                    struct iovec *one, struct iovec **out);

/* Send all of `msg` on socket `fd` as a blocking sendmsg would, parking
 * while the socket is full (wrappers/io.c). `trusted`: msg and its iovec
 * array are libgreen's own (send, sendto, write), so they need no
 * fault-safe copy. Returns bytes sent or -errno (-ENOTSOCK when `fd` is not
 * a socket). Green thread, may park. */
struct msghdr;
ssize_t green__sendmsg_all(int fd, const struct msghdr *msg, int flags,
                           bool trusted);

/* recvfrom and recvmsg as a blocking caller sees them: MSG_DONTWAIT,
 * park, retry (wrappers/io.c). Returns bytes or -errno (-ENOTSOCK:
 * not a socket). Green thread, may park. */
ssize_t green__recvfrom(int fd, void *buf, size_t len, int flags,
                        struct sockaddr *addr, socklen_t *alen);
ssize_t green__recvmsg(int fd, struct msghdr *msg, int flags);

/* readv and writev as a blocking caller sees them, on any fd: park while
 * the call would block, then return bytes or -errno (wrappers/io.c). For
 * 0 < iovcnt <= IOV_MAX. Green thread, may park. */
ssize_t green__readv(int fd, const struct iovec *iov, int iovcnt);
ssize_t green__writev(int fd, const struct iovec *iov, int iovcnt);

/* ---- per-thread state kept in wrappers/, run by the runtime's hooks
 * (struct green__hooks, registered by wrappers/thread.c) -------------- */

/* Scheduling values per thread id (wrappers/tid.c): new thread `id`
 * starts with those of thread `creator`, as a new kernel thread does;
 * in a fork's child, thread `parent_id` (now `id`) keeps its own and no
 * other thread has any. Green kernel thread. */
void green__tid_inherit(int id, int creator);
void green__tid_fork(int parent_id, int id);

/* syscall(number, a...) for the numbers that take or give a thread id
 * (gettid, tgkill, tkill, the sched_* and priority calls): true, with
 * the result in *ret and errno set as syscall() sets it, when the call
 * is the runtime's to answer; false for the kernel to answer (a tid that
 * is no green thread's). The runtime's own system calls never come here
 * (green__sys). Green thread (wrappers/syscall.c). */
bool green__tid_syscall(long number, const long a[6], long *ret);

/* In a fork's child: the FILE locks other threads held or waited for are
 * free, as glibc's fork resets every FILE lock in the child; the forking
 * thread keeps its own, so its funlockfile still matches
 * (wrappers/stdio-lock.c). Green kernel thread. */
void green__stdio_lock_fork(const struct green__thread *self);

/* Run the calling thread's C++ thread_local destructors, then its key
 * destructors (wrappers/keys.c), as glibc does when a thread ends. Green
 * thread, on its own stack. */
void green__thread_destructors(void);

#endif
