/* SPDX-License-Identifier: MIT */
/* The helpers of wrappers/wrap.h too large to inline: reading and writing
 * the program's memory without faulting, copying its iovec arrays, and
 * the wait of the synchronisation primitives the runtime handles from the
 * start.
 */
#include "config.h"

#include <linux/futex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "wrappers/wrap.h"

/* Copy `len` bytes between libgreen's `ours` and the program's `theirs`:
 * from it (`to_program` false) or to it. process_vm_readv and
 * process_vm_writev on our own pid fail with EFAULT where a plain access
 * of a bad pointer would crash the program. Returns 0 or -EFAULT; errno
 * is left as it was. */
static int copy_program(void *ours, void *theirs, size_t len,
                        bool to_program)
{
    struct iovec local = { .iov_base = ours, .iov_len = len };
    struct iovec remote = { .iov_base = theirs, .iov_len = len };
    const int entry_errno = errno;
    const ssize_t r = to_program
        ? process_vm_writev(getpid(), &local, 1, &remote, 1, 0)
        : process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
    const int err = errno;
    errno = entry_errno;
    if (r == (ssize_t)len) {
        return 0;
    }
    if (r < 0 && (err == ENOSYS || err == EPERM)) {
        /* Filtered (seccomp): trust the pointer. */
        memcpy(to_program ? theirs : ours, to_program ? ours : theirs, len);
        return 0;
    }
    return -EFAULT;
}

int green__peek(void *dst, const void *src, size_t len)
{
    return copy_program(dst, (void *)src, len, false);
}

int green__poke(void *dst, const void *src, size_t len)
{
    return copy_program((void *)src, dst, len, true);
}

int green__iov_copy(const struct iovec *src, size_t cnt, bool trusted,
                    struct iovec *one, struct iovec **out)
{
    struct iovec *dst = one;
    if (cnt > 1 && (dst = malloc(cnt * sizeof *dst)) == NULL) {
        return -ENOMEM;
    }
    if (trusted) {
        memcpy(dst, src, cnt * sizeof *dst);
    } else if (cnt > 0 && green__peek(dst, src, cnt * sizeof *dst) != 0) {
        if (dst != one) {
            free(dst);
        }
        return -EFAULT;
    }
    *out = dst;
    return 0;
}

int green__sync_wait(const void *key, int64_t deadline)
{
    if (green__self() != NULL) {
        return green__lot_wait(key, deadline);
    }
    const int entry_errno = errno;
    int r;
    if (deadline < 0) {
        GREEN_REAL_FN(pause)();
        r = -EINTR;
    } else {
        const struct timespec until = green__ns_timespec(deadline);
        r = -GREEN_REAL_FN(clock_nanosleep)(CLOCK_MONOTONIC, TIMER_ABSTIME,
                                            &until, NULL);
        if (r == 0) {
            r = -ETIMEDOUT;
        }
    }
    errno = entry_errno;
    return r;
}

int green__sync_wait_word(const uint32_t *word, uint32_t val,
                          int64_t deadline)
{
    if (green__self() != NULL) {
        return green__lot_wait(word, deadline);
    }
    const int entry_errno = errno;
    const struct timespec until = green__ns_timespec(deadline < 0 ? 0
                                                     : deadline);
    /* FUTEX_WAIT_BITSET: an absolute CLOCK_MONOTONIC deadline. */
    const long r = GREEN_REAL_FN(syscall)(SYS_futex, word,
                                          FUTEX_WAIT_BITSET_PRIVATE, val,
                                          deadline < 0 ? NULL : &until,
                                          NULL, FUTEX_BITSET_MATCH_ANY);
    const int err = errno;
    errno = entry_errno;
    if (r == 0 || err == EAGAIN) {
        return 0;
    }
    return err == ETIMEDOUT || err == EINTR ? -err : 0;
}
