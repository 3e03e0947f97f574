/* SPDX-License-Identifier: MIT */
/* The fortified entry points that programs built with _FORTIFY_SOURCE
 * (Debian's own binaries among them) call instead of the plain names:
 * __read_chk, __pread_chk, __pread64_chk, __recv_chk, __recvfrom_chk,
 * __poll_chk, __ppoll_chk. Each checks the buffer as glibc does, by
 * letting glibc's own version handle (and abort on) an overflowing
 * request, then takes the plain wrapper's path, which parks.
 */
#include "config.h"

#include <sys/socket.h>

#include "wrappers/wrap.h"

GREEN_WRAP ssize_t __read_chk(int fd, void *buf, size_t nbytes, size_t buflen)
{
    green__ensure_init();
    if (nbytes > buflen) {
        return GREEN_REAL_FN(__read_chk)(fd, buf, nbytes, buflen);
    }
    return read(fd, buf, nbytes);
}

GREEN_WRAP ssize_t __pread_chk(int fd, void *buf, size_t nbytes, off_t off,
                               size_t buflen)
{
    green__ensure_init();
    if (nbytes > buflen) {
        return GREEN_REAL_FN(__pread_chk)(fd, buf, nbytes, off, buflen);
    }
    return pread(fd, buf, nbytes, off);
}

GREEN_WRAP ssize_t __pread64_chk(int fd, void *buf, size_t nbytes,
                                 off64_t off, size_t buflen)
{
    green__ensure_init();
    if (nbytes > buflen) {
        return GREEN_REAL_FN(__pread64_chk)(fd, buf, nbytes, off, buflen);
    }
    return pread64(fd, buf, nbytes, off);
}

GREEN_WRAP ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buflen,
                              int flags)
{
    green__ensure_init();
    if (len > buflen) {
        return GREEN_REAL_FN(__recv_chk)(fd, buf, len, buflen, flags);
    }
    return recv(fd, buf, len, flags);
}

GREEN_WRAP ssize_t __recvfrom_chk(int fd, void *buf, size_t len,
                                  size_t buflen, int flags,
                                  struct sockaddr *addr, socklen_t *alen)
{
    green__ensure_init();
    if (len > buflen) {
        return GREEN_REAL_FN(__recvfrom_chk)(fd, buf, len, buflen, flags, addr,
                                          alen);
    }
    return recvfrom(fd, buf, len, flags, addr, alen);
}

GREEN_WRAP int __poll_chk(struct pollfd *fds, nfds_t nfds, int timeout,
                          size_t fdslen)
{
    green__ensure_init();
    if (fdslen / sizeof *fds < nfds) {
        return GREEN_REAL_FN(__poll_chk)(fds, nfds, timeout, fdslen);
    }
    return poll(fds, nfds, timeout);
}

GREEN_WRAP int __ppoll_chk(struct pollfd *fds, nfds_t nfds,
                           const struct timespec *timeout,
                           const sigset_t *mask, size_t fdslen)
{
    green__ensure_init();
    if (fdslen / sizeof *fds < nfds) {
        return GREEN_REAL_FN(__ppoll_chk)(fds, nfds, timeout, mask, fdslen);
    }
    return ppoll(fds, nfds, timeout, mask);
}
