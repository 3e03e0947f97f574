#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# tls-dlopen: thread-local variables of libraries loaded with dlopen, and of
# the NSS modules glibc dlopens for user and group lookups, are per thread
# under libgreen as natively.  Works means:
# - tests/progs/tls-dlopen.c, given tests/progs/tls-mod.c built with one
#   TLS model, prints the same transcript natively and under libgreen with
#   no failed check: every thread (8, taking turns and blocking in between)
#   starts from the initial values (1000, 0, a zeroed 4 KiB array), finds
#   after each switch exactly what it left, at the same addresses, and no
#   two threads (nor main) share an address.  The library is loaded by main
#   before the first thread ("before"), or by two threads after the threads
#   started and used by others that never called dlopen ("after").  Models:
#   gd (global-dynamic, __tls_get_addr), desc (-mtls-dialect=gnu2; the 4 KiB
#   block does not fit glibc's default static TLS surplus, so it is
#   allocated dynamically), desc-static (the same library with a larger
#   surplus, glibc.rtld.optional_static_tls, where glibc places descriptor
#   modules in static TLS) and ie (initial-exec, a static TLS block, which
#   needs that larger surplus natively too);
# - tests/progs/nss-before-threads.c looks users and groups up before its
#   first thread (loading libnss_systemd.so.2, which has a TLS segment,
#   when /etc/nsswitch.conf lists systemd), then 20 threads pass data round
#   a ring of pipes and look root up again: same transcript as natively;
# - while every thread of either program is blocked, the process runs on
#   one kernel thread.
# Each test runs in copy mode and in the default mode (LIBGREEN_STACK
# unset, which is separate mode: the runtime's own choice is what this
# file checks, so it does not name separate mode as well).

load helpers

# The static TLS surplus that an initial-exec (or static descriptor) 4 KiB
# block needs when dlopen'ed.
BIG_SURPLUS=glibc.rtld.optional_static_tls=16384

# tls_case MODE MODEL before|after: tls-dlopen with libtls-mod-MODEL.so.
tls_case() {
    local mode=$1 model=$2 when=$3 lib
    case $model in
    desc-static)
        lib=$GREEN_PROGS/libtls-mod-desc.so
        export GLIBC_TUNABLES=$BIG_SURPLUS
        ;;
    ie)
        lib=$GREEN_PROGS/libtls-mod-ie.so
        export GLIBC_TUNABLES=$BIG_SURPLUS
        ;;
    *)
        lib=$GREEN_PROGS/libtls-mod-$model.so
        unset GLIBC_TUNABLES
        ;;
    esac
    [[ -f $lib ]] || fail "$lib is missing (make check builds it)"
    compare_mode "$mode" tls-dlopen "$lib" "$when"
    assert_success
    assert_line "thread 7: counter 1048, zero 705, addresses stable, values kept"
    assert_line "main: own values untouched by the threads"
    assert_line "addresses: every thread's variables distinct"
    assert_parked_on_one_kthread "$mode" '^parked 8$' "$lib $when" \
        tls-dlopen "$lib" "$when" "{hold}"
}

# nss_case MODE
nss_case() {
    compare_mode "$1" nss-before-threads
    assert_success
    assert_line "tallies: 840"
    refute_line --partial BAD
    assert_parked_on_one_kthread "$1" '^parked 20$' '' \
        nss-before-threads "{hold}"
}

@test "tls-dlopen: global-dynamic library dlopen'ed by main before the first thread: each thread starts at 1000 and counts alone at addresses of its own (copy and default modes)" {
    tls_case copy gd before
    tls_case default gd before
}

@test "tls-dlopen: global-dynamic library dlopen'ed by two threads once threads exist, used by others too: each thread starts at 1000 and counts alone at addresses of its own (copy and default modes)" {
    tls_case copy gd after
    tls_case default gd after
}

@test "tls-dlopen: TLS-descriptor library, dynamic block, dlopen'ed by main before the first thread: each thread starts at 1000 and counts alone at addresses of its own (copy and default modes)" {
    tls_case copy desc before
    tls_case default desc before
}

@test "tls-dlopen: TLS-descriptor library, dynamic block, dlopen'ed by two threads once threads exist, used by others too: each thread starts at 1000 and counts alone at addresses of its own (copy and default modes)" {
    tls_case copy desc after
    tls_case default desc after
}

@test "tls-dlopen: TLS-descriptor library in static TLS dlopen'ed by main before the first thread: each thread starts at 1000 and counts alone at addresses of its own (copy and default modes)" {
    tls_case copy desc-static before
    tls_case default desc-static before
}

@test "tls-dlopen: TLS-descriptor library in static TLS dlopen'ed by two threads once threads exist, used by others too: each thread starts at 1000 and counts alone at addresses of its own (copy and default modes)" {
    tls_case copy desc-static after
    tls_case default desc-static after
}

@test "tls-dlopen: initial-exec library dlopen'ed by main before the first thread: each thread starts at 1000 and counts alone at addresses of its own (copy and default modes)" {
    tls_case copy ie before
    tls_case default ie before
}

@test "tls-dlopen: initial-exec library dlopen'ed by two threads once threads exist, used by others too: each thread starts at 1000 and counts alone at addresses of its own (copy and default modes)" {
    tls_case copy ie after
    tls_case default ie after
}

@test "tls-dlopen: user and group lookups before the first thread load NSS modules with TLS; then 20 threads block, exchange data and look users up (copy and default modes)" {
    nss_case copy
    nss_case default
}
