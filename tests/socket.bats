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
# pass every check; tests/progs/connect-tcp.c connects from 8 threads at
# once, and under strace no F_SETFL shows: a TCP connect changes no flag.

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

@test "socket [copy and separate]: blocking TCP connects from 8 threads, refused, EFAULT and EINVAL match native" {
    compare_mode copy connect-tcp
    assert_success
    compare_mode separate connect-tcp
    assert_success
}

@test "socket: a blocking TCP connect changes no file status flag of its socket (strace shows no F_SETFL)" {
    require_green_lib
    local log=$BATS_TEST_TMPDIR/connect.strace
    if ! strace -o /dev/null true 2>/dev/null; then
        skip "strace cannot trace here (ptrace not permitted)"
    fi
    run timeout 40 strace -f -qq -e trace=fcntl,io_uring_setup -o "$log" \
        env LD_PRELOAD="$GREEN_LIB" "$GREEN_PROGS/connect-tcp"
    assert_success
    if grep -q "io_uring_setup(.*= -1" "$log"; then
        skip "io_uring is not available here; connect then sets O_NONBLOCK for its one connect(2) call"
    fi
    # The connects went through io_uring, which needs no flag.
    run grep -c "io_uring_setup(" "$log"
    assert_output 1
    run grep -c F_SETFL "$log"
    assert_output 0
}
