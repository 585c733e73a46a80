// dtmf_kernels.cpp - see dtmf_kernels.hpp.
#include "dtmf_kernels.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

// AVX2/FMA and baseline versions, chosen at load time; sanitizer builds
// (PROSODY_NO_CLONES) keep the baseline only, as ifunc resolvers run before
// a sanitizer's runtime is up.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(PROSODY_NO_CLONES)
#define PROSODY_DTMF_KERNEL __attribute__((target_clones("arch=x86-64-v3", "default"), optimize("fp-contract=fast")))
#elif defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define PROSODY_DTMF_KERNEL __attribute__((optimize("fp-contract=fast")))
#else
#define PROSODY_DTMF_KERNEL
#endif

namespace prosody::tones::dtmf {

// The kernels are written with vector types so that accumulators stay in
// registers. The helpers pass 32-byte vectors by value; they are always
// inlined into the kernels, so the baseline-vs-AVX calling convention never
// matters.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"

namespace {

typedef float v8f __attribute__((vector_size(32)));
typedef float v16f __attribute__((vector_size(64)));
typedef double v4d __attribute__((vector_size(32)));
typedef float v4f __attribute__((vector_size(16)));

__attribute__((always_inline)) inline v8f load8(const float* p) {
  v8f v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
__attribute__((always_inline)) inline void store8(float* p, v8f v) { std::memcpy(p, &v, sizeof v); }

template <typename V>
__attribute__((always_inline)) inline V load_vector(const float* p) {
  V v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

constexpr std::size_t kBankStride = 16 * kBankHopSamples;  // the same sample in the next-older window

// The three windows' sums (real and imaginary, eight channels each) in
// eight-lane vectors. add(): adds one sample v; t is its coefficient row in
// the newest window. (The scalar is broadcast by the vector operations:
// v8f{} + v instead costs an add per sample, for the same sums, as a sum
// that starts at +0 never becomes -0.)
struct BankSums8 {
  v8f r0, i0, r1, i1, r2, i2;
  __attribute__((always_inline)) void load(const float (*acc)[16]) {
    r0 = load8(acc[0]), i0 = load8(acc[0] + 8), r1 = load8(acc[1]), i1 = load8(acc[1] + 8);
    r2 = load8(acc[2]), i2 = load8(acc[2] + 8);
  }
  __attribute__((always_inline)) void add(float v, const float* t) {
    r0 += v * load8(t);
    i0 += v * load8(t + 8);
    r1 += v * load8(t + kBankStride);
    i1 += v * load8(t + kBankStride + 8);
    r2 += v * load8(t + 2 * kBankStride);
    i2 += v * load8(t + 2 * kBankStride + 8);
  }
  // acc = these sums + other's.
  __attribute__((always_inline)) void store_with(const BankSums8& other, float (*acc)[16]) const {
    store8(acc[0], r0 + other.r0), store8(acc[0] + 8, i0 + other.i0);
    store8(acc[1], r1 + other.r1), store8(acc[1] + 8, i1 + other.i1);
    store8(acc[2], r2 + other.r2), store8(acc[2] + 8, i2 + other.i2);
  }
};

// The same in sixteen-lane vectors (a window's real and imaginary parts in
// one): every lane adds the same products in the same order, so the sums
// are the same as BankSums8's.
struct BankSums16 {
  v16f w0, w1, w2;
  __attribute__((always_inline)) void load(const float (*acc)[16]) {
    w0 = load_vector<v16f>(acc[0]), w1 = load_vector<v16f>(acc[1]), w2 = load_vector<v16f>(acc[2]);
  }
  __attribute__((always_inline)) void add(float v, const float* t) {
    w0 += v * load_vector<v16f>(t);
    w1 += v * load_vector<v16f>(t + kBankStride);
    w2 += v * load_vector<v16f>(t + 2 * kBankStride);
  }
  __attribute__((always_inline)) void store_with(const BankSums16& other, float (*acc)[16]) const {
    const v16f s0 = w0 + other.w0, s1 = w1 + other.w1, s2 = w2 + other.w2;
    std::memcpy(acc[0], &s0, sizeof s0);
    std::memcpy(acc[1], &s1, sizeof s1);
    std::memcpy(acc[2], &s2, sizeof s2);
  }
};

// Three overlapping windows, eight complex frequencies each, side by side:
// per sample, six 8-lane (or three 16-lane) multiply-adds against rows of
// the coefficient table.
template <typename Sums>
__attribute__((always_inline)) inline void accumulate_bank(const float* x, std::size_t n, unsigned position,
                                                           float (*acc)[16], const float (*coefficients)[16]) {
  Sums a, b{};  // two samples a step into separate sums: independent chains keep the FMA pipes busy
  a.load(acc);
  const float* t = coefficients[position];
  std::size_t i = 0;
  for (; i + 2 <= n; i += 2, t += 32) {
    a.add(x[i], t);
    b.add(x[i + 1], t + 16);
  }
  for (; i < n; ++i, t += 16) a.add(x[i], t);
  a.store_with(b, acc);
}

}  // namespace

static_assert(kBankWindows == 3, "bank_accumulate is unrolled for three concurrent windows");

// Sixteen lanes where the machine has them (AVX-512: one multiply-add per
// window and sample), else eight. The versions are chosen at load time like
// the clones; versions of one function are only dispatched to from their own
// file, hence the plain bank_accumulate around them.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(PROSODY_NO_CLONES)
namespace {
__attribute__((target("arch=x86-64-v4"), optimize("fp-contract=fast"))) void accumulate_bank_best(
    const float* x, std::size_t n, unsigned position, float (*acc)[16], const float (*coefficients)[16]) {
  accumulate_bank<BankSums16>(x, n, position, acc, coefficients);
}
__attribute__((target("arch=x86-64-v3"), optimize("fp-contract=fast"))) void accumulate_bank_best(
    const float* x, std::size_t n, unsigned position, float (*acc)[16], const float (*coefficients)[16]) {
  accumulate_bank<BankSums8>(x, n, position, acc, coefficients);
}
__attribute__((target("default"), optimize("fp-contract=fast"))) void accumulate_bank_best(
    const float* x, std::size_t n, unsigned position, float (*acc)[16], const float (*coefficients)[16]) {
  accumulate_bank<BankSums8>(x, n, position, acc, coefficients);
}
}  // namespace

void bank_accumulate(const float* x, std::size_t n, unsigned position, float (*acc)[16],
                     const float (*coefficients)[16]) {
  accumulate_bank_best(x, n, position, acc, coefficients);
}
#else
PROSODY_DTMF_KERNEL
void bank_accumulate(const float* x, std::size_t n, unsigned position, float (*acc)[16],
                     const float (*coefficients)[16]) {
  accumulate_bank<BankSums8>(x, n, position, acc, coefficients);
}
#endif

// One whole window from contiguous samples (for hops between bank hops).
// The window (L = kWindowSamples) is symmetric about its centre
// c = (L-1)/2, so samples n and L-1-n fold together: with u = c - n, sum
// and difference s, d,
//   z = exp(-j w c) sum_{n < L/2} w[n] (s cos(w u) + j d sin(w u)),
// half the multiply-adds of the direct sum. `folded` holds w cos(w u)
// then w sin(w u) per pair, `centre` cos(w c) then -sin(w c) per channel.
PROSODY_DTMF_KERNEL
void window_dft(const float* x, const float (*folded)[16], const float* centre, float* out) {
  constexpr unsigned kPairs = kWindowSamples / 2;
  static_assert(kPairs % 4 == 0, "window_dft takes four pairs a step");
  // Fold first (vectorised), then broadcast each pair from memory: four
  // independent chains each for the real and imaginary sums.
  float sum[kPairs], difference[kPairs];
  for (unsigned n = 0; n < kPairs; ++n) {
    sum[n] = x[n] + x[kWindowSamples - 1 - n];
    difference[n] = x[n] - x[kWindowSamples - 1 - n];
  }
  v8f re[4] = {}, im[4] = {};
  for (unsigned n = 0; n < kPairs; n += 4) {
    for (unsigned k = 0; k < 4; ++k) {
      re[k] += sum[n + k] * load8(folded[n + k]);
      im[k] += difference[n + k] * load8(folded[n + k] + 8);
    }
  }
  const v8f r = (re[0] + re[1]) + (re[2] + re[3]), i = (im[0] + im[1]) + (im[2] + im[3]);
  const v8f cr = load8(centre), ci = load8(centre + 8);  // exp(-j w c)
  store8(out, r * cr - i * ci);
  store8(out + 8, r * ci + i * cr);
}

namespace {

// One rotation's eight interleaved recurrences, so each chain is n/8 long
// and the lanes go side by side; run in double, stored in single precision.
struct RotationLanes {
  v4d r0, r1, i0, i1;  // lanes 0-3 and 4-7
  double sr, si;       // the step of every lane, exp(j 8 w)

  // Lane k starts at c u^k.
  __attribute__((always_inline)) void start(std::complex<double> c, std::complex<double> u) {
    std::complex<double> lanes[8], u8;
    phasor_lanes(c, u, lanes, u8);
    double lr[8], li[8];
    for (int k = 0; k < 8; ++k) lr[k] = lanes[k].real(), li[k] = lanes[k].imag();
    sr = u8.real(), si = u8.imag();
    std::memcpy(&r0, lr, sizeof r0);
    std::memcpy(&r1, lr + 4, sizeof r1);
    std::memcpy(&i0, li, sizeof i0);
    std::memcpy(&i1, li + 4, sizeof i1);
  }
  // Stores eight values and steps.
  __attribute__((always_inline)) void store_and_step(float* re, float* im) {
    const v4f fr0 = __builtin_convertvector(r0, v4f), fr1 = __builtin_convertvector(r1, v4f);
    const v4f fi0 = __builtin_convertvector(i0, v4f), fi1 = __builtin_convertvector(i1, v4f);
    std::memcpy(re, &fr0, sizeof fr0);
    std::memcpy(re + 4, &fr1, sizeof fr1);
    std::memcpy(im, &fi0, sizeof fi0);
    std::memcpy(im + 4, &fi1, sizeof fi1);
    const v4d n0 = r0 * sr - i0 * si, n1 = r1 * sr - i1 * si;
    i0 = r0 * si + i0 * sr;
    i1 = r1 * si + i1 * sr;
    r0 = n0;
    r1 = n1;
  }
};

// K rotations in one pass: their chains are independent, so they overlap.
template <unsigned K>
__attribute__((always_inline)) inline void fill_rotations_together(const Rotation* rotations, unsigned n) {
  RotationLanes lanes[K];
  float *re[K], *im[K];
  for (unsigned k = 0; k < K; ++k) {
    lanes[k].start(rotations[k].start, rotations[k].step);
    re[k] = rotations[k].re;
    im[k] = rotations[k].im;
  }
  for (std::size_t b = 0; b < n; b += 8)
    for (unsigned k = 0; k < K; ++k) lanes[k].store_and_step(re[k] + b, im[k] + b);
}

}  // namespace

PROSODY_DTMF_KERNEL
void fill_rotations(const Rotation* rotations, unsigned count, unsigned n) {
  static_assert(kMaxRotations == 3, "fill_rotations takes one, two or three rotations");
  if (count == 1) fill_rotations_together<1>(rotations, n);
  if (count == 2) fill_rotations_together<2>(rotations, n);
  if (count == 3) fill_rotations_together<3>(rotations, n);
}

// In single precision: eight lanes per tone, each chain n/8 long.
PROSODY_DTMF_KERNEL
float two_tone_residual(std::complex<double> a, std::complex<double> unit_a, std::complex<double> b,
                        std::complex<double> unit_b, const float* x, const float* window, unsigned n, float* residual) {
  float lane[4][8];  // a: re, im; b: re, im
  const std::complex<double> start[2] = {a, b}, units[2] = {unit_a, unit_b};
  float step[4];
  for (int t = 0; t < 2; ++t) {
    std::complex<double> v[8], u8;
    phasor_lanes(start[t], units[t], v, u8);
    for (int k = 0; k < 8; ++k) {
      lane[2 * t][k] = static_cast<float>(v[k].real());
      lane[2 * t + 1][k] = static_cast<float>(v[k].imag());
    }
    step[2 * t] = static_cast<float>(u8.real());
    step[2 * t + 1] = static_cast<float>(u8.imag());
  }
  v8f ar = load8(lane[0]), ai = load8(lane[1]), br = load8(lane[2]), bi = load8(lane[3]);
  const float sar = step[0], sai = step[1], sbr = step[2], sbi = step[3];
  v8f energy = v8f{};
  for (std::size_t i = 0; i < n; i += 8) {
    const v8f r = load8(window + i) * (load8(x + i) - (ar + br));
    store8(residual + i, r);
    energy += r * r;
    const v8f na = ar * sar - ai * sai, nb = br * sbr - bi * sbi;
    ai = ar * sai + ai * sar;
    bi = br * sbi + bi * sbr;
    ar = na;
    br = nb;
  }
  float sum = 0.0f;
  for (int k = 0; k < 8; ++k) sum += energy[k];
  return sum;
}

PROSODY_DTMF_KERNEL
float peak_of(const float* x, std::size_t n) {
  float peak = 0.0f;
#pragma omp simd reduction(max : peak)
  for (std::size_t i = 0; i < n; ++i) peak = std::max(peak, std::fabs(x[i]));
  return peak;
}

PROSODY_DTMF_KERNEL
float copy_and_peak(const float* x, std::size_t n, float* to) {
  float peak = 0.0f;
#pragma omp simd reduction(max : peak)
  for (std::size_t i = 0; i < n; ++i) {
    to[i] = x[i];
    peak = std::max(peak, std::fabs(x[i]));
  }
  return peak;
}

PROSODY_DTMF_KERNEL
double energy_of(const float* x, unsigned n) {
  double e = 0.0;
#pragma omp simd reduction(+ : e)
  for (unsigned i = 0; i < n; ++i) e += double(x[i]) * x[i];
  return e;
}
#pragma GCC diagnostic pop

namespace {

// The sample weights of the sieve's fit: an array, or all ones (UnitWeight:
// 1 * v is v, so the products are the same without the multiplies).
struct UnitWeight {
  float operator[](unsigned) const { return 1.0f; }
};

template <typename Weight>
__attribute__((always_inline)) inline void windowed_residual_with(const float* x, const Weight& weight,
                                                                  const float* const basis[4], const double a[4],
                                                                  const float* cos, unsigned n, float* out) {
  const float *b0 = basis[0], *b1 = basis[1], *b2 = basis[2], *b3 = basis[3];
  const float a0 = static_cast<float>(a[0]), a1 = static_cast<float>(a[1]), a2 = static_cast<float>(a[2]),
              a3 = static_cast<float>(a[3]);
#pragma omp simd
  for (unsigned i = 0; i < n; ++i) {
    const float fit = a0 * b0[i] + a1 * b1[i] + a2 * b2[i] + a3 * b3[i];
    out[i] = weight[i] * (0.5f - 0.5f * cos[i]) * (x[i] - fit);
  }
}

// One pass, so the fourteen sums are independent chains (single precision, eight lanes each:
// the frame is at most 256 samples and the system well conditioned).
template <typename Weight>
__attribute__((always_inline)) inline void normal_equations_with(const float* x, const Weight& weight,
                                                                 const float* const basis[4], unsigned n,
                                                                 double g[4][5]) {
  const float *b0 = basis[0], *b1 = basis[1], *b2 = basis[2], *b3 = basis[3];
  float s00 = 0, s01 = 0, s02 = 0, s03 = 0, s11 = 0, s12 = 0, s13 = 0, s22 = 0, s23 = 0, s33 = 0;
  float x0 = 0, x1 = 0, x2 = 0, x3 = 0;
#pragma omp simd reduction(+ : s00, s01, s02, s03, s11, s12, s13, s22, s23, s33, x0, x1, x2, x3)
  for (unsigned i = 0; i < n; ++i) {
    const float w0 = weight[i] * b0[i], w1 = weight[i] * b1[i], w2 = weight[i] * b2[i], w3 = weight[i] * b3[i];
    s00 += w0 * b0[i], s01 += w0 * b1[i], s02 += w0 * b2[i], s03 += w0 * b3[i];
    s11 += w1 * b1[i], s12 += w1 * b2[i], s13 += w1 * b3[i];
    s22 += w2 * b2[i], s23 += w2 * b3[i];
    s33 += w3 * b3[i];
    x0 += w0 * x[i], x1 += w1 * x[i], x2 += w2 * x[i], x3 += w3 * x[i];
  }
  const double upper[4][5] = {
      {s00, s01, s02, s03, x0}, {0, s11, s12, s13, x1}, {0, 0, s22, s23, x2}, {0, 0, 0, s33, x3}};
  std::memcpy(g, upper, sizeof upper);
}

}  // namespace

PROSODY_DTMF_KERNEL
void windowed_residual(const float* x, const float* weight, const float* const basis[4], const double a[4],
                       const float* cos, unsigned n, float* out) {
  if (weight)
    windowed_residual_with(x, weight, basis, a, cos, n, out);
  else
    windowed_residual_with(x, UnitWeight{}, basis, a, cos, n, out);
}

PROSODY_DTMF_KERNEL
void normal_equations(const float* x, const float* weight, const float* const basis[4], unsigned n, double g[4][5]) {
  if (weight)
    normal_equations_with(x, weight, basis, n, g);
  else
    normal_equations_with(x, UnitWeight{}, basis, n, g);
}

}  // namespace prosody::tones::dtmf
