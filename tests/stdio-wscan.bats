#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# stdio-wscan: a green thread in the wide scanf family (fwscanf, wscanf,
# vfwscanf, vwscanf and their __isoc99_ names) on a FILE whose buffers
# ran dry waits by parking, even in the middle of a number or of a UTF-8
# character, so the other green threads keep running.  Works means:
# tests/progs/stdio-wscan.c (pipes fed slowly in the C.UTF-8 locale: %d,
# %ls, %lc and %l[ conversions split across writes, a matching failure,
# EOF before any conversion, a character cut off by EOF, an invalid byte,
# a write-only stream, ungetwc before and after a scan, a trailing
# white-space directive, %n, and what fgetwc reads next) prints the same
# transcript natively and under libgreen in both stack modes, including
# "ticked yes" for each wait, and the process stays on one kernel thread
# while a reader waits in fwscanf for the rest of a number.

load helpers

@test "stdio-wscan [copy]: every wide scanf call on slowly fed pipes parks only its caller and matches native" {
    compare_mode copy stdio-wscan
    assert_success
    assert_line 'fwscanf: ticked yes'
    assert_line '__isoc99_vwscanf: 12 "h<U+00E9>llo" U+20AC "abc"'
    assert_line 'write-only: -1 feof 0 ferror 0 errno EBADF'
}

@test "stdio-wscan [separate]: every wide scanf call on slowly fed pipes parks only its caller and matches native" {
    compare_mode separate stdio-wscan
    assert_success
    assert_line 'wscanf: ticked yes'
    assert_line 'cut alone: 1 feof 0 ferror 1 errno EILSEQ'
}

@test "stdio-wscan [copy]: a thread waiting in fwscanf for the rest of a number leaves one kernel thread" {
    assert_parked_on_one_kthread copy '^waiting$' hold stdio-wscan hold '{hold}'
}

@test "stdio-wscan [separate]: a thread waiting in fwscanf for the rest of a number leaves one kernel thread" {
    assert_parked_on_one_kthread separate '^waiting$' hold stdio-wscan hold '{hold}'
}
