/* SPDX-License-Identifier: MIT */
/* The calls that close or replace the program's fd numbers: close, dup2,
 * dup3, close_range, closefrom, and the stdio and dirent calls whose fds
 * glibc closes out of the wrappers' sight (fclose, freopen, closedir,
 * fcloseall; and pclose through green__stream_closing, wrappers/shell.c).
 * None of them ever parks, but for fclose, freopen and pclose, which
 * first wait, as glibc's wait for the FILE lock, until a stdio read of
 * another green thread on that FILE has ended (green__stdio_wait_idle,
 * wrappers/stdio-read.c). Each also tells the fd cache (hub/fdtable.c).
 *
 * Before the real call, every green thread waiting on a number that goes
 * away is moved to a descriptor kept for the same open file description
 * (hub/fdtable.c explains why: a blocked call goes on with the description
 * it started on, as in the kernel). An fd nobody waits on costs a table
 * lookup. The runtime's own and kept descriptors are not the program's:
 * closing one gives EBADF, close_range and closefrom step around them, and
 * dup2/dup3 onto one fail with EBUSY, an error Linux gives for dup2 racing
 * an open, rather than break the runtime. epoll_create and epoll_create1
 * are here to learn which epoll fd is libev's.
 */
#include "config.h"

#include <dirent.h>
#include <linux/close_range.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "wrappers/stdio-read.h"
#include "wrappers/wrap.h"

/* True when the runtime must look at `fd` before it is closed: the caller
 * is the program (not the hub, where libev closes its own fds, not another
 * kernel thread) and someone waits on the fd or it is private. */
static bool must_look(int fd)
{
    return green__on_green_kthread() && green__self() != NULL
        && green__fd_busy(fd);
}

GREEN_WRAP int close(int fd)
{
    green__ensure_init();
    if (__builtin_expect(green__fd_closing(fd) < 0, 0)) {
        errno = EBADF;
        return -1;
    }
    return GREEN_REAL_FN(close)(fd);
}

/* dup2/dup3 onto `newfd`: 0 to go on with the real call, or -errno. */
static int before_replace(int oldfd, int newfd)
{
    if (green__fd_private(oldfd)) {
        return -EBADF;
    }
    if (oldfd == newfd || fcntl(oldfd, F_GETFD) < 0) {
        return 0;               /* newfd stays: the real call decides */
    }
    return green__fd_closing(newfd) < 0 ? -EBUSY : 0;
}

GREEN_WRAP int dup2(int oldfd, int newfd)
{
    green__ensure_init();
    green__fd_forget(oldfd);
    green__fd_forget(newfd);
    if (must_look(newfd) || must_look(oldfd)) {
        const int entry_errno = errno;
        const int r = before_replace(oldfd, newfd);
        if (r < 0) {
            return (int)green__wrap_ret(r, entry_errno);
        }
        errno = entry_errno;
    }
    return GREEN_REAL_FN(dup2)(oldfd, newfd);
}

GREEN_WRAP int dup3(int oldfd, int newfd, int flags)
{
    green__ensure_init();
    green__fd_forget(oldfd);
    green__fd_forget(newfd);
    if (oldfd != newfd && (must_look(newfd) || must_look(oldfd))) {
        const int entry_errno = errno;
        const int r = before_replace(oldfd, newfd);
        if (r < 0) {
            return (int)green__wrap_ret(r, entry_errno);
        }
        errno = entry_errno;
    }
    return GREEN_REAL_FN(dup3)(oldfd, newfd, flags);
}

/* close_range(lo, hi, flags) on the program's fds only: the real call on
 * each stretch between private fds. Returns 0 or -errno. */
static int close_pieces(unsigned lo, unsigned hi, unsigned flags)
{
    green__fd_release_range(lo, hi);
    for (;;) {
        const int p = green__fd_next_private(lo, hi);
        const unsigned end = p < 0 ? hi : (unsigned)p - 1;
        if (p < 0 || (unsigned)p > lo) {
            if (GREEN_REAL_FN(close_range)(lo, end, flags) != 0) {
                return green__neg_errno();
            }
            flags &= ~CLOSE_RANGE_UNSHARE;      /* unshared once is enough */
        }
        if (p < 0 || (unsigned)p >= hi) {
            return 0;
        }
        lo = (unsigned)p + 1;
    }
}

GREEN_WRAP int close_range(unsigned int lo, unsigned int hi, int flags)
{
    green__ensure_init();
    green__fd_forget_all();
    if (!green__on_green_kthread() || green__self() == NULL
        || lo > hi || (flags & CLOSE_RANGE_CLOEXEC)
        || (flags & ~CLOSE_RANGE_UNSHARE)) {
        /* Nothing closed (or only the kernel's EINVAL): no one to move. */
        return GREEN_REAL_FN(close_range)(lo, hi, flags);
    }
    const int entry_errno = errno;
    return (int)green__wrap_ret(close_pieces(lo, hi, (unsigned)flags),
                                entry_errno);
}

GREEN_WRAP void closefrom(int lo)
{
    green__ensure_init();
    green__fd_forget_all();
    if (!green__on_green_kthread() || green__self() == NULL
        || lo < 0) {
        GREEN_REAL_FN(closefrom)(lo);
        return;
    }
    const int entry_errno = errno;
    if (close_pieces((unsigned)lo, ~0U, 0) != 0) {
        /* No close_range(2) (Linux before 5.9): one close per fd that is
         * the program's, as glibc's fallback does. */
        struct rlimit rl;
        const int last = getrlimit(RLIMIT_NOFILE, &rl) == 0
            && rl.rlim_cur < 65536 ? (int)rl.rlim_cur : 65536;
        for (int fd = lo; fd < last; fd++) {
            if (!green__fd_private(fd)) {
                green__fd_release(fd);
                GREEN_REAL_FN(close)(fd);
            }
        }
    }
    errno = entry_errno;
}

static int stream_fd(FILE *stream)
{
    const int saved = errno;
    const int fd = stream != NULL ? fileno(stream) : -1;
    errno = saved;
    return fd;
}

void green__stream_closing(FILE *stream)
{
    green__stdio_wait_idle(stream);
    green__fd_closing(stream_fd(stream));  /* glibc closes it */
}

GREEN_WRAP int fclose(FILE *stream)
{
    green__ensure_init();
    green__stream_closing(stream);
    return GREEN_REAL_FN(fclose)(stream);
}

GREEN_WRAP FILE *freopen(const char *path, const char *mode, FILE *stream)
{
    green__ensure_init();
    green__stream_closing(stream);
    return GREEN_REAL_FN(freopen)(path, mode, stream);
}

GREEN_WRAP FILE *freopen64(const char *path, const char *mode, FILE *stream)
{
    green__ensure_init();
    green__stream_closing(stream);
    return GREEN_REAL_FN(freopen64)(path, mode, stream);
}

GREEN_WRAP int closedir(DIR *dir)
{
    green__ensure_init();
    const int saved = errno;
    const int fd = dirfd(dir);      /* glibc's closedir needs dir too */
    errno = saved;
    green__fd_closing(fd);
    return GREEN_REAL_FN(closedir)(dir);
}

/* Which fds are streams is glibc's secret: move the waiters of every fd.
 * Moving a waiter whose fd stays open changes nothing it can see. */
GREEN_WRAP int fcloseall(void)
{
    green__ensure_init();
    green__fd_forget_all();
    if (green__on_green_kthread() && green__self() != NULL) {
        green__fd_release_range(0, ~0U);
    }
    return GREEN_REAL_FN(fcloseall)();
}

GREEN_WRAP int epoll_create(int size)
{
    green__ensure_init();
    const int fd = GREEN_REAL_FN(epoll_create)(size);
    if (fd >= 0 && green__on_green_kthread()) {
        green__loop_note_fd(fd);
    }
    return fd;
}

GREEN_WRAP int epoll_create1(int flags)
{
    green__ensure_init();
    const int fd = GREEN_REAL_FN(epoll_create1)(flags);
    if (fd >= 0 && green__on_green_kthread()) {
        green__loop_note_fd(fd);
    }
    return fd;
}
