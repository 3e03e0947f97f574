#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# foreign: kernel threads the runtime did not make (glibc's SIGEV_THREAD
# timer threads, created inside glibc) and green threads wake each other
# through conditions, semaphores, futexes and mutexes, in both directions.
# Works means: every wait ends as it does natively (the program's alarm
# turns a lost wake-up into a failure), same transcript, both stack modes;
# each side acts once the other sleeps in its wait (no timing).
# A kernel thread made with libc's own pthread_create (jemalloc's way)
# makes system calls while green threads run, as natively.

load helpers

@test "foreign: timer threads and green threads wake each other through conditions, semaphores, futexes and mutexes, in both stack modes" {
    compare_transcripts foreign-threads
    assert_success
}

@test "foreign: a kernel thread made with libc's own pthread_create (as jemalloc makes one) makes system calls beside green threads, as natively, in both stack modes" {
    compare_transcripts foreign-libc-thread
    assert_success
}
