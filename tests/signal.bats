#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# signal: signal handlers, masks and the sigwait family with green threads.
# Works means: tests/progs/signal-*.c print the same transcripts and exit
# status natively and under libgreen, in both stack modes:
#  - a handler installed without SA_RESTART interrupts a blocked call with
#    EINTR; with SA_RESTART the call restarts exactly where signal(7) says
#    (read/write on pipes, recv/send, accept, connect, waitpid, sem_wait;
#    never poll, ppoll, select, pselect, epoll_wait, epoll_pwait, the
#    sleeps, or socket calls with SO_RCVTIMEO/SO_SNDTIMEO);
#    pthread_mutex_lock is never interrupted; nanosleep and
#    clock_nanosleep report the time left, sleep() the whole seconds left;
#  - the handler runs in the thread the kernel would pick: the target of
#    pthread_kill; for kill(getpid()) and alarm, main unless it blocks the
#    signal, else the thread whose pthread_sigmask leaves it unblocked; a
#    signal every thread blocks stays pending (sigpending) until a thread
#    unblocks it, and runs there before pthread_sigmask returns;
#  - sigwait, sigwaitinfo, sigtimedwait, sigsuspend and pause block only
#    their caller and return the same signal and siginfo as natively;
#  - sigaction and signal return exactly the actions the program
#    installed, the program sees no handler or mask of the runtime's, and
#    SA_RESETHAND, SA_NODEFER, sa_mask, siginterrupt, ignored signals and
#    the self-pipe trick behave as natively;
#  - threads blocked in sigwait and read leave 1 kernel thread.
# Nothing depends on timing: a signal is sent once its target said it is
# about to block and sleeps in its call (tests/progs/handshake.h), and
# where a wait must let other threads run, it ends only because they did
# (they make round trips, then send the signal).  A time left (rem,
# select's timeval, sleep's result) is checked against the time that
# passed around the call, which no load can break.  Each test runs its
# program in both stack modes.

load helpers

@test "signal: a handler without SA_RESTART makes read, write, recv, send, accept, connect, waitpid and sem_wait fail with EINTR; with SA_RESTART they restart and complete" {
    compare_transcripts signal-restart
    assert_success
}

@test "signal: poll, select, epoll, nanosleep, clock_nanosleep, sleep, usleep and SO_RCVTIMEO/SO_SNDTIMEO sockets fail with EINTR even with SA_RESTART; rem, select's timeval and sleep's result are the time left" {
    compare_transcripts signal-eintr
    assert_success
}

@test "signal: pthread_kill interrupts only its target and runs the handler there; kill(getpid()) and alarm reach main or the one thread not blocking them, or stay pending" {
    compare_transcripts signal-kill
    assert_success
}

@test "signal: sigwait, sigwaitinfo, sigtimedwait, sigsuspend and pause block only the caller (other threads run, then send the signal) and return the same signal and siginfo as natively" {
    compare_transcripts signal-wait
    assert_success
}

@test "signal: sigaction and signal return the program's own actions; SA_SIGINFO, SA_RESETHAND, SA_NODEFER, siginterrupt, ignored signals and the self-pipe trick with 4 readers match native" {
    compare_transcripts signal-action
    assert_success
}

@test "signal: threads blocked in sigwait and read leave 1 kernel thread (copy and separate), then take the signal and the byte" {
    assert_parked_on_one_kthread copy '^parked in sigwait and read$' parked \
        signal-wait parked {hold}
    assert_parked_on_one_kthread separate '^parked in sigwait and read$' \
        parked signal-wait parked {hold}
}
