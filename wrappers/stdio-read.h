/* SPDX-License-Identifier: MIT */
/* What the stdio read wrappers (wrappers/stdio-read.c) lend the scanf
 * wrappers (wrappers/stdio-scan.c): a refill of a FILE that waits first,
 * and the FILE lock held across that wait; and the closers of a FILE
 * (wrappers/fd.c): a wait until no read of it is under way; and the
 * wide reads (wrappers/stdio-wide.c): the same lock and a park on the fd.
 * The wide reads lend the wide scanf family (wrappers/stdio-wscan.c) the
 * layout of a FILE's wide buffers and their preparation for a read.
 */
#ifndef GREEN_WRAPPERS_STDIO_READ_H
#define GREEN_WRAPPERS_STDIO_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <wchar.h>

#include "wrappers/call.h"

/* glibc's FILE flags (libio/libio.h; <bits/types/struct_FILE.h> shows
 * only the EOF, error and user-lock bits). Part of the ABI since 2.1. */
#define IO_UNBUFFERED   0x0002
#define IO_NO_READS     0x0004
#define IO_NO_WRITES    0x0008
#define IO_EOF_SEEN     0x0010
#define IO_ERR_SEEN     0x0020
#define IO_LINKED       0x0080
#define IO_IN_BACKUP    0x0100
#define IO_LINE_BUF     0x0200
#define IO_PUTTING      0x0800          /* _IO_CURRENTLY_PUTTING */
#define IO_USER_LOCK    0x8000

/* Bytes `f` holds in its buffer, counting the main get area that follows
 * an ungetc backup area. Any. */
size_t green__stdio_buffered(const FILE *f);

/* Lock `f` for a whole call when `locking` (the calls without _unlocked)
 * and the program did not take over its locking: the runtime's FILE lock,
 * held across parks, then glibc's, which green__stdio_uflow lets go of
 * while it parks. Green thread with green__may_park(). */
void green__stdio_lock(FILE *f, bool locking);
void green__stdio_unlock(FILE *f, bool locking);

/* __uflow of `f` (the next byte, consumed, or EOF with glibc's flags and
 * errno) after waiting, parked, until its one read would not block; a
 * signal or SO_RCVTIMEO ending the wait fails it as the read would have.
 * `f` locked as `locking` says. Green thread with green__may_park(). */
int green__stdio_uflow(FILE *f, bool locking);

/* The read call `f`'s refills make, for green__stdio_wait. */
#define GREEN__STDIO_CALL(f) \
    GREEN__CALL((f)->_fileno, GREEN__CALL_READ | GREEN__CALL_SOCKET)

/* Park while a read of `f`'s fd would block (`call`, made with
 * GREEN__STDIO_CALL, is the read's: a socket's SO_RCVTIMEO bounds it),
 * glibc's lock of `f` let go of meanwhile (as `locking` says). Returns 0
 * (read now) or as green__call_wait, -EINTR or -EAGAIN. errno is kept.
 * Green thread with green__may_park(). */
int green__stdio_wait(FILE *f, bool locking, struct green__call *call);

/* True when reading `fd` can block: a pipe, FIFO, socket or character
 * device the program did not make non-blocking. errno is kept. Any. */
bool green__stdio_fd_can_block(int fd);

/* Wait, as glibc's fclose, freopen and pclose wait for the FILE lock,
 * until no other green thread is inside a stdio read of `f`, which would
 * otherwise wake to a FILE closed and freed under it. Any: returns at
 * once unless green__may_park(); may park. errno is kept. */
void green__stdio_wait_idle(FILE *f);

/* glibc's struct _IO_wide_data up to its conversion state (libio/libio.h;
 * the pointers were read by the getwc macros of <libio.h>, so they are
 * ABI). The fields that follow (the codecvt) are not used here. */
struct green__wide_data {
    wchar_t *read_ptr;
    wchar_t *read_end;
    wchar_t *read_base;
    wchar_t *write_base;
    wchar_t *write_ptr;
    wchar_t *write_end;
    wchar_t *buf_base;
    wchar_t *buf_end;
    wchar_t *save_base;                 /* main get area while in backup */
    wchar_t *backup_base;
    wchar_t *save_end;
    mbstate_t state;                    /* conversion state of reads */
    mbstate_t last_state;
};

static inline struct green__wide_data *green__stdio_wide(const FILE *f)
{
    return (struct green__wide_data *)f->_wide_data;
}

/* glibc's buffer allocation, exported since 2.2.5 and called by its own
 * refills; declared by no header. */
void _IO_doallocbuf(FILE *f);
void _IO_wdoallocbuf(FILE *f);

/* Set up the wide-oriented `f` as _IO_wfile_underflow does before its
 * read (wrappers/stdio-wide.c): both buffers allocated, the unconverted
 * bytes moved to the front of the byte buffer, the write pointers at its
 * start, a line-buffered stdout flushed before a line-buffered or
 * unbuffered FILE reads. Green thread; `f` locked. */
void green__stdio_wide_prepare(FILE *f);

#endif
