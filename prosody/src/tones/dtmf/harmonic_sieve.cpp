// harmonic_sieve.cpp - see harmonic_sieve.hpp.
#include "harmonic_sieve.hpp"

#include <algorithm>
#include <cmath>
#include <complex>

#include "dtmf_common.hpp"
#include "dtmf_kernels.hpp"
#include "tones/real_fft.hpp"

namespace prosody::tones::dtmf {

namespace {

constexpr double kMinF0Hz = 85.0, kMaxF0Hz = 400.0;  // speech pitch range
constexpr double kRatioTolerance = 0.012;            // |f_high - q F0| / f_high
constexpr double kProbeLowHz = 560.0;                // clear of dial, ring and busy low tones
constexpr double kProbeHighHz = 3400.0;
constexpr double kContrast = 10.0;  // harmonic / in-between probe energy
constexpr double kFloor = 0.0032;   // harmonic probe energy / strongest tone (-25 dB)
constexpr unsigned kFftPoints = 512;
constexpr double kClipLevel = 0.9;    // frames peaking above this may be clipped...
constexpr double kClipShare = 0.995;  // ...and samples this close to the peak are
constexpr unsigned kMaxSeries = 12;
constexpr unsigned kMaxProbes = 64;  // of each kind, per series

// Rounding of positive values below 2^62 without a call into libm, with
// the same results as std::floor, std::ceil and std::lround.
inline long floor_positive(double x) { return static_cast<long>(x); }
inline long ceil_positive(double x) {
  const long r = static_cast<long>(x);
  return r + (static_cast<double>(r) < x);
}
inline long round_positive(double x) {  // halves away from zero, as lround
  const long r = static_cast<long>(x);
  return r + (x - static_cast<double>(r) >= 0.5);  // x - r is exact
}

const RealFft& sieve_fft() {
  static const RealFft fft(kFftPoints);
  return fft;
}

// The sieve's harmonic probes of the series with fundamental f0: whole
// multiples k f0 (k >= 1) in [kProbeLowHz, kProbeHighHz] at least 0.75 f0
// from both tones. Counted, not listed: the band's multiples less those
// beside a tone, with every boundary decided by the same comparison that
// lists them.
unsigned harmonic_probe_count(double f0, double f_low, double f_high) {
  const double guard = 0.75 * f0;
  auto in_band = [&](long k) {
    const double f = static_cast<double>(k) * f0;
    return f >= kProbeLowHz && f <= kProbeHighHz;
  };
  auto guarded = [&](long k) {
    const double f = static_cast<double>(k) * f0;
    return std::fabs(f - f_low) < guard || std::fabs(f - f_high) < guard;
  };
  long first = std::max(1L, ceil_positive(kProbeLowHz / f0));
  while (first > 1 && in_band(first - 1)) --first;
  while (!in_band(first) && static_cast<double>(first) * f0 < kProbeLowHz) ++first;
  long last = floor_positive(kProbeHighHz / f0);
  while (in_band(last + 1)) ++last;
  while (last >= first && !in_band(last)) --last;
  if (last < first) return 0;
  long count = last - first + 1;
  // Guarded multiples lie within a multiple of each tone (the guard is under
  // f0): at most three candidates per tone, the two sets apart or equal.
  long candidates[6];
  int m = 0;
  for (double f : {f_low, f_high}) {
    const long centre = round_positive(f / f0);
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

bool harmonic_series_present(const float* x, unsigned n, unsigned lost_begin, unsigned lost_end, const SieveTone& low,
                             const SieveTone& high, SieveEvidence* evidence) {
  const double f_low = low.hz, f_high = high.hz;
  // Least-squares fit of the two tones at their measured frequencies; the
  // residual carries everything else. Clipped samples (a flat top near full
  // scale) carry the clipping's intermodulation, which sits exactly on the
  // "harmonics" of two tones in a near-integer ratio: they get no weight.
  // Lost audio (concealed, zeros in the history) says nothing either way.
  float weights[kSieveMaxFrameSamples];
  const float* weight = nullptr;  // null: every sample counts
  const double peak = peak_of(x, n);
  const double clip = peak >= kClipLevel ? kClipShare * peak : 1e30;
  if (lost_begin < lost_end || clip <= 1.0) {
    for (unsigned i = 0; i < n; ++i) {
      const bool lost = i >= lost_begin && i < lost_end;
      weights[i] = lost || std::fabs(x[i]) >= clip ? 0.0f : 1.0f;
    }
    weight = weights;
  }
  // The four basis sinusoids, once (the normal equations and the residual
  // both read them), and the Hann window for the residual, cos(2 pi (i +
  // 1/2) / n), by rotation: all three in one pass, with no call into libm
  // (the Hann angles are at most 2 pi / 120).
  static_assert(kSieveMaxFrameSamples % 8 == 0, "fill_rotations writes whole groups of eight");
  static_assert(2.0 * kPi / kSieveMinFrameSamples <= 0.3, "small_rotation holds to 0.3 rad");
  float basis[4][kSieveMaxFrameSamples], hann_cos[kSieveMaxFrameSamples], hann_sin[kSieveMaxFrameSamples];
  const Rotation rotations[3] = {{1.0, low.unit, basis[0], basis[1]},
                                 {1.0, high.unit, basis[2], basis[3]},
                                 {small_rotation(kPi / n), small_rotation(2.0 * kPi / n), hann_cos, hann_sin}};
  fill_rotations(rotations, 3, n);
  double system[4][5];  // normal equations beside their right-hand side
  const float* const columns[4] = {basis[0], basis[1], basis[2], basis[3]};
  normal_equations(x, weight, columns, n, system);
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < r; ++c) system[r][c] = system[c][r];
  for (int col = 0; col < 4; ++col) {  // Gauss-Jordan; the matrix is well conditioned
    const double pivot = system[col][col];
    if (std::fabs(pivot) < 1e-9) return false;
    const double inverse = 1.0 / pivot;  // one division, not five
    for (int c = col; c < 5; ++c) system[col][c] *= inverse;
    for (int r = 0; r < 4; ++r) {
      if (r == col) continue;
      const double factor = system[r][col];
      for (int c = col; c < 5; ++c) system[r][c] -= factor * system[col][c];
    }
  }
  // Amplitudes (no overflow to guard against: they are at most a few units).
  const double amp_low = std::sqrt(system[0][4] * system[0][4] + system[1][4] * system[1][4]);
  const double amp_high = std::sqrt(system[2][4] * system[2][4] + system[3][4] * system[3][4]);
  // Residual under a Hann window, zero-padded to 512 points (15.6 Hz bins).
  float padded[kFftPoints];
  const double coefficients[4] = {system[0][4], system[1][4], system[2][4], system[3][4]};
  windowed_residual(x, weight, columns, coefficients, hann_cos, n, padded);
  const double hann_sum = 0.5 * n;  // the cosine sums to zero over its period
  std::fill(padded + n, padded + kFftPoints, 0.0f);
  // Energy a tone of the stronger amplitude would show at a probe.
  const double strongest = std::pow(0.5 * std::max(amp_low, amp_high) * hann_sum, 2.0);
  // No bin of the residual's spectrum exceeds (sum |residual|)^2: when even
  // that is under the sieve's floor, no series can qualify and the
  // spectrum is not computed (a clean digit, most of the time).
  float magnitude_sum = 0.0f;
#pragma omp simd reduction(+ : magnitude_sum)
  for (unsigned i = 0; i < n; ++i) magnitude_sum += std::fabs(padded[i]);
  if (!evidence && magnitude_sum * magnitude_sum < kFloor * strongest) return false;
  // The candidate series: every F0 of which both tones are integer multiples
  // (p F0 and q F0, within kRatioTolerance), with its probes at k F0 for
  // k = 1, 1.5, 2, ...: whole k on the series, half k between its members.
  // A probe reads the spectrum's bin nearest its frequency.
  const int p_lo = std::max(static_cast<int>(ceil_positive(f_low / kMaxF0Hz)), 1);
  const int p_hi = static_cast<int>(floor_positive(f_low / kMinF0Hz));
  auto series_f0 = [&](int p) {  // 0: no series with f_low its p-th member
    const int q = static_cast<int>(round_positive(f_high * p / f_low));
    if (q <= p) return 0.0;
    const double f0 = (f_low + f_high) / (p + q);
    if (std::fabs(f_high - q * f0) > kRatioTolerance * f_high || std::fabs(f_low - p * f0) > kRatioTolerance * f_low)
      return 0.0;
    return f0;
  };
  // Parseval again: the spectrum's interior bins together hold at most N/2
  // times the residual's energy, and a series' harmonic probes are distinct
  // interior bins, so their mean is at most that over their number. When
  // that cannot reach the floor for any series, none can qualify. The
  // probes are counted first (listing them costs more than the bound).
  // The same bound leaves out, series by series, those it keeps under the
  // floor: they cannot qualify, so listing their probes and reading them is
  // wasted (a digit under noise passes the test above, through its
  // higher-pitched series only, most of the time). The series left out
  // are bounded with a margin of 1e-3 for the spectrum's rounding, so that
  // only series the spectrum could not make qualify are left out. (Only
  // where every candidate series has its place in `series`, as for any
  // DTMF low tone: elsewhere, leaving some out would let others in.)
  const double energy = energy_of(padded, n);
  const double needed = kFloor * strongest;
  static_assert(kMaxSeries <= 32, "one bit per series");
  const bool all_fit = p_hi - p_lo < static_cast<int>(kMaxSeries);
  unsigned may_qualify = ~0u;  // bit p - p_lo: the series of p is listed
  if (!evidence) {
    bool possible = false;
    if (all_fit) may_qualify = 0;
    for (int p = p_lo; p <= p_hi; ++p) {
      const double f0 = series_f0(p);
      if (f0 == 0.0) continue;
      const unsigned harmonic_probes = std::min(harmonic_probe_count(f0, f_low, f_high), kMaxProbes);
      if (harmonic_probes < 2) continue;
      const double bound = (kFftPoints / 2.0) * energy / harmonic_probes;
      possible |= bound >= needed;
      if (all_fit) may_qualify |= unsigned(1.001 * bound >= needed) << (p - p_lo);
    }
    if (!possible) return false;
  }
  struct Series {
    unsigned short harmonic[kMaxProbes], between[kMaxProbes];  // probe bins
    unsigned harmonics = 0, betweens = 0;
  };
  Series series[kMaxSeries];
  unsigned count = 0;
  auto bin_of = [](double f) {
    return static_cast<unsigned short>(
        std::min(static_cast<unsigned>(f * (kFftPoints / kSampleRateHz) + 0.5), kFftPoints / 2));
  };
  for (int p = p_lo; p <= p_hi && count < kMaxSeries; ++p) {
    if (all_fit && !(may_qualify >> (p - p_lo) & 1u)) continue;
    const double f0 = series_f0(p);
    if (f0 == 0.0) continue;
    Series& s = series[count];
    s.harmonics = s.betweens = 0;
    const double guard = 0.75 * f0;
    for (unsigned j = 2;; ++j) {
      const double f = (0.5 * j) * f0;
      if (f > kProbeHighHz) break;
      if (f < kProbeLowHz || std::fabs(f - f_low) < guard || std::fabs(f - f_high) < guard) continue;
      if (j % 2 == 0) {
        if (s.harmonics < kMaxProbes) s.harmonic[s.harmonics++] = bin_of(f);
      } else if (s.betweens < kMaxProbes) {
        s.between[s.betweens++] = bin_of(f);
      }
    }
    if (s.harmonics >= 2 && s.betweens >= 2) ++count;
  }
  float spectrum_re[kFftPoints / 2 + 1], spectrum_im[kFftPoints / 2 + 1];
  sieve_fft().forward(padded, spectrum_re, spectrum_im);
  auto probe = [&](unsigned b) {
    return double(spectrum_re[b]) * spectrum_re[b] + double(spectrum_im[b]) * spectrum_im[b];
  };
  double best_ratio = 0.0, best_level = 0.0;
  bool speech_like = false;
  for (unsigned k = 0; k < count; ++k) {
    const Series& s = series[k];
    double harmonic_energy = 0.0, between_energy = 0.0;
    for (unsigned i = 0; i < s.harmonics; ++i) harmonic_energy += probe(s.harmonic[i]);
    for (unsigned i = 0; i < s.betweens; ++i) between_energy += probe(s.between[i]);
    const double harmonic_mean = harmonic_energy / s.harmonics, between_mean = between_energy / s.betweens;
    const double ratio = harmonic_mean / std::max(between_mean, 1e-30);
    const double level = harmonic_mean / std::max(strongest, 1e-30);
    if (level > best_level) {
      best_level = level;
      best_ratio = ratio;
    }
    if (ratio >= kContrast && level >= kFloor) speech_like = true;
  }
  if (evidence) {
    evidence->ratio = best_ratio;
    evidence->level = best_level;
  }
  return speech_like;
}

}  // namespace prosody::tones::dtmf
