#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# signal-own: a signal a thread sends to itself is that thread's own.
# Works means: tests/progs/signal-own.c prints the same transcript and
# exit status natively and under libgreen, in both stack modes:
#  - raise, gsignal, pthread_kill(pthread_self()) and tgkill to its own
#    tid, sent while the thread blocks the signal, leave it pending in
#    that thread's sigpending only (not main's), with the handler not
#    run; unblocking
#    runs the handler in that thread before pthread_sigmask returns; in a
#    thread other than main, and in main while another thread exists;
#  - a signal main raised while blocking it before creating any thread
#    stays main's: the new thread's pending set is empty and its mask is
#    its creator's;
#  - a blocked, ignored signal sent to itself is pending, and runs the
#    handler installed before the unblock; SIG_IGN discards a pending one.
# Nothing depends on timing: the threads meet through handshakes.

load helpers

@test "signal-own: raise, gsignal, pthread_kill and tgkill to itself in a blocking thread other than main stay pending on that thread, and its handler runs in it when it unblocks" {
    compare_transcripts signal-own thread
    assert_success
}

@test "signal-own: raise, gsignal, pthread_kill and tgkill to itself in main while another thread exists stay pending on main, and the handler runs in main when it unblocks" {
    compare_transcripts signal-own main
    assert_success
}

@test "signal-own: a signal main raised and blocks before the first pthread_create is not pending in the new thread, which starts with its creator's mask" {
    compare_transcripts signal-own new-thread
    assert_success
}

@test "signal-own: a blocked signal a thread sends itself while ignoring it is pending and runs the handler installed before the unblock; setting SIG_IGN discards a pending signal" {
    compare_transcripts signal-own ignored
    assert_success
}
