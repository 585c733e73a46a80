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
// Replaces NaN, infinities and samples beyond +/-limit by 0; returns how many.
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
// acc += in * the same ramp: a contribution added to its group sum without
// being stored. Every ramp kernel computes the ramp the same way, so the
// contribution recomputed later (copy_gain_ramp, subtract_gain_ramp_narrow)
// is bit-identical to what was added.
void accumulate_gain_ramp(double* acc, const float* x, std::size_t n, float g0, float g1);
void apply_gain(float* x, std::size_t n, float g);

double sum_squares(const float* x, std::size_t n);
float peak_abs(const float* x, std::size_t n);

struct BlockStats {
  double sum_squares = 0.0;  // NaN or infinite if any sample is not finite
  float peak = 0.0f;         // largest |x| among finite samples
};
// Sum of squares and peak in one pass.
BlockStats block_stats(const float* x, std::size_t n);
// out = in, with the statistics of block_stats, in one pass.
BlockStats copy_stats(const float* in, float* out, std::size_t n);

// out = a - b (narrowing): one listener's mix from a group sum minus its own
// input, in one pass. Returns the sum of squares of out, and stores the peak
// of every sub-block of sub samples in peaks (for the limiter).
double subtract_narrow(const double* a, const float* b, float* out, std::size_t n, std::size_t sub, float* peaks);
// The same with b = x times a gain ramp from g0 to g1 (as copy_gain_ramp):
// the listener's own contribution recomputed from its input, bit-exact.
double subtract_gain_ramp_narrow(const double* a, const float* x, float g0, float g1, float* out, std::size_t n,
                                 std::size_t sub, float* peaks);

// The limiter's gain curve: x[i] *= v(i) * l(i), where v is a ramp over the
// block (sample i of sub-block b gets g0 + vstep * (b*sub) + vstep * (k+1),
// k its index in the sub-block) and l moves linearly within each sub-block
// of sub samples from gains[b] to gains[b+1] (its last sample gets exactly
// gains[b+1]).
void apply_subblock_gains(float* x, std::size_t n, std::size_t sub, const float* gains, float g0, float vstep);

// ramp[i] = (i + 1) / n: the fade-in shape of a one-block transition.
void linear_ramp(float* ramp, std::size_t n);

}  // namespace prosody::dsp
