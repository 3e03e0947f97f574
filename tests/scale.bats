#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# scale: very many threads blocked at the same time.  Works means: 100,000
# threads (20,000 in separate mode, where every thread owns a guard-paged
# stack: two kernel mappings each, and vm.max_map_count is 65530) wait on
# one condition variable at once in a process that runs on one kernel
# thread; one broadcast wakes them all and every one is joined.  The
# program's transcript is the same natively (with fewer threads) and under
# libgreen.  Many threads blocked on one fd: 100,000 readers of one pipe
# (20,000 in separate mode) each get one byte, and 10,000 threads blocked
# in accept on one listening socket answer 20,000 connections; a byte or
# a connection wakes one waiter, as the kernel's exclusive waits do, so
# this takes seconds, not minutes (tests/progs/fd-herd.c).

load helpers
BATS_TEST_TIMEOUT=${GREEN_TEST_TIMEOUT:-300}

# waiters_on_one_kernel_thread MODE N: start cond-many N in MODE, check
# the kernel thread count while all N wait, then release them.
waiters_on_one_kernel_thread() {
    local mode=$1 n=$2 hold=$BATS_TEST_TMPDIR/release.$2
    local name=waiters.$n
    start_bg "$name" "$mode" cond-many "$n" "$hold"
    local pid=$BG_PID
    wait_for_line "$(bg_out "$name")" "^waiting $n\$" 240 "$pid"
    assert_kernel_threads "$pid" 1
    touch "$hold"
    wait_bg "$pid" 120
    cat "$(bg_out "$name")" "$(bg_err "$name")"
    assert_equal "$status" 0
    assert_equal "$(sed -n 2p "$(bg_out "$name")")" "woken $n"
}

many_waiters() {
    # A small run first: if threads were not green, the large run would
    # create that many kernel threads and exhaust the host's limits.
    waiters_on_one_kernel_thread "$1" 20
    waiters_on_one_kernel_thread "$1" "$2"
}

# The large runs use 100,000 threads in copy mode and 20,000 in separate
# mode (two kernel mappings per thread stack there, and vm.max_map_count
# is 65530), so each mode has a test of its own.
@test "scale [copy]: 100000 threads wait on one condition variable on 1 kernel thread, one broadcast wakes all" {
    many_waiters copy 100000
}

@test "scale [separate]: 20000 threads wait on one condition variable on 1 kernel thread, one broadcast wakes all" {
    many_waiters separate 20000
}

@test "scale: 500 condition variable waiters print the same transcript as natively, in both stack modes" {
    compare_transcripts cond-many 500
    assert_success
}

# herd MODE N: fd-herd N under libgreen in MODE serves every reader and
# every connection.
herd() {
    run_green "$1" fd-herd "$2"
    show_run "fd-herd $2"
    assert_success
    assert_line "pipe: $2 readers got one byte each, sum matches"
    assert_line "accept: $(($2 / 10)) threads answered $(($2 / 5)) connections, $(($2 / 5)) echoed"
}

@test "scale [copy]: 100000 threads reading one pipe and 10000 accepting on one socket are each served" {
    herd copy 100000
}

@test "scale [separate]: 20000 threads reading one pipe and 2000 accepting on one socket are each served" {
    herd separate 20000
}

@test "scale: 500 readers of one pipe and 50 acceptors on one socket print the same transcript as natively" {
    compare_transcripts fd-herd 500
    assert_success
}
