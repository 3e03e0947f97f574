#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# stdio-read: a green thread reading a FILE whose buffer ran dry (fgets,
# fgetc, getc, getchar, fread, getline, getdelim, their _unlocked forms,
# __uflow, __underflow, the fortified __*_chk reads and the scanf family)
# waits by parking, and glibc then reads only what is there, so the other
# green threads keep running.  Works means: tests/progs/stdio-read.c
# (pipes fed slowly by other threads: partial lines, lines split across
# writes, more than a FILE buffer, EOF, a write end closed mid-line,
# ungetc, scanf's pushed-back byte, a signal while waiting, a non-blocking
# pipe, two readers of one FILE, fmemopen, a regular file, popen) prints
# the same transcript natively and under libgreen, built plainly and with
# _FORTIFY_SOURCE, while a ticker thread goes on during every wait; stdin
# fed by a slow pipe or a pty is read line by line the same way, and the
# process stays on one kernel thread while its reader waits.

load helpers

@test "stdio-read [copy]: every stdio read call on slowly fed pipes parks only its caller and matches native" {
    compare_mode copy stdio-read
    assert_success
}

@test "stdio-read [separate]: every stdio read call on slowly fed pipes parks only its caller and matches native" {
    compare_mode separate stdio-read
    assert_success
}

@test "stdio-read: the fortified build imports the __*_chk reads, __uflow, __underflow and __getdelim" {
    run nm -D "$GREEN_PROGS/stdio-read-fortify"
    assert_success
    local name
    for name in __fgets_chk __fgets_unlocked_chk __fread_chk \
        __fread_unlocked_chk __uflow __underflow __getdelim; do
        assert_output --partial " U $name@"
    done
}

@test "stdio-read [copy]: the fortified build matches native" {
    compare_mode copy stdio-read-fortify
    assert_success
}

@test "stdio-read [separate]: the fortified build matches native" {
    compare_mode separate stdio-read-fortify
    assert_success
}

# overflow MODE: __fgets_chk and __fread_chk past the end of the buffer
# abort as natively, after waiting for their data.
overflow() {
    local mode=$1 which
    for which in overflow-fgets overflow-fread; do
        run_mode plain stdio-read-fortify "$which"
        local native_status=$status native_err=$stderr
        run_mode "$mode" stdio-read-fortify "$which"
        show_run "$mode $which"
        assert_equal "$status" "$native_status"
        assert_equal "$status" 134
        [[ $stderr == *"buffer overflow detected"* ]]
        [[ $native_err == *"buffer overflow detected"* ]]
    done
}

@test "stdio-read [copy]: a fortified fgets or fread past its buffer aborts as natively" {
    overflow copy
}

@test "stdio-read [separate]: a fortified fgets or fread past its buffer aborts as natively" {
    overflow separate
}

# slow_stdin MODE: stdio-read stdin, its stdin a pipe fed with pauses.
slow_stdin() {
    mode_env "$1"
    run --separate-stderr bash -c '{ sleep 0.3; echo a; sleep 0.3; echo b;
        printf "c"; sleep 0.2; echo d; } | timeout --kill-after=5 "$0" "$@"' \
        "$GREEN_RUN_TIMEOUT" "${MODE_ENV[@]}" \
        "$(green_prog stdio-read)" stdin
    show_run "$1"
}

stdin_pipe() {
    slow_stdin plain
    assert_success
    local native=$output
    slow_stdin "$1"
    assert_success
    assert_equal "$output" "$native"
    assert_line 'prompt> fgets stdin: 2 "a\n"'
    assert_line 'fgets stdin: 3 "cd\n"'
}

@test "stdio-read [copy]: stdin fed by a slow pipe is read line by line while other threads run" {
    stdin_pipe copy
}

@test "stdio-read [separate]: stdin fed by a slow pipe is read line by line while other threads run" {
    stdin_pipe separate
}

# stdin_fifo MODE: stdin is a FIFO this test writes; while the reader
# waits for each line, the process runs on one kernel thread.
stdin_fifo() {
    local mode=$1 fifo=$BATS_TEST_TMPDIR/stdin.$1
    local out=$BATS_TEST_TMPDIR/fifo.$1.out
    mkfifo "$fifo"
    mode_env "$mode"
    "${MODE_ENV[@]}" "$(green_prog stdio-read)" stdin <"$fifo" >"$out" \
        2>"$out.err" 3>&- 4>&- &
    local pid=$!
    GREEN_BG_PIDS+=("$pid")
    exec 5>"$fifo"
    wait_for_line "$out" '^waiting$' 30 "$pid"
    sleep 0.3
    assert_kernel_threads "$pid" 1
    echo a >&5
    wait_for_line "$out" 'fgets stdin: 2 "a' 30 "$pid"
    sleep 0.2
    assert_kernel_threads "$pid" 1
    echo b >&5
    exec 5>&-
    wait_bg "$pid"
    cat "$out" "$out.err"
    assert_equal "$status" 0
    assert_equal "$(cat "$out")" "$(printf '%s\n' waiting \
        'prompt> fgets stdin: 2 "a\n"' 'getline stdin: 2 "b\n"' \
        'stdin end: feof 1 ferror 0')"
}

@test "stdio-read [copy]: a thread waiting for a line on stdin leaves one kernel thread" {
    stdin_fifo copy
}

@test "stdio-read [separate]: a thread waiting for a line on stdin leaves one kernel thread" {
    stdin_fifo separate
}

# pty_stdin MODE: stdio-read stdin on a pty made by script(1), fed with
# pauses; "c" then ^D ends a line without a newline, a second ^D is EOF.
# The terminal echoes the input, so only the program's lines count, and
# the prompt: flushed before the wait, it comes before the echoed "a".
pty_stdin() {
    mode_env "$1"
    local cmd
    cmd=$(printf '%q ' timeout --foreground --kill-after=5 \
        "$GREEN_RUN_TIMEOUT" "${MODE_ENV[@]}" "$(green_prog stdio-read)" \
        stdin)
    { sleep 0.5; echo a; sleep 0.3; echo b; sleep 0.3; printf 'c\004';
        sleep 0.3; printf '\004'; } |
        timeout --kill-after=5 $((GREEN_RUN_TIMEOUT + 10)) \
            script -qec "$cmd; echo \"status \$?\"" /dev/null |
        tr -d '\r' | grep -E 'stdin|^status|^prompt' | sed 's/^c//'
}

pty_case() {
    command -v script >/dev/null || skip "script(1) is not installed"
    local native green
    native=$(pty_stdin plain)
    green=$(pty_stdin "$1")
    printf 'native:\n%s\nlibgreen:\n%s\n' "$native" "$green"
    assert_equal "$green" "$native"
    assert_equal "$green" "$(printf '%s\n' 'prompt> a' \
        'fgets stdin: 2 "a\n"' \
        'getline stdin: 2 "b\n"' 'fgets stdin: 1 "c"' \
        'stdin end: feof 1 ferror 0' 'status 0')"
}

@test "stdio-read [copy]: stdin on a pty shows the prompt while waiting and is read line by line; ^D ends a line, then the input" {
    pty_case copy
}

@test "stdio-read [separate]: stdin on a pty shows the prompt while waiting and is read line by line; ^D ends a line, then the input" {
    pty_case separate
}
