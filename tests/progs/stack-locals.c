/* SPDX-License-Identifier: MIT */
/* stack-locals: threads read and write their creator's local variables
 * while the creator waits in pthread_join, three levels deep.
 *
 * Every creator keeps on its own stack an array of child slots, a mutex, a
 * condition variable, a counter and a large buffer.  pthread_create's arg
 * points at a slot.  Each child waits on its creator's condition variable
 * until the creator has started all siblings, fills its slot and its part
 * of the creator's buffer, sleeps (so that siblings run in between), creates
 * its own children the same way, and checks that its part of the creator's
 * buffer is still intact before it returns.  Each creator checks every
 * value after join.  main prints a deterministic summary.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

enum { FANOUT = 3, DEPTH = 3, PART = 2048 };

struct family;

/* One child's slot in its creator's stack frame. */
struct slot {
    struct family *family; /* the creator's shared locals */
    int index;             /* position among the siblings */
    int depth;             /* 1 for children of main */
    char path[32];         /* written by the child: "1.3.2" */
    long sum;              /* written by the child: its subtree's sum */
    int nodes;             /* written by the child: its subtree's size */
};

/* Locals a creator shares with all its children. */
struct family {
    pthread_mutex_t lock;
    pthread_cond_t started;
    int go;        /* set by the creator once all children exist */
    int arrived;   /* children that saw go */
    long visits;   /* incremented by each child under lock */
    const char *parent_path;
    unsigned char buf[FANOUT * PART]; /* child i owns part i */
};

static long run_family(const char *path, int depth, int *nodes);

static unsigned char fill_byte(const char *path, int i)
{
    return (unsigned char)(strlen(path) * 17 + (unsigned char)path[0] * 3 +
                           (unsigned char)path[strlen(path) - 1] + i);
}

static void *child(void *arg)
{
    struct slot *const s = arg;
    struct family *const f = s->family;

    pthread_mutex_lock(&f->lock);
    while (!f->go) {
        pthread_cond_wait(&f->started, &f->lock);
    }
    f->arrived++;
    f->visits += 10 * s->index + s->depth;
    pthread_mutex_unlock(&f->lock);

    if (f->parent_path[0] == '\0') {
        snprintf(s->path, sizeof s->path, "%d", s->index + 1);
    } else {
        snprintf(s->path, sizeof s->path, "%s.%d", f->parent_path,
                 s->index + 1);
    }
    unsigned char *const mine = f->buf + s->index * PART;
    for (int i = 0; i < PART; i++) {
        mine[i] = fill_byte(s->path, i);
    }

    /* Later siblings sleep less, so the siblings interleave. */
    usleep((unsigned)(FANOUT - s->index) * 2000);

    int nodes = 1;
    long sum = s->index + 1;
    if (s->depth < DEPTH) {
        sum += run_family(s->path, s->depth + 1, &nodes);
        nodes += 1;
    }
    usleep(1000);
    for (int i = 0; i < PART; i++) {
        if (mine[i] != fill_byte(s->path, i)) {
            check_fail(__FILE__, __LINE__, 0,
                       "%s: creator's buffer byte %d changed", s->path, i);
            break;
        }
    }
    s->sum = sum * 10 + s->depth;
    s->nodes = nodes;
    return (void *)(intptr_t)(s->index + 100 * s->depth);
}

/* Create FANOUT children at `depth`, wait for them, check what they wrote
 * into this frame, and return the sum of their subtrees. */
static long run_family(const char *path, int depth, int *nodes)
{
    struct family f;
    struct slot slots[FANOUT];
    pthread_t threads[FANOUT];

    memset(&f, 0, sizeof f);
    pthread_mutex_init(&f.lock, NULL);
    pthread_cond_init(&f.started, NULL);
    f.parent_path = path;
    for (int i = 0; i < FANOUT; i++) {
        slots[i] = (struct slot){ .family = &f, .index = i, .depth = depth,
                                  .sum = -1, .nodes = -1 };
        CHECK_RC(pthread_create(&threads[i], NULL, child, &slots[i]));
    }
    pthread_mutex_lock(&f.lock);
    f.go = 1;
    pthread_cond_broadcast(&f.started);
    pthread_mutex_unlock(&f.lock);

    long sum = 0;
    *nodes = 0;
    for (int i = 0; i < FANOUT; i++) {
        void *ret = NULL;
        CHECK_RC(pthread_join(threads[i], &ret));
        CHECK_EQ((intptr_t)ret, i + 100 * depth);
        char want[32];
        if (path[0] == '\0') {
            snprintf(want, sizeof want, "%d", i + 1);
        } else {
            snprintf(want, sizeof want, "%s.%d", path, i + 1);
        }
        if (strcmp(slots[i].path, want) != 0) {
            check_fail(__FILE__, __LINE__, 0, "slot path '%s', want '%s'",
                       slots[i].path, want);
        }
        for (int b = 0; b < PART; b++) {
            if (f.buf[i * PART + b] != fill_byte(want, b)) {
                check_fail(__FILE__, __LINE__, 0,
                           "%s: byte %d of its part not written", want, b);
                break;
            }
        }
        CHECK(slots[i].nodes > 0);
        sum += slots[i].sum;
        *nodes += slots[i].nodes;
        if (depth == 1) {
            printf("child %s: nodes %d sum %ld\n", slots[i].path,
                   slots[i].nodes, slots[i].sum);
        }
    }
    CHECK_EQ(f.arrived, FANOUT);
    long want_visits = 0;
    for (int i = 0; i < FANOUT; i++) {
        want_visits += 10 * i + depth;
    }
    CHECK_EQ(f.visits, want_visits);
    pthread_mutex_destroy(&f.lock);
    pthread_cond_destroy(&f.started);
    return sum;
}

int main(void)
{
    int nodes = 0;
    const long sum = run_family("", 1, &nodes);

    printf("threads %d\nchecksum %ld\n", nodes, sum);
    return check_exit_status();
}
