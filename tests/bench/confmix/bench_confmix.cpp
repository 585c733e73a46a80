// bench_confmix - CPU cost of an N-party conference in GStreamer: every party
// hears every other party (mix-minus). The same inputs for every
// construction, in one run: N audiotestsrc sines, 8 kHz mono F32LE (so that
// no construction clips), 20 ms buffers, non-live.
//
//  ours       prosodyconfmix (frame-duration 20 ms): N sink pads, N src pads,
//             each src pad straight into a fakesink;
//  ours+q     the same with a queue after every src pad (what a user adds
//             after a demuxer or a tee);
//  stock-min  the best stock construction a competent GStreamer user builds:
//             one audiomixer of all N parties (the full mix, teed), and per
//             listener a 2-input audiomixer of the full mix and the
//             listener's own signal through audioamplify amplification=-1;
//             queues after every tee branch. O(N) elements, 3N+ queues;
//  stock-n2   the naive construction: N audiomixers, each fed the N-1 other
//             sources through a tee and a queue per branch (N(N-1) queues);
//             only up to N = 32;
//  floor      N plain `audiotestsrc ! fakesink` streams, the same buffers.
//
// The figure is process CPU time (all threads, CLOCK_PROCESS_CPUTIME_ID)
// from PLAYING to EOS. Each construction runs ROUNDS times, interleaved with
// the others (a, b, c, a, b, c, ...); the table gives the median and the
// range of each, and ratios of medians.
//
// Usage: bench_confmix [seconds=10] [big_n=1000] [rounds=3] [stock_min_max_n=64]
// (the stock mix-minus at N = 1,000 costs about 110 CPU seconds per second of
// audio here: opt in with stock_min_max_n=1000 and a short duration).
// (GST_PLUGIN_PATH must hold the built plugin, as the meson benchmark sets it).
#include <gst/gst.h>
#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "gst_bench_run.hpp"

namespace {

using benchrun::run;
using benchrun::Stats;
using benchrun::summarise;

constexpr int kRate = 8000;
constexpr int kSamplesPerBuffer = 160;  // 20 ms
const char* const kCaps = "audio/x-raw,format=F32LE,rate=8000,channels=1";
const char* const kSink = "fakesink sync=false async=false";

std::string source(int i, int buffers) {
  char s[300];
  std::snprintf(s, sizeof s, "audiotestsrc freq=%d volume=0.1 samplesperbuffer=%d num-buffers=%d ! %s",
                200 + 37 * (i % 80), kSamplesPerBuffer, buffers, kCaps);
  return s;
}

std::string ours(int n, int buffers, bool output_queues) {
  std::string d = "prosodyconfmix name=m rate=8000 frame-duration=20000000 ";
  if (const char* extra = g_getenv("BENCH_CONFMIX_PROPERTIES")) d += std::string(extra) + " ";
  for (int i = 0; i < n; ++i) {
    const std::string k = std::to_string(i);
    d += source(i, buffers) + " ! m.sink_" + k + " ";
    d += "m.src_" + k + (output_queues ? " ! queue ! " : " ! ") + kSink + " ";
  }
  return d;
}

std::string stock_mix_minus(int n, int buffers) {
  std::string d = "audiomixer name=all output-buffer-duration=20000000 ! " + std::string(kCaps) + " ! tee name=full ";
  for (int i = 0; i < n; ++i) {
    const std::string k = std::to_string(i);
    d += "audiomixer name=mix" + k + " output-buffer-duration=20000000 ! " + kSink + " ";
    d += source(i, buffers) + " ! tee name=t" + k + " ";
    d += "t" + k + ". ! queue ! all. ";
    d += "t" + k + ". ! queue ! audioamplify amplification=-1 ! mix" + k + ". ";
    d += "full. ! queue ! mix" + k + ". ";
  }
  return d;
}

std::string stock_n_squared(int n, int buffers) {
  std::string d;
  for (int j = 0; j < n; ++j)
    d += "audiomixer name=mix" + std::to_string(j) + " output-buffer-duration=20000000 ! " + kSink + " ";
  for (int i = 0; i < n; ++i) {
    d += source(i, buffers) + " ! tee name=t" + std::to_string(i) + " ";
    for (int j = 0; j < n; ++j)
      if (j != i) d += "t" + std::to_string(i) + ". ! queue ! mix" + std::to_string(j) + ". ";
  }
  return d;
}

std::string floor_streams(int n, int buffers) {
  std::string d;
  for (int i = 0; i < n; ++i) d += source(i, buffers) + " ! " + kSink + " ";
  return d;
}

struct Construction {
  const char* name;
  std::function<std::string(int, int)> pipeline;
  int max_n;
};

}  // namespace

int main(int argc, char** argv) {
  gst_init(&argc, &argv);
  const double seconds = argc > 1 ? std::atof(argv[1]) : 10.0;
  const int big_n = argc > 2 ? std::atoi(argv[2]) : 1000;
  const int rounds = argc > 3 ? std::max(1, std::atoi(argv[3])) : 3;
  const int stock_min_max_n = argc > 4 ? std::atoi(argv[4]) : 64;
  const int buffers = int(seconds * kRate / kSamplesPerBuffer);
  if (!gst_element_factory_find("prosodyconfmix")) {
    std::fprintf(stderr, "prosodyconfmix not found: set GST_PLUGIN_PATH to <build>/gst\n");
    return 2;
  }
  // Thousands of queue threads and pipes at N = 1000.
  rlimit lim;
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
  const std::vector<Construction> constructions = {
      {"ours", [](int n, int b) { return ours(n, b, false); }, 1 << 30},
      {"ours+q", [](int n, int b) { return ours(n, b, true); }, 1 << 30},
      {"stock-min", stock_mix_minus, stock_min_max_n},
      {"stock-n2", stock_n_squared, 32},
      {"floor", floor_streams, 1 << 30},
  };
  std::printf(
      "%.0f s of audio per party, 8 kHz mono F32LE, %d-sample (20 ms) buffers, non-live; process CPU s, median "
      "(range) of %d interleaved rounds\n\n",
      seconds, kSamplesPerBuffer, rounds);
  std::printf(
      "| N | ours | ours + output queues | stock mix-minus (1 + N audiomixers) | stock N^2 (N audiomixers + tees) | "
      "floor "
      "(N plain streams) | stock-min / ours | stock-n2 / ours | ours / floor | (ours+q) / ours |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|\n");
  bool ok = true;
  for (int n : {8, 32, 64, big_n}) {
    std::vector<std::vector<double>> cpu(constructions.size());
    for (int r = 0; r < rounds; ++r)
      for (std::size_t c = 0; c < constructions.size(); ++c)
        if (n <= constructions[c].max_n) cpu[c].push_back(run(constructions[c].pipeline(n, buffers)));
    std::vector<Stats> s;
    for (auto& v : cpu) s.push_back(summarise(v));
    auto cell = [&](std::size_t c) {
      char b[64];
      if (n > constructions[c].max_n)
        std::snprintf(b, sizeof b, "-");
      else if (!s[c].ok)
        std::snprintf(b, sizeof b, "failed");
      else
        std::snprintf(b, sizeof b, "%.3f (%.3f-%.3f)", s[c].median, s[c].low, s[c].high);
      return std::string(b);
    };
    auto ratio = [&](std::size_t a, std::size_t b) {
      char buf[32];
      if (n > constructions[a].max_n || n > constructions[b].max_n || !s[a].ok || !s[b].ok || s[b].median <= 0)
        std::snprintf(buf, sizeof buf, "-");
      else
        std::snprintf(buf, sizeof buf, "%.2fx", s[a].median / s[b].median);
      return std::string(buf);
    };
    for (std::size_t c = 0; c < constructions.size(); ++c) ok &= n > constructions[c].max_n || s[c].ok;
    std::printf("| %d | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", n, cell(0).c_str(), cell(1).c_str(),
                cell(2).c_str(), cell(3).c_str(), cell(4).c_str(), ratio(2, 0).c_str(), ratio(3, 0).c_str(),
                ratio(0, 4).c_str(), ratio(1, 0).c_str());
    std::fflush(stdout);
  }
  return ok ? 0 : 1;
}
