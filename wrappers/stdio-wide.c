/* SPDX-License-Identifier: MIT */
/* Wide-character stdio reads that park only the caller: fgetwc, getwc,
 * getwchar and their _unlocked forms, __wuflow and __wunderflow, fgetws,
 * fgetws_unlocked and the fortified __fgetws_chk and __fgetws_unlocked_chk;
 * and getw, a byte read of an int. The byte reads are
 * wrappers/stdio-read.c's; the locks and the park are its helpers
 * (wrappers/stdio-read.h). The wide scanf family is
 * wrappers/stdio-wscan.c's.
 *
 * glibc's wide refill (_IO_wfile_underflow, libio/wfileops.c) converts
 * what the FILE's byte buffer holds; when that makes no whole character,
 * it reads the fd, and reads again, as often as the bytes read still end
 * in the middle of a character. A wait before the call is therefore not
 * enough: the first half of a UTF-8 character would let glibc read once
 * and then block. So the reads are made here instead, into the FILE's
 * byte buffer where glibc's would have put them, each after a park until
 * the fd is readable, until the buffer holds a whole character (or bytes
 * that can never make one): glibc's refill then converts without reading.
 *
 *   byte buffer:  buf_base        read_ptr     read_end          buf_end
 *                 | (consumed)    | c3         | <- next read -> |
 *
 * What glibc would have done before reading is done first: allocating
 * both buffers, moving the unconverted bytes to the front, and flushing a
 * line-buffered stdout before a line-buffered or unbuffered FILE reads.
 * glibc's results follow from the same bytes, with one difference
 * emulated here: when the fd reaches EOF or fails after this call already
 * read part of a character, glibc (holding the part in a local buffer)
 * drops it and fails with EILSEQ and the error flag.
 *
 * Whether bytes make a whole character is asked of mbrtowc with a copy of
 * the FILE's conversion state, in the calling thread's locale: a FILE
 * oriented under another LC_CTYPE may wait for bytes glibc would not need,
 * or, if glibc needs more than mbrtowc, let glibc block.
 *
 * Passed straight to glibc: callers that may not park, FILEs with no fd,
 * byte-oriented FILEs (glibc fails at once), FILEs at EOF, not open for
 * reading or with output pending, fds that never block or that the
 * program made non-blocking, and FILEs whose byte buffer is too small to
 * hold a partial character (unbuffered): for those the wait covers only
 * the first byte.
 *
 * The wide scanf family (wrappers/stdio-wscan.c) prepares its reads with
 * green__stdio_wide_prepare and reads the buffers through
 * struct green__wide_data (wrappers/stdio-read.h).
 */
#include "config.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <wchar.h>

#include "wrappers/stdio-read.h"

#include "wrappers/wrap.h"

/* <bits/stdio.h> makes fread_unlocked a macro when optimising. */
#undef fread_unlocked

/* A byte buffer smaller than this cannot take a partial character and
 * the bytes still to come (the one-byte buffer of an unbuffered FILE). */
#define MIN_BUFFER      (2 * MB_LEN_MAX)

static struct green__wide_data *wide(const FILE *f)
{
    return green__stdio_wide(f);
}

/* Wide characters `f` holds: its get area, and after an ungetwc that went
 * to the backup area, the main get area that follows it. */
static size_t wide_buffered(const FILE *f)
{
    const struct green__wide_data *w = wide(f);
    size_t n = 0;
    if (w->read_ptr < w->read_end) {
        n = (size_t)(w->read_end - w->read_ptr);
    }
    if ((f->_flags & IO_IN_BACKUP) && w->save_end > w->save_base) {
        n += (size_t)(w->save_end - w->save_base);
    }
    return n;
}

/* True when the next wide refill of `f` may read its fd: a wide-oriented
 * FILE with an fd, open for reading, not at EOF (sticky, as for bytes),
 * not writing, whose wide buffer is empty. */
static bool wide_refill_reads(const FILE *f)
{
    return f->_fileno >= 0 && f->_mode > 0
        && !(f->_flags & (IO_NO_READS | _IO_EOF_SEEN | IO_PUTTING))
        && wide_buffered(f) == 0;
}

/* True when the byte buffer of `f` holds a whole character, or bytes that
 * cannot start one: glibc's refill then converts without reading. */
static bool char_ready(const FILE *f)
{
    if (f->_IO_read_ptr >= f->_IO_read_end) {
        return false;
    }
    const size_t have = (size_t)(f->_IO_read_end - f->_IO_read_ptr);
    if (have >= MB_LEN_MAX) {
        return true;                    /* glibc's EILSEQ bound */
    }
    mbstate_t st = wide(f)->state;
    wchar_t wc;
    return mbrtowc(&wc, f->_IO_read_ptr, have, &st) != (size_t)-2;
}

/* glibc flushes stdout with its overflow; fflush does the same without
 * orienting an unoriented stdout. */
void green__stdio_wide_prepare(FILE *f)
{
    if (f->_IO_buf_base == NULL) {
        if (f->_IO_save_base != NULL) {
            free(f->_IO_save_base);
            f->_flags &= ~IO_IN_BACKUP;
        }
        _IO_doallocbuf(f);
        f->_IO_read_base = f->_IO_read_ptr = f->_IO_read_end = f->_IO_buf_base;
    }
    struct green__wide_data *w = wide(f);
    if (w->buf_base == NULL) {
        if (w->save_base != NULL) {
            free(w->save_base);
            f->_flags &= ~IO_IN_BACKUP;
        }
        _IO_wdoallocbuf(f);
    }
    const size_t have = f->_IO_read_ptr < f->_IO_read_end
        ? (size_t)(f->_IO_read_end - f->_IO_read_ptr) : 0;
    memmove(f->_IO_buf_base, f->_IO_read_ptr, have);
    f->_IO_read_base = f->_IO_read_ptr = f->_IO_buf_base;
    f->_IO_read_end = f->_IO_buf_base + have;
    f->_IO_write_base = f->_IO_write_ptr = f->_IO_write_end = f->_IO_buf_base;
    FILE *out = stdout;
    if ((f->_flags & (IO_LINE_BUF | IO_UNBUFFERED)) && out != NULL
        && (out->_flags & (IO_LINKED | IO_NO_WRITES | IO_LINE_BUF))
               == (IO_LINKED | IO_LINE_BUF)) {
        const bool lock = !(out->_flags & _IO_USER_LOCK);
        if (lock) {
            GREEN_REAL_FN(flockfile)(out);
        }
        fflush_unlocked(out);
        if (lock) {
            GREEN_REAL_FN(funlockfile)(out);
        }
    }
}

/* The read of this call failed (`err`, or 0 for EOF) as glibc's read
 * would have: with part of a character read by this call (`partial`),
 * that part is dropped and the call fails with EILSEQ; else EOF is sticky
 * and an error is the read's. Returns false. */
static bool read_failed(FILE *f, int err, bool partial)
{
    if (partial) {
        f->_IO_read_base = f->_IO_read_ptr = f->_IO_read_end = f->_IO_buf_base;
        f->_flags |= _IO_ERR_SEEN;
        errno = EILSEQ;
    } else if (err == 0) {
        f->_flags |= _IO_EOF_SEEN;
        f->_offset = -1;                /* _IO_pos_BAD */
    } else {
        f->_flags |= _IO_ERR_SEEN;
        errno = err;
    }
    return false;
}

/* Bytes a read of `fd` would return now, or 1 when it cannot say. */
static int readable_bytes(int fd)
{
    int avail = 0;
    if (GREEN_REAL_FN(ioctl)(fd, FIONREAD, &avail) < 0) {
        avail = 1;
    }
    return avail;
}

/* Fill the byte buffer of `f`, parking before each read, until the next
 * wide refill converts without reading or reads only what ends at once
 * (EOF, an error). Returns true to make the real call now, false when the
 * refill failed here (WEOF; flags and errno as glibc would set them).
 * Green thread, may park; `f` locked as `locking` says. */
static bool fill(FILE *f, bool locking)
{
    const int entry_errno = errno;
    green__stdio_wide_prepare(f);
    struct green__call call = GREEN__STDIO_CALL(f);
    bool partial = false;               /* this call read part of one */
    while (!char_ready(f)) {
        const int fd = f->_fileno;
        const int r = green__stdio_wait(f, locking, &call);
        if (r < 0) {
            return read_failed(f, -r, partial);
        }
        const size_t space = (size_t)(f->_IO_buf_end - f->_IO_read_end);
        if (space == 0 || (!partial && readable_bytes(fd) == 0)) {
            break;                      /* glibc's read ends at once */
        }
        const ssize_t n = GREEN_REAL_FN(read)(fd, f->_IO_read_end, space);
        if (n <= 0) {
            if (n < 0 && errno == EINTR) {
                continue;
            }
            return read_failed(f, n < 0 ? errno : 0, partial);
        }
        f->_IO_read_end += n;
        if (f->_offset != -1) {
            f->_offset += n;
        }
        partial = true;
    }
    errno = entry_errno;
    return true;
}

/* Wait as `fill` when the next wide refill of `f` may read a fd that can
 * block. Returns true to make the real call, false when it failed. */
static bool wait_char(FILE *f, bool locking)
{
    if (!wide_refill_reads(f) || char_ready(f)
        || !green__stdio_fd_can_block(f->_fileno)) {
        return true;
    }
    const size_t size = f->_IO_buf_base != NULL
        ? (size_t)(f->_IO_buf_end - f->_IO_buf_base) : BUFSIZ;
    if (size < MIN_BUFFER || (f->_flags & IO_UNBUFFERED)) {
        /* Wait for the first byte only. */
        struct green__call call = GREEN__STDIO_CALL(f);
        const int r = f->_IO_read_ptr < f->_IO_read_end
            ? 0 : green__stdio_wait(f, locking, &call);
        return r < 0 ? read_failed(f, -r, false) : true;
    }
    return fill(f, locking);
}

/* True when a wide read of `f` must be glibc's own: the caller may not
 * park, or `f` has no fd or is byte-oriented (glibc fails at once). */
static bool wide_passthrough(const FILE *f)
{
    return !green__may_park() || f->_fileno < 0 || f->_mode < 0;
}

/* ---- one refill at most: getwc and its family ----------------------- */

/* Call `real`, which refills `f` at most once, after `wait_char`. */
static wint_t getwc_wait(FILE *f, bool locking, wint_t (*real)(FILE *))
{
    if (wide_passthrough(f)) {
        return real(f);
    }
    if (f->_mode == 0) {
        fwide(f, 1);                    /* glibc's first step */
    }
    if (!wide_refill_reads(f)) {
        return real(f);
    }
    green__stdio_lock(f, locking);
    const wint_t c = wait_char(f, locking) ? real(f) : WEOF;
    green__stdio_unlock(f, locking);
    green__fd_call_end();
    return c;
}

static wint_t real_getwchar(FILE *f)
{
    (void)f;
    return GREEN_REAL_FN(getwchar)();
}

static wint_t real_getwchar_unlocked(FILE *f)
{
    (void)f;
    return GREEN_REAL_FN(getwchar_unlocked)();
}

GREEN_WRAP wint_t fgetwc(FILE *f)
{
    green__ensure_init();
    return getwc_wait(f, true, GREEN_REAL_FN(fgetwc));
}

GREEN_WRAP wint_t getwc(FILE *f)
{
    green__ensure_init();
    return getwc_wait(f, true, GREEN_REAL_FN(getwc));
}

GREEN_WRAP wint_t getwchar(void)
{
    green__ensure_init();
    return getwc_wait(stdin, true, real_getwchar);
}

GREEN_WRAP wint_t fgetwc_unlocked(FILE *f)
{
    green__ensure_init();
    return getwc_wait(f, false, GREEN_REAL_FN(fgetwc_unlocked));
}

GREEN_WRAP wint_t getwc_unlocked(FILE *f)
{
    green__ensure_init();
    return getwc_wait(f, false, GREEN_REAL_FN(getwc_unlocked));
}

GREEN_WRAP wint_t getwchar_unlocked(void)
{
    green__ensure_init();
    return getwc_wait(stdin, false, real_getwchar_unlocked);
}

GREEN_WRAP wint_t __wuflow(FILE *f)
{
    green__ensure_init();
    return getwc_wait(f, false, GREEN_REAL_FN(__wuflow));
}

GREEN_WRAP wint_t __wunderflow(FILE *f)
{
    green__ensure_init();
    return getwc_wait(f, false, GREEN_REAL_FN(__wunderflow));
}

/* ---- fgetws: glibc's _IO_getwline_info and fgetws around __wuflow ---- */

/* Read into `buf` up to `n` wide characters, stopping after a newline
 * (kept). Returns the count; EOF and errors leave their flags. */
static size_t get_wline(FILE *f, wchar_t *buf, size_t n, bool locking)
{
    wchar_t *ptr = buf;
    if (f->_mode == 0) {
        fwide(f, 1);
    }
    while (n != 0) {
        struct green__wide_data *w = wide(f);
        ssize_t len = w->read_end - w->read_ptr;
        if (len <= 0) {
            const wint_t c = wait_char(f, locking)
                ? GREEN_REAL_FN(__wuflow)(f) : WEOF;
            if (c == WEOF) {
                break;
            }
            *ptr++ = (wchar_t)c;
            if (c == L'\n') {
                break;
            }
            n--;
            continue;
        }
        if ((size_t)len >= n) {
            len = (ssize_t)n;
        }
        const wchar_t *t = wmemchr(w->read_ptr, L'\n', (size_t)len);
        if (t != NULL) {
            len = t + 1 - w->read_ptr;
            n = (size_t)len;                /* this copy ends the line */
        }
        wmemcpy(ptr, w->read_ptr, (size_t)len);
        w->read_ptr += len;
        ptr += len;
        n -= (size_t)len;
        if (t != NULL) {
            break;
        }
    }
    return (size_t)(ptr - buf);
}

/* fgetws and its three relatives, as fgets_core in stdio-read.c: `limit`
 * characters at most before the NUL, `size` the fortified caller's buffer
 * size in characters (SIZE_MAX: not fortified) (libio/iofgetws.c,
 * debug/fgetws_chk.c). */
static wchar_t *fgetws_core(wchar_t *buf, size_t limit, size_t size, FILE *f,
                            bool locking)
{
    green__stdio_lock(f, locking);
    const int old_error = f->_flags & _IO_ERR_SEEN;
    f->_flags &= ~_IO_ERR_SEEN;
    const size_t count = get_wline(f, buf, limit, locking);
    wchar_t *result = buf;
    if (count == 0 || ((f->_flags & _IO_ERR_SEEN) && errno != EAGAIN)) {
        result = NULL;
    } else if (count >= size) {
        __chk_fail();
    } else {
        buf[count] = L'\0';
    }
    f->_flags |= old_error;
    green__stdio_unlock(f, locking);
    green__fd_call_end();
    return result;
}

GREEN_WRAP wchar_t *fgetws(wchar_t *buf, int n, FILE *f)
{
    green__ensure_init();
    if (n <= 1 || wide_passthrough(f)) {
        return GREEN_REAL_FN(fgetws)(buf, n, f);  /* n <= 1 reads nothing */
    }
    return fgetws_core(buf, (size_t)n - 1, SIZE_MAX, f, true);
}

GREEN_WRAP wchar_t *fgetws_unlocked(wchar_t *buf, int n, FILE *f)
{
    green__ensure_init();
    if (n <= 1 || wide_passthrough(f)) {
        return GREEN_REAL_FN(fgetws_unlocked)(buf, n, f);
    }
    return fgetws_core(buf, (size_t)n - 1, SIZE_MAX, f, false);
}

GREEN_WRAP wchar_t *__fgetws_chk(wchar_t *buf, size_t size, int n, FILE *f)
{
    green__ensure_init();
    if (n <= 1 || wide_passthrough(f)) {
        return GREEN_REAL_FN(__fgetws_chk)(buf, size, n, f);
    }
    const size_t limit = (size_t)n - 1 < size ? (size_t)n - 1 : size;
    return fgetws_core(buf, limit, size, f, true);
}

GREEN_WRAP wchar_t *__fgetws_unlocked_chk(wchar_t *buf, size_t size, int n,
                                          FILE *f)
{
    green__ensure_init();
    if (n <= 1 || wide_passthrough(f)) {
        return GREEN_REAL_FN(__fgetws_unlocked_chk)(buf, size, n, f);
    }
    const size_t limit = (size_t)n - 1 < size ? (size_t)n - 1 : size;
    return fgetws_core(buf, limit, size, f, false);
}

/* ---- getw: an int's bytes, read as fread reads them ----------------- */

/* libio/getw.c: _IO_sgetn of sizeof (int) bytes, without the FILE lock:
 * fread_unlocked's wrapper (wrappers/stdio-read.c; -Bsymbolic-functions
 * binds the call to it) is that read, waiting first. */
GREEN_WRAP int getw(FILE *f)
{
    green__ensure_init();
    int w;
    return fread_unlocked(&w, 1, sizeof w, f) == sizeof w ? w : EOF;
}
