#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# spawn: starting programs from green threads.  Works means: a program
# started by exec (every exported exec function) or posix_spawn(p) from a
# thread starts with that thread's signal mask, not main's and not the
# signals every thread blocks (tests/progs/exec-mask.c); system, popen and
# pclose keep glibc's statuses, signal dispositions, masks and stream
# rules while their waits park only the caller: the commands they run
# wait for a line that another thread of the program writes, and 6
# system() calls from 6 threads wait until all 6 commands have started
# (tests/progs/shell-calls.c); Python's subprocess.run from 20 threads
# gives every result, its 20 shells all started before main lets any
# finish, on 1 kernel thread while they wait
# (tests/progs/py-subprocess.py); Python's multiprocessing with the fork
# start method (a Pool of 4 workers, which start threads of their own,
# and 8 Processes feeding a Queue) gives every result
# (tests/progs/py-multiprocessing.py).  Native and libgreen transcripts
# compared in both stack modes.  A wait that held up the whole process
# would leave the handshakes unanswered: the run's timeout turns that
# hang into a failure.

load helpers

@test "spawn: exec and posix_spawn from a thread start the new program with that thread's mask" {
    compare_transcripts exec-mask
    assert_success
    assert_line "failed execv: -1 ENOENT"
}

@test "spawn: Python subprocess.run from 20 threads waiting at once matches native, its threads on 1 kernel thread" {
    local py=/usr/bin/python3 mode kt=$BATS_TEST_TMPDIR/kthreads
    [[ -x $py ]] || skip "python3 is not installed (scripts/setup installs it)"
    for mode in copy separate; do
        rm -f "$kt"
        compare_mode "$mode" "$py" -I \
            "$GREEN_SRCDIR/tests/progs/py-subprocess.py" --kthreads "$kt"
        assert_success
        assert_line "all 20 shells running at once: True"
        assert_line "finished before main let them go: 0"
        assert_line "(6, 'out 13', 'err 13')"
        # Sampled while the 20 threads wait in subprocess.run.
        assert_kthread_samples "$kt"
    done
}

@test "spawn: system, popen and pclose from several threads match native, and while they wait another thread answers their commands" {
    compare_transcripts shell-calls
    assert_success
    assert_line "system waits while another thread answers its command: exited 0"
    assert_line "popen r: two go"
    assert_line "pclose waits while another thread answers its command: exited 6"
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
