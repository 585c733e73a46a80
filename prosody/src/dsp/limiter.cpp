#include "dsp/limiter.hpp"

#include <algorithm>
#include <cmath>

#include "dsp/kernels.hpp"

namespace prosody::dsp {

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(PROSODY_NO_CLONES)
#define PROSODY_HOT __attribute__((target_clones("avx2", "default")))
#else
#define PROSODY_HOT
#endif

LimiterCoefficients limiter_coefficients(const LimiterParams& p, unsigned rate) {
  LimiterCoefficients c;
  c.threshold = p.threshold;
  c.subblock = std::max<std::size_t>(4, static_cast<std::size_t>(p.subblock_ms * rate / 1000.0f));
  c.attack_ratio = static_cast<float>(std::pow(10.0, p.attack_db_per_ms * p.subblock_ms / 20.0));
  c.release_ratio = static_cast<float>(std::pow(10.0, p.release_db_per_s * p.subblock_ms / 1000.0 / 20.0));
  return c;
}

PROSODY_HOT std::size_t limiter_scan(float* x, std::size_t n, float g0, float g1, const LimiterCoefficients& c,
                                     float* peaks, double& sum_squares) {
  const std::size_t sb = c.subblock;
  const float step = n ? (g1 - g0) / static_cast<float>(n) : 0.0f;
  const bool unity = g0 == 1.0f && g1 == 1.0f;
  std::size_t blocks = 0;
  float ss = 0.0f;
  for (std::size_t at = 0; at < n; at += sb, ++blocks) {
    const std::size_t len = std::min(sb, n - at);
    float* p = x + at;
    float pk = 0.0f;
    if (unity) {
#pragma omp simd reduction(+ : ss) reduction(max : pk)
      for (std::size_t i = 0; i < len; ++i) {
        ss += p[i] * p[i];
        pk = std::max(pk, std::fabs(p[i]));
      }
    } else {
      const float base = g0 + step * static_cast<float>(at + 1);
      const int count = static_cast<int>(len);  // int -> float vectorises
#pragma omp simd reduction(+ : ss) reduction(max : pk)
      for (int i = 0; i < count; ++i) {
        p[i] *= base + step * static_cast<float>(i);
        ss += p[i] * p[i];
        pk = std::max(pk, std::fabs(p[i]));
      }
    }
    peaks[blocks] = pk;
  }
  sum_squares = ss;
  return blocks;
}

PROSODY_HOT float limit(float* x, std::size_t n, const float* peaks, std::size_t nb, LimiterState& state,
                        const LimiterCoefficients& c, float* g) {
  if (n == 0 || nb == 0) return 1.0f;
  float peak = 0.0f;
  for (std::size_t b = 0; b < nb; ++b) peak = std::max(peak, peaks[b]);
  // Nothing to limit and no gain still recovering: untouched.
  if (peak <= c.threshold && state.gain >= 1.0f) return 1.0f;

  const std::size_t sb = c.subblock;
  // Allowed gain of each sub-block; boundary b (g[b], the gain at the start
  // of sub-block b) may not exceed what either sub-block next to it allows.
  float prev_allowed = 1.0f;
  for (std::size_t b = 0; b < nb; ++b) {
    const float allowed = peaks[b] > c.threshold ? c.threshold / peaks[b] : 1.0f;
    g[b] = b == 0 ? allowed : std::min(prev_allowed, allowed);
    prev_allowed = allowed;
  }
  g[nb] = prev_allowed;
  // Into a peak: gain falls no faster than the attack allows (backward pass).
  for (std::size_t b = nb; b-- > 0;) g[b] = std::min(g[b], g[b + 1] * c.attack_ratio);
  // After it: recovers no faster than the release allows (forward pass). The
  // first boundary continues from the last frame, unless a peak right at the
  // start of the frame needs less.
  g[0] = std::min(g[0], state.gain);
  float lowest = std::min(g[0], 1.0f);
  for (std::size_t b = 1; b <= nb; ++b) {
    g[b] = std::min({g[b], g[b - 1] * c.release_ratio, 1.0f});
    lowest = std::min(lowest, g[b]);
  }
  for (std::size_t b = 0; b < nb; ++b) {
    // Linear from g[b] to g[b+1] across the sub-block (its last sample gets
    // exactly g[b+1]).
    const std::size_t at = b * sb;
    const std::size_t len = std::min(sb, n - at);
    const float g0 = g[b];
    const float step = (g[b + 1] - g0) / static_cast<float>(len);
    float* p = x + at;
    const int count = static_cast<int>(len);  // int -> float vectorises
    for (int i = 0; i < count; ++i) p[i] *= g0 + step * static_cast<float>(i + 1);
  }
  state.gain = g[nb];
  return lowest;
}

}  // namespace prosody::dsp
