#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# copy-check: in copy mode (LIBGREEN_STACK=copy) a pointer into another,
# switched-out green thread's stack is not valid, since that thread's bytes
# leave the shared region; with LIBGREEN_DEBUG=1, copy mode looks at each
# switch for such pointers that the program published (in a global, or on
# a stack off the region) and says once on stderr that it cannot run the
# program, instead of corrupting it silently.  Works means:
# - tests/progs/stack-cross.c, whose cases publish pointers to blocked
#   threads' stack structs (owners: a global table; waiters: a global list
#   head; readers: a global request array), makes libgreen print exactly
#   one report line naming the global (the program may then misbehave: its
#   output is not checked, and it is killed once the line is there);
# - no false alarm: programs copy mode does run (children using their
#   creators' locals three levels deep, the threads API, condition
#   variables, a thread-per-connection echo server and client) print no
#   report with LIBGREEN_DEBUG=1 and the same transcript as natively;
# - the check is copy mode's and debug's only: no report without
#   LIBGREEN_DEBUG, nor in the default (separate) mode, where stack-cross
#   runs correctly.

load helpers

REPORT='^libgreen: copy mode: a pointer to the stack of switched-out thread '
REPORT+='[0-9]+ is stored in a global of stack-cross \(offset 0x[0-9a-f]+\); '
REPORT+='copy mode cannot support this program, use LIBGREEN_STACK=separate '
REPORT+='\(the default\)$'
ANY_REPORT='copy mode: a pointer to the stack'

setup() {
    export LIBGREEN_DEBUG=1
}

# run_to_report CASE: run stack-cross CASE in copy mode until it prints a
# report on stderr (the program may hang or crash afterwards: it is
# killed), or ends; $stderr is what it printed there.
run_to_report() {
    start_bg "cc.$1" copy stack-cross "$1"
    local pid=$BG_PID
    wait_for_line "$(bg_err "cc.$1")" "$REPORT" 30 "$pid" || true
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    stderr=$(cat "$(bg_err "cc.$1")")
    status=0
}

# assert_one_report: the last run's stderr holds exactly one report line.
assert_one_report() {
    local n
    n=$(grep -cE -- "$REPORT" <<<"$stderr") || true
    if [[ $n != 1 ]]; then
        show_run "libgreen (copy, debug)"
        fail "expected exactly one copy-mode report on stderr, found $n"
    fi
}

# assert_checked_quietly: the last run was in copy mode with debug on (the
# runtime said so) and reported nothing.
assert_checked_quietly() {
    if ! grep -q 'runtime started in pid [0-9]*: stack mode copy' \
        <<<"$stderr"; then
        fail "the runtime did not start in copy mode with LIBGREEN_DEBUG=1"
    fi
    if grep -q -- "$ANY_REPORT" <<<"$stderr"; then
        fail "false alarm: $(grep -- "$ANY_REPORT" <<<"$stderr")"
    fi
}

@test "copy-check: owners publishing their stack structs in a global table are reported once" {
    run_to_report owners
    assert_one_report
}

@test "copy-check: waiters pushing nodes on their stacks onto a global list are reported once" {
    run_to_report waiters
    assert_one_report
}

@test "copy-check: readers handing buffers on their stacks to a filler through a global array are reported once" {
    run_to_report readers
    assert_one_report
}

@test "copy-check: no report without LIBGREEN_DEBUG" {
    unset LIBGREEN_DEBUG
    GREEN_RUN_TIMEOUT=15 run_green copy stack-cross owners
    if grep -q -- "$ANY_REPORT" <<<"$stderr"; then
        fail "report without LIBGREEN_DEBUG: $stderr"
    fi
}

@test "copy-check: no report in the default mode, where stack-cross runs correctly" {
    compare_mode default stack-cross owners
    assert_success
    refute_line --partial BAD
    if grep -q -- "$ANY_REPORT" <<<"$stderr"; then
        fail "report in separate mode: $stderr"
    fi
}

@test "copy-check: children writing their creators' locals three levels deep: no false alarm, same transcript as natively" {
    compare_mode copy stack-locals
    assert_success
    assert_line "threads 39"
    assert_checked_quietly
}

@test "copy-check: the threads API: no false alarm, same transcript as natively" {
    compare_mode copy threads-api
    assert_success
    assert_checked_quietly
}

@test "copy-check: condition variables: no false alarm, same transcript as natively" {
    compare_mode copy sync-cond
    assert_success
    assert_checked_quietly
}

@test "copy-check: a thread-per-connection echo server and client: no false alarm, same transcript as natively" {
    start_bg native_server plain echo-server
    wait_for_line "$(bg_out native_server)" '^port [0-9]+$' 30 "$BG_PID"
    local port
    port=$(awk '/^port / { print $2 }' "$(bg_out native_server)")
    run_plain echo-client 127.0.0.1 "$port" 100 20000
    assert_success
    local native=$output

    start_bg server copy echo-server
    local server=$BG_PID
    wait_for_line "$(bg_out server)" '^port [0-9]+$' 30 "$server"
    port=$(awk '/^port / { print $2 }' "$(bg_out server)")
    run_green copy echo-client 127.0.0.1 "$port" 100 20000
    assert_success
    assert_equal "$output" "$native"
    assert_checked_quietly
    assert kill -0 "$server"
    stderr=$(cat "$(bg_err server)")
    assert_checked_quietly
}
