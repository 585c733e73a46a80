// window_tables.cpp - see window_tables.hpp.
#include "window_tables.hpp"

#include <algorithm>
#include <cmath>

#include "kaiser.hpp"

namespace prosody::tones::dtmf {

WindowTables::WindowTables() {
  for (unsigned n = 0; n < kWindowSamples; ++n) {
    const double r = (2.0 * n - (kWindowSamples - 1.0)) / (kWindowSamples - 1.0);
    window[n] = bessel_i0(kKaiserBeta * std::sqrt(std::max(0.0, 1.0 - r * r))) / bessel_i0(kKaiserBeta);
    window_sum += window[n];
  }
  cumulative_weight[0] = 0.0;
  for (unsigned n = 0; n < kWindowSamples; ++n)
    cumulative_weight[n + 1] = cumulative_weight[n] + window[n] / window_sum;
  static_assert(kWindowSamples + 1 <= 255, "bucket_start holds entry indices in a byte");
  for (unsigned b = 0; b <= kShareBuckets; ++b)
    bucket_start[b] = static_cast<unsigned char>(
        std::lower_bound(cumulative_weight, cumulative_weight + kWindowSamples + 1, double(b) / kShareBuckets) -
        cumulative_weight);
  for (unsigned n = 0; n < kWindowSamples; ++n) {
    window_single[n] = static_cast<float>(window[n]);
    for (int k = 0; k < kChannels; ++k) {
      const double phase = 2.0 * kPi * kNominalHz[k] / kSampleRateHz * n;
      bank_coefficients[n][k] = static_cast<float>(window[n] * std::cos(phase));
      bank_coefficients[n][8 + k] = static_cast<float>(-window[n] * std::sin(phase));
    }
  }
  for (unsigned n = 0; n < kWindowSamples / 2; ++n) {
    const double u = (kWindowSamples - 1) / 2.0 - n;
    for (int k = 0; k < kChannels; ++k) {
      const double wk = 2.0 * kPi * kNominalHz[k] / kSampleRateHz;
      folded_coefficients[n][k] = static_cast<float>(window[n] * std::cos(wk * u));
      folded_coefficients[n][8 + k] = static_cast<float>(window[n] * std::sin(wk * u));
    }
  }
  for (int k = 0; k < kChannels; ++k) {
    const double phase = 2.0 * kPi * kNominalHz[k] / kSampleRateHz * (kWindowSamples - 1) / 2.0;
    centre_rotation[k] = static_cast<float>(std::cos(phase));
    centre_rotation[8 + k] = static_cast<float>(-std::sin(phase));
  }
  for (unsigned f = 0; f < 4002; ++f) {
    // The window is symmetric about (L-1)/2 (L = kWindowSamples): sum pairs
    // as cos((m + 1/2) a) by the Chebyshev recurrence.
    const double a = 2.0 * kPi * f / kSampleRateHz;
    const double c2 = 2.0 * std::cos(a);
    double previous = std::cos(-0.5 * a), current = std::cos(0.5 * a), sum = 0.0;
    for (unsigned m = 0; m < kWindowSamples / 2; ++m) {
      sum += 2.0 * window[kWindowSamples / 2 + m] * current;
      const double next = c2 * current - previous;
      previous = current;
      current = next;
    }
    response_per_hz[f] = static_cast<float>(sum / window_sum);
  }
  for (int k = 0; k < kChannels; ++k)
    hop_rotation[k] = std::polar(1.0, -2.0 * kPi * kNominalHz[k] / kSampleRateHz * kHopSamples);
  for (int k = 0; k < kChannels; ++k) nominal_unit[k] = std::polar(1.0, 2.0 * kPi * kNominalHz[k] / kSampleRateHz);
  for (unsigned n = 0; n < kWindowSamples; ++n) window_energy += window[n] * window[n];
  static constexpr double kProgressHz[2][2] = {{350.0, 440.0}, {425.0, 0.0}};
  for (int s = 0; s < 2; ++s) {
    ProgressToneSet& set = progress_sets[s];
    set.columns = kProgressHz[s][1] == 0.0 ? 2 : 4;  // cos and sin per frequency
    for (unsigned n = 0; n < kWindowSamples; ++n)
      for (int j = 0; j < set.columns; ++j) {
        const double phase = 2.0 * kPi * kProgressHz[s][j / 2] / kSampleRateHz * n;
        set.basis[n][j] = static_cast<float>(j % 2 ? std::sin(phase) : std::cos(phase));
      }
    // Gram matrix beside the identity, reduced to the identity beside the
    // inverse.
    double gram[4][8] = {};
    const int m = set.columns;
    for (int r = 0; r < m; ++r) {
      for (int c = 0; c < m; ++c)
        for (unsigned n = 0; n < kWindowSamples; ++n)
          gram[r][c] += window[n] * window[n] * set.basis[n][r] * set.basis[n][c];
      gram[r][m + r] = 1.0;
    }
    for (int col = 0; col < m; ++col) {  // Gauss-Jordan inverse (well conditioned)
      const double pivot = gram[col][col];
      for (int c = 0; c < 2 * m; ++c) gram[col][c] /= pivot;
      for (int r = 0; r < m; ++r) {
        if (r == col) continue;
        const double factor = gram[r][col];
        for (int c = 0; c < 2 * m; ++c) gram[r][c] -= factor * gram[col][c];
      }
    }
    for (int r = 0; r < m; ++r)
      for (int c = 0; c < m; ++c) set.inverse[r][c] = gram[r][m + c];
  }
}

const WindowTables& window_tables() {
  static const WindowTables tables;
  return tables;
}

}  // namespace prosody::tones::dtmf
