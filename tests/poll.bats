#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# poll: poll parks only the calling thread until an fd is ready or the
# timeout passes.  Works means: tests/progs/poll-calls.c prints the same
# transcript natively and under libgreen in both stack modes: timeouts
# return 0 (never early), readiness caused by another thread (which acts
# once the poller sleeps in poll) wakes the poller with the same
# revents (also for two threads polling one fd, one fd listed three times,
# and a regular file, which is always ready), a closed fd gives POLLNVAL,
# and EFAULT and EINVAL pass through.  A thread that calls poll, ppoll,
# select, pselect, epoll_wait or epoll_pwait with a zero timeout,
# waitpid with WNOHANG, nanosleep of 0, a read or recv that gives EAGAIN
# (O_NONBLOCK, MSG_DONTWAIT), or a mutex or rwlock trylock or sem_trywait
# that fails, in a loop lets a thread blocked in read run, as the kernel
# would (tests/progs/poll-spin.c).

load helpers

@test "poll: timeouts, readiness from other threads, POLLNVAL, EFAULT, EINVAL match native in both stack modes" {
    compare_transcripts poll-calls
    assert_success
}

@test "poll: a thread polling in a loop (zero timeouts, WNOHANG, sleeps of 0, EAGAIN, trylocks) lets a blocked reader run, in both stack modes" {
    compare_transcripts poll-spin
    assert_success
    assert_line "epoll_pwait: the reader ran while another thread polled"
    assert_line "recv MSG_DONTWAIT: the reader ran while another thread polled"
    assert_line "sem_trywait: the reader ran while another thread polled"
}
