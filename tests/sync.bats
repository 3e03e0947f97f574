#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# sync: mutexes and condition variables work between green threads,
# including those set up only by static initialisers.  Works means:
# tests/progs/sync-mutex.c (normal, recursive and error-checking mutexes:
# EBUSY, EDEADLK, EPERM, recursion counts, timedlock ETIMEDOUT, exact
# counters under contention while holders sleep) and tests/progs/sync-cond.c
# (bounded-buffer producers and consumers, signal wakes one, broadcast
# wakes all, timedwait ETIMEDOUT/EINVAL/woken in time on both clocks) and
# tests/progs/sync-deadline.c (deadlines before the epoch, bad tv_nsec)
# print the same transcripts natively and under libgreen.

load helpers

@test "sync [copy]: normal, recursive and errorcheck mutexes (static and attr) return the same codes as native" {
    compare_mode copy sync-mutex
    assert_success
}

@test "sync [separate]: normal, recursive and errorcheck mutexes (static and attr) return the same codes as native" {
    compare_mode separate sync-mutex
    assert_success
}

@test "sync [copy]: condition variables: bounded buffer, signal, broadcast and timedwait match native" {
    compare_mode copy sync-cond
    assert_success
}

@test "sync [separate]: condition variables: bounded buffer, signal, broadcast and timedwait match native" {
    compare_mode separate sync-cond
    assert_success
}

@test "sync [copy]: timed waits with deadlines before the epoch time out at once, bad tv_nsec gives EINVAL, as natively" {
    compare_mode copy sync-deadline
    assert_success
}

@test "sync [separate]: timed waits with deadlines before the epoch time out at once, bad tv_nsec gives EINVAL, as natively" {
    compare_mode separate sync-deadline
    assert_success
}
