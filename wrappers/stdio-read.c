/* SPDX-License-Identifier: MIT */
/* stdio reads that park only the caller: fgetc, getc, getchar and their
 * _unlocked forms, __uflow and __underflow (what the inline getc_unlocked
 * of <stdio.h> calls on an empty buffer), fgets, fread, getline, getdelim,
 * their _unlocked forms, the __*_chk entry points of _FORTIFY_SOURCE, and
 * the scanf family.
 *
 * glibc refills a FILE's buffer with an internal read(2) that no wrapper
 * sees, and one call may refill several times (fgets with no newline yet,
 * fread of more than has arrived). So every refill made here is preceded
 * by a wait: while the buffer is empty and a read of the FILE's fd would
 * block, the green thread parks on the fd (green__stdio_wait), and only then
 * lets glibc refill once:
 *
 *  - getc and its family refill at most once: wait, then the real call.
 *  - fgets and getdelim are glibc's own algorithms (libio/iogetline.c,
 *    iofgets.c, iogetdelim.c, debug/fgets_chk.c), rewritten around a
 *    refill that waits first and then calls the real __uflow/__underflow,
 *    each of which reads once. Results, errno, the EOF and error flags and
 *    buffer growth are therefore glibc's.
 *  - fread is a sequence of real fread_unlocked calls, each for no more
 *    than is buffered, or, on an empty buffer, than FIONREAD says the
 *    pipe, tty or socket holds: glibc then never reads twice in a way
 *    that could block.
 *
 * What a native call would do before its read happens before the wait:
 * pending output of a FILE open for update is written, and stdout is
 * flushed before a line-buffered or unbuffered FILE (stdin on a tty)
 * reads, so that a prompt shows while the program waits for the answer.
 *
 * The FILE stays locked while its reader waits, as natively a second
 * reader of the same FILE waits for the first: the locking calls hold the
 * runtime's FILE lock (wrappers/stdio-lock.c, the one flockfile takes)
 * for the whole call, and glibc's own lock only while not parked, so that
 * no green thread ever waits for glibc's lock in the kernel.
 *
 * Passed straight to glibc: callers that may not park, FILEs with no fd
 * (fmemopen, fopencookie), wide-oriented FILEs (whose reads are
 * wrappers/stdio-wide.c's), FILEs at EOF or not open
 * for reading, and fds that never block (regular files) or that the
 * program made non-blocking (green__fd_must_wait says they need no wait).
 *
 * The scanf family is in wrappers/stdio-scan.c, on the helpers declared
 * in wrappers/stdio-read.h.
 */
#include "config.h"

#include "wrappers/stdio-read.h"

#include <limits.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <wchar.h>

#include "wrappers/wrap.h"

/* <bits/stdio.h> makes fread_unlocked a macro when optimising. */
#undef fread_unlocked

/* The refill failed before any read, as glibc's __underflow fails when
 * writing the FILE's pending output fails: EOF, flags as glibc set them. */
#define REFILL_FAILED   (-ECANCELED)

/* Bytes the FILE holds: its get area, and after an ungetc that went to
 * the backup area, the main get area that follows it (glibc keeps it in
 * _IO_save_base.._IO_save_end meanwhile: genops.c). */
size_t green__stdio_buffered(const FILE *f)
{
    size_t n = 0;
    if (f->_IO_read_ptr < f->_IO_read_end) {
        n = (size_t)(f->_IO_read_end - f->_IO_read_ptr);
    }
    if ((f->_flags & IO_IN_BACKUP) && f->_IO_save_end > f->_IO_save_base) {
        n += (size_t)(f->_IO_save_end - f->_IO_save_base);
    }
    return n;
}

/* True when the next refill of `f` reads its fd: the buffer is empty, the
 * FILE has an fd, is byte-oriented or not yet oriented, open for reading
 * and not at EOF (glibc's EOF is sticky: its underflow reads no more). */
static bool refill_reads(const FILE *f)
{
    return f->_fileno >= 0 && f->_mode <= 0
        && !(f->_flags & (IO_NO_READS | IO_EOF_SEEN))
        && green__stdio_buffered(f) == 0;
}

/* glibc's own lock of `f`, unless the program took over locking
 * (__fsetlocking FSETLOCKING_BYCALLER). Never held across a park. */
static void lock_glibc(FILE *f, bool locking)
{
    if (locking && !(f->_flags & IO_USER_LOCK)) {
        GREEN_REAL_FN(flockfile)(f);
    }
}

static void unlock_glibc(FILE *f, bool locking)
{
    if (locking && !(f->_flags & IO_USER_LOCK)) {
        GREEN_REAL_FN(funlockfile)(f);
    }
}

/* Lock `f` for a whole call: the runtime's lock (libgreen's own
 * flockfile, which -Bsymbolic-functions binds here), held across parks,
 * then glibc's. */
void green__stdio_lock(FILE *f, bool locking)
{
    if (locking && !(f->_flags & IO_USER_LOCK)) {
        flockfile(f);
        GREEN_REAL_FN(flockfile)(f);
    }
}

void green__stdio_unlock(FILE *f, bool locking)
{
    if (locking && !(f->_flags & IO_USER_LOCK)) {
        GREEN_REAL_FN(funlockfile)(f);
        funlockfile(f);
    }
}

void green__stdio_wait_idle(FILE *f)
{
    if (f != NULL && green__may_park() && !(f->_flags & IO_USER_LOCK)) {
        const int entry_errno = errno;
        flockfile(f);
        funlockfile(f);
        errno = entry_errno;
    }
}

/* What glibc does before a refill's read that a wait must not delay:
 * __underflow first writes the FILE's pending output (switching from
 * writing to reading), and _IO_new_file_underflow flushes a line-buffered
 * stdout before a line-buffered or unbuffered FILE reads. Returns 0, or
 * REFILL_FAILED when the pending output could not be written. */
static int before_read(FILE *f)
{
    if ((f->_flags & IO_PUTTING) && f->_IO_write_ptr > f->_IO_write_base
        && __overflow(f, EOF) == EOF) {
        return REFILL_FAILED;
    }
    /* A FILE gets its buffer, and on a tty its line buffering, at its
     * first refill (_IO_file_doallocate): decide as that will. */
    const bool line = (f->_flags & (IO_LINE_BUF | IO_UNBUFFERED))
        || (f->_IO_buf_base == NULL && isatty(f->_fileno));
    FILE *out = stdout;
    if (line && out != NULL
        && (out->_flags & (IO_LINKED | IO_NO_WRITES | IO_LINE_BUF))
               == (IO_LINKED | IO_LINE_BUF)) {
        lock_glibc(out, true);
        __overflow(out, EOF);
        unlock_glibc(out, true);
    }
    return 0;
}

int green__stdio_wait(FILE *f, bool locking, struct green__call *call)
{
    const int entry_errno = errno;
    int r = 0;
    while (r == 0 && green__fd_must_wait(f->_fileno, POLLIN)) {
        call->fd = f->_fileno;
        unlock_glibc(f, locking);
        r = green__call_wait(call);
        lock_glibc(f, locking);
    }
    errno = entry_errno;
    return r;
}

/* Wait until the next refill of `f` would not block: park while its buffer
 * is empty and its fd has nothing to read. `underflow`: the refill goes
 * through __underflow (not fread's read straight into the caller's
 * buffer), so what __underflow does before reading is done first. A
 * socket's SO_RCVTIMEO bounds the wait as it bounds the read.
 * Returns 0 (refill now), -EINTR (a handler without SA_RESTART ran while
 * waiting), -EAGAIN (SO_RCVTIMEO passed) or REFILL_FAILED. errno is kept.
 * Green thread, may park; `f` locked as `locking` says. */
static int wait_refill(FILE *f, bool locking, bool underflow)
{
    const int entry_errno = errno;
    struct green__call call = GREEN__STDIO_CALL(f);
    int r = 0;
    if (underflow && refill_reads(f)
        && green__fd_must_wait(f->_fileno, POLLIN)) {
        r = before_read(f);         /* writing may park too */
    }
    if (r == 0 && refill_reads(f)) {
        r = green__stdio_wait(f, locking, &call);
    }
    errno = entry_errno;
    return r;
}

/* A refill failed as glibc's fails when its read fails (EINTR, or EAGAIN
 * after SO_RCVTIMEO): the error flag, errno, EOF. */
static int refill_error(FILE *f, int r)
{
    if (r != REFILL_FAILED) {
        f->_flags |= IO_ERR_SEEN;
        errno = -r;
    }
    return EOF;
}

/* __uflow and __underflow of `f` (the next byte, consumed or not), after
 * waiting until their single read would not block. */
int green__stdio_uflow(FILE *f, bool locking)
{
    if (f->_IO_read_ptr < f->_IO_read_end) {
        return *(unsigned char *)f->_IO_read_ptr++;
    }
    const int r = wait_refill(f, locking, true);
    return r < 0 ? refill_error(f, r) : GREEN_REAL_FN(__uflow)(f);
}

static int underflow(FILE *f, bool locking)
{
    if (f->_IO_read_ptr < f->_IO_read_end) {
        return *(unsigned char *)f->_IO_read_ptr;
    }
    const int r = wait_refill(f, locking, true);
    return r < 0 ? refill_error(f, r) : GREEN_REAL_FN(__underflow)(f);
}

/* ---- one refill at most: getc and its family ------------------------ */

/* Call `real`, which refills `f` at most once, after waiting until that
 * refill would not block. */
static int getc_wait(FILE *f, bool locking, int (*real)(FILE *))
{
    if (!green__may_park() || !refill_reads(f)) {
        return real(f);
    }
    green__stdio_lock(f, locking);
    const int r = wait_refill(f, locking, true);
    const int c = r < 0 ? refill_error(f, r) : real(f);
    green__stdio_unlock(f, locking);
    green__fd_call_end();
    return c;
}

static int real_getchar(FILE *f)
{
    (void)f;
    return GREEN_REAL_FN(getchar)();
}

static int real_getchar_unlocked(FILE *f)
{
    (void)f;
    return GREEN_REAL_FN(getchar_unlocked)();
}

GREEN_WRAP int fgetc(FILE *f)
{
    green__ensure_init();
    return getc_wait(f, true, GREEN_REAL_FN(fgetc));
}

GREEN_WRAP int getc(FILE *f)
{
    green__ensure_init();
    return getc_wait(f, true, GREEN_REAL_FN(getc));
}

/* What binaries built against glibc before 2.28 call for getc. */
GREEN_WRAP int _IO_getc(FILE *f)
{
    green__ensure_init();
    return getc_wait(f, true, GREEN_REAL_FN(_IO_getc));
}

GREEN_WRAP int getchar(void)
{
    green__ensure_init();
    return getc_wait(stdin, true, real_getchar);
}

GREEN_WRAP int fgetc_unlocked(FILE *f)
{
    green__ensure_init();
    return getc_wait(f, false, GREEN_REAL_FN(fgetc_unlocked));
}

GREEN_WRAP int getc_unlocked(FILE *f)
{
    green__ensure_init();
    return getc_wait(f, false, GREEN_REAL_FN(getc_unlocked));
}

GREEN_WRAP int getchar_unlocked(void)
{
    green__ensure_init();
    return getc_wait(stdin, false, real_getchar_unlocked);
}

GREEN_WRAP int __uflow(FILE *f)
{
    green__ensure_init();
    return getc_wait(f, false, GREEN_REAL_FN(__uflow));
}

GREEN_WRAP int __underflow(FILE *f)
{
    green__ensure_init();
    return getc_wait(f, false, GREEN_REAL_FN(__underflow));
}

/* ---- fgets: glibc's _IO_getline_info and fgets around uflow --------- */

/* Read into `buf` up to `n` bytes, stopping after a newline (kept).
 * Returns the count; EOF and errors leave their flags, as glibc's. */
static size_t get_line(FILE *f, char *buf, size_t n, bool locking)
{
    char *ptr = buf;
    if (f->_mode == 0) {
        fwide(f, -1);
    }
    while (n != 0) {
        ssize_t len = f->_IO_read_end - f->_IO_read_ptr;
        if (len <= 0) {
            const int c = green__stdio_uflow(f, locking);
            if (c == EOF) {
                break;
            }
            *ptr++ = (char)c;
            if (c == '\n') {
                break;
            }
            n--;
            continue;
        }
        if ((size_t)len >= n) {
            len = (ssize_t)n;
        }
        char *t = memchr(f->_IO_read_ptr, '\n', (size_t)len);
        if (t != NULL) {
            len = t + 1 - f->_IO_read_ptr;
            n = (size_t)len;                /* this copy ends the line */
        }
        memcpy(ptr, f->_IO_read_ptr, (size_t)len);
        f->_IO_read_ptr += len;
        ptr += len;
        n -= (size_t)len;
        if (t != NULL) {
            break;
        }
    }
    return (size_t)(ptr - buf);
}

/* fgets and its three relatives: `limit` bytes at most before the NUL;
 * `size` the fortified caller's buffer size (SIZE_MAX: not fortified). An
 * error that came up during this call returns NULL even after some bytes,
 * unless it was EAGAIN (libio/iofgets.c). */
static char *fgets_core(char *buf, size_t limit, size_t size, FILE *f,
                        bool locking)
{
    green__stdio_lock(f, locking);
    const int old_error = f->_flags & IO_ERR_SEEN;
    f->_flags &= ~IO_ERR_SEEN;
    const size_t count = get_line(f, buf, limit, locking);
    char *result = buf;
    if (count == 0 || ((f->_flags & IO_ERR_SEEN) && errno != EAGAIN)) {
        result = NULL;
    } else if (count >= size) {
        __chk_fail();
    } else {
        buf[count] = '\0';
    }
    f->_flags |= old_error;
    green__stdio_unlock(f, locking);
    green__fd_call_end();
    return result;
}

/* True when fgets on `f` must be glibc's own: the caller may not park, or
 * `f` has no fd or is wide-oriented (whose refills never wait here). */
static bool stdio_passthrough(const FILE *f)
{
    return !green__may_park() || f->_fileno < 0 || f->_mode > 0;
}

GREEN_WRAP char *fgets(char *buf, int n, FILE *f)
{
    green__ensure_init();
    if (n <= 1 || stdio_passthrough(f)) {
        return GREEN_REAL_FN(fgets)(buf, n, f);  /* n <= 1 reads nothing */
    }
    return fgets_core(buf, (size_t)n - 1, SIZE_MAX, f, true);
}

GREEN_WRAP char *fgets_unlocked(char *buf, int n, FILE *f)
{
    green__ensure_init();
    if (n <= 1 || stdio_passthrough(f)) {
        return GREEN_REAL_FN(fgets_unlocked)(buf, n, f);
    }
    return fgets_core(buf, (size_t)n - 1, SIZE_MAX, f, false);
}

/* debug/fgets_chk.c: no special case for n == 1, and a line longer than
 * the buffer aborts. */
GREEN_WRAP char *__fgets_chk(char *buf, size_t size, int n, FILE *f)
{
    green__ensure_init();
    if (n <= 0 || stdio_passthrough(f)) {
        return GREEN_REAL_FN(__fgets_chk)(buf, size, n, f);
    }
    const size_t limit = (size_t)n - 1 < size ? (size_t)n - 1 : size;
    return fgets_core(buf, limit, size, f, true);
}

GREEN_WRAP char *__fgets_unlocked_chk(char *buf, size_t size, int n,
                                      FILE *f)
{
    green__ensure_init();
    if (n <= 0 || stdio_passthrough(f)) {
        return GREEN_REAL_FN(__fgets_unlocked_chk)(buf, size, n, f);
    }
    const size_t limit = (size_t)n - 1 < size ? (size_t)n - 1 : size;
    return fgets_core(buf, limit, size, f, false);
}

/* ---- getdelim: glibc's, around underflow ---------------------------- */

/* libio/iogetdelim.c with each __underflow waiting first. `f` locked. */
static ssize_t getdelim_locked(char **lineptr, size_t *n, int delim, FILE *f)
{
    if (f->_flags & IO_ERR_SEEN) {
        return -1;
    }
    if (*lineptr == NULL || *n == 0) {
        *n = 120;
        *lineptr = malloc(*n);
        if (*lineptr == NULL) {
            return -1;
        }
    }
    ssize_t len = f->_IO_read_end - f->_IO_read_ptr;
    if (len <= 0) {
        if (underflow(f, true) == EOF) {
            return -1;
        }
        len = f->_IO_read_end - f->_IO_read_ptr;
    }
    ssize_t cur_len = 0;
    for (;;) {
        char *t = memchr(f->_IO_read_ptr, delim, (size_t)len);
        if (t != NULL) {
            len = t - f->_IO_read_ptr + 1;
        }
        if (len >= SSIZE_MAX - cur_len) {
            errno = EOVERFLOW;
            return -1;
        }
        size_t needed = (size_t)(cur_len + len + 1);
        if (needed > *n) {
            if (needed < 2 * *n) {
                needed = 2 * *n;            /* glibc's growth */
            }
            char *grown = realloc(*lineptr, needed);
            if (grown == NULL) {
                return -1;
            }
            *lineptr = grown;
            *n = needed;
        }
        memcpy(*lineptr + cur_len, f->_IO_read_ptr, (size_t)len);
        f->_IO_read_ptr += len;
        cur_len += len;
        if (t != NULL || underflow(f, true) == EOF) {
            break;
        }
        len = f->_IO_read_end - f->_IO_read_ptr;
    }
    (*lineptr)[cur_len] = '\0';
    return cur_len;
}

GREEN_WRAP ssize_t getdelim(char **lineptr, size_t *n, int delim, FILE *f)
{
    green__ensure_init();
    if (lineptr == NULL || n == NULL || stdio_passthrough(f)) {
        return GREEN_REAL_FN(getdelim)(lineptr, n, delim, f);  /* EINVAL */
    }
    green__stdio_lock(f, true);
    const ssize_t r = getdelim_locked(lineptr, n, delim, f);
    green__stdio_unlock(f, true);
    green__fd_call_end();
    return r;
}

GREEN_WRAP ssize_t __getdelim(char **lineptr, size_t *n, int delim, FILE *f)
{
    return getdelim(lineptr, n, delim, f);
}

GREEN_WRAP ssize_t getline(char **lineptr, size_t *n, FILE *f)
{
    green__ensure_init();
    if (lineptr == NULL || n == NULL || stdio_passthrough(f)) {
        return GREEN_REAL_FN(getline)(lineptr, n, f);
    }
    return getdelim(lineptr, n, '\n', f);
}

/* ---- fread: real calls that each read at most what is there --------- */

/* True when reading `fd` can block: a pipe, FIFO, socket or character
 * device (a tty) the program did not make non-blocking. errno is kept. */
bool green__stdio_fd_can_block(int fd)
{
    const int entry_errno = errno;
    struct stat st;
    bool r = fstat(fd, &st) == 0
        && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)
            || S_ISCHR(st.st_mode))
        && !green__fd_nonblocking(fd);
    errno = entry_errno;
    return r;
}

/* The size of `f`'s buffer, or of the one its first refill will allocate
 * (_IO_doallocbuf, _IO_file_doallocate): one byte unbuffered, else
 * st_blksize when it is below BUFSIZ. */
static size_t buffer_size(const FILE *f)
{
    if (f->_IO_buf_base != NULL) {
        return (size_t)(f->_IO_buf_end - f->_IO_buf_base);
    }
    if (f->_flags & IO_UNBUFFERED) {
        return 1;
    }
    const int entry_errno = errno;
    struct stat st;
    size_t size = BUFSIZ;
    if (fstat(f->_fileno, &st) == 0 && st.st_blksize > 0
        && st.st_blksize < BUFSIZ) {
        size = (size_t)st.st_blksize;
    }
    errno = entry_errno;
    return size;
}

/* At most `want`, and no more than FIONREAD says `fd` holds when it holds
 * something: glibc's reads for that many bytes then never wait. A ready
 * fd holding nothing is at EOF or in error, and its one read says so at
 * once. errno is kept. */
static size_t readable(int fd, size_t want)
{
    const int entry_errno = errno;
    int avail = 0;
    if (GREEN_REAL_FN(ioctl)(fd, FIONREAD, &avail) < 0) {
        avail = 0;
    }
    errno = entry_errno;
    return avail > 0 && (size_t)avail < want ? (size_t)avail : want;
}

/* _IO_sgetn of `want` bytes as a sequence of real fread_unlocked calls,
 * none of which reads twice when a read could block. `f` locked. */
static size_t sgetn(FILE *f, char *buf, size_t want, bool locking)
{
    size_t done = 0;
    int can_block = -1;                 /* fd_can_block, once needed */
    while (done < want) {
        size_t chunk = want - done;
        const size_t have = green__stdio_buffered(f);
        if (have > 0) {
            chunk = have < chunk ? have : chunk;
        } else if (refill_reads(f)) {
            if (can_block < 0) {
                can_block = green__stdio_fd_can_block(f->_fileno);
            }
            if (can_block) {
                /* _IO_file_xsgetn reads a buffer's worth or more
                 * straight into the caller's buffer, without
                 * __underflow. */
                const bool direct = chunk >= buffer_size(f);
                const int r = wait_refill(f, locking, !direct);
                if (r < 0) {
                    refill_error(f, r);
                    break;
                }
                chunk = readable(f->_fileno, chunk);
            }
        }
        const size_t got = GREEN_REAL_FN(fread_unlocked)(buf + done, 1, chunk,
                                                      f);
        done += got;
        if (got < chunk) {
            break;                      /* EOF or an error: flags set */
        }
    }
    return done;
}

static size_t fread_core(void *buf, size_t size, size_t count, FILE *f,
                         bool locking)
{
    const size_t bytes = size * count;
    green__stdio_lock(f, locking);
    const size_t got = sgetn(f, buf, bytes, locking);
    green__stdio_unlock(f, locking);
    green__fd_call_end();
    return got == bytes ? count : got / size;
}

GREEN_WRAP size_t fread(void *buf, size_t size, size_t count, FILE *f)
{
    green__ensure_init();
    if (size * count == 0 || stdio_passthrough(f)) {
        return GREEN_REAL_FN(fread)(buf, size, count, f);
    }
    return fread_core(buf, size, count, f, true);
}

GREEN_WRAP size_t fread_unlocked(void *buf, size_t size, size_t count,
                                 FILE *f)
{
    green__ensure_init();
    if (size * count == 0 || stdio_passthrough(f)) {
        return GREEN_REAL_FN(fread_unlocked)(buf, size, count, f);
    }
    return fread_core(buf, size, count, f, false);
}

/* debug/fread_chk.c: an overflowing size * count, or more than the
 * buffer holds, aborts; glibc's own call does that. */
static bool fread_chk_fails(size_t buflen, size_t size, size_t count)
{
    const size_t bytes = size * count;
    return (size != 0 && bytes / size != count) || bytes > buflen;
}

GREEN_WRAP size_t __fread_chk(void *buf, size_t buflen, size_t size,
                              size_t count, FILE *f)
{
    green__ensure_init();
    if (size * count == 0 || fread_chk_fails(buflen, size, count)
        || stdio_passthrough(f)) {
        return GREEN_REAL_FN(__fread_chk)(buf, buflen, size, count, f);
    }
    return fread_core(buf, size, count, f, true);
}

GREEN_WRAP size_t __fread_unlocked_chk(void *buf, size_t buflen, size_t size,
                                       size_t count, FILE *f)
{
    green__ensure_init();
    if (size * count == 0 || fread_chk_fails(buflen, size, count)
        || stdio_passthrough(f)) {
        return GREEN_REAL_FN(__fread_unlocked_chk)(buf, buflen, size, count, f);
    }
    return fread_core(buf, size, count, f, false);
}
