#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# stdio-read: a green thread reading a FILE whose buffer ran dry (fgets,
# fgetc, getc, getchar, fread, getline, getdelim, their _unlocked forms,
# __uflow, __underflow, the fortified __*_chk reads and the scanf family)
# waits by parking, and glibc then reads only what is there, so the other
# green threads keep running.  Works means: each section of
# tests/progs/stdio-read.c (pipes fed in pieces by other threads: partial
# lines, lines split across writes, more than a FILE buffer, EOF, a write
# end closed mid-line, ungetc, scanf's pushed-back byte, a signal while
# waiting, a non-blocking pipe, two readers of one FILE, fmemopen, a
# regular file, popen) prints the same transcript natively and under
# libgreen in both stack modes, built plainly and with _FORTIFY_SOURCE;
# stdin fed by a pipe or a pty is read line by line the same way, and the
# process stays on one kernel thread while its reader waits.
# No sleep orders anything: each piece is written only once the reader
# has taken the one before (or, on stdin, once the program said it waits
# for it), so a call that must wait for a piece returns only after
# another thread ran while it waited; a wait that held up the whole
# process would hang, which the run's timeout turns into a failure.

load helpers

# section NAME: stdio-read NAME matches native in both stack modes.
section() {
    compare_transcripts stdio-read "$1"
    assert_success
}

@test "stdio-read: fgets and fgets_unlocked wait for lines split across writes, with a short buffer, and a write end closed mid-line" {
    section fgets
    assert_line 'fgets 3 (write end closed mid-line): 4 "tail"'
}

@test "stdio-read: fgetc, getc, getc_unlocked, fgetc_unlocked, __uflow and __underflow each wait for the next character, then EOF" {
    section getc
}

@test "stdio-read: fread and fread_unlocked wait for more than a FILE buffer arriving in pieces, and for an exact count" {
    section fread
    assert_line "fread 10000 x 1: 10000"
}

@test "stdio-read: getline grows its buffer for a line arriving in pieces, getdelim waits for its delimiter" {
    section getline
}

@test "stdio-read: ungetc before fgets, getline and fread, which then wait for the rest" {
    section ungetc
}

@test "stdio-read: fgetc, fgets, fread and getline mixed on one FILE each wait for what they need" {
    section mixed
}

@test "stdio-read: a signal ends fgets, fgetc and fread waiting on an empty pipe with EINTR and ferror; after clearerr the FILE reads on" {
    section eintr
    assert_line "  errno EINTR"
}

@test "stdio-read: on a pipe the program made non-blocking, reads give EAGAIN and partial lines as natively" {
    section nonblock
}

@test "stdio-read: on a socket with SO_RCVTIMEO, fgets ends with EAGAIN, then returns a partial and a whole line" {
    section rcvtimeo
}

@test "stdio-read: a FILE open for update sends its pending output before it waits to read the answer" {
    section update
    assert_line 'fgets after fputs on an r+ socket: 5 "pong\n"'
}

@test "stdio-read: fclose waits for the lock of the thread reading the FILE, which gets its line first" {
    section fclose
    assert_line 'fclose while another thread reads: 0'
}

@test "stdio-read: two threads reading one FILE get every line once" {
    section two-readers
    assert_line "two readers: 4 lines"
}

@test "stdio-read: FILEs on memory and on a regular file read without waiting" {
    section no-fd
}

@test "stdio-read: fgets on a popen'd command waits for what another thread feeds the command" {
    section popen
    assert_line 'popen fgets 2: 6 "there\n"'
}

@test "stdio-read: getchar, getchar_unlocked and _IO_getc on stdin wait for each character" {
    section getchar
}

@test "stdio-read: fscanf, vfscanf, scanf, vscanf and __isoc99_vscanf wait for numbers split across writes and push back the byte after" {
    section scanf
    assert_line "fscanf across a pause: 1 -> 9"
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

@test "stdio-read: the fortified build, every section in one run, matches native" {
    compare_transcripts stdio-read-fortify
    assert_success
}

@test "stdio-read: a fortified fgets or fread past its buffer aborts as natively, after waiting for its data" {
    local mode which native_status native_err
    for mode in copy separate; do
        for which in overflow-fgets overflow-fread; do
            run_mode plain stdio-read-fortify "$which"
            native_status=$status native_err=$stderr
            run_mode "$mode" stdio-read-fortify "$which"
            show_run "$mode $which"
            assert_equal "$status" "$native_status"
            assert_equal "$status" 134
            [[ $stderr == *"buffer overflow detected"* ]] ||
                fail "$mode $which: no 'buffer overflow detected'"
            [[ $native_err == *"buffer overflow detected"* ]] ||
                fail "native $which: no 'buffer overflow detected'"
        done
    done
}

# stdin_fed MODE: run `stdio-read stdin DIR` natively (plain) or under
# libgreen in MODE, its stdin a FIFO this test writes: "a\n", "b\n", then
# "c" and "d\n" as two pieces, each only once the program's marks say the
# reader waits for it (DIR/marks: "reading-K N" before the K-th call,
# "taken-K N" once piece K, announced by DIR/sent.K, was taken; N is the
# process's kernel threads then).  Leaves
# the output in DIR/out and the marks in DIR/marks, DIR being
# $BATS_TEST_TMPDIR/stdin.MODE.
stdin_fed() {
    local mode=$1 dir=$BATS_TEST_TMPDIR/stdin.$1
    mkdir -p "$dir"
    mkfifo "$dir/fifo"
    mode_env "$mode"
    timeout --kill-after=5 "$GREEN_RUN_TIMEOUT" "${MODE_ENV[@]}" \
        "$(green_prog stdio-read)" stdin "$dir" <"$dir/fifo" \
        >"$dir/out" 2>"$dir/out.err" 3>&- 4>&- &
    STDIN_PID=$!
    GREEN_BG_PIDS+=("$STDIN_PID")
    exec 5>"$dir/fifo"
    stdin_mark "$dir" reading-1
    stdin_piece "$dir" 1 'a\n'
    stdin_mark "$dir" reading-2
    stdin_piece "$dir" 2 'b\n'
    stdin_mark "$dir" reading-3
    stdin_piece "$dir" 3 'c'
    stdin_piece "$dir" 4 'd\n'
    stdin_mark "$dir" reading-4
    exec 5>&-
    wait_bg "$STDIN_PID"
    cat "$dir/out" "$dir/out.err"
    assert_equal "$status" 0
}

# stdin_mark DIR WHAT: wait for the mark WHAT.
stdin_mark() {
    wait_for_line "$1/marks" "^$2 " 30 "$STDIN_PID"
}

# stdin_piece DIR K TEXT: write piece K (printf format TEXT) to the FIFO
# on fd 5, announce it, and wait until the reader took it.
stdin_piece() {
    # shellcheck disable=SC2059 # TEXT is a format: \n
    printf "$3" >&5
    touch "$1/sent.$2"
    stdin_mark "$1" "taken-$2"
}

@test "stdio-read: stdin fed by a pipe, piece by piece while the reader waits, is read line by line; meanwhile the process runs 1 kernel thread" {
    local mode expected
    expected=$(printf '%s\n' waiting 'prompt> fgets stdin: 2 "a\n"' \
        'getline stdin: 2 "b\n"' 'fgets stdin: 3 "cd\n"' \
        'stdin end: feof 1 ferror 0')
    stdin_fed plain
    assert_equal "$(cat "$BATS_TEST_TMPDIR/stdin.plain/out")" "$expected"
    for mode in copy separate; do
        stdin_fed "$mode"
        assert_equal "$(cat "$BATS_TEST_TMPDIR/stdin.$mode/out")" "$expected"
        cat "$BATS_TEST_TMPDIR/stdin.plain/marks" \
            "$BATS_TEST_TMPDIR/stdin.$mode/marks" >"$BATS_TEST_TMPDIR/kt.$mode"
        assert_kthread_samples "$BATS_TEST_TMPDIR/kt.$mode"
    done
}

# pty_stdin MODE: stdio-read stdin on a pty made by script(1); each line is
# typed once the program's output shows it waits for it: "a" once the
# prompt shows, "b" once "a" was read, then "c" and ^D (which ends a line
# without a newline) and a second ^D (end of input).  The terminal echoes
# the input, so only the program's lines count, and the prompt: flushed
# before the wait, it comes before the echoed "a".
pty_stdin() {
    local out=$BATS_TEST_TMPDIR/pty.$1.out cmd pid
    mode_env "$1"
    cmd=$(printf '%q ' timeout --foreground --kill-after=5 \
        "$GREEN_RUN_TIMEOUT" "${MODE_ENV[@]}" "$(green_prog stdio-read)" \
        stdin)
    : >"$out"
    {
        wait_for_line "$out" 'prompt> ' 30 && echo a &&
            wait_for_line "$out" 'fgets stdin: 2 "a' 30 && echo b &&
            wait_for_line "$out" 'getline stdin: 2 "b' 30 &&
            printf 'c\004\004'
    } | timeout --kill-after=5 $((GREEN_RUN_TIMEOUT + 10)) \
        script -qec "$cmd; echo \"status \$?\"" /dev/null >"$out"
    tr -d '\r' <"$out" | grep -E 'stdin|^status|^prompt' | sed 's/^c//'
}

@test "stdio-read: stdin on a pty shows the prompt while waiting and is read line by line; ^D ends a line, then the input" {
    command -v script >/dev/null || skip "script(1) is not installed"
    local native green mode
    native=$(pty_stdin plain)
    for mode in copy separate; do
        green=$(pty_stdin "$mode")
        printf 'native:\n%s\nlibgreen (%s):\n%s\n' "$native" "$mode" "$green"
        assert_equal "$green" "$native"
        assert_equal "$green" "$(printf '%s\n' 'prompt> a' \
            'fgets stdin: 2 "a\n"' \
            'getline stdin: 2 "b\n"' 'fgets stdin: 1 "c"' \
            'stdin end: feof 1 ferror 0' 'status 0')"
    done
}
