/* SPDX-License-Identifier: MIT */
/* A small io_uring for the one call that has no per-call non-blocking
 * flag and must not be made non-blocking by its file status flags: a
 * TCP connect on a socket the program sees as blocking. The kernel runs
 * the connect for us (IORING_OP_CONNECT: it tries without blocking and
 * waits for writability inside io_uring, no worker thread) and posts the
 * result; the ring's fd is readable while results wait, so a green thread
 * parks on it like on any fd. No flag of the socket ever changes.
 *
 * One ring per process, made on first use; a forked child forgets the
 * parent's (green__uring_fork) and makes its own. Each request is a heap `op`, named by the
 * CQE's user_data; whichever waiting thread runs first reaps every CQE
 * into its op. Where io_uring is missing or forbidden (ENOSYS, EPERM:
 * seccomp, kernel.io_uring_disabled) the caller falls back.
 */
#include "config.h"

#include <errno.h>
#include <linux/io_uring.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "hub/internal.h"
#include "preload/real.h"

#define ENTRIES 16
#define CQ_ENTRIES 4096     /* results of connects in flight at once */

struct green__uring_op {
    struct sockaddr_storage addr;   /* the kernel may read it after prep */
    int res;                        /* the CQE's result, once done */
    bool done;
    bool orphan;                    /* its owner left: free on completion */
};

static struct {
    int fd;                         /* -1: not made yet; -2: unavailable */
    unsigned *sq_head, *sq_tail, *sq_mask, *sq_array, *sq_flags;
    unsigned *cq_head, *cq_tail, *cq_mask;
    struct io_uring_sqe *sqes;
    struct io_uring_cqe *cqes;
    void *sq_map;                   /* the two mappings, for munmap */
    size_t sq_len, sqes_len;
} ring = { .fd = -1 };

static int setup(void)
{
    struct io_uring_params p;
    memset(&p, 0, sizeof p);
    p.flags = IORING_SETUP_CQSIZE;
    p.cq_entries = CQ_ENTRIES;
    const int fd = (int)green__sys(SYS_io_uring_setup, ENTRIES, &p);
    if (fd < 0) {
        return fd;
    }
    if (!(p.features & IORING_FEAT_SINGLE_MMAP)) {
        green__sys(SYS_close, fd);
        return -ENOSYS;
    }
    size_t sq_len = p.sq_off.array + p.sq_entries * sizeof(unsigned);
    const size_t cq_len = p.cq_off.cqes
        + p.cq_entries * sizeof(struct io_uring_cqe);
    if (cq_len > sq_len) {
        sq_len = cq_len;
    }
    char *sq = mmap(NULL, sq_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
                    IORING_OFF_SQ_RING);
    void *sqes = mmap(NULL, p.sq_entries * sizeof(struct io_uring_sqe),
                      PROT_READ | PROT_WRITE, MAP_SHARED, fd,
                      IORING_OFF_SQES);
    if (sq == MAP_FAILED || sqes == MAP_FAILED) {
        green__sys(SYS_close, fd);
        return -ENOMEM;
    }
    ring.sq_head = (unsigned *)(sq + p.sq_off.head);
    ring.sq_tail = (unsigned *)(sq + p.sq_off.tail);
    ring.sq_mask = (unsigned *)(sq + p.sq_off.ring_mask);
    ring.sq_array = (unsigned *)(sq + p.sq_off.array);
    ring.sq_flags = (unsigned *)(sq + p.sq_off.flags);
    ring.cq_head = (unsigned *)(sq + p.cq_off.head);
    ring.cq_tail = (unsigned *)(sq + p.cq_off.tail);
    ring.cq_mask = (unsigned *)(sq + p.cq_off.ring_mask);
    ring.cqes = (struct io_uring_cqe *)(sq + p.cq_off.cqes);
    ring.sqes = sqes;
    ring.sq_map = sq;
    ring.sq_len = sq_len;
    ring.sqes_len = p.sq_entries * sizeof(struct io_uring_sqe);
    ring.fd = fd;
    return 0;
}

void green__uring_fork(void)
{
    if (ring.fd >= 0) {
        const int entry_errno = errno;
        munmap(ring.sq_map, ring.sq_len);
        munmap(ring.sqes, ring.sqes_len);
        GREEN_REAL_FN(close)(ring.fd);
        ring.fd = -1;
        errno = entry_errno;
    }
}

/* Move every posted result into its op. Results that found the CQ ring
 * full wait in the kernel (IORING_FEAT_NODROP) until an enter with
 * GETEVENTS moves them in. */
static void reap(void)
{
    if (__atomic_load_n(ring.sq_flags, __ATOMIC_ACQUIRE)
        & IORING_SQ_CQ_OVERFLOW) {
        green__sys(SYS_io_uring_enter, ring.fd, 0, 0, IORING_ENTER_GETEVENTS,
                   NULL, 0);
    }
    unsigned head = *ring.cq_head;
    while (head != __atomic_load_n(ring.cq_tail, __ATOMIC_ACQUIRE)) {
        const struct io_uring_cqe *c = &ring.cqes[head & *ring.cq_mask];
        struct green__uring_op *op = (void *)(uintptr_t)c->user_data;
        if (op != NULL) {
            op->res = c->res;
            op->done = true;
            if (op->orphan) {
                free(op);
            }
        }
        head++;
    }
    __atomic_store_n(ring.cq_head, head, __ATOMIC_RELEASE);
}

/* Queue one SQE filled by `fill` and submit it. 0 or -errno. */
static int submit(void (*fill)(struct io_uring_sqe *, const void *),
                  const void *arg)
{
    const unsigned tail = *ring.sq_tail;
    if (tail - __atomic_load_n(ring.sq_head, __ATOMIC_ACQUIRE) >= ENTRIES) {
        return -EAGAIN;
    }
    const unsigned i = tail & *ring.sq_mask;
    memset(&ring.sqes[i], 0, sizeof ring.sqes[i]);
    fill(&ring.sqes[i], arg);
    ring.sq_array[i] = i;
    __atomic_store_n(ring.sq_tail, tail + 1, __ATOMIC_RELEASE);
    int r;
    do {
        r = (int)green__sys(SYS_io_uring_enter, ring.fd, 1, 0, 0, NULL, 0);
    } while (r == -EINTR);
    return r < 0 ? r : 0;
}

struct connect_args {
    int fd;
    struct green__uring_op *op;
    socklen_t len;
};

static void fill_connect(struct io_uring_sqe *s, const void *arg)
{
    const struct connect_args *a = arg;
    s->opcode = IORING_OP_CONNECT;
    s->fd = a->fd;
    s->addr = (uintptr_t)&a->op->addr;
    s->off = a->len;
    s->user_data = (uintptr_t)a->op;
}

static void fill_cancel(struct io_uring_sqe *s, const void *arg)
{
    s->opcode = IORING_OP_ASYNC_CANCEL;
    s->addr = (uintptr_t)arg;
    s->user_data = 0;
}

int green__uring_fd(void)
{
    return ring.fd;
}

int green__uring_connect(int fd, const struct sockaddr *addr, socklen_t len,
                         struct green__uring_op **out)
{
    const int entry_errno = errno;
    int r = 0;
    if (ring.fd == -1 && (r = setup()) < 0) {
        ring.fd = -2;
    }
    if (ring.fd < 0 || len > sizeof(struct sockaddr_storage)) {
        errno = entry_errno;
        return -ENOSYS;
    }
    struct green__uring_op *op = calloc(1, sizeof *op);
    if (op == NULL) {
        return -ENOSYS;
    }
    memcpy(&op->addr, addr, len);
    const struct connect_args a = { fd, op, len };
    r = submit(fill_connect, &a);
    errno = entry_errno;
    if (r < 0) {
        free(op);
        return -ENOSYS;
    }
    *out = op;
    return 0;
}

int green__uring_wait(struct green__uring_op *op, int64_t deadline)
{
    for (;;) {
        reap();
        if (op->done) {
            const int res = op->res;
            free(op);
            return res;
        }
        const int p = green__park_fd(ring.fd, GREEN__READ, deadline);
        if (p < 0) {
            reap();
            if (!op->done) {
                return p;
            }
        }
    }
}

void green__uring_abandon(struct green__uring_op *op)
{
    const int entry_errno = errno;
    op->orphan = true;
    submit(fill_cancel, op);
    errno = entry_errno;
}
