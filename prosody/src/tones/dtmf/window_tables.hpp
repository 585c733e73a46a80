// window_tables.hpp - the DTMF detector's analysis window and everything
// derived from it, computed once and shared by every detector: the DFT
// coefficients of the eight channels (running and folded forms), the
// window's amplitude response and cumulative weight, and the call-progress
// bases the verification removes.
#pragma once

#include <algorithm>
#include <complex>
#include <cstddef>

#include "dtmf_common.hpp"
#include "tones/real_fft.hpp"

namespace prosody::tones::dtmf {

// Points of the verification spectrum (the window zero-padded).
constexpr unsigned kVerificationFftPoints = 128;

struct WindowTables {
  // Kaiser shape: beta 7 over 96 samples rejects everything 200 Hz or more
  // off the channel frequency by 51 dB, and 231 Hz (the closest any accepted
  // low and high tone can be) by 52 dB, with a main lobe as narrow as that
  // allows.
  static constexpr double kKaiserBeta = 7.0;

  double window[kWindowSamples];
  double window_sum = 0.0;
  double window_energy = 0.0;           // sum w^2
  float window_single[kWindowSamples];  // the window in single precision
  // Running bank coefficients per window position: w[n]cos(w_k n) for
  // k = 0..7, then -w[n]sin(w_k n): the window DFT is sum x[n] * these.
  alignas(64) float bank_coefficients[kWindowSamples][16];
  // The same window folded about its centre (window_dft): w cos(w_k u),
  // w sin(w_k u) for u = (L-1)/2 - n, n < L/2 (L = kWindowSamples); and
  // exp(-j w_k (L-1)/2).
  alignas(64) float folded_coefficients[kWindowSamples / 2][16];
  alignas(64) float centre_rotation[16];
  double cumulative_weight[kWindowSamples + 1];  // share of the window's weight before sample c
  // For shares b / kShareBuckets (b <= kShareBuckets): the first entry of
  // cumulative_weight not below it, where cumulative_inverse starts looking.
  static constexpr unsigned kShareBuckets = 256;
  unsigned char bucket_start[kShareBuckets + 1];
  // Window amplitude response normalised to 1 at 0 Hz, 1 Hz steps (0..4000).
  float response_per_hz[4002];
  std::complex<double> hop_rotation[kChannels];  // exp(-j w_k kHopSamples)
  std::complex<double> nominal_unit[kChannels];  // exp(j w_k)
  // Low call-progress tone sets removed from a candidate's residual (dial
  // tone under DTMF): sinusoid bases over the window and the inverse of
  // their w^2-weighted Gram matrix, so a fit is four dot products.
  struct ProgressToneSet {
    int columns = 0;
    float basis[kWindowSamples][4];
    double inverse[4][4];
  } progress_sets[2];
  RealFft verification_fft{kVerificationFftPoints};

  WindowTables();

  // Normalised window response at an offset of df Hz.
  double response_at(double df) const {
    df = std::fabs(df);
    if (df >= 4000.0) return 0.0;
    const unsigned i = static_cast<unsigned>(df);
    const double fraction = df - i;
    return response_per_hz[i] + fraction * (response_per_hz[i + 1] - response_per_hz[i]);
  }

  // Position c (samples from the window start) at which the cumulative weight
  // reaches share: the inverse of `cumulative_weight`.
  double cumulative_inverse(double share) const {
    share = std::clamp(share, 0.0, 1.0);
    if (!(share > 0.0)) share = 0.0;  // NaN (a lower bound would find the first entry, as for 0)
    const double* end = cumulative_weight + kWindowSamples + 1;
    // The first entry not below share (std::lower_bound): from the first
    // entry not below the share's bucket, a step or two on.
    const double* it = cumulative_weight + bucket_start[static_cast<unsigned>(share * kShareBuckets)];
    while (it != end && *it < share) ++it;
    if (it == cumulative_weight) return 0.0;
    if (it == end) return kWindowSamples;
    const double hi = *it, lo = *(it - 1);
    const double c = static_cast<double>(it - cumulative_weight);
    return hi > lo ? c - 1.0 + (share - lo) / (hi - lo) : c;
  }

  // Lag-1 product of channel k between two windows a hop apart, rotated by
  // the nominal advance: its angle is the channel's frequency offset times
  // the hop (radians).
  std::complex<double> lag_product(const std::complex<float>& now, const std::complex<float>& before, int k) const {
    const std::complex<double> a(now.real(), now.imag());
    const std::complex<double> b(before.real(), before.imag());
    return a * std::conj(b) * hop_rotation[k];
  }
};

// The one set of tables (built on first use).
const WindowTables& window_tables();

}  // namespace prosody::tones::dtmf
