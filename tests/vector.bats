#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# vector: readv, writev, recvfrom, recvmsg, sendto and sendmsg park only
# the calling thread; results, addresses, flags and errors are the
# kernel's.  Works means: each section of tests/progs/vector-calls.c
# prints the same transcript natively and under libgreen, in both stack
# modes: UDP datagrams between threads arrive with their source address
# and msg_flags, scattered over several iovecs; writev, sendmsg and sendto
# of 1 MiB to a slow reader return 1 MiB; a pipe carries readv/writev
# between threads; MSG_DONTWAIT, O_NONBLOCK, SO_RCVTIMEO and SO_SNDTIMEO
# give EAGAIN (the timeouts never early); EBADF, ENOTSOCK, EINVAL,
# EMSGSIZE, EDESTADDRREQ and EFAULT pass through; and a thread parked in
# recvfrom needs no kernel thread of its own.  A sender acts once the
# receiver announced its call, never after a sleep; a call that held up
# the whole process would hang (the run's timeout).

load helpers

# section NAME: vector-calls NAME matches native in both stack modes.
section() {
    compare_transcripts vector-calls "$1"
    assert_success
}

@test "vector: UDP between threads: recvfrom and recvmsg wait for datagrams, with source addresses, iovecs, MSG_TRUNC, EMSGSIZE, MSG_DONTWAIT, O_NONBLOCK and SO_RCVTIMEO as natively" {
    section udp
    assert_line "recvfrom SO_RCVTIMEO 3600 s, a thread sends meanwhile: 4 OK"
}

@test "vector: a stream socketpair: writev, sendmsg and sendto of 1 MiB to a slow reader thread, readv and recvmsg into iovecs, and a full send buffer as natively" {
    section stream
    assert_line "reader got 1048576 bytes, 0 wrong"
}

@test "vector: a pipe: readv waits for another thread's writev, and writev of 256 KiB waits for a reader" {
    section pipe
}

@test "vector: EBADF, ENOTSOCK, EINVAL, EMSGSIZE and EFAULT pass through" {
    section errors
}

@test "vector: a thread parked in recvfrom leaves 1 kernel thread (copy and separate), then gets the datagram" {
    assert_parked_on_one_kthread copy '^parked in recvfrom$' parked \
        vector-calls parked {hold}
    assert_parked_on_one_kthread separate '^parked in recvfrom$' parked \
        vector-calls parked {hold}
}
