#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# pshared-owner: process-shared and robust mutexes stay glibc's objects,
# whose owner glibc records as the kernel tid that all green threads
# share; they still tell threads apart.  Works means:
# tests/progs/pshared-owner.c (for error-checking and recursive kinds,
# process-shared and robust: another thread's trylock gives EBUSY and its
# unlock EPERM, the owner's relock EDEADLK or a count, a lock waits until
# the holder unlocks) prints the same transcript and exit status natively
# and under libgreen in both stack modes.  That waiting never blocks the
# kernel thread is tests/shared.bats'.

load helpers

# section NAME: pshared-owner NAME matches native in both stack modes.
section() {
    compare_transcripts pshared-owner "$1"
    assert_success
}

@test "pshared-owner: a process-shared error-checking mutex answers each thread as its owner or not" {
    section errorcheck
    assert_line "errorcheck: main holds it: another thread's unlock: EPERM"
}

@test "pshared-owner: a process-shared recursive mutex counts its owner's locks only" {
    section recursive
    assert_line "recursive: main holds it: another thread's trylock: EBUSY"
}

@test "pshared-owner: a robust error-checking mutex answers each thread as its owner or not" {
    section robust-errorcheck
}

@test "pshared-owner: a robust recursive mutex counts its owner's locks only" {
    section robust-recursive
}
