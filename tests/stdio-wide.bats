#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# stdio-wide: a green thread reading wide characters (fgetwc, getwc,
# getwchar, their _unlocked forms, __wuflow, __wunderflow, fgetws,
# fgetws_unlocked, __fgetws_chk, __fgetws_unlocked_chk) or getw from a
# FILE whose buffers ran dry waits by parking, even in the middle of a
# UTF-8 character, so the other green threads keep running.  Works means:
# each section of tests/progs/stdio-wide.c (pipes fed in pieces in the
# C.UTF-8 locale: characters split across two and three writes, lines
# longer than the buffer, EOF, a character cut off by EOF, an invalid
# byte, a write-only stream, ungetwc before a read, an int in two pieces)
# prints the same transcript natively and under libgreen in both stack
# modes, and the process stays on one kernel thread while a reader waits
# for the second byte of a character.  Each piece is written only once
# the reader took the one before, so a split character is completed by a
# write another thread made while the call waited; a wait that held up
# the whole process would hang (the run's timeout).

load helpers

# section NAME: stdio-wide NAME matches native in both stack modes.
section() {
    compare_transcripts stdio-wide "$1"
    assert_success
}

@test "stdio-wide: fgetwc, getwc, their _unlocked forms, __wuflow and __wunderflow wait for characters split across two and three writes" {
    section getwc
    assert_line 'fgetwc 2: U+20AC'
}

@test "stdio-wide: getwchar and getwchar_unlocked on stdin wait for characters split across writes" {
    section getwchar
}

@test "stdio-wide: fgetws, fgetws_unlocked, __fgetws_chk and __fgetws_unlocked_chk wait for split characters, split lines and a last line cut by EOF" {
    section fgetws
    assert_line 'fgetws 0: 12 "h<U+00E9>llo w<U+00F6>rld\n"'
}

@test "stdio-wide: EOF after a character, and a character cut off by EOF (EILSEQ), as natively" {
    section eof
}

@test "stdio-wide: an invalid byte gives EILSEQ and the error flag, at once and after a wait" {
    section eilseq
}

@test "stdio-wide: fgetwc and fgetws on a write-only stream fail with EBADF" {
    section ebadf
}

@test "stdio-wide: ungetwc before a read, which then waits for the rest of a split character" {
    section ungetwc
}

@test "stdio-wide: getw waits for an int whose bytes come in two writes, then a short one and EOF" {
    section getw
}

@test "stdio-wide: a thread waiting in fgetws for the rest of a character leaves one kernel thread (copy and separate)" {
    assert_parked_on_one_kthread copy '^waiting$' hold stdio-wide hold '{hold}'
    assert_parked_on_one_kthread separate '^waiting$' hold stdio-wide hold '{hold}'
}
