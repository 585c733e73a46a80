// dtmf_detector.cpp - see dtmf_detector.hpp and docs/tone-detection.md.
#include "dtmf_detector.hpp"

#include "tones/real_fft.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

// AVX2/FMA and baseline versions, chosen at load time; sanitizer builds
// (PROSODY_NO_CLONES) keep the baseline only, as ifunc resolvers run before
// a sanitizer's runtime is up.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(PROSODY_NO_CLONES)
#define PROSODY_DTMF_HOT __attribute__((target_clones("arch=x86-64-v3", "default"), optimize("fp-contract=fast")))
#else
#define PROSODY_DTMF_HOT __attribute__((optimize("fp-contract=fast")))
#endif

namespace prosody::tones {

namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kFs = DtmfDetector::kSampleRate;
constexpr unsigned kL = DtmfDetector::kWindow;
constexpr unsigned kH = DtmfDetector::kHop;
constexpr unsigned kBH = DtmfDetector::kBankHop;
constexpr unsigned kR = DtmfDetector::kBankWindows;
static_assert(kL % kBH == 0, "the window must be a whole number of bank hops");
static_assert(kR == 3, "bank_accumulate is unrolled for three concurrent windows");

constexpr double kNominal[8] = {697, 770, 852, 941, 1209, 1336, 1477, 1633};
constexpr char kKeypad[4][4] = {{'1', '2', '3', 'A'}, {'4', '5', '6', 'B'}, {'7', '8', '9', 'C'}, {'*', '0', '#', 'D'}};

// Kaiser shape: beta 7 over 96 samples rejects everything 200 Hz or more off
// the channel frequency by 51 dB, and 231 Hz (the closest any accepted low
// and high tone can be) by 52 dB, with a main lobe as narrow as that allows.
constexpr double kKaiserBeta = 7.0;

// A full-scale sine is +3.14 dBm0 (G.711 A-law; dsp.md section 0).
constexpr double kFullScaleSineDbm0 = 3.14;

constexpr unsigned kFft = 128;         // verification spectrum (zero-padded window)
constexpr double kBinHz = kFs / kFft;  // 62.5 Hz
// Band in which energy other than the two tones counts against a candidate:
// from just above the low call-progress tones (which are fitted and removed
// first, so their window leakage does not count) to the top of the band.
constexpr unsigned kBandLo = 9;   // 562.5 Hz
constexpr unsigned kBandHi = 54;  // 3375 Hz

// Verification thresholds (energy ratios).
constexpr double kMaxResidual = 0.30;    // other energy in band / tone energy (-5.2 dB)
constexpr double kMaxThirdPeak = 0.063;  // largest other peak / stronger tone (-12 dB)...
constexpr double kPeakOverFloor = 12.0;  // ...unless it is within 10.8 dB of the residual's median
// A call-progress fit is tried when there is real energy below the band and
// kept only if it explains nearly all of it.
constexpr double kProgressWorthTrying = 0.03;
constexpr double kProgressExplained = 0.9;

// Screening margins, loose on purpose: the screen only decides whether the
// spectral verification runs; the exact limits are applied at confirmation.
constexpr double kScreenLevelFactor = 0.5;  // -6 dB under the minimum level
constexpr double kScreenTwistMarginDb = 2.0;
constexpr double kScreenFreqFraction = 0.045;
constexpr double kScreenFarChannel = 0.063;  // power two channels away from a tone (-12 dB)
constexpr unsigned kDenseHoldHops = 2;       // hops of full resolution after the last screen pass
constexpr unsigned kVerifyEveryHop = 3;      // candidates verified on every hop until this many
// The sparse-mode screen only switches on full resolution: looser by 9 dB
// in level, 4 dB in far-channel purity and 4 dB in twist.
constexpr float kCoarseLevel = 0.125f;
constexpr float kCoarseFarChannel = 0.16f;
constexpr float kCoarseTwist = 2.5f;

double bessel_i0(double x) {
  double sum = 1.0, term = 1.0;
  for (int k = 1; k < 50; ++k) {
    term *= (x / (2.0 * k)) * (x / (2.0 * k));
    sum += term;
    if (term < 1e-17 * sum) break;
  }
  return sum;
}

}  // namespace

// Constant tables shared by every detector.
struct DtmfTables {
  double window[kL];
  double window_sum = 0.0;
  // Bank coefficients per window position: w[n]cos(w_k n) for k = 0..7, then
  // -w[n]sin(w_k n): the window DFT is sum x[n] * these.
  alignas(64) float bank[kL][16];
  // The same window folded about its centre (window_dft): w cos(w_k u),
  // w sin(w_k u) for u = (L-1)/2 - n, n < L/2; and exp(-j w_k (L-1)/2).
  alignas(64) float folded[kL / 2][16];
  alignas(64) float centre[16];
  float fft_window[kL];
  double cumulative[kL + 1];  // share of the window's weight before sample c
  // Window amplitude response normalised to 1 at 0 Hz, 1 Hz steps (0..4000).
  float response[4002];
  std::complex<double> hop_rotation[8];  // exp(-j w_k kH)
  std::complex<double> nominal_unit[8];  // exp(j w_k)
  double window_energy = 0.0;            // sum w^2
  // Low call-progress tone sets removed from a candidate's residual (dial
  // tone under DTMF): sinusoid bases over the window and the inverse of
  // their w^2-weighted Gram matrix, so a fit is four dot products.
  struct ProgressSet {
    int columns = 0;
    float basis[kL][4];
    double inverse[4][4];
  } progress[2];
  // Real FFTs: 128 points (verification spectrum) and 512 (harmonic sieve).
  RealFft fft128{128}, fft512{512};

  DtmfTables() {
    for (unsigned n = 0; n < kL; ++n) {
      const double r = (2.0 * n - (kL - 1.0)) / (kL - 1.0);
      window[n] = bessel_i0(kKaiserBeta * std::sqrt(std::max(0.0, 1.0 - r * r))) / bessel_i0(kKaiserBeta);
      window_sum += window[n];
    }
    cumulative[0] = 0.0;
    for (unsigned n = 0; n < kL; ++n) cumulative[n + 1] = cumulative[n] + window[n] / window_sum;
    for (unsigned n = 0; n < kL; ++n) {
      fft_window[n] = static_cast<float>(window[n]);
      for (int k = 0; k < 8; ++k) {
        const double ph = 2.0 * kPi * kNominal[k] / kFs * n;
        bank[n][k] = static_cast<float>(window[n] * std::cos(ph));
        bank[n][8 + k] = static_cast<float>(-window[n] * std::sin(ph));
      }
    }
    for (unsigned n = 0; n < kL / 2; ++n) {
      const double u = (kL - 1) / 2.0 - n;
      for (int k = 0; k < 8; ++k) {
        const double wk = 2.0 * kPi * kNominal[k] / kFs;
        folded[n][k] = static_cast<float>(window[n] * std::cos(wk * u));
        folded[n][8 + k] = static_cast<float>(window[n] * std::sin(wk * u));
      }
    }
    for (int k = 0; k < 8; ++k) {
      const double phase = 2.0 * kPi * kNominal[k] / kFs * (kL - 1) / 2.0;
      centre[k] = static_cast<float>(std::cos(phase));
      centre[8 + k] = static_cast<float>(-std::sin(phase));
    }
    for (unsigned f = 0; f < 4002; ++f) {
      // The window is symmetric about (L-1)/2: sum pairs as cos((m + 1/2) a)
      // by the Chebyshev recurrence.
      const double a = 2.0 * kPi * f / kFs;
      const double c2 = 2.0 * std::cos(a);
      double prev = std::cos(-0.5 * a), cur = std::cos(0.5 * a), s = 0.0;
      for (unsigned m = 0; m < kL / 2; ++m) {
        s += 2.0 * window[kL / 2 + m] * cur;
        const double next = c2 * cur - prev;
        prev = cur;
        cur = next;
      }
      response[f] = static_cast<float>(s / window_sum);
    }
    for (int k = 0; k < 8; ++k) hop_rotation[k] = std::polar(1.0, -2.0 * kPi * kNominal[k] / kFs * kH);
    for (int k = 0; k < 8; ++k) nominal_unit[k] = std::polar(1.0, 2.0 * kPi * kNominal[k] / kFs);
    for (unsigned n = 0; n < kL; ++n) window_energy += window[n] * window[n];
    static constexpr double kProgressHz[2][2] = {{350.0, 440.0}, {425.0, 0.0}};
    for (int s = 0; s < 2; ++s) {
      ProgressSet& set = progress[s];
      set.columns = kProgressHz[s][1] == 0.0 ? 2 : 4;
      for (unsigned n = 0; n < kL; ++n)
        for (int j = 0; j < set.columns; ++j) {
          const double ph = 2.0 * kPi * kProgressHz[s][j / 2] / kFs * n;
          set.basis[n][j] = static_cast<float>(j % 2 ? std::sin(ph) : std::cos(ph));
        }
      double g[4][8] = {};
      const int m = set.columns;
      for (int r = 0; r < m; ++r) {
        for (int c = 0; c < m; ++c)
          for (unsigned n = 0; n < kL; ++n) g[r][c] += window[n] * window[n] * set.basis[n][r] * set.basis[n][c];
        g[r][m + r] = 1.0;
      }
      for (int col = 0; col < m; ++col) {  // Gauss-Jordan inverse (well conditioned)
        const double pivot = g[col][col];
        for (int c = 0; c < 2 * m; ++c) g[col][c] /= pivot;
        for (int r = 0; r < m; ++r) {
          if (r == col) continue;
          const double f = g[r][col];
          for (int c = 0; c < 2 * m; ++c) g[r][c] -= f * g[col][c];
        }
      }
      for (int r = 0; r < m; ++r)
        for (int c = 0; c < m; ++c) set.inverse[r][c] = g[r][m + c];
    }
  }

  // Normalised window response at an offset of df Hz.
  double response_at(double df) const {
    df = std::fabs(df);
    if (df >= 4000.0) return 0.0;
    const unsigned i = static_cast<unsigned>(df);
    const double f = df - i;
    return response[i] + f * (response[i + 1] - response[i]);
  }

  // Position c (samples from the window start) at which the cumulative weight
  // reaches share: the inverse of `cumulative`.
  double cumulative_inverse(double share) const {
    share = std::clamp(share, 0.0, 1.0);
    const double* end = cumulative + kL + 1;
    const double* it = std::lower_bound(cumulative, end, share);
    if (it == cumulative) return 0.0;
    if (it == end) return kL;
    const double hi = *it, lo = *(it - 1);
    const double c = static_cast<double>(it - cumulative);
    return hi > lo ? c - 1.0 + (share - lo) / (hi - lo) : c;
  }
};

namespace {

const DtmfTables& tables() {
  static const DtmfTables t;
  return t;
}

// The per-sample work: three overlapping windows, eight complex frequencies
// each, side by side: per sample, six 8-lane multiply-adds against rows of
// the coefficient table. `acc` holds the windows by age (0 = newest).
// Written with vector types so the accumulators stay in registers; built
// twice (AVX2+FMA and baseline) and picked at load time.
typedef float v8f __attribute__((vector_size(32)));
typedef double v4d __attribute__((vector_size(32)));
typedef float v4f __attribute__((vector_size(16)));
// The helpers pass 32-byte vectors by value; they are always inlined into
// the kernels, so the baseline-vs-AVX calling convention never matters.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"

__attribute__((always_inline)) inline v8f load8(const float* p) {
  v8f v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
__attribute__((always_inline)) inline void store8(float* p, v8f v) { std::memcpy(p, &v, sizeof v); }

#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
#define PROSODY_DTMF_KERNEL PROSODY_DTMF_HOT
#else
#define PROSODY_DTMF_KERNEL
#endif

// The three windows' sums (real and imaginary, eight channels each).
struct BankSums {
  v8f r0, i0, r1, i1, r2, i2;
  static constexpr std::size_t kStride = 16 * kBH;  // the same sample in the next-older window
  // Adds one sample, v in every lane; t: its coefficient row in the newest window.
  __attribute__((always_inline)) void add(v8f v, const float* t) {
    r0 += v * load8(t);
    i0 += v * load8(t + 8);
    r1 += v * load8(t + kStride);
    i1 += v * load8(t + kStride + 8);
    r2 += v * load8(t + 2 * kStride);
    i2 += v * load8(t + 2 * kStride + 8);
  }
};

PROSODY_DTMF_KERNEL
void bank_accumulate(const float* x, std::size_t n, unsigned pos, float (*acc[kR])[16], const float (*bank)[16]) {
  BankSums a{load8(*acc[0]),     load8(*acc[0] + 8), load8(*acc[1]),
             load8(*acc[1] + 8), load8(*acc[2]),     load8(*acc[2] + 8)};
  const float* t = bank[pos];
  std::size_t i = 0;
  // Two samples a step into separate sums: twelve independent chains keep
  // both FMA pipes busy (six would wait on the add latency).
  BankSums b{};
  for (; i + 2 <= n; i += 2, t += 32) {
    a.add(v8f{} + x[i], t);
    b.add(v8f{} + x[i + 1], t + 16);
  }
  for (; i < n; ++i, t += 16) a.add(v8f{} + x[i], t);
  store8(*acc[0], a.r0 + b.r0), store8(*acc[0] + 8, a.i0 + b.i0);
  store8(*acc[1], a.r1 + b.r1), store8(*acc[1] + 8, a.i1 + b.i1);
  store8(*acc[2], a.r2 + b.r2), store8(*acc[2] + 8, a.i2 + b.i2);
}

// One whole window from contiguous samples (for hops between bank hops).
// The window is symmetric about its centre c = (L-1)/2, so samples n and
// L-1-n fold together: with u = c - n, sum and difference s, d,
//   z = exp(-j w c) sum_{n < L/2} w[n] (s cos(w u) + j d sin(w u)),
// half the multiply-adds of the direct sum. `folded` holds w cos(w u)
// then w sin(w u) per pair, `centre` cos(w c) then -sin(w c) per channel.
PROSODY_DTMF_KERNEL
void window_dft(const float* x, const float (*folded)[16], const float* centre, float* out) {
  constexpr unsigned kPairs = kL / 2;
  static_assert(kPairs % 4 == 0, "window_dft takes four pairs a step");
  // Fold first (vectorised), then broadcast each pair from memory: four
  // independent chains each for the real and imaginary sums.
  float sum[kPairs], difference[kPairs];
  for (unsigned n = 0; n < kPairs; ++n) {
    sum[n] = x[n] + x[kL - 1 - n];
    difference[n] = x[n] - x[kL - 1 - n];
  }
  v8f re[4] = {}, im[4] = {};
  for (unsigned n = 0; n < kPairs; n += 4) {
    for (unsigned k = 0; k < 4; ++k) {
      re[k] += (v8f{} + sum[n + k]) * load8(folded[n + k]);
      im[k] += (v8f{} + difference[n + k]) * load8(folded[n + k] + 8);
    }
  }
  const v8f r = (re[0] + re[1]) + (re[2] + re[3]), i = (im[0] + im[1]) + (im[2] + im[3]);
  const v8f cr = load8(centre), ci = load8(centre + 8);  // exp(-j w c)
  store8(out, r * cr - i * ci);
  store8(out + 8, r * ci + i * cr);
}

// re[i] + j im[i] = c exp(j w i) for i < n (n rounded up to a multiple of 8
// is written). Eight interleaved recurrences, so each chain is n/8 long and
// the lanes go side by side; run in double, stored in single precision.
PROSODY_DTMF_KERNEL
void fill_rotation(std::complex<double> c, double w, unsigned n, float* re, float* im) {
  // Lane k starts at c exp(j w k); every lane steps by exp(j 8 w).
  const double cr = std::cos(w), ci = std::sin(w);
  double lr[8], li[8];
  lr[0] = c.real();
  li[0] = c.imag();
  for (int k = 1; k < 8; ++k) {
    lr[k] = lr[k - 1] * cr - li[k - 1] * ci;
    li[k] = lr[k - 1] * ci + li[k - 1] * cr;
  }
  double sr = cr, si = ci;
  for (int doubling = 0; doubling < 3; ++doubling) {
    const double r = sr * sr - si * si;
    si = 2.0 * sr * si;
    sr = r;
  }
  v4d r0, r1, i0, i1;
  std::memcpy(&r0, lr, sizeof r0);
  std::memcpy(&r1, lr + 4, sizeof r1);
  std::memcpy(&i0, li, sizeof i0);
  std::memcpy(&i1, li + 4, sizeof i1);
  for (std::size_t b = 0; b < n; b += 8) {
    const v4f fr0 = __builtin_convertvector(r0, v4f), fr1 = __builtin_convertvector(r1, v4f);
    const v4f fi0 = __builtin_convertvector(i0, v4f), fi1 = __builtin_convertvector(i1, v4f);
    std::memcpy(re + b, &fr0, sizeof fr0);
    std::memcpy(re + b + 4, &fr1, sizeof fr1);
    std::memcpy(im + b, &fi0, sizeof fi0);
    std::memcpy(im + b + 4, &fi1, sizeof fi1);
    const v4d n0 = r0 * sr - i0 * si, n1 = r1 * sr - i1 * si;
    i0 = r0 * si + i0 * sr;
    i1 = r1 * si + i1 * sr;
    r0 = n0;
    r1 = n1;
  }
}

// exp(j theta) for |theta| <= 0.3 by its Taylor series (error below 2e-12):
// small frequency corrections without a call into libm.
std::complex<double> small_rotation(double theta) {
  const double t2 = theta * theta;
  const double c = 1.0 - t2 / 2.0 * (1.0 - t2 / 12.0 * (1.0 - t2 / 30.0 * (1.0 - t2 / 56.0)));
  const double s = theta * (1.0 - t2 / 6.0 * (1.0 - t2 / 20.0 * (1.0 - t2 / 42.0 * (1.0 - t2 / 72.0))));
  return {c, s};
}

// residual[i] = window[i] (x[i] - Re(a unit_a^i) - Re(b unit_b^i)) for
// i < n (a multiple of 8), in single precision: eight lanes per tone, each
// chain n/8 long. Returns the residual's energy.
PROSODY_DTMF_KERNEL
float two_tone_residual(std::complex<double> a, std::complex<double> unit_a, std::complex<double> b,
                        std::complex<double> unit_b, const float* x, const float* window, unsigned n, float* residual) {
  float lane[4][8];  // a: re, im; b: re, im
  const std::complex<double> start[2] = {a, b}, units[2] = {unit_a, unit_b};
  float step[4];
  for (int t = 0; t < 2; ++t) {
    // Lanes by a tree of products (short dependency chains).
    const std::complex<double> u1 = units[t], u2 = u1 * u1, u4 = u2 * u2;
    std::complex<double> v[8];
    v[0] = start[t];
    v[1] = v[0] * u1;
    v[2] = v[0] * u2;
    v[3] = v[1] * u2;
    for (int k = 0; k < 4; ++k) v[4 + k] = v[k] * u4;
    for (int k = 0; k < 8; ++k) {
      lane[2 * t][k] = static_cast<float>(v[k].real());
      lane[2 * t + 1][k] = static_cast<float>(v[k].imag());
    }
    const std::complex<double> u8 = u4 * u4;
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

// max |x[i]| for i < n.
PROSODY_DTMF_KERNEL
float peak_of(const float* x, std::size_t n) {
  float peak = 0.0f;
#pragma omp simd reduction(max : peak)
  for (std::size_t i = 0; i < n; ++i) peak = std::max(peak, std::fabs(x[i]));
  return peak;
}

// to[i] = x[i] for i < n; returns max |x[i]| (one pass: the copy into the
// sample history and the quiet test read the input once).
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

// sum x[i]^2, in double.
PROSODY_DTMF_KERNEL
double energy_of(const float* x, unsigned n) {
  double e = 0.0;
#pragma omp simd reduction(+ : e)
  for (unsigned i = 0; i < n; ++i) e += double(x[i]) * x[i];
  return e;
}
#pragma GCC diagnostic pop

// out[i] = weight[i] h[i] (x[i] - sum_r a[r] basis[r][i]), with the Hann
// window h[i] = (1 - cos[i]) / 2.
PROSODY_DTMF_KERNEL
void windowed_residual(const float* x, const float* weight, const float* const basis[4], const double a[4],
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

// Weighted normal equations of a fit of x by four basis functions: g[r][c]
// = sum w b_r b_c (upper triangle), g[r][4] = sum w b_r x. One pass, so the
// fourteen sums are independent chains (single precision, eight lanes each:
// the frame is at most 256 samples and the system well conditioned).
PROSODY_DTMF_KERNEL
void normal_equations(const float* x, const float* weight, const float* const basis[4], unsigned n, double g[4][5]) {
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

// |z|^2. (std::norm goes through hypot in libstdc++ unless fast-math is on.)
template <typename T>
inline T power(const std::complex<T>& z) {
  return z.real() * z.real() + z.imag() * z.imag();
}

double amplitude_to_dbm0(double a) { return a > 0.0 ? 20.0 * std::log10(a) + kFullScaleSineDbm0 : -200.0; }

}  // namespace

DtmfDetector::DtmfDetector(const DtmfConfig& config) : tables_(&tables()) {
  configure(config);
  reset();
}

void DtmfDetector::configure(const DtmfConfig& config) {
  config_ = config;
  min_amplitude_ = std::pow(10.0, (config_.min_level_dbm0 - kFullScaleSineDbm0) / 20.0);
  // Screen limits as bank powers and power ratios.
  const double screen_amp = min_amplitude_ * kScreenLevelFactor * tables_->window_sum / 2.0;
  screen_power_ = static_cast<float>(screen_amp * screen_amp);
  screen_reverse_ = static_cast<float>(std::pow(10.0, (config_.twist_reverse_db + kScreenTwistMarginDb) / 10.0));
  screen_normal_ = static_cast<float>(std::pow(10.0, (config_.twist_normal_db + kScreenTwistMarginDb) / 10.0));
  for (int k = 0; k < 8; ++k) screen_tan_[k] = std::tan(2.0 * kPi * kScreenFreqFraction * kNominal[k] * kH / kFs);
}

void DtmfDetector::reset() {
  for (auto& a : acc_)
    for (float& v : a) v = 0.0f;
  for (float& v : ring_) v = 0.0f;
  for (auto& h : hops_) h = HopResult{};
  head_ = 0;
  pos_ = 0;
  now_ = 0;
  hop_end_ = 0;
  dense_ = false;
  last_screened_ = 0;
  hop_count_ = 0;
  quiet_samples_ = 0;
  skipping_ = false;
  any_concealed_ = false;
  concealed_from_ = concealed_until_ = 0;
  phase_ = Phase::idle;
  row_ = column_ = 0;
  onset_ = fall_ = release_ = 0.0;
  released_digit_ = false;
  misses_ = 0;
  stats_ = Stats{};
}

double DtmfDetector::qualifying_ms() const {
  if (config_.min_duration_ms >= 64) return 61.0;
  if (config_.min_duration_ms >= 40) return 37.0;
  // The standard's own guard time: halfway between must-reject (23 ms, or
  // 20 ms for ETSI) and must-accept (40 ms), nudged down for report latency.
  return config_.standard == DtmfStandard::etsi ? 24.0 : 26.0;
}

double DtmfDetector::bridge_ms() const {
  // Gaps that must be bridged (Q.24 <= 10 ms, ETSI < 20 ms) against pauses
  // that must separate digits (40 ms): decide halfway, on the measured gap.
  return config_.standard == DtmfStandard::etsi ? 30.0 : 25.0;
}

void DtmfDetector::process(const float* x, std::size_t n, std::vector<DtmfEvent>& events) { feed(x, n, events); }

void DtmfDetector::conceal(std::size_t n, std::vector<DtmfEvent>& events) {
  if (n == 0) return;
  catch_up();  // the skipped hops predate this loss
  if (!any_concealed_ || now_ > concealed_until_) concealed_from_ = now_;
  any_concealed_ = true;
  concealed_until_ = now_ + n;
  // Zeros keep the bank's phase bookkeeping exact; the windows that see them
  // are marked unknown, so they neither end nor start anything.
  feed(nullptr, n, events);
}

void DtmfDetector::feed(const float* x, std::size_t n, std::vector<DtmfEvent>& events) {
  static const float zeros[kBH] = {};
  while (n > 0) {
    // Run the bank to the next bank hop (or the end of the input); the hop
    // in between, if crossed, is judged from the history afterwards.
    const std::size_t run = std::min<std::size_t>(n, kBH - pos_);
    const float* src = x ? x : zeros;
    // A run never crosses a bank hop, and the ring holds a whole number of
    // bank hops, so its copy into the ring never wraps.
    static_assert(kRing % kBH == 0, "the ring holds whole bank hops");
    float* to = ring_ + now_ % kRing;
    // Input below Q.24's must-reject level (-55 dBm0 per tone) cannot hold
    // a digit: while nothing tone-like is about, the bank treats it as the
    // zeros it effectively is, which costs nothing (most channels, most of
    // the time, are quiet). Once every window is quiet, not even the
    // history is written (skip_quiet).
    bool quiet;
    if (x && skipping_quiet_input()) {
      if (peak_of(x, run) < kQuietPeak) {
        skip_quiet(run);
        x += run;
        n -= run;
        continue;
      }
      catch_up();
      std::copy(x, x + run, to);
      quiet = false;
    } else {
      catch_up();
      quiet = copy_and_peak(src, run, to) < kQuietPeak || x == nullptr;
    }
    quiet_samples_ = quiet ? quiet_samples_ + run : 0;
    if (!(quiet && x != nullptr && !dense_ && phase_ == Phase::idle)) run_bank(src, run);
    const unsigned before = pos_;
    pos_ += static_cast<unsigned>(run);
    now_ += run;
    if (x) x += run;
    n -= run;
    if (before < kH && pos_ >= kH) end_of_hop(now_ - (pos_ - kH), false, events);
    if (pos_ == kBH) end_of_hop(now_, true, events);
  }
}

void DtmfDetector::skip_quiet(std::size_t run) {
  if (!skipping_) {
    // What the skipped hops would have held is known (zeros), so only where
    // the stretch began is kept; catch_up() writes it when needed. Partial
    // sums of earlier quiet input go too: quiet input counts as zeros.
    skipping_ = true;
    skip_from_hop_ = hop_count_;
    skip_from_sample_ = now_;
    for (auto& a : acc_) std::fill(std::begin(a), std::end(a), 0.0f);
  }
  quiet_samples_ += run;
  const unsigned before = pos_;
  pos_ += static_cast<unsigned>(run);
  now_ += run;
  if (before < kH && pos_ >= kH) {
    ++hop_count_;
    ++stats_.hops;
  }
  if (pos_ == kBH) {
    ++hop_count_;
    ++stats_.hops;
    pos_ = 0;
  }
}

void DtmfDetector::catch_up() {
  if (!skipping_) return;
  skipping_ = false;
  // The history as the per-hop path would have left it: zeros in the ring
  // (as far back as it reaches), zero windows at the bank hops, the hops
  // between not computed.
  const std::uint64_t first_sample = std::max<std::uint64_t>(skip_from_sample_, now_ >= kRing ? now_ - kRing : 0);
  const std::size_t at = first_sample % kRing, count = now_ - first_sample;
  const std::size_t before_wrap = std::min(count, kRing - at);
  std::fill(ring_ + at, ring_ + at + before_wrap, 0.0f);
  std::fill(ring_, ring_ + (count - before_wrap), 0.0f);
  const std::uint64_t first_hop =
      std::max<std::uint64_t>(skip_from_hop_, hop_count_ >= kHistoryHops ? hop_count_ - kHistoryHops : 0);
  for (std::uint64_t j = first_hop; j < hop_count_; ++j) {
    HopResult& h = hops_[j % kHistoryHops];
    h = HopResult{};
    h.end = (j + 1) * kH;
    h.computed = h.end % kBH == 0;
    h.unknown = any_concealed_ && h.end - kL < concealed_until_;
  }
  if (hop_count_ > skip_from_hop_) hop_end_ = hop_count_ * kH;
}

void DtmfDetector::run_bank(const float* x, std::size_t n) {
  float(*acc[kR])[16];
  for (unsigned age = 0; age < kR; ++age) acc[age] = &acc_[(head_ + age) % kR];
  bank_accumulate(x, n, pos_, acc, tables_->bank);
}

void DtmfDetector::copy_history(std::uint64_t start, unsigned n, float* out) const {
  const std::size_t at = start % kRing;
  const std::size_t first = std::min<std::size_t>(n, kRing - at);
  std::memcpy(out, ring_ + at, first * sizeof(float));
  std::memcpy(out + first, ring_, (n - first) * sizeof(float));
}

void DtmfDetector::compute_from_history(HopResult& hop) {
  float x[kL], out[16];
  const std::uint64_t start = hop.end - kL;
  const float* window = ring_ + start % kRing;
  if (start % kRing + kL > kRing) {  // wraps: gather it first
    copy_history(start, kL, x);
    window = x;
  }
  window_dft(window, tables_->folded, tables_->centre, out);
  set_window(hop, out);
  ++stats_.direct;
}

void DtmfDetector::enter_dense() {
  // Fill in the hop the bank skipped just before this one, so the phase
  // advance can be read now; older history stays at 4 ms spacing.
  dense_ = true;
  const unsigned reach = std::min<std::uint64_t>(hop_count_ - 1, 1);
  for (unsigned k = 1; k <= reach; ++k) {
    HopResult& h = hops_[(hop_count_ - 1 - k) % kHistoryHops];
    if (!h.computed && h.end >= kL && now_ - (h.end - kL) <= kRing) compute_from_history(h);
  }
}

DtmfActivity DtmfDetector::activity() const noexcept {
  DtmfActivity a;
  switch (phase_) {
    case Phase::candidate:
      a.state = DtmfActivity::State::candidate;
      break;
    case Phase::confirmed:
    case Phase::ending:
      a.state = DtmfActivity::State::present;
      break;
    default:
      a.state = DtmfActivity::State::idle;
  }
  a.onset = static_cast<std::uint64_t>(std::max(0.0, onset_));
  a.release = static_cast<std::uint64_t>(std::max(0.0, release_));
  a.released_digit = released_digit_;
  return a;
}

void DtmfDetector::end_of_hop(std::uint64_t end, bool bank_hop, std::vector<DtmfEvent>& events) {
  HopResult& hop = hops_[hop_count_ % kHistoryHops];
  hop.end = end;
  hop_end_ = end;
  hop.unknown = any_concealed_ && end - kL < concealed_until_;
  hop.computed = false;
  if (bank_hop) {
    // The oldest bank window is complete: publish it and recycle its slot
    // as the newest window.
    const unsigned oldest = (head_ + kR - 1) % kR;
    set_window(hop, acc_[oldest]);
    for (float& v : acc_[oldest]) v = 0.0f;
    head_ = oldest;
    pos_ = 0;
  } else if (dense_ && end >= kL) {
    compute_from_history(hop);
  }
  ++hop_count_;
  ++stats_.hops;
  if (end < kL || !hop.computed) return;  // no complete window yet, or skipped

  if (trace_) last_trace_ = Trace{};
  Verdict verdict;
  // A window of nothing but quiet input, with nothing tone-like about, has
  // nothing to judge.
  const bool all_quiet = quiet_samples_ >= kL && phase_ == Phase::idle && !dense_;
  if (!hop.unknown && !all_quiet) {
    judge(hop, hop_back(1), verdict);
    const bool tracked = (phase_ == Phase::confirmed || phase_ == Phase::ending || phase_ == Phase::rejected) &&
                         verdict.row == row_ && verdict.column == column_;
    if (verdict.screened && !tracked) last_screened_ = hop_count_;
    if (verdict.screened && !dense_ && !tracked) {
      enter_dense();  // the previous hop now exists: judge again with its phase
      judge(hop, hop_back(1), verdict);
    }
  }
  track(hop, verdict, events);
  // Full resolution while a tone may be starting; a tone already judged is
  // followed at the bank's 4 ms (its edges are interpolated either way).
  const bool judged = phase_ == Phase::confirmed || phase_ == Phase::ending || phase_ == Phase::rejected;
  if (dense_ && (judged || (phase_ == Phase::idle && hop_count_ - last_screened_ > kDenseHoldHops))) dense_ = false;
  if (trace_) {
    last_trace_.hop_end = hop.end;
    last_trace_.screened = verdict.screened;
    last_trace_.valid = verdict.valid;
    last_trace_.phase = static_cast<int>(phase_);
    trace_(last_trace_, trace_user_);
  }
}

void DtmfDetector::set_window(HopResult& hop, const float* re_im) {
  for (int k = 0; k < 8; ++k) hop.z[k] = {re_im[k], re_im[8 + k]};
  for (int k = 0; k < 8; ++k) hop.mag[k] = std::sqrt(re_im[k] * re_im[k] + re_im[8 + k] * re_im[8 + k]);
  hop.computed = true;
}

void DtmfDetector::judge(const HopResult& hop, const HopResult& previous, Verdict& v) {
  // Cheap screen, in the power domain (no logs or arcs on the common path).
  v = Verdict{};
  float p[8];  // |z|^2
  for (int k = 0; k < 8; ++k) p[k] = hop.mag[k] * hop.mag[k];
  // The strongest of each group (first on a tie), by selects that carry
  // the maximum along: no load waits on the index found so far.
  int row = 0, column = 4;
  float low_max = p[0], high_max = p[4];
  for (int k = 1; k < 4; ++k) {
    row = p[k] > low_max ? k : row;
    low_max = std::max(low_max, p[k]);
  }
  for (int k = 5; k < 8; ++k) {
    column = p[k] > high_max ? k : column;
    high_max = std::max(high_max, p[k]);
  }
  if (trace_) {
    const double scale = 2.0 / tables_->window_sum;
    last_trace_.row = row;
    last_trace_.column = column - 4;
    last_trace_.level_low = amplitude_to_dbm0(std::sqrt(p[row]) * scale);
    last_trace_.level_high = amplitude_to_dbm0(std::sqrt(p[column]) * scale);
  }
  // Without the previous hop (sparse mode) this only decides whether to
  // look at every hop from now on, so it is looser: a window the tone only
  // partly fills has the onset's splatter in it.
  const bool coarse = previous.unknown || !previous.computed;
  const float level = coarse ? screen_power_ * kCoarseLevel : screen_power_;
  const float far = coarse ? kCoarseFarChannel : kScreenFarChannel;
  const float twist = coarse ? kCoarseTwist : 1.0f;
  // In-group purity: a single tone leaks into the channel next to it (73 to
  // 156 Hz away) but not into the ones beyond. Noise and voiced speech fill
  // the group more evenly. The tests are combined without branches: on
  // noise their outcomes are coin tosses, which a branch predictor loses.
  bool fail = (low_max < level) | (high_max < level);
  const float far_low = far * low_max, far_high = far * high_max;
  for (int k = 0; k < 4; ++k) fail |= (std::abs(k - row) >= 2) & (p[k] > far_low);
  for (int k = 4; k < 8; ++k) fail |= (std::abs(k - column) >= 2) & (p[k] > far_high);
  fail |= (high_max > twist * screen_reverse_ * low_max) | (low_max > twist * screen_normal_ * high_max);
  if (fail) return;
  v.screened = true;  // tone-like enough to look closely (and to go dense)
  if (coarse) {
    // Name the pair (not valid: unverified), so a tone already judged is
    // recognised and followed at 4 ms without going dense.
    v.row = row;
    v.column = column - 4;
    return;
  }
  // Phase advance since the previous hop within the screening band: the lag
  // product must point within +/-theta of the nominal advance.
  auto lag = [&](int k) {
    const std::complex<double> a(hop.z[k].real(), hop.z[k].imag());
    const std::complex<double> b(previous.z[k].real(), previous.z[k].imag());
    return a * std::conj(b) * tables_->hop_rotation[k];
  };
  const std::complex<double> l_low = lag(row), l_high = lag(column);
  if (!(l_low.real() > 0.0 && std::fabs(l_low.imag()) <= screen_tan_[row] * l_low.real()) ||
      !(l_high.real() > 0.0 && std::fabs(l_high.imag()) <= screen_tan_[column] * l_high.real()))
    return;
  // Offsets from the lag products (two arc tangents) only where they are
  // used: the spectrum below, and the trace.
  // Single precision is plenty here (1e-7 rad is 1e-5 Hz) and cheaper.
  const double to_hz = kFs / (2.0 * kPi * kH);
  auto offsets = [&](double& d_low, double& d_high) {
    d_low = std::atan2(static_cast<float>(l_low.imag()), static_cast<float>(l_low.real())) * to_hz;
    d_high = std::atan2(static_cast<float>(l_high.imag()), static_cast<float>(l_high.real())) * to_hz;
  };
  if (trace_) offsets(last_trace_.offset_low, last_trace_.offset_high);
  v.row = row;
  v.column = column - 4;
  ++stats_.screened;
  // A tone already judged (confirmed, ending, bridging, or rejected) is
  // followed by presence alone; only a different pair needs the spectrum.
  const bool judged = phase_ != Phase::idle && phase_ != Phase::candidate;
  const bool same = v.row == row_ && v.column == column_;
  if (judged && same) {
    v.valid = true;
    return;
  }
  // An established candidate is verified on every other hop; the tests at
  // qualification (steadiness, harmonic sieve) see all of it anyway.
  if (phase_ == Phase::candidate && same && good_hops_ >= kVerifyEveryHop && misses_ == 0 && hop_count_ % 2 == 0) {
    v.valid = true;
    return;
  }
  double d_low, d_high;
  offsets(d_low, d_high);
  v.valid = spectrally_pure(row, column, hop, kNominal[row] + d_low, kNominal[column] + d_high);
  if (v.valid) ++stats_.verified;
  return;
}

bool DtmfDetector::spectrally_pure(int row, int column, const HopResult& hop, double f_low, double f_high) {
  const DtmfTables& t = *tables_;
  // The two tones as the bank sees them: complex amplitude c of exp(j w n)
  // from the channel output z = c * W(w - w_k), so x ~ 2 Re(c exp(j w n)).
  const int ch[2] = {row, column};
  const double f[2] = {f_low, f_high};
  std::complex<double> c[2], unit[2];  // amplitudes; exp(j w) at the measured frequencies
  for (int i = 0; i < 2; ++i) {
    const double d = f[i] - kNominal[ch[i]];
    const double r = t.response_at(d);
    if (r < 0.3) return false;  // too far off to model; the screen should not pass this
    // c = z exp(-j phi) / (W r), where delta = w - w_k and phi = delta (L - 1)/2
    // (the window's centre). Where r >= 0.3, |d| < 115 Hz: |delta| < 0.09 and
    // |phi| < 4.3, so both rotations come from the small-angle series (phi as
    // phi/16 squared four times), with no libm calls. The division is
    // written out.
    const double delta = 2.0 * kPi * d / kFs;
    unit[i] = t.nominal_unit[ch[i]] * small_rotation(delta);
    std::complex<double> rotation = small_rotation(delta * (kL - 1) / 2.0 / 16.0);
    for (int squaring = 0; squaring < 4; ++squaring) rotation *= rotation;
    const double scale = 1.0 / (t.window_sum * r);
    const double zr = hop.z[ch[i]].real(), zi = hop.z[ch[i]].imag();
    const double cos_phi = rotation.real(), sin_phi = rotation.imag();
    c[i] = {scale * (zr * cos_phi + zi * sin_phi), scale * (zi * cos_phi - zr * sin_phi)};
  }
  float residual[kFft];
  float x[kL];
  copy_history(hop.end - kL, kL, x);
  static_assert(kL % 8 == 0, "two_tone_residual works in groups of eight");
  const float residual_energy =
      two_tone_residual(2.0 * c[0], unit[0], 2.0 * c[1], unit[1], x, t.fft_window, kL, residual);
  // Windowed energy of the two tones (cross terms average out over the
  // window) and the spectral peak the stronger one shows.
  const double tone_energy = 2.0 * (power(c[0]) + power(c[1])) * t.window_energy;
  const double strongest = std::max(power(c[0]), power(c[1])) * t.window_sum * t.window_sum;
  // Band energy of a spectrum in windowed-energy units (one-sided sum * 2/N).
  constexpr double kToEnergy = 2.0 / kFft;
  // Parseval bounds both tests by the residual's energy E: the band's
  // one-sided sum times 2/N is at most E, and any one bin at most E N/2.
  // When E is too small for either test to fail (a clean digit, most of the
  // time), the spectrum cannot change the verdict and is not computed.
  if (!trace_ && residual_energy <= kMaxResidual * tone_energy &&
      residual_energy * (kFft / 2.0) <= kMaxThirdPeak * strongest)
    return true;
  std::fill(residual + kL, residual + kFft, 0.0f);  // zero padding

  float spectrum_re[kFft / 2 + 1], spectrum_im[kFft / 2 + 1];
  auto bin_power = [&](unsigned b) {
    return double(spectrum_re[b]) * spectrum_re[b] + double(spectrum_im[b]) * spectrum_im[b];
  };
  float frame[kFft];
  std::copy(residual, residual + kFft, frame);
  t.fft128.forward(frame, spectrum_re, spectrum_im);
  // Purity: little energy left in the band, and no other component near
  // the tones' strength. A "component" must stand out of the residual's
  // own floor: the largest bin of broadband noise is not one.
  auto judge_band = [&](double& energy, double& third) {
    float bins[kBandHi - kBandLo + 1];
    energy = third = 0.0;
    for (unsigned b = kBandLo; b <= kBandHi; ++b) {
      const double e = bin_power(b);
      bins[b - kBandLo] = static_cast<float>(e);
      energy += e;
      third = std::max(third, e);
    }
    if (energy * kToEnergy > kMaxResidual * tone_energy) return false;
    if (third <= kMaxThirdPeak * strongest) return true;
    constexpr unsigned kBins = kBandHi - kBandLo + 1;
    std::nth_element(bins, bins + kBins / 2, bins + kBins);
    return third <= kPeakOverFloor * bins[kBins / 2];
  };
  double energy = 0.0, third = 0.0, low = 0.0;
  bool pure = judge_band(energy, third);
  if (!pure) {
    // Dial tone and other low call-progress tones under the digit must not
    // count against it: if a standard set explains nearly all the energy
    // below the band, take it out and look again. A voiced fundamental and
    // its harmonics are not explained by these fixed frequencies, so speech
    // keeps its evidence.
    for (unsigned b = 2; b < kBandLo; ++b) low += bin_power(b);
    low *= kToEnergy;
    if (low >= kProgressWorthTrying * tone_energy) {
      int best = -1;
      double best_explained = 0.0, best_a[4] = {};
      for (int si = 0; si < 2; ++si) {
        const DtmfTables::ProgressSet& set = t.progress[si];
        double h[4] = {};
        for (unsigned n = 0; n < kL; ++n)
          for (int j = 0; j < set.columns; ++j) h[j] += t.window[n] * residual[n] * set.basis[n][j];
        double a[4] = {}, explained = 0.0;
        for (int r = 0; r < set.columns; ++r)
          for (int cc = 0; cc < set.columns; ++cc) a[r] += set.inverse[r][cc] * h[cc];
        for (int j = 0; j < set.columns; ++j) explained += a[j] * h[j];  // = a' G a
        if (explained > best_explained) {
          best_explained = explained;
          best = si;
          std::copy(a, a + 4, best_a);
        }
      }
      if (best >= 0 && best_explained >= kProgressExplained * low) {
        const DtmfTables::ProgressSet& set = t.progress[best];
        for (unsigned n = 0; n < kL; ++n) {
          double fit = 0.0;
          for (int j = 0; j < set.columns; ++j) fit += best_a[j] * set.basis[n][j];
          frame[n] = static_cast<float>(residual[n] - t.window[n] * fit);
        }
        for (unsigned n = kL; n < kFft; ++n) frame[n] = 0.0f;
        t.fft128.forward(frame, spectrum_re, spectrum_im);
        pure = judge_band(energy, third);
      }
    }
  }
  if (trace_) {
    last_trace_.residual = tone_energy > 0.0 ? energy * kToEnergy / tone_energy : 1e9;
    last_trace_.third_peak = strongest > 0.0 ? third / strongest : 1e9;
  }
  return pure;
}

}  // namespace prosody::tones

// ---------------------------------------------------------------------------
// Tone tracking: turns per-hop verdicts into digits with measured edges.

namespace prosody::tones {

namespace {
constexpr double kHalf = 0.5;              // an edge is where the tone is half present
constexpr double kSteady = 0.8;            // windows this full feed plateau and frequency
constexpr double kFullAfterGap = 0.95;     // less than this just after lost audio: the tone rose after it
constexpr unsigned kGraceHops = 2;         // failed verifications tolerated in a candidate
constexpr unsigned kGapMinGoodHops = 3;    // candidates this established may bridge a gap
constexpr double kFullTolerance = 4.0;     // samples: a window is full if it starts after the onset
constexpr double kTwistBoundaryDb = 0.25;  // accept at the limit, reject 0.5 dB past it
constexpr unsigned kMaxTotalMisses = 1;    // failed verifications allowed before confirmation (2 let a
                                           // synth note in music on hold through, A10),
constexpr unsigned kMissesPerGood = 3;     // or one per three verified hops if more
// Steadiness: a DTMF tone holds its frequency and level; voiced speech glides.
constexpr double kMaxDriftHz = 12.0;       // offset change, first vs second half
constexpr double kMaxLevelChangeDb = 1.5;  // steady amplitude, second vs first half
constexpr double kSteadyRetryMs = 11.0;    // how long steadiness may be re-judged
constexpr double kOnsetSlack = 16.0;       // samples the onset may precede the first verified window
// Harmonic sieve (talk-off): voiced speech that mimics DTMF does so with two
// harmonics of one fundamental, and its other harmonics are still there, if
// weaker. Noise spreads evenly between harmonic and in-between positions.
constexpr double kSieveMinF0 = 85.0, kSieveMaxF0 = 400.0;  // Hz, speech pitch range
constexpr double kSieveRatioTolerance = 0.012;             // |f_high - q F0| / f_high
constexpr double kSieveLoHz = 560.0;                       // clear of dial, ring and busy low tones
constexpr double kSieveHiHz = 3400.0;
constexpr double kSieveContrast = 10.0;   // harmonic / in-between probe energy
constexpr double kSieveFloor = 0.0032;    // harmonic probe energy / strongest tone (-25 dB)
constexpr unsigned kSieveMaxFrame = 256;  // samples (32 ms)
constexpr unsigned kSieveFft = 512;       // points of the sieve spectrum
constexpr unsigned kSieveMinFrame = 120;  // samples (15 ms)
constexpr double kClipLevel = 0.9;        // frames peaking above this may be clipped...
constexpr double kClipShare = 0.995;      // ...and samples this close to the peak are

double accept_offset_hz(double f) {
  // Between must-accept (1.5 % + 2 Hz) and must-reject (3.5 %), nearer the
  // former: estimates are good to a hertz or two, and every hertz of width
  // admits more speech harmonics.
  const double accept = 0.015 * f + 2.0, reject = 0.035 * f;
  return accept + 0.3 * (reject - accept);
}

// The sieve's harmonic probes of the series with fundamental f0: whole
// multiples k f0 (k >= 1) in [kSieveLoHz, kSieveHiHz] at least 0.75 f0 from
// both tones. Counted, not listed: the band's multiples less those beside a
// tone, with every boundary decided by the same comparison that lists them.
unsigned harmonic_probe_count(double f0, double f_low, double f_high) {
  const double guard = 0.75 * f0;
  auto in_band = [&](long k) {
    const double f = static_cast<double>(k) * f0;
    return f >= kSieveLoHz && f <= kSieveHiHz;
  };
  auto guarded = [&](long k) {
    const double f = static_cast<double>(k) * f0;
    return std::fabs(f - f_low) < guard || std::fabs(f - f_high) < guard;
  };
  long first = std::max(1L, static_cast<long>(std::ceil(kSieveLoHz / f0)));
  while (first > 1 && in_band(first - 1)) --first;
  while (!in_band(first) && static_cast<double>(first) * f0 < kSieveLoHz) ++first;
  long last = static_cast<long>(std::floor(kSieveHiHz / f0));
  while (in_band(last + 1)) ++last;
  while (last >= first && !in_band(last)) --last;
  if (last < first) return 0;
  long count = last - first + 1;
  // Guarded multiples lie within a multiple of each tone (the guard is under
  // f0): at most three candidates per tone, the two sets apart or equal.
  long candidates[6];
  int m = 0;
  for (double f : {f_low, f_high}) {
    const long centre = std::lround(f / f0);
    for (long k = centre - 1; k <= centre + 1; ++k) {
      bool seen = false;
      for (int i = 0; i < m; ++i) seen |= candidates[i] == k;
      if (!seen) candidates[m++] = k;
    }
  }
  for (int i = 0; i < m; ++i) count -= candidates[i] >= first && candidates[i] <= last && guarded(candidates[i]);
  return static_cast<unsigned>(count);
}
}  // namespace

double DtmfDetector::reference(bool high) const {
  if (plateau_count_ > 0) return (high ? plateau_sum_high_ : plateau_sum_low_) / plateau_count_;
  return high ? peak_high_ : peak_low_;
}

double DtmfDetector::presence(const HopResult& hop) const {
  const double rl = hop.mag[row_] / std::max(reference(false), 1e-30);
  const double rh = hop.mag[4 + column_] / std::max(reference(true), 1e-30);
  return 0.5 * (rl + rh);
}

bool DtmfDetector::tone_channels_dominate(const HopResult& hop) const {
  for (int k = 0; k < 4; ++k)
    if (k != row_ && hop.mag[k] > hop.mag[row_]) return false;
  for (int k = 4; k < 8; ++k)
    if (k != 4 + column_ && hop.mag[k] > hop.mag[4 + column_]) return false;
  return true;
}

double DtmfDetector::rising_edge(const HopResult& hop, double rho) const {
  return static_cast<double>(hop.end) - kL + tables_->cumulative_inverse(1.0 - rho) * 1.0;
}

double DtmfDetector::falling_edge(const HopResult& hop, double rho) const {
  return static_cast<double>(hop.end) - kL + tables_->cumulative_inverse(rho);
}

double DtmfDetector::estimate_onset(double* concealed, double stop_below) const {
  // Walk back from the newest window to the last one in which the tone was
  // less than half present; the onset is read from whichever of that window
  // and its successor is nearer the half-way point. Concealed windows are
  // looked past (the edge may lie before a lost packet), and the span they
  // cover is reported so the caller can allow for it. Once every window
  // left ends before stop_below, so would any edge read from them: the
  // walk stops there.
  *concealed = 0.0;
  // presence() with the plateau's reciprocals taken once for the walk.
  const double inv_low = 1.0 / std::max(reference(false), 1e-30);
  const double inv_high = 1.0 / std::max(reference(true), 1e-30);
  auto presence = [&](const HopResult& h) { return 0.5 * (h.mag[row_] * inv_low + h.mag[4 + column_] * inv_high); };
  const std::uint64_t depth = std::min<std::uint64_t>(hop_count_ - 1, kHistoryHops - 2);
  const HopResult* later = &hop_back(0);
  bool gap_between = false;  // unknown windows between `later` and the one examined
  for (unsigned k = 1; k <= depth; ++k) {
    const HopResult& h = hop_back(k);
    if (h.end < kL || static_cast<double>(later->end) < stop_below) break;
    if (!h.computed) continue;
    if (h.unknown) {
      // A window just after lost audio that the tone only partly fills
      // shows the edge came after the gap: read it there.
      if (!gap_between) {
        const double rl = presence(*later);
        if (rl < kFullAfterGap) return rising_edge(*later, std::max(rl, 0.0));
      }
      *concealed += kH;
      gap_between = true;
      continue;
    }
    const double r = presence(h);
    if (r < kHalf) {
      if (!gap_between) {
        const double rn = presence(*later);
        if (std::fabs(rn - kHalf) < std::fabs(r - kHalf)) return rising_edge(*later, std::min(rn, 1.0));
      }
      return rising_edge(h, std::max(r, 0.0));
    }
    later = &h;
    gap_between = false;
  }
  return static_cast<double>(later->end) - kL;
}

bool DtmfDetector::window_full(const HopResult& hop) const {
  return static_cast<double>(hop.end) - kL >= onset_ - kFullTolerance;
}

void DtmfDetector::absorb(const HopResult& hop, const HopResult& previous) {
  // Steady windows refine the plateau (for edges and level) and the
  // frequency (phase advance from the previous window).
  const double zl = hop.mag[row_], zh = hop.mag[4 + column_];
  peak_low_ = std::max(peak_low_, zl);
  peak_high_ = std::max(peak_high_, zh);
  if (!window_full(hop) || presence(hop) < kSteady) return;
  plateau_sum_low_ += zl;
  plateau_sum_high_ += zh;
  if (plateau_count_ < kLagKeep) {
    mags_low_[plateau_count_] = static_cast<float>(zl);
    mags_high_[plateau_count_] = static_cast<float>(zh);
  }
  ++plateau_count_;
  if (previous.computed && !previous.unknown && window_full(previous) && presence(previous) >= kSteady) {
    auto lag = [&](int k) {
      const std::complex<double> a(hop.z[k].real(), hop.z[k].imag());
      const std::complex<double> b(previous.z[k].real(), previous.z[k].imag());
      return a * std::conj(b) * tables_->hop_rotation[k];
    };
    const std::complex<double> pl = lag(row_), ph = lag(4 + column_);
    lag_low_ += pl;
    lag_high_ += ph;
    if (lag_count_ < kLagKeep) {
      lags_low_[lag_count_] = pl;
      lags_high_[lag_count_] = ph;
    }
    ++lag_count_;
  }
}

void DtmfDetector::start_candidate(const Verdict& verdict, const HopResult& hop) {
  phase_ = Phase::candidate;
  row_ = verdict.row;
  column_ = verdict.column;
  reset_measurements(hop);
  good_hops_ = 1;
  misses_ = 0;
  total_misses_ = 0;
  bridged_ = false;
  first_valid_end_ = static_cast<double>(hop.end);
  onset_ = clamped_onset();
  released_digit_ = false;
  ++stats_.candidates;
}

void DtmfDetector::reset_measurements(const HopResult& hop) {
  peak_low_ = std::abs(hop.z[row_]);
  peak_high_ = std::abs(hop.z[4 + column_]);
  plateau_sum_low_ = plateau_sum_high_ = 0.0;
  plateau_count_ = 0;
  lag_low_ = lag_high_ = 0.0;
  lag_count_ = 0;
}

double DtmfDetector::clamped_onset() const {
  // The onset is read from the magnitude rise, but never placed more than a
  // window before the first verified window (plus any concealed span): a
  // vowel that slowly turned tone-like must earn its duration while it
  // looks like DTMF.
  // (Lost audio lowers the bound as the walk finds it: then it walks on.)
  double concealed = 0.0;
  const double bound = first_valid_end_ - kL - kOnsetSlack;
  const double estimate = estimate_onset(&concealed, any_concealed_ ? -1e300 : bound);
  return std::max(estimate, bound - concealed);
}

bool DtmfDetector::steady() {
  // Compare the first and second halves of the steady windows: frequency by
  // the phase advance, level by the mean magnitude. Halves average several
  // windows, so noise moves them far less than a glide or a decay does.
  const double to_hz = kFs / (2.0 * kPi * kH);
  const unsigned n = std::min(lag_count_, kLagKeep);
  double drift_low = 0.0, drift_high = 0.0;
  if (n >= 2) {
    const unsigned half = n / 2;
    std::complex<double> a_low = 0.0, b_low = 0.0, a_high = 0.0, b_high = 0.0;
    for (unsigned i = 0; i < half; ++i) {
      a_low += lags_low_[i];
      a_high += lags_high_[i];
      b_low += lags_low_[n - half + i];
      b_high += lags_high_[n - half + i];
    }
    drift_low = std::arg(b_low * std::conj(a_low)) * to_hz;
    drift_high = std::arg(b_high * std::conj(a_high)) * to_hz;
  }
  const unsigned m = std::min(plateau_count_, kLagKeep);
  double change_low = 0.0, change_high = 0.0;
  if (m >= 2) {
    const unsigned half = m / 2;
    double a_low = 0.0, b_low = 0.0, a_high = 0.0, b_high = 0.0;
    for (unsigned i = 0; i < half; ++i) {
      a_low += mags_low_[i];
      a_high += mags_high_[i];
      b_low += mags_low_[m - half + i];
      b_high += mags_high_[m - half + i];
    }
    change_low = 20.0 * std::log10(std::max(b_low, 1e-30) / std::max(a_low, 1e-30));
    change_high = 20.0 * std::log10(std::max(b_high, 1e-30) / std::max(a_high, 1e-30));
  }
  if (trace_) {
    last_trace_.judged = true;
    last_trace_.drift_low = drift_low;
    last_trace_.drift_high = drift_high;
    last_trace_.change_low_db = change_low;
    last_trace_.change_high_db = change_high;
  }
  return std::fabs(drift_low) <= kMaxDriftHz && std::fabs(drift_high) <= kMaxDriftHz &&
         std::fabs(change_low) <= kMaxLevelChangeDb && std::fabs(change_high) <= kMaxLevelChangeDb;
}

bool DtmfDetector::harmonic_series(double f_low, double f_high) {
  // Frame: the tone since its onset (plus a millisecond), at most 32 ms.
  const std::uint64_t end = hop_end_;
  const double first = std::max(onset_ + 8.0, static_cast<double>(end) - kSieveMaxFrame);
  if (first >= static_cast<double>(end)) return false;
  const std::uint64_t start = static_cast<std::uint64_t>(std::ceil(first));
  const unsigned n = static_cast<unsigned>(end - start);
  if (n < kSieveMinFrame) return false;

  // Least-squares fit of the two tones at their measured frequencies; the
  // residual carries everything else. Clipped samples (a flat top near full
  // scale) carry the clipping's intermodulation, which sits exactly on the
  // "harmonics" of two tones in a near-integer ratio: they get no weight.
  float samples[kSieveMaxFrame];
  copy_history(start, n, samples);
  const float* x = samples;
  float weight[kSieveMaxFrame];
  float peak_sample = 0.0f;
#pragma omp simd reduction(max : peak_sample)
  for (unsigned i = 0; i < n; ++i) peak_sample = std::max(peak_sample, std::fabs(samples[i]));
  const double peak = peak_sample;
  // Lost audio (concealed, zeros in the history) says nothing either way.
  const double clip = peak >= kClipLevel ? kClipShare * peak : 1e30;
  const bool overlaps_lost = any_concealed_ && start < concealed_until_ && end > concealed_from_;
  if (!overlaps_lost && clip > 1.0) {
    std::fill(weight, weight + n, 1.0f);
  } else {
    for (unsigned i = 0; i < n; ++i) {
      const std::uint64_t t = start + i;
      const bool lost = any_concealed_ && t >= concealed_from_ && t < concealed_until_;
      weight[i] = lost || std::fabs(x[i]) >= clip ? 0.0f : 1.0f;
    }
  }
  // The four basis sinusoids, once: the normal equations and the residual
  // both read them.
  static_assert(kSieveMaxFrame % 8 == 0, "fill_rotation writes whole groups of eight");
  float basis[4][kSieveMaxFrame];
  fill_rotation(1.0, 2.0 * kPi * f_low / kFs, n, basis[0], basis[1]);
  fill_rotation(1.0, 2.0 * kPi * f_high / kFs, n, basis[2], basis[3]);
  double g[4][5];
  const float* const columns[4] = {basis[0], basis[1], basis[2], basis[3]};
  normal_equations(x, weight, columns, n, g);
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < r; ++c) g[r][c] = g[c][r];
  for (int col = 0; col < 4; ++col) {  // Gauss-Jordan; the matrix is well conditioned
    const double pivot = g[col][col];
    if (std::fabs(pivot) < 1e-9) return false;
    for (int c = col; c < 5; ++c) g[col][c] /= pivot;
    for (int r = 0; r < 4; ++r) {
      if (r == col) continue;
      const double f = g[r][col];
      for (int c = col; c < 5; ++c) g[r][c] -= f * g[col][c];
    }
  }
  const double amp_l = std::hypot(g[0][4], g[1][4]), amp_h = std::hypot(g[2][4], g[3][4]);
  // Residual under a Hann window, zero-padded to 512 points (15.6 Hz bins).
  // Hann by rotation: cos(2 pi (i + 1/2) / n).
  float padded[kSieveFft];
  float hann_re[kSieveMaxFrame], hann_im[kSieveMaxFrame];
  fill_rotation(std::polar(1.0, kPi / n), 2.0 * kPi / n, n, hann_re, hann_im);
  const double coefficients[4] = {g[0][4], g[1][4], g[2][4], g[3][4]};
  windowed_residual(x, weight, columns, coefficients, hann_re, n, padded);
  const double hann_sum = 0.5 * n;  // the cosine sums to zero over its period
  std::fill(padded + n, padded + kSieveFft, 0.0f);
  // Energy a tone of the stronger amplitude would show at a probe.
  const double strongest = std::pow(0.5 * std::max(amp_l, amp_h) * hann_sum, 2.0);
  // No bin of the residual's spectrum exceeds (sum |residual|)^2: when even
  // that is under the sieve's floor, no series can qualify and the
  // spectrum is not computed (a clean digit, most of the time).
  float magnitude_sum = 0.0f;
#pragma omp simd reduction(+ : magnitude_sum)
  for (unsigned i = 0; i < n; ++i) magnitude_sum += std::fabs(padded[i]);
  if (!trace_ && magnitude_sum * magnitude_sum < kSieveFloor * strongest) return false;
  // The candidate series: every F0 of which both tones are integer multiples
  // (p F0 and q F0, within kSieveRatioTolerance), with its probes at k F0
  // for k = 1, 1.5, 2, ...: whole k on the series, half k between its
  // members. A probe reads the spectrum's bin nearest its frequency.
  const int p_lo = std::max(static_cast<int>(std::ceil(f_low / kSieveMaxF0)), 1);
  const int p_hi = static_cast<int>(std::floor(f_low / kSieveMinF0));
  auto series_f0 = [&](int p) {  // 0: no series with f_low its p-th member
    const int q = static_cast<int>(std::lround(f_high * p / f_low));
    if (q <= p) return 0.0;
    const double f0 = (f_low + f_high) / (p + q);
    if (std::fabs(f_high - q * f0) > kSieveRatioTolerance * f_high ||
        std::fabs(f_low - p * f0) > kSieveRatioTolerance * f_low)
      return 0.0;
    return f0;
  };
  // Parseval again: the spectrum's interior bins together hold at most N/2
  // times the residual's energy, and a series' harmonic probes are distinct
  // interior bins, so their mean is at most that over their number. When
  // that cannot reach the floor for any series, none can qualify. The
  // probes are counted first (listing them costs more than the bound).
  const double energy = energy_of(padded, n);
  const double needed = kSieveFloor * strongest;
  if (!trace_) {
    bool possible = false;
    for (int p = p_lo; p <= p_hi && !possible; ++p) {
      const double f0 = series_f0(p);
      if (f0 == 0.0) continue;
      const unsigned nh = std::min(harmonic_probe_count(f0, f_low, f_high), 64u);
      possible = nh >= 2 && (kSieveFft / 2.0) * energy / nh >= needed;
    }
    if (!possible) return false;
  }
  struct Series {
    unsigned short harmonic[64], between[64];
    unsigned nh = 0, nb = 0;
  };
  Series series[12];
  unsigned count = 0;
  auto bin_of = [](double f) {
    return static_cast<unsigned short>(std::min(static_cast<unsigned>(f * (kSieveFft / kFs) + 0.5), kSieveFft / 2));
  };
  for (int p = p_lo; p <= p_hi && count < 12; ++p) {
    const double f0 = series_f0(p);
    if (f0 == 0.0) continue;
    Series& c = series[count];
    c.nh = c.nb = 0;
    const double guard = 0.75 * f0;
    for (unsigned j = 2;; ++j) {
      const double f = (0.5 * j) * f0;
      if (f > kSieveHiHz) break;
      if (f < kSieveLoHz || std::fabs(f - f_low) < guard || std::fabs(f - f_high) < guard) continue;
      if (j % 2 == 0) {
        if (c.nh < 64) c.harmonic[c.nh++] = bin_of(f);
      } else if (c.nb < 64) {
        c.between[c.nb++] = bin_of(f);
      }
    }
    if (c.nh >= 2 && c.nb >= 2) ++count;
  }
  float spectrum_re[kSieveFft / 2 + 1], spectrum_im[kSieveFft / 2 + 1];
  tables_->fft512.forward(padded, spectrum_re, spectrum_im);
  auto probe = [&](unsigned b) {
    return double(spectrum_re[b]) * spectrum_re[b] + double(spectrum_im[b]) * spectrum_im[b];
  };
  double best_ratio = 0.0, best_level = 0.0;
  bool speech_like = false;
  for (unsigned k = 0; k < count; ++k) {
    const Series& c = series[k];
    double harm = 0.0, between = 0.0;
    for (unsigned i = 0; i < c.nh; ++i) harm += probe(c.harmonic[i]);
    for (unsigned i = 0; i < c.nb; ++i) between += probe(c.between[i]);
    const double mh = harm / c.nh, mb = between / c.nb;
    const double ratio = mh / std::max(mb, 1e-30), level = mh / std::max(strongest, 1e-30);
    if (level > best_level) {
      best_level = level;
      best_ratio = ratio;
    }
    if (ratio >= kSieveContrast && level >= kSieveFloor) speech_like = true;
  }
  if (trace_) {
    last_trace_.sieve_ratio = best_ratio;
    last_trace_.sieve_level = best_level;
  }
  return speech_like;
}

DtmfDetector::Measurement DtmfDetector::measure() const {
  Measurement m;
  const double scale = 2.0 / tables_->window_sum;
  m.offset_low = lag_count_ ? std::arg(lag_low_) * kFs / (2.0 * kPi * kH) : 0.0;
  m.offset_high = lag_count_ ? std::arg(lag_high_) * kFs / (2.0 * kPi * kH) : 0.0;
  m.amp_low = reference(false) * scale / std::max(tables_->response_at(m.offset_low), 1e-3);
  m.amp_high = reference(true) * scale / std::max(tables_->response_at(m.offset_high), 1e-3);
  return m;
}

bool DtmfDetector::qualifies(const Measurement& m) const {
  if (std::fabs(m.offset_low) > accept_offset_hz(kNominal[row_])) return false;
  if (std::fabs(m.offset_high) > accept_offset_hz(kNominal[4 + column_])) return false;
  if (m.amp_low < min_amplitude_ || m.amp_high < min_amplitude_) return false;
  const double twist_db = 20.0 * std::log10(m.amp_high / m.amp_low);
  if (twist_db > config_.twist_reverse_db + kTwistBoundaryDb) return false;
  if (-twist_db > config_.twist_normal_db + kTwistBoundaryDb) return false;
  return true;
}

DtmfEvent DtmfDetector::make_event(bool is_end, std::uint64_t decided) const {
  const Measurement m = measure();
  DtmfEvent e;
  e.digit = kKeypad[row_][column_];
  e.row = row_;
  e.column = column_;
  e.is_end = is_end;
  e.start_sample = static_cast<std::uint64_t>(std::max(0.0, std::round(onset_)));
  e.decided_sample = decided;
  e.low_level_dbm0 = amplitude_to_dbm0(m.amp_low);
  e.high_level_dbm0 = amplitude_to_dbm0(m.amp_high);
  e.level_dbm0 = std::max(e.low_level_dbm0, e.high_level_dbm0);
  e.low_freq_hz = kNominal[row_] + m.offset_low;
  e.high_freq_hz = kNominal[4 + column_] + m.offset_high;
  if (is_end) {
    e.end_sample = static_cast<std::uint64_t>(std::max(0.0, std::round(fall_)));
    if (e.end_sample < e.start_sample) e.end_sample = e.start_sample;
    e.duration_ms = (fall_ - onset_) * 1000.0 / kFs;
  }
  return e;
}

void DtmfDetector::finish(std::vector<DtmfEvent>& events) {
  events.push_back(make_event(true, hop_end_));
  phase_ = Phase::idle;
  release_ = fall_;
  released_digit_ = true;
}

void DtmfDetector::track(const HopResult& hop, const Verdict& verdict, std::vector<DtmfEvent>& events) {
  if (hop.unknown) return;  // concealed audio: no evidence either way
  const HopResult& previous = hop_back(1);
  if (previous.unknown && phase_ == Phase::candidate) {
    // First look after lost audio: keep the candidate and its onset, but
    // measure plateau, frequency and steadiness afresh from here.
    reset_measurements(hop);
    bridged_ = true;
  }
  const bool same = verdict.valid && verdict.row == row_ && verdict.column == column_;
  const bool other = verdict.valid && !same;
  const double gap_limit = bridge_ms() * kFs / 1000.0;
  // After this long without the tone, no rise can fall within the bridge.
  const double bridge_horizon = gap_limit + 0.6 * kL + kH;

  switch (phase_) {
    case Phase::idle:
      if (verdict.valid) start_candidate(verdict, hop);
      return;

    case Phase::candidate: {
      if (same) {
        ++good_hops_;
        misses_ = 0;
        absorb(hop, previous);
        if (!bridged_) onset_ = clamped_onset();
        if (plateau_count_ < 2 || lag_count_ < 2) return;
        // The tone must have been seen for the qualifying time: lost audio
        // inside the candidate does not count.
        const double rho = std::min(presence(hop), 1.0);
        const double lower_end = falling_edge(hop, rho);
        double observed = lower_end - onset_;
        if (any_concealed_)
          observed -=
              std::max(0.0, std::min(lower_end, double(concealed_until_)) - std::max(onset_, double(concealed_from_)));
        if (observed < qualifying_ms() * kFs / 1000.0) return;
        // Measured frequency, twist and level decide at once, and so does a
        // harmonic series. Steadiness is a noisy statistic over a few
        // windows: if only it fails, wait for more windows (its halves get
        // longer and quieter), up to a deadline that keeps the report
        // within 40 ms of the onset.
        const Measurement m = measure();
        const unsigned allowed = std::max(kMaxTotalMisses, good_hops_ / kMissesPerGood);
        bool reject = total_misses_ > allowed || !qualifies(m);
        if (!reject && steady()) {
          if (!harmonic_series(kNominal[row_] + m.offset_low, kNominal[4 + column_] + m.offset_high)) {
            phase_ = Phase::confirmed;
            ++stats_.confirmed;
            events.push_back(make_event(false, hop_end_));
            return;
          }
          reject = true;
        }
        const double waited = static_cast<double>(hop.end) - onset_;
        if (reject || waited > (qualifying_ms() + kSteadyRetryMs) * kFs / 1000.0) {
          phase_ = Phase::rejected;
          release_ = static_cast<double>(hop_end_);
        }
        return;
      }
      const double rho = presence(hop);
      const bool dominant = tone_channels_dominate(hop);
      ++total_misses_;
      if (!other && rho >= kHalf && dominant && ++misses_ <= kGraceHops) return;
      if (!other && rho < kHalf && good_hops_ >= kGapMinGoodHops) {
        phase_ = Phase::candidate_gap;
        fall_ = std::max(onset_, falling_edge(hop, rho));
        release_ = fall_;
        return;
      }
      phase_ = Phase::idle;
      release_ = static_cast<double>(hop_end_);
      if (other) start_candidate(verdict, hop);
      return;
    }

    case Phase::candidate_gap: {
      if (other) {
        start_candidate(verdict, hop);
        return;
      }
      const double rho = presence(hop);
      if (rho >= kHalf && tone_channels_dominate(hop)) {
        if (rising_edge(hop, std::min(rho, 1.0)) - fall_ <= gap_limit) {
          phase_ = Phase::candidate;
          bridged_ = true;
          misses_ = 0;
        } else {
          phase_ = Phase::idle;
          if (verdict.valid) start_candidate(verdict, hop);
        }
        return;
      }
      if (static_cast<double>(hop.end) > fall_ + bridge_horizon) phase_ = Phase::idle;
      return;
    }

    case Phase::confirmed: {
      const double rho = presence(hop);
      if (rho >= kHalf && tone_channels_dominate(hop)) {
        absorb(hop, previous);
        return;
      }
      // The tone is going: read its end from whichever window is nearer
      // half-present, this one or the previous.
      const double rp = previous.unknown || !previous.computed ? -1.0 : presence(previous);
      if (rp >= 0.0 && std::fabs(rp - kHalf) < std::fabs(rho - kHalf))
        fall_ = falling_edge(previous, std::min(rp, 1.0));
      else
        fall_ = falling_edge(hop, std::max(rho, 0.0));
      fall_ = std::max(fall_, onset_);
      phase_ = Phase::ending;
      return;
    }

    case Phase::ending: {
      if (other) {
        finish(events);
        start_candidate(verdict, hop);
        return;
      }
      const double rho = presence(hop);
      if (rho >= kHalf && tone_channels_dominate(hop)) {
        const double rp = previous.unknown || !previous.computed ? -1.0 : presence(previous);
        double rise;
        if (rp >= 0.0 && std::fabs(rp - kHalf) < std::fabs(rho - kHalf))
          rise = rising_edge(previous, std::max(rp, 0.0));
        else
          rise = rising_edge(hop, std::min(rho, 1.0));
        if (rise - fall_ <= gap_limit) {
          phase_ = Phase::confirmed;  // an interruption: same digit
          return;
        }
        finish(events);
        if (verdict.valid) start_candidate(verdict, hop);
        return;
      }
      if (static_cast<double>(hop.end) > fall_ + bridge_horizon) finish(events);
      return;
    }

    case Phase::rejected: {
      const double rho = presence(hop);
      if (rho < kHalf || !tone_channels_dominate(hop) || other) {
        phase_ = Phase::idle;
        release_ = static_cast<double>(hop_end_);
        if (other) start_candidate(verdict, hop);
      }
      return;
    }
  }
}

}  // namespace prosody::tones
