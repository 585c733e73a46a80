#!/usr/bin/env bash
# Four parties (tones 430, 770, 1130 and 1510 Hz) in one conference; each
# hears the three others, never itself: partyN.wav.
set -euo pipefail
source "$(dirname "$0")/env.sh"
gst-launch-1.0 -q prosodyconfmix name=m rate=8000 \
  $(talker 0 430 0.25) $(talker 1 770 0.18) $(talker 2 1130 0.13) $(talker 3 1510 0.09) \
  $(listener 0 party0) $(listener 1 party1) $(listener 2 party2) $(listener 3 party3)
echo "wrote $out/party0.wav .. party3.wav"
