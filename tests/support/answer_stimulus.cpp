#include "answer_stimulus.hpp"

#include <cmath>

#include "signal.hpp"

namespace answertest {

std::vector<float> answer_tone(const AnswerSignal& s, double seconds, double lead_in, double rate) {
  const std::size_t lead = std::size_t(std::lround(lead_in * rate));
  const std::size_t n = std::size_t(std::lround(seconds * rate));
  std::vector<float> x(lead + n, 0.0f);
  const double peak = testsig::sine_peak(s.level_dbm0);
  const std::size_t period = std::size_t(std::lround(s.reversal_ms * rate / 1000.0));
  for (std::size_t i = 0; i < n; ++i) {
    double phase = s.start_phase + 2.0 * testsig::kPi * s.freq_hz * double(i) / rate;
    if (s.reversals) phase += testsig::kPi * double(i / period);
    const double envelope = 1.0 + s.am_depth * std::sin(2.0 * testsig::kPi * s.am_hz * double(i) / rate);
    x[lead + i] = static_cast<float>(peak * envelope * std::sin(phase));
  }
  return x;
}

}  // namespace answertest
