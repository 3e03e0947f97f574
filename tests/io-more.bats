#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# io-more: the rest of the blocking I/O surface — positional I/O (pread,
# pwrite, preadv, pwritev, preadv2, pwritev2 and the *64 names, and
# __pread_chk), recvmmsg and sendmmsg, sendfile, splice and tee.  A call
# that would block parks only the calling thread; every result, errno and
# side effect (file offsets, recvmmsg's time left) is the kernel's.  Works
# means: each section of tests/progs/io-more.c prints the same transcript
# natively and under libgreen in both stack modes, built plainly and with
# _FORTIFY_SOURCE; each waiting call returns only after another thread
# ran (which acts once the caller sleeps in its call); 1 MiB goes through
# pipes, socketpairs and TCP on 127.0.0.1 to readers that start once the
# writer waits, intact; and threads blocked in all of these calls at once
# leave the process on one kernel thread.

load helpers

BATS_TEST_TIMEOUT=60

@test "io-more: pread/pwrite/preadv/pwritev/preadv2/pwritev2 and the *64 names on regular files match native in both stack modes" {
    compare_transcripts io-more pos-files
    assert_success
}

@test "io-more: positional calls on pipes and sockets fail with ESPIPE at once, RWF_NOWAIT with EAGAIN, as natively, in both stack modes" {
    compare_transcripts io-more pos-espipe
    assert_success
}

@test "io-more: preadv2/pwritev2 at offset -1 wait like readv/writev, 1 MiB through a pipe and a socketpair, in both stack modes" {
    compare_transcripts io-more pos-waits
    assert_success
}

@test "io-more: recvmmsg waits for vlen datagrams, MSG_WAITFORONE, its timeout checked after a datagram, as natively, in both stack modes" {
    compare_transcripts io-more batch-receive
    assert_success
}

@test "io-more: sendmmsg of 1 MiB over a socketpair and TCP and into a full datagram queue waits for room, as natively, in both stack modes" {
    compare_transcripts io-more batch-send
    assert_success
}

@test "io-more: recvmmsg and sendmmsg errors match native in both stack modes" {
    compare_transcripts io-more batch-errors
    assert_success
}

@test "io-more: sendfile and sendfile64 of 1 MiB wait for the reader, file offsets as natively, in both stack modes" {
    compare_transcripts io-more transfer-sendfile
    assert_success
}

@test "io-more: splice and tee wait on an empty source or a full destination, as natively, in both stack modes" {
    compare_transcripts io-more transfer-splice-tee
    assert_success
}

@test "io-more: 1 MiB from a writer thread spliced from a pipe to TCP arrives intact, in both stack modes" {
    compare_transcripts io-more transfer-splice-big
    assert_success
}

@test "io-more: sendfile, splice and tee errors match native in both stack modes" {
    compare_transcripts io-more transfer-errors
    assert_success
}

@test "io-more: the fortified build really imports __pread_chk" {
    run nm -D "$GREEN_PROGS/io-more-fortify"
    assert_success
    assert_output --regexp ' U __pread(64)?_chk@'
}

@test "io-more [fortified]: positional sections match native in both stack modes" {
    compare_transcripts io-more-fortify pos
    assert_success
}

@test "io-more [fortified]: recvmmsg/sendmmsg sections match native in both stack modes" {
    compare_transcripts io-more-fortify batch
    assert_success
}

@test "io-more [fortified]: sendfile/splice/tee sections match native in both stack modes" {
    compare_transcripts io-more-fortify transfer
    assert_success
}

@test "io-more: 12 threads blocked in preadv2, recvmmsg, sendmmsg, sendfile, splice and tee use 1 kernel thread (copy and separate)" {
    local mode
    for mode in copy separate; do
        assert_parked_on_one_kthread "$mode" '^parked 12$' parked io-more \
            parked {hold}
    done
}
