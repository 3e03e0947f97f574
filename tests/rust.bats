#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# rust: unmodified Rust programs (std only) whose std::thread threads become
# green threads.  Works means: tests/progs/rust-threads.rs (Arc<AtomicUsize>
# and join results; Mutex under contention with sleeps inside, a Mutex
# poisoned by a panic that unwinds through a sleeping Drop; Condvar,
# including wait_timeout_while timing out after at least its duration;
# RwLock consistency and shared readers; mpsc channels with several
# senders, recv_timeout and a rendezvous sync_channel(0); a TCP echo server
# on loopback with a thread per connection and 40 clients; Barrier with one
# leader per round; Once with a sleeping initialiser; thread::scope threads
# writing into a borrowed stack array; park/unpark and park_timeout;
# thread_local! values whose Drop runs once per thread with that thread's
# value; thread::Builder name and stack_size seen by
# thread::current().name()) prints the same transcript and exit status
# natively and under libgreen in both stack modes, on one kernel thread;
# and while 30 of its threads are blocked at once in ten kinds of std wait,
# /proc/PID/status shows Threads: 1.  Skipped when configure found no rustc
# (the program was not built).

load helpers

setup() {
    if [[ ! -x $GREEN_PROGS/rust-threads ]]; then
        skip "rustc is not installed"
    fi
}

# Copy mode leaves out three sections on purpose: Rust's rendezvous
# sync_channel(0) keeps the message on the sending thread's stack, and Rust
# 1.63's std::sync::Once (waiters) keeps its waiter records on the waiting
# threads' own stacks; the thread that takes the message or wakes the
# waiters reads or writes them while those threads are switched out. That
# is copy mode's documented limit (a pointer into another, suspended green
# thread's stack; README); whether it shows depends on timing, so it is not
# tested here. The "parked" section uses both. Separate mode, which has no
# such limit, runs every section.
@test "rust [copy]: std threads, Mutex, Condvar, RwLock, mpsc, TCP echo, Barrier, scope, park, thread_local! and Builder match native" {
    compare_mode copy rust-threads arc_atomic mutex_condvar rwlock channel \
        tcp_echo barrier scope park thread_local builder
    assert_success
}

@test "rust [separate]: std threads, Mutex, Condvar, RwLock, mpsc, TCP echo, Barrier, Once, scope, park, thread_local! and Builder match native" {
    compare_mode separate rust-threads
    assert_success
}

# In separate mode: the Once and sync_channel waiters among the parked
# threads keep their queue nodes on their own stacks, which the thread that
# wakes them writes; in copy mode that is README's "pointer into another,
# suspended green thread's stack" limit, which the copy test above already
# exercises.  This test is about the kernel thread count.
@test "rust [separate]: 30 threads blocked in 10 kinds of std wait use 1 kernel thread, then all return" {
    assert_parked_on_one_kthread separate '^parked 30 on 10 kinds$' parked \
        rust-threads --hold {hold} parked
}
