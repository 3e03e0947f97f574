#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# fork: fork, vfork, syscall(SYS_fork) and exec from green threads.  Works
# means: a process forked from a thread or from main while 100 other threads
# are blocked (condition variable, pipe read, sleep, barrier, join, poll)
# gets a child with the forking thread's locals and its creator's data
# intact, the pthread_atfork handlers in POSIX order (prepare in reverse,
# parent and child in registration order), a mutex a parked thread held
# still locked and the prepare handler's mutex free, and the child can run
# 50 threads of its own (mutex and condition hand-offs, pipes, sleeps) and
# end with _exit, exit, a return from the forking thread's start routine or
# pthread_exit with the status glibc gives; the parent's 100 threads are not
# disturbed (tests/progs/fork-parked.c, one test per way of forking and
# ending).  8 threads forking (one vforking, one with a raw
# syscall(SYS_fork)) and exec'ing /bin/sh 5 times each get every exit
# status while 4 threads keep an echo over TCP loopback going; each one's
# first child exits only when a releaser thread, after echo round trips
# of its own, tells it to (tests/progs/fork-exec.c). Native and libgreen
# transcripts are compared in both stack modes, and under libgreen the
# parent AND the forked child each run on 1 kernel thread, whatever number
# of threads they have blocked.  Nothing depends on timing: threads are
# in their blocking calls by handshake (tests/progs/handshake.h).

load helpers

# The hold file of the running test, created by teardown too so that a
# child left waiting for it goes on and ends.
FORK_HOLD=

# Besides what start_bg started, teardown stops by PID the children those
# processes forked (a forked child that hangs outlives its killed parent).
teardown() {
    local pid kids=()
    if [[ -n $FORK_HOLD ]]; then
        touch "$FORK_HOLD"
    fi
    for pid in "${GREEN_BG_PIDS[@]}"; do
        # shellcheck disable=SC2207 # PIDs are single words
        kids+=($(ps -o pid= --ppid "$pid" 2>/dev/null))
    done
    GREEN_BG_PIDS+=("${kids[@]}")
    kill_bg
}

# fork_round ROUND: fork-parked ROUND matches native in both stack modes;
# the 100 parked threads survive the fork and are released.
fork_round() {
    compare_transcripts fork-parked "$1"
    assert_success
    assert_line "parked: 100 threads"
    assert_line "parent: parked threads still parked: 100"
    assert_line "released: cond 20, pipe 20, sleep 20, barrier+join 20, poll 20"
}

@test "fork: from a thread with 100 threads parked, the child (atfork order, locals, creator's data, a parked thread's mutex, 50 threads of its own) ends with _exit(7), in both stack modes" {
    fork_round thread
    assert_line "child 1: atfork order: P3 P2 P1 c1 c2 c3"
    assert_line "parent 1: atfork order: P3 P2 P1 a1 a2 a3"
    assert_line "child 1: creator's data intact: yes (made by main)"
    assert_line "child 1: trylock of the mutex a parked thread held: EBUSY"
    assert_line "child 1: 50 threads: 150 ring hand-offs, 250 ping-pongs, 50 naps, 50 joined"
    assert_line "parent 1: child exited 7"
}

@test "fork: from main with 100 threads parked, the child ends with exit(9), in both stack modes" {
    fork_round main
    assert_line "child 2: forker's locals intact: yes (forker of round 2)"
    assert_line "parent 2: child exited 9"
}

@test "fork: from a thread whose start routine then returns in the child, which exits 0, in both stack modes" {
    fork_round return
    assert_line "child 3: creator's data intact: yes (made by main)"
    assert_line "parent 3: child exited 0"
}

@test "fork: from a thread that calls pthread_exit in the child, which exits 0, in both stack modes" {
    fork_round pthread_exit
    assert_line "child 4: creator's data intact: yes (made by main)"
    assert_line "parent 4: child exited 0"
}

@test "fork: fork, vfork and syscall(SYS_fork) + exec from 8 threads during a TCP echo match native in both stack modes" {
    compare_transcripts fork-exec
    assert_success
    assert_line "thread 0 (fork): exit statuses 10 11 12 13 14"
    assert_line "thread 7 (vfork): exit statuses 45 46 47 48 49"
    assert_line "thread 6 (syscall(SYS_fork)): exit statuses 40 41 42 43 44"
    assert_line "echo advanced during forks: yes"
    assert_line "first children released after 3 round trips each while they ran: 8"
}

# fork_parked_one_kthread MODE: run fork-parked --hold thread under
# libgreen in MODE; while the child holds its 50 threads blocked, the parent
# (its 100 threads parked, itself in waitpid) and the child must each run
# 1 kernel thread; then release it and compare with the native stdout.
fork_parked_one_kthread() {
    local mode=$1 name=fork-parked.$1 pid cpid
    FORK_HOLD=$BATS_TEST_TMPDIR/release.$mode
    start_bg "$name" "$mode" fork-parked --hold "$FORK_HOLD" thread
    pid=$BG_PID
    wait_for_line "$(bg_err "$name")" '^child ready pid=[0-9]+$' 30 "$pid"
    cpid=$(sed -n 's/^child ready pid=\([0-9][0-9]*\)$/\1/p' \
        "$(bg_err "$name")" | head -n 1)
    GREEN_BG_PIDS+=("$cpid") # teardown stops it by PID too
    assert_kernel_threads "$pid" 1
    assert_kernel_threads "$cpid" 1
    touch "$FORK_HOLD"
    wait_bg "$pid"
    cat "$(bg_out "$name")" "$(bg_err "$name")"
    assert_equal "$status" 0
    run_plain fork-parked thread
    assert_success
    assert_equal "$(cat "$(bg_out "$name")")" "$output"
}

@test "fork: parent with 100 parked threads and forked child with 50 blocked threads each run 1 kernel thread, in both stack modes" {
    fork_parked_one_kthread copy
    fork_parked_one_kthread separate
}

# fork_exec_one_kthread MODE: run fork-exec --hold under libgreen in MODE;
# once its 8 forkers wait for their first children (its releaser holds
# them), it must run 1 kernel thread, and every sample of Threads: taken
# every 20 ms while it runs must be 1; its stdout is that of the native
# run.
fork_exec_one_kthread() {
    local mode=$1 name=fork-exec.$1 max=0 samples=0 n i pid
    FORK_HOLD=$BATS_TEST_TMPDIR/release.$mode
    start_bg "$name" "$mode" fork-exec --hold "$FORK_HOLD"
    pid=$BG_PID
    wait_for_line "$(bg_out "$name")" '^8 first children wait' 30 "$pid"
    assert_kernel_threads "$pid" 1
    touch "$FORK_HOLD"
    for ((i = 0; i < 1500; i++)); do # at most 30 s
        n=$(proc_threads "$pid" 2>/dev/null) || break # it ended
        [[ -n $n ]] || break
        samples=$((samples + 1))
        ((n > max)) && max=$n
        sleep 0.02
    done
    wait_bg "$pid"
    cat "$(bg_out "$name")" "$(bg_err "$name")"
    assert_equal "$status" 0
    echo "Threads: at most $max in $samples samples after the hold" >&2
    ((max <= 1)) || fail "fork-exec ran $max kernel threads"
    run_plain fork-exec
    assert_success
    assert_equal "$(cat "$(bg_out "$name")")" "$output"
}

@test "fork: 8 threads forking and exec'ing during a TCP echo stay on 1 kernel thread, in both stack modes" {
    fork_exec_one_kthread copy
    fork_exec_one_kthread separate
}
