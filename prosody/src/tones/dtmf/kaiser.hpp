// kaiser.hpp - the modified Bessel function I0, which shapes the Kaiser
// windows of the DTMF detector's analysis window and of the decimator's
// filters: w(r) = I0(beta sqrt(1 - r^2)) / I0(beta) for r in [-1, 1].
#pragma once

namespace prosody::tones {

// I0(x) by its power series. For the shapes used here (x up to about 10)
// the terms fall under 1e-17 of the sum by the 25th.
inline double bessel_i0(double x) {
  double sum = 1.0, term = 1.0;
  for (int k = 1; k < 60; ++k) {
    term *= (x / (2.0 * k)) * (x / (2.0 * k));
    sum += term;
    if (term < 1e-17 * sum) break;
  }
  return sum;
}

}  // namespace prosody::tones
