#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# stdio-wscan: a green thread in the wide scanf family (fwscanf, wscanf,
# vfwscanf, vwscanf and their __isoc99_ names) on a FILE whose buffers
# ran dry waits by parking, even in the middle of a number or of a UTF-8
# character, so the other green threads keep running.  Works means: each
# section of tests/progs/stdio-wscan.c (pipes fed in pieces in the C.UTF-8
# locale: %d, %ls, %lc and %l[ conversions split across writes, a
# matching failure, EOF before any conversion, a character cut off by
# EOF, an invalid byte, a write-only stream, ungetwc before and after a
# scan, a trailing white-space directive, %n, and what fgetwc reads next)
# prints the same transcript natively and under libgreen in both stack
# modes, and the process stays on one kernel thread while a reader waits
# in fwscanf for the rest of a number.  Each piece is written only once
# the reader took the one before, so it reaches a scan that waits for it;
# a wait that held up the whole process would hang (the run's timeout).

load helpers

# section NAME: stdio-wscan NAME matches native in both stack modes.
section() {
    compare_transcripts stdio-wscan "$1"
    assert_success
}

@test "stdio-wscan: fwscanf, wscanf, vfwscanf, vwscanf and their __isoc99_ names wait for a number and characters split across writes" {
    section functions
    assert_line '__isoc99_vwscanf: 12 "h<U+00E9>llo" U+20AC "abc"'
}

@test "stdio-wscan: a matching failure leaves the character that failed to match" {
    section matching
}

@test "stdio-wscan: EOF before any conversion, after white space, and ending a number" {
    section eof
}

@test "stdio-wscan: a character cut off by EOF and an invalid byte give EILSEQ" {
    section cut
    assert_line 'cut alone: 1 feof 0 ferror 1 errno EILSEQ'
}

@test "stdio-wscan: a write-only stream gives EOF and EBADF" {
    section ebadf
    assert_line 'write-only: -1 feof 0 ferror 0 errno EBADF'
}

@test "stdio-wscan: ungetwc before a scan that then waits, and after one" {
    section ungetwc
}

@test "stdio-wscan: a trailing white-space directive waits for the next non-space; %n and scan sets" {
    section directives
}

@test "stdio-wscan: a thread waiting in fwscanf for the rest of a number leaves one kernel thread (copy and separate)" {
    assert_parked_on_one_kthread copy '^waiting$' hold stdio-wscan hold '{hold}'
    assert_parked_on_one_kthread separate '^waiting$' hold stdio-wscan hold '{hold}'
}
