/* SPDX-License-Identifier: MIT */
/* The table of the real libc functions behind every wrapper, generated from
 * preload/real-list.h. Inside libgreen, an interposed name is always called
 * as GREEN_REAL_FN(<name>)(...), never by its plain name.
 */
#ifndef GREEN_PRELOAD_REAL_H
#define GREEN_PRELOAD_REAL_H

#include <dirent.h>
#include <poll.h>
#include <pthread.h>
#include <grp.h>
#include <netdb.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <stdio.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

/* glibc's fortified entry points, declared by no header without
 * _FORTIFY_SOURCE. */
ssize_t __read_chk(int fd, void *buf, size_t nbytes, size_t buflen);
ssize_t __pread_chk(int fd, void *buf, size_t nbytes, off_t offset,
                    size_t buflen);
ssize_t __pread64_chk(int fd, void *buf, size_t nbytes, off64_t offset,
                      size_t buflen);
ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buflen, int flags);
ssize_t __recvfrom_chk(int fd, void *buf, size_t len, size_t buflen,
                       int flags, struct sockaddr *addr, socklen_t *alen);
int __poll_chk(struct pollfd *fds, nfds_t nfds, int timeout, size_t fdslen);
int __ppoll_chk(struct pollfd *fds, nfds_t nfds,
                const struct timespec *timeout, const sigset_t *mask,
                size_t fdslen);

/* glibc's entry for C++ thread_local destructors; in no public header. */
int __cxa_thread_atexit_impl(void (*func)(void *), void *obj, void *dso);

/* stdio's refill entry and its fortified reads (wrappers/stdio-read.c),
 * declared by no header without _FORTIFY_SOURCE. */
int __underflow(FILE *f);
char *__fgets_chk(char *buf, size_t size, int n, FILE *f);
char *__fgets_unlocked_chk(char *buf, size_t size, int n, FILE *f);
size_t __fread_chk(void *buf, size_t buflen, size_t size, size_t n, FILE *f);
size_t __fread_unlocked_chk(void *buf, size_t buflen, size_t size, size_t n,
                            FILE *f);
ssize_t __getdelim(char **lineptr, size_t *n, int delim, FILE *f);
int _IO_getc(FILE *f);
/* The wide reads' refills and fortified fgetws (wrappers/stdio-wide.c). */
wint_t __wuflow(FILE *f);
wint_t __wunderflow(FILE *f);
wchar_t *__fgetws_chk(wchar_t *buf, size_t size, int n, FILE *f);
wchar_t *__fgetws_unlocked_chk(wchar_t *buf, size_t size, int n, FILE *f);
void __chk_fail(void) __attribute__((noreturn));
/* The C99 scanf, which <stdio.h> with _GNU_SOURCE calls vfscanf. */
int __isoc99_vfscanf(FILE *f, const char *fmt, va_list ap);
/* The C99 wide scanf, which <wchar.h> with _GNU_SOURCE calls vfwscanf. */
int __isoc99_vfwscanf(FILE *f, const wchar_t *fmt, va_list ap);

struct green__real_table {
#define GREEN_REAL(ret, name, params) ret (*name) params;
#include "preload/real-list.h"
#undef GREEN_REAL
};

extern struct green__real_table green__real;

/* Look up the real `name` (dlsym(RTLD_NEXT)), store it in green__real and
 * return it; aborts with a message if it is missing or resolves to
 * libgreen itself. One per wrapped function, called by GREEN_REAL_FN. */
#define GREEN_REAL(ret, name, params) \
    ret (*green__real_resolve_##name(void)) params;
#include "preload/real-list.h"
#undef GREEN_REAL

/* The real libc function behind wrapper `name`, looked up the first time
 * it is needed: a process pays a dlsym only for the functions it calls
 * (resolving all 180 at once cost a program like /bin/true, which calls
 * just fclose, about 100 us). Any kernel thread: a race stores the same
 * pointer twice. */
#define GREEN_REAL_FN(name)                                                \
    (__extension__({                                                       \
        __typeof__(green__real.name) green_fn_ =                           \
            __atomic_load_n(&green__real.name, __ATOMIC_RELAXED);          \
        __builtin_expect(green_fn_ != NULL, 1)                             \
            ? green_fn_ : green__real_resolve_##name();                    \
    }))

#endif
