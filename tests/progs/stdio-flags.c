/* SPDX-License-Identifier: MIT */
/* stdio-flags LABEL: print the file status flags of fds 0, 1 and 2.
 *
 * Prints one line, "LABEL: fd0 FLAGS fd1 FLAGS fd2 FLAGS", where FLAGS is
 * the access mode and O_NONBLOCK/O_APPEND of the open file description
 * (fcntl F_GETFL) or "closed".  A test runs it before and after another
 * program that shares the same stdin, stdout and stderr: file status
 * flags belong to the open file description, so anything the other program
 * left changed shows up here.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

static const char *describe(int fd, char *buf, size_t len)
{
    const int fl = fcntl(fd, F_GETFL);

    if (fl == -1) {
        return "closed";
    }
    const int mode = fl & O_ACCMODE;
    snprintf(buf, len, "%s%s%s/0x%x",
             mode == O_RDONLY ? "RDONLY" : mode == O_WRONLY ? "WRONLY"
                                                            : "RDWR",
             fl & O_NONBLOCK ? "|NONBLOCK" : "", fl & O_APPEND ? "|APPEND" : "",
             (unsigned)fl);
    return buf;
}

int main(int argc, char **argv)
{
    char b0[64], b1[64], b2[64];

    if (argc != 2) {
        fprintf(stderr, "usage: %s LABEL\n", argv[0]);
        return 2;
    }
    /* Describe all three before writing anything. */
    const char *const d0 = describe(0, b0, sizeof b0);
    const char *const d1 = describe(1, b1, sizeof b1);
    const char *const d2 = describe(2, b2, sizeof b2);
    printf("%s: fd0 %s fd1 %s fd2 %s\n", argv[1], d0, d1, d2);
    return fflush(stdout) == 0 ? 0 : 1;
}
