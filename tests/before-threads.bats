#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# before-threads: before the first pthread_create (the runtime not
# started, one thread) every call behaves as natively, signal handlers
# included.
# Works means: tests/progs/before-threads.c, which never creates a
# thread, prints the same transcript and exit status natively and under
# libgreen, in both stack modes: a handler that posts the semaphore makes
# sem_wait fail with EINTR without SA_RESTART and the next sem_wait take
# the post; with SA_RESTART sem_wait goes on and takes it; sem_timedwait
# and sem_clockwait (an hour's deadline) fail with EINTR either way.
# Nothing depends on timing: the signal comes from a child process once
# the program said it is about to wait and /proc shows it asleep.

load helpers

@test "before-threads: a handler without SA_RESTART makes sem_wait fail with EINTR, and the next sem_wait takes the handler's post" {
    compare_transcripts before-threads sem-wait
    assert_success
}

@test "before-threads: with SA_RESTART sem_wait goes on after the handler and takes its post" {
    compare_transcripts before-threads sem-restart
    assert_success
}

@test "before-threads: sem_timedwait and sem_clockwait with an hour's deadline fail with EINTR after a handler, with or without SA_RESTART" {
    compare_transcripts before-threads sem-timedwait
    assert_success
}
