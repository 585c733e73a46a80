#!/usr/bin/env bash
# Party 1 muted (nobody hears it, it still hears), party 2 deaf (hears
# silence, is still heard).
set -euo pipefail
source "$(dirname "$0")/env.sh"
gst-launch-1.0 -q prosodyconfmix name=m rate=8000 sink_1::mute=true src_2::deaf=true \
  $(talker 0 430 0.25) $(talker 1 770 0.18) $(talker 2 1130 0.13) \
  $(listener 0 party0) $(listener 1 party1_muted) $(listener 2 party2_deaf)
echo "wrote $out/party0.wav (no 770 Hz), $out/party1_muted.wav, $out/party2_deaf.wav (silent)"
