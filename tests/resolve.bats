#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# resolve: getaddrinfo, getnameinfo, gethostbyname, gethostbyname2,
# gethostbyaddr and their _r forms run on helper kernel threads and park
# only the calling green thread.  Works means:
# - tests/progs/resolve-calls.c (4 threads at once: hints, services,
#   EAI_SERVICE, EAI_BADFLAGS, EAI_NONAME, EAI_FAMILY, getnameinfo and
#   EAI_OVERFLOW, h_errno, ERANGE for small _r buffers and where glibc put
#   each result in the program's buffer; then a lookup in a child of fork
#   and one more in the parent) prints the same transcript natively and
#   under libgreen, names from /etc/hosts only;
# - with a DNS server that answers only once it holds queries for 8
#   different names at the same time (tests/progs/slow-dns.py, on
#   127.0.0.1:53 in a network and mount namespace of the test's own,
#   /etc/resolv.conf bind-mounted there), tests/progs/resolve-slow.c's 8
#   lookups at once are all answered: they were in flight together (made
#   one after another they would never be answered, and the resolver's
#   timeout would fail them); a thread of the program runs while they wait
#   (it lets the server answer), a SIGALRM to the process and a SIGUSR1 to
#   a waiting thread (handlers without SA_RESTART) end no lookup, and the
#   process shows 1 + 8 kernel threads while they wait: the helpers, at
#   most 8 (GREEN__OFFLOAD_MAX), are the documented exception to one
#   kernel thread.  16 lookups at once reach the server 8 at a time, on
#   the same 1 + 8 kernel threads.  Helpers idle for 5 s end: the process
#   is back to one kernel thread.
# Nothing depends on timing: the server and the program meet through
# files (gathered.R, release.R).
# The namespace needs root (unshare, mount --bind, ip); without it those
# tests skip.

load helpers

@test "resolve: lookups from 4 threads at once, their errors, h_errno and _r buffers match native in both stack modes" {
    compare_transcripts resolve-calls
    assert_success
}

# The script run inside the namespace: loopback up, a resolv.conf naming
# 127.0.0.1 bind-mounted over /etc/resolv.conf, the gathering DNS server
# started with its gate files in TMP (and killed by PID on the way out),
# then "$@".  Exits 77 when the namespace cannot be set up.
NS_SCRIPT='
set -u
tmp=$1
shift
ip link set lo up || exit 77
printf "nameserver 127.0.0.1\noptions timeout:20 attempts:1\n" >"$tmp/resolv"
mount --bind "$tmp/resolv" /etc/resolv.conf || exit 77
env -u LD_PRELOAD timeout 60 python3 \
    "$GREEN_SRCDIR/tests/progs/slow-dns.py" --gate "$tmp" --gather 8 \
    >"$tmp/dns.out" 2>>"$tmp/dns.err" &
dns=$!
trap "kill $dns 2>/dev/null; wait $dns 2>/dev/null" EXIT
for _ in $(seq 200); do
    grep -q "^ready" "$tmp/dns.out" 2>/dev/null && break
    sleep 0.05
done
if ! grep -q "^ready" "$tmp/dns.out"; then
    echo "slow-dns.py did not start" >&2
    exit 78
fi
"$@"
'

need_namespace() {
    command -v python3 >/dev/null || skip "no python3 for the DNS server"
    command -v ip >/dev/null || skip "no ip(8) to bring up loopback"
    if ! unshare --mount --net true 2>/dev/null; then
        skip "unshare --mount --net is not permitted (needs root)"
    fi
}

# run_ns MODE PROG ARGS...: run PROG in MODE inside a fresh namespace with
# the gathering DNS server, ARGS' word {gate} standing for its gate
# directory; like run_mode, bounded by timeout.
run_ns() {
    local mode=$1 prog arg args=()
    shift
    mode_env "$mode" || return 1
    prog=$(green_prog "$1")
    shift
    local tmp=$BATS_TEST_TMPDIR/ns.$mode
    rm -rf "$tmp"
    mkdir -p "$tmp"
    for arg in "$@"; do
        args+=("${arg//\{gate\}/$tmp}")
    done
    run --separate-stderr timeout --kill-after=5 "$GREEN_RUN_TIMEOUT" \
        env GREEN_SRCDIR="$GREEN_SRCDIR" unshare --mount --net \
        bash -c "$NS_SCRIPT" ns "$tmp" "${MODE_ENV[@]}" "$prog" "${args[@]}"
    if [[ $status == 77 ]]; then
        skip "cannot set up loopback and resolv.conf in a namespace"
    fi
}

# max_threads STDERR: the figure resolve-slow reports.
max_threads() {
    sed -n 's/.*max kernel threads \([0-9]*\).*/\1/p' <<<"$1"
}

# slow_lookups MODE N [idle]: N lookups at once, which the server answers
# 8 at a time once it holds 8, print the same natively and in MODE, and
# under libgreen the process has 1 + 8 kernel threads while they wait.
# With idle, the program then waits until it is down to one kernel thread
# (natively at once).
slow_lookups() {
    local mode=$1 n=$2
    shift 2
    need_namespace
    run_ns plain resolve-slow slow.test {gate} "$n" "$@"
    show_run "native"
    assert_success
    local native=$output
    run_ns "$mode" resolve-slow slow.test {gate} "$n" "$@"
    show_run "libgreen ($mode)"
    assert_success
    assert_equal "$output" "$native"
    local threads
    threads=$(max_threads "$stderr")
    echo "libgreen ($mode): $n lookups, Threads $threads at a gathered round" >&2
    assert_equal "$threads" 9
    assert_line "lookups answered only once released: yes"
}

@test "resolve: 8 lookups that a DNS server answers only once it holds all 8 are in flight together, on 1 + 8 kernel threads, in both stack modes" {
    slow_lookups copy 8
    slow_lookups separate 8
}

# One stack mode each below: they are about the helpers, which the stack
# mode does not change (the test above runs both).
@test "resolve [copy]: 16 lookups at once reach the server 8 at a time, on the same 1 + 8 kernel threads" {
    slow_lookups copy 16
}

@test "resolve [separate]: helpers idle for 5 s end: 1 kernel thread again, as natively" {
    slow_lookups separate 8 idle
    assert_line "kernel threads once the helpers were idle: 1"
}
