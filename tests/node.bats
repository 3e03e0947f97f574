#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# node: an unmodified Node.js (/usr/bin/node, Debian package nodejs)
# whose pthreads (V8's platform workers, libuv's thread pool, each
# worker_threads Worker) become green threads.  Works means: each program
# prints the same transcript and exit status natively and under libgreen,
# in the default mode (separate stacks): tests/progs/node-workers.js (4 workers,
# each with a MessageChannel of its own, 500 messages each way, sums
# reported over parentPort), tests/progs/node-pool.js (fs.promises
# writing, listing and reading 20 files under BATS_TEST_TMPDIR;
# crypto.pbkdf2 8 at once; zlib gzip/gunzip of 1 MB 4 at once;
# dns.lookup('localhost'), all on libuv's pool), tests/progs/node-http.js
# (an http server on 127.0.0.1, port 0, answering 2,000 requests from a
# keep-alive agent in the same process, 25 in flight); and under libgreen
# Threads: in /proc/self/status, sampled by the program while its workers,
# pool requests or requests are in flight, is 1 (natively node has 7 or
# more).  The exception: after dns.lookup, the helper kernel threads that
# run getaddrinfo for libgreen (README: at most 8, gone after 5 idle
# seconds) may still be there.  Copy mode (stacks copied in and out of
# one region) is known not to support node and is not tested here.
# Skipped when node is not installed (scripts/setup installs nodejs).

load helpers

# Each run takes about a second natively; a hang fails after 120 s.
BATS_TEST_TIMEOUT=${GREEN_TEST_TIMEOUT:-120}

setup() {
    # Debian's node, not one that PATH finds first (nvm, a local build).
    PATH=/usr/bin:/bin:$PATH
    if ! command -v node >/dev/null; then
        skip "node is not installed (scripts/setup installs nodejs)"
    fi
}

# compare_node MODE PROG ARGS...: compare_mode for `node PROG --kthreads
# FILE ARGS`, then check the "LABEL N" samples in FILE: the native run's
# (the first half) each more than 1, the libgreen run's each 1, or at most
# 1 + 8 for a label in KT_HELPERS_OK (after getaddrinfo ran on libgreen's
# helper threads).
KT_HELPERS_OK=()
compare_node() {
    local mode=$1 prog=$GREEN_SRCDIR/tests/progs/$2 kt=$BATS_TEST_TMPDIR/kthreads
    shift 2
    rm -f "$kt"
    compare_mode "$mode" node "$prog" --kthreads "$kt" "$@"
    assert_success
    assert_kthread_samples "$kt" "${KT_HELPERS_OK[@]}"
}

@test "node [default]: 4 worker_threads with MessageChannels, 500 messages each way, match native on 1 kernel thread" {
    compare_node default node-workers.js
    assert_line "workers: 4 x 500 messages each way, total 167172000"
}

@test "node [default]: fs.promises, parallel pbkdf2, zlib round trips and dns.lookup on libuv's pool match native on 1 kernel thread" {
    KT_HELPERS_OK=(pool-done)
    compare_node default node-pool.js "$BATS_TEST_TMPDIR"
    assert_line --regexp '^fs: 20 files, 1310910 bytes, 20 read back equal,'
    assert_line --regexp '^dns: localhost is [^;]*127\.0\.0\.1/4'
}

@test "node [default]: an http server answers 2,000 keep-alive requests from the same process on 127.0.0.1, on 1 kernel thread" {
    compare_node default node-http.js
    assert_output --regexp '^http: 2000 of 2000 answers right, 2000 served,'
}
