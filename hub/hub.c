/* SPDX-License-Identifier: MIT */
/* The hub: a context on its own small stack that decides what runs. Every
 * switch goes green -> hub -> green, so the hub is where stack bytes are
 * copied (never on the region being copied). It runs the run queue; when it
 * is empty it runs the private libev loop until an fd or timer makes a
 * thread runnable. Between long bursts of runnable threads it polls libev
 * without blocking, so I/O waiters are not starved by busy threads: after
 * POLL_EVERY dispatches, or after one round of the run queue when it is
 * longer, so that every queued thread has had its turn (a poll reports
 * again each queued thread's fd that is still ready, so polling more
 * often than once a round would hand libev the same events over and
 * over: with 10,000 connections, most of the hub's time), and at once
 * after a thread that polls in a loop yields (green__sched_spun). Signals
 * that arrived while it could not act (hub/signal.c) are handed out first.
 */
#include "config.h"

#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hub/internal.h"

#define HUB_STACK_SIZE (256 * 1024)
#define POLL_EVERY 64               /* dispatches between libev polls */

static struct {
    struct green__ctx ctx;
    struct green__stack stack;
    uintptr_t lo, hi;               /* the stack's bounds */
} hub;

static void run(struct green__thread *t)
{
    green__stack_prepare(&t->stack);
    green__tls_switch(t);
    t->state = GREEN__RUNNING;
    green__sched.current = t;
    green__sched_private.switches++;
    green__sched_cpu_in();
    green__switch(&hub.ctx, &t->ctx);
    green__sched.current = NULL;
    if (__builtin_expect(green__config.debug, 0)) {
        green__copycheck(t);
    }
    green__sched_switched_out(t);
}

__attribute__((noreturn))
static void hub_main(void *unused)
{
    (void)unused;
    unsigned since_poll = 0, round = POLL_EVERY;
    for (;;) {
        if (green__signal_queued) {
            green__signal_drain();
        }
        struct green__thread *t = green__sched_next();
        if (t != NULL) {
            run(t);
            if (++since_poll >= round || green__sched_private.poll_soon) {
                green__sched_private.poll_soon = false;
                since_poll = 0;
                green__loop_run(false);
                round = green__sched_queued();
                if (round < POLL_EVERY) {
                    round = POLL_EVERY;
                }
            }
            continue;
        }
        since_poll = 0;
        round = POLL_EVERY;
        /* Nothing runnable: wait for an fd, a deadline or a wake-up from
         * another kernel thread. A deadlocked program sleeps here forever,
         * as it would natively (signals still get through). */
        green__loop_run(true);
    }
}

int green__hub_init(void)
{
    const size_t page = (size_t)sysconf(_SC_PAGESIZE);
    void *map = mmap(NULL, HUB_STACK_SIZE + page, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (map == MAP_FAILED) {
        return -ENOMEM;
    }
    if (mprotect(map, page, PROT_NONE) != 0) {
        munmap(map, HUB_STACK_SIZE + page);
        return -ENOMEM;
    }
    hub.lo = (uintptr_t)map + page;
    hub.hi = hub.lo + HUB_STACK_SIZE;
    return green__stack_create(&hub.stack, &hub.ctx, GREEN__STACK_FOREIGN,
                               NULL, 0, (char *)map + page, HUB_STACK_SIZE,
                               hub_main, NULL);
}

void green__hub_enter(struct green__thread *self)
{
    green__sched_cpu_out(self);
    green__switch(&self->ctx, &hub.ctx);
}

bool green__hub_owns(uintptr_t sp)
{
    return sp >= hub.lo && sp < hub.hi;
}
