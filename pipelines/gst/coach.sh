#!/usr/bin/env bash
# Coach: party 3 is heard only by its trainee, party 1 (heard-by="1"), and
# hears everyone. Parties 0 and 2 never hear the coach.
set -euo pipefail
source "$(dirname "$0")/env.sh"
gst-launch-1.0 -q prosodyconfmix name=m rate=8000 sink_3::heard-by="1" \
  $(talker 0 430 0.25) $(talker 1 770 0.18) $(talker 2 1130 0.13) $(talker 3 1510 0.2) \
  $(listener 0 party0) $(listener 1 trainee) $(listener 2 party2) $(listener 3 coach)
echo "wrote $out/trainee.wav (hears the coach), $out/party0.wav, $out/party2.wav, $out/coach.wav"
