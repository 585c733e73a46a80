// dtmf_kernels.hpp - the DTMF detector's inner loops, as pure functions over
// sample arrays: the running DFT bank, one window's DFT, rotating phasors,
// two-tone residuals, peaks and energies, and the least-squares pieces of
// the harmonic sieve. Built twice (AVX2+FMA and baseline) and picked at
// load time, except in sanitizer builds.
#pragma once

#include <complex>
#include <cstddef>

#include "dtmf_common.hpp"

namespace prosody::tones::dtmf {

// The per-sample work: adds x[0..n) to kBankWindows overlapping windows,
// eight complex channels each, side by side. acc[age] holds a window's sums
// (re[8] then im[8]), age 0 the newest; `position` is the newest window's
// sample position of x[0] within its bank hop; coefficients: rows of
// WindowTables::bank_coefficients. x may not cross a bank hop.
void bank_accumulate(const float* x, std::size_t n, unsigned position, float (*acc)[16],
                     const float (*coefficients)[16]);

// The window DFT of x[0..kWindowSamples) at the eight channels, from the
// folded coefficients (WindowTables::folded_coefficients, centre_rotation):
// out receives re[8] then im[8].
void window_dft(const float* x, const float (*folded)[16], const float* centre, float* out);

// A rotating phasor to tabulate: re[i] + j im[i] = start step^i.
struct Rotation {
  std::complex<double> start;
  std::complex<double> step;  // exp(j w), w in radians per sample
  float* re;
  float* im;
};
constexpr unsigned kMaxRotations = 3;

// Tabulates count (1 to kMaxRotations) rotations for i < n (n rounded up to
// a multiple of 8 is written), in one pass.
void fill_rotations(const Rotation* rotations, unsigned count, unsigned n);

// residual[i] = window[i] (x[i] - Re(a unit_a^i) - Re(b unit_b^i)) for
// i < n (a multiple of 8). Returns the residual's energy.
float two_tone_residual(std::complex<double> a, std::complex<double> unit_a, std::complex<double> b,
                        std::complex<double> unit_b, const float* x, const float* window, unsigned n, float* residual);

// max |x[i]| for i < n.
float peak_of(const float* x, std::size_t n);

// to[i] = x[i] for i < n; returns max |x[i]| (one pass: the copy into the
// sample history and the quiet test read the input once).
float copy_and_peak(const float* x, std::size_t n, float* to);

// sum x[i]^2, in double.
double energy_of(const float* x, unsigned n);

// out[i] = weight[i] h[i] (x[i] - sum_r a[r] basis[r][i]), with the Hann
// window h[i] = (1 - cos[i]) / 2; weight null: all ones.
void windowed_residual(const float* x, const float* weight, const float* const basis[4], const double a[4],
                       const float* cos, unsigned n, float* out);

// Weighted normal equations of a fit of x by four basis functions: g[r][c]
// = sum w b_r b_c (upper triangle), g[r][4] = sum w b_r x; weight null: all
// ones.
void normal_equations(const float* x, const float* weight, const float* const basis[4], unsigned n, double g[4][5]);

// lanes[k] = c u^k for k < 8 and u8 = u^8, by a tree of products (short
// dependency chains): the starts of eight interleaved recurrences.
inline void phasor_lanes(std::complex<double> c, std::complex<double> u, std::complex<double> lanes[8],
                         std::complex<double>& u8) {
  const std::complex<double> u2 = u * u, u4 = u2 * u2;
  lanes[0] = c;
  lanes[1] = lanes[0] * u;
  lanes[2] = lanes[0] * u2;
  lanes[3] = lanes[1] * u2;
  for (int k = 0; k < 4; ++k) lanes[4 + k] = lanes[k] * u4;
  u8 = u4 * u4;
}

// exp(j theta) for |theta| <= 0.3 by its Taylor series (error below 2e-12):
// small frequency corrections without a call into libm. The coefficients are
// reciprocals, so the chains are multiply-adds, not divisions.
inline std::complex<double> small_rotation(double theta) {
  const double t2 = theta * theta;
  const double c =
      1.0 - t2 * (1.0 / 2.0) * (1.0 - t2 * (1.0 / 12.0) * (1.0 - t2 * (1.0 / 30.0) * (1.0 - t2 * (1.0 / 56.0))));
  const double s =
      theta *
      (1.0 - t2 * (1.0 / 6.0) * (1.0 - t2 * (1.0 / 20.0) * (1.0 - t2 * (1.0 / 42.0) * (1.0 - t2 * (1.0 / 72.0)))));
  return {c, s};
}

// The angle of x + j y for x > 0 (so within +/-pi/2), to 1e-11 rad: the
// phase advances of the verification model without a call into libm. The
// ratio t = |y / x| is reduced to at most tan(pi/8) (atan t = pi/4 +
// atan((t - 1) / (t + 1)), or pi/2 - atan(1 / t)), where atan(r) / r is a
// polynomial in r^2: Chebyshev interpolation of degree 6 on [0, tan^2(pi/8)],
// error below 8e-12.
inline double arc_of(double y, double x) {
  constexpr double kTanPiOver8 = 0.41421356237309504880, kTan3PiOver8 = 2.41421356237309504880;
  constexpr double kPiOver4 = 0.78539816339744830962;
  const double t = std::fabs(y / x);
  double r = t, base = 0.0;
  if (t > kTan3PiOver8) {
    r = -1.0 / t;
    base = 2.0 * kPiOver4;
  } else if (t > kTanPiOver8) {
    r = (t - 1.0) / (t + 1.0);
    base = kPiOver4;
  }
  const double u = r * r;
  const double p =
      0.99999999997839877638 +
      u * (-0.33333332097609385878 +
           u * (0.19999883856551302778 +
                u * (-0.14281588772654124125 +
                     u * (0.11040489227218240327 + u * (-0.084561928869404960153 + u * 0.047073481419680201663)))));
  return std::copysign(base + r * p, y);
}

}  // namespace prosody::tones::dtmf
