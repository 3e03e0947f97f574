#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# parking: every blocking call a thread can make parks a green thread, so
# a process whose threads are all blocked still runs on one kernel thread.
# Works means: while the 80 threads of tests/progs/park-mix.c are blocked
# at once in pthread_cond_wait, pthread_mutex_lock, pthread_join, read,
# poll, recv, accept and usleep/nanosleep/sleep, /proc/PID/status shows
# Threads: 1; once released, each kind returns what it returns natively.

load helpers

parked_on_one_kernel_thread() {
    local mode=$1 hold=$BATS_TEST_TMPDIR/release
    start_bg parked "$mode" park-mix "$hold"
    local pid=$BG_PID
    wait_for_line "$(bg_out parked)" '^parked 80$' 60 "$pid"
    assert_kernel_threads "$pid" 1
    touch "$hold"
    wait_bg "$pid"
    cat "$(bg_out parked)" "$(bg_err parked)"
    assert_equal "$status" 0
    run_plain park-mix
    assert_success
    assert_equal "$(cat "$(bg_out parked)")" "$output"
}

@test "parking [copy]: 80 threads blocked in cond, mutex, join, read, poll, recv, accept and sleep use 1 kernel thread" {
    parked_on_one_kernel_thread copy
}

@test "parking [separate]: 80 threads blocked in cond, mutex, join, read, poll, recv, accept and sleep use 1 kernel thread" {
    parked_on_one_kernel_thread separate
}
