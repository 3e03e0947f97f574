#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# threads: the pthread API behaves as with glibc when every pthread is a
# green thread.  Works means: tests/progs/threads-api.c (detached threads,
# stack size and own-stack attributes, join values, pthread_exit, detach,
# self/equal, EDEADLK, and pthread_exit from main with threads still
# running, after which the process lives until the last thread ends and
# exits 0), tests/progs/threads-tls.c (errno, __thread variables and
# pthread keys stay per thread across switches; key destructors run; every
# thread's __thread variables and errno have addresses of their own; a
# child forked by a thread sees that thread's values),
# tests/progs/threads-setxid.c (setuid and its family called from threads
# change the whole process's ids) and
# tests/progs/threads-getattr.c (pthread_getattr_np reports the stack each
# thread runs on) print the same transcripts natively and under libgreen,
# in both stack modes.

load helpers

@test "threads: create attributes, join values, detach, self/equal and pthread_exit from main match native" {
    compare_transcripts threads-api
    assert_success
    assert_line "last thread ends after main's pthread_exit"
}

@test "threads: errno stays per thread while threads switch" {
    compare_transcripts threads-tls errno
    assert_success
}

@test "threads: __thread variables start fresh, stay per thread and have per-thread addresses" {
    compare_transcripts threads-tls tls
    assert_success
}

@test "threads: pthread key values stay per thread and destructors run once per thread" {
    compare_transcripts threads-tls keys
    assert_success
}

@test "threads: pthread_getattr_np reports the stack each thread runs on, honouring stack attributes" {
    compare_transcripts threads-getattr
    assert_success
}

@test "threads: setuid, setgid and their family called from threads apply to the process" {
    compare_transcripts threads-setxid
    assert_success
}
