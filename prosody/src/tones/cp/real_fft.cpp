#include "real_fft.hpp"

#include <cmath>
#include <cstring>

namespace prosody::tones::cp {
namespace {

#if defined(__GNUC__) || defined(__clang__)
// Four floats in one SSE/NEON register; the compiler maps the operators.
typedef float Vec4 __attribute__((vector_size(16)));
inline Vec4 load4(const float* p) {
  Vec4 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void store4(float* p, Vec4 v) { std::memcpy(p, &v, sizeof v); }
#define CP_FFT_VECTOR 1
#endif

}  // namespace

const RealFft& RealFft::instance() {
  static const RealFft tables;  // thread-safe one-time construction
  return tables;
}

RealFft::RealFft() {
  const double two_pi = 2.0 * 3.14159265358979323846;
  int at = 0;
  for (int len = 8; len <= kHalf; len <<= 1) {
    for (int j = 0; j < len / 2; ++j, ++at) {
      twiddle_re_[at] = static_cast<float>(std::cos(two_pi * j / len));
      twiddle_im_[at] = static_cast<float>(-std::sin(two_pi * j / len));
    }
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
  alignas(16) float zr[kHalf];
  alignas(16) float zi[kHalf];
  for (int n = 0; n < kHalf; ++n) {
    const int r = bit_reverse_[n];
    zr[r] = x[2 * n];
    zi[r] = x[2 * n + 1];
  }
  // Stages of length 2 and 4 (twiddles 1 and -j) together.
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
  // Radix-2 stages from length 8: runs of four butterflies share nothing,
  // so they go four at a time.
  const float* twr = twiddle_re_;
  const float* twi = twiddle_im_;
  for (int len = 8; len <= kHalf; len <<= 1) {
    const int half = len >> 1;
    for (int i = 0; i < kHalf; i += len) {
      for (int j = 0; j < half; j += 4) {
        const int a = i + j, b = a + half;
#ifdef CP_FFT_VECTOR
        const Vec4 wr = load4(twr + j), wi = load4(twi + j);
        const Vec4 br = load4(zr + b), bi = load4(zi + b);
        const Vec4 ar = load4(zr + a), ai = load4(zi + a);
        const Vec4 tr = br * wr - bi * wi;
        const Vec4 ti = br * wi + bi * wr;
        store4(zr + b, ar - tr);
        store4(zi + b, ai - ti);
        store4(zr + a, ar + tr);
        store4(zi + a, ai + ti);
#else
        for (int q = 0; q < 4; ++q) {
          const float wr = twr[j + q], wi = twi[j + q];
          const float tr = zr[b + q] * wr - zi[b + q] * wi;
          const float ti = zr[b + q] * wi + zi[b + q] * wr;
          zr[b + q] = zr[a + q] - tr;
          zi[b + q] = zi[a + q] - ti;
          zr[a + q] += tr;
          zi[a + q] += ti;
        }
#endif
      }
    }
    twr += half;
    twi += half;
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
