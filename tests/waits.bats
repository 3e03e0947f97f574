#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# waits: epoll_wait, epoll_pwait, epoll_pwait2, select and pselect park
# only the calling thread until an fd is ready or the timeout passes.
# Works means: tests/progs/wait-calls.c prints the same transcript
# natively and under libgreen: a thread writing a pipe, a socket, an
# eventfd or draining a full pipe wakes the waiter with the same count,
# data.fd and events or fd sets; timeouts return 0 (never early) with the
# sets cleared and select's timeval counted down; EINVAL, EBADF and EFAULT
# pass through; and a thread parked in epoll_wait needs no kernel thread
# of its own.

load helpers

@test "waits [copy]: epoll and select waits woken by other threads, timeouts and errors match native" {
    compare_mode copy wait-calls
    assert_success
}

@test "waits [separate]: epoll and select waits woken by other threads, timeouts and errors match native" {
    compare_mode separate wait-calls
    assert_success
}

@test "waits: a thread parked in epoll_wait leaves 1 kernel thread (copy and separate), then returns the event" {
    assert_parked_on_one_kthread copy '^parked in epoll_wait$' parked \
        wait-calls parked {hold}
    assert_parked_on_one_kthread separate '^parked in epoll_wait$' parked \
        wait-calls parked {hold}
}
