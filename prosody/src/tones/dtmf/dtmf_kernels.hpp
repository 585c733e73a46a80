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

// re[i] + j im[i] = c exp(j w i) for i < n (n rounded up to a multiple of 8
// is written).
void fill_rotation(std::complex<double> c, double w, unsigned n, float* re, float* im);

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
// window h[i] = (1 - cos[i]) / 2.
void windowed_residual(const float* x, const float* weight, const float* const basis[4], const double a[4],
                       const float* cos, unsigned n, float* out);

// Weighted normal equations of a fit of x by four basis functions: g[r][c]
// = sum w b_r b_c (upper triangle), g[r][4] = sum w b_r x.
void normal_equations(const float* x, const float* weight, const float* const basis[4], unsigned n, double g[4][5]);

// exp(j theta) for |theta| <= 0.3 by its Taylor series (error below 2e-12):
// small frequency corrections without a call into libm.
inline std::complex<double> small_rotation(double theta) {
  const double t2 = theta * theta;
  const double c = 1.0 - t2 / 2.0 * (1.0 - t2 / 12.0 * (1.0 - t2 / 30.0 * (1.0 - t2 / 56.0)));
  const double s = theta * (1.0 - t2 / 6.0 * (1.0 - t2 / 20.0 * (1.0 - t2 / 42.0 * (1.0 - t2 / 72.0))));
  return {c, s};
}

}  // namespace prosody::tones::dtmf
