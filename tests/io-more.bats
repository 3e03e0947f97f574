#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# io-more: the rest of the blocking I/O surface — positional I/O (pread,
# pwrite, preadv, pwritev, preadv2, pwritev2 and the *64 names, and
# __pread_chk), recvmmsg and sendmmsg, sendfile, splice and tee.  A call
# that would block parks only the calling thread; every result, errno and
# side effect (file offsets, recvmmsg's time left) is the kernel's.  Works
# means: tests/progs/io-more.c prints the same transcript natively and
# under libgreen in both stack modes, built plainly and with
# _FORTIFY_SOURCE; each waiting call returns only after another thread ran;
# 1 MiB goes through pipes, socketpairs and TCP on 127.0.0.1 to slow
# readers intact; and threads blocked in all of these calls at once leave
# the process on one kernel thread.

load helpers

BATS_TEST_TIMEOUT=60

@test "io-more [copy]: pread/pwrite/preadv/pwritev/preadv2/pwritev2 match native; offset -1 waits like readv/writev" {
    compare_mode copy io-more pos
    assert_success
}

@test "io-more [separate]: pread/pwrite/preadv/pwritev/preadv2/pwritev2 match native; offset -1 waits like readv/writev" {
    compare_mode separate io-more pos
    assert_success
}

@test "io-more [copy]: recvmmsg/sendmmsg waits, MSG_WAITFORONE, timeout and errors match native" {
    compare_mode copy io-more batch
    assert_success
}

@test "io-more [separate]: recvmmsg/sendmmsg waits, MSG_WAITFORONE, timeout and errors match native" {
    compare_mode separate io-more batch
    assert_success
}

@test "io-more [copy]: sendfile/splice/tee wait on either side, 1 MiB to slow readers, errors match native" {
    compare_mode copy io-more transfer
    assert_success
}

@test "io-more [separate]: sendfile/splice/tee wait on either side, 1 MiB to slow readers, errors match native" {
    compare_mode separate io-more transfer
    assert_success
}

@test "io-more: the fortified build really imports __pread_chk" {
    run nm -D "$GREEN_PROGS/io-more-fortify"
    assert_success
    assert_output --regexp ' U __pread(64)?_chk@'
}

@test "io-more [copy, fortified]: every section matches native" {
    local what
    for what in pos batch transfer; do
        compare_mode copy io-more-fortify "$what"
        assert_success
    done
}

@test "io-more [separate, fortified]: every section matches native" {
    local what
    for what in pos batch transfer; do
        compare_mode separate io-more-fortify "$what"
        assert_success
    done
}

@test "io-more [copy]: 12 threads blocked in preadv2, recvmmsg, sendmmsg, sendfile, splice and tee use 1 kernel thread" {
    assert_parked_on_one_kthread copy '^parked 12$' parked io-more \
        parked {hold}
}

@test "io-more [separate]: 12 threads blocked in preadv2, recvmmsg, sendmmsg, sendfile, splice and tee use 1 kernel thread" {
    assert_parked_on_one_kthread separate '^parked 12$' parked io-more \
        parked {hold}
}
