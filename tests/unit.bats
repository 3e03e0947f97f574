#!/usr/bin/env bats
# Unit test of switch/: the x86-64 context switch and greenlet-style stack
# slicing, exercised directly (not through LD_PRELOAD) by a miniature hub.
# Works means: registers, FP control and every coroutine's locals survive
# interleaved switches, a child writes its suspended creator's locals,
# resuming the coroutine that ran last copies no byte, and overflowing the
# shared region stops at its guard page.

load helpers

# Built beside tests/progs; make check exports it, a plain bats run derives it.
GREEN_UNIT=${GREEN_UNIT:-${GREEN_PROGS%/progs}/unit}

@test "unit: switch and stack slicing keep every coroutine's bytes" {
    run timeout 60 "$GREEN_UNIT/stack-slicing"
    echo "$output"
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = "rounding mode and locals survive switches: ok" ]
    [ "${lines[1]}" = "24 coroutines of depths 5..45 interleaved: ok" ]
    [ "${lines[2]}" = "resuming the coroutine that ran last copies 0 bytes" ]
    [ "${lines[3]}" = "child writes its creator's locals across switches: ok" ]
    [ "${lines[4]}" = "overflowing the region hits the guard page: SIGSEGV" ]
}
