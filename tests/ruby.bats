#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# ruby: an unmodified Ruby (/usr/bin/ruby, Debian package ruby, 3.1) whose
# Thread objects (a pthread each) become green threads.  Works means:
# tests/progs/ruby-threads.rb prints the same transcript and exit status
# natively and under libgreen, in the default mode (separate stacks), for
# Queue (two threads in Queue#pop, then two pushes; three consumers of
# 1,000 items; close), SizedQueue (three threads blocked in push on a
# full queue; four producers and two consumers), Mutex and
# ConditionVariable (four waiters woken one by one by signal, four by one
# broadcast; a contended counter), Thread#join with a timeout (nil while
# the thread still waits, the thread once it ended, then its value and
# its exception), and a TCPServer on 127.0.0.1 with a thread per
# connection serving 100 client threads; and under libgreen Threads: in
# /proc/self/status, sampled by the program while its threads are
# blocked (2, 3 and 4 waiters; 100 clients and 100 handlers
# mid-exchange), is 1 (natively Ruby 3.1 makes no thread of its own, so
# it is 1 + the program's threads there).  Copy mode (stacks copied in and
# out of one region) is known not to support Ruby (two threads in
# Queue#pop hang there) and is not tested here.  Skipped when ruby is not
# installed (scripts/setup installs it).

load helpers

# Each run takes well under a second natively; a hang fails after 120 s.
BATS_TEST_TIMEOUT=${GREEN_TEST_TIMEOUT:-120}

RB_SCRIPT=$GREEN_SRCDIR/tests/progs/ruby-threads.rb

setup() {
    # Debian's ruby, not one that PATH finds first (rbenv, rvm).
    PATH=/usr/bin:/bin:$PATH
    if ! command -v ruby >/dev/null; then
        skip "ruby is not installed (scripts/setup installs it)"
    fi
}

# compare_ruby MODE SECTION...: compare_mode for ruby-threads.rb, then
# check the "LABEL N" samples it wrote: the native run's (the first half)
# each more than 1, the libgreen run's each exactly 1.
compare_ruby() {
    local mode=$1 kt=$BATS_TEST_TMPDIR/kthreads
    shift
    rm -f "$kt"
    # --disable-gems: no RubyGems start-up, nothing from GEM_* or ~/.gem.
    compare_mode "$mode" ruby --disable-gems "$RB_SCRIPT" --kthreads "$kt" "$@"
    assert_success
    assert_kthread_samples "$kt"
}

SYNC_SECTIONS=(queue sized_queue mutex_cv join)

@test "ruby [default]: Queue, SizedQueue, Mutex and ConditionVariable with several waiters each, and Thread#join with a timeout, match native on 1 kernel thread" {
    compare_ruby default "${SYNC_SECTIONS[@]}"
    assert_line "queue: 2 waiters in pop, 2 pushes, they got a,b"
    assert_line --partial "join: join(0.05) on a waiting thread gave nil"
}

@test "ruby [default]: a TCPServer with a thread per connection serves 100 client threads on 127.0.0.1, on 1 kernel thread" {
    compare_ruby default tcp
    assert_line "tcp: 100 clients, 500 lines echoed right, handler threads read 500 lines"
}
