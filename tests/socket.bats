#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# socket: recv, send, accept, accept4 and connect.  A blocking call parks
# only the calling thread; results, flags, errors and socket timeouts are
# the kernel's.  Works means: tests/progs/socket-calls.c (socketpairs and
# loopback TCP between threads, one thread receiving while another sends
# on the same socket, MSG_DONTWAIT, MSG_WAITALL, MSG_PEEK, O_NONBLOCK and
# FIONBIO set by the program, accept4 flags seen through fcntl,
# ECONNREFUSED, EINPROGRESS, EISCONN, ENOTSOCK, EBADF, EINVAL, EFAULT) and
# tests/progs/socket-timeo.c (SO_RCVTIMEO/SO_SNDTIMEO give EAGAIN after
# the timeout) print the same transcripts natively and under libgreen and
# pass every check.

load helpers

@test "socket [copy]: recv/send/accept/accept4/connect between threads and their errors match native" {
    compare_mode copy socket-calls
    assert_success
}

@test "socket [separate]: recv/send/accept/accept4/connect between threads and their errors match native" {
    compare_mode separate socket-calls
    assert_success
}

@test "socket [copy]: SO_RCVTIMEO and SO_SNDTIMEO end blocking recv, read, send and accept with EAGAIN, as natively" {
    compare_mode copy socket-timeo
    assert_success
}

@test "socket [separate]: SO_RCVTIMEO and SO_SNDTIMEO end blocking recv, read, send and accept with EAGAIN, as natively" {
    compare_mode separate socket-timeo
    assert_success
}
