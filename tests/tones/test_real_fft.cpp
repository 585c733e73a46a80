// The tone detectors' shared real FFT against a direct DFT in double
// precision, at every size it accepts, on noise and on a sine between bins.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <stdexcept>
#include <vector>

#include "tones/real_fft.hpp"

namespace {

using prosody::tones::RealFft;

constexpr double kPi = 3.14159265358979323846;

// Largest bin error relative to the largest bin, in dB.
double worst_error_db(const std::vector<float>& x) {
  const unsigned n = static_cast<unsigned>(x.size());
  const RealFft fft(n);
  std::vector<float> re(fft.bins()), im(fft.bins());
  fft.forward(x.data(), re.data(), im.data());
  double peak = 0.0, worst = 0.0;
  for (unsigned k = 0; k <= n / 2; ++k) {
    double dr = 0.0, di = 0.0;
    for (unsigned i = 0; i < n; ++i) {
      dr += x[i] * std::cos(2.0 * kPi * k * i / n);
      di -= x[i] * std::sin(2.0 * kPi * k * i / n);
    }
    peak = std::max(peak, std::hypot(dr, di));
    worst = std::max(worst, std::hypot(re[k] - dr, im[k] - di));
  }
  return 20.0 * std::log10(worst / peak);
}

TEST(RealFft, MatchesDirectDftAtEverySize) {
  std::mt19937 rng(7);
  std::normal_distribution<float> gauss(0.0f, 0.3f);
  for (unsigned n = RealFft::kMinPoints; n <= RealFft::kMaxPoints; n *= 2) {
    std::vector<float> noise(n), sine(n);
    for (unsigned i = 0; i < n; ++i) {
      noise[i] = gauss(rng);
      sine[i] = static_cast<float>(0.5 * std::sin(2.0 * kPi * 0.1237 * i + 0.3));
    }
    const double e_noise = worst_error_db(noise), e_sine = worst_error_db(sine);
    // Single precision through log2(n) stages: about -120 dB; -100 dB is
    // far below anything the detectors threshold on (-25 dB and up).
    EXPECT_LT(e_noise, -100.0) << n << " points, noise";
    EXPECT_LT(e_sine, -100.0) << n << " points, sine";
    RecordProperty("points_" + std::to_string(n), std::to_string(std::max(e_noise, e_sine)));
  }
}

TEST(RealFft, BinsOfASineBetweenBinsSumToItsEnergy) {
  // Parseval: the one-sided spectrum carries the signal's energy. The DTMF
  // detector's early exits rely on exactly this bound.
  const unsigned n = 128;
  std::vector<float> x(n);
  double energy = 0.0;
  for (unsigned i = 0; i < n; ++i) {
    x[i] = static_cast<float>(0.7 * std::cos(2.0 * kPi * 17.4 * i / n));
    energy += double(x[i]) * x[i];
  }
  const RealFft fft(n);
  std::vector<float> re(fft.bins()), im(fft.bins());
  fft.forward(x.data(), re.data(), im.data());
  double sum = 0.0;
  for (unsigned k = 0; k <= n / 2; ++k) {
    const double p = double(re[k]) * re[k] + double(im[k]) * im[k];
    sum += (k == 0 || k == n / 2 ? 1.0 : 2.0) * p;
  }
  EXPECT_NEAR(sum / n, energy, 1e-5 * energy);
}

TEST(RealFft, RejectsSizesItCannotDo) {
  EXPECT_THROW(RealFft(8), std::invalid_argument);
  EXPECT_THROW(RealFft(2048), std::invalid_argument);
  EXPECT_THROW(RealFft(100), std::invalid_argument);
  EXPECT_NO_THROW(RealFft(16));
}

}  // namespace
