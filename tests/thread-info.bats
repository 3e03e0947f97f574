#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# thread-info: calls that take another thread's pthread_t, which glibc
# answers from its own thread descriptor and libgreen answers for green
# threads (tests/progs/threads-info.c): tryjoin/timedjoin/clockjoin, names,
# pthread_kill, CPU clock, scheduling parameters, affinity, and
# pthread_yield. Works means: the same transcript natively and under
# libgreen, in both stack modes.  Nothing depends on timing: the program
# waits for the signal handler and yields until the other thread ran,
# however long it takes (the run's timeout ends a hang).

load helpers

@test "thread-info: join variants, names, kill, CPU clock, scheduling, affinity and yield match native" {
    compare_transcripts threads-info
    assert_success
    assert_line "SIGUSR1 handler ran: 1 time(s)"
    assert_line "pthread_yield returned 0: 1, the other thread ran: 1"
}
