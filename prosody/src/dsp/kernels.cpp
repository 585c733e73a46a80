#include "dsp/kernels.hpp"

#include <algorithm>
#include <cmath>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace prosody::dsp {

// The hot kernels are built twice, for AVX2 and for the x86-64 baseline; the
// loader picks the best the CPU has (GCC function multi-versioning).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(PROSODY_NO_CLONES)
#define PROSODY_HOT __attribute__((target_clones("avx2", "default")))
#else
#define PROSODY_HOT
#endif

// The mixing kernels every party runs every frame are also written out for
// AVX-512 and AVX2 (the compiler's own vectorisation of them spends about
// half its instructions on loop set-up and index arithmetic at 80 samples a
// frame); the portable loops below are the x86-64 baseline and the
// reference. All compute every sample with the same operations in the same
// order (and the library is built without fused multiply-add), so they give
// the same samples; only the order of summing a frame's squares differs.
// GCC function multi-versioning picks one at load time.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(PROSODY_NO_CLONES)
#define PROSODY_AVX2_KERNELS 1
#define PROSODY_PORTABLE __attribute__((target("default")))
#define PROSODY_AVX2 __attribute__((target("avx2")))
#define PROSODY_AVX512 __attribute__((target("avx512f,avx512dq,avx512vl,avx512bw")))
#else
#define PROSODY_PORTABLE
#endif

PROSODY_HOT void s16_to_float(const std::int16_t* in, float* out, std::size_t n) {
  constexpr float k = 1.0f / 32768.0f;
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<float>(in[i]) * k;
}

// Rounds half to even (the FPU's default mode, as nearbyint); NaN gives 0.
// Written so that it vectorises: the comparisons are selects.
PROSODY_HOT void float_to_s16(const float* in, std::int16_t* out, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    float v = std::nearbyint(in[i] * 32768.0f);
    v = v == v ? v : 0.0f;
    v = v < -32768.0f ? -32768.0f : v;
    v = v > 32767.0f ? 32767.0f : v;
    out[i] = static_cast<std::int16_t>(static_cast<std::int32_t>(v));
  }
}

// A sample beyond the limit is not loud audio but a corrupt value (1e30 in
// a float stream): kept, even clamped, it would drive the limiter and duck
// everyone else. It becomes silence, as NaN and infinities do.
std::size_t sanitise(float* x, std::size_t n, float limit) {
  std::size_t bad = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (!(std::fabs(x[i]) <= limit)) {  // also true for NaN
      x[i] = 0.0f;
      ++bad;
    }
  }
  return bad;
}

void zero(float* x, std::size_t n) { std::fill(x, x + n, 0.0f); }
void zero(double* x, std::size_t n) { std::fill(x, x + n, 0.0); }
void copy(const float* in, float* out, std::size_t n) { std::copy(in, in + n, out); }

PROSODY_HOT void accumulate(double* acc, const float* x, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) acc[i] += static_cast<double>(x[i]);
}

PROSODY_HOT void subtract(double* acc, const float* x, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) acc[i] -= static_cast<double>(x[i]);
}

PROSODY_HOT void accumulate_scaled(double* acc, const float* x, float factor, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) acc[i] += static_cast<double>(x[i] * factor);
}

PROSODY_HOT void accumulate_ramped(double* acc, const float* x, const float* ramp, float sign, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) acc[i] += static_cast<double>(x[i] * ramp[i] * sign);
}

PROSODY_HOT double narrow(const double* acc, float* out, std::size_t n, std::size_t sub, float* peaks) {
  float ss = 0.0f;
  for (std::size_t at = 0, b = 0; at < n; at += sub, ++b) {
    const std::size_t len = std::min(sub, n - at);
    float pk = 0.0f;
#pragma omp simd reduction(+ : ss) reduction(max : pk)
    for (std::size_t i = 0; i < len; ++i) {
      const float v = static_cast<float>(acc[at + i]);
      out[at + i] = v;
      ss += v * v;
      pk = std::max(pk, std::fabs(v));
    }
    peaks[b] = pk;
  }
  return ss;
}

PROSODY_HOT double subblock_stats(const float* x, std::size_t n, std::size_t sub, float* peaks) {
  float ss = 0.0f;
  for (std::size_t at = 0, b = 0; at < n; at += sub, ++b) {
    const std::size_t len = std::min(sub, n - at);
    float pk = 0.0f;
#pragma omp simd reduction(+ : ss) reduction(max : pk)
    for (std::size_t i = 0; i < len; ++i) {
      ss += x[at + i] * x[at + i];
      pk = std::max(pk, std::fabs(x[at + i]));
    }
    peaks[b] = pk;
  }
  return ss;
}

PROSODY_HOT void add_scaled(float* dst, const float* src, float gain, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) dst[i] += src[i] * gain;
}

PROSODY_HOT void apply_gain_ramp(float* x, std::size_t n, float g0, float g1) {
  if (n == 0) return;
  if (g0 == g1) {
    apply_gain(x, n, g0);
    return;
  }
  // 32-bit indices: int -> float conversion vectorises, size_t -> float does not.
  const float step = (g1 - g0) / static_cast<float>(n);
  const int count = static_cast<int>(n);
  for (int i = 0; i < count; ++i) x[i] *= g0 + step * static_cast<float>(i + 1);
}

PROSODY_HOT void copy_gain_ramp(const float* in, float* out, std::size_t n, float g0, float g1) {
  if (n == 0) return;
  const float step = (g1 - g0) / static_cast<float>(n);
  const int count = static_cast<int>(n);
  for (int i = 0; i < count; ++i) out[i] = in[i] * (g0 + step * static_cast<float>(i + 1));
}

PROSODY_HOT void copy_gain_ramp_accumulate(const float* in, float* out, double* acc, std::size_t n, float g0,
                                           float g1) {
  if (n == 0) return;
  const float step = (g1 - g0) / static_cast<float>(n);
  const int count = static_cast<int>(n);
  for (int i = 0; i < count; ++i) {
    out[i] = in[i] * (g0 + step * static_cast<float>(i + 1));
    acc[i] += static_cast<double>(out[i]);
  }
}

PROSODY_PORTABLE void accumulate_gain_ramp_v(double* acc, const float* x, std::size_t n, float g0, float g1) {
  if (n == 0) return;
  const float step = (g1 - g0) / static_cast<float>(n);
  const int count = static_cast<int>(n);
  for (int i = 0; i < count; ++i) acc[i] += static_cast<double>(x[i] * (g0 + step * static_cast<float>(i + 1)));
}

PROSODY_HOT void apply_gain(float* x, std::size_t n, float g) {
  if (g == 1.0f) return;
  for (std::size_t i = 0; i < n; ++i) x[i] *= g;
}

PROSODY_HOT double sum_squares(const float* x, std::size_t n) {
  // Float lanes are exact enough for one block; the total is double.
  float s = 0.0f;
#pragma omp simd reduction(+ : s)
  for (std::size_t i = 0; i < n; ++i) s += x[i] * x[i];
  return s;
}

namespace {

// block_stats and copy_stats: one loop, so that copying does not change how
// the statistics are summed (a frame copied in one piece and one copied in
// parts then measured give the same figures to the last bit).
template <bool kCopy>
inline BlockStats stats_pass(const float* in, float* out, std::size_t n) {
  float s = 0.0f, p = 0.0f;
#pragma omp simd reduction(+ : s) reduction(max : p)
  for (std::size_t i = 0; i < n; ++i) {
    if constexpr (kCopy) out[i] = in[i];
    s += in[i] * in[i];
    p = std::max(p, std::fabs(in[i]));
  }
  return BlockStats{s, p};
}

}  // namespace

PROSODY_PORTABLE BlockStats block_stats_v(const float* x, std::size_t n) { return stats_pass<false>(x, nullptr, n); }

PROSODY_PORTABLE BlockStats copy_stats_v(const float* in, float* out, std::size_t n) {
  return stats_pass<true>(in, out, n);
}

PROSODY_PORTABLE double subtract_narrow_v(const double* a, const float* b, float* out, std::size_t n, std::size_t sub,
                                          float* peaks) {
  float ss = 0.0f;
  for (std::size_t at = 0, k = 0; at < n; at += sub, ++k) {
    const std::size_t len = std::min(sub, n - at);
    float pk = 0.0f;
#pragma omp simd reduction(+ : ss) reduction(max : pk)
    for (std::size_t i = 0; i < len; ++i) {
      const float v = static_cast<float>(a[at + i] - static_cast<double>(b[at + i]));
      out[at + i] = v;
      ss += v * v;
      pk = std::max(pk, std::fabs(v));
    }
    peaks[k] = pk;
  }
  return ss;
}

PROSODY_PORTABLE double subtract_gain_ramp_narrow_v(const double* a, const float* x, float g0, float g1, float* out,
                                                    std::size_t n, std::size_t sub, float* peaks) {
  const float step = (g1 - g0) / static_cast<float>(n);
  float ss = 0.0f;
  for (std::size_t at = 0, k = 0; at < n; at += sub, ++k) {
    const int first = static_cast<int>(at);
    const int count = static_cast<int>(std::min(sub, n - at));
    float pk = 0.0f;
#pragma omp simd reduction(+ : ss) reduction(max : pk)
    for (int i = 0; i < count; ++i) {
      // The contribution exactly as copy_gain_ramp computes it.
      const float c = x[first + i] * (g0 + step * static_cast<float>(first + i + 1));
      const float v = static_cast<float>(a[first + i] - static_cast<double>(c));
      out[first + i] = v;
      ss += v * v;
      pk = std::max(pk, std::fabs(v));
    }
    peaks[k] = pk;
  }
  return ss;
}

PROSODY_HOT float peak_abs(const float* x, std::size_t n) {
  float m = 0.0f;
#pragma omp simd reduction(max : m)
  for (std::size_t i = 0; i < n; ++i) m = std::max(m, std::fabs(x[i]));
  return m;
}

PROSODY_PORTABLE void apply_subblock_gains_v(float* x, std::size_t n, std::size_t sub, const float* gains, float g0,
                                             float vstep) {
  for (std::size_t at = 0, b = 0; at < n; at += sub, ++b) {
    const int count = static_cast<int>(std::min(sub, n - at));  // int -> float vectorises
    const float l0 = gains[b];
    const float lstep = (gains[b + 1] - l0) / static_cast<float>(count);
    const float v0 = g0 + vstep * static_cast<float>(static_cast<int>(at));
    float* p = x + at;
    for (int i = 0; i < count; ++i) {
      const float fi = static_cast<float>(i + 1);
      p[i] *= (v0 + vstep * fi) * (l0 + lstep * fi);
    }
  }
}

#ifdef PROSODY_AVX2_KERNELS
// ---------------------------------------------------------------------------
// AVX2 versions: 8 samples at a time (a frame is a whole number of 8s at
// every rate and length); any remainder goes through the portable formula.

namespace {

PROSODY_AVX2 inline float horizontal_sum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(s, _mm_shuffle_ps(s, s, 1)));
}

PROSODY_AVX2 inline float horizontal_max(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  return _mm_cvtss_f32(_mm_max_ss(m, _mm_shuffle_ps(m, m, 1)));
}

PROSODY_AVX2 inline __m256 abs8(__m256 v) {
  return _mm256_and_ps(v, _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF)));
}

// The ramp gains of samples i..i+7: g0 + step * (i + 1 + lane), as the
// portable loops compute them (multiply, then add: no fused multiply-add).
// The sample numbers are exact as floats (integers far below 2^24).
struct Ramp8 {
  __m256 g0, step;
  __m256 lanes = _mm256_setr_ps(1, 2, 3, 4, 5, 6, 7, 8);
  PROSODY_AVX2 Ramp8(float start, float slope) : g0(_mm256_set1_ps(start)), step(_mm256_set1_ps(slope)) {}
  PROSODY_AVX2 __m256 at(std::size_t i) const {
    const __m256 fi = _mm256_add_ps(_mm256_set1_ps(static_cast<float>(static_cast<int>(i))), lanes);
    return _mm256_add_ps(g0, _mm256_mul_ps(step, fi));
  }
};

// double(a[i..i+7]) - double(c) narrowed to float: the bus minus a contribution.
PROSODY_AVX2 inline __m256 subtract_narrow8(const double* a, __m256 c) {
  const __m256d lo = _mm256_sub_pd(_mm256_loadu_pd(a), _mm256_cvtps_pd(_mm256_castps256_ps128(c)));
  const __m256d hi = _mm256_sub_pd(_mm256_loadu_pd(a + 4), _mm256_cvtps_pd(_mm256_extractf128_ps(c, 1)));
  return _mm256_insertf128_ps(_mm256_castps128_ps256(_mm256_cvtpd_ps(lo)), _mm256_cvtpd_ps(hi), 1);
}

// out = a - contribution(i) in sub-blocks, with the squares summed and each
// sub-block's peak stored; contribution8(i) and contribution(i) give samples
// i..i+7 and sample i.
template <class C8, class C1>
PROSODY_AVX2 inline double subtract_blocks(const double* a, float* out, std::size_t n, std::size_t sub, float* peaks,
                                           C8&& contribution8, C1&& contribution) {
  __m256 ss = _mm256_setzero_ps();
  float ss_rest = 0.0f;
  for (std::size_t at = 0, k = 0; at < n; at += sub, ++k) {
    const std::size_t end = std::min(at + sub, n);
    __m256 pk = _mm256_setzero_ps();
    float pk_rest = 0.0f;
    std::size_t i = at;
    for (; i + 8 <= end; i += 8) {
      const __m256 v = subtract_narrow8(a + i, contribution8(i));
      _mm256_storeu_ps(out + i, v);
      ss = _mm256_add_ps(ss, _mm256_mul_ps(v, v));
      pk = _mm256_max_ps(pk, abs8(v));
    }
    for (; i < end; ++i) {
      const float v = static_cast<float>(a[i] - static_cast<double>(contribution(i)));
      out[i] = v;
      ss_rest += v * v;
      pk_rest = std::max(pk_rest, std::fabs(v));
    }
    peaks[k] = std::max(horizontal_max(pk), pk_rest);
  }
  return horizontal_sum(ss) + ss_rest;
}

template <bool kCopy>
PROSODY_AVX2 inline BlockStats stats_pass8(const float* in, float* out, std::size_t n) {
  __m256 ss = _mm256_setzero_ps(), pk = _mm256_setzero_ps();
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_loadu_ps(in + i);
    if constexpr (kCopy) _mm256_storeu_ps(out + i, v);
    ss = _mm256_add_ps(ss, _mm256_mul_ps(v, v));
    pk = _mm256_max_ps(pk, abs8(v));  // a NaN sample is not a peak (max takes the second operand)
  }
  const BlockStats rest = stats_pass<kCopy>(in + i, kCopy ? out + i : nullptr, n - i);
  return BlockStats{horizontal_sum(ss) + rest.sum_squares, std::max(horizontal_max(pk), rest.peak)};
}

}  // namespace

PROSODY_AVX2 BlockStats block_stats_v(const float* x, std::size_t n) { return stats_pass8<false>(x, nullptr, n); }

PROSODY_AVX2 BlockStats copy_stats_v(const float* in, float* out, std::size_t n) {
  return stats_pass8<true>(in, out, n);
}

PROSODY_AVX2 void accumulate_gain_ramp_v(double* acc, const float* x, std::size_t n, float g0, float g1) {
  if (n == 0) return;
  const float step = (g1 - g0) / static_cast<float>(n);
  const Ramp8 ramp(g0, step);
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 c = _mm256_mul_ps(_mm256_loadu_ps(x + i), ramp.at(i));
    _mm256_storeu_pd(acc + i, _mm256_add_pd(_mm256_loadu_pd(acc + i), _mm256_cvtps_pd(_mm256_castps256_ps128(c))));
    _mm256_storeu_pd(acc + i + 4,
                     _mm256_add_pd(_mm256_loadu_pd(acc + i + 4), _mm256_cvtps_pd(_mm256_extractf128_ps(c, 1))));
  }
  for (; i < n; ++i) acc[i] += static_cast<double>(x[i] * (g0 + step * static_cast<float>(static_cast<int>(i) + 1)));
}

PROSODY_AVX2 void apply_subblock_gains_v(float* x, std::size_t n, std::size_t sub, const float* gains, float g0,
                                         float vstep) {
  const __m256 vs = _mm256_set1_ps(vstep);
  for (std::size_t at = 0, b = 0; at < n; at += sub, ++b) {
    const int count = static_cast<int>(std::min(sub, n - at));
    const float l0 = gains[b];
    const float lstep = (gains[b + 1] - l0) / static_cast<float>(count);
    const float v0 = g0 + vstep * static_cast<float>(static_cast<int>(at));
    float* p = x + at;
    const __m256 vv0 = _mm256_set1_ps(v0), vl0 = _mm256_set1_ps(l0), vls = _mm256_set1_ps(lstep);
    __m256 fi = _mm256_setr_ps(1, 2, 3, 4, 5, 6, 7, 8);  // exact: small integers
    int i = 0;
    for (; i + 8 <= count; i += 8) {
      const __m256 gain =
          _mm256_mul_ps(_mm256_add_ps(vv0, _mm256_mul_ps(vs, fi)), _mm256_add_ps(vl0, _mm256_mul_ps(vls, fi)));
      _mm256_storeu_ps(p + i, _mm256_mul_ps(_mm256_loadu_ps(p + i), gain));
      fi = _mm256_add_ps(fi, _mm256_set1_ps(8.0f));
    }
    for (; i < count; ++i) {
      const float f = static_cast<float>(i + 1);
      p[i] *= (v0 + vstep * f) * (l0 + lstep * f);
    }
  }
}

PROSODY_AVX2 double subtract_narrow_v(const double* a, const float* b, float* out, std::size_t n, std::size_t sub,
                                      float* peaks) {
  return subtract_blocks(
      a, out, n, sub, peaks, [&](std::size_t i) PROSODY_AVX2 { return _mm256_loadu_ps(b + i); },
      [&](std::size_t i) { return b[i]; });
}

PROSODY_AVX2 double subtract_gain_ramp_narrow_v(const double* a, const float* x, float g0, float g1, float* out,
                                                std::size_t n, std::size_t sub, float* peaks) {
  const float step = (g1 - g0) / static_cast<float>(n);
  const Ramp8 ramp(g0, step);
  return subtract_blocks(
      a, out, n, sub, peaks,
      [&](std::size_t i) PROSODY_AVX2 { return _mm256_mul_ps(_mm256_loadu_ps(x + i), ramp.at(i)); },
      [&](std::size_t i) { return x[i] * (g0 + step * static_cast<float>(static_cast<int>(i) + 1)); });
}

// ---------------------------------------------------------------------------
// AVX-512 versions: 16 samples at a time; a remainder (the 5 ms frame at
// 8 kHz) goes through masked loads and stores.

// GCC 12's AVX-512 intrinsics warn about their own undefined-vector
// placeholders (GCC bug 105593, fixed in 12.3).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace {

// Mask of the first count (< 16) lanes, and of its low and high 8 for the
// two halves in doubles.
PROSODY_AVX512 inline __mmask16 first_lanes(std::size_t count) { return static_cast<__mmask16>((1u << count) - 1u); }

// The ramp gains of samples i..i+15, g0 + step * (i + 1 + lane), as Ramp8
// and the portable loops compute them; fi holds i + 1 + lane as floats,
// carried from one vector to the next (exact: small integers).
PROSODY_AVX512 inline __m512 ramp16(__m512 g0, __m512 step, __m512 fi) {
  return _mm512_add_ps(g0, _mm512_mul_ps(step, fi));
}

// double(a[i..i+15]) - double(c) narrowed to float, for the lanes in mask.
PROSODY_AVX512 inline __m512 subtract_narrow16(const double* a, __m512 c, __mmask16 mask) {
  const __m512d lo =
      _mm512_sub_pd(_mm512_maskz_loadu_pd(static_cast<__mmask8>(mask), a), _mm512_cvtps_pd(_mm512_castps512_ps256(c)));
  const __m512d hi = _mm512_sub_pd(_mm512_maskz_loadu_pd(static_cast<__mmask8>(mask >> 8), a + 8),
                                   _mm512_cvtps_pd(_mm512_extractf32x8_ps(c, 1)));
  return _mm512_insertf32x8(_mm512_castps256_ps512(_mm512_cvtpd_ps(lo)), _mm512_cvtpd_ps(hi), 1);
}

// The peaks of up to four sub-blocks, each a vector of 16 lane maxima,
// reduced together (one shuffle tree instead of four dependent chains) and
// stored to dst[0..count).
PROSODY_AVX512 inline void store_peaks4(__m512 p0, __m512 p1, __m512 p2, __m512 p3, std::size_t count, float* dst) {
  // Quarters (128 bits) [a0 a1 a2 a3], [b0..b3] -> [a0|a2, a1|a3, b0|b2, b1|b3] (| : max).
  const __m512 t01 = _mm512_max_ps(_mm512_shuffle_f32x4(p0, p1, 0x44), _mm512_shuffle_f32x4(p0, p1, 0xEE));
  const __m512 t23 = _mm512_max_ps(_mm512_shuffle_f32x4(p2, p3, 0x44), _mm512_shuffle_f32x4(p2, p3, 0xEE));
  // -> one quarter per sub-block, then the max of each quarter's four lanes.
  __m512 q = _mm512_max_ps(_mm512_shuffle_f32x4(t01, t23, 0x88), _mm512_shuffle_f32x4(t01, t23, 0xDD));
  q = _mm512_max_ps(q, _mm512_permute_ps(q, 0x4E));
  q = _mm512_max_ps(q, _mm512_permute_ps(q, 0xB1));
  const __m512i first_of_each = _mm512_setr_epi32(0, 4, 8, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
  const __m128 r = _mm512_castps512_ps128(_mm512_permutexvar_ps(first_of_each, q));
  // Scalar stores: the limiter reads the peaks back at once, and a load
  // is not forwarded from a masked store (it would wait for the store to
  // reach the cache).
  _mm_store_ss(dst, r);
  if (count > 1) _mm_store_ss(dst + 1, _mm_movehdup_ps(r));
  if (count > 2) _mm_store_ss(dst + 2, _mm_unpackhi_ps(r, r));
  if (count > 3) _mm_store_ss(dst + 3, _mm_permute_ps(r, 0xFF));
}

// contribution16(i, mask, fi) gives samples i..i+15 (the lanes in mask); fi
// holds the sample numbers i+1..i+16 as floats (exact: small integers),
// carried from one vector to the next rather than converted each time.
template <class C16>
PROSODY_AVX512 inline double subtract_blocks16(const double* a, float* out, std::size_t n, std::size_t sub,
                                               float* peaks, C16&& contribution16) {
  const __m512 lanes = _mm512_setr_ps(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16);
  const __m512 sixteen = _mm512_set1_ps(16.0f);
  __m512 ss = _mm512_setzero_ps();
  // Sub-block peaks waiting to be stored (named, not an array: an array
  // indexed at run time lives in memory).
  __m512 p0 = _mm512_setzero_ps(), p1 = p0, p2 = p0;
  std::size_t held = 0, k = 0;  // how many wait; sub-blocks done
  for (std::size_t at = 0; at < n; at += sub, ++k) {
    const std::size_t end = std::min(at + sub, n);
    __m512 p = _mm512_setzero_ps();
    __m512 fi = _mm512_add_ps(_mm512_set1_ps(static_cast<float>(static_cast<int>(at))), lanes);
    for (std::size_t i = at; i < end; i += 16) {
      const __mmask16 mask = end - i >= 16 ? __mmask16(0xFFFF) : first_lanes(end - i);
      const __m512 v = subtract_narrow16(a + i, contribution16(i, mask, fi), mask);
      _mm512_mask_storeu_ps(out + i, mask, v);
      ss = _mm512_add_ps(ss, _mm512_mul_ps(v, v));  // masked-off lanes are 0
      p = _mm512_max_ps(p, _mm512_abs_ps(v));
      fi = _mm512_add_ps(fi, sixteen);
    }
    switch (held++) {
      case 0: p0 = p; break;
      case 1: p1 = p; break;
      case 2: p2 = p; break;
      default:
        store_peaks4(p0, p1, p2, p, 4, peaks + k - 3);
        held = 0;
    }
  }
  if (held > 0) {
    const __m512 z = _mm512_setzero_ps();
    store_peaks4(p0, held > 1 ? p1 : z, held > 2 ? p2 : z, z, held, peaks + k - held);
  }
  return _mm512_reduce_add_ps(ss);
}

template <bool kCopy>
PROSODY_AVX512 inline BlockStats stats_pass16(const float* in, float* out, std::size_t n) {
  __m512 ss = _mm512_setzero_ps(), pk = _mm512_setzero_ps();
  for (std::size_t i = 0; i < n; i += 16) {
    const __mmask16 mask = n - i >= 16 ? __mmask16(0xFFFF) : first_lanes(n - i);
    const __m512 v = _mm512_maskz_loadu_ps(mask, in + i);
    if constexpr (kCopy) _mm512_mask_storeu_ps(out + i, mask, v);
    ss = _mm512_add_ps(ss, _mm512_mul_ps(v, v));
    pk = _mm512_max_ps(pk, _mm512_abs_ps(v));  // a NaN sample is not a peak (max takes the second operand)
  }
  return BlockStats{_mm512_reduce_add_ps(ss), _mm512_reduce_max_ps(pk)};
}

}  // namespace

PROSODY_AVX512 BlockStats block_stats_v(const float* x, std::size_t n) { return stats_pass16<false>(x, nullptr, n); }

PROSODY_AVX512 BlockStats copy_stats_v(const float* in, float* out, std::size_t n) {
  return stats_pass16<true>(in, out, n);
}

PROSODY_AVX512 void accumulate_gain_ramp_v(double* acc, const float* x, std::size_t n, float g0, float g1) {
  if (n == 0) return;
  const __m512 start = _mm512_set1_ps(g0), step = _mm512_set1_ps((g1 - g0) / static_cast<float>(n));
  __m512 fi = _mm512_setr_ps(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16);
  for (std::size_t i = 0; i < n; i += 16, fi = _mm512_add_ps(fi, _mm512_set1_ps(16.0f))) {
    const __mmask16 mask = n - i >= 16 ? __mmask16(0xFFFF) : first_lanes(n - i);
    const __m512 c = _mm512_mul_ps(_mm512_maskz_loadu_ps(mask, x + i), ramp16(start, step, fi));
    const __mmask8 lo = static_cast<__mmask8>(mask), hi = static_cast<__mmask8>(mask >> 8);
    _mm512_mask_storeu_pd(
        acc + i, lo, _mm512_add_pd(_mm512_maskz_loadu_pd(lo, acc + i), _mm512_cvtps_pd(_mm512_castps512_ps256(c))));
    _mm512_mask_storeu_pd(
        acc + i + 8, hi,
        _mm512_add_pd(_mm512_maskz_loadu_pd(hi, acc + i + 8), _mm512_cvtps_pd(_mm512_extractf32x8_ps(c, 1))));
  }
}

PROSODY_AVX512 double subtract_narrow_v(const double* a, const float* b, float* out, std::size_t n, std::size_t sub,
                                        float* peaks) {
  return subtract_blocks16(a, out, n, sub, peaks, [&](std::size_t i, __mmask16 mask, __m512) PROSODY_AVX512 {
    return _mm512_maskz_loadu_ps(mask, b + i);
  });
}

PROSODY_AVX512 double subtract_gain_ramp_narrow_v(const double* a, const float* x, float g0, float g1, float* out,
                                                  std::size_t n, std::size_t sub, float* peaks) {
  const __m512 start = _mm512_set1_ps(g0), step = _mm512_set1_ps((g1 - g0) / static_cast<float>(n));
  return subtract_blocks16(a, out, n, sub, peaks, [&](std::size_t i, __mmask16 mask, __m512 fi) PROSODY_AVX512 {
    return _mm512_mul_ps(_mm512_maskz_loadu_ps(mask, x + i), ramp16(start, step, fi));
  });
}

PROSODY_AVX512 void apply_subblock_gains_v(float* x, std::size_t n, std::size_t sub, const float* gains, float g0,
                                           float vstep) {
  const __m512 vs = _mm512_set1_ps(vstep);
  for (std::size_t at = 0, b = 0; at < n; at += sub, ++b) {
    const int count = static_cast<int>(std::min(sub, n - at));
    const float l0 = gains[b];
    const float lstep = (gains[b + 1] - l0) / static_cast<float>(count);
    const float v0 = g0 + vstep * static_cast<float>(static_cast<int>(at));
    float* p = x + at;
    const __m512 vv0 = _mm512_set1_ps(v0), vl0 = _mm512_set1_ps(l0), vls = _mm512_set1_ps(lstep);
    __m512 fi = _mm512_setr_ps(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16);  // exact: small integers
    for (int i = 0; i < count; i += 16) {
      const __mmask16 mask = count - i >= 16 ? __mmask16(0xFFFF) : first_lanes(std::size_t(count - i));
      const __m512 gain =
          _mm512_mul_ps(_mm512_add_ps(vv0, _mm512_mul_ps(vs, fi)), _mm512_add_ps(vl0, _mm512_mul_ps(vls, fi)));
      _mm512_mask_storeu_ps(p + i, mask, _mm512_mul_ps(_mm512_maskz_loadu_ps(mask, p + i), gain));
      fi = _mm512_add_ps(fi, _mm512_set1_ps(16.0f));
    }
  }
}

#pragma GCC diagnostic pop
#endif  // PROSODY_AVX2_KERNELS

// The public mixing kernels: each runs the version made for the CPU (the
// call inside this file is what makes GCC dispatch between them).
void accumulate_gain_ramp(double* acc, const float* x, std::size_t n, float g0, float g1) {
  accumulate_gain_ramp_v(acc, x, n, g0, g1);
}
BlockStats block_stats(const float* x, std::size_t n) { return block_stats_v(x, n); }
void apply_subblock_gains(float* x, std::size_t n, std::size_t sub, const float* gains, float g0, float vstep) {
  apply_subblock_gains_v(x, n, sub, gains, g0, vstep);
}
BlockStats copy_stats(const float* in, float* out, std::size_t n) { return copy_stats_v(in, out, n); }
double subtract_narrow(const double* a, const float* b, float* out, std::size_t n, std::size_t sub, float* peaks) {
  return subtract_narrow_v(a, b, out, n, sub, peaks);
}
double subtract_gain_ramp_narrow(const double* a, const float* x, float g0, float g1, float* out, std::size_t n,
                                 std::size_t sub, float* peaks) {
  return subtract_gain_ramp_narrow_v(a, x, g0, g1, out, n, sub, peaks);
}

void linear_ramp(float* ramp, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) ramp[i] = static_cast<float>(i + 1) / static_cast<float>(n);
}

}  // namespace prosody::dsp
