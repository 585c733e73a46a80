#!/usr/bin/env bash
# 10,000 parties across 4 processes on loopback (issue 13): four cascade_node
# processes of 2,500 parties each (4 talking tones in syllables, the rest line
# noise at -63 dBm0), one real-time module each, linked by L16 RTP through
# prosodysrc/prosodysink (the broadcast model). Reports who hears whom, the
# underruns and concealed frames at every link over the measured part of the
# run, and each process's CPU share (/proc/<pid>/stat): the whole process,
# its main thread (the synthetic parties' host-port I/O) and its busiest
# other thread (the module's real-time thread; headroom = 1 - its share).
# Fails unless every link had no underrun and every talker is heard within
# 1.5 dB.
#
#   tests/bench/cascade/cascade_10k.sh [BUILD_DIR] [SECONDS] [cascade.py options...]
#   (default: build, 60; e.g. --sink-latency-ms 100 for a larger jitter margin)
#
# Not a CI test: a minute of four real-time processes. Re-run on a quiet
# machine for the figures in docs/scale-out.md.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
seconds=${2:-60}
shift $(( $# < 2 ? $# : 2 ))
export GST_PLUGIN_PATH="$build/gst${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
export CASCADE_NODE="$build/pipelines/cascade/cascade_node"
exec /usr/bin/python3 "$root/pipelines/cascade/cascade.py" --nodes 4 --parties 2500 --talkers 4 --listeners 1 \
  --warmup 5 --seconds "$((seconds + 5))" --cpu --max-underruns 0 --bound-db 1.5 --check "$@"
