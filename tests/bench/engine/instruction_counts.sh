#!/usr/bin/env bash
# Instructions per party per frame in the module's call, for N = 4 ... 10,000
# parties: how the engine's work grows with N, independent of the machine's
# load. Two columns: through host ports (Module::step; the application's
# ring writes and reads are not counted) and through the frame API
# (Module::step_frame, which includes the copy in and the copy out). The
# steady state is isolated by counting two runs (F and 2F frames) and taking
# the difference, so set-up and the first frames cancel.
# Usage: instruction_counts.sh <engine-frames binary>
set -euo pipefail
bin=$1
if ! command -v valgrind >/dev/null; then
  echo "valgrind is not installed: skipping instruction counts (apt-get install valgrind)"
  exit 77
fi
count() {  # N FRAMES RATE MODE -> instructions in the module's call
  local fn='prosody::detail::Engine::step(unsigned int)'
  [ "$4" = frames ] && fn='prosody::detail::Engine::step_frame*'
  valgrind --tool=callgrind --callgrind-out-file=/dev/null --toggle-collect="$fn" "$bin" "$1" "$2" "$3" "$4" 2>&1 |
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
printf '%8s %6s %22s %22s\n' parties rate 'host: instr/party-frame' 'frames: instr/party-frame'
for rate in 8000 48000; do
  for n in 4 64 1000 10000; do
    f=10
    [ "$n" -le 64 ] && f=200
    row=()
    for mode in host frames; do
      a=$(count "$n" "$f" "$rate" "$mode")
      b=$(count "$n" $((2 * f)) "$rate" "$mode")
      row+=("$(echo "($b - $a) / ($f * $n)" | bc -l)")
    done
    printf '%8d %6d %22.0f %22.0f\n' "$n" "$rate" "${row[0]}" "${row[1]}"
  done
done
