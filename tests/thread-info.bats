#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# thread-info: calls that take another thread's pthread_t, which glibc
# answers from its own thread descriptor and libgreen answers for green
# threads (tests/progs/threads-info.c): tryjoin/timedjoin/clockjoin, names,
# pthread_kill, CPU clock, scheduling parameters, affinity, and
# pthread_yield. Works means: the same transcript natively and under
# libgreen, in both stack modes.

load helpers

@test "thread-info [copy]: join variants, names, kill, CPU clock, scheduling, affinity and yield match native" {
    compare_mode copy threads-info
    assert_success
}

@test "thread-info [separate]: join variants, names, kill, CPU clock, scheduling, affinity and yield match native" {
    compare_mode separate threads-info
    assert_success
}
