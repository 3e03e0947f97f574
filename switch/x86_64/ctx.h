/* SPDX-License-Identifier: MIT */
/* Byte offsets of the fields of struct green__ctx on x86-64, shared by
 * switch.S (which cannot see C structs) and switch/stack.c (which checks
 * each one against offsetof with _Static_assert).
 *
 *   offset  field     what
 *   0       sp        stack pointer; the word at sp is the resume address
 *   8       rbx       callee-saved (also the entry argument of a new context)
 *   16      rbp       callee-saved
 *   24      r12       callee-saved (also the entry function of a new context)
 *   32      r13       callee-saved
 *   40      r14       callee-saved
 *   48      r15       callee-saved
 *   56      mxcsr     SSE control/status word (control bits are callee-saved)
 *   60      fpucw     x87 control word (callee-saved), 16 bits
 *   64      size of the save area
 */
#ifndef GREEN_SWITCH_X86_64_CTX_H
#define GREEN_SWITCH_X86_64_CTX_H

#define GREEN__CTX_SP     0
#define GREEN__CTX_RBX    8
#define GREEN__CTX_RBP    16
#define GREEN__CTX_R12    24
#define GREEN__CTX_R13    32
#define GREEN__CTX_R14    40
#define GREEN__CTX_R15    48
#define GREEN__CTX_MXCSR  56
#define GREEN__CTX_FPUCW  60
#define GREEN__CTX_SIZE   64

/* Bytes a new context needs below its stack top before it first runs: the
 * address of green__trampoline, which green__switch pops and jumps to. */
#define GREEN__CTX_FRAME  8

/* The interrupted stack pointer in the ucontext_t a signal handler gets
 * (the caller includes <ucontext.h>). */
#define GREEN__UCTX_SP(uc) \
    ((uintptr_t)((const ucontext_t *)(uc))->uc_mcontext.gregs[REG_RSP])

/* The thread pointer (%fs base). x86-64 uses TLS variant II: static TLS
 * blocks lie below the thread pointer, glibc's TCB (struct pthread, which
 * starts with tcbhead_t) at and above it. tcbhead_t's first words: */
#define GREEN__TCB_SELF0  0         /* void *tcb: the thread pointer itself */
#define GREEN__TCB_DTV    8         /* dtv_t *dtv: module -> TLS block */
#define GREEN__TCB_SELF   16        /* struct pthread *self: THREAD_SELF */
/* tcbhead_t's reserved tail, which glibc never reads or writes but keeps
 * for its size (__glibc_unused2[8][4] of 16 bytes at 0x80, then
 * __padding[8]): a move of the area need not copy it. */
#define GREEN__TCB_UNUSED_FROM 0x80
#define GREEN__TCB_UNUSED_TO   0x2c0
/* A dtv entry whose block is not allocated yet (glibc's
 * TLS_DTV_UNALLOCATED): __tls_get_addr allocates it on first use. */
#define GREEN__TLS_DTV_UNALLOCATED ((void *)-1L)
#define GREEN__HWCAP2_FSGSBASE (1 << 1)  /* AT_HWCAP2: wrfsbase allowed */
#define GREEN__ARCH_SET_FS     0x1002    /* arch_prctl code, <asm/prctl.h> */
#define GREEN__SYS_ARCH_PRCTL  158       /* <asm/unistd_64.h> */

#ifndef __ASSEMBLER__
#include <stddef.h>
#include <stdint.h>

/* The save area of one context; the layout above, as a C struct. */
struct green__ctx {
    uintptr_t sp;
    uint64_t rbx, rbp, r12, r13, r14, r15;
    uint32_t mxcsr;
    uint16_t fpucw;
    uint16_t pad;
};

_Static_assert(offsetof(struct green__ctx, sp) == GREEN__CTX_SP, "sp");
_Static_assert(offsetof(struct green__ctx, rbx) == GREEN__CTX_RBX, "rbx");
_Static_assert(offsetof(struct green__ctx, rbp) == GREEN__CTX_RBP, "rbp");
_Static_assert(offsetof(struct green__ctx, r12) == GREEN__CTX_R12, "r12");
_Static_assert(offsetof(struct green__ctx, r13) == GREEN__CTX_R13, "r13");
_Static_assert(offsetof(struct green__ctx, r14) == GREEN__CTX_R14, "r14");
_Static_assert(offsetof(struct green__ctx, r15) == GREEN__CTX_R15, "r15");
_Static_assert(offsetof(struct green__ctx, mxcsr) == GREEN__CTX_MXCSR, "mxcsr");
_Static_assert(offsetof(struct green__ctx, fpucw) == GREEN__CTX_FPUCW, "fpucw");
_Static_assert(sizeof(struct green__ctx) == GREEN__CTX_SIZE, "size");
#endif

#endif
