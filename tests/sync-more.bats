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
    assert_parked_on_one_kthread copy '^parked [0-9]+ on a semaphore$' '' \
        sync-sem {hold}
    assert_parked_on_one_kthread copy '^parked [0-9]+ on a futex$' '' \
        sync-futex {hold}
}

@test "sync-more [separate]: 10 threads blocked in sem_wait, then 10 in FUTEX_WAIT, use 1 kernel thread" {
    assert_parked_on_one_kthread separate '^parked [0-9]+ on a semaphore$' '' \
        sync-sem {hold}
    assert_parked_on_one_kthread separate '^parked [0-9]+ on a futex$' '' \
        sync-futex {hold}
}
