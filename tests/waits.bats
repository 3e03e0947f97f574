#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# waits: epoll_wait, epoll_pwait, epoll_pwait2, select and pselect park
# only the calling thread until an fd is ready or the timeout passes.
# Works means: each section of tests/progs/wait-calls.c prints the same
# transcript natively and under libgreen, in both stack modes: a thread
# writing a pipe, a socket, an eventfd or draining a full pipe wakes the
# waiter with the same count, data.fd and events or fd sets; timeouts
# return 0 (never early) with the sets cleared and select's timeval
# counted down; EINVAL, EBADF and EFAULT pass through; and a thread parked
# in epoll_wait needs no kernel thread of its own.  The waking thread acts
# once the waiter announced its wait, never after a sleep, and a wait
# that must be woken has an hour's timeout or none; a wait that held up
# the whole process would hang (the run's timeout).

load helpers

# section NAME: wait-calls NAME matches native in both stack modes.
section() {
    compare_transcripts wait-calls "$1"
    assert_success
}

@test "waits: epoll_wait, epoll_pwait and epoll_pwait2 woken by a thread writing or closing a pipe report the same events as natively" {
    section epoll-wakeups
    assert_line "epoll_wait woken by a writer thread, 3600 s timeout: 1 OK [0]=pipe-read-end:IN"
}

@test "waits: epoll waits on an empty pipe or an empty set time out with 0, never early" {
    section epoll-timeouts
}

@test "waits: epoll waits give EINVAL, EBADF and EFAULT as natively, EFAULT also when a thread makes an fd ready later" {
    section epoll-errors
}

@test "waits: epoll on sockets (IN, OUT, RDHUP, HUP, edge-triggered) and an eventfd woken by other threads" {
    section epoll-sockets
    assert_line "eventfd value: 5"
}

@test "waits: select woken by a writer and by a thread draining a full pipe, its timeouts, cleared sets, time left and errors" {
    section select
}

@test "waits: pselect woken by a writer and by a thread draining a full pipe, its timeouts and errors" {
    section pselect
}

@test "waits: a thread parked in epoll_wait leaves 1 kernel thread (copy and separate), then returns the event" {
    assert_parked_on_one_kthread copy '^parked in epoll_wait$' parked \
        wait-calls parked {hold}
    assert_parked_on_one_kthread separate '^parked in epoll_wait$' parked \
        wait-calls parked {hold}
}
