#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# settings: every LIBGREEN_* variable libgreen reads (LIBGREEN_STACK,
# LIBGREEN_STACK_SIZE, LIBGREEN_STATS, LIBGREEN_DEBUG, LIBGREEN_FSGSBASE)
# and the green-run options that set them.  Works means:
# - a bad value (empty, spaces, garbage, a wrong case, negative, out of
#   range, overflowing, trailing junk, a wrong unit, a newline, bytes
#   outside ASCII, 100 bytes long) leaves the program as it is natively:
#   a threaded program (pingpong 100: main and a thread pass a byte
#   back and forth through pipes), /bin/echo and /bin/false (which
#   calls no wrapper at all) print what they print natively and exit with
#   their native status, and stderr holds exactly one line, which names
#   the variable, the value (README, "Configuration", says how it is shown)
#   and what is accepted; the default stays in effect;
# - it holds as well when a wrapper runs before libgreen's constructor and
#   reads the settings (jemalloc's start-up);
# - good values are taken silently, and take effect;
# - green-run accepts in --stack and --stack-size exactly what the library
#   accepts in the variables they set: it refuses each bad value above with
#   status 2 and one line in the library's words, before the program runs,
#   and hands each good one to the library as it is; variables already set
#   reach the library as they are.

load helpers

SETTINGS=(LIBGREEN_STACK LIBGREEN_STACK_SIZE LIBGREEN_STATS LIBGREEN_DEBUG
    LIBGREEN_FSGSBASE)

# The programs each bad value is tried with: threaded, no thread, and one
# that calls no wrapper and exits with 1.
PROGS=("pingpong 100" "/bin/echo hi" "/bin/false")

SIZE_ACCEPTED='a size in bytes from 64K to 1024G, optional suffix K, M or G'

# accepted NAME: what the report of NAME says is accepted.
accepted() {
    case $1 in
    LIBGREEN_STACK) printf '%s' 'copy, separate' ;;
    LIBGREEN_STACK_SIZE) printf '%s' "$SIZE_ACCEPTED" ;;
    *) printf '%s' '0, 1, no, yes' ;;
    esac
}

# bad_values NAME: set BAD to values NAME does not accept.
bad_values() {
    local long
    long=$(printf 'x%.0s' {1..100})
    BAD=('' ' ' bogus 12Q -1 999999999999999999999 $'1\n' $'\t' 'a"b\c'
        é "$long")
    case $1 in
    LIBGREEN_STACK)
        BAD+=(Copy SEPARATE ' copy' 'copy ' copyx 'copy,separate')
        ;;
    LIBGREEN_STACK_SIZE)
        BAD+=(0 1K 65535 1025G 1099511627777 1T 18446744073709551616
            ' 1M' '1M ' +1M -1M 1MB 1KiB '1 M' 1.5M 0x100000 1e6 K M1 1M2)
        ;;
    *)
        BAD+=(2 01 YES Yes true on ' 1' '1 ' 0x1)
        ;;
    esac
}

# good_values NAME: set GOOD to values NAME accepts.
good_values() {
    case $1 in
    LIBGREEN_STACK) GOOD=(copy separate) ;;
    LIBGREEN_STACK_SIZE)
        GOOD=(64K 65536 256k 1m 8M 064K 1G 1024G 1099511627776) ;;
    *) GOOD=(0 1 no yes) ;;
    esac
}

# shown VALUE: VALUE as a report shows it: as it is when it is 1 to 64
# letters, digits or ._+:,/@%=-; else its first 64 bytes in double quotes
# with \" \\ \n \t and \xNN for other bytes outside ' '..'~', then ... if
# it is longer.
shown() {
    local LC_ALL=C
    local v=$1 out='"' c i
    if [[ $v =~ ^[A-Za-z0-9._+:,/@%=-]{1,64}$ ]]; then
        printf '%s' "$v"
        return
    fi
    for ((i = 0; i < ${#v} && i < 64; i++)); do
        c=${v:i:1}
        case $c in
        '"' | \\) out+="\\$c" ;;
        $'\n') out+='\n' ;;
        $'\t') out+='\t' ;;
        [[:print:]]) out+=$c ;;
        *)
            printf -v c '\\x%02x' "'$c"
            out+=$c
            ;;
        esac
    done
    out+='"'
    if ((${#v} > 64)); then
        out+=...
    fi
    printf '%s' "$out"
}

# report NAME VALUE: the line libgreen prints for NAME=VALUE.
report() {
    printf 'libgreen: %s=%s is not valid (accepted: %s); using the default' \
        "$1" "$(shown "$2")" "$(accepted "$1")"
}

# run_prog native|green PROG [ARGS...]: bats `run` of PROG natively or
# under libgreen (and ALSO_PRELOAD, if set), every LIBGREEN_* variable
# unset but those in the array SET (NAME=VALUE words, given to the program
# alone: env(1) and timeout(1) never see them, even when the suite itself
# runs under the preload).
run_prog() {
    local where=$1 prog unset=() name
    prog=$(green_prog "$2")
    shift 2
    for name in "${SETTINGS[@]}"; do
        unset+=(-u "$name")
    done
    if [[ $where == native ]]; then
        run --separate-stderr timeout --kill-after=5 "$GREEN_RUN_TIMEOUT" \
            env "${unset[@]}" -u LD_PRELOAD "$prog" "$@"
    else
        require_green_lib || return 1
        run --separate-stderr timeout --kill-after=5 "$GREEN_RUN_TIMEOUT" \
            env "${unset[@]}" \
            LD_PRELOAD="$GREEN_LIB${ALSO_PRELOAD:+ $ALSO_PRELOAD}" "${SET[@]}" \
            "$prog" "$@"
    fi
}

# natives: NATIVE_OUT[p] and NATIVE_STATUS[p], PROGS[p] run natively.
# (Not i: bats' run sets a global i, bats_version_lt in bats 1.8.)
natives() {
    local p words
    NATIVE_OUT=()
    NATIVE_STATUS=()
    for p in "${!PROGS[@]}"; do
        read -ra words <<<"${PROGS[p]}"
        run_prog native "${words[@]}"
        NATIVE_OUT[p]=$output
        NATIVE_STATUS[p]=$status
    done
}

# same_as_native P LABEL: the last run printed what PROGS[P] prints
# natively and exited with its native status.
same_as_native() {
    if [[ $output != "${NATIVE_OUT[$1]}" ||
        $status != "${NATIVE_STATUS[$1]}" ]]; then
        show_run "$2"
        fail "$2: stdout or status differ from the native run's" \
            "(status ${NATIVE_STATUS[$1]})"
    fi
}

# assert_bad_values NAME: each bad value of NAME, with each of PROGS.
assert_bad_values() {
    local name=$1 value p words want
    natives
    bad_values "$name"
    for value in "${BAD[@]}"; do
        SET=("$name=$value")
        want=$(report "$name" "$value")
        for p in "${!PROGS[@]}"; do
            read -ra words <<<"${PROGS[p]}"
            run_prog green "${words[@]}"
            same_as_native "$p" "${PROGS[p]} with $name='$value'"
            if [[ $stderr != "$want" ]]; then
                show_run "${PROGS[p]} with $name='$value'"
                fail "$(printf 'stderr is not the one line\n%s' "$want")"
            fi
        done
    done
}

@test "settings: each bad LIBGREEN_STACK is reported in one line naming it, the value and what is accepted; the program runs as natively" {
    assert_bad_values LIBGREEN_STACK
}

@test "settings: each bad LIBGREEN_STACK_SIZE is reported in one line naming it, the value and what is accepted; the program runs as natively" {
    assert_bad_values LIBGREEN_STACK_SIZE
}

@test "settings: each bad LIBGREEN_STATS is reported in one line naming it, the value and what is accepted; the program runs as natively" {
    assert_bad_values LIBGREEN_STATS
}

@test "settings: each bad LIBGREEN_DEBUG is reported in one line naming it, the value and what is accepted; the program runs as natively" {
    assert_bad_values LIBGREEN_DEBUG
}

@test "settings: each bad LIBGREEN_FSGSBASE is reported in one line naming it, the value and what is accepted; the program runs as natively" {
    assert_bad_values LIBGREEN_FSGSBASE
}

@test "settings: bad values of all five variables at once give one line each, in the order the table lists them" {
    local name want=()
    natives
    SET=()
    for name in "${SETTINGS[@]}"; do
        SET+=("$name=bogus")
        want+=("$(report "$name" bogus)")
    done
    run_prog green pingpong 100
    same_as_native 0 "pingpong 100 with every variable bogus"
    assert_equal "$stderr" "$(printf '%s\n' "${want[@]}")"
}

@test "settings: good values are taken silently; the switches that print do only what they are for" {
    local name value p words
    natives
    for name in "${SETTINGS[@]}"; do
        good_values "$name"
        for value in "${GOOD[@]}"; do
            SET=("$name=$value")
            for p in "${!PROGS[@]}"; do
                read -ra words <<<"${PROGS[p]}"
                run_prog green "${words[@]}"
                same_as_native "$p" "${PROGS[p]} with $name=$value"
                if [[ $p == 0 && $name == LIBGREEN_STATS &&
                    ($value == 1 || $value == yes) ]]; then
                    assert_regex "$stderr" '^libgreen: stats: threads=1 '
                    assert_equal "${#stderr_lines[@]}" 1
                elif [[ $p == 0 && $name == LIBGREEN_DEBUG &&
                    ($value == 1 || $value == yes) ]]; then
                    assert_regex "$stderr" '^libgreen: runtime started '
                    refute_regex "$stderr" 'not valid'
                else
                    assert_equal "$stderr" ""
                fi
            done
        done
    done
}

@test "settings: with a bad LIBGREEN_STACK or LIBGREEN_STACK_SIZE the runtime starts with the defaults, with a good one with that value" {
    # LIBGREEN_DEBUG=1 makes the runtime say how it started.
    local started='^libgreen: runtime started in pid [0-9]+: stack mode'
    local separate="$started separate, default stack"
    local copy="$started copy, shared region"
    # started_with REPORT REGEX: the run printed what pingpong prints, and
    # on stderr REPORT (if not empty), then a start line matching REGEX.
    started_with() {
        assert_success
        assert_output "passed 100 times"
        if [[ -n $1 ]]; then
            assert_equal "${stderr_lines[0]}" "$1"
            stderr_lines=("${stderr_lines[@]:1}")
        fi
        assert_equal "${#stderr_lines[@]}" 1
        assert_regex "${stderr_lines[0]}" "$2"
    }
    SET=(LIBGREEN_DEBUG=1 LIBGREEN_STACK=bogus)
    run_prog green pingpong 100
    started_with "$(report LIBGREEN_STACK bogus)" "$separate 8192 KiB$"
    SET=(LIBGREEN_DEBUG=1 LIBGREEN_STACK_SIZE=12Q)
    run_prog green pingpong 100
    started_with "$(report LIBGREEN_STACK_SIZE 12Q)" "$separate 8192 KiB$"
    SET=(LIBGREEN_DEBUG=1 LIBGREEN_STACK=copy LIBGREEN_STACK_SIZE=1025G)
    run_prog green pingpong 100
    started_with "$(report LIBGREEN_STACK_SIZE 1025G)" "$copy 65536 KiB$"
    SET=(LIBGREEN_DEBUG=1 LIBGREEN_STACK_SIZE=256K)
    run_prog green pingpong 100
    started_with "" "$separate 256 KiB$"
    SET=(LIBGREEN_DEBUG=1 LIBGREEN_STACK=copy LIBGREEN_STACK_SIZE=0001m)
    run_prog green pingpong 100
    started_with "" "$copy 1024 KiB$"
}

@test "settings: read by the first wrapper call when it comes before libgreen's constructor (jemalloc's start-up), a bad value is still reported once" {
    local jemalloc=
    for jemalloc in /usr/lib/*/libjemalloc.so.2 ""; do
        [[ -f $jemalloc ]] && break
    done
    [[ -n $jemalloc ]] ||
        skip 'libjemalloc.so.2 is not installed (scripts/setup installs it)'
    local want
    want=$(report LIBGREEN_STACK_SIZE 12Q)
    # The order ld.so runs the constructors in shows which path read them.
    run --separate-stderr timeout --kill-after=5 "$GREEN_RUN_TIMEOUT" \
        env -u LD_PRELOAD -u LIBGREEN_STACK_SIZE LD_DEBUG=files \
        LD_PRELOAD="$GREEN_LIB $jemalloc" LIBGREEN_STACK_SIZE=12Q /bin/echo hi
    local before=${stderr%%"$want"*}
    [[ $before != "$stderr" ]] || fail "no report: $stderr"
    if [[ $before == *"calling init: "*libgreen.so* ]]; then
        skip "here jemalloc's start-up calls no wrapper before libgreen's"
    fi
    natives
    SET=(LIBGREEN_STACK_SIZE=12Q)
    local p words ALSO_PRELOAD=$jemalloc
    for p in "${!PROGS[@]}"; do
        read -ra words <<<"${PROGS[p]}"
        run_prog green "${words[@]}"
        same_as_native "$p" "${PROGS[p]} with jemalloc"
        assert_equal "$stderr" "$want"
    done
}

# run_green_run ARGS...: bats `run` of green-run ARGS, LD_PRELOAD and every
# LIBGREEN_* variable unset but those in SET.
run_green_run() {
    local unset=() name
    for name in "${SETTINGS[@]}"; do
        unset+=(-u "$name")
    done
    run --separate-stderr timeout --kill-after=5 "$GREEN_RUN_TIMEOUT" \
        env "${unset[@]}" -u LD_PRELOAD "${SET[@]}" "$GREEN_RUN" "$@"
}

# option_of NAME: the green-run option that sets NAME.
option_of() {
    case $1 in
    LIBGREEN_STACK) printf '%s' --stack ;;
    LIBGREEN_STACK_SIZE) printf '%s' --stack-size ;;
    esac
}

@test "green-run: --stack and --stack-size refuse each value the library refuses, before the program runs, with status 2 and one line in the library's words" {
    local name option value want
    SET=()
    for name in LIBGREEN_STACK LIBGREEN_STACK_SIZE; do
        option=$(option_of "$name")
        bad_values "$name"
        for value in "${BAD[@]}"; do
            want="green-run: $option=$(shown "$value") is not valid"
            want+=" (accepted: $(accepted "$name"))"
            run_green_run "$option=$value" /bin/echo hi
            assert_equal "$status" 2
            assert_equal "$output" ""
            assert_equal "$stderr" "$want"
            run_green_run "$option" "$value" /bin/echo hi
            assert_equal "$status" 2
            assert_equal "$output" ""
            assert_equal "$stderr" "$want"
        done
    done
}

@test "green-run: --stack and --stack-size hand each value the library accepts to it as given, and the library takes it silently" {
    local name option value
    SET=()
    for name in LIBGREEN_STACK LIBGREEN_STACK_SIZE; do
        option=$(option_of "$name")
        good_values "$name"
        for value in "${GOOD[@]}"; do
            run_green_run "$option=$value" printenv "$name"
            assert_success
            assert_output "$value"
            assert_equal "$stderr" ""
            run_green_run "$option" "$value" "$(green_prog pingpong)" 100
            assert_success
            assert_equal "$stderr" ""
        done
    done
}

@test "green-run: LIBGREEN_* variables already set reach the library as they are: a bad one is reported once and the program runs; an option overrides one" {
    local name
    natives
    for name in "${SETTINGS[@]}"; do
        SET=("$name= 1")
        run_green_run /bin/false
        assert_equal "$status" 1
        assert_equal "$stderr" "$(report "$name" " 1")"
        run_green_run "$(green_prog pingpong)" 100
        same_as_native 0 "green-run pingpong 100 with $name=' 1'"
        assert_equal "$stderr" "$(report "$name" " 1")"
    done
    SET=(LIBGREEN_STACK=bogus LIBGREEN_STACK_SIZE=12Q)
    run_green_run --stack=copy --stack-size=1M printenv LIBGREEN_STACK \
        LIBGREEN_STACK_SIZE
    assert_success
    assert_output "$(printf 'copy\n1M')"
    assert_equal "$stderr" ""
}
