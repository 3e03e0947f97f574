/* SPDX-License-Identifier: MIT */
/* Child processes: making them (_Fork and vfork) and waiting for them.
 *
 * fork itself is glibc's, which runs the runtime's atfork handlers
 * (hub/fork.c): the child goes on with a runtime of its own. _Fork runs
 * no handlers, so it runs the runtime's itself (green__fork_run, as a raw
 * fork system call does, wrappers/syscall.c); vfork is fork here.
 *
 * The wait family: waitpid, wait, wait3, wait4, waitid park only the
 * calling green thread. Each asks the kernel with WNOHANG first; while
 * children exist but none has changed state, the thread parks on a pidfd
 * of the one child it waits for (readable when it exits, Linux >= 5.3),
 * or, waiting for any child, for a stop or continue, or without pidfd,
 * for a short while that doubles while under 20 ms (hub/backoff.c).
 * WNOHANG itself passes through; a signal handler interrupts the wait as
 * signal(7) says (EINTR unless SA_RESTART). Nothing is ever reaped that
 * the program did not wait for: every real call is the program's own
 * request plus WNOHANG.
 */
#include "config.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "wrappers/wrap.h"

static long real_fork(void)
{
    return GREEN_REAL_FN(_Fork)();
}

/* _Fork runs no atfork handlers, but its child is a fork's child all the
 * same: it gets libgreen's (hub/fork.c). */
GREEN_WRAP pid_t _Fork(void)
{
    green__ensure_init();
    return (pid_t)green__fork_run(real_fork);
}

/* vfork's child borrows the parent's memory and stack, which a wrapper
 * written in C cannot allow (its own frame would be reused by the child);
 * POSIX lets vfork be fork, and so it is here (atfork handlers then run,
 * the fd cache's among them). glibc's posix_spawn, system and popen do not
 * call it. */
GREEN_WRAP pid_t vfork(void)
{
    return fork();
}

#define MAX_BACKOFF_NS (20 * GREEN__NS_PER_MS)

/* One non-blocking try of the program's wait: > 0 done (the real call's
 * result), 0 nothing yet, < 0 -errno. */
typedef long (*wait_try)(void *req);

/* Park between tries until `try` reports something; `pid` > 0 names the
 * one child waited for (its exit makes a pidfd readable), `exits_only`
 * says only an exit can end the wait. Returns the try's result or
 * -errno. Green thread, may park. */
static long wait_green(wait_try try, void *req, pid_t pid, bool exits_only)
{
    struct green__backoff b = GREEN__BACKOFF(GREEN__NS_PER_MS, MAX_BACKOFF_NS);
    for (;;) {
        const long r = try(req);
        if (r != 0) {
            return r;
        }
        int p;
        const int pidfd = pid > 0 && exits_only
            ? (int)syscall(SYS_pidfd_open, pid, 0) : -1;
        if (pidfd >= 0) {
            p = green__park_fd(pidfd, GREEN__READ, -1);
            green__park_unlinger(green__self());  /* before close */
            GREEN_REAL_FN(close)(pidfd);
        } else {
            p = green__backoff_sleep(&b, -1);
        }
        if (p == -EINTR && !green__signal_restarts()) {
            return -EINTR;
        }
    }
}

/* A WNOHANG wait: it counts towards a yield (green__sched_spun), so that
 * a thread reaping in a loop lets the others run. */
static long spun(long r)
{
    green__sched_spun();
    return r;
}

struct wait4_req {
    pid_t pid;
    int *status;
    int options;
    struct rusage *usage;
};

static long try_wait4(void *arg)
{
    const struct wait4_req *q = arg;
    const pid_t r = GREEN_REAL_FN(wait4)(q->pid, q->status, q->options | WNOHANG, q->usage);
    return r < 0 ? green__neg_errno() : r;
}

/* wait4 and the calls built on it. */
static pid_t wait4_green(pid_t pid, int *status, int options,
                         struct rusage *usage)
{
    struct wait4_req q = { pid, status, options, usage };
    const int entry_errno = errno;
    const bool exits_only = !(options & (WUNTRACED | WCONTINUED));
    return (pid_t)green__wrap_ret(wait_green(try_wait4, &q, pid, exits_only),
                                  entry_errno);
}

GREEN_WRAP pid_t wait4(pid_t pid, int *status, int options,
                       struct rusage *usage)
{
    green__ensure_init();
    if (!green__may_park()) {
        return GREEN_REAL_FN(wait4)(pid, status, options, usage);
    }
    if (options & WNOHANG) {
        return (pid_t)spun(GREEN_REAL_FN(wait4)(pid, status, options, usage));
    }
    return wait4_green(pid, status, options, usage);
}

GREEN_WRAP pid_t waitpid(pid_t pid, int *status, int options)
{
    green__ensure_init();
    if (!green__may_park()) {
        return GREEN_REAL_FN(waitpid)(pid, status, options);
    }
    if (options & WNOHANG) {
        return (pid_t)spun(GREEN_REAL_FN(waitpid)(pid, status, options));
    }
    return wait4_green(pid, status, options, NULL);
}

GREEN_WRAP pid_t wait(int *status)
{
    green__ensure_init();
    if (!green__may_park()) {
        return GREEN_REAL_FN(wait)(status);
    }
    return wait4_green(-1, status, 0, NULL);
}

GREEN_WRAP pid_t wait3(int *status, int options, struct rusage *usage)
{
    green__ensure_init();
    if (!green__may_park()) {
        return GREEN_REAL_FN(wait3)(status, options, usage);
    }
    if (options & WNOHANG) {
        return (pid_t)spun(GREEN_REAL_FN(wait3)(status, options, usage));
    }
    return wait4_green(-1, status, options, usage);
}

struct waitid_req {
    idtype_t idtype;
    id_t id;
    siginfo_t *info;
    int options;
};

/* waitid with WNOHANG says "nothing yet" with si_pid 0 (waitid(2)). */
static long try_waitid(void *arg)
{
    const struct waitid_req *q = arg;
    siginfo_t si;
    si.si_pid = 0;
    if (GREEN_REAL_FN(waitid)(q->idtype, q->id, &si, q->options | WNOHANG) != 0) {
        return green__neg_errno();
    }
    if (si.si_pid == 0) {
        return 0;
    }
    if (q->info != NULL && green__poke(q->info, &si, sizeof si) != 0) {
        return -EFAULT;
    }
    return 1;
}

GREEN_WRAP int waitid(idtype_t idtype, id_t id, siginfo_t *info, int options)
{
    green__ensure_init();
    if (!green__may_park()) {
        return GREEN_REAL_FN(waitid)(idtype, id, info, options);
    }
    if (options & WNOHANG) {
        return (int)spun(GREEN_REAL_FN(waitid)(idtype, id, info, options));
    }
    struct waitid_req q = { idtype, id, info, options };
    const int entry_errno = errno;
    const long r = wait_green(try_waitid, &q,
                              idtype == P_PID ? (pid_t)id : 0,
                              !(options & (WSTOPPED | WCONTINUED)));
    return (int)green__wrap_ret(r < 0 ? r : 0, entry_errno);
}
