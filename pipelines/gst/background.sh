#!/usr/bin/env bash
# Background music: sink_5 with no src_5 is speak-only, heard by everyone;
# gate=auto leaves it ungated (steady music is not noise). 12 dB under.
set -euo pipefail
source "$(dirname "$0")/env.sh"
gst-launch-1.0 -q prosodyconfmix name=m rate=8000 sink_5::volume=-12 \
  $(talker 0 430 0.25) $(talker 1 770 0.18) \
  audiotestsrc wave=ticks freq=330 volume=0.5 samplesperbuffer=160 num-buffers=250 ! \
    audio/x-raw,format=S16LE,rate=8000,channels=1 ! m.sink_5 \
  $(listener 0 caller0_with_music) $(listener 1 caller1_with_music)
echo "wrote $out/caller0_with_music.wav, $out/caller1_with_music.wav"
