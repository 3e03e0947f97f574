#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# fdstate: closing or replacing an fd another thread waits on.  Linux does
# not wake a thread blocked in read, recv, accept, poll or select when the
# fd is closed or dup2'd over: the call goes on with the open file
# description it started on (poll and select then report the closed
# number); shutdown does wake it.  Works means: tests/progs/fd-close.c
# (close under read, recv, accept, poll, select and a poll of two fds;
# shutdown; dup2 over a read fd; close_range; closefrom; fclose of a
# polled stream; a new pipe taking the number of a waited fd) prints the
# same transcript natively and under libgreen, in both stack modes, and a
# thread reading stdin while fd 0 is closed leaves the flags of the pipe
# or pty it shares with the shell as they were.  tests/progs/fd-again.c
# covers a thread's *next* wait after its fd changed (libgreen keeps a
# thread's fd watcher between waits); tests/progs/fd-flags.c every way a
# socket's or pipe's O_NONBLOCK or SO_RCVTIMEO can change, in the process
# or in another one sharing it (libgreen remembers them for the sockets
# and pipes the program made).

load helpers

@test "fdstate: a thread's next wait on an fd number that was closed, reused or dup2'd over, or on something else while its old fd is ready, behaves as natively" {
    compare_transcripts fd-again
    assert_success
    assert_line 'closed and reused: read "second"'
    assert_line 'ready while waiting for a mutex: got the mutex after main unlocked: yes'
}

@test "fdstate: O_NONBLOCK and SO_RCVTIMEO changed by fcntl, ioctl, dups, syscall(), fork, vfork, _Fork, posix_spawn or SCM_RIGHTS are seen by the next read, as natively" {
    compare_transcripts fd-flags
    assert_success
    assert_line "SCM_RIGHTS receiver sets O_NONBLOCK: read -1 EAGAIN"
    assert_line "posix_spawn child sets O_NONBLOCK: read -1 EAGAIN"
}

@test "fdstate: waiters on a closed, dup2'd or reused fd behave as natively in both stack modes" {
    compare_transcripts fd-close
    assert_success
}

# stdin_pipe MODE: fd-close stdin reads a line that arrives after fd 0 was
# closed: the feeder writes it once the program printed that it closed
# fd 0.  stdio-flags prints the flags of the same pipes before and after.
stdin_pipe() {
    local mode=$1 flags prog out=$BATS_TEST_TMPDIR/$1.out
    flags=$(green_prog stdio-flags)
    prog=$(green_prog fd-close)
    mode_env "$mode"
    : >"$out"
    {
        wait_for_line "$out" '^  close\(0\): ' "$GREEN_RUN_TIMEOUT" || true
        echo line
    } | {
        env -u LD_PRELOAD "$flags" before
        timeout --kill-after=5 "$GREEN_RUN_TIMEOUT" \
            "${MODE_ENV[@]}" "$prog" stdin
        echo "status $?"
        env -u LD_PRELOAD "$flags" after
    } 2>&1 | cat >"$out"
    cat "$out"
}

assert_flags_kept() {
    local out=$1 before after
    before=$(grep '^before: ' "$out") || fail "no 'before' line in $out"
    after=$(grep '^after: ' "$out") || fail "no 'after' line in $out"
    assert_equal "${after#after: }" "${before#before: }"
}

@test "fdstate: closing stdin (a pipe) under a reader keeps the reader and the pipe's flags, in both stack modes" {
    require_green_lib
    stdin_pipe plain
    local mode out
    for mode in copy separate; do
        stdin_pipe "$mode"
        out=$BATS_TEST_TMPDIR/$mode.out
        assert_flags_kept "$out"
        grep -qx 'status 0' "$out" || fail "fd-close failed ($mode)"
        grep -qx '  read returned: 5 OK "line' "$out" ||
            fail "the line did not reach the reader ($mode)"
        [[ $(cat "$out") == "$(cat "$BATS_TEST_TMPDIR/plain.out")" ]] ||
            fail "$mode: not what the native run printed: $(diff \
                "$BATS_TEST_TMPDIR/plain.out" "$out")"
    done
}

# stdin_pty MODE: the same on a pty made by script(1); the feeder keeps
# script's input open until the driver is done.
stdin_pty() {
    local mode=$1 driver=$BATS_TEST_TMPDIR/driver.sh
    local out=$BATS_TEST_TMPDIR/pty.$mode.out raw=$BATS_TEST_TMPDIR/pty.$mode.raw
    mode_env "$mode"
    {
        printf '%q ' env -u LD_PRELOAD "$(green_prog stdio-flags)" before
        printf '\n'
        printf '%q ' timeout --foreground --kill-after=5 "$GREEN_RUN_TIMEOUT" \
            "${MODE_ENV[@]}" "$(green_prog fd-close)" stdin
        printf '\necho "status $?"\n'
        printf '%q ' env -u LD_PRELOAD "$(green_prog stdio-flags)" after
        printf '\n'
    } >"$driver"
    : >"$raw"
    {
        wait_for_line "$raw" '^  close\(0\): ' "$GREEN_RUN_TIMEOUT" || true
        echo line
        wait_for_line "$raw" '^after: ' "$GREEN_RUN_TIMEOUT" || true
    } | timeout --kill-after=5 $((GREEN_RUN_TIMEOUT + 10)) \
        script -qec "bash $driver" /dev/null >"$raw"
    tr -d '\r' <"$raw" >"$out"
    cat "$out"
    assert_flags_kept "$out"
    grep -q '^before: fd0 RDWR/' "$out" || fail "stdin is not the pty"
    grep -qx 'status 0' "$out" || fail "fd-close failed under $mode"
    grep -q 'read returned: 5 OK "line' "$out" ||
        fail "the line did not reach the reader under $mode"
}

@test "fdstate: closing stdin (a pty) under a reader keeps the reader and the terminal's flags, in both stack modes" {
    stdin_pty copy
    stdin_pty separate
}
