#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# poll: poll parks only the calling thread until an fd is ready or the
# timeout passes.  Works means: tests/progs/poll-calls.c prints the same
# transcript natively and under libgreen: timeouts return 0 (never early),
# readiness caused by another thread wakes the poller with the same
# revents (also for two threads polling one fd, one fd listed three times,
# and a regular file, which is always ready), a closed fd gives POLLNVAL,
# and EFAULT and EINVAL pass through.

load helpers

@test "poll [copy]: timeouts, readiness from other threads, POLLNVAL, EFAULT, EINVAL match native" {
    compare_mode copy poll-calls
    assert_success
}

@test "poll [separate]: timeouts, readiness from other threads, POLLNVAL, EFAULT, EINVAL match native" {
    compare_mode separate poll-calls
    assert_success
}
