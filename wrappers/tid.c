/* SPDX-License-Identifier: MIT */
/* Thread ids: gettid() and the calls that take a tid. A green thread's
 * tid is its id (struct green__thread.id, hub/sched.c: main's is the
 * kernel tid, the pid; the others' 0x40000000 + n, above every kernel
 * tid), which mutexes already hold as their __owner: gettid() and
 * syscall(SYS_gettid) return it. tgkill and tkill to a green tid, its
 * own included, run the handler in that thread, as pthread_kill does
 * (hub/signal.c). The
 * scheduling values of sched_{get,set}affinity, sched_{get,set}param,
 * sched_{get,set}scheduler and {get,set}priority(PRIO_PROCESS) are kept
 * here per green thread, after the kernel's own checks; a new thread
 * takes its creator's, and a thread that set none reads the kernel
 * thread's. The kernel thread that runs every green thread keeps its own
 * values: none of these calls change it.
 *
 * Tids of anything else (other processes, helper kernel threads), calls
 * from other kernel threads or from libgreen itself, and every call before
 * the runtime starts go to the kernel. glibc's thread descriptor keeps the
 * kernel tid, which abort() signals (raise() is wrapped,
 * wrappers/signal.c). syscall() passes the
 * numbers here (wrappers/syscall.c); /proc/self/task/ and system calls made
 * without libc's syscall() see the one kernel thread.
 */
#include "config.h"

#include <limits.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "hub/sigset.h"
#include "wrappers/wrap.h"

#define NOT_GREEN LONG_MIN          /* "the kernel answers" */
#define RESET SCHED_RESET_ON_FORK
#define MAX_MASK 1024               /* bytes: 8192 CPUs */
#define BUCKETS 64

/* What a green thread set; what it did not set reads as the kernel
 * thread's. */
struct rec {
    int id;
    bool has_mask, has_sched, has_nice;
    bool live;                      /* sweep: its thread is alive */
    int policy;                     /* with SCHED_RESET_ON_FORK */
    int priority;
    int nice;
    struct rec *next;               /* in its bucket */
    unsigned char mask[];           /* mask_size bytes */
};

static struct rec *table[BUCKETS];
static unsigned nrecs, sweep_at = BUCKETS;
static size_t mask_size;            /* the kernel's cpumask size; 0: unknown */

/* A system call on the kernel thread: its result or -errno. */
static long raw(long number, long a, long b, long c)
{
    const long r = GREEN_REAL_FN(syscall)(number, a, b, c, 0L, 0L, 0L);
    return r == -1 ? -(long)errno : r;
}

/* A result below as libc returns it: -1 with errno for -errno, else the
 * program's errno as it was on entry. */
static long finish(long r, int entry_errno)
{
    if (r < 0) {
        errno = (int)-r;
        return -1;
    }
    errno = entry_errno;
    return r;
}

/* The green thread `tid` names (0: the caller) for a call from a green
 * thread, or NULL: the kernel answers. */
static struct green__thread *target(pid_t tid)
{
    if (!green__in_green_thread() || tid < 0) {
        return NULL;
    }
    return tid == 0 ? green__self() : green__sched_by_id(tid);
}

/* ---- the values kept per thread ------------------------------------ */

static struct rec **slot(int id)
{
    struct rec **p = &table[(unsigned)id % BUCKETS];
    while (*p != NULL && (*p)->id != id) {
        p = &(*p)->next;
    }
    return p;
}

static struct rec *find(int id)
{
    return nrecs == 0 ? NULL : *slot(id);
}

static bool mark_live(struct green__thread *t, int unused)
{
    (void)unused;
    struct rec *r = find(green__thread_id(t));
    if (r != NULL) {
        r->live = true;
    }
    return false;
}

/* Drop the values of threads that have ended (`keep` excepted), all of
 * them when `everyone` (a fork's child). */
static void sweep(bool everyone, int keep)
{
    if (!everyone) {
        green__sched_find(mark_live, 0);
    }
    for (unsigned b = 0; b < BUCKETS; b++) {
        for (struct rec **p = &table[b]; *p != NULL;) {
            struct rec *r = *p;
            if (r->live || r->id == keep) {
                r->live = false;
                p = &r->next;
            } else {
                *p = r->next;
                free(r);
                nrecs--;
            }
        }
    }
    sweep_at = nrecs * 2 > BUCKETS ? nrecs * 2 : BUCKETS;
}

/* The kernel's cpumask size in bytes, what sched_getaffinity copies;
 * 0 if the kernel has more than MAX_MASK * 8 CPUs. */
static size_t kernel_mask_size(void)
{
    if (mask_size == 0) {
        unsigned char buf[MAX_MASK];
        const long n = raw(SYS_sched_getaffinity, 0, sizeof buf, (long)buf);
        mask_size = n > 0 ? (size_t)n : 0;
    }
    return mask_size;
}

/* The values of thread `id`, made (all unset) if it has none; NULL when
 * memory ran out. */
static struct rec *rec_for(int id)
{
    struct rec *r = find(id);
    if (r != NULL) {
        return r;
    }
    if (nrecs >= sweep_at) {
        sweep(false, id);
    }
    r = calloc(1, sizeof *r + kernel_mask_size());
    if (r != NULL) {
        r->id = id;
        struct rec **p = slot(id);
        *p = r;
        nrecs++;
    }
    return r;
}

static int nice_of(const struct rec *r)
{
    if (r != NULL && r->has_nice) {
        return r->nice;
    }
    const long k = raw(SYS_getpriority, PRIO_PROCESS, 0, 0);
    return k < 0 ? 0 : 20 - (int)k;
}

static int policy_of(const struct rec *r)
{
    if (r != NULL && r->has_sched) {
        return r->policy;
    }
    const long k = raw(SYS_sched_getscheduler, 0, 0, 0);
    return k < 0 ? SCHED_OTHER : (int)k;
}

static int priority_of(const struct rec *r)
{
    if (r != NULL && r->has_sched) {
        return r->priority;
    }
    struct sched_param p = { 0 };
    raw(SYS_sched_getparam, 0, (long)&p, 0);
    return p.sched_priority;
}

/* capable(CAP_SYS_NICE), as capget reports it. */
static bool privileged(void)
{
    struct __user_cap_header_struct h = {
        .version = _LINUX_CAPABILITY_VERSION_3,
    };
    struct __user_cap_data_struct d[2];
    return raw(SYS_capget, (long)&h, (long)d, 0) == 0
           && (d[0].effective & (1u << CAP_SYS_NICE));
}

static rlim_t limit(int resource)
{
    struct rlimit l;
    return getrlimit(resource, &l) == 0 ? l.rlim_cur : 0;
}

/* The kernel's can_nice(): may a thread lower its nice value to `nice`?
 * (sched(7), RLIMIT_NICE in getrlimit(2)) */
static bool can_nice(int nice)
{
    return (rlim_t)(20 - nice) <= limit(RLIMIT_NICE) || privileged();
}

/* What a new thread takes from its creator: the kernel's sched_fork()
 * resets a thread that asked for SCHED_RESET_ON_FORK (sched(7)). */
static void reset_on_fork(struct rec *r)
{
    if (!r->has_sched || !(r->policy & RESET)) {
        return;
    }
    r->policy &= ~RESET;
    if (r->policy == SCHED_FIFO || r->policy == SCHED_RR) {
        r->policy = SCHED_OTHER;
        r->priority = 0;
        r->has_nice = true;
        r->nice = 0;
    } else if (nice_of(r) < 0) {
        r->has_nice = true;
        r->nice = 0;
    }
}

void green__tid_inherit(int id, int creator)
{
    const struct rec *c = find(creator);
    if (c == NULL) {
        return;
    }
    struct rec *r = rec_for(id);
    if (r == NULL) {
        return;                     /* it reads the kernel thread's */
    }
    struct rec *next = r->next;
    memcpy(r, c, sizeof *r + mask_size);
    r->id = id;
    r->live = false;
    r->next = next;
    reset_on_fork(r);
}

void green__tid_fork(int parent_id, int id)
{
    if (nrecs == 0) {
        return;
    }
    sweep(true, parent_id);
    struct rec **p = slot(parent_id);
    struct rec *r = *p;
    if (r != NULL) {
        *p = r->next;
        r->id = id;
        r->next = NULL;
        *slot(id) = r;
        reset_on_fork(r);
    }
}

/* ---- the calls, as the kernel answers them: result or -errno -------- */

/* tgkill(tgid, tid, sig), or tkill(tid, sig) without `group`. The
 * kernel rejects a tid or tgid <= 0 itself, and any tid not ours. */
static long do_tgkill(pid_t tgid, pid_t tid, int sig, bool group)
{
    if (tid <= 0 || (group && tgid <= 0)) {
        return NOT_GREEN;
    }
    struct green__thread *t = target(tid);
    if (t == NULL || (group && tgid != getpid())) {
        return NOT_GREEN;
    }
    if (sig < 0 || sig > GREEN__NSIGS) {
        return -EINVAL;             /* valid_signal() */
    }
    if (sig == 0) {
        return 0;
    }
    if (green__sig_reserved(sig)) {
        /* glibc's internal signals act on glibc's thread, the kernel
         * thread: as pthread_kill does. */
        return raw(SYS_tgkill, getpid(), green__sched_kernel_tid(), sig);
    }
    return -(long)green__signal_tkill(t, sig);
}

/* The kernel's sched_getaffinity: bytes copied. It checks `len` and
 * `mask` and answers for the kernel thread; then the thread's own. */
static long get_affinity(pid_t tid, unsigned len, void *mask)
{
    const struct green__thread *t = target(tid);
    if (t == NULL) {
        return NOT_GREEN;
    }
    const long n = raw(SYS_sched_getaffinity, 0, len, (long)mask);
    const struct rec *r = find(green__thread_id(t));
    if (n <= 0 || r == NULL || !r->has_mask) {
        return n;
    }
    return green__poke(mask, r->mask, (size_t)n) == 0 ? n : -EFAULT;
}

/* The kernel's sched_setaffinity. Its checks (EFAULT, EINVAL for a mask
 * without a usable CPU) and what it makes of the mask (only CPUs the
 * cpuset allows) come from setting the kernel thread's, which is then
 * put back: a move to another CPU and back is all it costs. */
static long set_affinity(pid_t tid, unsigned len, const void *mask)
{
    const struct green__thread *t = target(tid);
    const size_t size = kernel_mask_size();
    if (t == NULL || size == 0) {
        return NOT_GREEN;
    }
    struct rec *r = rec_for(green__thread_id(t));
    if (r == NULL) {
        return -ENOMEM;
    }
    unsigned char old[MAX_MASK], now[MAX_MASK];
    long e = raw(SYS_sched_getaffinity, 0, (long)size, (long)old);
    if (e < 0) {
        return e;
    }
    e = raw(SYS_sched_setaffinity, 0, len, (long)mask);
    if (e < 0) {
        return e;
    }
    e = raw(SYS_sched_getaffinity, 0, (long)size, (long)now);
    raw(SYS_sched_setaffinity, 0, (long)size, (long)old);
    if (e < 0) {
        return e;
    }
    memcpy(r->mask, now, size);
    r->has_mask = true;
    return 0;
}

static long get_scheduler(pid_t tid)
{
    const struct green__thread *t = target(tid);
    return t == NULL ? NOT_GREEN : policy_of(find(green__thread_id(t)));
}

static long get_param(pid_t tid, struct sched_param *param)
{
    const struct green__thread *t = target(tid);
    if (t == NULL) {
        return NOT_GREEN;
    }
    if (param == NULL) {
        return -EINVAL;
    }
    const struct sched_param p = {
        .sched_priority = priority_of(find(green__thread_id(t))),
    };
    return green__poke(param, &p, sizeof p) == 0 ? 0 : -EFAULT;
}

static bool valid_policy(int policy)
{
    return policy == SCHED_OTHER || policy == SCHED_FIFO
        || policy == SCHED_RR || policy == SCHED_BATCH
        || policy == SCHED_IDLE || policy == SCHED_DEADLINE;
}

/* The kernel's sched_setscheduler, and sched_setparam (`keep`: the
 * thread's policy stays): the checks of __sched_setscheduler
 * (kernel/sched/syscalls.c, Linux 6.x) against the thread's values. */
static long set_scheduler(pid_t tid, int policy,
                          const struct sched_param *param, bool keep)
{
    const struct green__thread *t = target(tid);
    if (t == NULL) {
        return NOT_GREEN;
    }
    if ((!keep && policy < 0) || param == NULL) {
        return -EINVAL;
    }
    struct sched_param p;
    if (green__peek(&p, param, sizeof p) != 0) {
        return -EFAULT;
    }
    const struct rec *r = find(green__thread_id(t));
    const int cur = policy_of(r);
    const int cur_policy = cur & ~RESET;
    const bool reset = keep ? cur & RESET : policy & RESET;
    policy = keep ? cur_policy : policy & ~RESET;
    const unsigned prio = (unsigned)p.sched_priority;
    const bool rt = policy == SCHED_FIFO || policy == SCHED_RR;
    if (!valid_policy(policy) || prio > 99 || policy == SCHED_DEADLINE
        || rt != (prio != 0)) {
        return -EINVAL;             /* SCHED_DEADLINE: sched_setattr only */
    }
    if (!privileged()) {
        const rlim_t rtprio = limit(RLIMIT_RTPRIO);
        if (rt && ((policy != cur_policy && rtprio == 0)
                   || (prio > (unsigned)priority_of(r) && prio > rtprio))) {
            return -EPERM;
        }
        if (cur_policy == SCHED_IDLE && policy != SCHED_IDLE
            && !can_nice(nice_of(r))) {
            return -EPERM;
        }
        if ((cur & RESET) && !reset) {
            return -EPERM;
        }
    }
    struct rec *w = rec_for(green__thread_id(t));
    if (w == NULL) {
        return -ENOMEM;
    }
    w->has_sched = true;
    w->policy = policy | (reset ? RESET : 0);
    w->priority = (int)prio;
    return 0;
}

/* The kernel's getpriority: 20 - nice (glibc turns it into the nice). */
static long get_priority(int which, pid_t who)
{
    const struct green__thread *t = which == PRIO_PROCESS ? target(who)
                                                          : NULL;
    return t == NULL ? NOT_GREEN : 20 - nice_of(find(green__thread_id(t)));
}

static long set_priority(int which, pid_t who, int nice)
{
    const struct green__thread *t = which == PRIO_PROCESS ? target(who)
                                                          : NULL;
    if (t == NULL) {
        return NOT_GREEN;
    }
    nice = nice < -20 ? -20 : nice > 19 ? 19 : nice;
    if (nice < nice_of(find(green__thread_id(t))) && !can_nice(nice)) {
        return -EACCES;
    }
    struct rec *r = rec_for(green__thread_id(t));
    if (r == NULL) {
        return -ENOMEM;
    }
    r->has_nice = true;
    r->nice = nice;
    return 0;
}

bool green__tid_syscall(long number, const long a[6], long *ret)
{
    long r;
    const int entry_errno = errno;
    switch (number) {
    case SYS_gettid:
        r = green__thread_id(green__self());
        break;
    case SYS_tgkill:
        r = do_tgkill((pid_t)a[0], (pid_t)a[1], (int)a[2], true);
        break;
    case SYS_tkill:
        r = do_tgkill(0, (pid_t)a[0], (int)a[1], false);
        break;
    case SYS_sched_getaffinity:
        r = get_affinity((pid_t)a[0], (unsigned)a[1], (void *)a[2]);
        break;
    case SYS_sched_setaffinity:
        r = set_affinity((pid_t)a[0], (unsigned)a[1], (const void *)a[2]);
        break;
    case SYS_sched_getscheduler:
        r = get_scheduler((pid_t)a[0]);
        break;
    case SYS_sched_getparam:
        r = get_param((pid_t)a[0], (struct sched_param *)a[1]);
        break;
    case SYS_sched_setscheduler:
        r = set_scheduler((pid_t)a[0], (int)a[1],
                          (const struct sched_param *)a[2], false);
        break;
    case SYS_sched_setparam:
        r = set_scheduler((pid_t)a[0], 0, (const struct sched_param *)a[1],
                          true);
        break;
    case SYS_getpriority:
        r = get_priority((int)a[0], (pid_t)a[1]);
        break;
    case SYS_setpriority:
        r = set_priority((int)a[0], (pid_t)a[1], (int)a[2]);
        break;
    default:
        return false;
    }
    if (r == NOT_GREEN) {
        errno = entry_errno;
        return false;
    }
    *ret = finish(r, entry_errno);
    return true;
}

/* ---- libc's functions ----------------------------------------------- */

GREEN_WRAP pid_t gettid(void)
{
    /* The cheapest test first: a thread the runtime does not know
     * (role not yet asked, or another kernel thread's) gets the kernel's
     * answer. */
    if (green__kthread_role > 0 && green__self() != NULL) {
        return green__thread_id(green__self());
    }
    return GREEN_REAL_FN(gettid)();
}

GREEN_WRAP int tgkill(pid_t tgid, pid_t tid, int sig)
{
    green__ensure_init();
    const int entry_errno = errno;
    const long r = do_tgkill(tgid, tid, sig, true);
    if (r == NOT_GREEN) {
        return GREEN_REAL_FN(tgkill)(tgid, tid, sig);
    }
    return (int)finish(r, entry_errno);
}

GREEN_WRAP int sched_getaffinity(pid_t pid, size_t size, cpu_set_t *set)
{
    green__ensure_init();
    const int entry_errno = errno;
    /* glibc passes at most INT_MAX and clears what the kernel did not
     * fill. */
    const long n = get_affinity(pid, size > INT_MAX ? INT_MAX : size, set);
    if (n == NOT_GREEN) {
        return GREEN_REAL_FN(sched_getaffinity)(pid, size, set);
    }
    if (n >= 0) {
        memset((char *)set + n, 0, size - (size_t)n);
    }
    return n < 0 ? (int)finish(n, entry_errno) : (int)finish(0, entry_errno);
}

GREEN_WRAP int sched_setaffinity(pid_t pid, size_t size,
                                 const cpu_set_t *set)
{
    green__ensure_init();
    const int entry_errno = errno;
    const long r = set_affinity(pid, size > UINT_MAX ? UINT_MAX : size, set);
    if (r == NOT_GREEN) {
        return GREEN_REAL_FN(sched_setaffinity)(pid, size, set);
    }
    return (int)finish(r, entry_errno);
}

GREEN_WRAP int sched_getparam(pid_t pid, struct sched_param *param)
{
    green__ensure_init();
    const int entry_errno = errno;
    const long r = get_param(pid, param);
    if (r == NOT_GREEN) {
        return GREEN_REAL_FN(sched_getparam)(pid, param);
    }
    return (int)finish(r, entry_errno);
}

GREEN_WRAP int sched_setparam(pid_t pid, const struct sched_param *param)
{
    green__ensure_init();
    const int entry_errno = errno;
    const long r = set_scheduler(pid, 0, param, true);
    if (r == NOT_GREEN) {
        return GREEN_REAL_FN(sched_setparam)(pid, param);
    }
    return (int)finish(r, entry_errno);
}

GREEN_WRAP int sched_getscheduler(pid_t pid)
{
    green__ensure_init();
    const int entry_errno = errno;
    const long r = get_scheduler(pid);
    if (r == NOT_GREEN) {
        return GREEN_REAL_FN(sched_getscheduler)(pid);
    }
    return (int)finish(r, entry_errno);
}

GREEN_WRAP int sched_setscheduler(pid_t pid, int policy,
                                  const struct sched_param *param)
{
    green__ensure_init();
    const int entry_errno = errno;
    const long r = set_scheduler(pid, policy, param, false);
    if (r == NOT_GREEN) {
        return GREEN_REAL_FN(sched_setscheduler)(pid, policy, param);
    }
    return (int)finish(r, entry_errno);
}

GREEN_WRAP int getpriority(__priority_which_t which, id_t who)
{
    green__ensure_init();
    const int entry_errno = errno;
    const long r = get_priority((int)which, (pid_t)who);
    if (r == NOT_GREEN) {
        return GREEN_REAL_FN(getpriority)(which, who);
    }
    return r < 0 ? (int)finish(r, entry_errno)
                 : (int)(20 - finish(r, entry_errno));
}

GREEN_WRAP int setpriority(__priority_which_t which, id_t who, int prio)
{
    green__ensure_init();
    const int entry_errno = errno;
    const long r = set_priority((int)which, (pid_t)who, prio);
    if (r == NOT_GREEN) {
        return GREEN_REAL_FN(setpriority)(which, who, prio);
    }
    return (int)finish(r, entry_errno);
}
