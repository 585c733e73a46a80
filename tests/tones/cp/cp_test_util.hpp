// cp_test_util.hpp - running the call-progress detector over a buffer and
// summarising its events, for the tests.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "cptone_detector.hpp"

namespace cptest {

using prosody::RecognitionType;
using prosody::ToneEvent;

inline std::vector<ToneEvent> run(const std::vector<float>& x, const prosody::tones::CallProgressConfig& config,
                                  std::size_t chunk = 160, std::uint64_t first_sample = 0) {
  prosody::tones::CallProgressDetector d(config);
  std::vector<ToneEvent> events;
  for (std::size_t at = 0; at < x.size(); at += chunk) {
    const std::size_t n = std::min(chunk, x.size() - at);
    d.process(x.data() + at, n, first_sample + at, events);
  }
  return events;
}

inline prosody::tones::CallProgressConfig config(bool simple, bool cp, unsigned min_ms = 0) {
  prosody::tones::CallProgressConfig c;
  c.report_simple_tones = simple;
  c.report_cptones = cp;
  c.min_duration_ms = min_ms;
  return c;
}

inline std::vector<ToneEvent> starts(const std::vector<ToneEvent>& ev, RecognitionType type) {
  std::vector<ToneEvent> out;
  for (const auto& e : ev)
    if (e.type == type && !e.is_end) out.push_back(e);
  return out;
}
inline std::vector<ToneEvent> ends(const std::vector<ToneEvent>& ev, RecognitionType type) {
  std::vector<ToneEvent> out;
  for (const auto& e : ev)
    if (e.type == type && e.is_end) out.push_back(e);
  return out;
}

// Call-progress ids reported (start events), in order.
inline std::vector<int> cp_ids(const std::vector<ToneEvent>& ev) {
  std::vector<int> ids;
  for (const auto& e : starts(ev, RecognitionType::cptone)) ids.push_back(e.code);
  return ids;
}

inline double ms(std::uint64_t samples) { return double(samples) / 8.0; }

}  // namespace cptest
