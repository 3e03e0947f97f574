#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# io: read and write.  A blocking read or write parks only the calling
# thread; results and errors are the kernel's.  Works means:
# tests/progs/io-calls.c (pipes between threads, a 1 MiB write through a
# 64 KiB pipe, two threads reading one pipe, eventfd and timerfd reads,
# EOF, EBADF, EFAULT, EPIPE, EAGAIN on pipes the program made non-blocking,
# the O_NONBLOCK flag the program sees, regular files) prints the same
# transcript natively and under libgreen in both stack modes and passes
# every check; a call another thread completes waits for it (that thread
# acts once the caller sleeps in the call).

load helpers

@test "io: read/write between threads and their errors match native, line by line, in both stack modes" {
    compare_transcripts io-calls
    assert_success
}
