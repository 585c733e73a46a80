#!/usr/bin/env bash
# Instructions per party per frame in Module::step, for N = 4 ... 10,000
# parties: how the engine's work grows with N, independent of the machine's
# load. The steady state is isolated by counting two runs (F and 2F frames)
# and taking the difference, so set-up and the first frames cancel.
# Usage: instruction_counts.sh <engine-frames binary>
set -euo pipefail
bin=$1
if ! command -v valgrind >/dev/null; then
  echo "valgrind is not installed: skipping instruction counts (apt-get install valgrind)"
  exit 77
fi
count() {  # N FRAMES RATE -> instructions in Module::step
  valgrind --tool=callgrind --callgrind-out-file=/dev/null \
    --toggle-collect='prosody::detail::Engine::step(unsigned int)' "$bin" "$1" "$2" "$3" 2>&1 |
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
printf '%8s %6s %14s\n' parties rate instr/party-frame
for rate in 8000 48000; do
  for n in 4 64 1000 10000; do
    f=10
    [ "$n" -le 64 ] && f=200
    a=$(count "$n" "$f" "$rate")
    b=$(count "$n" $((2 * f)) "$rate")
    printf '%8d %6d %14.0f\n' "$n" "$rate" "$(echo "($b - $a) / ($f * $n)" | bc -l)"
  done
done
