#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# fsgsbase: the way the thread pointer moves at a switch.  With the
# FSGSBASE instructions one wrfsbase does it; without them (virtual
# machines whose CPU lacks the flag) it is the arch_prctl system call, and
# LIBGREEN_FSGSBASE=0 takes that path on any machine.  Works means, with
# LIBGREEN_FSGSBASE=0, in copy mode and in the default mode:
# - tests/progs/threads-tls.c (errno, __thread variables at addresses of
#   their own, pthread keys) prints the same transcript as natively: the
#   program has thread-locals of its own, so each thread keeps its own
#   area (default mode) or window (copy mode), moved by system call;
# - tests/progs/pingpong.c, a plain C program with no thread-local of its
#   own, keeps one TLS area: its 2,000 switches make no arch_prctl call
#   (strace), and threads-tls's do; tests/progs/tls-dlopen.c with a
#   library dlopen'ed by threads still prints what it prints natively;
# - an invalid value is reported in one line on stderr (by each process
#   that loads libgreen) and the default is used, for /bin/echo and for a
#   threaded program alike.

load helpers

setup() {
    export LIBGREEN_FSGSBASE=0
}

@test "fsgsbase: with LIBGREEN_FSGSBASE=0, errno, __thread variables and keys stay per thread, in copy and in the default mode" {
    local what mode
    for mode in copy default; do
        for what in errno tls keys; do
            compare_mode "$mode" threads-tls "$what"
            assert_success
        done
    done
}

# arch_prctl_count PROG ARGS...: how many arch_prctl calls PROG makes under
# libgreen in the default mode with LIBGREEN_FSGSBASE=0 (strace).
arch_prctl_count() {
    local log=$BATS_TEST_TMPDIR/strace.$1
    local prog
    prog=$(green_prog "$1")
    shift
    mode_env default
    timeout "$GREEN_RUN_TIMEOUT" strace -f -qq -e trace=arch_prctl -o "$log" \
        "${MODE_ENV[@]}" "$prog" "$@" >/dev/null
    grep -c 'arch_prctl(ARCH_SET_FS' "$log"
}

@test "fsgsbase [default]: with LIBGREEN_FSGSBASE=0, switches of a program with thread-locals move %fs by system call, and those of one without make none" {
    local with without
    with=$(arch_prctl_count threads-tls tls)
    without=$(arch_prctl_count pingpong 1000)
    # 2,000 switches at least, and one arch_prctl at process start.
    (( with > 100 )) || fail "threads-tls made $with arch_prctl calls"
    (( without <= 2 )) || fail "pingpong made $without arch_prctl calls"
    compare_mode default pingpong 1000
    assert_output "passed 1000 times"
    compare_mode default tls-dlopen "$GREEN_PROGS/libtls-mod-gd.so" after
    assert_success
}

@test "fsgsbase: an invalid LIBGREEN_FSGSBASE is reported in one line and the default used" {
    # One line per process that loads libgreen: when the suite itself
    # runs under the preload, timeout reports it too.
    local value line
    for value in bogus 2 -1 yesno; do
        line="libgreen: LIBGREEN_FSGSBASE=$value is not valid (accepted: 0, 1, no, yes); using the default"
        LIBGREEN_FSGSBASE=$value run_green default /bin/echo hi
        assert_success
        assert_output hi
        assert_equal "$(sort -u <<<"$stderr")" "$line"
        LIBGREEN_FSGSBASE=$value run_green default threads-tls tls
        assert_success
        assert_equal "$(grep LIBGREEN_FSGSBASE <<<"$stderr" | sort -u)" "$line"
    done
}
