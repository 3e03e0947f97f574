#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# parking: every blocking call a thread can make parks a green thread, so
# a process whose threads are all blocked still runs on one kernel thread.
# Works means: while the 80 threads of tests/progs/park-mix.c are blocked
# at once in pthread_cond_wait, pthread_mutex_lock, pthread_join, read,
# poll, recv, accept and usleep/nanosleep/sleep, /proc/PID/status shows
# Threads: 1; once released, each kind returns what it returns natively.

load helpers

@test "parking: 80 threads blocked in cond, mutex, join, read, poll, recv, accept and sleep use 1 kernel thread (copy and separate)" {
    assert_parked_on_one_kthread copy '^parked 80$' '' park-mix {hold}
    assert_parked_on_one_kthread separate '^parked 80$' '' park-mix {hold}
}
