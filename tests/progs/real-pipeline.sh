#!/bin/bash
# SPDX-License-Identifier: MIT
# real-pipeline.sh: an ordinary bash script using pipelines, subshells,
# command substitution, background jobs and `wait`, here-documents, here-
# strings, process substitution and a `while read` loop, with coreutils.
# Prints deterministic lines only; exits 0 when every step ran.
# The subshell assignment and the nested echoes are what is tested:
# shellcheck disable=SC2030,SC2031,SC2116
set -euo pipefail

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Pipelines.
echo "pipeline: $(seq 1 1000 | sort -rn | head -n 3 | tr '\n' ' ')"
echo "sum: $(seq 1 10000 | awk '{ s += $1 } END { print s }')"
printf '%s\n' cherry apple banana apple cherry apple | sort | uniq -c |
    sort -rn | while read -r count word; do
    echo "count: $word $count"
done

# Subshells and command substitution, nested.
x=outer
(x=inner; echo "subshell: $x $(echo "nested $(echo deep)")")
echo "after subshell: $x"
echo "words: $(echo "a b c d e" | wc -w)"

# Background jobs and wait: each writes its own file; wait by PID and all.
pids=()
for i in 1 2 3 4 5 6 7 8; do
    (sleep "0.0$((9 - i))"; seq "$i" | paste -sd, >"$tmp/job$i") &
    pids+=($!)
done
wait "${pids[0]}"
echo "first job status: $?"
wait
for i in 1 2 3 4 5 6 7 8; do
    echo "job $i: $(cat "$tmp/job$i")"
done
(exit 3) &
st=0
wait $! || st=$?
echo "job exit status: $st"

# Here-documents (expanded and literal) and a here-string.
n=42
cat <<END
heredoc: n=$n, $(echo sub)
END
cat <<'END'
literal: $n $(echo sub)
END
tr '[:lower:]' '[:upper:]' <<<"here-string"

# while read from a process substitution, and from a pipeline into a file.
total=0
while IFS=: read -r name value; do
    total=$((total + value))
    echo "read: $name=$value"
done < <(printf 'a:1\nb:20\nc:300\n')
echo "total: $total"
seq 1 2000 | while read -r line; do
    echo "line $line"
done >"$tmp/lines"
echo "lines: $(wc -l <"$tmp/lines") last: $(tail -n 1 "$tmp/lines")"

# A coprocess-like exchange through a FIFO between two background jobs.
mkfifo "$tmp/fifo"
(for i in $(seq 1 100); do echo "msg $i"; done >"$tmp/fifo") &
received=$(wc -l <"$tmp/fifo")
wait
echo "fifo: $received"
echo "done"
