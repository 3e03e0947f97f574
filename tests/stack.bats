#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# stack: a thread may use its creator's local variables while the creator
# waits in pthread_join (pthread_create's arg pointing into the creator's
# frame is ordinary pthread code).  In copy mode this is what the stack
# slicing must preserve.  Works means: tests/progs/stack-locals.c, whose
# threads read and write their creator's slots, buffer, mutex and condition
# variable three levels deep while siblings run in between, prints the same
# transcript natively and under libgreen, in both stack modes, and reports
# no failed check.

load helpers

@test "stack: children write their creator's locals three levels deep while siblings run, same transcript as natively (copy and separate)" {
    compare_transcripts stack-locals
    assert_success
    assert_line "threads 39"
}

# Default mode only: in copy mode every thread runs in the one shared
# region (LIBGREEN_STACK_SIZE), so a thread's own stack size has no guard
# of its own (README, copy mode).
@test "stack: a thread made with a 64 KiB stack that recurses without end faults at its guard, as natively (default mode)" {
    compare_mode default stack-overflow
    assert_success
    assert_line "the overflow faulted within the thread's 64 KiB stack: yes"
}
