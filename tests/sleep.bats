#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# sleep: sleep, usleep, nanosleep and clock_nanosleep park only the calling
# thread.  Works means: tests/progs/sleep-calls.c and sleep-clock.c print
# the same transcripts natively and under libgreen: the same return values
# and errors (EINVAL for a bad tv_nsec, tv_sec or clock, EFAULT for a bad
# pointer), no sleep ends early, another thread finishes its short sleeps
# while main sleeps, and 200 threads sleeping 1 s at once finish in well
# under 30 s.

load helpers

@test "sleep [copy]: sleep/usleep/nanosleep results and errors match native, other threads run meanwhile" {
    compare_mode copy sleep-calls
    assert_success
}

@test "sleep [separate]: sleep/usleep/nanosleep results and errors match native, other threads run meanwhile" {
    compare_mode separate sleep-calls
    assert_success
}

@test "sleep [copy]: clock_nanosleep relative and absolute, its error numbers, and other threads running meanwhile match native" {
    compare_mode copy sleep-clock
    assert_success
}

@test "sleep [separate]: clock_nanosleep relative and absolute, its error numbers, and other threads running meanwhile match native" {
    compare_mode separate sleep-clock
    assert_success
}
