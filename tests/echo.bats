#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# echo: a thread-per-connection TCP echo server and a client that runs one
# thread per connection (tests/progs/echo-server.c, echo-client.c), both
# unmodified pthread programs.  Works means: under libgreen 2,000 client
# threads and 2,000 server threads hold their connections open at the same
# time while each process runs on exactly one kernel thread, every byte sent
# comes back intact, and the client prints the same transcript natively and
# under libgreen.

load helpers
BATS_TEST_TIMEOUT=${GREEN_TEST_TIMEOUT:-240}

# start_server MODE NAME: start echo-server; sets SERVER_PID and PORT.
start_server() {
    start_bg "$2" "$1" echo-server
    SERVER_PID=$BG_PID
    wait_for_line "$(bg_out "$2")" '^port [0-9]+$' 30 "$SERVER_PID"
    PORT=$(awk '/^port / { print $2 }' "$(bg_out "$2")")
}

server_has_fds() {
    [[ $(open_fds "$1") -ge $2 ]]
}

echo_many_connections() {
    local mode=$1 n=2000 hold=$BATS_TEST_TMPDIR/release.$1 hard
    hard=$(ulimit -Hn)
    if [[ $hard != unlimited && $hard -lt $((n + 100)) ]]; then
        skip "each process needs $((n + 100)) fds; the hard limit is $hard"
    fi
    raise_nofile 20000
    start_server "$mode" "server.$mode"
    start_bg "client.$mode" "$mode" echo-client 127.0.0.1 "$PORT" "$n" 10000 "$hold"
    local client_pid=$BG_PID
    wait_for_line "$(bg_out "client.$mode")" "^connected $n\$" 120 \
        "$client_pid"
    # Every connection accepted: the listener, stdio and n sockets.
    wait_until 60 server_has_fds "$SERVER_PID" $((n + 4))

    assert_kernel_threads "$client_pid" 1
    assert_kernel_threads "$SERVER_PID" 1

    touch "$hold"
    wait_bg "$client_pid" 120
    cat "$(bg_out "client.$mode")" "$(bg_err "client.$mode")"
    assert_equal "$status" 0
    assert_equal "$(cat "$(bg_out "client.$mode")")" \
        "$(printf 'connected %d\nverified %d\nfailed 0' "$n" "$n")"
    assert kill -0 "$SERVER_PID"
    kill -TERM "$SERVER_PID"
    wait "$SERVER_PID" 2>/dev/null || true
}

@test "echo: 2000 client threads and 2000 server threads hold connections at once, every byte verified, 1 kernel thread each, in both stack modes" {
    echo_many_connections copy
    echo_many_connections separate
}

# A client transcript against a server in the same mode, natively and under
# libgreen.
echo_transcript() {
    local mode=$1 threads=$2 bytes=$3
    start_server plain "native_server.$mode"
    run_plain echo-client 127.0.0.1 "$PORT" "$threads" "$bytes"
    show_run native
    assert_success
    local native=$output
    start_server "$mode" "green_server.$mode"
    run_green "$mode" echo-client 127.0.0.1 "$PORT" "$threads" "$bytes"
    show_run "libgreen $mode"
    assert_success
    assert_equal "$output" "$native"
    assert_equal "$output" "$(printf 'connected %d\nverified %d\nfailed 0' \
        "$threads" "$threads")"
}

@test "echo: 200 client threads print the same transcript as natively, in both stack modes" {
    echo_transcript copy 200 20000
    echo_transcript separate 200 20000
}

@test "echo: 4 threads each echo 4 MiB, more than the socket buffers hold, in both stack modes" {
    echo_transcript copy 4 4194304
    echo_transcript separate 4 4194304
}
