// gst_bench_run.hpp - what the GStreamer benchmarks share: running a
// gst-launch description from PLAYING to EOS and timing the CPU it took
// (all threads of the process), and the median and range of rounds.
#pragma once

#include <gst/gst.h>
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

namespace benchrun {

inline double process_cpu_seconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

// Builds the pipeline, runs it from PLAYING to EOS; returns the CPU seconds,
// or a negative number on failure (said on stderr).
inline double run(const std::string& description) {
  GError* err = nullptr;
  GstElement* pipeline = gst_parse_launch(description.c_str(), &err);
  if (err) {
    std::fprintf(stderr, "parse error: %s\n", err->message);
    g_error_free(err);
    if (pipeline) gst_object_unref(pipeline);
    return -1.0;
  }
  GstBus* bus = gst_element_get_bus(pipeline);
  const double c0 = process_cpu_seconds();
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  GstMessage* msg = gst_bus_timed_pop_filtered(bus, 900 * GST_SECOND,
                                               static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  double cpu = process_cpu_seconds() - c0;
  if (!msg || GST_MESSAGE_TYPE(msg) != GST_MESSAGE_EOS) {
    if (msg) {
      GError* e = nullptr;
      gst_message_parse_error(msg, &e, nullptr);
      std::fprintf(stderr, "error: %s\n", e->message);
      g_error_free(e);
    } else {
      std::fprintf(stderr, "timeout\n");
    }
    cpu = -1.0;
  }
  if (msg) gst_message_unref(msg);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(bus);
  gst_object_unref(pipeline);
  return cpu;
}

struct Stats {
  double median = 0, low = 0, high = 0;
  bool ok = true;  // every round succeeded
};

inline Stats summarise(std::vector<double> v) {
  Stats s;
  for (double x : v) s.ok &= x >= 0;
  if (v.empty() || !s.ok) {
    s.ok = false;
    return s;
  }
  std::sort(v.begin(), v.end());
  s.low = v.front();
  s.high = v.back();
  s.median = v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
  return s;
}

}  // namespace benchrun
