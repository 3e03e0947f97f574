/* SPDX-License-Identifier: MIT */
/* The parking lot: FIFO wait queues keyed by address — a green futex.
 * Mutexes, condition variables and join wait here. A key is only compared,
 * never dereferenced, and the queue nodes live in the thread objects, so the
 * program may zero, copy or free the object a key points at.
 */
#include "config.h"

#include <errno.h>

#include "hub/internal.h"

#define BUCKETS 4096

struct bucket {
    struct green__thread *head, *tail;
};

static struct bucket buckets[BUCKETS];

static struct bucket *bucket_of(const void *key)
{
    uintptr_t k = (uintptr_t)key;
    k ^= k >> 17;
    k *= 0x9e3779b97f4a7c15ULL;
    return &buckets[(k >> 40) % BUCKETS];
}

void green__lot_unlink(struct green__thread *t)
{
    struct bucket *b = bucket_of(t->lot_key);
    if (t->lot_prev) {
        t->lot_prev->lot_next = t->lot_next;
    } else {
        b->head = t->lot_next;
    }
    if (t->lot_next) {
        t->lot_next->lot_prev = t->lot_prev;
    } else {
        b->tail = t->lot_prev;
    }
    t->lot_next = t->lot_prev = NULL;
    t->lot_key = NULL;
}

int green__lot_wait(const void *key, int64_t deadline)
{
    return green__lot_wait_bits(key, GREEN__LOT_ANY, deadline);
}

unsigned green__lot_wake(const void *key, unsigned n)
{
    return green__lot_wake_bits(key, n, GREEN__LOT_ANY);
}

/* Queue the running thread on `key` and park. A signal handler that runs
 * meanwhile leaves the thread queued, in its place (hub/signal.c), and
 * the wait goes on, unless `intr`: then the wait ends with -EINTR. */
static int lot_wait(const void *key, uint32_t bits, int64_t deadline,
                    bool intr)
{
    struct green__thread *self = green__sched.current;
    if (green__deadline_passed(deadline)) {
        return -ETIMEDOUT;
    }
    struct bucket *b = bucket_of(key);
    self->lot_key = key;
    self->lot_bits = bits;
    self->lot_intr = intr;
    self->lot_next = NULL;
    self->lot_prev = b->tail;
    if (b->tail) {
        b->tail->lot_next = self;
    } else {
        b->head = self;
    }
    b->tail = self;
    int r;
    while ((r = green__park_block(self, deadline)) == -EINTR
           && self->lot_key != NULL) {
    }
    if (r == -EINTR && !intr) {
        /* Woken (or timed out) as a handler ran: the wait is over. */
        r = self->woke == GREEN__WOKE_TIMEOUT ? -ETIMEDOUT : 0;
    }
    return r;
}

int green__lot_wait_bits(const void *key, uint32_t bits, int64_t deadline)
{
    return lot_wait(key, bits, deadline, false);
}

int green__lot_wait_intr(const void *key, uint32_t bits, int64_t deadline)
{
    return lot_wait(key, bits, deadline, true);
}

unsigned green__lot_wake_bits(const void *key, unsigned n, uint32_t bits)
{
    struct bucket *b = bucket_of(key);
    unsigned woken = 0;
    struct green__thread *t = b->head;
    while (t != NULL && woken < n) {
        struct green__thread *next = t->lot_next;
        if (t->lot_key == key && (t->lot_bits & bits)) {
            /* Runnable already when a signal handler is due: it only
             * leaves the queue. */
            const bool parked = t->state == GREEN__PARKED;
            t->woke = GREEN__WOKE_LOT;
            green__park_disarm(t);
            if (parked) {
                green__sched_ready(t);
            }
            woken++;
        }
        t = next;
    }
    return woken;
}
