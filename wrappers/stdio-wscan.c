/* SPDX-License-Identifier: MIT */
/* fwscanf, wscanf, vfwscanf, vwscanf and their __isoc99_ names (what C99
 * programs call) park only the caller when their FILE runs dry; glibc
 * 2.36 has no fortified forms of them. The byte scanf family is
 * wrappers/stdio-scan.c's, the other wide reads wrappers/stdio-wide.c's.
 *
 * The byte scanf reads a stand-in FILE of fopencookie(3) whose reads
 * wait; a cookie FILE cannot be wide-oriented, and glibc's wide refills
 * reach the fd only through its checked vtables, so no wrapper sees them.
 * So the real call on the program's FILE is made only once it cannot
 * block, and a dry run says when that is:
 *
 *  1. The dry run: the same scanf (plain or C99) with every assignment
 *     suppressed ('*' added to each conversion, no arguments read) runs on
 *     a private wide FILE whose byte buffer holds a copy of what the
 *     program's FILE holds: its wide characters, encoded again, then its
 *     unconverted bytes. The private FILE reads /dev/null, so a refill
 *     that would read finds EOF: scanf ran dry, it needs input that has
 *     not come. (errno cannot tell: glibc's %n loses it.) A conversion
 *     error sets the error flag only.
 *  2. Ran dry: park until the fd is readable and read what it holds into
 *     the FILE's byte buffer, as glibc's refill would at that point (the
 *     stdout flush before it included), and go back to 1.
 *  3. Did not run dry: the real call on the program's FILE, which then
 *     converts and scans what is buffered without reading. Results,
 *     errno, the flags, ungetwc and what is left unread are glibc's.
 *
 * When the fd ends while scanf waits for it (EOF, an error, a signal
 * handler without SA_RESTART, SO_RCVTIMEO), that end must reach glibc
 * where its refill would have met it: for the real call the FILE's fd is
 * a private pipe, empty but for the end: its write end closed for EOF,
 * left open and non-blocking for an error (the EAGAIN glibc meets is then
 * given the error's errno). If the last read made no whole character,
 * glibc would still be inside that refill, reading again, and an end
 * then drops the partial character with EILSEQ: so those bytes go into
 * the pipe before the end, and glibc reads them in that same refill.
 *
 *   byte buffer:  [converted | whole characters | partial]  <- reads
 *   private pipe: [partial, if the last read made no character] [end]
 *
 * Passed straight to glibc (and blocking when they wait): callers that
 * may not park, FILEs with no fd, byte-oriented, at EOF, not open for
 * reading or with output pending, fds that never block or that the
 * program made non-blocking, and unbuffered FILEs. When a private FILE or
 * pipe cannot be had, a wide character buffered cannot be encoded again,
 * or a single scan needs more than a byte buffer holds, the real call is
 * made on what has come so far and may block. Stateful multibyte
 * encodings are not mirrored: the dry run starts in the initial shift
 * state.
 */
#include "config.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wchar.h>

#include "wrappers/stdio-read.h"

#include "wrappers/wrap.h"

typedef int (*vwscan_fn)(FILE *, const wchar_t *, va_list);

/* ---- the dry run's format: every conversion suppressed -------------- */

/* True for what may come between '%' and the conversion character. */
static bool spec_modifier(wchar_t c, wchar_t next, bool c99)
{
    if (c == L'\0') {
        return false;
    }
    if ((c >= L'0' && c <= L'9') || wcschr(L"*'Ihlqjztm", c) != NULL) {
        return true;
    }
    /* glibc's GNU %as, %aS, %a[ allocate, except in the C99 scanf. */
    return c == L'a' && !c99 && (next == L's' || next == L'S' || next == L'[');
}

/* `fmt` with '*' after each conversion's '%' (after its n$, which is
 * dropped: a suppressed conversion takes no argument), the rest as is.
 * malloc'd; NULL when out of memory. */
static wchar_t *suppressed(const wchar_t *fmt, bool c99)
{
    const size_t len = wcslen(fmt);
    wchar_t *out = malloc((2 * len + 1) * sizeof *out);
    if (out == NULL) {
        return NULL;
    }
    wchar_t *o = out;
    const wchar_t *p = fmt;
    while (*p != L'\0') {
        if (*p != L'%') {
            *o++ = *p++;
            continue;
        }
        *o++ = *p++;
        if (*p == L'%') {
            *o++ = *p++;
            continue;
        }
        const wchar_t *q = p;
        while (*q >= L'0' && *q <= L'9') {
            q++;
        }
        if (q > p && *q == L'$') {
            p = q + 1;
        }
        *o++ = L'*';
        while (spec_modifier(*p, p[0] != L'\0' ? p[1] : L'\0', c99)) {
            *o++ = *p++;
        }
        if (*p == L'[') {
            /* A scan set: ']' right after '[' or "[^" is one of its
             * characters; a '%' inside is no conversion. */
            *o++ = *p++;
            if (*p == L'^') {
                *o++ = *p++;
            }
            if (*p == L']') {
                *o++ = *p++;
            }
            while (*p != L'\0' && *p != L']') {
                *o++ = *p++;
            }
        }
        if (*p != L'\0') {
            *o++ = *p++;                /* the conversion character */
        }
    }
    *o = L'\0';
    return out;
}

/* ---- the dry run ---------------------------------------------------- */

enum dry { DRY_DONE, DRY_RAN_DRY, DRY_UNKNOWN };

/* Append the multibyte form of wide characters [from, to) to `out`. */
static bool encode(const wchar_t *from, const wchar_t *to, char *out,
                   size_t *len)
{
    mbstate_t st;
    memset(&st, 0, sizeof st);
    for (const wchar_t *p = from; p < to; p++) {
        const size_t n = wcrtomb(out + *len, *p, &st);
        if (n == (size_t)-1) {
            return false;
        }
        *len += n;
    }
    return true;
}

/* What `f` holds as bytes: its wide get area (after an ungetwc that went
 * to the backup area, that area, then the main one), then its
 * unconverted bytes. malloc'd into *out (*len bytes); false when out of
 * memory or when a wide character has no multibyte form. */
static bool buffered_bytes(const FILE *f, char **out, size_t *len)
{
    const struct green__wide_data *w = green__stdio_wide(f);
    const wchar_t *areas[2][2] = { { NULL, NULL }, { NULL, NULL } };
    size_t chars = 0;
    if (w->read_ptr < w->read_end) {
        areas[0][0] = w->read_ptr;
        areas[0][1] = w->read_end;
        chars += (size_t)(w->read_end - w->read_ptr);
    }
    if ((f->_flags & IO_IN_BACKUP) && w->save_base < w->save_end) {
        areas[1][0] = w->save_base;
        areas[1][1] = w->save_end;
        chars += (size_t)(w->save_end - w->save_base);
    }
    const size_t bytes = f->_IO_read_ptr < f->_IO_read_end
        ? (size_t)(f->_IO_read_end - f->_IO_read_ptr) : 0;
    *out = malloc(chars * MB_LEN_MAX + bytes + 1);
    if (*out == NULL) {
        return false;
    }
    *len = 0;
    for (int i = 0; i < 2; i++) {
        if (areas[i][0] != NULL
            && !encode(areas[i][0], areas[i][1], *out, len)) {
            free(*out);
            return false;
        }
    }
    if (bytes > 0) {
        memcpy(*out + *len, f->_IO_read_ptr, bytes);
        *len += bytes;
    }
    return true;
}

/* A private wide FILE on /dev/null whose byte buffer is `buf` (`size`
 * bytes), holding `len` bytes to convert, in `f`'s conversion state;
 * NULL when it cannot be had. */
static FILE *dry_file(char *buf, size_t size, size_t len, const FILE *f)
{
    FILE *g = fopen("/dev/null", "re");
    if (g == NULL) {
        return NULL;
    }
    __fsetlocking(g, FSETLOCKING_BYCALLER);
    setvbuf(g, buf, _IOFBF, size);
    fwide(g, 1);
    _IO_wdoallocbuf(g);                 /* its refill converts into it */
    g->_IO_read_base = g->_IO_read_ptr = buf;
    g->_IO_read_end = buf + len;
    g->_IO_write_base = g->_IO_write_ptr = g->_IO_write_end = buf;
    green__stdio_wide(g)->state = green__stdio_wide(f)->state;
    return g;
}

/* Run `real` with the suppressed format `dry_fmt` on a copy of what `f`
 * holds: DRY_RAN_DRY when it needed more, DRY_DONE when not, DRY_UNKNOWN
 * when the copy could not be made. errno is kept. */
static enum dry dry_run(FILE *f, const wchar_t *dry_fmt, va_list ap,
                        vwscan_fn real)
{
    const int entry_errno = errno;
    char *bytes;
    size_t len;
    if (!buffered_bytes(f, &bytes, &len)) {
        errno = entry_errno;
        return DRY_UNKNOWN;
    }
    const size_t size = len < 4 * MB_LEN_MAX ? 4 * MB_LEN_MAX : len;
    char *buf = realloc(bytes, size);
    FILE *g = buf != NULL ? dry_file(buf, size, len, f) : NULL;
    enum dry r = DRY_UNKNOWN;
    if (g != NULL) {
        va_list copy;
        va_copy(copy, ap);
        real(g, dry_fmt, copy);
        r = feof(g) ? DRY_RAN_DRY : DRY_DONE;
        va_end(copy);
        GREEN_REAL_FN(fclose)(g);
    }
    free(buf != NULL ? buf : bytes);
    errno = entry_errno;
    return r;
}

/* ---- reading what the dry run found missing ------------------------ */

struct wscan {
    FILE *f;
    struct green__call call;    /* the refill's read (SO_RCVTIMEO) */
    bool ended;             /* the fd ended: EOF (err 0) or error `err` */
    int err;
    bool partial;           /* the last read made no whole character */
};

/* The end of the whole characters among `f`'s unconverted bytes; bytes
 * that can make no character count as whole (glibc fails on them
 * without reading). */
static char *whole_end(const FILE *f)
{
    mbstate_t st = green__stdio_wide(f)->state;
    const char *p = f->_IO_read_ptr;
    while (p < f->_IO_read_end) {
        wchar_t wc;
        const size_t n = mbrtowc(&wc, p, (size_t)(f->_IO_read_end - p), &st);
        if (n == (size_t)-2) {
            break;
        }
        if (n == (size_t)-1) {
            return f->_IO_read_end;
        }
        p += n == 0 ? 1 : n;
    }
    return (char *)p;
}

/* Read once into `f`'s byte buffer after parking until its fd is
 * readable, as glibc's refill would read now. Returns true after bytes
 * came; false when the fd ended (s->ended) or the buffer is full. */
static bool read_more(struct wscan *s)
{
    FILE *f = s->f;
    if (green__stdio_wide(f)->buf_base == NULL) {
        /* Before the wide preparation, which would free an ungetwc's
         * backup area that the real call has yet to read. */
        _IO_wdoallocbuf(f);
    }
    green__stdio_wide_prepare(f);
    const size_t space = (size_t)(f->_IO_buf_end - f->_IO_read_end);
    if (space == 0) {
        return false;
    }
    const int fd = f->_fileno;
    for (;;) {
        const int r = green__stdio_wait(f, true, &s->call);
        if (r < 0) {
            s->ended = true;
            s->err = -r;
            return false;
        }
        const char *whole = whole_end(f);
        const ssize_t n = GREEN_REAL_FN(read)(fd, f->_IO_read_end, space);
        if (n > 0) {
            f->_IO_read_end += n;
            if (f->_offset != -1) {
                f->_offset += n;
            }
            s->partial = whole_end(f) == whole;
            return true;
        }
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
            continue;                   /* another reader was first */
        }
        s->ended = true;
        s->err = n < 0 ? errno : 0;
        return false;
    }
}

/* ---- the real call, on what has come -------------------------------- */

/* The real call with `f`'s fd replaced by a private pipe that gives
 * glibc's refill the end the fd met: the partial character the last
 * read brought, if it made none, then EOF or EAGAIN (reported as the
 * error's errno). Returns false, having done nothing, without a pipe. */
static bool scan_ended(struct wscan *s, const wchar_t *fmt, va_list ap,
                       vwscan_fn real, int *result)
{
    FILE *f = s->f;
    int p[2];
    if (GREEN_REAL_FN(pipe2)(p, O_CLOEXEC | O_NONBLOCK) < 0) {
        return false;
    }
    if (s->partial) {
        char *whole = whole_end(f);
        const size_t tail = (size_t)(f->_IO_read_end - whole);
        /* At most MB_LEN_MAX bytes: an empty pipe takes them. */
        if (GREEN_REAL_FN(write)(p[1], whole, tail) == (ssize_t)tail) {
            f->_IO_read_end = whole;
            if (f->_offset != -1) {
                f->_offset -= (off_t)tail;
            }
        }
    }
    if (s->err == 0) {
        GREEN_REAL_FN(close)(p[1]);
        p[1] = -1;
    }
    const int fd = f->_fileno;
    const int old_error = f->_flags & IO_ERR_SEEN;
    f->_flags &= ~IO_ERR_SEEN;
    f->_fileno = p[0];
    *result = real(f, fmt, ap);
    f->_fileno = fd;
    if ((f->_flags & IO_ERR_SEEN) && errno == EAGAIN && s->err != 0) {
        errno = s->err;
    }
    f->_flags |= old_error;
    const int err = errno;
    GREEN_REAL_FN(close)(p[0]);
    if (p[1] >= 0) {
        GREEN_REAL_FN(close)(p[1]);
    }
    errno = err;
    return true;
}

/* True when `f` must go straight to glibc (see the top comment). */
static bool wscan_passthrough(FILE *f)
{
    if (!green__may_park() || f->_fileno < 0 || f->_mode < 0
        || (f->_flags & (IO_NO_READS | IO_EOF_SEEN | IO_UNBUFFERED
                         | IO_PUTTING))
        || !green__stdio_fd_can_block(f->_fileno)) {
        return true;
    }
    if (f->_mode == 0) {
        fwide(f, 1);                    /* glibc's first step */
    }
    return f->_mode <= 0;
}

static int wscan(FILE *f, const wchar_t *fmt, va_list ap, vwscan_fn real,
                 bool c99)
{
    if (wscan_passthrough(f)) {
        return real(f, fmt, ap);
    }
    const int entry_errno = errno;
    wchar_t *dry_fmt = suppressed(fmt, c99);
    errno = entry_errno;
    if (dry_fmt == NULL) {
        return real(f, fmt, ap);        /* correct, if it may block */
    }
    green__stdio_lock(f, true);
    struct wscan s = { .f = f, .call = GREEN__STDIO_CALL(f) };
    while (dry_run(f, dry_fmt, ap, real) == DRY_RAN_DRY && read_more(&s)) {
    }
    free(dry_fmt);
    errno = entry_errno;
    int r;
    if (!s.ended || !scan_ended(&s, fmt, ap, real, &r)) {
        r = real(f, fmt, ap);
    }
    const int err = errno;
    green__stdio_unlock(f, true);
    errno = err;
    green__fd_call_end();
    return r;
}

/* With _GNU_SOURCE, <wchar.h> names the C99 wide scanf functions fwscanf
 * and so on (asm labels __isoc99_*); the wrappers take their exported
 * names from asm labels too. The plain names keep glibc's GNU %a. */
int wrap_vfwscanf(FILE *f, const wchar_t *fmt, va_list ap)
    __asm__("vfwscanf");
int wrap_vwscanf(const wchar_t *fmt, va_list ap) __asm__("vwscanf");
int wrap_fwscanf(FILE *f, const wchar_t *fmt, ...) __asm__("fwscanf");
int wrap_wscanf(const wchar_t *fmt, ...) __asm__("wscanf");
int wrap_isoc99_vfwscanf(FILE *f, const wchar_t *fmt, va_list ap)
    __asm__("__isoc99_vfwscanf");
int wrap_isoc99_vwscanf(const wchar_t *fmt, va_list ap)
    __asm__("__isoc99_vwscanf");
int wrap_isoc99_fwscanf(FILE *f, const wchar_t *fmt, ...)
    __asm__("__isoc99_fwscanf");
int wrap_isoc99_wscanf(const wchar_t *fmt, ...) __asm__("__isoc99_wscanf");

GREEN_WRAP int wrap_vfwscanf(FILE *f, const wchar_t *fmt, va_list ap)
{
    green__ensure_init();
    return wscan(f, fmt, ap, GREEN_REAL_FN(vfwscanf), false);
}

GREEN_WRAP int wrap_vwscanf(const wchar_t *fmt, va_list ap)
{
    green__ensure_init();
    return wscan(stdin, fmt, ap, GREEN_REAL_FN(vfwscanf), false);
}

GREEN_WRAP int wrap_fwscanf(FILE *f, const wchar_t *fmt, ...)
{
    green__ensure_init();
    va_list ap;
    va_start(ap, fmt);
    const int r = wscan(f, fmt, ap, GREEN_REAL_FN(vfwscanf), false);
    va_end(ap);
    return r;
}

GREEN_WRAP int wrap_wscanf(const wchar_t *fmt, ...)
{
    green__ensure_init();
    va_list ap;
    va_start(ap, fmt);
    const int r = wscan(stdin, fmt, ap, GREEN_REAL_FN(vfwscanf), false);
    va_end(ap);
    return r;
}

GREEN_WRAP int wrap_isoc99_vfwscanf(FILE *f, const wchar_t *fmt, va_list ap)
{
    green__ensure_init();
    return wscan(f, fmt, ap, GREEN_REAL_FN(__isoc99_vfwscanf), true);
}

GREEN_WRAP int wrap_isoc99_vwscanf(const wchar_t *fmt, va_list ap)
{
    green__ensure_init();
    return wscan(stdin, fmt, ap, GREEN_REAL_FN(__isoc99_vfwscanf), true);
}

GREEN_WRAP int wrap_isoc99_fwscanf(FILE *f, const wchar_t *fmt, ...)
{
    green__ensure_init();
    va_list ap;
    va_start(ap, fmt);
    const int r = wscan(f, fmt, ap, GREEN_REAL_FN(__isoc99_vfwscanf), true);
    va_end(ap);
    return r;
}

GREEN_WRAP int wrap_isoc99_wscanf(const wchar_t *fmt, ...)
{
    green__ensure_init();
    va_list ap;
    va_start(ap, fmt);
    const int r = wscan(stdin, fmt, ap, GREEN_REAL_FN(__isoc99_vfwscanf),
                        true);
    va_end(ap);
    return r;
}
