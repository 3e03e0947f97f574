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
# EAGAIN, timedwait/clockwait ETIMEDOUT/EINVAL/woken by a post, getvalue,
# EOVERFLOW), tests/progs/sync-barrier.c (one serial thread per barrier
# round and nobody leaving early, count 0 EINVAL, pthread_once running its
# init once while every concurrent caller waits for it, exact spin-locked
# counters, spin_trylock EBUSY) and tests/progs/sync-futex.c (a futex mutex,
# EAGAIN/ETIMEDOUT/EINVAL/EFAULT, relative and absolute monotonic and
# realtime timeouts, FUTEX_WAKE counts, FUTEX_WAKE_BITSET matching, a
# park/unpark handshake) print the same transcripts and exit statuses
# natively and under libgreen in both stack modes, one test per section of
# each program; and while threads are blocked in sem_wait or FUTEX_WAIT
# the process still runs on one kernel thread (Threads: 1 in
# /proc/PID/status).  No sleep orders anything and no upper bound on time
# is checked: a thread that must find another waiting first sees it wait
# (it counted itself just before, it was turned away, or /proc shows it
# blocked in futex(2)), timed waits that must succeed have an hour's
# deadline, and timeouts are checked as lower bounds only.

load helpers

# section PROG NAME: PROG NAME matches native in both stack modes.
section() {
    compare_transcripts "$1" "$2"
    assert_success
}

@test "sync-more: rwlocks: writers' pairs stay consistent for readers under contention" {
    section sync-rwlock pairs
    assert_line --partial "mismatched reads 0"
}

@test "sync-more: rwlocks: several readers hold the lock at once" {
    section sync-rwlock overlap
    assert_line "most readers inside at once: 4"
}

@test "sync-more: rwlocks: try, timed and clock locks against another thread's lock give EBUSY, ETIMEDOUT (never early) and EINVAL, and an hour's timed lock gets the lock once it is released" {
    section sync-rwlock conflicts
}

@test "sync-more: rwlocks: the caller's own lock gives EDEADLK and EBUSY, read locks nest" {
    section sync-rwlock own
}

@test "sync-more: rwlocks: writer preference from attributes and the static initialiser turns new readers away while a writer waits; the default lets them in" {
    section sync-rwlock preference
    assert_line "attr PREFER_WRITER_NONRECURSIVE: after the first reader unlocks, the lock went to: writer, new reader"
}

@test "sync-more: semaphores force a turnstile order between threads" {
    section sync-sem turnstile
}

@test "sync-more: semaphores: a bounded buffer between producers and consumers keeps every item" {
    section sync-sem buffer
    assert_line --partial "checksum ok"
}

@test "sync-more: semaphores: trywait EAGAIN, timedwait and clockwait ETIMEDOUT (never early) and EINVAL, and an hour's timed wait returns another thread's post" {
    section sync-sem timed
}

@test "sync-more: semaphores: getvalue, and sem_post EOVERFLOW beyond SEM_VALUE_MAX" {
    section sync-sem values
}

@test "sync-more: barriers have one serial thread per round and nobody leaves early" {
    section sync-barrier rounds
}

@test "sync-more: a barrier of count 0 is EINVAL, one of count 1 never blocks" {
    section sync-barrier counts
}

@test "sync-more: pthread_once runs its init once while every concurrent caller waits for it" {
    section sync-barrier once
    assert_line "pthread_once from 8 threads at once: init ran 1 time(s)"
}

@test "sync-more: spin locks keep counts exact, spin_trylock is EBUSY while held, spin_lock waits for a holder that sleeps" {
    section sync-barrier spin
}

@test "sync-more: raw futex: a futex mutex keeps a counter exact" {
    section sync-futex mutex
}

@test "sync-more: raw futex: EAGAIN, ETIMEDOUT (never early) at relative and absolute deadlines, EINVAL and EFAULT" {
    section sync-futex waits
}

@test "sync-more: raw futex: FUTEX_WAKE returns how many waiters it woke" {
    section sync-futex wake
    assert_line "FUTEX_WAKE_PRIVATE 2 with 3 waiters: 2 OK"
}

@test "sync-more: raw futex: FUTEX_WAKE_BITSET wakes only the waiters whose bitset matches" {
    section sync-futex bitset
}

@test "sync-more: raw futex: a park/unpark handshake ping-pongs between threads" {
    section sync-futex pingpong
}

@test "sync-more: 10 threads blocked in sem_wait, then 10 in FUTEX_WAIT, use 1 kernel thread (copy and separate)" {
    local mode
    for mode in copy separate; do
        assert_parked_on_one_kthread "$mode" '^parked [0-9]+ on a semaphore$' \
            parked sync-sem parked {hold}
        assert_parked_on_one_kthread "$mode" '^parked [0-9]+ on a futex$' \
            parked sync-futex parked {hold}
    done
}
