#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# stdio-wide: a green thread reading wide characters (fgetwc, getwc,
# getwchar, their _unlocked forms, __wuflow, __wunderflow, fgetws,
# fgetws_unlocked, __fgetws_chk, __fgetws_unlocked_chk) or getw from a
# FILE whose buffers ran dry waits by parking, even in the middle of a
# UTF-8 character, so the other green threads keep running.  Works means:
# tests/progs/stdio-wide.c (pipes fed slowly in the C.UTF-8 locale:
# characters split across two and three writes, lines longer than the
# buffer, EOF, a character cut off by EOF, an invalid byte, a write-only
# stream, ungetwc before a read, an int in two pieces) prints the same
# transcript natively and under libgreen in both stack modes, including
# "ticked yes" for each wait, and the process stays on one kernel thread
# while a reader waits for the second byte of a character.

load helpers

@test "stdio-wide [copy]: every wide read call on slowly fed pipes parks only its caller and matches native" {
    compare_mode copy stdio-wide
    assert_success
    assert_line 'fgetwc 2: ticked yes'
    assert_line 'fgetws 0: 12 "h<U+00E9>llo w<U+00F6>rld\n"'
}

@test "stdio-wide [separate]: every wide read call on slowly fed pipes parks only its caller and matches native" {
    compare_mode separate stdio-wide
    assert_success
    assert_line 'fgetwc 2: ticked yes'
}

@test "stdio-wide [copy]: a thread waiting in fgetws for the rest of a character leaves one kernel thread" {
    assert_parked_on_one_kthread copy '^waiting$' hold stdio-wide hold '{hold}'
}

@test "stdio-wide [separate]: a thread waiting in fgetws for the rest of a character leaves one kernel thread" {
    assert_parked_on_one_kthread separate '^waiting$' hold stdio-wide hold '{hold}'
}
