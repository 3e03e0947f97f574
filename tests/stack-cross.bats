#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# stack-cross: a thread may read and write, through pointers, the locals of
# another thread that is not its creator while that thread is blocked and
# yet others run in between (the waiter lists of Ruby and Rust keep nodes
# on the waiting threads' stacks this way).  Works means:
# tests/progs/stack-cross.c prints the same transcript natively and under
# libgreen, with no failed check, for each of its cases:
# - owners: 16 threads blocked in pthread_cond_wait, read or sem_wait keep
#   a struct on their stacks; 16 visitors created by main write patterns
#   into two owners each, a chunk at a time, switching (sched_yield or a
#   pipe round trip) after every chunk, and take a mutex that lives in an
#   owner's frame across a switch; each owner then finds exactly what was
#   written;
# - waiters: 16 waiters push nodes on their stacks onto a shared list and
#   wait (on a condition variable inside their node, or a shared one); a
#   waker pops and fills each node in two halves with a switch between,
#   then wakes its waiter;
# - readers: 8 threads blocked in read hand buffers on their stacks to a
#   filler thread that read()s into them from a slowly fed pipe.
# It runs in the default mode (LIBGREEN_STACK unset: separate stacks).
# Copy mode cannot run such a program (README: a pointer into another,
# suspended green thread's stack is not valid in copy mode); what it does
# instead is tests/copy-check.bats' subject.

load helpers

@test "stack-cross [default]: visitors write blocked owners' stack structs, chunk by chunk with switches, and owners find it all" {
    compare_mode default stack-cross owners
    assert_success
    assert_line "owner 15: ok (a by visitor 12, b by visitor 15)"
    refute_line --partial BAD
}

@test "stack-cross [default]: a waker walks a list of nodes on the waiters' stacks and fills each before waking it" {
    compare_mode default stack-cross waiters
    assert_success
    assert_line "waker: walked 16 nodes"
    refute_line --partial BAD
}

@test "stack-cross [default]: a filler thread read()s from a pipe into buffers on blocked readers' stacks" {
    compare_mode default stack-cross readers
    assert_success
    assert_line "reader 7: ok"
    refute_line --partial BAD
}
