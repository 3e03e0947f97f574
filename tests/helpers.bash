# shellcheck shell=bash
# SPDX-License-Identifier: MIT
# Loaded by every tests/*.bats file (`load helpers`).
#
# Runs the ordinary programs of tests/progs/ natively (run_plain) and under
# libgreen (run_green MODE), compares their transcripts (compare_mode,
# compare_transcripts: a failure names the stack mode that differed),
# inspects the kernel threads of a running process, and starts background
# processes that teardown kills by PID.  The suite itself may run under
# LD_PRELOAD=libgreen.so, so every native run unsets LD_PRELOAD explicitly.
#
# Environment (exported by `make check`; the defaults suit a build in the
# source tree):
#   GREEN_SRCDIR  top of the source tree
#   GREEN_LIB     absolute path of the built libgreen.so
#   GREEN_PROGS   directory holding the built tests/progs programs
#   GREEN_RUN     the green-run script
#   GREEN_TEST_TIMEOUT  default per-test timeout in seconds (120)
#   GREEN_RUN_TIMEOUT   limit for one foreground program run (40 s)

bats_require_minimum_version 1.5.0
bats_load_library bats-support # /usr/lib/bats/bats-support/load.bash
bats_load_library bats-assert  # /usr/lib/bats/bats-assert/load.bash

# A hang is a failure.  Files with larger tests raise this after loading.
BATS_TEST_TIMEOUT=${GREEN_TEST_TIMEOUT:-120}
# Each program run gets its own, shorter limit, enforced by timeout(1): when
# bats' own timeout fires it kills only the test's direct children, and a
# hung program left behind would keep the output pipe of `run` open.
GREEN_RUN_TIMEOUT=${GREEN_RUN_TIMEOUT:-40}

GREEN_SRCDIR=${GREEN_SRCDIR:-$(cd "$BATS_TEST_DIRNAME/.." && pwd)}
GREEN_LIB=${GREEN_LIB:-$GREEN_SRCDIR/.libs/libgreen.so}
GREEN_PROGS=${GREEN_PROGS:-$GREEN_SRCDIR/tests/progs}
GREEN_RUN=${GREEN_RUN:-$GREEN_SRCDIR/scripts/green-run}

# green_prog NAME: the path of NAME in GREEN_PROGS when it exists there,
# else NAME unchanged (a path, or a command found through PATH).
green_prog() {
    if [[ $1 != */* && -x $GREEN_PROGS/$1 ]]; then
        printf '%s\n' "$GREEN_PROGS/$1"
    else
        printf '%s\n' "$1"
    fi
}

# require_green_lib: fail the test unless GREEN_LIB exists.  Without this a
# missing library would only make ld.so print a warning and run natively.
require_green_lib() {
    if [[ ! -f $GREEN_LIB ]]; then
        fail "GREEN_LIB=$GREEN_LIB does not exist (build libgreen first)"
        return 1
    fi
}

# mode_env MODE: set the array MODE_ENV to the `env` command line that runs
# a program natively (MODE=plain) or under libgreen (MODE=copy|separate, or
# default: LIBGREEN_STACK unset, the runtime's own choice).
# A test that sets ALSO_PRELOAD (a library, e.g. another malloc) gets it
# preloaded in every mode, after libgreen.
mode_env() {
    case $1 in
    plain)
        if [[ -n ${ALSO_PRELOAD-} ]]; then
            MODE_ENV=(env -u LIBGREEN_STACK LD_PRELOAD="$ALSO_PRELOAD")
        else
            MODE_ENV=(env -u LD_PRELOAD -u LIBGREEN_STACK)
        fi
        ;;
    copy | separate)
        require_green_lib || return 1
        MODE_ENV=(env LD_PRELOAD="$GREEN_LIB${ALSO_PRELOAD:+ $ALSO_PRELOAD}"
            LIBGREEN_STACK="$1")
        ;;
    default)
        require_green_lib || return 1
        MODE_ENV=(env -u LIBGREEN_STACK
            LD_PRELOAD="$GREEN_LIB${ALSO_PRELOAD:+ $ALSO_PRELOAD}")
        ;;
    *)
        fail "unknown mode '$1' (plain, copy, separate or default)"
        return 1
        ;;
    esac
}

# run_mode MODE PROG ARGS...: bats `run` with stdout in $output, stderr in
# $stderr and the exit status in $status; killed after GREEN_RUN_TIMEOUT
# seconds (status 124, or 137 if it ignored SIGTERM).
run_mode() {
    local mode=$1 prog
    shift
    mode_env "$mode" || return 1
    prog=$(green_prog "$1")
    shift
    run --separate-stderr timeout --kill-after=5 "$GREEN_RUN_TIMEOUT" \
        "${MODE_ENV[@]}" "$prog" "$@"
    if [[ $status == 124 || $status == 137 ]]; then
        stderr+=$'\n'"(killed: still running after ${GREEN_RUN_TIMEOUT}s)"
    fi
}

# run_plain PROG ARGS...: run natively (LD_PRELOAD unset).
run_plain() {
    run_mode plain "$@"
}

# run_green MODE PROG ARGS...: run with LD_PRELOAD=$GREEN_LIB and
# LIBGREEN_STACK=MODE.
run_green() {
    local mode=$1
    shift
    run_mode "$mode" "$@"
}

# show_run LABEL: print the last run's status, stdout and stderr (shown by
# bats when the test fails).
show_run() {
    printf '%s: status %s\n--- stdout\n%s\n--- stderr\n%s\n---\n' \
        "$1" "$status" "$output" "${stderr-}" >&2
}

# compare_mode MODE PROG ARGS...: run PROG natively and under libgreen in
# MODE; fail unless stdout and the exit status are identical.  Afterwards
# $output, $stderr and $status are those of the libgreen run and
# $native_output, $native_status those of the native run.
compare_mode() {
    local mode=$1
    shift
    run_plain "$@"
    show_run "native $*"
    native_output=$output
    native_status=$status
    compare_with_native "$mode" "$@"
}

# compare_with_native MODE PROG ARGS...: the second half of compare_mode:
# run PROG under libgreen in MODE and fail, naming MODE, unless its stdout
# and exit status are $native_output and $native_status.
compare_with_native() {
    local mode=$1
    shift
    run_green "$mode" "$@"
    show_run "libgreen ($mode) $*"
    if [[ $output != "$native_output" || $status != "$native_status" ]]; then
        local diffs
        diffs=$(diff <(printf '%s\n' "$native_output") \
            <(printf '%s\n' "$output")) || true
        fail "$(printf '%s (native vs %s), status %s vs %s\n%s' \
            "transcripts differ" "$mode" "$native_status" "$status" \
            "$diffs")"
        return 1
    fi
}

# compare_transcripts PROG ARGS...: compare_mode in both stack modes,
# against one native run: native, then copy, then separate; a failure
# names the mode.  Afterwards as compare_mode, with the separate run's
# $output, $stderr and $status.
compare_transcripts() {
    run_plain "$@"
    show_run "native $*"
    native_output=$output
    native_status=$status
    compare_with_native copy "$@"
    compare_with_native separate "$@"
}

# proc_threads PID: the kernel thread count of PID (Threads: in status).
proc_threads() {
    awk '/^Threads:/ { print $2 }' "/proc/$1/status"
}

# assert_kernel_threads PID N: PID runs exactly N kernel threads.
assert_kernel_threads() {
    local n
    n=$(proc_threads "$1" 2>/dev/null)
    if [[ -z $n ]]; then
        fail "process $1 is gone (no /proc/$1/status)"
        return 1
    fi
    if [[ $n != "$2" ]]; then
        fail "$(printf 'process %s (%s) has %s kernel threads, expected %s' \
            "$1" "$(tr '\0' ' ' <"/proc/$1/cmdline")" "$n" "$2")"
        return 1
    fi
}

# assert_kthread_samples FILE [LABEL...]: FILE holds "LABEL N" lines, the
# Threads: a program read from /proc/self/status at its handshakes, first
# those of a native run, then the same labels from a run under libgreen:
# each native N must be more than 1, each libgreen N exactly 1, or at most
# 1 + 8 for a LABEL given (libgreen's resolver helpers may be alive there).
assert_kthread_samples() {
    local file=$1 lines n i label count
    shift
    mapfile -t lines <"$file"
    echo "kernel threads sampled (native, then libgreen): ${lines[*]}" >&2
    n=$((${#lines[@]} / 2))
    ((n > 0 && 2 * n == ${#lines[@]})) ||
        fail "expected the same samples from both runs: ${lines[*]}"
    for ((i = 0; i < 2 * n; i++)); do
        read -r label count <<<"${lines[i]}"
        [[ $count =~ ^[0-9]+$ ]] || fail "sample '${lines[i]}'"
        if ((i < n)); then
            ((count > 1)) ||
                fail "natively only $count kernel thread at $label"
        elif [[ " $* " == *" $label "* ]]; then
            ((count >= 1 && count <= 9)) ||
                fail "$count kernel threads at $label under libgreen (1 + at most 8 resolver helpers expected)"
        else
            ((count == 1)) ||
                fail "$count kernel threads at $label under libgreen, expected 1"
        fi
    done
}

# assert_parked_on_one_kthread MODE READY NATIVE_ARGS PROG ARGS...: start
# PROG ARGS under libgreen in MODE, where the word {hold} in ARGS stands for
# a hold file; once a stdout line matches READY (every thread is blocked),
# check that the process runs on 1 kernel thread, create the hold file, and
# check that it ends with status 0 having printed exactly what
# `PROG NATIVE_ARGS` (words, no hold file) prints natively.
assert_parked_on_one_kthread() {
    local mode=$1 ready=$2 native=$3 prog=$4
    shift 4
    local hold=$BATS_TEST_TMPDIR/release.$prog.$mode
    local name=parked.$prog.$mode args=() arg
    for arg in "$@"; do
        args+=("${arg//\{hold\}/$hold}")
    done
    start_bg "$name" "$mode" "$prog" "${args[@]}"
    local pid=$BG_PID
    wait_for_line "$(bg_out "$name")" "$ready" 60 "$pid"
    assert_kernel_threads "$pid" 1
    touch "$hold"
    wait_bg "$pid"
    cat "$(bg_out "$name")" "$(bg_err "$name")"
    assert_equal "$status" 0
    # shellcheck disable=SC2086 # NATIVE_ARGS is a list of words
    run_plain "$prog" $native
    assert_success
    assert_equal "$(cat "$(bg_out "$name")")" "$output"
}

# open_fds PID: the number of open file descriptors of PID.
open_fds() {
    local fds=(/proc/"$1"/fd/*)
    printf '%s\n' "${#fds[@]}"
}

# wait_until TIMEOUT_S CMD...: poll CMD every 50 ms until it succeeds; fail
# after TIMEOUT_S seconds.
wait_until() {
    local timeout=$1 i
    shift
    for ((i = 0; i < timeout * 20; i++)); do
        if "$@"; then
            return 0
        fi
        sleep 0.05
    done
    fail "timed out after ${timeout}s waiting for: $*"
    return 1
}

# wait_for_line FILE REGEX [TIMEOUT_S [PID]]: wait until a line of FILE
# matches the extended REGEX; fail on timeout (default 30 s) or as soon as
# PID, when given, has exited.
wait_for_line() {
    local file=$1 regex=$2 timeout=${3:-30} pid=${4:-} i
    for ((i = 0; i < timeout * 20; i++)); do
        if [[ -f $file ]] && grep -qE -- "$regex" "$file"; then
            return 0
        fi
        if [[ -n $pid ]] && ! kill -0 "$pid" 2>/dev/null; then
            grep -qE -- "$regex" "$file" 2>/dev/null && return 0
            fail "$(printf 'process %s exited before printing /%s/ to %s:\n' \
                "$pid" "$regex" "$file"
                cat "$file" "${file%.out}.err" 2>/dev/null)"
            return 1
        fi
        sleep 0.05
    done
    fail "$(printf 'timed out after %ss waiting for /%s/ in %s:\n%s' \
        "$timeout" "$regex" "$file" "$(cat "$file" 2>/dev/null)")"
    return 1
}

# raise_nofile N: raise the soft RLIMIT_NOFILE of this shell (inherited by
# programs started afterwards) to N, or to the hard limit if that is lower.
raise_nofile() {
    local hard
    hard=$(ulimit -Hn)
    if [[ $hard == unlimited || $hard -ge $1 ]]; then
        ulimit -n "$1"
    else
        ulimit -n "$hard"
    fi
}

# start_bg NAME MODE PROG ARGS...: start PROG in the background, natively
# (MODE=plain) or under libgreen, with stdout in $(bg_out NAME) and stderr
# in $(bg_err NAME).  Sets BG_PID; teardown kills it by that PID.
GREEN_BG_PIDS=()
start_bg() {
    local name=$1 mode=$2 prog
    shift 2
    mode_env "$mode" || return 1
    prog=$(green_prog "$1")
    shift
    start_bg_cmd "$name" "${MODE_ENV[@]}" "$prog" "$@"
}

# start_bg_cmd NAME CMD ARGS...: the same for any command (it must exec
# the program it starts, as env and green-run do, for BG_PID to be the
# program's PID).
start_bg_cmd() {
    local name=$1
    shift
    "$@" >"$(bg_out "$name")" 2>"$(bg_err "$name")" </dev/null 3>&- 4>&- &
    BG_PID=$!
    GREEN_BG_PIDS+=("$BG_PID")
}

bg_out() { printf '%s\n' "$BATS_TEST_TMPDIR/$1.out"; }
bg_err() { printf '%s\n' "$BATS_TEST_TMPDIR/$1.err"; }

# wait_bg PID [TIMEOUT_S]: wait for a process started by start_bg, at most
# TIMEOUT_S seconds (default GREEN_RUN_TIMEOUT); sets $status to its exit
# status.  Fails, after killing it, if it is still running then.
wait_bg() {
    local pid=$1 timeout=${2:-$GREEN_RUN_TIMEOUT} i
    for ((i = 0; i < timeout * 20; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        fail "process $pid still running after ${timeout}s; killed"
        return 1
    fi
    status=0
    wait "$pid" || status=$?
}

# kill_bg: kill every process start_bg started that is still running, by
# PID (TERM, then KILL after 2 s), and reap it.
kill_bg() {
    local pid i
    for pid in "${GREEN_BG_PIDS[@]}"; do
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null || true
            for ((i = 0; i < 40; i++)); do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.05
            done
            kill -KILL "$pid" 2>/dev/null || true
        fi
        wait "$pid" 2>/dev/null || true
    done
    GREEN_BG_PIDS=()
}

# Files that define their own teardown must call kill_bg from it.
teardown() {
    kill_bg
}
