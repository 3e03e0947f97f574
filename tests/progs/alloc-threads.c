/* SPDX-License-Identifier: MIT */
/* alloc-threads: threads that allocate, hand memory to one another and free
 * it, the way a server's threads use whatever malloc the process has (run
 * by tests/allocator.bats with jemalloc preloaded, natively and under
 * libgreen).
 *
 * 8 producers allocate 400 blocks each with malloc, calloc, realloc,
 * posix_memalign or aligned_alloc (sizes from 1 byte to 2 MiB, so small,
 * large and huge size classes), fill them with a pattern of their own and
 * pass them through a bounded queue (mutex + condvar) to 4 consumers, which
 * check the pattern, sometimes grow the block, and free it: memory freed by
 * another thread than the one that allocated it, with threads sleeping in
 * between so that they interleave.  Then 300 short-lived threads each
 * allocate and exit (the allocator's per-thread state is torn down and
 * rebuilt).  Prints per-producer counts and a total checksum; exit status
 * is the number of failed checks.
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>

#include "check.h"

#define PRODUCERS 8
#define CONSUMERS 4
#define PER_PRODUCER 400
#define QUEUE_LEN 16
#define SHORT_LIVED 300

struct block {
    unsigned char *p;
    size_t size;
    unsigned seed;
};

static struct {
    pthread_mutex_t lock;
    pthread_cond_t not_empty, not_full;
    struct block items[QUEUE_LEN];
    unsigned head, count, producers_left;
} q = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .not_empty = PTHREAD_COND_INITIALIZER,
    .not_full = PTHREAD_COND_INITIALIZER,
    .producers_left = PRODUCERS,
};

static uint64_t checksum;           /* sum of all bytes checked, atomic */

static unsigned next_rand(unsigned *s)
{
    *s = *s * 1103515245u + 12345u;
    return *s >> 8;
}

static size_t pick_size(unsigned *s)
{
    const unsigned r = next_rand(s) % 100;
    if (r < 70) {
        return 1 + next_rand(s) % 512;            /* small */
    }
    if (r < 97) {
        return 4096 + next_rand(s) % (60 * 1024); /* large */
    }
    return (1u << 20) + next_rand(s) % (1u << 20); /* huge */
}

static void fill(unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++) {
        p[i] = (unsigned char)(seed + i * 31);
    }
}

static uint64_t verify(const unsigned char *p, size_t n, unsigned seed)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] != (unsigned char)(seed + i * 31)) {
            check_fail(__FILE__, __LINE__, 0, "byte %zu of a %zu-byte block is wrong", i, n);
            return sum;
        }
        sum += p[i];
    }
    return sum;
}

static unsigned char *allocate(size_t size, unsigned kind)
{
    void *p = NULL;
    switch (kind % 5) {
    case 0:
        return malloc(size);
    case 1: {
        unsigned char *c = calloc(1, size);
        for (size_t i = 0; c != NULL && i < size; i++) {
            if (c[i] != 0) {
                check_fail(__FILE__, __LINE__, 0, "calloc gave a non-zero byte");
                break;
            }
        }
        return c;
    }
    case 2: {
        unsigned char *r = malloc(size / 2 + 1);
        return realloc(r, size);
    }
    case 3:
        if (posix_memalign(&p, 64, size) != 0) {
            return NULL;
        }
        if ((uintptr_t)p % 64 != 0) {
            check_fail(__FILE__, __LINE__, 0, "posix_memalign(64) gave %p", p);
        }
        return p;
    default:
        p = aligned_alloc(4096, (size + 4095) & ~(size_t)4095);
        if (p != NULL && (uintptr_t)p % 4096 != 0) {
            check_fail(__FILE__, __LINE__, 0, "aligned_alloc(4096) gave %p", p);
        }
        return p;
    }
}

static void *producer(void *arg)
{
    const unsigned id = (unsigned)(uintptr_t)arg;
    unsigned s = 7919u * (id + 1);
    for (unsigned i = 0; i < PER_PRODUCER; i++) {
        const size_t size = pick_size(&s);
        unsigned char *p = allocate(size, next_rand(&s));
        if (p == NULL) {
            check_fail(__FILE__, __LINE__, 0, "allocating %zu bytes", size);
            continue;
        }
        const unsigned seed = next_rand(&s);
        fill(p, size, seed);
        if (i % 50 == 0) {
            usleep(200);
        }
        pthread_mutex_lock(&q.lock);
        while (q.count == QUEUE_LEN) {
            pthread_cond_wait(&q.not_full, &q.lock);
        }
        q.items[(q.head + q.count++) % QUEUE_LEN] =
            (struct block){ p, size, seed };
        pthread_cond_signal(&q.not_empty);
        pthread_mutex_unlock(&q.lock);
    }
    pthread_mutex_lock(&q.lock);
    q.producers_left--;
    pthread_cond_broadcast(&q.not_empty);
    pthread_mutex_unlock(&q.lock);
    return NULL;
}

static void *consumer(void *arg)
{
    unsigned s = (unsigned)(uintptr_t)arg;
    unsigned long got = 0;
    for (;;) {
        pthread_mutex_lock(&q.lock);
        while (q.count == 0 && q.producers_left > 0) {
            pthread_cond_wait(&q.not_empty, &q.lock);
        }
        if (q.count == 0) {
            pthread_mutex_unlock(&q.lock);
            break;
        }
        struct block b = q.items[q.head];
        q.head = (q.head + 1) % QUEUE_LEN;
        q.count--;
        pthread_cond_signal(&q.not_full);
        pthread_mutex_unlock(&q.lock);

        __atomic_fetch_add(&checksum, verify(b.p, b.size, b.seed),
                           __ATOMIC_RELAXED);
        if (next_rand(&s) % 4 == 0) {
            /* Grow it: the old bytes must move along. */
            unsigned char *r = realloc(b.p, b.size * 2 + 100);
            if (r == NULL) {
                check_fail(__FILE__, __LINE__, 0, "realloc to %zu bytes", b.size * 2 + 100);
            } else {
                b.p = r;
                (void)verify(b.p, b.size, b.seed);
            }
        }
        if (malloc_usable_size(b.p) < b.size) {
            check_fail(__FILE__, __LINE__, 0, "malloc_usable_size below the size asked for");
        }
        free(b.p);
        if (++got % 100 == 0) {
            usleep(100);
        }
    }
    return (void *)got;
}

static void *short_lived(void *arg)
{
    char *p = malloc(64 + (uintptr_t)arg % 4000);
    if (p == NULL) {
        return arg;
    }
    p[0] = 1;
    free(p);
    return NULL;
}

int main(void)
{
    pthread_t prod[PRODUCERS], cons[CONSUMERS];
    for (uintptr_t i = 0; i < CONSUMERS; i++) {
        CHECK_RC(pthread_create(&cons[i], NULL, consumer, (void *)(i + 1)));
    }
    for (uintptr_t i = 0; i < PRODUCERS; i++) {
        CHECK_RC(pthread_create(&prod[i], NULL, producer, (void *)i));
    }
    for (int i = 0; i < PRODUCERS; i++) {
        CHECK_RC(pthread_join(prod[i], NULL));
    }
    unsigned long consumed = 0;
    for (int i = 0; i < CONSUMERS; i++) {
        void *got;
        CHECK_RC(pthread_join(cons[i], &got));
        consumed += (unsigned long)(uintptr_t)got;
    }
    printf("blocks produced %d, consumed %lu\n", PRODUCERS * PER_PRODUCER,
           consumed);
    printf("checksum %llu\n", (unsigned long long)checksum);

    unsigned failed = 0;
    for (uintptr_t i = 0; i < SHORT_LIVED; i++) {
        pthread_t t;
        void *r;
        CHECK_RC(pthread_create(&t, NULL, short_lived, (void *)i));
        CHECK_RC(pthread_join(t, &r));
        failed += r != NULL;
    }
    printf("short-lived threads %d, allocations failed %u\n", SHORT_LIVED,
           failed);
    return check_exit_status();
}
