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

PROSODY_HOT float limit_with_gain(float* x, std::size_t n, const float* peaks, float g0, float g1, LimiterState& state,
                                  const LimiterCoefficients& c, float* g) {
  if (n == 0) return 1.0f;
  // Local copies: g is a float pointer, so the compiler would otherwise
  // reload every coefficient after each store to it.
  const std::size_t sb = c.subblock;
  const float threshold = c.threshold, attack = c.attack_ratio, release = c.release_ratio;
  std::size_t nb = 0;  // sub-blocks: counted, not divided (a division costs more than a frame's few)
  for (std::size_t at = 0; at < n; at += sb) ++nb;
  const float vstep = (g1 - g0) / static_cast<float>(n);
  // Gain of sample i-1 (int: int -> float conversion is one instruction).
  auto volume_at = [&](std::size_t i) { return g0 + vstep * static_cast<float>(static_cast<int>(i)); };

  // Allowed limiter gain of each sub-block, from its peak after the ramp
  // (bounded by the larger ramp gain at its ends); boundary b may not exceed
  // what either sub-block next to it allows.
  bool needed = state.gain < 1.0f;
  float prev_allowed = 1.0f;
  for (std::size_t b = 0; b < nb; ++b) {
    const std::size_t at = b * sb;
    const std::size_t end = std::min(at + sb, n);
    const float pk = peaks[b] * std::max(std::fabs(volume_at(at + 1)), std::fabs(volume_at(end)));
    const float allowed = pk > threshold ? threshold / pk : 1.0f;
    needed |= allowed < 1.0f;
    g[b] = b == 0 ? allowed : std::min(prev_allowed, allowed);
    prev_allowed = allowed;
  }
  if (!needed) {
    // Nothing to limit and no gain recovering: the ramp alone (or nothing).
    if (g0 != 1.0f || g1 != 1.0f) apply_gain_ramp(x, n, g0, g1);
    return 1.0f;
  }
  // Into a peak: gain falls no faster than the attack allows (backward pass;
  // the running value stays in a register).
  float next = prev_allowed;
  g[nb] = next;
  for (std::size_t b = nb; b-- > 0;) {
    next = std::min(g[b], next * attack);
    g[b] = next;
  }
  // After it: recovers no faster than the release allows (forward pass). The
  // first boundary continues from the last frame, unless a peak right at the
  // start of the frame needs less.
  float last = std::min(g[0], state.gain);
  g[0] = last;
  float lowest = std::min(last, 1.0f);
  for (std::size_t b = 1; b <= nb; ++b) {
    last = std::min({g[b], last * release, 1.0f});
    g[b] = last;
    lowest = std::min(lowest, last);
  }
  // One pass: the output ramp times the limiter gain, linear from g[b] to
  // g[b+1] within each sub-block (its last sample gets exactly g[b+1]).
  apply_subblock_gains(x, n, sb, g, g0, vstep);
  state.gain = last;
  return lowest;
}

}  // namespace prosody::dsp
