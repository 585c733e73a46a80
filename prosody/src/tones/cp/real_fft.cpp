#include "real_fft.hpp"

#include <cmath>

namespace prosody::tones::cp {

const RealFft& RealFft::instance() {
  static const RealFft tables;  // thread-safe one-time construction
  return tables;
}

RealFft::RealFft() {
  const double two_pi = 2.0 * 3.14159265358979323846;
  for (int k = 0; k < kHalf / 2; ++k) {
    twiddle_re_[k] = static_cast<float>(std::cos(two_pi * k / kHalf));
    twiddle_im_[k] = static_cast<float>(-std::sin(two_pi * k / kHalf));
  }
  for (int k = 0; k < kFftBins; ++k) {
    split_re_[k] = static_cast<float>(std::cos(two_pi * k / kFftSize));
    split_im_[k] = static_cast<float>(-std::sin(two_pi * k / kFftSize));
  }
  for (int i = 0; i < kHalf; ++i) {
    int r = 0;
    for (int b = 0; b < kLog2Half; ++b)
      if (i & (1 << b)) r |= 1 << (kLog2Half - 1 - b);
    bit_reverse_[i] = static_cast<unsigned char>(r);
  }
}

void RealFft::forward(const float* x, float* re, float* im) const noexcept {
  // Pack even samples as real and odd samples as imaginary parts of a
  // half-length complex sequence: half the work of a full complex FFT.
  float zr[kHalf], zi[kHalf];
  for (int n = 0; n < kHalf; ++n) {
    const int r = bit_reverse_[n];
    zr[r] = x[2 * n];
    zi[r] = x[2 * n + 1];
  }
  // First stage (twiddle 1) and second stage (twiddles 1, -j) written out.
  for (int i = 0; i < kHalf; i += 4) {
    const float ar = zr[i] + zr[i + 1], ai = zi[i] + zi[i + 1];
    const float br = zr[i] - zr[i + 1], bi = zi[i] - zi[i + 1];
    const float cr = zr[i + 2] + zr[i + 3], ci = zi[i + 2] + zi[i + 3];
    const float dr = zr[i + 2] - zr[i + 3], di = zi[i + 2] - zi[i + 3];
    zr[i] = ar + cr;     zi[i] = ai + ci;
    zr[i + 2] = ar - cr; zi[i + 2] = ai - ci;
    // (dr + j di) * (-j) = di - j dr
    zr[i + 1] = br + di; zi[i + 1] = bi - dr;
    zr[i + 3] = br - di; zi[i + 3] = bi + dr;
  }
  for (int len = 8; len <= kHalf; len <<= 1) {
    const int half = len >> 1;
    const int step = kHalf / len;
    for (int i = 0; i < kHalf; i += len) {
      for (int j = 0; j < half; ++j) {
        const float wr = twiddle_re_[j * step], wi = twiddle_im_[j * step];
        const int a = i + j, b = a + half;
        const float tr = zr[b] * wr - zi[b] * wi;
        const float ti = zr[b] * wi + zi[b] * wr;
        zr[b] = zr[a] - tr;
        zi[b] = zi[a] - ti;
        zr[a] += tr;
        zi[a] += ti;
      }
    }
  }
  // Untangle: X[k] = E[k] + W^k O[k], with E, O the transforms of the even
  // and odd samples recovered from Z[k] and conj(Z[N/2-k]).
  for (int k = 0; k < kFftBins; ++k) {
    const int a = k & (kHalf - 1);
    const int b = (kHalf - k) & (kHalf - 1);
    const float er = 0.5f * (zr[a] + zr[b]), ei = 0.5f * (zi[a] - zi[b]);
    const float or_ = 0.5f * (zi[a] + zi[b]), oi = -0.5f * (zr[a] - zr[b]);
    re[k] = er + split_re_[k] * or_ - split_im_[k] * oi;
    im[k] = ei + split_re_[k] * oi + split_im_[k] * or_;
  }
}

}  // namespace prosody::tones::cp
