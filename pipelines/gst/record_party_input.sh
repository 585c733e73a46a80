#!/usr/bin/env bash
# A party's input as the conference receives it, recorded with its DTMF
# removed. Party 0 talks (500 Hz) and presses '5' (770 + 1336 Hz) from 1 s
# to 2 s; its pad detects and suppresses DTMF (sink_0::detect-tones=dtmf),
# so the others never hear the digit, and the recording branch runs the
# same detector and suppressor (prosodytonesuppress, 16 ms look-ahead: from
# the digit's first sample) before prosodyrecorder.
#
#   record_party_input.sh [OUT_DIR] [--check]
set -euo pipefail
check=no
args=()
for a in "$@"; do [ "$a" = "--check" ] && check=yes || args+=("$a"); done
source "$(dirname "$0")/env.sh" "${args[@]}"
digit() {  # digit FREQ: one of the digit's tones, 1 s long, starting at 1 s
  echo "audiotestsrc freq=$1 volume=0.25 samplesperbuffer=160 num-buffers=50 timestamp-offset=1000000000 !" \
       "audio/x-raw,format=S16LE,rate=8000,channels=1 ! p0."
}
gst-launch-1.0 -q prosodyconfmix name=m rate=8000 sink_0::detect-tones=dtmf \
  audiomixer name=p0 ! audio/x-raw,format=S16LE,rate=8000,channels=1 ! tee name=t ! queue ! m.sink_0 \
  audiotestsrc freq=500 volume=0.1 samplesperbuffer=160 num-buffers=150 ! \
    audio/x-raw,format=S16LE,rate=8000,channels=1 ! p0. \
  $(digit 770) $(digit 1336) \
  t. ! queue ! prosodytonesuppress lookahead=16000000 ! prosodyrecorder location="$out/party0_input.wav" \
  $(talker 1 700 0.2 3) m.src_0 ! fakesink \
  m.src_1 ! prosodyrecorder location="$out/party1_hears.wav"
echo "wrote $out/party0_input.wav (party 0's input, DTMF removed), $out/party1_hears.wav"
if [ "$check" = yes ]; then
  c="python3 $here/check_tones.py"
  $c "$out/party0_input.wav" --from 0.2 --seconds 0.7 --hears 500
  # The digit (about -8 dBm0 a tone) at least 40 dB down while it lasts.
  $c "$out/party0_input.wav" --from 1.1 --seconds 0.8 --not 770,1336 --absent-below -48
  $c "$out/party1_hears.wav" --from 1.1 --seconds 0.8 --not 770,1336 --absent-below -48
fi
