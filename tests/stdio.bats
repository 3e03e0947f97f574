#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# stdio: stdin, stdout and stderr are shared with the parent (a shell, a
# terminal, a pipeline), so their file status flags are not libgreen's to
# keep changed.  Works means: after a threaded program that reads stdin and
# writes stdout and stderr from several threads (tests/progs/stdio-threads.c)
# exits, the flags of those open file descriptions (fcntl F_GETFL, printed
# by tests/progs/stdio-flags.c from a process sharing them) are exactly as
# before, for pipes and for a pty; over pipes the program's output is the
# same natively and under libgreen, in both stack modes.  And
# flockfile/ftrylockfile/funlockfile exclude other threads' flockfile while
# the holder sleeps, nest, and never leave another thread's fprintf
# hanging (tests/progs/stdio-lock.c).  The pipes make the program wait by
# handshakes, not sleeps (tests/progs/pipe-pace.c): stdin comes in pieces,
# each once the program took the one before, and stdout is read only once
# it is full.

load helpers

# through_pipes MODE: run stdio-flags, stdio-threads (in MODE) and
# stdio-flags again in one group whose stdin, stdout and stderr are pipes
# that run dry (stdin: each piece comes once the last was read) or fill up
# (stdout: read only once it is full), so the program's reads and writes
# must wait.  Leaves the group's stdout in $BATS_TEST_TMPDIR/MODE.out.
through_pipes() {
    local mode=$1 fifo=$BATS_TEST_TMPDIR/stderr.$1
    local flags threads pace
    flags=$(green_prog stdio-flags)
    threads=$(green_prog stdio-threads)
    pace=$(green_prog pipe-pace)
    mode_env "$mode"
    mkfifo "$fifo"
    start_bg "stderr.$mode" plain cat "$fifo"
    env -u LD_PRELOAD "$pace" feed 2000 | {
        env -u LD_PRELOAD "$flags" before
        timeout --kill-after=5 "$GREEN_RUN_TIMEOUT" \
            "${MODE_ENV[@]}" "$threads" 2000
        echo "status $?"
        env -u LD_PRELOAD "$flags" after
    } 2>"$fifo" | env -u LD_PRELOAD "$pace" full \
        >"$BATS_TEST_TMPDIR/$mode.out"
    wait_bg "$BG_PID"
    cat "$BATS_TEST_TMPDIR/$mode.out" "$(bg_out "stderr.$mode")"
}

assert_flags_kept() {
    local out=$1 before after
    before=$(grep '^before: ' "$out") || fail "no 'before' line in $out"
    after=$(grep '^after: ' "$out") || fail "no 'after' line in $out"
    assert_equal "${after#after: }" "${before#before: }"
}

@test "stdio: pipes given as stdin, stdout and stderr keep their flags after a threaded program waited on them (copy and separate)" {
    local mode out
    require_green_lib
    through_pipes plain
    for mode in copy separate; do
        through_pipes "$mode"
        out=$BATS_TEST_TMPDIR/$mode.out
        assert_flags_kept "$out"
        grep -qx 'status 0' "$out" ||
            fail "stdio-threads failed under libgreen ($mode)"
        grep -qx 'stdin: 8893 bytes, 2000 lines' "$out" ||
            fail "stdin not read completely ($mode)"
        assert_equal "$(grep -c '^writer ' "$out")" 6000
        assert_equal "$(cat "$out")" "$(cat "$BATS_TEST_TMPDIR/plain.out")"
        assert_equal "$(grep -c '^writer [0-2] done$' \
            "$(bg_out "stderr.$mode")")" 3
    done
}

# stdio_pty MODE: the same on a pty made by script(1); the terminal echoes
# the input, so only flags, status and the stdin count are compared.
stdio_pty() {
    local mode=$1 driver=$BATS_TEST_TMPDIR/driver.$1.sh
    local out=$BATS_TEST_TMPDIR/pty.$1.out
    mode_env "$mode"
    {
        printf '%q ' env -u LD_PRELOAD "$(green_prog stdio-flags)" before
        printf '\n'
        printf '%q ' timeout --foreground --kill-after=5 "$GREEN_RUN_TIMEOUT" \
            "${MODE_ENV[@]}" "$(green_prog stdio-threads)" 200
        printf '\necho "status $?"\n'
        printf '%q ' env -u LD_PRELOAD "$(green_prog stdio-flags)" after
        printf '\n'
    } >"$driver"
    env -u LD_PRELOAD "$(green_prog pipe-pace)" feed 100 |
        timeout --kill-after=5 $((GREEN_RUN_TIMEOUT + 10)) \
            script -qec "bash $driver" /dev/null | tr -d '\r' >"$out"
    cat "$out"
    assert_flags_kept "$out"
    grep -q '^before: fd0 RDWR/' "$out" || fail "stdin is not the pty"
    grep -qx 'status 0' "$out" || fail "stdio-threads failed under libgreen"
    grep -qx 'stdin: 292 bytes, 100 lines' "$out" ||
        fail "stdin not read completely"
}

@test "stdio: a pty given as stdin, stdout and stderr keeps its flags after a threaded program used it (copy and separate)" {
    stdio_pty copy
    stdio_pty separate
}

@test "stdio: flockfile excludes other threads across sleeps, nests, and ftrylockfile fails while it is held" {
    compare_transcripts stdio-lock
    assert_success
    assert_line "flockfile: 20 holds by 4 threads, 0 overlapping"
    assert_line "ftrylockfile while another thread holds it: fails"
}
