#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# sleep: sleep, usleep, nanosleep and clock_nanosleep park only the calling
# thread.  Works means: tests/progs/sleep-calls.c and sleep-clock.c print
# the same transcripts natively and under libgreen, in both stack modes:
# the same return values and errors (EINVAL for a bad tv_nsec, tv_sec or
# clock, EFAULT for a bad pointer), no sleep ends early; while main sleeps
# for an hour another thread finishes 10 short sleeps and then ends main's
# sleep with a signal; and 200 threads sleeping 1 s at once all wake.
# A sleep that held up the whole process would never let the other thread
# signal (or would take the 200 sleeps one after another): the run's
# timeout turns that into a failure.

load helpers

@test "sleep: sleep/usleep/nanosleep results and errors match native, and no sleep ends early" {
    compare_transcripts sleep-calls results
    assert_success
    assert_line "nanosleep tv_nsec 1000000000: -1 EINVAL"
}

@test "sleep: while main sleeps an hour in sleep/usleep/nanosleep, another thread sleeps 10 times and then ends main's sleep with a signal" {
    compare_transcripts sleep-calls others
    assert_success
    assert_line "sleep(3600) ended by the other thread's signal: early, errno EINTR"
    assert_line "nanosleep: the other thread's 10 sleeps were done first"
}

@test "sleep: 200 threads sleeping 1 s at once all wake" {
    compare_transcripts sleep-calls many
    assert_success
    assert_line "200 threads slept 1 s each at the same time"
}

@test "sleep: clock_nanosleep relative and absolute, its error numbers, and an hour's sleep ended by another thread's signal match native" {
    compare_transcripts sleep-clock
    assert_success
    assert_line "the other thread's 10 sleeps were done first"
}
