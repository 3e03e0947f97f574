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
# leader per round; Once whose initialiser other callers wait for;
# thread::scope threads writing into a borrowed stack array; park/unpark
# and park_timeout; thread_local! values whose Drop runs once per thread
# with that thread's value; thread::Builder name and stack_size seen by
# thread::current().name()) prints the same transcript and exit status
# natively and under libgreen in both stack modes, one test per section,
# on one kernel thread; and while 30 of its threads are blocked at once in
# ten kinds of std wait, /proc/PID/status shows Threads: 1.  Where one
# thread must wait before another acts, the program waits until /proc
# shows it asleep in its call, never for a time.  Skipped when configure
# found no rustc (the program was not built).

load helpers

setup() {
    if [[ ! -x $GREEN_PROGS/rust-threads ]]; then
        skip "rustc is not installed"
    fi
}

# rust_section SECTION: rust-threads SECTION matches native in both stack
# modes.
rust_section() {
    compare_transcripts rust-threads "$1"
    assert_success
}

@test "rust: Arc<AtomicUsize> counters and JoinHandle results, in both stack modes" {
    rust_section arc_atomic
}

@test "rust: Mutex under contention, poisoned by a panic, and Condvar (bounded buffer, timeout, a notify while waiting), in both stack modes" {
    rust_section mutex_condvar
}

@test "rust: RwLock readers together, no torn writes, try_write WouldBlock, in both stack modes" {
    rust_section rwlock
}

@test "rust: mpsc channels with several senders, recv_timeout and disconnection, in both stack modes" {
    rust_section channel
}

@test "rust: a TCP echo server with a thread per connection and 40 clients on 127.0.0.1, in both stack modes" {
    rust_section tcp_echo
}

@test "rust: Barrier with one leader per round, in both stack modes" {
    rust_section barrier
}

@test "rust: thread::scope threads writing into a borrowed stack array, in both stack modes" {
    rust_section scope
}

@test "rust: park/unpark and park_timeout, in both stack modes" {
    rust_section park
}

@test "rust: thread_local! values dropped once per thread with its own value, in both stack modes" {
    rust_section thread_local
}

@test "rust: thread::Builder names and stack sizes, in both stack modes" {
    rust_section builder
}

# Separate mode only for the next three: Rust's rendezvous
# sync_channel(0) keeps the message on the sending thread's stack, and
# Rust 1.63's std::sync::Once (waiters) keeps its waiter records on the
# waiting threads' own stacks; the thread that takes the message or wakes
# the waiters reads or writes them while those threads are switched out.
# That is copy mode's documented limit (a pointer into another, suspended
# green thread's stack; README). The "parked" section uses both.
@test "rust [separate]: a rendezvous sync_channel(0) send waits for its recv, as natively" {
    compare_mode separate rust-threads sync_channel
    assert_success
}

@test "rust [separate]: Once runs its initialiser once while 7 callers wait for it, as natively" {
    compare_mode separate rust-threads once
    assert_success
}

@test "rust [separate]: 30 threads blocked in 10 kinds of std wait use 1 kernel thread, then all return" {
    assert_parked_on_one_kthread separate '^parked 30 on 10 kinds$' parked \
        rust-threads --hold {hold} parked
}
