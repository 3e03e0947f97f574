#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# stale-ids: a pthread_t whose thread is gone (joined, or ended detached)
# given to pthread_join, pthread_detach, pthread_kill, pthread_sigqueue,
# the scheduling, name, CPU-clock and attribute calls.  libgreen frees
# nothing a stale id points at and never hands one to glibc.  Works means:
# tests/progs/stale-ids.c prints the same answers (ESRCH, EINVAL, EBUSY,
# ENOENT, ...) and exit status natively and under libgreen in both stack
# modes, and nothing crashes, also after 200 more threads came and went.

load helpers

@test "stale-ids: a joined thread's id gets glibc's answers from join, detach, kill, sigqueue, sched, name, cpu-clock, getattr and affinity calls" {
    compare_transcripts stale-ids joined
    assert_success
    assert_line "joined: pthread_detach: ESRCH"
    assert_line "joined: pthread_join: ESRCH"
}

@test "stale-ids: an ended detached thread's id gets glibc's answers from join, detach, kill, sigqueue, sched, name and cpu-clock calls" {
    compare_transcripts stale-ids detached
    assert_success
    assert_line "detached: pthread_join: EINVAL"
}

@test "stale-ids: a joined thread's id kept while 200 threads come and go still reads as joined, and nothing crashes" {
    compare_transcripts stale-ids reused
    assert_success
    assert_line "reused: pthread_join: ESRCH"
}
