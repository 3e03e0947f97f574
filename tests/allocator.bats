#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# allocator: a malloc that replaces glibc's keeps working under libgreen.
# jemalloc (Debian's libjemalloc2, which redis-server links) keeps its
# per-thread state in initial-exec TLS, links it into global lists by
# address and points into it from the heap; libgreen treats that state as
# the kernel thread's, as it treats glibc's malloc cache (hub/tls.c).
# tests/progs/alloc-threads passes blocks between 12 threads through
# malloc, calloc, realloc, posix_memalign and aligned_alloc, frees them in
# other threads, and starts 300 short-lived threads; with jemalloc
# preloaded it must print the same natively and under libgreen in both
# stack modes, on 1 kernel thread.

load helpers

jemalloc_or_skip() {
    ALSO_PRELOAD=
    local lib
    for lib in /usr/lib/x86_64-linux-gnu/libjemalloc.so.2 \
        /usr/lib/*/libjemalloc.so.2; do
        if [[ -f $lib ]]; then
            ALSO_PRELOAD=$lib
            return 0
        fi
    done
    skip "libjemalloc.so.2 is not installed (scripts/setup installs libjemalloc2)"
}

@test "allocator: glibc malloc, threads allocate and free each other's blocks" {
    compare_transcripts alloc-threads
    assert_line "blocks produced 3200, consumed 3200"
    assert_line "short-lived threads 300, allocations failed 0"
}

@test "allocator: jemalloc preloaded, threads allocate and free each other's blocks" {
    jemalloc_or_skip
    compare_transcripts alloc-threads
    assert_line "blocks produced 3200, consumed 3200"
    assert_line "short-lived threads 300, allocations failed 0"
}

@test "allocator: jemalloc preloaded, 200 threads parked on 1 kernel thread" {
    jemalloc_or_skip
    local mode
    for mode in copy separate; do
        assert_parked_on_one_kthread "$mode" '^waiting 200$' 200 \
            cond-many 200 {hold}
    done
}
