/* SPDX-License-Identifier: MIT */
/* Per-green-thread __thread variables. Every green thread runs on the one
 * kernel thread, so they all see that thread's TLS blocks. Like stacks,
 * the blocks are copied: when the hub resumes a thread other than the one
 * whose values are in place, it saves those values to their owner's buffer
 * and loads the new thread's. A new thread starts from each module's
 * initial image (.tdata copied, .tbss zeroed), as glibc starts a thread.
 *
 * Copied: the static TLS blocks of the program and of every library loaded
 * by the time the runtime starts (C++ exception state in libstdc++ among
 * them), found with dl_iterate_phdr. Not copied: glibc's own block, whose
 * state belongs to the kernel thread (malloc's per-thread cache, locale)
 * and whose errno the scheduler keeps per thread itself; libgreen's own;
 * blocks of libraries dlopen'ed later (shared by all green threads).
 *
 *   kernel thread's TLS (below the thread pointer)
 *   +------------+------------+-------------+-----------+
 *   | program    | libstdc++  | libgreen    | libc      |  TCB
 *   +------------+------------+-------------+-----------+
 *     copied       copied       not copied    not copied
 */
#include "config.h"

#include <elf.h>
#include <errno.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>

#include "hub/internal.h"

struct block {
    unsigned char *addr;            /* this kernel thread's instance */
    size_t size;                    /* p_memsz */
    const unsigned char *image;     /* .tdata initial image */
    size_t filesz;                  /* bytes of image; the rest is zero */
};

static struct {
    struct block *blocks;
    size_t n;
    size_t total;                   /* bytes a thread's buffer holds */
    struct green__thread *owner;    /* whose values are in place */
} tls;

static bool is_libc(const char *name)
{
    const char *base = strrchr(name, '/');
    return strncmp(base ? base + 1 : name, "libc.so", 7) == 0;
}

static int collect(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    (void)data;
    if (info->dlpi_tls_data == NULL || is_libc(info->dlpi_name)) {
        return 0;
    }
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_TLS || ph->p_memsz == 0) {
            continue;
        }
        unsigned char *addr = info->dlpi_tls_data;
        const unsigned char *ours = (const unsigned char *)&green__kthread_role;
        if (ours >= addr && ours < addr + ph->p_memsz) {
            continue;
        }
        struct block *b = realloc(tls.blocks, (tls.n + 1) * sizeof *b);
        if (b == NULL) {
            return -1;
        }
        tls.blocks = b;
        tls.blocks[tls.n++] = (struct block){
            .addr = addr,
            .size = ph->p_memsz,
            .image = (const unsigned char *)(info->dlpi_addr + ph->p_vaddr),
            .filesz = ph->p_filesz,
        };
        tls.total += ph->p_memsz;
    }
    return 0;
}

int green__tls_init(struct green__thread *main_thread)
{
    if (dl_iterate_phdr(collect, NULL) != 0) {
        free(tls.blocks);
        tls.blocks = NULL;
        tls.n = tls.total = 0;
        return -ENOMEM;
    }
    tls.owner = main_thread;
    return 0;
}

int green__tls_create(struct green__thread *t)
{
    if (tls.total == 0) {
        return 0;
    }
    unsigned char *buf = malloc(tls.total);
    if (buf == NULL) {
        return -EAGAIN;
    }
    unsigned char *at = buf;
    for (size_t i = 0; i < tls.n; i++) {
        const struct block *b = &tls.blocks[i];
        memcpy(at, b->image, b->filesz);
        memset(at + b->filesz, 0, b->size - b->filesz);
        at += b->size;
    }
    t->tls = buf;
    return 0;
}

void green__tls_switch(struct green__thread *to)
{
    if (tls.total == 0 || tls.owner == to) {
        return;
    }
    struct green__thread *from = tls.owner;
    if (from != NULL) {
        if (from->tls == NULL) {
            from->tls = malloc(tls.total);      /* main, first time */
            GREEN_ASSERT(from->tls != NULL,
                         "out of memory saving thread-local storage");
        }
        unsigned char *at = from->tls;
        for (size_t i = 0; i < tls.n; i++) {
            memcpy(at, tls.blocks[i].addr, tls.blocks[i].size);
            at += tls.blocks[i].size;
        }
    }
    const unsigned char *at = to->tls;
    for (size_t i = 0; i < tls.n; i++) {
        memcpy(tls.blocks[i].addr, at, tls.blocks[i].size);
        at += tls.blocks[i].size;
    }
    tls.owner = to;
}

void green__tls_release(struct green__thread *t)
{
    if (tls.owner == t) {
        tls.owner = NULL;
    }
    free(t->tls);
    t->tls = NULL;
}
