#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# spawn: starting programs from green threads.  Works means: a program
# started by exec (every exported exec function) or posix_spawn(p) from a
# thread starts with that thread's signal mask, not main's and not the
# signals every thread blocks (tests/progs/exec-mask.c); system, popen and
# pclose keep glibc's statuses, signal dispositions, masks and stream
# rules while their waits park only the caller
# (tests/progs/shell-calls.c).  Native and libgreen transcripts compared
# in both stack modes.

load helpers

@test "spawn: exec and posix_spawn from a thread start the new program with that thread's mask" {
    compare_transcripts exec-mask
    assert_success
    assert_line "failed execv: -1 ENOENT"
}
