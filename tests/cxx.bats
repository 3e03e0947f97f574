#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# cxx: unmodified C++ programs (g++ -pthread, libstdc++) whose std::thread
# threads become green threads.  Works means: tests/progs/cxx-threads.cc
# (std::thread and join; std::mutex under contention with sleeps inside,
# timed and recursive mutexes; std::condition_variable, including wait_for
# and wait_until timing out after at least their duration; std::shared_mutex
# consistency and shared readers; std::call_once with a sleeping
# initialiser; std::async, std::promise, std::shared_future and
# std::packaged_task; C++20 std::atomic wait/notify, std::counting_semaphore,
# std::latch and std::barrier; thread_local objects whose destructors run
# once per thread with that thread's value; exceptions thrown and caught in
# several threads that sleep inside their catch blocks; a function-local
# static whose sleeping constructor runs once for 4 threads; std::jthread
# stop tokens; std::call_once whose initialiser throws) prints the same
# transcript and exit status natively and under libgreen in both stack
# modes (copy mode without the stop tokens), on one kernel thread; and while 30 of its threads are blocked at
# once in ten kinds of std wait, /proc/PID/status shows Threads: 1.

load helpers

# cxx_section SECTION...: cxx-threads SECTION matches native in both
# stack modes.
cxx_section() {
    compare_transcripts cxx-threads "$@"
    assert_success
}

@test "cxx: std::thread and join, in both stack modes" {
    cxx_section thread
}

@test "cxx: std::mutex under contention, std::timed_mutex held until its timed try failed, std::recursive_mutex, in both stack modes" {
    cxx_section mutex
}

@test "cxx: std::condition_variable bounded buffer, wait_for/wait_until timeouts and a notify while waiting, in both stack modes" {
    cxx_section condvar
}

@test "cxx: std::shared_mutex readers together, no torn writes, std::shared_timed_mutex timeouts, in both stack modes" {
    cxx_section shared_mutex
}

@test "cxx: std::call_once runs once while 7 callers wait for it, in both stack modes" {
    cxx_section once
}

@test "cxx: std::async, std::promise, std::shared_future, std::packaged_task and broken promises, in both stack modes" {
    cxx_section futures
}

@test "cxx: C++20 std::atomic and std::atomic_flag wait/notify, in both stack modes" {
    cxx_section atomic_wait
}

@test "cxx: std::counting_semaphore, std::binary_semaphore, std::latch and std::barrier, in both stack modes" {
    cxx_section semaphore
}

@test "cxx: thread_local objects destroyed once per thread with its own value, in both stack modes" {
    cxx_section thread_local
}

@test "cxx: exceptions thrown, caught, nested and rethrown in several threads at once, in both stack modes" {
    cxx_section exceptions
}

@test "cxx: a function-local static constructed once while 3 other threads wait for it, in both stack modes" {
    cxx_section static_init
}

@test "cxx: std::call_once whose initialiser throws runs again for the next caller, in both stack modes" {
    cxx_section once_throwing
}

# Separate mode only: a std::stop_callback lives on its owner thread's
# stack while another thread runs it, which copy mode does not support
# (README; LIBGREEN_DEBUG=1 reports it).
@test "cxx [separate]: std::jthread stop requests end a sleeping loop and a condition_variable_any wait; a stop_callback runs in the requesting thread" {
    compare_mode separate cxx-threads stop_token
    assert_success
}

@test "cxx: 30 threads blocked in 10 kinds of std wait use 1 kernel thread (copy and separate), then all return" {
    assert_parked_on_one_kthread copy '^parked 30 on 10 kinds$' parked \
        cxx-threads --hold {hold} parked
    assert_parked_on_one_kthread separate '^parked 30 on 10 kinds$' parked \
        cxx-threads --hold {hold} parked
}
