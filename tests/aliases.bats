#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# aliases: the other names under which programs reach calls libgreen wraps
# (bsd_signal, ssignal, sysv_signal, __sysv_signal, __sigaction,
# sigprocmask, pthread_sigqueue, wait3, wait4, dup3, freopen64, pclose,
# closedir, fcloseall). Works means: tests/progs/alias-calls.c, using each
# while other threads exist, prints the same transcript natively and under
# libgreen in both stack modes: the actions sigaction reports afterwards,
# a thread's own sigprocmask, a queued value reaching a thread in
# sigwaitinfo, wait3/wait4 letting other threads run (the child exits
# only when a thread of the parent, which runs while main waits, tells
# it to), dup3 leaving a blocked read its file, and the stream and
# directory closers' results.

load helpers

@test "aliases: signal()'s aliases, sigprocmask, pthread_sigqueue, wait3/wait4, dup3 and the stream closers match native in both stack modes" {
    compare_transcripts alias-calls
    assert_success
}
