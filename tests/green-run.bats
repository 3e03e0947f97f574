#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# green-run: the user-facing command `green-run [--stack=MODE] PROGRAM`
# runs PROGRAM under libgreen.  Works means: the program's threads run on
# one kernel thread, its transcript and exit status are the program's own,
# --stack reaches the library as LIBGREEN_STACK, and libgreen is prepended
# to an LD_PRELOAD the caller already set, which stays preloaded.  A usage
# error of green-run's own stops it with status 2 before any program runs;
# tests/settings.bats checks the values of --stack and --stack-size
# against the library's.

load helpers

# A library that is safe to preload into anything.
find_libm() {
    local f
    for f in /lib/x86_64-linux-gnu/libm.so.6 \
        /usr/lib/x86_64-linux-gnu/libm.so.6 /lib64/libm.so.6 \
        /usr/lib64/libm.so.6; do
        if [[ -f $f ]]; then
            LIBM=$f
            return 0
        fi
    done
    skip "no libm.so.6 in the usual places"
}

green_run_threads() {
    local mode=$1 hold=$BATS_TEST_TMPDIR/release pid lib
    require_green_lib
    find_libm
    lib=$(readlink -f "$GREEN_LIB")
    start_bg_cmd parked env LD_PRELOAD="$LIBM" "$GREEN_RUN" --stack="$mode" \
        "$(green_prog park-mix)" "$hold"
    pid=$BG_PID
    wait_for_line "$(bg_out parked)" '^parked 80$' 60 "$pid"
    assert_kernel_threads "$pid" 1
    run bash -c "tr '\0' '\n' </proc/$pid/environ"
    assert_line "LD_PRELOAD=$lib $LIBM"
    assert_line "LIBGREEN_STACK=$mode"
    run grep -F "$lib" "/proc/$pid/maps"
    assert_success
    run grep -F "$(basename "$LIBM")" "/proc/$pid/maps"
    assert_success
    touch "$hold"
    wait_bg "$pid"
    cat "$(bg_out parked)" "$(bg_err parked)"
    assert_equal "$status" 0
    run_plain park-mix
    assert_equal "$(cat "$(bg_out parked)")" "$output"
}

@test "green-run [copy]: a threaded program runs on 1 kernel thread with libgreen prepended to an existing LD_PRELOAD" {
    green_run_threads copy
}

@test "green-run [separate]: a threaded program runs on 1 kernel thread with libgreen prepended to an existing LD_PRELOAD" {
    green_run_threads separate
}

@test "green-run: sets LD_PRELOAD to libgreen alone when it was unset and passes the exit status through" {
    require_green_lib
    run timeout 30 env -u LD_PRELOAD "$GREEN_RUN" printenv LD_PRELOAD
    assert_success
    assert_output "$(readlink -f "$GREEN_LIB")"
    run timeout 30 env -u LD_PRELOAD "$GREEN_RUN" sh -c 'exit 3'
    assert_equal "$status" 3
}

@test "green-run: the transcripts of threaded programs are their native ones in both stack modes" {
    local prog mode
    for prog in stack-locals park-mix; do
        run_plain "$prog"
        assert_success
        local native=$output
        for mode in copy separate; do
            run timeout --kill-after=5 "$GREEN_RUN_TIMEOUT" \
                env -u LD_PRELOAD "$GREEN_RUN" --stack="$mode" \
                "$(green_prog "$prog")"
            assert_success
            assert_output "$native"
        done
    done
}

@test "green-run: an unknown option, an option without its value or no program at all stop green-run with status 2, before any program runs" {
    local args
    for args in "--bogus /bin/echo hi" "-x /bin/echo hi" "--stack" \
        "--stack-size" "--stats" ""; do
        # shellcheck disable=SC2086 # ARGS is a list of words
        run --separate-stderr timeout 30 env -u LD_PRELOAD "$GREEN_RUN" $args
        assert_equal "$status" 2
        assert_equal "$output" ""
        [[ -n $stderr ]] || fail "green-run $args: nothing on stderr"
    done
    run --separate-stderr timeout 30 env -u LD_PRELOAD "$GREEN_RUN" --bogus \
        /bin/echo hi
    assert_equal "$stderr" "green-run: unknown option '--bogus' (try 'green-run --help')"
    run --separate-stderr timeout 30 env -u LD_PRELOAD "$GREEN_RUN" --stack
    assert_equal "$stderr" "green-run: --stack needs a value (copy or separate)"
}
