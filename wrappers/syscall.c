/* SPDX-License-Identifier: MIT */
/* syscall(): libc's generic system call entry, which Rust's standard library
 * and libstdc++ use for futexes (their mutexes, condition variables, once,
 * thread parking, std::future) and some programs use for plain I/O.
 *
 * Futexes: FUTEX_WAIT, FUTEX_WAIT_BITSET, FUTEX_WAKE and FUTEX_WAKE_BITSET
 * become waits and wakes in the parking lot, keyed by the futex address.
 * A wake also reaches waiters in kernel threads the runtime did not make,
 * through the real system call, when the lot had fewer than asked for. A
 * shared (not FUTEX_PRIVATE_FLAG) futex may be woken by another process,
 * which cannot reach the lot: its waits return every 10 ms, a spurious
 * wake-up every futex user must (and does) handle by looking again.
 *
 * read, write, poll, nanosleep, clock_nanosleep, accept4 and connect by
 * number take the wrappers' path; gettid, tgkill, tkill and the sched_* and
 * priority calls, which take or give a thread id, are wrappers/tid.c's.
 * Every other number, and everything before the runtime starts, goes
 * straight to the kernel.
 */
#include "config.h"

#include <limits.h>
#include <linux/futex.h>
#include <stdarg.h>
#include <sys/syscall.h>

#include "wrappers/wrap.h"

#define SHARED_POLL_NS (10 * GREEN__NS_PER_MS)
#define NOT_OURS (1L << 62)         /* "let the kernel answer" */

/* A futex wait: returns 0 (woken, or spuriously), or -errno. */
static long futex_wait(uint32_t *uaddr, int op, uint32_t val,
                       const struct timespec *timeout, uint32_t bits)
{
    const int cmd = op & FUTEX_CMD_MASK;
    if (cmd == FUTEX_WAIT_BITSET && bits == 0) {
        return -EINVAL;
    }
    int64_t deadline = -1;
    if (timeout != NULL) {
        struct timespec ts;
        if (green__peek(&ts, timeout, sizeof ts) != 0) {
            return -EFAULT;
        }
        if (!green__timeout_valid(&ts)) {
            return -EINVAL;
        }
        if (cmd == FUTEX_WAIT) {
            deadline = green__deadline_after(&ts);
        } else {
            const clockid_t clock = (op & FUTEX_CLOCK_REALTIME)
                ? CLOCK_REALTIME : CLOCK_MONOTONIC;
            deadline = green__deadline_abs(clock, &ts);
        }
    }
    uint32_t now;
    if (green__peek(&now, uaddr, sizeof now) != 0) {
        return -EFAULT;
    }
    if (now != val) {
        return -EAGAIN;
    }
    if (!(op & FUTEX_PRIVATE_FLAG)) {
        const int64_t poll = green__deadline_in(SHARED_POLL_NS);
        if (deadline < 0 || deadline > poll) {
            green__lot_wait_bits(uaddr, bits, poll);
            return 0;
        }
    }
    /* futex(2): an interrupted wait restarts only without a timeout and
     * with SA_RESTART. */
    const int r = green__lot_wait_intr(uaddr, bits, deadline);
    if (r == -EINTR) {
        return deadline < 0 && green__signal_restarts() ? 0 : -EINTR;
    }
    return r < 0 ? -ETIMEDOUT : 0;
}

/* A futex wake: returns how many waiters were woken, or -errno. */
static long futex_wake(uint32_t *uaddr, int op, int n, uint32_t bits)
{
    if ((op & FUTEX_CMD_MASK) == FUTEX_WAKE_BITSET && bits == 0) {
        return -EINVAL;
    }
    const unsigned want = n < 0 ? 0 : (unsigned)n;
    long woken = green__lot_wake_bits(uaddr, want, bits);
    if (woken < (long)want) {
        /* Waiters in other kernel threads or processes. */
        const long r = GREEN_REAL_FN(syscall)(SYS_futex, uaddr, op,
                                           (int)(want - woken), NULL, NULL,
                                           bits);
        if (r > 0) {
            woken += r;
        }
    }
    return woken;
}

static long futex(long a[6])
{
    uint32_t *uaddr = (uint32_t *)a[0];
    const int op = (int)a[1];
    if (a[0] % sizeof(uint32_t) != 0) {
        return -EINVAL;                 /* the kernel checks this first */
    }
    switch (op & FUTEX_CMD_MASK) {
    case FUTEX_WAIT:
        return futex_wait(uaddr, op, (uint32_t)a[2],
                          (const struct timespec *)a[3],
                          FUTEX_BITSET_MATCH_ANY);
    case FUTEX_WAIT_BITSET:
        return futex_wait(uaddr, op, (uint32_t)a[2],
                          (const struct timespec *)a[3], (uint32_t)a[5]);
    case FUTEX_WAKE:
        return futex_wake(uaddr, op, (int)a[2], FUTEX_BITSET_MATCH_ANY);
    case FUTEX_WAKE_BITSET:
        return futex_wake(uaddr, op, (int)a[2], (uint32_t)a[5]);
    default:
        return NOT_OURS;
    }
}

/* A raw fork system call. libgreen's own fork handlers run around it, as
 * around _Fork (hub/fork.c), so that the child gets a runtime of its own;
 * the program's atfork handlers do not, as natively. */
static long sys_fork(void)
{
    return GREEN_REAL_FN(syscall)(SYS_fork, 0, 0, 0, 0, 0, 0);
}

/* Blocking calls by number: the wrappers, which set errno themselves.
 * Returns NOT_OURS for a number that is not one of them. */
static long by_number(long number, long a[6])
{
    switch (number) {
    case SYS_fork:
        return green__fork_run(sys_fork);
    case SYS_read:
        return read((int)a[0], (void *)a[1], (size_t)a[2]);
    case SYS_write:
        return write((int)a[0], (const void *)a[1], (size_t)a[2]);
    case SYS_poll:
        return poll((struct pollfd *)a[0], (nfds_t)a[1], (int)a[2]);
    case SYS_nanosleep:
        return nanosleep((const struct timespec *)a[0],
                         (struct timespec *)a[1]);
    case SYS_clock_nanosleep: {
        const int r = clock_nanosleep((clockid_t)a[0], (int)a[1],
                                      (const struct timespec *)a[2],
                                      (struct timespec *)a[3]);
        return r == 0 ? 0 : (errno = r, -1);
    }
    case SYS_accept4:
        return accept4((int)a[0], (struct sockaddr *)a[1],
                       (socklen_t *)a[2], (int)a[3]);
    case SYS_connect:
        return connect((int)a[0], (const struct sockaddr *)a[1],
                       (socklen_t)a[2]);
    default:
        return NOT_OURS;
    }
}

/* System calls that can change what the fd cache knows (hub/fdtable.c)
 * unseen by the wrappers: after one, it forgets everything. */
static bool changes_fds(long number)
{
    switch (number) {
    case SYS_fcntl: case SYS_ioctl: case SYS_setsockopt: case SYS_dup:
    case SYS_dup2: case SYS_dup3: case SYS_close: case SYS_close_range:
    case SYS_fork: case SYS_vfork: case SYS_clone: case SYS_clone3:
    case SYS_sendmsg: case SYS_sendmmsg:
        return true;
    default:
        return false;
    }
}

GREEN_WRAP long syscall(long number, ...)
{
    /* Like glibc's syscall(), take six arguments whatever was passed. */
    long a[6];
    va_list ap;
    va_start(ap, number);
    for (int i = 0; i < 6; i++) {
        a[i] = va_arg(ap, long);
    }
    va_end(ap);
    green__ensure_init();
    if (green__in_green_thread()) {
        if (number == SYS_futex) {
            const int entry_errno = errno;
            const long r = futex(a);
            if (r != NOT_OURS) {
                return green__wrap_ret(r, entry_errno);
            }
        } else {
            long r;
            if (green__tid_syscall(number, a, &r)) {
                return r;
            }
            r = by_number(number, a);
            if (r != NOT_OURS) {
                return r;
            }
        }
    }
    if (changes_fds(number)) {
        green__fd_forget_all();
    }
    const long r = GREEN_REAL_FN(syscall)(number, a[0], a[1], a[2], a[3], a[4],
                                       a[5]);
    if (number == SYS_futex && r >= 0 && !green__on_green_kthread()) {
        /* A wake from another kernel thread: green waiters are in the lot
         * (a spurious extra wake-up is harmless to futex users). */
        const int cmd = (int)a[1] & FUTEX_CMD_MASK;
        if (cmd == FUTEX_WAKE || cmd == FUTEX_WAKE_BITSET) {
            green__remote_wake((const void *)a[0], (unsigned)a[2]);
        }
    }
    return r;
}
