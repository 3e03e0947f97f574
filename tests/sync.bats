#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# sync: mutexes and condition variables work between green threads,
# including those set up only by static initialisers.  Works means: each
# section of tests/progs/sync-mutex.c (normal, recursive and
# error-checking mutexes: EBUSY, EDEADLK, EPERM, recursion counts;
# waiting for a holder, timedlock ETIMEDOUT; exact counters under
# contention while holders sleep) and tests/progs/sync-cond.c
# (bounded-buffer producers and consumers, signal wakes one, broadcast
# wakes all, timedwait ETIMEDOUT/EINVAL/woken by another thread on both
# clocks) and tests/progs/sync-deadline.c (deadlines before the epoch, bad
# tv_nsec) print the same transcripts natively and under libgreen, in both
# stack modes.  Nothing depends on timing: a holder releases a mutex when
# main tells it to, a timed wait that must be woken has an hour's
# deadline, and timeouts are checked as lower bounds only.

load helpers

# section PROG NAME: PROG NAME matches native in both stack modes.
section() {
    compare_transcripts "$@"
    assert_success
}

@test "sync: normal, recursive and errorcheck mutexes (static and attr) return the same codes as native" {
    section sync-mutex kinds
    assert_line "errorcheck: lock again: EDEADLK"
}

@test "sync: lock waits for a thread sleeping with the mutex, and timedlock times out while it holds it" {
    section sync-mutex holder
    assert_line "timedlock for 10 ms while a thread holds the mutex: ETIMEDOUT"
}

@test "sync: counters stay exact when threads contend for normal, recursive and errorcheck mutexes, sleeping while they hold them" {
    section sync-mutex contend
}

@test "sync: condition variables: a bounded buffer between producers and consumers" {
    section sync-cond buffer
}

@test "sync: condition variables: signal wakes one waiter, broadcast wakes all" {
    section sync-cond signal
    assert_line "signal with one token: 1 of 5 woke and took it"
}

@test "sync: condition variables: timedwait times out (never early), rejects bad tv_nsec, and returns when another thread signals, on both clocks" {
    section sync-cond timed
    assert_line "CLOCK_MONOTONIC: timedwait 3600 s, another thread signals meanwhile: OK flag 1"
}

@test "sync: timed waits with deadlines before the epoch time out at once, bad tv_nsec gives EINVAL, as natively" {
    section sync-deadline
}
