#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# scale: very many threads blocked at the same time.  Works means: 100,000
# threads (20,000 in separate mode, where every thread owns a guard-paged
# stack: two kernel mappings each, and vm.max_map_count is 65530) wait on
# one condition variable at once in a process that runs on one kernel
# thread; one broadcast wakes them all and every one is joined.  The
# program's transcript is the same natively (with fewer threads) and under
# libgreen.

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

@test "scale [copy]: 100000 threads wait on one condition variable on 1 kernel thread, one broadcast wakes all" {
    many_waiters copy 100000
}

@test "scale [separate]: 20000 threads wait on one condition variable on 1 kernel thread, one broadcast wakes all" {
    many_waiters separate 20000
}

@test "scale [copy]: 500 condition variable waiters print the same transcript as natively" {
    compare_mode copy cond-many 500
    assert_success
}

@test "scale [separate]: 500 condition variable waiters print the same transcript as natively" {
    compare_mode separate cond-many 500
    assert_success
}
