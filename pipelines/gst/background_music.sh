#!/usr/bin/env bash
# Background music from a file, looping gaplessly under a conference, two
# ways:
#   stock elements: multifilesrc loop=true reads the music as raw PCM (one
#     buffer per pass, byte after byte, so the loop has no gap) into a
#     speak-only party (sink_5, no src_5) 12 dB under two callers;
#     what caller 0 hears goes to music_stock.wav.
#   the C API (build/pipelines/capi/background_music): the FILE helpers
#     replay the file (prosody_sw_file_open, loop set) into a party heard
#     by everyone; party A's output is recorded to music_capi.wav.
# MUSIC=FILE picks the music (any file libsndfile reads: the C API replay
# resamples it; for the stock pipeline it is decoded to 8 kHz raw first).
# Without it, and for --check, the music is a 300 Hz tone of 0.75 s.
#
#   background_music.sh [OUT_DIR] [--check]
set -euo pipefail
check=no
args=()
for a in "$@"; do [ "$a" = "--check" ] && check=yes || args+=("$a"); done
source "$(dirname "$0")/env.sh" "${args[@]}"
music="${MUSIC:-}"
if [ -z "$music" ] || [ "$check" = yes ]; then
  music="$out/music.wav"
  gst-launch-1.0 -q audiotestsrc freq=300 volume=0.5 samplesperbuffer=600 num-buffers=10 ! \
    audio/x-raw,format=S16LE,rate=8000,channels=1 ! wavenc ! filesink location="$music"
fi
# Stock elements: the music as raw 8 kHz PCM, looped by multifilesrc.
gst-launch-1.0 -q filesrc location="$music" ! decodebin ! audioconvert ! audioresample ! \
  audio/x-raw,format=S16LE,rate=8000,channels=1 ! filesink location="$out/music.raw"
passes=$(( 5 * 8000 * 2 / $(stat -c %s "$out/music.raw") + 1 ))
gst-launch-1.0 -q prosodyconfmix name=m rate=8000 sink_5::volume=-12 \
  $(talker 0 500 0.3) $(talker 1 700 0.2) \
  multifilesrc location="$out/music.raw" loop=true num-buffers=$passes ! \
    rawaudioparse use-sink-caps=false format=pcm pcm-format=s16le sample-rate=8000 num-channels=1 ! m.sink_5 \
  m.src_0 ! prosodyrecorder location="$out/music_stock.wav" m.src_1 ! fakesink
# The C API.
"$build/pipelines/capi/background_music" "$music" "$out/music_capi.wav" 5
echo "wrote $out/music_stock.wav, $out/music_capi.wav"
if [ "$check" = yes ]; then
  for f in music_stock music_capi; do
    # Caller B and the music (after several passes of the 0.75 s file), not A itself.
    python3 "$here/check_tones.py" "$out/$f.wav" --from 3 --seconds 1.5 --hears 700,300 --not 500
  done
fi
