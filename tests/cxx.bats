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

# Copy mode runs every section but stop_token: a std::stop_callback lives
# on its owner thread's stack while another thread runs it, which copy
# mode does not support (README; LIBGREEN_DEBUG=1 reports it).
@test "cxx [copy]: std threads, mutexes, condition variables, once, futures, atomics, semaphores, thread_local, exceptions and magic statics match native" {
    compare_mode copy cxx-threads thread mutex condvar shared_mutex once \
        futures atomic_wait semaphore thread_local exceptions static_init \
        once_throwing
    assert_success
}

@test "cxx [separate]: std threads, mutexes, condition variables, once, futures, atomics, semaphores, thread_local, exceptions, magic statics and stop tokens match native" {
    compare_mode separate cxx-threads
    assert_success
}

# The default stack mode; the two tests above cover both.
@test "cxx [copy]: 30 threads blocked in 10 kinds of std wait use 1 kernel thread, then all return" {
    assert_parked_on_one_kthread copy '^parked 30 on 10 kinds$' parked \
        cxx-threads --hold {hold} parked
}
