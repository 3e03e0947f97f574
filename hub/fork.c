/* SPDX-License-Identifier: MIT */
/* fork from a green thread: what the parent and the child keep of the
 * runtime. POSIX gives the child one thread, the one that called fork;
 * here the child goes on as a runtime of its own with that thread as its
 * only green thread, so the threads it makes are green threads too:
 *
 *   libev      the same loop, told to make a new epoll set before it
 *              next runs (ev_loop_fork): the parent's is never touched;
 *   wake-ups   a new eventfd takes the number of the parent's (remote.c),
 *              io_uring and sigwait's signalfd are dropped, made again on
 *              first use (an inherited signalfd never polls ready in the
 *              child: signalfd(2), "epoll(7) semantics");
 *   signals    nothing pending, as for any child (signal.c);
 *   threads    every other thread is dropped without running anything of
 *              its own: watchers stopped, lot entries gone, stacks and
 *              TLS values freed (sched.c); what the kernel keeps for
 *              their blocked calls (kept fds) is closed;
 *   wrappers/  what they keep per thread goes with the dropped threads
 *              (the fork_child hook): FILE locks held by other threads
 *              are free, as glibc's fork frees them, and only the
 *              forking thread keeps its scheduling values;
 *   helpers    the resolver's kernel threads did not come along; the pool
 *              is rebuilt on first use (offload.c).
 *
 * glibc's fork walks its thread list and registers the TCB with the
 * kernel, so the forking thread's TLS area goes home first and back to its
 * window after (hub/tls.c). The handlers are registered when libgreen is
 * loaded, before any the program registers: POSIX runs prepare handlers
 * in reverse order and child handlers in order, so libgreen's prepare
 * runs last, just before the fork, and its child handler first, so that
 * the program's child handlers already find a working runtime.
 *
 * A fork from a kernel thread the runtime did not make (a library's own
 * thread) gives a child in which that thread is alone: it runs natively.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <unistd.h>

#include "hub/internal.h"

static void fork_prepare(void)
{
    green__fd_forget_all();        /* the child will share every fd */
    if (green__in_green_thread()) {
        green__tls_home(green__sched.current);
    }
}

static void fork_parent(void)
{
    if (green__in_green_thread()) {
        green__tls_away(green__sched.current);
    }
}

static void fork_child(void)
{
    green__sched_forget_tid();          /* the child's tid is its pid */
    if (!green__sched.active) {
        return;
    }
    if (!green__in_green_thread()) {
        /* The only thread left is not the runtime's kernel thread, and
         * would now pass for it (its tid is the pid): say it is not. */
        green__kthread_role = -1;
        return;
    }
    struct green__thread *self = green__sched.current;
    green__loop_fork();
    green__remote_fork();
    green__uring_fork();
    green__signal_fork(self);
    green__sched_fork(self);
    green__tls_away(self);
    GREEN_DEBUG("fork: the child (pid %d) goes on with one green thread\n",
                (int)getpid());
}

long green__fork_run(long (*fork_call)(void))
{
    fork_prepare();
    const long r = fork_call();
    const int entry_errno = errno;
    if (r == 0) {
        fork_child();
    } else {
        fork_parent();
    }
    errno = entry_errno;
    return r;
}

/* glibc's fork runs the same three handlers itself. */
__attribute__((constructor))
static void fork_handlers(void)
{
    pthread_atfork(fork_prepare, fork_parent, fork_child);
}
