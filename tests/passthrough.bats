#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# passthrough: a program that never creates a thread must see native
# behaviour, byte for byte.  Works means: bash scripts (loops, pipelines,
# subshells, command substitution, the read builtin, sleep) and the
# coreutils they run (seq, sort, head, cat, wc, ls, dd, yes), every one of
# them loading libgreen, print the same stdout and stderr and exit with the
# same status natively and under libgreen.

load helpers

write_script() {
    cat >"$BATS_TEST_TMPDIR/script.bash" <<'SCRIPT'
set -u
dir=$1
flags=$2
for i in 1 2 3; do echo "for $i"; done
i=0
while [ "$i" -lt 100 ]; do i=$((i + 1)); done
echo "while $i"
seq 1 1000 | sort -rn | head -3
seq 1 100000 | wc -l
printf 'a\nb\nc\n' | cat -n
(echo subshell; exit 3)
echo "subshell status $?"
x=$(echo command substitution | tr a-z A-Z)
echo "$x"
printf 'one two\nthree four\n' | while read -r a b; do echo "read: $b $a"; done
read -r first rest <<<"here string words"
echo "read here-string: $first / $rest"
sleep 0.01
echo slept
mkdir "$dir/d"
touch "$dir/d/b" "$dir/d/a" "$dir/d/c"
ls "$dir/d"
ls -l "$dir/d" | wc -l
head -c 1000000 /dev/zero | dd bs=4096 status=none |
    dd bs=65536 status=none | wc -c
yes | head -3
echo to stderr >&2
cat /nonexistent/file
echo "cat status $?"
false
echo "false status $?"
sh -c 'exit 7'
echo "sh status $?"
"$flags" "single-threaded program"
exit 5
SCRIPT
}

compare_script() {
    local mode=$1
    write_script
    rm -rf "$BATS_TEST_TMPDIR/native" "$BATS_TEST_TMPDIR/green"
    mkdir "$BATS_TEST_TMPDIR/native" "$BATS_TEST_TMPDIR/green"
    # Diagnostics a developer may have switched on would differ.
    run_plain env -u LIBGREEN_STATS -u LIBGREEN_DEBUG \
        bash "$BATS_TEST_TMPDIR/script.bash" "$BATS_TEST_TMPDIR/native" \
        "$(green_prog stdio-flags)"
    show_run native
    local out=$output err=$stderr st=$status
    run_green "$mode" env -u LIBGREEN_STATS -u LIBGREEN_DEBUG \
        bash "$BATS_TEST_TMPDIR/script.bash" "$BATS_TEST_TMPDIR/green" \
        "$(green_prog stdio-flags)"
    show_run "libgreen $mode"
    assert_equal "$st" 5
    assert_equal "$status" "$st"
    assert_equal "$output" "$out"
    assert_equal "${stderr//green/native}" "$err"
}

@test "passthrough: bash loops, pipelines, subshells, read, sleep and coreutils match native stdout, stderr and status, in both stack modes" {
    compare_script copy
    compare_script separate
}

@test "passthrough: exit statuses and signals of single-threaded commands are native, in both stack modes" {
    local cmd mode
    for cmd in 'exit 0' 'exit 1' 'exit 42' 'kill -TERM $$' 'kill -KILL $$'; do
        run_plain bash -c "$cmd"
        local st=$status
        for mode in copy separate; do
            run_green "$mode" bash -c "$cmd"
            [[ $status == "$st" ]] ||
                fail "$mode: bash -c '$cmd' exited $status, natively $st"
        done
    done
}
