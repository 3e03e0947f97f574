#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# exit: pthread_exit unwinds the exiting green thread's frames as glibc's
# does (hub/exit.c). Works means: tests/progs/exit-unwind.c (cleanup
# handlers across nested frames, innermost first, then key destructors;
# popped handlers; main's pthread_exit with the process living on) and
# tests/progs/exit-unwind-cxx.cc (destructors of every frame, a
# std::lock_guard released by the exit, catch (...) that rethrows, main's
# objects and mutex) print the same transcripts natively and under
# libgreen in both stack modes.

load helpers

@test "exit: pthread_exit runs cleanup handlers innermost first across frames, then key destructors; from main too (copy and separate)" {
    compare_transcripts exit-unwind
    assert_success
    assert_line "cleanup handler: depth 0, second"
    assert_line "joined the nested thread: 42"
    assert_line "the last thread runs after main's unwind, then ends the process"
}

@test "exit: pthread_exit in C++ destroys every frame's objects, releases a held lock_guard, passes catch (...) that rethrows; from main too (copy and separate)" {
    compare_transcripts exit-unwind-cxx
    assert_success
    assert_line "catch (...) sees the exit and rethrows"
    assert_line "a thread takes the mutex main held across its exit"
}
