#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# sync-more: the other synchronisation primitives work between green
# threads: reader-writer locks, semaphores, barriers, pthread_once, spin
# locks, and raw futex(2) calls made through syscall(SYS_futex, ...) as Rust
# std and libstdc++ make them.  Works means: tests/progs/sync-rwlock.c
# (consistent pairs under contention, readers overlapping, EBUSY, EDEADLK,
# ETIMEDOUT and EINVAL from the try/timed/clock variants, writer preference
# from attributes and the static initialiser), tests/progs/sync-sem.c (a
# turnstile forcing the order, a bounded buffer with a checksum, trywait
# EAGAIN, timedwait/clockwait ETIMEDOUT/EINVAL/woken in time, getvalue,
# EOVERFLOW), tests/progs/sync-barrier.c (one serial thread per barrier
# round and nobody leaving early, count 0 EINVAL, pthread_once running its
# init once while every concurrent caller waits for it, exact spin-locked
# counters, spin_trylock EBUSY) and tests/progs/sync-futex.c (a futex mutex,
# EAGAIN/ETIMEDOUT/EINVAL/EFAULT, relative and absolute monotonic and
# realtime timeouts, FUTEX_WAKE counts, FUTEX_WAKE_BITSET matching, a
# park/unpark handshake) print the same transcripts and exit statuses
# natively and under libgreen in both stack modes; and while threads are
# blocked in sem_wait or FUTEX_WAIT the process still runs on one kernel
# thread (Threads: 1 in /proc/PID/status).

load helpers

# parked_on_one_kernel_thread MODE PROG WHAT: start PROG HOLD_FILE in MODE,
# wait for its "parked N on WHAT" line, check that it runs on 1 kernel
# thread, release it, and compare its whole transcript with a native run
# of PROG without HOLD_FILE.
parked_on_one_kernel_thread() {
    local mode=$1 prog=$2 what=$3 hold=$BATS_TEST_TMPDIR/release.$2
    start_bg "$prog" "$mode" "$prog" "$hold"
    local pid=$BG_PID
    wait_for_line "$(bg_out "$prog")" "^parked [0-9]+ on $what\$" 30 "$pid"
    assert_kernel_threads "$pid" 1
    touch "$hold"
    wait_bg "$pid"
    cat "$(bg_out "$prog")" "$(bg_err "$prog")"
    assert_equal "$status" 0
    run_plain "$prog"
    assert_success
    assert_equal "$(cat "$(bg_out "$prog")")" "$output"
}

@test "sync-more [copy]: rwlocks: pairs stay consistent, readers overlap, try/timed/clock locks and writer preference return the same codes as native" {
    compare_mode copy sync-rwlock
    assert_success
}

@test "sync-more [separate]: rwlocks: pairs stay consistent, readers overlap, try/timed/clock locks and writer preference return the same codes as native" {
    compare_mode separate sync-rwlock
    assert_success
}

@test "sync-more [copy]: semaphores: turnstile order, bounded buffer, trywait, timedwait, clockwait, getvalue and EOVERFLOW match native" {
    compare_mode copy sync-sem
    assert_success
}

@test "sync-more [separate]: semaphores: turnstile order, bounded buffer, trywait, timedwait, clockwait, getvalue and EOVERFLOW match native" {
    compare_mode separate sync-sem
    assert_success
}

@test "sync-more [copy]: barriers have one serial thread per round, pthread_once runs once for concurrent callers, spin locks keep counts exact, as natively" {
    compare_mode copy sync-barrier
    assert_success
}

@test "sync-more [separate]: barriers have one serial thread per round, pthread_once runs once for concurrent callers, spin locks keep counts exact, as natively" {
    compare_mode separate sync-barrier
    assert_success
}

@test "sync-more [copy]: raw futex: mutex, EAGAIN/ETIMEDOUT/EINVAL/EFAULT, absolute deadlines, wake counts, bitsets and park/unpark match native" {
    compare_mode copy sync-futex
    assert_success
}

@test "sync-more [separate]: raw futex: mutex, EAGAIN/ETIMEDOUT/EINVAL/EFAULT, absolute deadlines, wake counts, bitsets and park/unpark match native" {
    compare_mode separate sync-futex
    assert_success
}

@test "sync-more [copy]: 10 threads blocked in sem_wait, then 10 in FUTEX_WAIT, use 1 kernel thread" {
    parked_on_one_kernel_thread copy sync-sem "a semaphore"
    parked_on_one_kernel_thread copy sync-futex "a futex"
}

@test "sync-more [separate]: 10 threads blocked in sem_wait, then 10 in FUTEX_WAIT, use 1 kernel thread" {
    parked_on_one_kernel_thread separate sync-sem "a semaphore"
    parked_on_one_kernel_thread separate sync-futex "a futex"
}
