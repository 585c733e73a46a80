// Helpers for the prosodyconfmix tests: RAII for GStreamer objects, running
// a gst-launch description to EOS and collecting what its appsinks got, and
// levels measured with the test-side Goertzel (tests/support/signal.hpp).
#pragma once

#include <gst/app/gstappsink.h>
#include <gst/check/gstharness.h>
#include <gst/gst.h>
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "signal.hpp"

// The test's side of the hand-overs ThreadSanitizer cannot see (the element
// marks its side with the same macros).
#include "prosodytsan.h"

namespace gsttest {

struct Unref {
  void operator()(GstElement* e) const noexcept { gst_object_unref(e); }
  void operator()(GstBus* b) const noexcept { gst_object_unref(b); }
  void operator()(GstPad* p) const noexcept { gst_object_unref(p); }
  void operator()(GstMessage* m) const noexcept { gst_message_unref(m); }
  void operator()(GstHarness* h) const noexcept { gst_harness_teardown(h); }
  void operator()(GstStructure* s) const noexcept { gst_structure_free(s); }
};
using ElementPtr = std::unique_ptr<GstElement, Unref>;
using BusPtr = std::unique_ptr<GstBus, Unref>;
using PadPtr = std::unique_ptr<GstPad, Unref>;
using MessagePtr = std::unique_ptr<GstMessage, Unref>;
using HarnessPtr = std::unique_ptr<GstHarness, Unref>;
using StructurePtr = std::unique_ptr<GstStructure, Unref>;

// What one appsink received: samples as floats, first PTS, caps.
struct Capture {
  std::vector<float> samples;
  std::vector<GstClockTime> pts;   // per buffer
  std::vector<std::size_t> sizes;  // samples per buffer
  int rate = 0;
  int channels = 1;
  std::string format;
};

// Result of running a pipeline to its end.
struct PipelineRun {
  bool eos = false;
  std::string error;  // first error message, if any
  std::vector<std::string> warnings;
  std::map<std::string, Capture> sinks;         // by appsink name
  std::vector<GstStructure*> element_messages;  // owned copies
  ~PipelineRun() {
    for (GstStructure* s : element_messages) gst_structure_free(s);
  }
};

// Takes every sample an appsink holds.
inline void drain_appsink(GstElement* sink, Capture& c) {
  while (GstSample* sample = gst_app_sink_try_pull_sample(GST_APP_SINK(sink), 0)) {
    GstCaps* caps = gst_sample_get_caps(sample);
    GstStructure* s = gst_caps_get_structure(caps, 0);
    gst_structure_get_int(s, "rate", &c.rate);
    gst_structure_get_int(s, "channels", &c.channels);
    c.format = gst_structure_get_string(s, "format");
    GstBuffer* buf = gst_sample_get_buffer(sample);
    PROSODY_TSAN_ACQUIRE(buf);
    GstMapInfo map;
    gst_buffer_map(buf, &map, GST_MAP_READ);
    std::size_t n = 0;
    if (c.format == "F32LE") {
      n = map.size / 4;
      const float* f = reinterpret_cast<const float*>(map.data);
      c.samples.insert(c.samples.end(), f, f + n);
    } else {
      n = map.size / 2;
      const gint16* v = reinterpret_cast<const gint16*>(map.data);
      for (std::size_t i = 0; i < n; ++i) c.samples.push_back(float(v[i]) / 32768.0f);
    }
    gst_buffer_unmap(buf, &map);
    c.pts.push_back(GST_BUFFER_PTS(buf));
    c.sizes.push_back(n / std::size_t(c.channels));
    // A tee's other branch may write this buffer in place once our reference
    // is gone (GStreamer's refcount is invisible to ThreadSanitizer).
    PROSODY_TSAN_RELEASE(buf);
    gst_sample_unref(sample);
  }
}

// Runs a gst-launch description (appsinks named by `name=`) until EOS or an
// error, collecting samples and element messages. The appsinks should have
// sync=false; their queues are drained as the pipeline runs.
PipelineRun run_pipeline(const std::string& description, double timeout_s = 60.0,
                         const std::function<void(GstElement*)>& setup = nullptr);

// Level, in dBm0, of the component at freq in x[from, from+len).
inline double tone_db(const std::vector<float>& x, double freq, double rate, std::size_t from, std::size_t len) {
  if (from + len > x.size()) return -300.0;
  return testsig::tone_level_dbm0(x.data() + from, len, freq, rate);
}

// Level in dBm0 of audiotestsrc's sine at volume v (peak v).
inline double audiotestsrc_dbm0(double volume) { return 20.0 * std::log10(volume) + testsig::kFullScaleSineDbm0; }

// One channel of an interleaved capture.
inline std::vector<float> channel(const Capture& c, int ch) {
  std::vector<float> out;
  for (std::size_t i = std::size_t(ch); i < c.samples.size(); i += std::size_t(c.channels)) out.push_back(c.samples[i]);
  return out;
}

// Collects the GLib warnings and criticals of a log domain while it lives
// ("prosody": our elements'; "GStreamer": the core's), instead of failing
// the test on them.
class LogCapture {
 public:
  explicit LogCapture(const char* domain = "prosody")
      : domain_(domain),
        id_(g_log_set_handler(
            domain, static_cast<GLogLevelFlags>(G_LOG_LEVEL_WARNING | G_LOG_LEVEL_CRITICAL),
            [](const gchar*, GLogLevelFlags, const gchar* message, gpointer self) {
              static_cast<LogCapture*>(self)->messages.emplace_back(message);
            },
            this)) {}
  ~LogCapture() { g_log_remove_handler(domain_, id_); }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;
  std::vector<std::string> messages;

 private:
  const char* domain_;
  guint id_;
};

}  // namespace gsttest
