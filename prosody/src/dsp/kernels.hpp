// Sample-block kernels: pure functions, no allocation, no state beyond their
// arguments. Written as plain loops the compiler vectorises.
#pragma once

#include <cstddef>
#include <cstdint>

namespace prosody::dsp {

void s16_to_float(const std::int16_t* in, float* out, std::size_t n);
// Rounds to nearest and saturates.
void float_to_s16(const float* in, std::int16_t* out, std::size_t n);
// Replaces NaN and infinities by 0 and clamps to +/-limit; returns how many
// samples were not finite.
std::size_t sanitise(float* x, std::size_t n, float limit);

void zero(float* x, std::size_t n);
void zero(double* x, std::size_t n);
void copy(const float* in, float* out, std::size_t n);

// acc += x (mixing bus in double: integer-valued inputs sum exactly).
void accumulate(double* acc, const float* x, std::size_t n);
// acc -= x
void subtract(double* acc, const float* x, std::size_t n);
// acc += factor * x
void accumulate_scaled(double* acc, const float* x, float factor, std::size_t n);
// acc += x * ramp[i] * sign (transitions: fade a contribution in or out).
void accumulate_ramped(double* acc, const float* x, const float* ramp, float sign, std::size_t n);
// out = acc (narrowing). Returns the sum of squares of out; sub-block peaks
// as subtract_narrow.
double narrow(const double* acc, float* out, std::size_t n, std::size_t sub, float* peaks);
// The same statistics of x, without writing.
double subblock_stats(const float* x, std::size_t n, std::size_t sub, float* peaks);
// dst += src * gain
void add_scaled(float* dst, const float* src, float gain, std::size_t n);

// Multiplies x by a gain moving linearly from g0 (first sample) to g1 (last).
void apply_gain_ramp(float* x, std::size_t n, float g0, float g1);
// out = in * the same ramp, in one pass.
void copy_gain_ramp(const float* in, float* out, std::size_t n, float g0, float g1);
// The same, also adding out into acc (a contribution and its group sum).
void copy_gain_ramp_accumulate(const float* in, float* out, double* acc, std::size_t n, float g0, float g1);
void apply_gain(float* x, std::size_t n, float g);

double sum_squares(const float* x, std::size_t n);
float peak_abs(const float* x, std::size_t n);

struct BlockStats {
  double sum_squares = 0.0;  // NaN or infinite if any sample is not finite
  float peak = 0.0f;         // largest |x| among finite samples
};
// Sum of squares and peak in one pass.
BlockStats block_stats(const float* x, std::size_t n);

// out = a - b (narrowing): one listener's mix from a group sum minus its own
// input, in one pass. Returns the sum of squares of out, and stores the peak
// of every sub-block of sub samples in peaks (for the limiter).
double subtract_narrow(const double* a, const float* b, float* out, std::size_t n, std::size_t sub, float* peaks);

// ramp[i] = (i + 1) / n: the fade-in shape of a one-block transition.
void linear_ramp(float* ramp, std::size_t n);

}  // namespace prosody::dsp
