#include "dsp/tonegen.hpp"

#include <cmath>

namespace prosody::dsp {

namespace {

constexpr double kTwoPi = 6.283185307179586476925;

bool component_on(const ToneSpec& s, int k) { return s.freq_hz[k] > 0.0 && s.peak[k] != 0.0f; }

// Advances a phase in cycles by n samples of freq, kept in [0, 1).
double advance(double phase, double freq, double rate, std::size_t n) {
  const double p = phase + freq * double(n) / rate;
  return p - std::floor(p);
}

}  // namespace

bool tone_is_silent(const ToneSpec& spec) { return !component_on(spec, 0) && !component_on(spec, 1); }

void generate_tone(const ToneSpec& spec, double rate, ToneOscillator& osc, float sign, float* out, std::size_t n) {
  const bool on0 = component_on(spec, 0), on1 = component_on(spec, 1);
  // Each sine as a unit phasor z rotated by w per sample: z starts from the
  // exact phase, so only n rotations of rounding accumulate (about 1e-13
  // relative over a 20 ms block).
  double zr[2], zi[2], wr[2], wi[2];
  for (int k = 0; k < 2; ++k) {
    const double start = kTwoPi * osc.phase[k], step = kTwoPi * spec.freq_hz[k] / rate;
    zr[k] = std::cos(start);
    zi[k] = std::sin(start);
    wr[k] = std::cos(step);
    wi[k] = std::sin(step);
  }
  const double a0 = on0 ? spec.peak[0] : 0.0, a1 = on1 ? spec.peak[1] : 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    double y;
    if (spec.modulate && on0)
      y = (a0 + a1 * zi[1]) * zi[0];
    else
      y = a0 * zi[0] + a1 * zi[1];
    out[i] = static_cast<float>(sign * y);
    for (int k = 0; k < 2; ++k) {
      const double r = zr[k] * wr[k] - zi[k] * wi[k];
      zi[k] = zr[k] * wi[k] + zi[k] * wr[k];
      zr[k] = r;
    }
  }
  for (int k = 0; k < 2; ++k) osc.phase[k] = advance(osc.phase[k], spec.freq_hz[k], rate, n);
}

}  // namespace prosody::dsp
