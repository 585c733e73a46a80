#!/usr/bin/env bash
# A whole conference recorded: a monitor (src_9 with no sink_9) hears every
# party and is heard by nobody; prosodyrecorder writes it crash-safe to
# conference.wav (a SIGKILL loses at most sync-interval, 50 ms).
#
#   record_conference.sh [OUT_DIR] [--check]
set -euo pipefail
check=no
args=()
for a in "$@"; do [ "$a" = "--check" ] && check=yes || args+=("$a"); done
source "$(dirname "$0")/env.sh" "${args[@]}"
gst-launch-1.0 -q prosodyconfmix name=m rate=8000 \
  $(talker 0 430 0.25) $(talker 1 770 0.18) $(talker 2 1130 0.13) \
  m.src_0 ! fakesink m.src_1 ! fakesink m.src_2 ! fakesink \
  m.src_9 ! prosodyrecorder location="$out/conference.wav"
echo "wrote $out/conference.wav"
if [ "$check" = yes ]; then
  python3 "$here/check_tones.py" "$out/conference.wav" --hears 430,770,1130 --from 1 --seconds 3
fi
