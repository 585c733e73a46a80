#!/usr/bin/env bash
# A two-party call (A = party 0, B = party 1) recorded twice: call_stereo.wav
# with A on the left and B on the right, sample-aligned (listen-only parties
# 8 and 9 that hear one talker each, through heard-by), and call_mono.wav
# (party 7 hears both).
set -euo pipefail
source "$(dirname "$0")/env.sh"
gst-launch-1.0 -q prosodyconfmix name=m rate=8000 \
  sink_0::heard-by="1,7,8" sink_1::heard-by="0,7,9" \
  $(talker 0 500 0.3) $(talker 1 700 0.2) \
  m.src_0 ! fakesink m.src_1 ! fakesink \
  interleave name=i ! audioconvert ! audio/x-raw,format=S16LE,channels=2 ! wavenc ! \
    filesink location="$out/call_stereo.wav" \
  m.src_8 ! audio/x-raw,format=F32LE ! i.sink_0 \
  m.src_9 ! audio/x-raw,format=F32LE ! i.sink_1 \
  $(listener 7 call_mono)
echo "wrote $out/call_stereo.wav (left A, right B), $out/call_mono.wav"
