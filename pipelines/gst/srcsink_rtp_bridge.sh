#!/usr/bin/env bash
# A live RTP conference bridge on loopback made of prosodysink/prosodysrc
# pairs, no prosodyconfmix: per caller the bridge process has
#   udpsrc ! rtpjitterbuffer ! rtppcmudepay ! mulawdec ! prosodysink party=pN conference=room
#   prosodysrc party=pN conference=room ! mulawenc ! rtppcmupay ! udpsink
# all on the shared module "bridge" (real time). Three phones, each its own
# gst-launch-1.0 process, send a tone as mu-law RTP and record 3 s of what
# they receive to phoneN.wav.
#
#   srcsink_rtp_bridge.sh [OUT_DIR] [--check] [--latency]
#
# --check: every phone hears the two others and not itself (<= -60 dBm0,
#   Goertzel, check_tones.py).
# --latency: then a fourth and fifth party meet on the bridge from one
#   measuring process (bridge_latency.c, built as
#   build/pipelines/gst/bridge_latency): it clicks into one and finds the
#   clicks in what the other receives, on one clock, and prints the
#   mouth-to-ear latency through the bridge.
# Environment: JITTER_MS (the bridge's and phones' rtpjitterbuffer latency,
# default 40), SINK_LATENCY_MS (prosodysink's jitter margin, default 5, its
# default), CLICKS (default 20).
set -euo pipefail
check=no
latency=no
args=()
for a in "$@"; do
  case "$a" in
    --check) check=yes ;;
    --latency) latency=yes ;;
    *) args+=("$a") ;;
  esac
done
source "$(dirname "$0")/env.sh" "${args[@]}"
jitter_ms=${JITTER_MS:-40}
sink_latency_ns=$(( ${SINK_LATENCY_MS:-5} * 1000000 ))
freq=(440 660 990)
parties=3
[ "$latency" = yes ] && parties=5
base=$(( 20000 + (RANDOM % 2000) * 10 ))   # ports base..base+9: caller N sends to base+N, hears on base+5+N
rtp_caps="application/x-rtp,media=audio,clock-rate=8000,encoding-name=PCMU,payload=0"

bridge=""
for ((i = 0; i < parties; i++)); do
  party="module=bridge party=p$i conference=room"
  bridge+=" udpsrc port=$((base + i)) caps=$rtp_caps ! rtpjitterbuffer latency=$jitter_ms ! rtppcmudepay !"
  bridge+=" mulawdec ! prosodysink $party latency=$sink_latency_ns"
  bridge+=" prosodysrc $party ! mulawenc ! rtppcmupay ! udpsink host=127.0.0.1 port=$((base + 5 + i))"
done
gst-launch-1.0 -q $bridge > "$out/bridge.log" 2>&1 &
bridge_pid=$!
pids+=($bridge_pid)
sleep 1

# Each phone sends its tone for 4 s and records 3 s of what it receives (300
# packets of 10 ms), then ends by itself (EOS) and its WAV is complete.
phones=()
for i in 0 1 2; do
  timeout -s KILL 30 gst-launch-1.0 -q \
    audiotestsrc is-live=true freq=${freq[$i]} volume=0.3 samplesperbuffer=80 num-buffers=400 ! \
      audio/x-raw,rate=8000,channels=1 ! mulawenc ! rtppcmupay ! \
      udpsink host=127.0.0.1 port=$((base + i)) \
    udpsrc port=$((base + 5 + i)) caps=$rtp_caps ! identity eos-after=300 ! \
      rtpjitterbuffer latency=$jitter_ms ! rtppcmudepay ! \
      mulawdec ! audioconvert ! wavenc ! filesink location="$out/phone$i.wav" \
    > "$out/phone$i.log" 2>&1 &
  phones+=($!)
done
pids+=("${phones[@]}")
status=0
for p in "${phones[@]}"; do
  wait "$p" || { echo "phone process $p ended with status $?" >&2; status=1; }
done
echo "wrote $out/phone0.wav, phone1.wav, phone2.wav (what each phone heard)"

if [ "$latency" = yes ]; then
  # Parties 3 (clicks) and 4 (listens), both in the measuring process.
  "$build/pipelines/gst/bridge_latency" $((base + 3)) $((base + 5 + 4)) "${CLICKS:-20}" "$jitter_ms" \
    | tee "$out/latency.txt" || status=1
fi
kill "$bridge_pid" 2>/dev/null || true
if ! kill -0 "$bridge_pid" 2>/dev/null && grep -q "ERROR" "$out/bridge.log"; then
  cat "$out/bridge.log" >&2
  status=1
fi

if [ "$check" = yes ]; then
  each_hears_the_others "$out/phone" "${freq[*]}" --from 1.0 --seconds 1.5 --absent-below -60 --absent-windows 5 || status=1
fi
exit $status
