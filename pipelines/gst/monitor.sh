#!/usr/bin/env bash
# A monitor (src_9 with no sink_9): hears every party, heard by nobody. The
# whole conference recorded to monitor.wav.
set -euo pipefail
source "$(dirname "$0")/env.sh"
gst-launch-1.0 -q prosodyconfmix name=m rate=8000 \
  $(talker 0 430 0.25) $(talker 1 770 0.18) $(talker 2 1130 0.13) \
  m.src_0 ! fakesink m.src_1 ! fakesink m.src_2 ! fakesink \
  $(listener 9 monitor)
echo "wrote $out/monitor.wav"
