#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# python: an unmodified Python 3 (Debian's /usr/bin/python3) whose
# threading threads become green threads.  Works means:
# tests/progs/py-threads.py (Lock, RLock, Condition, Event, Semaphore,
# BoundedSemaphore, Barrier with an action, reset and abort; Queue, LifoQueue,
# PriorityQueue and SimpleQueue fed by several threads, task_done/join;
# Timer and its cancel; threading.local, names, get_ident, excepthook,
# stack_size; ThreadPoolExecutor; and the timed waits that expire:
# Lock.acquire(timeout=), Condition.wait(timeout), Event.wait(timeout),
# Semaphore.acquire(timeout=), a Barrier timeout raising BrokenBarrierError,
# Queue.get(timeout) raising Empty, Queue.put(timeout) on a full queue
# raising Full, Thread.join(timeout), Future.result(timeout), none of them
# returning early; socketserver.ThreadingTCPServer on 127.0.0.1 serving 200
# client threads that exchange 6 lines each) prints the same transcript and
# exit status natively and under libgreen in both stack modes; under
# libgreen every sample it takes of Threads: in /proc/self/status while its
# threads are alive is 1; and while 36 of its threads are blocked in 12
# kinds of wait at once, or 200 clients and 200 handler threads are in the
# middle of their exchanges, /proc/PID/status shows Threads: 1.  Skipped
# when /usr/bin/python3 is missing (scripts/setup installs it).

load helpers

PY_SCRIPT=$GREEN_SRCDIR/tests/progs/py-threads.py

setup() {
    if [[ ! -x /usr/bin/python3 ]]; then
        skip "/usr/bin/python3 is not installed (Debian package python3)"
    fi
    # Debian's python3, not one that PATH finds first (pyenv, a venv):
    # the helpers take a program name, so /usr/bin goes first.  -I keeps
    # PYTHON* variables and user site-packages out.
    PATH=/usr/bin:$PATH
}

# compare_py SECTION...: compare_transcripts for py-threads.py, then check the
# Threads: samples it took: more than 1 kernel thread natively, exactly 1
# under libgreen (copy, then separate).
compare_py() {
    local kt=$BATS_TEST_TMPDIR/kthreads
    rm -f "$kt"
    compare_transcripts python3 -I "$PY_SCRIPT" --kthreads "$kt" "$@"
    assert_success
    local lines
    mapfile -t lines <"$kt"
    assert_equal "${#lines[@]}" 3
    [[ ${lines[0]} =~ ^Threads:\ max\ ([0-9]+)\ in ]] ||
        fail "native sample line: ${lines[0]}"
    ((BASH_REMATCH[1] > 1)) ||
        fail "natively only ${BASH_REMATCH[1]} kernel thread was seen"
    assert_regex "${lines[1]}" '^Threads: max 1 in [1-9][0-9]* samples$'
    assert_regex "${lines[2]}" '^Threads: max 1 in [1-9][0-9]* samples$'
}

@test "python: Lock under contention, held by another thread, acquire timeouts and hand-offs, in both stack modes on 1 kernel thread" {
    compare_py lock
}

@test "python: RLock held several deep, timeouts, non-owner release and recursion under contention, in both stack modes on 1 kernel thread" {
    compare_py rlock
}

@test "python: Condition bounded buffer, wait timeouts, notify(2) and notify_all, in both stack modes on 1 kernel thread" {
    compare_py condition
}

@test "python: Event set for 15 waiters, wait timeouts, in both stack modes on 1 kernel thread" {
    compare_py event
}

@test "python: Semaphore and BoundedSemaphore limits, timeouts, release by another thread and ping-pong, in both stack modes on 1 kernel thread" {
    compare_py semaphore
}

@test "python: Barrier with an action, timeouts, reset and abort, in both stack modes on 1 kernel thread" {
    compare_py barrier
}

@test "python: Queue, LifoQueue, PriorityQueue and SimpleQueue from several threads, task_done/join and timeouts, in both stack modes on 1 kernel thread" {
    compare_py queue
}

@test "python: Timer, its cancel, and Thread.join(timeout), in both stack modes on 1 kernel thread" {
    compare_py timer
}

@test "python: threading.local, names, get_ident, excepthook and stack_size, in both stack modes on 1 kernel thread" {
    compare_py local
}

@test "python: ThreadPoolExecutor map, as_completed and Future timeouts, in both stack modes on 1 kernel thread" {
    compare_py pool
}

@test "python: ThreadingTCPServer with 200 client threads matches native in both stack modes on 1 kernel thread" {
    compare_py socketserver
}

@test "python: 36 threads blocked in 12 kinds of wait use 1 kernel thread (copy and separate), then all return" {
    local mode
    for mode in copy separate; do
        assert_parked_on_one_kthread "$mode" '^parked 36 in 12 kinds$' \
            "-I $PY_SCRIPT parked" python3 -I "$PY_SCRIPT" --hold '{hold}' \
            parked
    done
}

@test "python: 200 clients and 200 handler threads of a ThreadingTCPServer, mid-exchange, use 1 kernel thread (copy and separate)" {
    local mode
    for mode in copy separate; do
        assert_parked_on_one_kthread "$mode" \
            '^socketserver: 200 clients mid-exchange, 403 threads alive$' \
            "-I $PY_SCRIPT socketserver" \
            python3 -I "$PY_SCRIPT" --hold '{hold}' socketserver
    done
}
