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
// The helpers take and return vectors by value; always inlined, so the
// baseline-vs-AVX calling convention never applies.
#pragma GCC diagnostic ignored "-Wpsabi"
// Four and eight floats per operation; the compiler maps the operators
// (eight lanes are one AVX register, or two SSE/NEON ones).
typedef float Vec4 __attribute__((vector_size(16)));
typedef float Vec8 __attribute__((vector_size(32)));
template <typename V>
__attribute__((always_inline)) inline V load(const float* p) {
  V v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
template <typename V>
__attribute__((always_inline)) inline void store(float* p, V v) {
  std::memcpy(p, &v, sizeof v);
}
// One run of butterflies of a radix-2 stage, sizeof(V)/4 at a time.
template <typename V>
__attribute__((always_inline)) inline void butterflies(float* zr, float* zi, const float* twr, const float* twi,
                                                       unsigned a, unsigned half) {
  constexpr unsigned kLanes = sizeof(V) / sizeof(float);
  for (unsigned j = 0; j < half; j += kLanes) {
    const unsigned lo = a + j, hi = lo + half;
    const V wr = load<V>(twr + j), wi = load<V>(twi + j);
    const V br = load<V>(zr + hi), bi = load<V>(zi + hi);
    const V ar = load<V>(zr + lo), ai = load<V>(zi + lo);
    const V tr = br * wr - bi * wi;
    const V ti = br * wi + bi * wr;
    store(zr + hi, ar - tr);
    store(zi + hi, ai - ti);
    store(zr + lo, ar + tr);
    store(zi + lo, ai + ti);
  }
}
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
  // Bit-reversed order is gathered (rev is its own inverse: slot i takes
  // input pair rev[i]) straight into the stages of length 2 and 4
  // (twiddles 1 and -j): one pass, loads only from x.
  const unsigned short* rev = bit_reverse_.data();
  zr[0] = zi[0] = 0.0f;  // set below (h >= 8); said here so the compiler knows
  for (unsigned i = 0; i < h; i += 4) {
    const float* p0 = x + 2 * rev[i];
    const float* p1 = x + 2 * rev[i + 1];
    const float* p2 = x + 2 * rev[i + 2];
    const float* p3 = x + 2 * rev[i + 3];
    const float ar = p0[0] + p1[0], ai = p0[1] + p1[1];
    const float br = p0[0] - p1[0], bi = p0[1] - p1[1];
    const float cr = p2[0] + p3[0], ci = p2[1] + p3[1];
    const float dr = p2[0] - p3[0], di = p2[1] - p3[1];
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
  // Radix-2 stages from length 8: the butterflies of a run share nothing,
  // so they go four (length 8) or eight (longer) at a time.
  const float* twr = twiddle_re_.data();
  const float* twi = twiddle_im_.data();
  for (unsigned len = 8; len <= h; len <<= 1) {
    const unsigned half = len >> 1;
    for (unsigned i = 0; i < h; i += len) {
#ifdef PROSODY_FFT_VECTOR
      if (half >= 8)
        butterflies<Vec8>(zr, zi, twr, twi, i, half);
      else
        butterflies<Vec4>(zr, zi, twr, twi, i, half);
#else
      for (unsigned j = 0; j < half; ++j) {
        const unsigned a = i + j, b = a + half;
        const float wr = twr[j], wi = twi[j];
        const float tr = zr[b] * wr - zi[b] * wi;
        const float ti = zr[b] * wi + zi[b] * wr;
        zr[b] = zr[a] - tr;
        zi[b] = zi[a] - ti;
        zr[a] += tr;
        zi[a] += ti;
      }
#endif
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
