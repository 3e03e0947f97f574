#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# io: read and write.  A blocking read or write parks only the calling
# thread; results and errors are the kernel's.  Works means:
# tests/progs/io-calls.c (pipes between threads, a 1 MiB write through a
# 64 KiB pipe, two threads reading one pipe, eventfd and timerfd reads,
# EOF, EBADF, EFAULT, EPIPE, EAGAIN on pipes the program made non-blocking,
# the O_NONBLOCK flag the program sees, regular files) prints the same
# transcript natively and under libgreen and passes every check.

load helpers

@test "io [copy]: read/write between threads and their errors match native, line by line" {
    compare_mode copy io-calls
    assert_success
}

@test "io [separate]: read/write between threads and their errors match native, line by line" {
    compare_mode separate io-calls
    assert_success
}
