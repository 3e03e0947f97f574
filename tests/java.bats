#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# java: an unmodified OpenJDK 17 JVM (Debian's /usr/bin/java, which
# dlopens libjvm.so) whose threads, the JVM's own (VM thread, compiler,
# reference handler, finalizer, ...) and the program's, become green
# threads, with libgreen alone in LD_PRELOAD.  Works means:
# tests/progs/JavaThreads.java, compiled by javac once per run of this
# file, prints the same transcript and exit status natively and under
# libgreen, in the default mode (separate stacks), for synchronized, wait,
# notify and notifyAll (5 threads in wait() woken one by one, 5 by one
# notifyAll; a contended counter), an ExecutorService of 4 threads with
# 100 Futures, invokeAll and a failing task, CompletableFuture chains
# (supplyAsync, thenApply, thenCompose, thenCombine, allOf, exceptionally,
# handle, a chain waiting on a future main completes), and a ServerSocket
# on 127.0.0.1 with a thread per connection serving 50 client threads;
# and under libgreen Threads: in /proc/self/status, sampled by the
# program while its threads are blocked (5 waiters; 4 busy pool threads;
# 50 clients and 50 handlers mid-exchange), is 1, the JVM's own threads
# included (natively there are about 14 more).  Copy mode (stacks copied
# in and out of one region) is known not to support the JVM and is not
# tested here.  Skipped when java or javac is not installed (scripts/setup
# installs openjdk-17-jdk-headless).

load helpers

# Each run takes about half a second natively; a hang fails after 120 s.
BATS_TEST_TIMEOUT=${GREEN_TEST_TIMEOUT:-120}

# Flags for every JVM run, to keep it quick and the same on every
# machine:
#   -Xshare:auto            use the class data sharing archive when it maps
#                           (quick start-up), never fail when it does not
#   -XX:+UseSerialGC        no GC worker threads (G1 starts some per CPU):
#                           the same threads on any machine
#   -XX:TieredStopAtLevel=1 C1 only: one compiler thread, quick start-up
#   -Xmx64m, -Xss512k       a small heap and 512 kB Java thread stacks
#                           (1 MB by default) for the ~110 threads of echo
#   -XX:-UsePerfData        no /tmp/hsperfdata_USER/PID file, shared with
#                           jps and left behind by a killed JVM
#   -XX:ErrorFile=...       a crash report in the test's directory, not
#                           in the current one
#   -Djava.net.preferIPv4Stack=true  AF_INET sockets only, for 127.0.0.1
JAVA_FLAGS=(-Xshare:auto -XX:+UseSerialGC -XX:TieredStopAtLevel=1
    -Xmx64m -Xss512k -XX:-UsePerfData -Djava.net.preferIPv4Stack=true)

setup_file() {
    PATH=/usr/bin:/bin:$PATH
    if ! command -v javac >/dev/null || ! command -v java >/dev/null; then
        return 0
    fi
    # javac runs natively, once for all the tests of this file.
    env -u LD_PRELOAD -u JAVA_TOOL_OPTIONS -u _JAVA_OPTIONS \
        -u JDK_JAVA_OPTIONS javac -Xlint:all -Werror \
        -d "$BATS_FILE_TMPDIR/classes" "$GREEN_SRCDIR/tests/progs/JavaThreads.java"
}

setup() {
    # Debian's java, not one that PATH finds first (sdkman, a JAVA_HOME).
    PATH=/usr/bin:/bin:$PATH
    if ! command -v java >/dev/null; then
        skip "java is not installed (scripts/setup installs openjdk-17-jdk-headless)"
    fi
    if ! command -v javac >/dev/null; then
        skip "javac is not installed (scripts/setup installs openjdk-17-jdk-headless)"
    fi
    # These would add options to every JVM, and a line to its stderr.
    unset JAVA_TOOL_OPTIONS _JAVA_OPTIONS JDK_JAVA_OPTIONS
}

# compare_java MODE SECTION...: compare_mode for JavaThreads, then check
# the "LABEL N" samples it wrote: the native run's (the first half) each
# more than 1, the libgreen run's each exactly 1.
compare_java() {
    local mode=$1 kt=$BATS_TEST_TMPDIR/kthreads
    shift
    rm -f "$kt"
    compare_mode "$mode" java "${JAVA_FLAGS[@]}" \
        "-XX:ErrorFile=$BATS_TEST_TMPDIR/hs_err_pid%p.log" \
        -cp "$BATS_FILE_TMPDIR/classes" JavaThreads --kthreads "$kt" "$@" || {
        head -n 40 "$BATS_TEST_TMPDIR"/hs_err_pid*.log >&2 2>/dev/null
        return 1
    }
    assert_success
    assert_kthread_samples "$kt"
}

@test "java [default]: synchronized/wait/notifyAll, an ExecutorService with futures and CompletableFuture chains match native on 1 kernel thread" {
    compare_java default monitor executor completable
    assert_line "monitor: 5 threads in wait(), one notifyAll woke all 5"
    assert_line --partial "completable: 50 chains summing to 42925;"
}

@test "java [default]: a ServerSocket with a thread per connection serves 50 client threads on 127.0.0.1, on 1 kernel thread" {
    compare_java default echo
    assert_line "echo: 50 clients, 250 lines echoed right, handler threads read 250"
}
