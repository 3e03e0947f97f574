/* SPDX-License-Identifier: MIT */
/* The x86-64 context switch and the entry of new contexts.
 *
 *   void green__switch(struct green__ctx *from, struct green__ctx *to);
 *   void green__ctx_init(struct green__ctx *ctx, void *sp,
 *                        void (*fn)(void *), void *arg);
 *   green__trampoline  (never called: the first resume address of a context)
 *   void green__thread_pointer_set(uintptr_t tp, int wrfsbase);
 *
 * ABI: System V AMD64 psABI 1.0, section 3.2.1 "Registers": rbx, rbp,
 * r12-r15 and rsp are callee-saved, so are the control bits of MXCSR and the
 * x87 control word (3.2.3 and the "Registers" table). green__switch is an
 * ordinary call from C, so it saves exactly those; everything caller-saved
 * (rax, rcx, rdx, rsi, rdi, r8-r11, xmm*, flags) is dead at the call.
 * Deliberately not saved: the red zone (no frame is live below a call), the
 * signal mask (a switch makes no system call), the x87/SSE status flags.
 *
 * The resume address stays on the stack where the caller's `call` put it;
 * green__switch pops it and jumps (pop+jmp rather than `ret`: after a switch
 * the return-stack buffer belongs to the other context, and a mispredicted
 * `ret` costs several times a predicted indirect jump on current cores).
 *
 * Save area (offsets from ctx.h):
 *   0 sp | 8 rbx | 16 rbp | 24 r12 | 32 r13 | 40 r14 | 48 r15 |
 *   56 mxcsr (4 bytes) | 60 x87 control word (2 bytes)
 *
 * A new context: sp = top - 8 holds &green__trampoline (written by the C
 * side, see switch.h); rbx = arg, r12 = fn. After the pop, rsp = top, which
 * is 16-byte aligned, so `call *%r12` enters fn with the alignment the ABI
 * requires. fn never returns.
 */
#include "ctx.h"

    .text

    .globl  green__switch
    .hidden green__switch
    .type   green__switch, @function
    .p2align 4
green__switch:
    .cfi_startproc
    movq    %rsp, GREEN__CTX_SP(%rdi)
    movq    %rbx, GREEN__CTX_RBX(%rdi)
    movq    %rbp, GREEN__CTX_RBP(%rdi)
    movq    %r12, GREEN__CTX_R12(%rdi)
    movq    %r13, GREEN__CTX_R13(%rdi)
    movq    %r14, GREEN__CTX_R14(%rdi)
    movq    %r15, GREEN__CTX_R15(%rdi)
    stmxcsr GREEN__CTX_MXCSR(%rdi)
    fnstcw  GREEN__CTX_FPUCW(%rdi)

    movq    GREEN__CTX_SP(%rsi), %rsp
    movq    GREEN__CTX_RBX(%rsi), %rbx
    movq    GREEN__CTX_RBP(%rsi), %rbp
    movq    GREEN__CTX_R12(%rsi), %r12
    movq    GREEN__CTX_R13(%rsi), %r13
    movq    GREEN__CTX_R14(%rsi), %r14
    movq    GREEN__CTX_R15(%rsi), %r15
    ldmxcsr GREEN__CTX_MXCSR(%rsi)
    fldcw   GREEN__CTX_FPUCW(%rsi)
    popq    %rcx
    jmpq    *%rcx
    .cfi_endproc
    .size   green__switch, .-green__switch

    .globl  green__ctx_init
    .hidden green__ctx_init
    .type   green__ctx_init, @function
    .p2align 4
green__ctx_init:
    .cfi_startproc
    movq    %rsi, GREEN__CTX_SP(%rdi)
    movq    %rcx, GREEN__CTX_RBX(%rdi)
    movq    $0, GREEN__CTX_RBP(%rdi)
    movq    %rdx, GREEN__CTX_R12(%rdi)
    movq    $0, GREEN__CTX_R13(%rdi)
    movq    $0, GREEN__CTX_R14(%rdi)
    movq    $0, GREEN__CTX_R15(%rdi)
    stmxcsr GREEN__CTX_MXCSR(%rdi)      /* a new thread inherits its creator's */
    fnstcw  GREEN__CTX_FPUCW(%rdi)      /* floating-point environment */
    ret
    .cfi_endproc
    .size   green__ctx_init, .-green__ctx_init

    .globl  green__trampoline
    .hidden green__trampoline
    .type   green__trampoline, @function
    .p2align 4
green__trampoline:
    .cfi_startproc
    .cfi_undefined rip                  /* outermost frame for unwinders */
    movq    %rbx, %rdi
    callq   *%r12
    ud2                                 /* fn must not return */
    .cfi_endproc
    .size   green__trampoline, .-green__trampoline

/* Point %fs (the thread pointer: TLS and glibc's TCB) at `tp`. With
 * `wrfsbase` non-zero the CPU and kernel allow the FSGSBASE instructions
 * (AT_HWCAP2 bit GREEN__HWCAP2_FSGSBASE, Linux >= 5.9) and one instruction
 * does it; otherwise arch_prctl(ARCH_SET_FS, tp), which cannot fail for a
 * canonical address. rcx and r11 (clobbered by syscall) are caller-saved. */
    .globl  green__thread_pointer_set
    .hidden green__thread_pointer_set
    .type   green__thread_pointer_set, @function
    .p2align 4
green__thread_pointer_set:
    .cfi_startproc
    testl   %esi, %esi
    jz      1f
    wrfsbase %rdi
    ret
1:
    movq    %rdi, %rsi
    movl    $GREEN__ARCH_SET_FS, %edi
    movl    $GREEN__SYS_ARCH_PRCTL, %eax
    syscall
    ret
    .cfi_endproc
    .size   green__thread_pointer_set, .-green__thread_pointer_set

    .section .note.GNU-stack,"",%progbits
