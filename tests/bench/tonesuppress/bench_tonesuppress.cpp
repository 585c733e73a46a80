// bench_tonesuppress - prosodytonesuppress against GStreamer's dtmfdetect
// (gst-plugins-bad, spandsp 0.0.6 dtmf_rx), in one run, on the same input:
// speech from the Asterisk corpus with DTMF digits spliced in at known
// places, 8 kHz mono S16LE in 20 ms buffers, non-live, as fast as possible.
//
//  CPU: one pipeline of N branches `appsrc ! <element> ! fakesink`, the
//  buffers queued in the appsrcs beforehand; process CPU time (all threads)
//  from PLAYING to EOS, best of P interleaved passes, per channel-second.
//  The same pipeline without an element is the floor (appsrc, fakesink and
//  buffer handling), reported and subtracted.
//
//  Accuracy: one branch over the whole signal per detector: digits found
//  out of those inserted, digits missed, false digits (a digit where none
//  was inserted, a wrong digit, or a digit reported twice).
//
// Usage: bench_tonesuppress [CHANNELS [CPU_SECONDS [PASSES]]]  (positional; defaults 16 300 7)
// (GST_PLUGIN_PATH must hold the built plugin, as the meson benchmark sets
// it; PROSODY_SPEECH_DIR overrides the corpus location). Exits 77 (skipped)
// without the corpus. Prints Markdown.
#include <gst/gst.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "dtmf_stimulus.hpp"
#include "signal.hpp"

namespace {

constexpr int kRate = 8000;
constexpr std::size_t kBlock = 160;  // 20 ms, as RTP carries it

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

std::string cpu_model() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown";
}

// The input: speech with digits spliced in every 1.5-3 s (random key,
// 50-120 ms, -5..-20 dBm0, twist within +/-3 dB, random phases).
struct Input {
  std::vector<gint16> samples;
  std::vector<dtmftest::Truth> digits;
  double speech_seconds = 0.0;
};

Input make_input(const std::vector<std::string>& files) {
  std::vector<float> speech;
  for (const std::string& f : files) {
    std::vector<float> x;
    int rate = 0;
    if (testsig::read_wav(f, x, rate) && rate == kRate) speech.insert(speech.end(), x.begin(), x.end());
  }
  Input in;
  in.speech_seconds = double(speech.size()) / kRate;
  std::mt19937 rng(4);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<float> y;
  y.reserve(speech.size() + speech.size() / 10);
  std::size_t pos = 0;
  while (pos < speech.size()) {
    const std::size_t run = std::min(speech.size() - pos, std::size_t((1.5 + 1.5 * u(rng)) * kRate));
    y.insert(y.end(), speech.begin() + long(pos), speech.begin() + long(pos + run));
    pos += run;
    if (pos >= speech.size()) break;
    dtmftest::Truth t;
    t.digit = dtmftest::kDigits[std::size_t(u(rng) * 16) % 16];
    const std::size_t n = std::size_t((50 + 70 * u(rng)) * kRate / 1000);
    const double low = -20.0 + 15.0 * u(rng), high = low + 6.0 * u(rng) - 3.0;
    t.start = y.size();
    t.end = t.start + n;
    t.level_dbm0 = std::max(low, high);
    y.resize(t.end, 0.0f);
    testsig::add_sine(y, dtmftest::low_freq(t.digit), low, kRate, 6.28 * u(rng), t.start, n);
    testsig::add_sine(y, dtmftest::high_freq(t.digit), high, kRate, 6.28 * u(rng), t.start, n);
    in.digits.push_back(t);
  }
  in.samples.resize(y.size());
  for (std::size_t i = 0; i < y.size(); ++i)
    in.samples[i] = gint16(std::clamp(std::lround(y[i] * 32768.0f), -32768L, 32767L));
  return in;
}

// A digit report: the dtmf-event number, and when: the onset the element
// says (prosodytonesuppress) or the end of the buffer it was found in.
struct Report {
  int number = -1;
  double at_s = 0.0;
};

struct Branch0 {
  std::mutex lock;
  std::vector<Report> reports;
  GstClockTime buffer_end = 0;  // of the buffer the detector is working on
  GstElement* detector = nullptr;
};

GstPadProbeReturn note_buffer(GstPad*, GstPadProbeInfo* info, gpointer data) {
  GstBuffer* b = GST_PAD_PROBE_INFO_BUFFER(info);
  static_cast<Branch0*>(data)->buffer_end = GST_BUFFER_PTS(b) + GST_BUFFER_DURATION(b);
  return GST_PAD_PROBE_OK;
}

// Runs in the streaming thread as the detector posts, so buffer_end is the
// buffer that produced the report.
GstBusSyncReply on_message(GstBus*, GstMessage* m, gpointer data) {
  auto* b = static_cast<Branch0*>(data);
  if (GST_MESSAGE_TYPE(m) != GST_MESSAGE_ELEMENT) return GST_BUS_PASS;
  const GstStructure* s = gst_message_get_structure(m);
  if (GST_MESSAGE_SRC(m) == GST_OBJECT(b->detector) && s && gst_structure_has_name(s, "dtmf-event")) {
    gboolean start = TRUE;
    gst_structure_get_boolean(s, "start", &start);  // dtmfdetect: start only, no field
    if (start) {
      Report r;
      gst_structure_get_int(s, "number", &r.number);
      guint64 ts = GST_CLOCK_TIME_NONE;
      r.at_s =
          gst_structure_get_uint64(s, "timestamp", &ts) ? double(ts) / GST_SECOND : double(b->buffer_end) / GST_SECOND;
      std::lock_guard<std::mutex> lk(b->lock);
      b->reports.push_back(r);
    }
  }
  gst_message_unref(m);
  return GST_BUS_DROP;
}

struct Run {
  double cpu = 0.0, wall = 0.0;
  bool ok = false;
  std::vector<Report> reports;  // branch 0
};

// N branches of `appsrc ! element ! fakesink` ("" = no element), each fed
// samples[0, n).
Run run(const std::string& element, int channels, const std::vector<gint16>& samples, std::size_t n) {
  Run r;
  std::string d;
  for (int c = 0; c < channels; ++c) {
    d += "appsrc name=src" + std::to_string(c) +
         " is-live=false format=time block=false max-bytes=0 max-buffers=0 max-time=0 "
         "caps=audio/x-raw,format=S16LE,rate=8000,channels=1,layout=interleaved ! ";
    if (!element.empty()) d += element + " name=det" + std::to_string(c) + " ! ";
    d += "fakesink sync=false ";
  }
  GError* err = nullptr;
  GstElement* pipeline = gst_parse_launch(d.c_str(), &err);
  if (err) {
    std::fprintf(stderr, "%s: %s\n", element.c_str(), err->message);
    g_error_free(err);
    if (pipeline) gst_object_unref(pipeline);
    return r;
  }
  Branch0 b0;
  GstBus* bus = gst_element_get_bus(pipeline);
  if (!element.empty()) {
    b0.detector = gst_bin_get_by_name(GST_BIN(pipeline), "det0");
    GstPad* sink = gst_element_get_static_pad(b0.detector, "sink");
    gst_pad_add_probe(sink, GST_PAD_PROBE_TYPE_BUFFER, note_buffer, &b0, nullptr);
    gst_object_unref(sink);
    gst_bus_set_sync_handler(bus, on_message, &b0, nullptr);
  }
  gst_element_set_state(pipeline, GST_STATE_PAUSED);
  // Queue every buffer first, so that the timed part is the streaming.
  for (int c = 0; c < channels; ++c) {
    GstElement* src = gst_bin_get_by_name(GST_BIN(pipeline), ("src" + std::to_string(c)).c_str());
    for (std::size_t i = 0; i < n; i += kBlock) {
      const std::size_t m = std::min(kBlock, n - i);
      GstBuffer* buf = gst_buffer_new_allocate(nullptr, m * 2, nullptr);
      gst_buffer_fill(buf, 0, samples.data() + i, m * 2);
      GST_BUFFER_PTS(buf) = gst_util_uint64_scale_int(i, GST_SECOND, kRate);
      GST_BUFFER_DURATION(buf) = gst_util_uint64_scale_int(m, GST_SECOND, kRate);
      GstFlowReturn ret;
      g_signal_emit_by_name(src, "push-buffer", buf, &ret);
      gst_buffer_unref(buf);
    }
    GstFlowReturn ret;
    g_signal_emit_by_name(src, "end-of-stream", &ret);
    gst_object_unref(src);
  }
  gst_element_get_state(pipeline, nullptr, nullptr, 60 * GST_SECOND);
  const double c0 = process_cpu_seconds(), w0 = wall_seconds();
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  GstMessage* msg = gst_bus_timed_pop_filtered(bus, 1800 * GST_SECOND,
                                               static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  r.cpu = process_cpu_seconds() - c0;
  r.wall = wall_seconds() - w0;
  r.ok = msg && GST_MESSAGE_TYPE(msg) == GST_MESSAGE_EOS;
  if (msg && !r.ok) {
    GError* e = nullptr;
    gst_message_parse_error(msg, &e, nullptr);
    std::fprintf(stderr, "%s: %s\n", element.c_str(), e->message);
    g_error_free(e);
  }
  if (msg) gst_message_unref(msg);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  {
    std::lock_guard<std::mutex> lk(b0.lock);
    r.reports = b0.reports;
  }
  if (b0.detector) gst_object_unref(b0.detector);
  gst_object_unref(bus);
  gst_object_unref(pipeline);
  return r;
}

}  // namespace

namespace {

// GStreamer's dtmf-event number of a keypad character.
int dtmf_number(char d) {
  if (d >= '0' && d <= '9') return d - '0';
  if (d == '*') return 10;
  if (d == '#') return 11;
  return 12 + (d - 'A');
}

struct Score {
  int found = 0, missed = 0, false_digits = 0;
  std::vector<double> onset_error_ms;  // reports that carry the onset
};

// A report is inserted digit i if it names that digit and falls in
// [start - 20 ms, end + 100 ms] (a report at the end of the buffer it was
// found in can come after a short digit); anything else is a false digit,
// a second report of the same digit too.
Score score(const std::vector<Report>& reports, const std::vector<dtmftest::Truth>& truth, bool has_onset) {
  Score s;
  std::vector<bool> taken(truth.size(), false);
  for (const Report& r : reports) {
    const double t = r.at_s * kRate;
    bool hit = false;
    for (std::size_t i = 0; i < truth.size(); ++i) {
      if (taken[i] || r.number != dtmf_number(truth[i].digit)) continue;
      if (t < double(truth[i].start) - 0.020 * kRate || t > double(truth[i].end) + 0.100 * kRate) continue;
      taken[i] = hit = true;
      ++s.found;
      if (has_onset) s.onset_error_ms.push_back(1000.0 * (t - double(truth[i].start)) / kRate);
      break;
    }
    if (!hit) ++s.false_digits;
  }
  s.missed = int(truth.size()) - s.found;
  return s;
}

void onset_summary(std::vector<double> e, char* out, std::size_t size) {
  if (e.empty()) {
    std::snprintf(out, size, "-");
    return;
  }
  for (double& v : e) v = std::fabs(v);
  std::sort(e.begin(), e.end());
  std::snprintf(out, size, "median %.1f ms, max %.1f ms", e[e.size() / 2], e.back());
}

}  // namespace

int main(int argc, char** argv) {
  gst_init(&argc, &argv);
  const int channels = argc > 1 ? std::atoi(argv[1]) : 16;
  const double cpu_seconds = argc > 2 ? std::atof(argv[2]) : 300.0;
  const int passes = argc > 3 ? std::atoi(argv[3]) : 7;

  std::string why;
  const auto files = dtmftest::speech_files(&why);
  if (files.empty()) {
    std::printf("SKIPPED: %s\n", why.c_str());
    return 77;
  }
  GstElementFactory* ours = gst_element_factory_find("prosodytonesuppress");
  if (!ours) {
    std::fprintf(stderr, "prosodytonesuppress not found: set GST_PLUGIN_PATH to the built plugin\n");
    return 1;
  }
  gst_object_unref(ours);
  GstElementFactory* peer = gst_element_factory_find("dtmfdetect");
  if (!peer) {
    std::printf("SKIPPED: dtmfdetect (gstreamer1.0-plugins-bad, spandsp) is not installed\n");
    return 77;
  }
  gst_object_unref(peer);

  const Input in = make_input(files);
  const std::size_t cpu_n = std::min(in.samples.size(), std::size_t(cpu_seconds * kRate));
  const double channel_seconds = double(channels) * double(cpu_n) / kRate;

  std::printf("Machine: nproc %ld, \"%s\"\n", sysconf(_SC_NPROCESSORS_ONLN), cpu_model().c_str());
  std::printf(
      "Input: %.0f s of speech from %zu files (%s) with %zu digits spliced in, %.0f s in all; "
      "8 kHz S16LE, 20 ms buffers, non-live\n\n",
      in.speech_seconds, files.size(), dtmftest::speech_dir().c_str(), in.digits.size(),
      double(in.samples.size()) / kRate);

  struct Variant {
    const char* label;
    std::string element;
    bool has_onset;
    double best = 1e30, wall = 0.0;
  };
  std::vector<Variant> v = {
      {"floor: `appsrc ! fakesink`", "", false},
      {"`dtmfdetect`", "dtmfdetect", false},
      {"`prosodytonesuppress` (detect and suppress)", "prosodytonesuppress", true},
      {"`prosodytonesuppress suppress=false` (detect only, as dtmfdetect)", "prosodytonesuppress suppress=false", true},
  };

  // CPU: interleaved passes, best of each.
  for (int p = 0; p < passes; ++p) {
    for (Variant& x : v) {
      const Run r = run(x.element, channels, in.samples, cpu_n);
      if (!r.ok) return 1;
      if (r.cpu < x.best) {
        x.best = r.cpu;
        x.wall = r.wall;
      }
    }
  }
  std::printf(
      "CPU: %d channels x %.0f s (%.0f channel-seconds), process CPU from PLAYING to EOS, best of %d "
      "interleaved passes\n\n",
      channels, double(cpu_n) / kRate, channel_seconds, passes);
  std::printf("| Pipeline branch | CPU s | wall s | CPU per channel-second | net of the floor |\n");
  std::printf("|---|---|---|---|---|\n");
  const double floor_cpu = v[0].best;
  for (const Variant& x : v) {
    const double per = 1e6 * x.best / channel_seconds;
    const double net = 1e6 * (x.best - floor_cpu) / channel_seconds;
    if (x.element.empty())
      std::printf("| %s | %.3f | %.3f | %.1f us | - |\n", x.label, x.best, x.wall, per);
    else
      std::printf("| %s | %.3f | %.3f | %.1f us | %.1f us |\n", x.label, x.best, x.wall, per, net);
  }
  const auto ratio = [&](const Variant& a, const Variant& b, bool net) {
    const double fa = net ? a.best - floor_cpu : a.best, fb = net ? b.best - floor_cpu : b.best;
    return fb > 0.0 ? fa / fb : 0.0;
  };
  std::printf(
      "\nprosodytonesuppress / dtmfdetect: %.2f (whole branch), %.2f (net of the floor); "
      "detect only: %.2f, %.2f\n\n",
      ratio(v[2], v[1], false), ratio(v[2], v[1], true), ratio(v[3], v[1], false), ratio(v[3], v[1], true));

  // Accuracy: one branch over the whole signal.
  std::printf("Accuracy over the whole input (%zu digits inserted):\n\n", in.digits.size());
  std::printf("| Detector | found / inserted | missed | false digits | reported onset error |\n");
  std::printf("|---|---|---|---|---|\n");
  for (std::size_t k = 1; k < v.size(); ++k) {
    const Run r = run(v[k].element, 1, in.samples, in.samples.size());
    if (!r.ok) return 1;
    const Score s = score(r.reports, in.digits, v[k].has_onset);
    char onset[96];
    onset_summary(s.onset_error_ms, onset, sizeof onset);
    std::printf("| %s | %d / %zu | %d | %d | %s |\n", v[k].label, s.found, in.digits.size(), s.missed, s.false_digits,
                onset);
  }
  return 0;
}
