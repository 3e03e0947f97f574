#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# call: the rules of the blocking-call engine (wrappers/call.c) that a
# program can see. Works means: tests/progs/call-progress.c, where a
# handler with SA_RESTART interrupts a send, a pipe write and a
# MSG_WAITALL receive after each moved some bytes, prints the same
# transcript natively and under libgreen in both stack modes: the call
# returns what it moved (it is not restarted) and exactly those bytes
# arrive.

load helpers

@test "call: a send interrupted after progress returns the bytes sent, as natively" {
    compare_transcripts call-progress send
    assert_success
    assert_line "send: interrupted after progress, returns part of it: yes"
}

@test "call: a pipe write interrupted after progress returns the bytes written, as natively" {
    compare_transcripts call-progress write
    assert_success
    assert_line "write: interrupted after progress, returns part of it: yes"
}

@test "call: a MSG_WAITALL recv interrupted after progress returns the bytes received, as natively" {
    compare_transcripts call-progress recv-waitall
    assert_success
    assert_line "recv MSG_WAITALL: interrupted after 1000 bytes returns 1000"
}
