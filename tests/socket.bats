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
# the timeout, never earlier) print the same transcripts natively and
# under libgreen, in both stack modes, and pass every check;
# tests/progs/connect-tcp.c connects from 8 threads at once, and under
# strace no F_SETFL shows: a TCP connect changes no flag.  No sleep orders
# the threads: a thread that must find another waiting acts once that one
# announced its call, or once it took all the data sent so far; a call
# that held up the whole process would hang (the run's timeout).

load helpers

@test "socket: recv and send on socketpairs between threads: waiting for the peer, MSG_DONTWAIT, O_NONBLOCK and FIONBIO, MSG_WAITALL across sends, MSG_PEEK, EOF and EPIPE match native" {
    compare_transcripts socket-calls socketpair
    assert_success
    assert_line "socketpair: recv MSG_WAITALL 3000 from 3 sends: 3000 OK"
}

@test "socket: one thread waits in recv while another waits in send on the same socket, and both complete" {
    compare_transcripts socket-calls duplex
    assert_success
    assert_line "duplex: one thread's recv 5 while another's send 1048576, peer got 1048576 bytes, checksum ok"
}

@test "socket: loopback TCP: 1 MiB send to a receiving thread, accept and accept4 waiting for connecting threads, their flags and addresses match native" {
    compare_transcripts socket-calls tcp
    assert_success
    assert_line "tcp: receiving thread got 1048576 bytes, checksum ok"
}

@test "socket: connect refused, non-blocking (EINPROGRESS), blocking and again (EISCONN), and its errors match native" {
    compare_transcripts socket-calls connect
    assert_success
}

@test "socket: recv, send, accept and accept4 errors (ENOTSOCK, EBADF, EINVAL, ENOTCONN, EFAULT) match native" {
    compare_transcripts socket-calls errors
    assert_success
}

@test "socket: SO_RCVTIMEO and SO_SNDTIMEO end blocking recv, read, send and accept with EAGAIN, never early, as natively" {
    compare_transcripts socket-timeo
    assert_success
}

@test "socket: blocking TCP connects from 8 threads, refused, EFAULT and EINVAL match native" {
    compare_transcripts connect-tcp
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
