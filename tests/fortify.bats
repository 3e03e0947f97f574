#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# fortify: programs built with _FORTIFY_SOURCE (as Debian builds its
# packages) call __read_chk, __recv_chk, __recvfrom_chk, __poll_chk and
# __ppoll_chk instead of the plain names. Works means: each of them, waiting
# for another thread that writes only once the caller sleeps in its call,
# parks instead of blocking the only kernel thread, and the transcript
# matches the native run in both stack modes; a read larger than its
# buffer still aborts with glibc's "buffer overflow detected" (copy mode).
# The programs of the I/O, socket, sleep, signal and fd-close tests,
# built the same way (*-fortify), print what their plain builds print, in
# both stack modes: one test per program.

load helpers

@test "fortify: the test program really imports the five checking entry points" {
    run nm -D "$GREEN_PROGS/fortify-calls"
    assert_success
    local name
    for name in __read_chk __recv_chk __recvfrom_chk __poll_chk __ppoll_chk; do
        assert_output --partial " U $name@"
    done
}

@test "fortify: __read_chk, __recv_chk, __recvfrom_chk, __poll_chk and __ppoll_chk park and match native in both stack modes" {
    compare_transcripts fortify-calls
    assert_success
}

# In copy mode only: the length check (glibc's, or libgreen's __read_chk
# before it parks) does not depend on where the thread's stack lives.
@test "fortify [copy]: a read larger than its buffer aborts as natively" {
    run_mode plain fortify-calls overflow
    local native_status=$status native_err=$stderr
    run_mode copy fortify-calls overflow
    assert_equal "$status" "$native_status"
    assert_equal "$status" 134
    [[ $stderr == *"buffer overflow detected"* ]]
    [[ $native_err == *"buffer overflow detected"* ]]
}

# The issue-4 programs built with _FORTIFY_SOURCE=2 -O2 (Makefile.am).
FORTIFIED=(io-calls socket-calls sleep-calls signal-eintr signal-restart
    fd-close)

@test "fortify: the rebuilt programs import __*_chk entry points" {
    local prog found=0
    for prog in "${FORTIFIED[@]}"; do
        run nm -D "$GREEN_PROGS/$prog-fortify"
        assert_success
        if [[ $output == *"_chk@"* ]]; then
            found=$((found + 1))
        fi
    done
    # Each of them calls some checked entry point (printf's, read's, ...).
    assert_equal "$found" "${#FORTIFIED[@]}"
}

# fortified_matches PROG: PROG-fortify prints what PROG prints natively,
# under libgreen in both stack modes.
fortified_matches() {
    compare_transcripts "$1-fortify"
    assert_success
}

@test "fortify: io-calls built fortified matches native in both stack modes" {
    fortified_matches io-calls
}

@test "fortify: socket-calls built fortified matches native in both stack modes" {
    fortified_matches socket-calls
}

@test "fortify: sleep-calls built fortified matches native in both stack modes" {
    fortified_matches sleep-calls
}

@test "fortify: signal-eintr built fortified matches native in both stack modes" {
    fortified_matches signal-eintr
}

@test "fortify: signal-restart built fortified matches native in both stack modes" {
    fortified_matches signal-restart
}

@test "fortify: fd-close built fortified matches native in both stack modes" {
    fortified_matches fd-close
}
