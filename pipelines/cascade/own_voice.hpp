// A party's own voice in what it hears: a coherent, outlier-robust measure.
//
// A party's voice is a known tone (frequency f) in syllables. An echo of it
// (what a loop in the conference would send back) is that tone at a fixed
// delay and gain: its phase against exp(j 2 pi f n) is the same all through
// the run. Everything else heard at f is not: the other talkers' tones leak
// nothing (blocks with a Blackman-Harris window, resolving tones the given
// spacing apart), and what a concealed or late frame spreads from them
// across the spectrum ("smear") comes in a few blocks at a time, at random
// phases.
//
// So: the complex amplitude at f of each block (length from the spacing,
// half-overlapping), then their Huber mean over the whole run (blocks whose
// distance from the mean is beyond 1.5 robust deviations count with a weight
// that bounds their pull): the echo adds up coherently, the smear is cut to
// the size of an ordinary block and cancels out. The caller divides by the
// same measure of what the party sent, which calibrates the envelope.
// A drift-control slip in the echo's path (a sample dropped or repeated)
// would turn its phase and understate it: the links it crosses are paced.
#pragma once

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstddef>
#include <vector>

namespace cascade {

// The parties' synthetic speech: a tone in syllables of 250 ms at 8 kHz,
// 150 ms voiced with 10 ms raised-cosine edges (no clicks), then a pause.
constexpr unsigned kSyllable = 2000;
constexpr unsigned kVoiced = 1200;
constexpr unsigned kRamp = 80;

// The syllable envelope at sample n.
inline double syllable_envelope(unsigned long long n) {
  constexpr double kPi = 3.14159265358979323846;
  const unsigned k = unsigned(n % kSyllable);
  if (k >= kVoiced) return 0.0;
  if (k < kRamp) return 0.5 - 0.5 * std::cos(kPi * k / kRamp);
  if (k >= kVoiced - kRamp) return 0.5 - 0.5 * std::cos(kPi * (kVoiced - k) / kRamp);
  return 1.0;
}

// Sample n of a party's speech: its tone (peak amplitude `peak`) in
// syllables, the phase running on through the pauses.
inline double speech_sample(double peak, double freq_hz, double rate, unsigned long long n) {
  constexpr double kPi = 3.14159265358979323846;
  return peak * syllable_envelope(n) * std::sin(2.0 * kPi * freq_hz * double(n) / rate);
}

// Block length (even) for a tone spacing: the 4-term Blackman-Harris main
// lobe (+/-4 bins) within 2/3 of the spacing.
inline std::size_t coherent_block_length(double spacing_hz, double rate) {
  const std::size_t n = std::size_t(std::ceil(6.0 * rate / std::max(spacing_hz, 1.0)));
  return std::max<std::size_t>(64, n + n % 2);
}

// The peak amplitude of the component of x[0, n) coherent at freq_hz over
// the whole of it (sample 0 at phase 0: the same n and phase reference for
// the signal and its reference make the ratio a gain). 0 if x is shorter
// than a block.
inline double coherent_amplitude(const float* x, std::size_t n, double freq_hz, double rate, double spacing_hz) {
  const std::size_t len = coherent_block_length(spacing_hz, rate);
  if (n < len) return 0.0;
  constexpr double kPi = 3.14159265358979323846;
  std::vector<double> w(len);
  double wsum = 0.0;
  for (std::size_t i = 0; i < len; ++i) {
    const double t = 2.0 * kPi * double(i) / double(len - 1);
    w[i] = 0.35875 - 0.48829 * std::cos(t) + 0.14128 * std::cos(2 * t) - 0.01168 * std::cos(3 * t);
    wsum += w[i];
  }
  const double step = 2.0 * kPi * freq_hz / rate;
  std::vector<std::complex<double>> blocks;
  for (std::size_t s = 0; s + len <= n; s += len / 2) {
    std::complex<double> acc = 0.0;
    for (std::size_t i = 0; i < len; ++i) {
      const double ph = step * double(s + i);
      acc += w[i] * double(x[s + i]) * std::complex<double>(std::cos(ph), -std::sin(ph));
    }
    blocks.push_back(2.0 * acc / wsum);  // a sine of peak A gives |A|
  }
  // Huber mean, from the component-wise median; the scale is the median
  // distance (x 1.4826: one deviation of a Gaussian).
  std::vector<double> re(blocks.size()), im(blocks.size()), dist(blocks.size());
  for (std::size_t b = 0; b < blocks.size(); ++b) re[b] = blocks[b].real(), im[b] = blocks[b].imag();
  auto median = [](std::vector<double> v) {
    std::nth_element(v.begin(), v.begin() + long(v.size() / 2), v.end());
    return v[v.size() / 2];
  };
  std::complex<double> mean(median(re), median(im));
  constexpr double kHuber = 1.5;
  for (int iteration = 0; iteration < 20; ++iteration) {
    for (std::size_t b = 0; b < blocks.size(); ++b) dist[b] = std::abs(blocks[b] - mean);
    const double scale = 1.4826 * median(dist);
    if (scale <= 0.0) break;
    std::complex<double> sum = 0.0;
    double weights = 0.0;
    for (std::size_t b = 0; b < blocks.size(); ++b) {
      const double weight = dist[b] <= kHuber * scale ? 1.0 : kHuber * scale / dist[b];
      sum += weight * blocks[b];
      weights += weight;
    }
    const std::complex<double> next = sum / weights;
    const bool settled = std::abs(next - mean) <= 1e-6 * scale;
    mean = next;
    if (settled) break;
  }
  return std::abs(mean);
}

// What a party hears of its own voice, dB against what it sent: the
// coherent amplitudes of the two at its frequency (-300 for none at all).
inline double own_voice_db(const float* heard, std::size_t heard_n, const float* sent, std::size_t sent_n,
                           double freq_hz, double rate, double spacing_hz) {
  const double h = coherent_amplitude(heard, heard_n, freq_hz, rate, spacing_hz);
  const double s = coherent_amplitude(sent, sent_n, freq_hz, rate, spacing_hz);
  if (s <= 0.0) return NAN;
  return h > 0.0 ? 20.0 * std::log10(h / s) : -300.0;
}

}  // namespace cascade
