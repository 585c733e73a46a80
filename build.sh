#!/usr/bin/env bash
# build.sh - set up a Debian 12 machine (as root) and build, then either run
# the demo conference or the whole test suite.
#
#   ./build.sh demo    set up, build, run the demo (WAV files in demo-out/)
#   ./build.sh test    set up, build, run every test: the normal build, then
#                      the unit, tone and element tests under ASan+UBSan, then the
#                      threaded tests under ThreadSanitizer; the
#                      last line is the totals: "N passed, N failed[, N skipped]"
#   ./build.sh setup   only install the packages
#   ./build.sh bench   set up, build (release), run every benchmark
#
# Safe to run again: apt-get only installs what is missing, meson reuses its
# build directories.
set -euo pipefail
cd "$(dirname "$0")"

PACKAGES=(
  g++ gcc pkg-config meson ninja-build git
  libglib2.0-dev
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libgstreamer-plugins-bad1.0-dev
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
  libsndfile1-dev libflac-dev libsamplerate0-dev libgtest-dev libgmock-dev libbenchmark-dev
  python3 python3-gi python3-gst-1.0
  # Test-time only: spandsp is the oracle peer for G.711 and DTMF; the
  # Asterisk prompts and music on hold are real speech and music for talk-off
  # tests and the demo.
  libspandsp-dev asterisk-core-sounds-en-wav asterisk-moh-opsound-wav
  # sox reads back the crash-safe recordings (another reader than libsndfile).
  sox
  # ip netns: the cascade across hosts (pipelines/cascade) runs its nodes in
  # network namespaces joined by veth pairs.
  iproute2
)

log() { printf '\n==> %s\n' "$*"; }

setup() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "build.sh: run as root (it installs Debian packages with apt-get)" >&2
    exit 1
  fi
  log "Installing packages (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null
}

# configure DIR [meson options...]: set up DIR once, reconfigure it if it exists.
configure() {
  local dir=$1
  shift
  if [ -f "$dir/build.ninja" ]; then
    meson setup --reconfigure "$dir" "$@" >/dev/null
  else
    meson setup "$dir" "$@" >/dev/null
  fi
}

build() {
  log "Building (build/)"
  configure build -Dbuildtype=debugoptimized
  ninja -C build
}

# Runs meson test in a build directory; the totals are counted afterwards
# from its logs, in test cases (tests/test_totals.py).
TESTED_DIRS=()
run_tests() {
  local dir=$1
  shift
  rm -f "$dir"/*.xml  # GoogleTest results of an earlier run
  meson test -C "$dir" --print-errorlogs "$@" || true
  TESTED_DIRS+=("$dir")
}

# The closing line: "N passed, N failed[, N skipped]", counting the cases
# inside each GoogleTest program, skips as skips.
totals() {
  python3 tests/test_totals.py "${TESTED_DIRS[@]}"
}

cmd=${1:-}
case "$cmd" in
  setup)
    setup
    ;;
  demo)
    setup
    build
    log "Demo: a conference on the built-in software processor"
    ./build/pipelines/demo/prosody_demo demo-out
    ;;
  test)
    setup
    build
    # What CI installs for the tests (spandsp, the speech and music corpora)
    # must be there: a test that would skip for want of it fails instead.
    export PROSODY_REQUIRE_TEST_DATA=1
    log "Tests (normal build)"
    run_tests build
    log "Unit and element tests under AddressSanitizer + UndefinedBehaviorSanitizer (build-asan/)"
    configure build-asan -Dbuildtype=debugoptimized -Dgst=enabled -Db_sanitize=address,undefined -Db_lundef=false -Dbenchmarks=disabled
    ninja -C build-asan
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:fast_unwind_on_malloc=0 \
      LSAN_OPTIONS=suppressions=$PWD/tests/sanitizers/lsan.supp:print_suppressions=0 \
      UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      run_tests build-asan --suite unit --suite tones --suite gst --no-suite plugin --timeout-multiplier 3
    # ThreadSanitizer cannot see GLib's futex-based locks: the elements and
    # the tests mark GStreamer's hand-overs (gst/prosodytsan.h), GLib's
    # slice allocator is off (G_SLICE, set by the tests), and races inside
    # GLib/GStreamer themselves are suppressed (tests/sanitizers/tsan.supp).
    log "Threaded tests (library and elements) under ThreadSanitizer (build-tsan/)"
    configure build-tsan -Dbuildtype=debugoptimized -Dgst=enabled -Db_sanitize=thread -Db_lundef=false -Dbenchmarks=disabled
    ninja -C build-tsan
    TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/tests/sanitizers/tsan.supp \
      run_tests build-tsan --suite threads --no-suite plugin --timeout-multiplier 4
    log "Totals"
    totals
    ;;
  bench)
    setup
    log "Building for benchmarks (build-release/)"
    configure build-release -Dbuildtype=release
    ninja -C build-release
    meson test -C build-release --benchmark --print-errorlogs -v
    ;;
  *)
    sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
