/* SPDX-License-Identifier: MIT */
/* pthread_exit of a green thread as glibc's: a forced unwind of the
 * thread's frames (_Unwind_ForcedUnwind, from libgcc_s), which runs the
 * C++ destructors and catch (...) blocks that rethrow, and the cleanup
 * handlers pushed with pthread_cleanup_push, innermost first; then the
 * thread ends as if its start routine had returned (key and thread_local
 * destructors, hub/sched.c).
 *
 * C cleanup handlers. glibc's pthread_cleanup_push (in C without
 * exceptions) registers a jump buffer in the running thread's struct
 * pthread (`cleanup_jmp_buf`, found here by registering one and looking
 * for it); glibc's own unwind longjmps into each buffer once the unwind
 * has passed the frame that registered it, the macro runs the handler and
 * calls __pthread_unwind_next, which libgreen wraps to go on with this
 * unwind. So this unwind does what glibc's stop function does, with the
 * thread's end where glibc would longjmp back into start_thread: for a
 * green thread the frame of hub/sched.c's thread_main, for main the
 * buffer glibc's __libc_start_call_main registered (never entered: main
 * waits there until the last thread ends, as green__sched_exit_main
 * does). Where the TCB is shared between green threads (hub/tls.c), the
 * buffer chain's head is saved and restored at each switch.
 *
 * Not handled: the pre-2.3.3 _pthread_cleanup_push list (glibc's
 * `cleanup`), which no current header emits.
 */
#include "config.h"

#include <dlfcn.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdlib.h>
#include <unwind.h>

#include "hub/internal.h"

size_t green__exit_chain_off;

static struct {
    _Unwind_Reason_Code (*forced_unwind)(struct _Unwind_Exception *,
                                         _Unwind_Stop_Fn, void *);
    _Unwind_Word (*get_cfa)(struct _Unwind_Context *);
} gcc;

/* The thread pointer: struct pthread starts with itself (tcbhead_t). */
static uintptr_t thread_pointer(void)
{
    uintptr_t tp;
    __asm__("mov %%fs:0, %0" : "=r"(tp));
    return tp;
}

void **green__exit_chain(void)
{
    return green__exit_chain_off != 0
        ? (void **)(thread_pointer() + green__exit_chain_off) : NULL;
}

bool green__exit_init(void)
{
    __pthread_unwind_buf_t probe;
    __pthread_register_cancel(&probe);
    const uintptr_t tp = thread_pointer();
    for (size_t off = 0; off < 4096; off += sizeof(void *)) {
        if (*(void **)(tp + off) == (void *)&probe) {
            green__exit_chain_off = off;
            break;
        }
    }
    __pthread_unregister_cancel(&probe);
    /* glibc keeps it just before cancelhandling, which it describes. */
    const size_t cancel = green__tls_db_offset(
        "_thread_db_pthread_cancelhandling");
    if (cancel != 0 && green__exit_chain_off + sizeof(void *) != cancel) {
        green__exit_chain_off = 0;
    }
    void *lib = dlopen("libgcc_s.so.1", RTLD_NOW | RTLD_LOCAL);
    if (lib != NULL) {
        gcc.forced_unwind = (__typeof__(gcc.forced_unwind))
            dlsym(lib, "_Unwind_ForcedUnwind");
        gcc.get_cfa = (__typeof__(gcc.get_cfa))dlsym(lib, "_Unwind_GetCFA");
    }
    if (green__exit_chain_off == 0 || gcc.forced_unwind == NULL
        || gcc.get_cfa == NULL) {
        GREEN_DEBUG("pthread_exit cannot unwind green threads here\n");
        green__exit_chain_off = 0;
        return false;
    }
    return true;
}

/* The stack pointer a registered buffer's longjmp would restore: glibc
 * keeps it mangled with the pointer guard (tcbhead_t, %fs:0x30). */
static uintptr_t buffer_sp(const __pthread_unwind_buf_t *buf)
{
    uintptr_t guard;
    __asm__("mov %%fs:0x30, %0" : "=r"(guard));
    const uintptr_t v =
        (uintptr_t)buf->__cancel_jmp_buf[0].__cancel_jmp_buf[6];
    return ((v >> 0x11) | (v << (64 - 0x11))) ^ guard;
}

/* glibc's layout of a registered buffer's link (struct pthread_unwind_buf
 * .priv.data.prev). */
static __pthread_unwind_buf_t *buffer_prev(const __pthread_unwind_buf_t *buf)
{
    return (__pthread_unwind_buf_t *)buf->__pad[0];
}

/* The unwind is over: end the thread. Never returns. */
__attribute__((noreturn))
static void finish(struct green__thread *self)
{
    self->unwinding = false;
    if (self->is_main) {
        green__sched_exit_main(self->retval);
    }
    green__sched_exit(self->retval);
}

static _Unwind_Reason_Code stop(int version, _Unwind_Action actions,
                                _Unwind_Exception_Class cls,
                                struct _Unwind_Exception *exc,
                                struct _Unwind_Context *ctx, void *arg)
{
    (void)version;
    (void)cls;
    (void)exc;
    struct green__thread *self = arg;
    const bool end = actions & _UA_END_OF_STACK;
    const uintptr_t cfa = end ? UINTPTR_MAX : gcc.get_cfa(ctx);
    __pthread_unwind_buf_t *buf = *green__exit_chain();
    if (buf != NULL && cfa >= buffer_sp(buf)) {
        if (self->is_main && buffer_prev(buf) == NULL) {
            finish(self);           /* glibc's own, under main() */
        }
        /* Run that handler: its code calls __pthread_unwind_next, which
         * comes back here (green__exit_unwind) for the next. */
        *green__exit_chain() = buffer_prev(buf);
        /* The buffer is glibc's shorter jmp_buf (no signal mask saved,
         * which longjmp then never reads). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstringop-overflow"
        longjmp((struct __jmp_buf_tag *)buf->__cancel_jmp_buf, 1);
#pragma GCC diagnostic pop
    }
    if (end || (!self->is_main && cfa >= self->unwind_top)) {
        finish(self);
    }
    return _URC_NO_REASON;
}

/* A forced unwind that is caught and not rethrown (catch (...) without
 * throw;): glibc aborts the same way. */
static void not_rethrown(_Unwind_Reason_Code reason,
                         struct _Unwind_Exception *exc)
{
    (void)reason;
    (void)exc;
    green__log("FATAL: exception not rethrown\n");
    abort();
}

bool green__exit_unwinding(void)
{
    return green__sched.current->unwinding;
}

void green__exit_unwind(void *retval)
{
    struct green__thread *self = green__sched.current;
    if (!self->unwinding) {
        self->unwinding = true;
        self->retval = retval;
        self->exc = (struct _Unwind_Exception){
            .exception_class = 0x4752454e45584954ULL,   /* "GRENEXIT" */
            .exception_cleanup = not_rethrown,
        };
    }
    if (green__exit_chain_off != 0) {
        gcc.forced_unwind(&self->exc, stop, self);
    }
    finish(self);                   /* no unwinder: end at once */
}
