// bench_recorder - CPU cost of N concurrent call recordings to WAV from one
// process (issue 12), against the stock construction, in one run. Each call
// is an audiotestsrc sine, 8 kHz mono S16LE, 20 ms buffers, non-live (so
// the figure is CPU per second of audio, not a pace):
//
//  ours       `... ! prosodyrecorder location=...` (16-bit WAV, the header
//             made true every 50 ms: crash-safe);
//  ours-1s    the same with sync-interval=1 s;
//  stock      `... ! wavenc ! filesink location=...` (not crash-safe: a
//             killed process leaves a header that claims about 37 hours,
//             and filesink's buffer unwritten);
//  floor      `... ! fakesink` (the sources alone).
//
// The figure is process CPU time (all threads) from PLAYING to EOS. The
// constructions run ROUNDS times each, interleaved (a, b, c, d, a, ...);
// the table gives the median and range, and the cost per call above the
// floor, in microseconds of CPU per second of audio.
//
// Usage: bench_recorder [seconds=5] [calls=1000] [rounds=3] [dir=$TMPDIR or /tmp]
// (GST_PLUGIN_PATH must hold the built plugin, as the meson benchmark sets it).
#include <gst/gst.h>
#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "gst_bench_run.hpp"

namespace {

using benchrun::run;
using benchrun::Stats;
using benchrun::summarise;

std::string calls(int n, int buffers, const std::string& dir, const std::string& tag, const std::string& sink) {
  std::string d;
  for (int i = 0; i < n; ++i) {
    char src[256];
    std::snprintf(src, sizeof src,
                  "audiotestsrc freq=%d volume=0.2 samplesperbuffer=160 num-buffers=%d ! "
                  "audio/x-raw,format=S16LE,rate=8000,channels=1 ! ",
                  200 + 37 * (i % 80), buffers);
    std::string s = sink;
    const auto at = s.find("@FILE@");
    if (at != std::string::npos) s.replace(at, 6, dir + "/" + tag + "-" + std::to_string(i) + ".wav");
    d += src + s + " ";
  }
  return d;
}

}  // namespace

int main(int argc, char** argv) {
  gst_init(&argc, &argv);
  const double seconds = argc > 1 ? std::atof(argv[1]) : 5.0;
  const int n = argc > 2 ? std::atoi(argv[2]) : 1000;
  const int rounds = argc > 3 ? std::max(1, std::atoi(argv[3])) : 3;
  const char* tmp = std::getenv("TMPDIR");
  const std::string base = argc > 4 ? argv[4] : (tmp ? tmp : "/tmp");
  const int buffers = int(seconds * 50);
  if (!gst_element_factory_find("prosodyrecorder")) {
    std::fprintf(stderr, "prosodyrecorder not found: set GST_PLUGIN_PATH to <build>/gst\n");
    return 2;
  }
  rlimit lim;  // a file per call
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
  char templ[512];
  std::snprintf(templ, sizeof templ, "%s/bench-recorder-XXXXXX", base.c_str());
  if (!mkdtemp(templ)) {
    std::perror("mkdtemp");
    return 2;
  }
  const std::string dir = templ;
  struct Construction {
    const char* name;
    std::string sink;
  };
  const std::vector<Construction> constructions = {
      {"ours", "prosodyrecorder location=@FILE@"},
      {"ours-1s", "prosodyrecorder sync-interval=1000000000 location=@FILE@"},
      {"stock", "wavenc ! filesink location=@FILE@"},
      {"floor", "fakesink sync=false async=false"},
  };
  std::vector<std::vector<double>> cpu(constructions.size());
  bool ok = true;
  for (int r = 0; r < rounds; ++r)
    for (std::size_t c = 0; c < constructions.size(); ++c) {
      const double t = run(calls(n, buffers, dir, constructions[c].name, constructions[c].sink));
      ok &= t >= 0;
      cpu[c].push_back(t);
      (void)!std::system(("rm -f '" + dir + "'/*.wav").c_str());
    }
  (void)!std::system(("rm -rf '" + dir + "'").c_str());
  if (!ok) return 1;
  std::printf(
      "%d calls, %.0f s of 8 kHz mono S16LE each, 20 ms buffers, non-live, files in %s; process CPU s, median "
      "(range) of %d interleaved rounds\n\n",
      n, seconds, base.c_str(), rounds);
  std::printf("| construction | CPU s | CPU per call above the floor (us per s of audio) |\n|---|---|---|\n");
  const Stats fl = summarise(cpu.back());
  for (std::size_t c = 0; c < constructions.size(); ++c) {
    const Stats s = summarise(cpu[c]);
    const double per_call = (s.median - fl.median) / n / seconds * 1e6;
    std::printf("| %s | %.2f (%.2f-%.2f) | %s |\n", constructions[c].name, s.median, s.low, s.high,
                c + 1 == constructions.size() ? "-" : (std::to_string(int(per_call + 0.5))).c_str());
  }
  const double ours = summarise(cpu[0]).median - fl.median, stock = summarise(cpu[2]).median - fl.median;
  std::printf("\nours / stock (above the floor): %.2f\n", ours / stock);
  return 0;
}
