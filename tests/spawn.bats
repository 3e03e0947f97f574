#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# spawn: starting programs from green threads.  Works means: a program
# started by exec (every exported exec function) or posix_spawn(p) from a
# thread starts with that thread's signal mask, not main's and not the
# signals every thread blocks (tests/progs/exec-mask.c); system, popen and
# pclose keep glibc's statuses, signal dispositions, masks and stream
# rules while their waits park only the caller
# (tests/progs/shell-calls.c); Python's subprocess.run from 20 threads
# gives every result and runs them at once, on 1 kernel thread; Python's
# multiprocessing with the fork start method (a Pool of 4 workers, which
# start threads of their own, and 8 Processes feeding a Queue) gives every
# result (tests/progs/py-multiprocessing.py).  Native and libgreen
# transcripts compared in both stack modes.

load helpers

@test "spawn: exec and posix_spawn from a thread start the new program with that thread's mask" {
    compare_transcripts exec-mask
    assert_success
    assert_line "failed execv: -1 ENOENT"
}

@test "spawn: Python subprocess.run from 20 threads matches native, its threads on 1 kernel thread" {
    local py=/usr/bin/python3 mode n max
    [[ -x $py ]] || skip "python3 is not installed (scripts/setup installs it)"
    compare_transcripts "$py" -I "$GREEN_SRCDIR/tests/progs/py-subprocess.py"
    assert_line "ticker advanced: True elapsed under 2 s: True"
    assert_line "(6, 'out 13', 'err 13')"
    for mode in copy separate; do
        start_bg pysub-$mode "$mode" "$py" -I \
            "$GREEN_SRCDIR/tests/progs/py-subprocess.py"
        max=0
        while kill -0 "$BG_PID" 2>/dev/null; do
            n=$(proc_threads "$BG_PID" 2>/dev/null) || break  # it ended
            [[ -n $n ]] && ((n > max)) && max=$n
            sleep 0.02
        done
        wait_bg "$BG_PID"
        assert_equal "$status" 0
        assert_equal "$max" 1
    done
}

@test "spawn: system, popen and pclose from several threads match native, and their waits let other threads run" {
    compare_transcripts shell-calls
    assert_success
    assert_line "ticker advanced during system: yes"
    assert_line "ticker advanced while reading popen: yes"
    assert_line "thread 5 system: exited 15"
    assert_line "pclose first while the second runs: exited 0"
}

@test "spawn: Python multiprocessing (fork start method: Pool, threads in workers, Process, Queue) matches native" {
    local py=/usr/bin/python3
    [[ -x $py ]] || skip "python3 is not installed (scripts/setup installs it)"
    compare_transcripts "$py" -I "$GREEN_SRCDIR/tests/progs/py-multiprocessing.py"
    assert_line "pool map sum: 2646700"
    assert_line "exit codes: [0, 0, 0, 0, 0, 0, 0, 0]"
}
