// bench_confmix - CPU cost of an N-party conference in GStreamer, in one run,
// on the same inputs (N audiotestsrc sines, 8 kHz mono S16LE, 20 ms buffers,
// non-live, 10 s of audio):
//
//  (a) prosodyconfmix (frame-duration 20 ms): N sink pads, N src pads, each
//      output to a fakesink;
//  (b) the stock construction: N audiomixers, each fed the N-1 other
//      sources through a tee and a queue per branch (N(N-1) queues);
//  (c) N = 1,000 parties through prosodyconfmix against the floor: N plain
//      `audiotestsrc ! fakesink` streams with the same buffers.
//
// Process CPU time (all threads, CLOCK_PROCESS_CPUTIME_ID) from PLAYING to
// EOS, and the ratios. Prints a Markdown table.
//
// Usage: bench_confmix [seconds=10] [big_n=1000] (GST_PLUGIN_PATH must hold
// the built plugin, as the meson benchmark sets it).
#include <gst/gst.h>
#include <sys/resource.h>
#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

constexpr int kRate = 8000;
constexpr int kSamplesPerBuffer = 160;  // 20 ms

double process_cpu_seconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

double wall_seconds() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

std::string source(int i, int buffers) {
  char s[300];
  std::snprintf(s, sizeof s,
                "audiotestsrc freq=%d volume=0.1 samplesperbuffer=%d num-buffers=%d ! "
                "audio/x-raw,format=S16LE,rate=%d,channels=1",
                200 + 37 * (i % 80), kSamplesPerBuffer, buffers, kRate);
  return s;
}

struct Result {
  double cpu = 0.0, wall = 0.0;
  bool ok = false;
};

// Builds the pipeline, runs it from PLAYING to EOS and measures.
Result run(const std::string& description) {
  Result r;
  GError* err = nullptr;
  GstElement* pipeline = gst_parse_launch(description.c_str(), &err);
  if (err) {
    std::fprintf(stderr, "parse error: %s\n", err->message);
    g_error_free(err);
    if (pipeline) gst_object_unref(pipeline);
    return r;
  }
  GstBus* bus = gst_element_get_bus(pipeline);
  const double c0 = process_cpu_seconds(), w0 = wall_seconds();
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  GstMessage* msg = gst_bus_timed_pop_filtered(bus, 600 * GST_SECOND,
                                               static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  r.cpu = process_cpu_seconds() - c0;
  r.wall = wall_seconds() - w0;
  if (msg && GST_MESSAGE_TYPE(msg) == GST_MESSAGE_EOS) {
    r.ok = true;
  } else if (msg) {
    GError* e = nullptr;
    gst_message_parse_error(msg, &e, nullptr);
    std::fprintf(stderr, "error: %s\n", e->message);
    g_error_free(e);
  } else {
    std::fprintf(stderr, "timeout\n");
  }
  if (msg) gst_message_unref(msg);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(bus);
  gst_object_unref(pipeline);
  return r;
}

// (a) N parties through prosodyconfmix.
std::string confmix_pipeline(int n, int buffers) {
  std::string d = "prosodyconfmix name=m rate=8000 frame-duration=20000000 ";
  if (const char* extra = g_getenv("BENCH_CONFMIX_PROPERTIES")) d += std::string(extra) + " ";
  for (int i = 0; i < n; ++i) {
    d += source(i, buffers) + " ! m.sink_" + std::to_string(i) + " ";
    d += "m.src_" + std::to_string(i) + " ! fakesink sync=false async=false ";
  }
  return d;
}

// (b) N audiomixers, each fed the N-1 others through tees and queues.
std::string stock_pipeline(int n, int buffers) {
  std::string d;
  for (int j = 0; j < n; ++j)
    d += "audiomixer name=mix" + std::to_string(j) +
         " output-buffer-duration=20000000 ! fakesink sync=false async=false ";
  for (int i = 0; i < n; ++i) {
    d += source(i, buffers) + " ! tee name=t" + std::to_string(i) + " ";
    for (int j = 0; j < n; ++j)
      if (j != i) d += "t" + std::to_string(i) + ". ! queue ! mix" + std::to_string(j) + ". ";
  }
  return d;
}

// (c) the floor: N plain streams with the same buffers.
std::string floor_pipeline(int n, int buffers) {
  std::string d;
  for (int i = 0; i < n; ++i) d += source(i, buffers) + " ! fakesink sync=false async=false ";
  return d;
}

}  // namespace

int main(int argc, char** argv) {
  gst_init(&argc, &argv);
  const double seconds = argc > 1 ? std::atof(argv[1]) : 10.0;
  const int big_n = argc > 2 ? std::atoi(argv[2]) : 1000;
  const int buffers = int(seconds * kRate / kSamplesPerBuffer);
  if (!gst_element_factory_find("prosodyconfmix")) {
    std::fprintf(stderr, "prosodyconfmix not found: set GST_PLUGIN_PATH to <build>/gst\n");
    return 2;
  }
  // Thousands of threads at N = 1000: make sure the process may have them.
  rlimit lim;
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
  bool ok = true;
  std::printf("%.0f s of audio per party, 8 kHz mono S16LE, %d-sample (20 ms) buffers, non-live\n\n", seconds,
              kSamplesPerBuffer);
  std::printf("| N | prosodyconfmix CPU s | stock (N audiomixers + tees) CPU s | stock / prosodyconfmix |\n");
  std::printf("|---|---|---|---|\n");
  double ratio32 = 0.0;
  for (int n : {8, 16, 32}) {
    const Result a = run(confmix_pipeline(n, buffers));
    const Result b = run(stock_pipeline(n, buffers));
    ok &= a.ok && b.ok;
    const double ratio = a.cpu > 0 ? b.cpu / a.cpu : 0.0;
    if (n == 32) ratio32 = ratio;
    std::printf("| %d | %.3f | %.3f | %.0fx |\n", n, a.cpu, b.cpu, ratio);
    std::fflush(stdout);
  }
  std::printf(
      "\n| N | prosodyconfmix CPU s (wall s) | floor: N x audiotestsrc ! fakesink CPU s (wall s) | "
      "prosodyconfmix / floor |\n");
  std::printf("|---|---|---|---|\n");
  const Result c = run(confmix_pipeline(big_n, buffers));
  const Result f = run(floor_pipeline(big_n, buffers));
  ok &= c.ok && f.ok;
  const double floor_ratio = f.cpu > 0 ? c.cpu / f.cpu : 0.0;
  std::printf("| %d | %.3f (%.2f) | %.3f (%.2f) | %.2fx |\n", big_n, c.cpu, c.wall, f.cpu, f.wall, floor_ratio);
  std::printf(
      "\nbars: stock/prosodyconfmix at N = 32 >= 100x: %s (%.0fx); "
      "prosodyconfmix/floor at N = %d <= 2x: %s (%.2fx)\n",
      ratio32 >= 100.0 ? "met" : "NOT met", ratio32, big_n, floor_ratio <= 2.0 ? "met" : "NOT met", floor_ratio);
  return ok ? 0 : 1;
}
