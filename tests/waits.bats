#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# waits: epoll_wait, epoll_pwait, epoll_pwait2, select and pselect park
# only the calling thread until an fd is ready or the timeout passes.
# Works means: tests/progs/wait-calls.c prints the same transcript
# natively and under libgreen: a thread writing a pipe, a socket, an
# eventfd or draining a full pipe wakes the waiter with the same count,
# data.fd and events or fd sets; timeouts return 0 (never early) with the
# sets cleared and select's timeval counted down; EINVAL, EBADF and EFAULT
# pass through; and a thread parked in epoll_wait needs no kernel thread
# of its own.

load helpers

@test "waits [copy]: epoll and select waits woken by other threads, timeouts and errors match native" {
    compare_mode copy wait-calls
    assert_success
}

@test "waits [separate]: epoll and select waits woken by other threads, timeouts and errors match native" {
    compare_mode separate wait-calls
    assert_success
}

# parked_in_epoll_wait MODE: while a thread is blocked in epoll_wait (and
# main and the companion are blocked too) the process has 1 kernel thread;
# after the hold file appears the waiter returns the pipe's event.
parked_in_epoll_wait() {
    local mode=$1 hold=$BATS_TEST_TMPDIR/release.$1 name=parked.$1
    start_bg "$name" "$mode" wait-calls parked "$hold"
    local pid=$BG_PID
    wait_for_line "$(bg_out "$name")" '^parked in epoll_wait$' 30 "$pid"
    assert_kernel_threads "$pid" 1
    touch "$hold"
    wait_bg "$pid"
    cat "$(bg_out "$name")" "$(bg_err "$name")"
    assert_equal "$status" 0
    run_plain wait-calls parked
    assert_success
    assert_equal "$(cat "$(bg_out "$name")")" "$output"
}

@test "waits: a thread parked in epoll_wait leaves 1 kernel thread (copy and separate), then returns the event" {
    parked_in_epoll_wait copy
    parked_in_epoll_wait separate
}
