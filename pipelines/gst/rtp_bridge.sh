#!/usr/bin/env bash
# A live RTP conference bridge on loopback: one bridge pipeline
# (prosodyconfmix behind an rtpjitterbuffer per caller) and three simulated
# phones, each a separate gst-launch-1.0 process that sends a tone as
# mu-law RTP and records 3 s of what it receives to phoneN.wav.
#
#   rtp_bridge.sh [OUT_DIR] [--check]
#
# --check: verify with check_tones.py that every phone hears the two others
# and not itself (the automated test does this).
set -euo pipefail
check=no
args=()
for a in "$@"; do [ "$a" = "--check" ] && check=yes || args+=("$a"); done
source "$(dirname "$0")/env.sh" "${args[@]}"
seconds=${SECONDS_TO_RUN:-4}
freq=(440 660 990)
base=$(( 20000 + (RANDOM % 2000) * 10 ))   # ports base..base+5
rtp_caps="application/x-rtp,media=audio,clock-rate=8000,encoding-name=PCMU,payload=0"

bridge="prosodyconfmix name=m rate=8000 latency=20000000"
for i in 0 1 2; do
  bridge+=" udpsrc port=$((base + i)) caps=$rtp_caps ! rtpjitterbuffer latency=60 ! rtppcmudepay !"
  bridge+=" mulawdec ! audioconvert ! audioresample ! m.sink_$i"
  bridge+=" m.src_$i ! audioconvert ! mulawenc ! rtppcmupay ! udpsink host=127.0.0.1 port=$((base + 3 + i))"
done
gst-launch-1.0 -q $bridge > "$out/bridge.log" 2>&1 &
pids+=($!)
sleep 1

# Each phone sends its tone for 4 s and records 3 s of what it receives (300
# packets of 10 ms), then ends by itself (EOS) and its WAV is complete.
for i in 0 1 2; do
  timeout -s KILL 30 gst-launch-1.0 -q \
    audiotestsrc is-live=true freq=${freq[$i]} volume=0.3 samplesperbuffer=160 \
      num-buffers=$(( seconds * 50 )) ! \
      audio/x-raw,rate=8000,channels=1 ! mulawenc ! rtppcmupay ! \
      udpsink host=127.0.0.1 port=$((base + i)) \
    udpsrc port=$((base + 3 + i)) caps=$rtp_caps ! identity eos-after=300 ! \
      rtpjitterbuffer latency=60 ! rtppcmudepay ! \
      mulawdec ! audioconvert ! wavenc ! filesink location="$out/phone$i.wav" \
    > "$out/phone$i.log" 2>&1 &
  pids+=($!)
done
for p in "${pids[@]:1}"; do
  wait "$p" || echo "phone process $p ended with status $?" >> "$out/phones.log"
done
echo "wrote $out/phone0.wav, phone1.wav, phone2.wav (what each phone heard)"

status=0
if [ "$check" = yes ]; then
  each_hears_the_others "$out/phone" "${freq[*]}" --from 1.0 --seconds 1.5 || status=1
fi
exit $status
