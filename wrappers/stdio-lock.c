/* SPDX-License-Identifier: MIT */
/* flockfile, ftrylockfile and funlockfile between green threads.
 *
 * glibc's FILE lock records its owner as the calling thread's struct
 * pthread, which differs between green threads (each has its own thread
 * pointer, hub/tls.c). A green thread that parked while holding that lock
 * would make another one's stdio call wait for it in the kernel, and so
 * block every green thread. So once the runtime runs, the lock a program
 * takes explicitly is the runtime's: an owner and a depth per FILE in a
 * small table (nothing is stored in the FILE), with waiters parked on the
 * lot at the FILE's address. stdio's own locking inside each call stays
 * glibc's: no stdio call parks while holding it. A lock taken before the
 * runtime started, or by a kernel thread the runtime did not make, is
 * glibc's, and so is its unlock.
 *
 * The stdio reads of wrappers/stdio-read.c take this lock too, so a
 * reader waits for a flockfile holder as natively. Known gap: a stdio
 * write of another thread (printf, fputs) does not wait for a lock taken
 * with flockfile; its output may come between the lines of the holder's.
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "wrappers/wrap.h"

struct file_lock {
    FILE *file;
    struct green__thread *owner;    /* NULL: free, waiters to take it */
    unsigned depth;
    unsigned waiters;
    struct file_lock *next;
};

static struct file_lock *locks;     /* few: only files locked right now */

static struct file_lock **find(FILE *f)
{
    struct file_lock **at = &locks;
    while (*at != NULL && (*at)->file != f) {
        at = &(*at)->next;
    }
    return at;
}

/* Take `f`'s lock for the running thread if it is free or already its
 * own. Returns 0, EBUSY if another thread holds it, or ENOMEM. */
static int take(FILE *f)
{
    struct green__thread *self = green__self();
    struct file_lock **at = find(f);
    struct file_lock *l = *at;
    if (l == NULL) {
        l = calloc(1, sizeof *l);
        if (l == NULL) {
            return ENOMEM;
        }
        l->file = f;
        *at = l;
    }
    if (l->owner != NULL && l->owner != self) {
        return EBUSY;
    }
    l->owner = self;
    l->depth++;
    return 0;
}

GREEN_WRAP void flockfile(FILE *f)
{
    green__ensure_init();
    if (!green__in_green_thread()) {
        GREEN_REAL_FN(flockfile)(f);
        return;
    }
    int r;
    while ((r = take(f)) == EBUSY) {
        struct file_lock *l = *find(f);
        l->waiters++;
        green__sync_wait(f, -1);
        l->waiters--;
    }
    if (r == ENOMEM) {
        GREEN_REAL_FN(flockfile)(f);   /* correct, if it may block */
    }
}

GREEN_WRAP int ftrylockfile(FILE *f)
{
    green__ensure_init();
    if (!green__in_green_thread()) {
        return GREEN_REAL_FN(ftrylockfile)(f);
    }
    const int r = take(f);
    return r == ENOMEM ? GREEN_REAL_FN(ftrylockfile)(f) : r;
}

GREEN_WRAP void funlockfile(FILE *f)
{
    green__ensure_init();
    struct file_lock **at = green__in_green_thread() ? find(f) : NULL;
    struct file_lock *l = at != NULL ? *at : NULL;
    if (l == NULL || l->owner != green__self()) {
        GREEN_REAL_FN(funlockfile)(f);
        return;
    }
    if (--l->depth > 0) {
        return;
    }
    l->owner = NULL;
    if (l->waiters > 0) {
        green__lot_wake(f, 1);
    } else {
        *at = l->next;
        free(l);
    }
}

void green__stdio_lock_fork(const struct green__thread *self)
{
    for (struct file_lock **at = &locks; *at != NULL;) {
        struct file_lock *l = *at;
        l->waiters = 0;
        if (l->owner == self) {
            at = &l->next;
        } else {
            *at = l->next;
            free(l);
        }
    }
}
