#!/usr/bin/env bash
# One chain per caller, meeting in a conference on a shared module, with no
# prosodyconfmix: each caller's audio goes into prosodysink and what it hears
# comes out of prosodysrc; conference=bridge makes the four parties members
# of one conference, created by the first and deleted with the last.
#
# Files (non-live): drive=stepped, so the module advances when every sink has
# a frame and the result is the same on every run. For live callers (RTP,
# sound cards) leave drive out: the module runs in real time and the srcs
# give their pipeline its clock. callerN.wav holds the three others, never N.
#
#   callers.sh [OUT_DIR] [--check]
set -euo pipefail
check=no
args=()
for a in "$@"; do [ "$a" = "--check" ] && check=yes || args+=("$a"); done
source "$(dirname "$0")/env.sh" "${args[@]}"
# caller N FREQ VOLUME: a tone for 5 s into party N; what party N hears into callerN.wav
caller() {
  local party="module=calls party=caller$1 conference=bridge drive=stepped"
  echo "audiotestsrc freq=$2 volume=$3 samplesperbuffer=80 num-buffers=500 !" \
       "audio/x-raw,format=S16LE,rate=8000,channels=1 ! prosodysink $party" \
       "prosodysrc $party ! wavenc ! filesink location=$out/caller$1.wav"
}
gst-launch-1.0 -q $(caller 0 430 0.25) $(caller 1 770 0.18) $(caller 2 1130 0.13) $(caller 3 1510 0.09)
echo "wrote $out/caller0.wav .. caller3.wav"
if [ "$check" = yes ]; then
  freqs=(430 770 1130 1510)
  for n in 0 1 2 3; do
    others=$(for m in 0 1 2 3; do if [ $m != $n ]; then printf '%s,' ${freqs[$m]}; fi; done)
    python3 "$here/check_tones.py" "$out/caller$n.wav" --hears "${others%,}" --not ${freqs[$n]} \
      --from 1 --seconds 3 --absent-below -60
  done
fi
