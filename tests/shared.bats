#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# shared: process-shared and robust mutexes and process-shared condition
# variables, which stay glibc's objects (another process may hold or signal
# them), used between threads of one process. Works means: waiting for one
# never blocks the only kernel thread (each wait needs another thread to
# run, which acts once the waiter sleeps), and the transcript matches the
# native run in both stack modes.

load helpers

@test "shared: process-shared and robust mutexes and process-shared conditions wait without blocking, as natively, in both stack modes" {
    compare_transcripts sync-shared
    assert_success
}
