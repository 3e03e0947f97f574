/* SPDX-License-Identifier: MIT */
/* fscanf, scanf, vfscanf, vscanf and their __isoc99_ names (what C99
 * programs call) park only the caller when their FILE runs dry; the
 * other stdio reads are in wrappers/stdio-read.c. Passed straight to
 * glibc: callers that may not park, FILEs with no fd or wide-oriented,
 * and fds that never block or that the program made non-blocking.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>

#include "wrappers/stdio-read.h"

#include "wrappers/wrap.h"

/* glibc's scanf reads ahead as far as its format takes it, with refills
 * no wrapper sees. So it reads a proxy instead: a FILE of fopencookie(3)
 * whose one-byte buffer (full buffering: no stdout flush of its own) is
 * refilled with one byte of the program's FILE, taken with
 * green__stdio_uflow, which waits first. What scanf pushes back into the
 * proxy goes back into the program's FILE with ungetc, right behind the
 * bytes it came from, so that FILE ends exactly as glibc would leave it.
 * The proxy takes no lock of its own (FSETLOCKING_BYCALLER): another
 * thread's fflush(NULL) must never wait for it in the kernel. */
struct scan_proxy {
    FILE *f;
    char buf[1];
};

static ssize_t proxy_read(void *cookie, char *buf, size_t size)
{
    struct scan_proxy *p = cookie;
    FILE *f = p->f;
    if (size == 0) {
        return 0;
    }
    const int old_error = f->_flags & _IO_ERR_SEEN;
    f->_flags &= ~_IO_ERR_SEEN;
    const int c = green__stdio_uflow(f, true);
    const bool failed = f->_flags & _IO_ERR_SEEN;
    f->_flags |= old_error;
    if (c == EOF) {
        return failed ? -1 : 0;         /* errno is the read's */
    }
    buf[0] = (char)c;
    return 1;
}

/* Move what scanf left in `proxy` back into `f`, in order. */
static void give_back(FILE *proxy, FILE *f)
{
    unsigned char back[16];
    size_t k = 0;
    while (k < sizeof back && green__stdio_buffered(proxy) > 0) {
        back[k++] = (unsigned char)GREEN_REAL_FN(getc_unlocked)(proxy);
    }
    while (k > 0) {
        ungetc(back[--k], f);
    }
}

typedef int (*vscan_fn)(FILE *, const char *, va_list);

static int scan(FILE *f, const char *fmt, va_list ap, vscan_fn real)
{
    if (!green__may_park() || f->_fileno < 0 || f->_mode > 0
        || !green__stdio_fd_can_block(f->_fileno)) {
        return real(f, fmt, ap);
    }
    const int entry_errno = errno;
    struct scan_proxy *p = malloc(sizeof *p);
    const cookie_io_functions_t io = { .read = proxy_read };
    FILE *proxy = p != NULL ? fopencookie(p, "r", io) : NULL;
    errno = entry_errno;
    if (proxy == NULL) {
        free(p);
        return real(f, fmt, ap);        /* correct, if it may block */
    }
    p->f = f;
    __fsetlocking(proxy, FSETLOCKING_BYCALLER);
    setvbuf(proxy, p->buf, _IOFBF, sizeof p->buf);
    green__stdio_lock(f, true);
    const int r = real(proxy, fmt, ap);
    const int err = errno;
    give_back(proxy, f);
    green__stdio_unlock(f, true);
    fclose(proxy);
    free(p);
    errno = err;
    green__fd_call_end();
    return r;
}

/* With _GNU_SOURCE, <stdio.h> names the C99 scanf functions fscanf and
 * so on (asm labels __isoc99_*); the wrappers take their exported names
 * from asm labels too. The plain names keep glibc's GNU %a extension. */
int wrap_vfscanf(FILE *f, const char *fmt, va_list ap) __asm__("vfscanf");
int wrap_vscanf(const char *fmt, va_list ap) __asm__("vscanf");
int wrap_fscanf(FILE *f, const char *fmt, ...) __asm__("fscanf");
int wrap_scanf(const char *fmt, ...) __asm__("scanf");
int wrap_isoc99_vfscanf(FILE *f, const char *fmt, va_list ap)
    __asm__("__isoc99_vfscanf");
int wrap_isoc99_vscanf(const char *fmt, va_list ap)
    __asm__("__isoc99_vscanf");
int wrap_isoc99_fscanf(FILE *f, const char *fmt, ...)
    __asm__("__isoc99_fscanf");
int wrap_isoc99_scanf(const char *fmt, ...) __asm__("__isoc99_scanf");

GREEN_WRAP int wrap_vfscanf(FILE *f, const char *fmt, va_list ap)
{
    green__ensure_init();
    return scan(f, fmt, ap, GREEN_REAL_FN(vfscanf));
}

GREEN_WRAP int wrap_vscanf(const char *fmt, va_list ap)
{
    green__ensure_init();
    return scan(stdin, fmt, ap, GREEN_REAL_FN(vfscanf));
}

GREEN_WRAP int wrap_fscanf(FILE *f, const char *fmt, ...)
{
    green__ensure_init();
    va_list ap;
    va_start(ap, fmt);
    const int r = scan(f, fmt, ap, GREEN_REAL_FN(vfscanf));
    va_end(ap);
    return r;
}

GREEN_WRAP int wrap_scanf(const char *fmt, ...)
{
    green__ensure_init();
    va_list ap;
    va_start(ap, fmt);
    const int r = scan(stdin, fmt, ap, GREEN_REAL_FN(vfscanf));
    va_end(ap);
    return r;
}

GREEN_WRAP int wrap_isoc99_vfscanf(FILE *f, const char *fmt, va_list ap)
{
    green__ensure_init();
    return scan(f, fmt, ap, GREEN_REAL_FN(__isoc99_vfscanf));
}

GREEN_WRAP int wrap_isoc99_vscanf(const char *fmt, va_list ap)
{
    green__ensure_init();
    return scan(stdin, fmt, ap, GREEN_REAL_FN(__isoc99_vfscanf));
}

GREEN_WRAP int wrap_isoc99_fscanf(FILE *f, const char *fmt, ...)
{
    green__ensure_init();
    va_list ap;
    va_start(ap, fmt);
    const int r = scan(f, fmt, ap, GREEN_REAL_FN(__isoc99_vfscanf));
    va_end(ap);
    return r;
}

GREEN_WRAP int wrap_isoc99_scanf(const char *fmt, ...)
{
    green__ensure_init();
    va_list ap;
    va_start(ap, fmt);
    const int r = scan(stdin, fmt, ap, GREEN_REAL_FN(__isoc99_vfscanf));
    va_end(ap);
    return r;
}
