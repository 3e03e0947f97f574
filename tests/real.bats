#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# real: unmodified real programs from Debian run under libgreen.  Works
# means: Python 3's http.server.ThreadingHTTPServer (tests/progs/py-http.py,
# a thread per connection) under libgreen answers 500 requests made 100 at
# a time by a native curl, every one with status 200 and its own body, and
# Threads: in its /proc/PID/status is 1 while 100 of them are in flight at
# once (the server holds the first 100 until they all are) and in every
# sample taken afterwards; curl under libgreen downloads a 10 MB file from that server
# under libgreen with the same SHA-256; and a bash script with pipelines,
# subshells, command substitution, background jobs and wait, here-documents
# and while-read loops (tests/progs/real-pipeline.sh; LD_PRELOAD reaches
# every child) prints the same transcript and exit status natively and
# under libgreen in both stack modes; redis-server (jemalloc, 3 bio
# threads natively) under libgreen answers a native redis-benchmark in both
# stack modes, with every result present and the data checked afterwards
# (INCR count, list length, a 133 kB value), and completes three BGSAVEs
# (fork with its bio threads alive) under load, its dump then loaded by a
# native redis-server with the same number of keys.  Servers listen on
# 127.0.0.1 only and
# are stopped by PID.  A test whose program is missing is skipped
# (scripts/setup installs them).

load helpers

# Each test takes a few seconds; a hang fails after 60 s.
BATS_TEST_TIMEOUT=${GREEN_TEST_TIMEOUT:-60}

setup() {
    # Debian's programs, not ones that PATH finds first (pyenv, a venv).
    PATH=/usr/bin:/bin:$PATH
}

# need PROGRAM...: skip unless every PROGRAM is installed.
need() {
    local p
    for p in "$@"; do
        if ! command -v "$p" >/dev/null; then
            skip "$p is not installed (scripts/setup installs it)"
        fi
    done
}

# start_http MODE DIR [N HOLD_FILE]: start py-http.py serving DIR under
# MODE (holding its first N slow requests until HOLD_FILE exists); sets
# HTTP_PID and HTTP_PORT once it listens.
start_http() {
    local mode=$1
    shift
    start_bg http "$mode" python3 -I "$GREEN_SRCDIR/tests/progs/py-http.py" \
        "$@"
    HTTP_PID=$BG_PID
    wait_for_line "$(bg_out http)" '^port [0-9]+$' 20 "$HTTP_PID"
    HTTP_PORT=$(awk '/^port / { print $2 }' "$(bg_out http)")
}

# stop_http: stop the server by its PID and reap it.
stop_http() {
    kill -TERM "$HTTP_PID"
    wait_bg "$HTTP_PID" 10
}

@test "real: python3 ThreadingHTTPServer under libgreen answers 500 requests, 100 in flight at a time, on 1 kernel thread" {
    need python3 curl
    mkdir -p "$BATS_TEST_TMPDIR/www" "$BATS_TEST_TMPDIR/resp"
    local hold=$BATS_TEST_TMPDIR/release
    start_http copy "$BATS_TEST_TMPDIR/www" 100 "$hold"
    local cfg=$BATS_TEST_TMPDIR/curl.cfg i
    for ((i = 1; i <= 500; i++)); do
        printf 'url = "http://127.0.0.1:%s/slow/%s"\noutput = "%s/resp/%s"\n' \
            "$HTTP_PORT" "$i" "$BATS_TEST_TMPDIR" "$i"
    done >"$cfg"
    # The server holds the first 100 requests until all 100 are in flight
    # (100 handler threads alive at once) and the hold file exists; curl
    # opens its 100 connections at once (--parallel-immediate).
    start_bg_cmd curl env -u LD_PRELOAD timeout 25 curl --parallel \
        --parallel-max 100 --parallel-immediate --silent --show-error \
        --no-progress-meter --config "$cfg" \
        --write-out '%{http_code} %{url_effective}\n'
    local curl_pid=$BG_PID n max=0 samples=0
    wait_for_line "$(bg_out http)" '^100 in flight$' 20 "$HTTP_PID"
    assert_kernel_threads "$HTTP_PID" 1
    touch "$hold"
    while kill -0 "$curl_pid" 2>/dev/null; do
        n=$(proc_threads "$HTTP_PID")
        if [[ -n $n ]]; then
            ((n > max)) && max=$n
            samples=$((samples + 1))
        fi
        sleep 0.02
    done
    wait_bg "$curl_pid"
    cat "$(bg_err curl)" >&2
    assert_equal "$status" 0
    echo "Threads: max $max in $samples samples after the 100" >&2
    ((max <= 1)) || fail "the server ran $max kernel threads"
    assert_equal "$(grep -c '^200 http://127.0.0.1:' "$(bg_out curl)")" 500
    local bad=0
    for ((i = 1; i <= 500; i++)); do
        if [[ $(<"$BATS_TEST_TMPDIR/resp/$i") != "echo $i" ]]; then
            echo "response $i: $(head -c 200 "$BATS_TEST_TMPDIR/resp/$i")" >&2
            bad=$((bad + 1))
        fi
    done
    assert_equal "$bad" 0
    assert_kernel_threads "$HTTP_PID" 1
    stop_http
}

@test "real: curl under libgreen downloads 10 MB from python3 http.server under libgreen intact" {
    need python3 curl sha256sum
    local www=$BATS_TEST_TMPDIR/www
    mkdir -p "$www"
    head -c 10485760 /dev/urandom >"$www/big.bin"
    start_http copy "$www"
    run_green copy curl --silent --show-error --fail \
        --output "$BATS_TEST_TMPDIR/got.bin" \
        --write-out '%{http_code} %{size_download}' \
        "http://127.0.0.1:$HTTP_PORT/big.bin"
    show_run "curl under libgreen"
    assert_success
    assert_output "200 10485760"
    assert_equal "$(sha256sum <"$BATS_TEST_TMPDIR/got.bin")" \
        "$(sha256sum <"$www/big.bin")"
    stop_http
}

@test "real: a bash script with pipelines, subshells, background jobs, here-docs and while-read matches native in both stack modes" {
    need bash
    compare_transcripts bash "$GREEN_SRCDIR/tests/progs/real-pipeline.sh"
    assert_success
    assert_line "fifo: 100"
    assert_line "done"
}

# free_port: a TCP port on 127.0.0.1 that nothing listens on right now.
free_port() {
    python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

@test "real: redis-server under libgreen answers redis-benchmark in both stack modes, its threads on 1 kernel thread" {
    need redis-server redis-benchmark redis-cli python3
    local mode port pid csv kthreads
    for mode in copy separate; do
        port=$(free_port)
        # Debian's redis-server links jemalloc and starts its bio threads:
        # all of them green threads here.
        start_bg redis-$mode "$mode" redis-server --bind 127.0.0.1 \
            --port "$port" --save '' --appendonly no --daemonize no \
            --dir "$BATS_TEST_TMPDIR"
        pid=$BG_PID
        wait_until 20 env -u LD_PRELOAD redis-cli -p "$port" ping
        start_bg_cmd bench-$mode env -u LD_PRELOAD timeout 60 \
            redis-benchmark -h 127.0.0.1 -p "$port" -q --csv \
            -t set,get,incr,lpush,lpop,hset -n 20000 -c 50
        # Sample the names of the kernel threads while it is under load,
        # and once more when the load is over (so that there is always a
        # sample, however the machine ran the benchmark).
        {
            while kill -0 "$BG_PID" 2>/dev/null; do
                cat /proc/"$pid"/task/*/comm 2>/dev/null
                sleep 0.05
            done
            cat /proc/"$pid"/task/*/comm
        } | sort | uniq -c >"$BATS_TEST_TMPDIR/kthreads"
        kthreads=$(awk '{ print $2 }' "$BATS_TEST_TMPDIR/kthreads" | sort -u \
            | paste -sd ' ')
        wait_bg "$BG_PID"
        csv=$(bg_out bench-$mode)
        cat "$csv" "$(bg_err bench-$mode)" >&2
        assert_equal "$status" 0
        # Every test reports a throughput; nothing failed.
        assert_equal "$(grep -cE '^"(SET|GET|INCR|LPUSH|LPOP|HSET)","[0-9.]+"' \
            "$csv")" 6
        echo "$mode: kernel threads seen: $kthreads" >&2
        # The program's threads (main and its bio threads) are all on one
        # kernel thread. jemalloc's purging thread is a kernel thread of
        # its own: jemalloc creates it with the pthread_create that
        # dlsym(RTLD_NEXT) finds after itself, libc's, and runs none of
        # the program's code in it.
        assert_equal "$kthreads" "jemalloc_bg_thd redis-server"
        # The data is what the commands made: 20,000 INCRs of one key, as
        # many LPUSHes as LPOPs, 100 kB values round trip.
        run env -u LD_PRELOAD redis-cli -p "$port" get counter:__rand_int__
        assert_output 20000
        run env -u LD_PRELOAD redis-cli -p "$port" llen mylist
        assert_output 0
        head -c 100000 /dev/urandom | base64 -w0 >"$BATS_TEST_TMPDIR/big"
        run env -u LD_PRELOAD redis-cli -p "$port" -x set big \
            <"$BATS_TEST_TMPDIR/big"
        assert_output OK
        run env -u LD_PRELOAD redis-cli -p "$port" get big
        assert_equal "$output" "$(cat "$BATS_TEST_TMPDIR/big")"
        kill -TERM "$pid"
        wait_bg "$pid" 10
        assert_equal "$status" 0
    done
}

@test "real: redis-server under libgreen completes BGSAVE under load, and the dump holds the data" {
    need redis-server redis-benchmark redis-cli python3
    local port pid i saves dbsize
    port=$(free_port)
    start_bg redis-save copy redis-server --bind 127.0.0.1 --port "$port" \
        --save '' --appendonly no --daemonize no --dir "$BATS_TEST_TMPDIR"
    pid=$BG_PID
    wait_until 20 env -u LD_PRELOAD redis-cli -p "$port" ping
    run env -u LD_PRELOAD timeout 60 redis-benchmark -h 127.0.0.1 -p "$port" \
        -q -t set -n 20000 -r 100000 -d 100
    assert_success
    # Three background saves while clients keep writing: each forks a
    # child (with the bio threads alive in the parent) that writes the
    # dump and exits; the parent reaps it.
    start_bg_cmd load env -u LD_PRELOAD timeout 60 redis-benchmark \
        -h 127.0.0.1 -p "$port" -q -t set,get -n 60000 -r 100000 -d 100
    for i in 1 2 3; do
        run env -u LD_PRELOAD redis-cli -p "$port" bgsave
        assert_output "Background saving started"
        wait_until 20 bash -c "env -u LD_PRELOAD redis-cli -p $port info persistence | grep -q '^rdb_bgsave_in_progress:0'"
    done
    wait_bg "$BG_PID" 60
    assert_equal "$status" 0
    run env -u LD_PRELOAD redis-cli -p "$port" info persistence
    assert_line --regexp '^rdb_last_bgsave_status:ok'
    saves=$(printf '%s\n' "$output" | tr -d '\r' | awk -F: '$1 == "rdb_saves" { print $2 }')
    ((saves >= 3)) || fail "rdb_saves is $saves, expected at least 3"
    # A last save with no load, then a native redis-server loads the dump.
    dbsize=$(env -u LD_PRELOAD redis-cli -p "$port" dbsize)
    run env -u LD_PRELOAD redis-cli -p "$port" save
    assert_output OK
    kill -TERM "$pid"
    wait_bg "$pid" 10
    assert_equal "$status" 0
    port=$(free_port)
    start_bg_cmd redis-load env -u LD_PRELOAD redis-server --bind 127.0.0.1 \
        --port "$port" --save '' --appendonly no --daemonize no \
        --dir "$BATS_TEST_TMPDIR"
    # PING is answered while the dump still loads; DBSIZE is not.
    wait_until 20 bash -c "env -u LD_PRELOAD redis-cli -p $port dbsize | grep -qx '[0-9][0-9]*'"
    assert_equal "$(env -u LD_PRELOAD redis-cli -p "$port" dbsize)" "$dbsize"
    ((dbsize > 1000)) || fail "only $dbsize keys"
    kill -TERM "$BG_PID"
    wait_bg "$BG_PID" 10
}
