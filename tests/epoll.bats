#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# epoll: a program that runs its own epoll loop beside ordinary blocking
# threads (the pattern of nginx, redis and libevent), and eventfd, timerfd
# and signalfd, which wait for readiness like sockets do.  Works means:
# tests/progs/epoll-loop.c prints the same transcript natively and under
# libgreen in both stack modes, one test per section: epoll's errors,
# timeouts that expire (never early), level- and edge-triggered and
# one-shot registrations, an fd that leaves the set when its last
# reference is closed, epoll_pwait's mask, and every byte of 20 blocking
# TCP echo clients served by main's epoll loop on 127.0.0.1 while threads
# block in read, in nanosleep and in epoll_wait on a second epoll
# instance; and while all those threads are blocked the process runs on 1
# kernel thread.  tests/progs/fd-kinds.c prints the same transcript
# natively and under libgreen: threads blocked in read, write and poll on
# an eventfd, a timerfd (periodic, one-shot, absolute) and a signalfd wake
# when another thread writes, the timer expires or kill(getpid()) sends
# the signal, and other threads run while they wait (round trips made
# once the waiter sleeps, before it is woken); EFD_SEMAPHORE semantics;
# EAGAIN for the non-blocking flags; EINVAL and EBADF pass through.
# Nothing depends on timing but the timeouts themselves, checked as lower
# bounds.

load helpers

@test "epoll: epoll_create1, epoll_ctl and epoll_wait errors match native in both stack modes" {
    compare_transcripts epoll-loop errors
    assert_success
}

@test "epoll: timeouts expire, level-triggered, edge-triggered and one-shot registrations report as natively, in both stack modes" {
    compare_transcripts epoll-loop timeouts
    assert_success
}

@test "epoll: an fd leaves the set only when its last reference is closed, in both stack modes" {
    compare_transcripts epoll-loop closed
    assert_success
}

@test "epoll: epoll_pwait's mask holds back a signal sent while it waits, or lets it end the wait, in both stack modes" {
    compare_transcripts epoll-loop pwait
    assert_success
}

@test "epoll: a program's epoll loop serves 20 blocking echo clients beside threads in read, sleep and epoll_wait, as natively, in both stack modes" {
    compare_transcripts epoll-loop loop
    assert_success
    assert_line "summary: 20 clients x 10 messages, 1982400 bytes echoed, 3 readers, 2 sleepers, 1 watcher"
}

@test "epoll: while the epoll loop's 26 other threads are blocked the process has 1 kernel thread (copy and separate)" {
    local mode
    for mode in copy separate; do
        assert_parked_on_one_kthread "$mode" '^blocked: ' loop epoll-loop \
            --hold {hold} loop
    done
}

@test "epoll: eventfd, timerfd and signalfd wake blocked read, write and poll as natively, in both stack modes" {
    compare_transcripts fd-kinds
    assert_success
}
