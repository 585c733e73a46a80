#include "dsp/kernels.hpp"

#include <algorithm>
#include <cmath>

namespace prosody::dsp {

// The hot kernels are built twice, for AVX2 and for the x86-64 baseline; the
// loader picks the best the CPU has (GCC function multi-versioning).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(PROSODY_NO_CLONES)
#define PROSODY_HOT __attribute__((target_clones("avx2", "default")))
#else
#define PROSODY_HOT
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

std::size_t sanitise(float* x, std::size_t n, float limit) {
  std::size_t bad = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (!std::isfinite(x[i])) {
      x[i] = 0.0f;
      ++bad;
    } else {
      x[i] = std::clamp(x[i], -limit, limit);
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

PROSODY_HOT BlockStats block_stats(const float* x, std::size_t n) {
  float s = 0.0f, p = 0.0f;
#pragma omp simd reduction(+ : s) reduction(max : p)
  for (std::size_t i = 0; i < n; ++i) {
    s += x[i] * x[i];
    p = std::max(p, std::fabs(x[i]));
  }
  return BlockStats{s, p};
}

PROSODY_HOT double subtract_narrow(const double* a, const float* b, float* out, std::size_t n, std::size_t sub,
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

PROSODY_HOT float peak_abs(const float* x, std::size_t n) {
  float m = 0.0f;
#pragma omp simd reduction(max : m)
  for (std::size_t i = 0; i < n; ++i) m = std::max(m, std::fabs(x[i]));
  return m;
}

void linear_ramp(float* ramp, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) ramp[i] = static_cast<float>(i + 1) / static_cast<float>(n);
}

}  // namespace prosody::dsp
