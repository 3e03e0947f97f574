/* SPDX-License-Identifier: MIT */
/* The runtime's own system calls on x86-64 (see preload/sys.h):
 *
 *   long green__raw_syscall(long nr, long a, long b, long c, long d,
 *                           long e, long f);
 *
 * One function, so that every system call the runtime makes for itself
 * has one address (time-slice preemption must tell them apart from the
 * program's).
 */
    .text

/* long green__raw_syscall(long nr, long a, long b, long c, long d, long e,
 *                         long f): the system call `nr` with six arguments,
 * made here rather than through libc's syscall(), which libgreen wraps.
 * The kernel takes the arguments in rdi, rsi, rdx, r10, r8, r9; the C
 * caller passed them one register later, the last on the stack (above
 * the return address).
 * Returns what the kernel returns (-errno on failure); errno is untouched;
 * rcx and r11, which syscall clobbers, are caller-saved. */
    .globl  green__raw_syscall
    .hidden green__raw_syscall
    .type   green__raw_syscall, @function
    .p2align 4
green__raw_syscall:
    .cfi_startproc
    movq    %rdi, %rax
    movq    %rsi, %rdi
    movq    %rdx, %rsi
    movq    %rcx, %rdx
    movq    %r8, %r10
    movq    %r9, %r8
    movq    8(%rsp), %r9
    syscall
    ret
    .cfi_endproc
    .size   green__raw_syscall, .-green__raw_syscall

    .section .note.GNU-stack,"",%progbits
