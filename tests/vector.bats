#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# vector: readv, writev, recvfrom, recvmsg, sendto and sendmsg park only
# the calling thread; results, addresses, flags and errors are the
# kernel's.  Works means: tests/progs/vector-calls.c prints the same
# transcript natively and under libgreen: UDP datagrams between threads
# arrive with their source address and msg_flags, scattered over several
# iovecs; writev, sendmsg and sendto of 1 MiB to a slow reader return
# 1 MiB; a pipe carries readv/writev between threads; MSG_DONTWAIT,
# O_NONBLOCK, SO_RCVTIMEO and SO_SNDTIMEO give EAGAIN (the timeouts never
# early); EBADF, ENOTSOCK, EINVAL, EMSGSIZE, EDESTADDRREQ and EFAULT pass
# through; and a thread parked in recvfrom needs no kernel thread of its
# own.

load helpers

@test "vector [copy]: readv/writev/recvfrom/recvmsg/sendto/sendmsg between threads and their errors match native" {
    compare_mode copy vector-calls
    assert_success
}

@test "vector [separate]: readv/writev/recvfrom/recvmsg/sendto/sendmsg between threads and their errors match native" {
    compare_mode separate vector-calls
    assert_success
}

# parked_in_recvfrom MODE: while a thread is blocked in recvfrom (and main
# and the companion are blocked too) the process has 1 kernel thread;
# after the hold file appears the receiver gets main's datagram.
parked_in_recvfrom() {
    local mode=$1 hold=$BATS_TEST_TMPDIR/release.$1 name=parked.$1
    start_bg "$name" "$mode" vector-calls parked "$hold"
    local pid=$BG_PID
    wait_for_line "$(bg_out "$name")" '^parked in recvfrom$' 30 "$pid"
    assert_kernel_threads "$pid" 1
    touch "$hold"
    wait_bg "$pid"
    cat "$(bg_out "$name")" "$(bg_err "$name")"
    assert_equal "$status" 0
    run_plain vector-calls parked
    assert_success
    assert_equal "$(cat "$(bg_out "$name")")" "$output"
}

@test "vector: a thread parked in recvfrom leaves 1 kernel thread (copy and separate), then gets the datagram" {
    parked_in_recvfrom copy
    parked_in_recvfrom separate
}
