#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# tid: each green thread has a thread id of its own, and the calls that
# take a tid treat it as that thread.  Works means: tests/progs/tid-calls.c
# (50 threads alive at once: gettid() and syscall(SYS_gettid) agree, are
# distinct and not the pid, and stay the same across blocking calls; main's
# is the pid; tgkill and tkill, through libc and syscall(), to another
# thread run the handler in it, to itself before returning, with ESRCH for
# a joined, bogus or foreign tid, EINVAL for a bad signal and 0 for signal
# 0; sched_setaffinity, sched_setscheduler, sched_setparam and setpriority
# on a thread's tid are read back for that thread only, inherited by the
# threads it creates, with the kernel's EINVAL, EFAULT and ESRCH; a
# mutex's __owner is its owner's gettid(); after fork, from main or another
# thread, the child's gettid() is its pid) prints the same transcript and
# exit status natively and under libgreen in both stack modes, one test
# per section, with its 50 threads on 1 kernel thread; and Python's
# threading.get_native_id() is distinct for 20 threads and the pid in
# main.

load helpers

# section NAME: tid-calls NAME matches native in both stack modes.
section() {
    compare_transcripts tid-calls "$1"
    assert_success
}

@test "tid: 50 threads alive at once have distinct ids, none the pid, stable across blocking calls; main's is the pid" {
    section ids
    assert_line "ids: distinct yes, none is the pid yes, stable across blocking calls yes"
}

@test "tid: tgkill and tkill, through libc and syscall(), run the handler in the target thread, or in the caller before they return; their errors match native" {
    section signals
}

@test "tid: sched_setaffinity, sched_setscheduler, sched_setparam and setpriority on a thread's tid apply to that thread and the threads it creates; their errors match native" {
    section sched
}

@test "tid: a mutex's __owner is its owner's gettid()" {
    section mutex
}

@test "tid: after fork, from main or another thread, the child's gettid() is its pid" {
    section fork
}

@test "tid: 50 threads with their own tids use 1 kernel thread (copy and separate)" {
    assert_parked_on_one_kthread copy '^ids: 50 threads alive$' ids \
        tid-calls ids '{hold}'
    assert_parked_on_one_kthread separate '^ids: 50 threads alive$' ids \
        tid-calls ids '{hold}'
}

# 20 threads alive at once report threading.get_native_id(); lines name
# no id.
PY_IDS='
import os, threading
n = 20
ids = [None] * n
barrier = threading.Barrier(n + 1)
def run(i):
    ids[i] = threading.get_native_id()
    barrier.wait()
    barrier.wait()
    assert threading.get_native_id() == ids[i]
threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
for t in threads:
    t.start()
barrier.wait()
print("native ids distinct:", len(set(ids)) == n)
print("none is the pid:", os.getpid() not in ids)
print("Thread.native_id agrees:", [t.native_id for t in threads] == ids)
barrier.wait()
for t in threads:
    t.join()
print("main is the pid:", threading.get_native_id() == os.getpid())
'

@test "tid: Python's threading.get_native_id() is distinct for 20 threads and the pid in main" {
    if [[ ! -x /usr/bin/python3 ]]; then
        skip "/usr/bin/python3 is not installed (Debian package python3)"
    fi
    PATH=/usr/bin:$PATH
    compare_transcripts python3 -I -c "$PY_IDS"
    assert_success
    assert_output - <<'EOF'
native ids distinct: True
none is the pid: True
Thread.native_id agrees: True
main is the pid: True
EOF
}
