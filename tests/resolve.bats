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
# - with a DNS server that answers after 300 ms (tests/progs/slow-dns.py,
#   on 127.0.0.1:53 in a network and mount namespace of the test's own,
#   /etc/resolv.conf bind-mounted there), tests/progs/resolve-slow.c's 8
#   lookups at once take about one delay under libgreen, not 8, a ticker
#   thread runs meanwhile, a SIGALRM to the process and a SIGUSR1 to a
#   waiting thread (handlers without SA_RESTART) end no lookup, and the
#   process shows 1 + 8 kernel threads while they wait: the helpers, at
#   most 8 (GREEN__OFFLOAD_MAX), are the documented exception to one
#   kernel thread.  With L lookups at once the wait is about ceil(L / 8)
#   delays: 16 take two.  Helpers idle for 5 s end: the process is back
#   to one kernel thread.
# The namespace needs root (unshare, mount --bind, ip); without it those
# tests skip.

load helpers

@test "resolve [copy]: lookups from 4 threads at once, their errors, h_errno and _r buffers match native" {
    compare_mode copy resolve-calls
    assert_success
}

@test "resolve [separate]: lookups from 4 threads at once, their errors, h_errno and _r buffers match native" {
    compare_mode separate resolve-calls
    assert_success
}

# The script run inside the namespace: loopback up, a resolv.conf naming
# 127.0.0.1 bind-mounted over /etc/resolv.conf, the slow DNS server
# started (and killed by PID on the way out), then "$@".  Exits 77 when
# the namespace cannot be set up.
NS_SCRIPT='
set -u
tmp=$1 delay=$2
shift 2
ip link set lo up || exit 77
printf "nameserver 127.0.0.1\noptions timeout:5 attempts:1\n" >"$tmp/resolv"
mount --bind "$tmp/resolv" /etc/resolv.conf || exit 77
env -u LD_PRELOAD timeout 60 python3 \
    "$GREEN_SRCDIR/tests/progs/slow-dns.py" --delay "$delay" \
    >"$tmp/dns.out" 2>>"$tmp/dns.err" &
dns=$!
trap "kill $dns 2>/dev/null; wait $dns 2>/dev/null" EXIT
for _ in $(seq 100); do
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

# run_ns MODE DELAY_S PROG ARGS...: run PROG in MODE inside a fresh
# namespace with the slow DNS server; like run_mode, bounded by timeout.
run_ns() {
    local mode=$1 delay=$2 prog
    shift 2
    mode_env "$mode" || return 1
    prog=$(green_prog "$1")
    shift
    local tmp=$BATS_TEST_TMPDIR/ns.$mode
    mkdir -p "$tmp"
    run --separate-stderr timeout --kill-after=5 "$GREEN_RUN_TIMEOUT" \
        env GREEN_SRCDIR="$GREEN_SRCDIR" unshare --mount --net \
        bash -c "$NS_SCRIPT" ns "$tmp" "$delay" \
        "${MODE_ENV[@]}" "$prog" "$@"
    if [[ $status == 77 ]]; then
        skip "cannot set up loopback and resolv.conf in a namespace"
    fi
}

# took_ms STDERR, max_threads STDERR: the figures resolve-slow reports.
took_ms() {
    sed -n 's/.* lookups took \([0-9]*\) ms.*/\1/p' <<<"$1"
}
max_threads() {
    sed -n 's/.*max kernel threads \([0-9]*\).*/\1/p' <<<"$1"
}

# slow_lookups MODE N MAX_DELAYS [IDLE_S]: N slow lookups at once natively
# and in MODE print the same; under libgreen they take about MAX_DELAYS
# delays (less than one more) and the process has 1 + min(N, 8) kernel
# threads while they wait. With IDLE_S, the program then waits alone that
# long and prints its kernel thread count (natively 1).
slow_lookups() {
    local mode=$1 n=$2 max_delays=$3 delay_ms=300 idle=(${4-})
    need_namespace
    run_ns plain 0.3 resolve-slow slow.test "$delay_ms" "$n" "${idle[@]}"
    show_run "native"
    assert_success
    local native=$output
    run_ns "$mode" 0.3 resolve-slow slow.test "$delay_ms" "$n" "${idle[@]}"
    show_run "libgreen ($mode)"
    assert_success
    assert_equal "$output" "$native"
    local took threads helpers=$((n < 8 ? n : 8))
    took=$(took_ms "$stderr")
    threads=$(max_threads "$stderr")
    echo "libgreen ($mode): $n lookups took $took ms, max Threads $threads" >&2
    # One spare delay and GREEN_TEST_SLACK_MS for a loaded machine: far
    # from N delays one after another.
    local limit=$(((max_delays + 1) * delay_ms + ${GREEN_TEST_SLACK_MS:-300}))
    ((took < limit)) ||
        fail "$n lookups took $took ms, over $limit ms ($max_delays delays)"
    assert_equal "$threads" $((1 + helpers))
}

@test "resolve [copy]: 8 lookups a DNS server answers after 300 ms take one delay, not 8, on 1 + 8 kernel threads" {
    slow_lookups copy 8 1
}

@test "resolve [separate]: 8 lookups a DNS server answers after 300 ms take one delay, not 8, on 1 + 8 kernel threads" {
    slow_lookups separate 8 1
}

@test "resolve [copy]: 16 slow lookups queue for the 8 helpers: two delays, still 1 + 8 kernel threads" {
    slow_lookups copy 16 2
}

@test "resolve [separate]: 5 s after the last lookup the helpers have ended: 1 kernel thread again, as natively" {
    slow_lookups separate 8 1 7
    assert_line "kernel threads 7 s later: 1"
}
