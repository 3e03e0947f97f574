#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# epoll: a program that runs its own epoll loop beside ordinary blocking
# threads (the pattern of nginx, redis and libevent), and eventfd, timerfd
# and signalfd, which wait for readiness like sockets do.  Works means:
# tests/progs/epoll-loop.c prints the same transcript natively and under
# libgreen: epoll's errors, timeouts that expire (never early), level- and
# edge-triggered and one-shot registrations, an fd that leaves the set when
# its last reference is closed, epoll_pwait's mask, every byte of 20
# blocking TCP echo clients served by main's epoll loop on 127.0.0.1 while
# threads block in read, in nanosleep and in epoll_wait on a second epoll
# instance; and while all those threads are blocked the process runs on 1
# kernel thread.  tests/progs/fd-kinds.c prints the same transcript
# natively and under libgreen: threads blocked in read, write and poll on
# an eventfd, a timerfd (periodic, one-shot, absolute) and a signalfd wake
# when another thread writes, the timer expires or kill(getpid()) sends the
# signal, while a counter thread keeps running; EFD_SEMAPHORE semantics;
# EAGAIN for the non-blocking flags; EINVAL and EBADF pass through.

load helpers

@test "epoll [copy]: a program's epoll loop serves 20 blocking echo clients beside threads in read, sleep and epoll_wait, as natively" {
    compare_mode copy epoll-loop
    assert_success
}

@test "epoll [separate]: a program's epoll loop serves 20 blocking echo clients beside threads in read, sleep and epoll_wait, as natively" {
    compare_mode separate epoll-loop
    assert_success
}

@test "epoll [copy]: while the epoll loop's 26 other threads are blocked the process has 1 kernel thread" {
    assert_parked_on_one_kthread copy '^blocked: ' '' epoll-loop {hold}
}

@test "epoll [separate]: while the epoll loop's 26 other threads are blocked the process has 1 kernel thread" {
    assert_parked_on_one_kthread separate '^blocked: ' '' epoll-loop {hold}
}

@test "epoll [copy]: eventfd, timerfd and signalfd wake blocked read, write and poll as natively" {
    compare_mode copy fd-kinds
    assert_success
}

@test "epoll [separate]: eventfd, timerfd and signalfd wake blocked read, write and poll as natively" {
    compare_mode separate fd-kinds
    assert_success
}
