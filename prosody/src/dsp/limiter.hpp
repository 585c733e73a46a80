// Peak limiter for a conference output: keeps every sample within full scale
// without hard clipping.
//
// It works on whole frames and adds no delay: the frame is complete before it
// is emitted, so the gain can start falling ahead of a peak inside the frame
// (look-ahead within the frame, zero added latency). The frame is cut into
// sub-blocks of about 4 ms; the gain is piecewise linear between sub-block
// boundaries, and each boundary gain is no higher than what both neighbouring
// sub-blocks allow, so no sample exceeds the threshold. The boundary gains
// may fall at most attack_db_per_ms going into a peak and rise at most
// release_db_per_s afterwards. Below the threshold it is exactly transparent:
// gain stays 1.0 and samples are not touched, so sums below full scale stay
// bit-exact.
#pragma once

#include <cstddef>

namespace prosody::dsp {

struct LimiterParams {
  float threshold = 32767.0f / 32768.0f;  // largest output magnitude
  float attack_db_per_ms = 6.0f;          // how steeply gain may fall ahead of a peak
  float release_db_per_s = 40.0f;         // how fast gain recovers
  float subblock_ms = 4.0f;
};

struct LimiterState {
  float gain = 1.0f;  // gain at the end of the previous frame
};

struct LimiterCoefficients {
  float threshold = 1.0f;
  std::size_t subblock = 16;   // samples
  float attack_ratio = 1.0f;   // >1: allowed gain ratio per sub-block, going back from a peak
  float release_ratio = 1.0f;  // >1: allowed gain ratio per sub-block, going forward
};

LimiterCoefficients limiter_coefficients(const LimiterParams& params, unsigned sample_rate);

// Applies the output's gain ramp (g0 to g1 across the frame, as
// apply_gain_ramp) and the limiter in one pass. peaks holds the peak of each
// sub-block of x *before* the ramp (from narrow / subtract_narrow /
// subblock_stats with c.subblock); the limiter bounds each sub-block's peak
// after the ramp by that peak times the larger ramp gain at its ends.
// scratch must hold n / subblock + 2 floats. Returns the smallest limiter
// gain applied (1.0 = the limiter left the frame alone).
float limit_with_gain(float* x, std::size_t n, const float* peaks, float g0, float g1, LimiterState& state,
                      const LimiterCoefficients& c, float* scratch);

}  // namespace prosody::dsp
