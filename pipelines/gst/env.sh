# Sourced by the scripts here: finds the built plugin and an output folder.
#   PROSODY_BUILD_DIR  meson build dir holding gst/libgstprosody.so (default: build,
#                      relative to the repository root)
#   $1                 output folder (default: ./prosody-out); each script writes
#                      into its own subfolder of it, named after the script
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="${PROSODY_BUILD_DIR:-build}"
case "$build" in /*) ;; *) build="$root/$build" ;; esac
if [ ! -e "$build/gst/libgstprosody.so" ]; then
  echo "no $build/gst/libgstprosody.so: build first (meson setup $build && ninja -C $build)" >&2
  exit 2
fi
export GST_PLUGIN_PATH="$build/gst${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
out="${1:-prosody-out}/$(basename "$0" .sh)"
mkdir -p "$out"
# Processes the script starts in the background (pids+=($!)): killed when
# it exits, however it exits.
pids=()
kill_started() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap kill_started EXIT
# One 8 kHz talker: audiotestsrc at FREQ Hz for SECONDS s into m.sink_N.
# talker N FREQ VOLUME [SECONDS]
talker() {
  echo "audiotestsrc freq=$2 volume=$3 samplesperbuffer=160 num-buffers=$(( ${4:-5} * 50 )) !" \
       "audio/x-raw,format=S16LE,rate=8000,channels=1 ! m.sink_$1"
}
# What party N hears, into $out/NAME.wav: listener N NAME
listener() {
  echo "m.src_$1 ! audioconvert ! wavenc ! filesink location=$out/$2.wav"
}
# Whether each of PREFIX0.wav, PREFIX1.wav, ... (talker N sent FREQS[N])
# holds every other talker's tone and not its own, by check_tones.py (OPTIONS
# go to it): status 1 if one does not.
#   each_hears_the_others PREFIX "FREQ0 FREQ1 ..." [OPTIONS]
each_hears_the_others() {
  local prefix=$1 result=0 i j others
  local -a f=($2)
  shift 2
  for i in "${!f[@]}"; do
    others=""
    for j in "${!f[@]}"; do [ "$j" != "$i" ] && others+="${f[$j]},"; done
    "$here/check_tones.py" "$prefix$i.wav" --hears "$others" --not "${f[$i]}" "$@" || result=1
  done
  return $result
}
