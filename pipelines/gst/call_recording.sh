#!/usr/bin/env bash
# A two-party call (A = party 0 at 500 Hz, B = party 1 at 700 Hz) recorded
# three ways, each by prosodyrecorder (crash-safe WAV):
#   call_mono.wav    mixed mono: a spare output that hears both legs
#                    (listen-only party 7);
#   call_stereo.wav  one leg per channel, the primitive way: listen-only
#                    parties 8 and 9 each hear one leg (heard-by), into the
#                    recorder's sink_0 (left) and sink_1 (right);
#   call_legs.wav    one leg per channel, straight from each leg's input
#                    (tee before the conference), so nothing of the mix
#                    touches it.
#
#   call_recording.sh [OUT_DIR] [--check]
set -euo pipefail
check=no
args=()
for a in "$@"; do [ "$a" = "--check" ] && check=yes || args+=("$a"); done
source "$(dirname "$0")/env.sh" "${args[@]}"
leg() {  # leg N FREQ VOLUME: the party's source, teed to the conference and to legs.sink_N
  echo "audiotestsrc freq=$2 volume=$3 samplesperbuffer=160 num-buffers=250 !" \
       "audio/x-raw,format=S16LE,rate=8000,channels=1 ! tee name=t$1 ! queue ! m.sink_$1" \
       "t$1. ! queue ! legs.sink_$1"
}
gst-launch-1.0 -q prosodyconfmix name=m rate=8000 \
  sink_0::heard-by="1,7,8" sink_1::heard-by="0,7,9" \
  $(leg 0 500 0.3) $(leg 1 700 0.2) \
  m.src_0 ! fakesink m.src_1 ! fakesink \
  m.src_7 ! prosodyrecorder location="$out/call_mono.wav" \
  m.src_8 ! stereo.sink_0 m.src_9 ! stereo.sink_1 prosodyrecorder name=stereo location="$out/call_stereo.wav" \
  prosodyrecorder name=legs location="$out/call_legs.wav"
echo "wrote $out/call_mono.wav, $out/call_stereo.wav (left A, right B), $out/call_legs.wav (left A, right B)"
if [ "$check" = yes ]; then
  c="python3 $here/check_tones.py --from 1 --seconds 3"
  $c "$out/call_mono.wav" --hears 500,700
  for f in call_stereo call_legs; do
    # The other leg at least 60 dB under the leg (A is at -7.3 dBm0, B at -10.8).
    $c "$out/$f.wav" --channel 0 --hears 500 --not 700 --absent-below -71
    $c "$out/$f.wav" --channel 1 --hears 700 --not 500 --absent-below -68
  done
fi
