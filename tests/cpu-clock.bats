#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# cpu-clock: each green thread has a CPU-time clock of its own.  Works
# means: tests/progs/cpu-clock.c (CLOCK_THREAD_CPUTIME_ID and the clock
# pthread_getcpuclockid gives start near zero in a new thread while main's
# shows the 200 ms main burned; a thread's clock, read by another, advances
# while it computes and stands still while it is blocked and main
# computes; clock_getres and clock_nanosleep on such clocks give glibc's
# answers) prints the same transcript and exit
# status natively and under libgreen in both stack modes.  The program
# prints only orderings that hold however loaded the machine is.

load helpers

# section NAME: cpu-clock NAME matches native in both stack modes.
section() {
    compare_transcripts cpu-clock "$1"
    assert_success
    refute_line --partial ": no"
}

@test "cpu-clock: a new thread's clock starts near zero while main's shows the CPU time main burned" {
    section start
}

@test "cpu-clock: a thread's clock, read by another, advances while it computes" {
    section advance
}

@test "cpu-clock: a blocked thread's clock stands still while another thread computes" {
    section parked
}

@test "cpu-clock: clock_getres and clock_nanosleep on threads' clocks give glibc's answers" {
    section calls
}
