// real_fft.cpp - see real_fft.hpp.
#include "real_fft.hpp"

#include <cmath>
#include <cstring>
#include <stdexcept>

// AVX2/FMA and baseline versions, chosen at load time; sanitizer builds
// (PROSODY_NO_CLONES) keep the baseline only, as ifunc resolvers run before
// a sanitizer's runtime is up.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(PROSODY_NO_CLONES)
#define PROSODY_FFT_HOT __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define PROSODY_FFT_HOT
#endif

namespace prosody::tones {
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
#define PROSODY_FFT_VECTOR 1
#endif

}  // namespace

RealFft::RealFft(unsigned points) : points_(points), half_(points / 2) {
  if (points < kMinPoints || points > kMaxPoints || (points & (points - 1)) != 0)
    throw std::invalid_argument("RealFft: points must be a power of two in 16..1024");
  const double two_pi = 2.0 * 3.14159265358979323846;
  for (unsigned len = 8; len <= half_; len <<= 1)
    for (unsigned j = 0; j < len / 2; ++j) {
      twiddle_re_.push_back(static_cast<float>(std::cos(two_pi * j / len)));
      twiddle_im_.push_back(static_cast<float>(-std::sin(two_pi * j / len)));
    }
  for (unsigned k = 0; k <= half_; ++k) {
    split_re_.push_back(static_cast<float>(std::cos(two_pi * k / points_)));
    split_im_.push_back(static_cast<float>(-std::sin(two_pi * k / points_)));
  }
  unsigned bits = 0;
  while ((1u << bits) < half_) ++bits;
  for (unsigned i = 0; i < half_; ++i) {
    unsigned r = 0;
    for (unsigned b = 0; b < bits; ++b)
      if (i & (1u << b)) r |= 1u << (bits - 1 - b);
    bit_reverse_.push_back(static_cast<unsigned short>(r));
  }
}

PROSODY_FFT_HOT
void RealFft::forward(const float* x, float* re, float* im) const noexcept {
  const unsigned h = half_;
  alignas(32) float zr[kMaxPoints / 2];
  alignas(32) float zi[kMaxPoints / 2];
  const unsigned short* rev = bit_reverse_.data();
  zr[0] = x[0];  // rev[0] == 0; said outright so the compiler sees zr[0] set
  zi[0] = x[1];
  for (unsigned n = 1; n < h; ++n) {
    zr[rev[n]] = x[2 * n];
    zi[rev[n]] = x[2 * n + 1];
  }
  // Stages of length 2 and 4 (twiddles 1 and -j) together.
  for (unsigned i = 0; i < h; i += 4) {
    const float ar = zr[i] + zr[i + 1], ai = zi[i] + zi[i + 1];
    const float br = zr[i] - zr[i + 1], bi = zi[i] - zi[i + 1];
    const float cr = zr[i + 2] + zr[i + 3], ci = zi[i + 2] + zi[i + 3];
    const float dr = zr[i + 2] - zr[i + 3], di = zi[i + 2] - zi[i + 3];
    zr[i] = ar + cr;
    zi[i] = ai + ci;
    zr[i + 2] = ar - cr;
    zi[i + 2] = ai - ci;
    // (dr + j di) * (-j) = di - j dr
    zr[i + 1] = br + di;
    zi[i + 1] = bi - dr;
    zr[i + 3] = br - di;
    zi[i + 3] = bi + dr;
  }
  // Radix-2 stages from length 8: runs of four butterflies share nothing,
  // so they go four at a time.
  const float* twr = twiddle_re_.data();
  const float* twi = twiddle_im_.data();
  for (unsigned len = 8; len <= h; len <<= 1) {
    const unsigned half = len >> 1;
    for (unsigned i = 0; i < h; i += len) {
      for (unsigned j = 0; j < half; j += 4) {
        const unsigned a = i + j, b = a + half;
#ifdef PROSODY_FFT_VECTOR
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
        for (unsigned q = 0; q < 4; ++q) {
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
  const float* spr = split_re_.data();
  const float* spi = split_im_.data();
  re[0] = zr[0] + zi[0];
  im[0] = 0.0f;
  re[h] = zr[0] - zi[0];
  im[h] = 0.0f;
  for (unsigned k = 1; k < h; ++k) {
    const unsigned b = h - k;
    const float er = 0.5f * (zr[k] + zr[b]), ei = 0.5f * (zi[k] - zi[b]);
    const float or_ = 0.5f * (zi[k] + zi[b]), oi = -0.5f * (zr[k] - zr[b]);
    re[k] = er + spr[k] * or_ - spi[k] * oi;
    im[k] = ei + spr[k] * oi + spi[k] * or_;
  }
}

}  // namespace prosody::tones
