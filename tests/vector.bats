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

@test "vector: a thread parked in recvfrom leaves 1 kernel thread (copy and separate), then gets the datagram" {
    assert_parked_on_one_kthread copy '^parked in recvfrom$' parked \
        vector-calls parked {hold}
    assert_parked_on_one_kthread separate '^parked in recvfrom$' parked \
        vector-calls parked {hold}
}
