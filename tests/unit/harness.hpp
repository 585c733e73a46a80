// Test harness over the C++ API: parties on host ports of a stepped module,
// driven a frame at a time, with their outputs collected for measurement.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "prosody/prosody.hpp"
#include "signal.hpp"

namespace prosody::test {

struct Party {
  Channel channel;
  std::vector<float> input;   // what the party says
  std::vector<float> output;  // what the party hears
};

// Feeds every host input one frame, steps the module, collects every host
// output, for frames frames.
inline void run(Module& m, std::vector<Party*> parties, std::size_t frames) {
  const std::size_t n = m.frame_samples();
  std::vector<float> buf(n);
  for (std::size_t f = 0; f < frames; ++f) {
    for (Party* p : parties) {
      if (p->input.empty()) continue;
      const std::size_t at = p->output.size();  // time, in samples, of this frame
      for (std::size_t i = 0; i < n; ++i) buf[i] = at + i < p->input.size() ? p->input[at + i] : 0.0f;
      p->channel.write_input(Span<const float>(buf.data(), n));
    }
    m.step(1);
    for (Party* p : parties) {
      const std::size_t got = p->channel.read_output(Span<float>(buf.data(), n));
      p->output.insert(p->output.end(), buf.begin(), buf.begin() + static_cast<long>(got));
    }
  }
}

// Level of the component at freq in x[from, from+len), dBm0.
inline double tone_db(const std::vector<float>& x, double freq, double rate, std::size_t from, std::size_t len) {
  EXPECT_LE(from + len, x.size());
  return testsig::tone_level_dbm0(x.data() + from, len, freq, rate);
}

// Largest change between consecutive samples of x in [from, to): a click
// detector for a tone, which alone changes by at most 2*pi*f/fs*A.
inline double max_step(const std::vector<float>& x, std::size_t from, std::size_t to) {
  double m = 0.0;
  for (std::size_t i = from + 1; i < to; ++i) m = std::max(m, std::fabs(double(x[i]) - x[i - 1]));
  return m;
}

}  // namespace prosody::test
