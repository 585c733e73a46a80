// hop_analyser.cpp - see hop_analyser.hpp and docs/tone-detection.md.
#include "hop_analyser.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#if defined(__SSE__)
#include <xmmintrin.h>
#endif

#include "dtmf_kernels.hpp"

namespace prosody::tones::dtmf {

namespace {

// Band of the verification spectrum (62.5 Hz bins) in which energy other
// than the two tones counts against a candidate: from just above the low
// call-progress tones (which are fitted and removed first, so their window
// leakage does not count) to the top of the band.
constexpr unsigned kVerifyBandFirstBin = 9;  // 562.5 Hz
constexpr unsigned kVerifyBandLastBin = 54;  // 3375 Hz

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
// The sparse-mode screen only switches on full resolution: looser by 9 dB
// in level, 4 dB in far-channel purity and 4 dB in twist.
constexpr float kCoarseLevel = 0.125f;
constexpr float kCoarseFarChannel = 0.16f;
constexpr float kCoarseTwist = 2.5f;
// The channels two or more places from each group maximum (bit k: the
// group's channel k), for the in-group purity test.
constexpr unsigned kFarChannels[4] = {0b1100, 0b1000, 0b0001, 0b0011};

// The screen's group figures, four channels at once where SSE is there (the
// screen runs on every computed window). Same results as the scalar forms
// below them, which they fall back to when a power is not a number.
static_assert(kFirstColumnChannel == 4, "a group is four channels");

// The strongest of a group's four powers p (first on a tie) and its power.
inline void strongest_of_group(const float* p, int& index, float& max) {
#if defined(__SSE__)
  const __m128 v = _mm_loadu_ps(p);
  if (_mm_movemask_ps(_mm_cmpunord_ps(v, v)) == 0) {
    __m128 m = _mm_max_ps(v, _mm_shuffle_ps(v, v, _MM_SHUFFLE(2, 3, 0, 1)));
    m = _mm_max_ps(m, _mm_shuffle_ps(m, m, _MM_SHUFFLE(1, 0, 3, 2)));
    max = _mm_cvtss_f32(m);
    index = __builtin_ctz(static_cast<unsigned>(_mm_movemask_ps(_mm_cmpeq_ps(v, m))));
    return;
  }
#endif
  // Selects that carry the maximum along: no load waits on the index.
  index = 0;
  max = p[0];
  for (int k = 1; k < 4; ++k) {
    index = p[k] > max ? k : index;
    max = std::max(max, p[k]);
  }
}

// Bit k: p[k] > limit, for a group's four powers.
inline unsigned above_in_group(const float* p, float limit) {
#if defined(__SSE__)
  return static_cast<unsigned>(_mm_movemask_ps(_mm_cmpgt_ps(_mm_loadu_ps(p), _mm_set1_ps(limit))));
#else
  unsigned bits = 0;
  for (int k = 0; k < 4; ++k) bits |= unsigned(p[k] > limit) << k;
  return bits;
#endif
}

}  // namespace

void HopAnalyser::configure(const DtmfConfig& config) {
  // Screen limits as bank powers and power ratios.
  const double screen_amplitude =
      dbm0_to_amplitude(config.min_level_dbm0) * kScreenLevelFactor * tables_->window_sum / 2.0;
  screen_power_ = static_cast<float>(screen_amplitude * screen_amplitude);
  screen_reverse_ = static_cast<float>(std::pow(10.0, (config.twist_reverse_db + kScreenTwistMarginDb) / 10.0));
  screen_normal_ = static_cast<float>(std::pow(10.0, (config.twist_normal_db + kScreenTwistMarginDb) / 10.0));
  for (int k = 0; k < kChannels; ++k)
    screen_tan_[k] = std::tan(2.0 * kPi * kScreenFreqFraction * kNominalHz[k] * kHopSamples / kSampleRateHz);
}

void HopAnalyser::reset() {
  for (auto& sums : bank_sums_) std::fill(std::begin(sums), std::end(sums), 0.0f);
  std::fill(std::begin(history_), std::end(history_), 0.0f);
  for (auto& window : windows_) window = WindowRecord{};
  quiet_run_ = 0;
  skipping_ = false;
  skipped_from_hop_ = skipped_from_sample_ = 0;
  bank_position_ = 0;
  dense_ = false;
  last_screened_hop_ = 0;
  sample_count_ = 0;
  lost_ = LostAudio{};
  hop_count_ = 0;
  counts_ = Counts{};
}

void HopAnalyser::begin_loss(std::size_t n) {
  catch_up();  // the skipped hops predate this loss
  if (!lost_.any || sample_count_ > lost_.until) lost_.from = sample_count_;
  lost_.any = true;
  lost_.until = sample_count_ + n;
}

void HopAnalyser::skip_quiet(std::size_t n) {
  if (!skipping_) {
    // What the skipped hops would have held is known (zeros), so only where
    // the stretch began is kept; catch_up() writes it when needed. Partial
    // sums of earlier quiet input go too: quiet input counts as zeros.
    skipping_ = true;
    skipped_from_hop_ = hop_count_;
    skipped_from_sample_ = sample_count_;
    for (auto& sums : bank_sums_) std::fill(std::begin(sums), std::end(sums), 0.0f);
  }
  quiet_run_ += n;
  const unsigned before = bank_position_;
  bank_position_ += static_cast<unsigned>(n);
  sample_count_ += n;
  if (before < kHopSamples && bank_position_ >= kHopSamples) {
    ++hop_count_;
    ++counts_.hops;
  }
  if (bank_position_ == kBankHopSamples) {
    ++hop_count_;
    ++counts_.hops;
    bank_position_ = 0;
  }
}

void HopAnalyser::write_skipped_history() {
  skipping_ = false;
  // The history as the per-hop path would have left it: zeros in the
  // samples (as far back as they reach), zero windows at the bank hops, the
  // hops between not computed.
  const std::uint64_t first_sample = std::max<std::uint64_t>(
      skipped_from_sample_, sample_count_ >= kHistorySamples ? sample_count_ - kHistorySamples : 0);
  const std::size_t at = first_sample % kHistorySamples, count = sample_count_ - first_sample;
  const std::size_t before_wrap = std::min(count, kHistorySamples - at);
  std::fill(history_ + at, history_ + at + before_wrap, 0.0f);
  std::fill(history_, history_ + (count - before_wrap), 0.0f);
  const std::uint64_t first_hop =
      std::max<std::uint64_t>(skipped_from_hop_, hop_count_ >= kWindowRecords ? hop_count_ - kWindowRecords : 0);
  for (std::uint64_t j = first_hop; j < hop_count_; ++j) {
    WindowRecord& window = windows_[j % kWindowRecords];
    window = WindowRecord{};
    window.end = (j + 1) * kHopSamples;
    window.computed = window.end % kBankHopSamples == 0;
    window.unknown = lost_.any && window.end - kWindowSamples < lost_.until;
  }
}

void HopAnalyser::copy_history(std::uint64_t start, unsigned n, float* out) const {
  const std::size_t at = start % kHistorySamples;
  const std::size_t first = std::min<std::size_t>(n, kHistorySamples - at);
  std::memcpy(out, history_ + at, first * sizeof(float));
  std::memcpy(out + first, history_, (n - first) * sizeof(float));
}

const float* HopAnalyser::history_span(std::uint64_t start, unsigned n, float* scratch) const {
  const std::size_t at = start % kHistorySamples;
  if (at + n <= kHistorySamples) return history_ + at;
  copy_history(start, n, scratch);  // wraps: gather it
  return scratch;
}

void HopAnalyser::compute_from_history(WindowRecord& window) {
  float gathered[kWindowSamples], out[16];
  const float* x = history_span(window.end - kWindowSamples, kWindowSamples, gathered);
  window_dft(x, tables_->folded_coefficients, tables_->centre_rotation, out);
  publish(window, out);
  ++counts_.direct;
}

void HopAnalyser::enter_dense() {
  // Fill in the hop the bank skipped just before this one, so the phase
  // advance can be read now; older history stays at 4 ms spacing.
  dense_ = true;
  const unsigned reach = std::min<std::uint64_t>(hop_count_ - 1, 1);
  for (unsigned k = 1; k <= reach; ++k) {
    WindowRecord& window = windows_[(hop_count_ - 1 - k) % kWindowRecords];
    if (!window.computed && window.end >= kWindowSamples &&
        sample_count_ - (window.end - kWindowSamples) <= kHistorySamples)
      compute_from_history(window);
  }
}

void HopAnalyser::judge(const WindowRecord& window, const WindowRecord& previous, const TrackedPair& tracked,
                        WindowVerdict& v, HopTrace* trace) {
  // Cheap screen, in the power domain (no logs or arcs on the common path).
  v = WindowVerdict{};
  float power[kChannels];  // |z|^2
  for (int k = 0; k < kChannels; ++k) power[k] = window.mag[k] * window.mag[k];
  int row, column;  // channels
  float low_max, high_max;
  strongest_of_group(power, row, low_max);
  strongest_of_group(power + kFirstColumnChannel, column, high_max);
  column += kFirstColumnChannel;
  if (trace) {
    const double scale = 2.0 / tables_->window_sum;
    trace->row = row;
    trace->column = column - kFirstColumnChannel;
    trace->level_low = amplitude_to_dbm0(std::sqrt(power[row]) * scale);
    trace->level_high = amplitude_to_dbm0(std::sqrt(power[column]) * scale);
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
  const unsigned loud_low = above_in_group(power, far_low);
  const unsigned loud_high = above_in_group(power + kFirstColumnChannel, far_high);
  fail |= ((loud_low & kFarChannels[row]) | (loud_high & kFarChannels[column - kFirstColumnChannel])) != 0;
  fail |= (high_max > twist * screen_reverse_ * low_max) | (low_max > twist * screen_normal_ * high_max);
  if (fail) return;
  v.screened = true;
  if (coarse) {
    // Name the pair (not valid: unverified), so a tone already judged is
    // recognised and followed at 4 ms without going dense.
    v.row = row;
    v.column = column - kFirstColumnChannel;
    return;
  }
  // Phase advance since the previous hop within the screening band: the lag
  // product must point within +/-theta of the nominal advance.
  const std::complex<double> lag_low = tables_->lag_product(window.z(row), previous.z(row), row);
  const std::complex<double> lag_high = tables_->lag_product(window.z(column), previous.z(column), column);
  if (!(lag_low.real() > 0.0 && std::fabs(lag_low.imag()) <= screen_tan_[row] * lag_low.real()) ||
      !(lag_high.real() > 0.0 && std::fabs(lag_high.imag()) <= screen_tan_[column] * lag_high.real()))
    return;
  // Offsets from the lag products (two arc tangents; the real parts are
  // positive) only where they are used: the spectrum below, and the trace.
  const double to_hz = kSampleRateHz / (2.0 * kPi * kHopSamples);
  auto offsets = [&](double& d_low, double& d_high) {
    d_low = arc_of(lag_low.imag(), lag_low.real()) * to_hz;
    d_high = arc_of(lag_high.imag(), lag_high.real()) * to_hz;
  };
  if (trace) offsets(trace->offset_low, trace->offset_high);
  v.row = row;
  v.column = column - kFirstColumnChannel;
  ++counts_.screened;
  // A pair the tracker already vouches for needs no spectrum: a tone
  // already judged (confirmed, ending, bridging, or rejected) is followed
  // by presence alone, and an established candidate is verified on every
  // other hop (the tests at qualification, steadiness and the harmonic
  // sieve, see all of it anyway).
  const bool same = v.row == tracked.row && v.column == tracked.column;
  if (same && (tracked.trusted() || (tracked.sampled() && hop_count_ % 2 == 0))) {
    v.valid = true;
    return;
  }
  double d_low, d_high;
  offsets(d_low, d_high);
  v.valid = spectrally_pure(row, column, window, kNominalHz[row] + d_low, kNominalHz[column] + d_high, trace);
  if (v.valid) ++counts_.verified;
}

bool HopAnalyser::spectrally_pure(int row, int column, const WindowRecord& window, double f_low, double f_high,
                                  HopTrace* trace) {
  const WindowTables& t = *tables_;
  // The two tones as the bank sees them: complex amplitude c of exp(j w n)
  // from the channel output z = c * W(w - w_k), so x ~ 2 Re(c exp(j w n)).
  const int channel[2] = {row, column};
  const double f[2] = {f_low, f_high};
  std::complex<double> amplitude[2], unit[2];  // c; exp(j w) at the measured frequencies
  for (int i = 0; i < 2; ++i) {
    const double d = f[i] - kNominalHz[channel[i]];
    const double r = t.response_at(d);
    if (r < 0.3) return false;  // too far off to model; the screen should not pass this
    // c = z exp(-j phi) / (W r), where delta = w - w_k and phi = delta (L - 1)/2
    // (the window's centre, L = kWindowSamples). Where r >= 0.3, |d| < 115 Hz: |delta| < 0.09 and
    // |phi| < 4.3, so both rotations come from the small-angle series (phi as
    // phi/16 squared four times), with no libm calls. The division is
    // written out.
    const double delta = 2.0 * kPi * d / kSampleRateHz;
    unit[i] = t.nominal_unit[channel[i]] * small_rotation(delta);
    std::complex<double> rotation = small_rotation(delta * (kWindowSamples - 1) / 2.0 / 16.0);
    for (int squaring = 0; squaring < 4; ++squaring) rotation *= rotation;
    const double scale = 1.0 / (t.window_sum * r);
    const double zr = window.re[channel[i]], zi = window.im[channel[i]];
    const double cos_phi = rotation.real(), sin_phi = rotation.imag();
    amplitude[i] = {scale * (zr * cos_phi + zi * sin_phi), scale * (zi * cos_phi - zr * sin_phi)};
  }
  constexpr unsigned kFft = kVerificationFftPoints;
  float residual[kFft];
  float gathered[kWindowSamples];
  const float* x = history_span(window.end - kWindowSamples, kWindowSamples, gathered);
  static_assert(kWindowSamples % 8 == 0, "two_tone_residual works in groups of eight");
  const float residual_energy = two_tone_residual(2.0 * amplitude[0], unit[0], 2.0 * amplitude[1], unit[1], x,
                                                  t.window_single, kWindowSamples, residual);
  // Windowed energy of the two tones (cross terms average out over the
  // window) and the spectral peak the stronger one shows.
  const double tone_energy = 2.0 * (power(amplitude[0]) + power(amplitude[1])) * t.window_energy;
  const double strongest = std::max(power(amplitude[0]), power(amplitude[1])) * t.window_sum * t.window_sum;
  // Band energy of a spectrum in windowed-energy units (one-sided sum * 2/N).
  constexpr double kToEnergy = 2.0 / kFft;
  // Parseval bounds both tests by the residual's energy E: the band's
  // one-sided sum times 2/N is at most E, and any one bin at most E N/2.
  // When E is too small for either test to fail (a clean digit, most of the
  // time), the spectrum cannot change the verdict and is not computed.
  if (!trace && residual_energy <= kMaxResidual * tone_energy &&
      residual_energy * (kFft / 2.0) <= kMaxThirdPeak * strongest)
    return true;
  std::fill(residual + kWindowSamples, residual + kFft, 0.0f);  // zero padding

  float spectrum_re[kFft / 2 + 1], spectrum_im[kFft / 2 + 1];
  auto bin_power = [&](unsigned b) {
    return double(spectrum_re[b]) * spectrum_re[b] + double(spectrum_im[b]) * spectrum_im[b];
  };
  float frame[kFft];
  std::copy(residual, residual + kFft, frame);
  t.verification_fft.forward(frame, spectrum_re, spectrum_im);
  // Purity: little energy left in the band, and no other component near
  // the tones' strength. A "component" must stand out of the residual's
  // own floor: the largest bin of broadband noise is not one.
  auto judge_band = [&](double& energy, double& third) {
    constexpr unsigned kBins = kVerifyBandLastBin - kVerifyBandFirstBin + 1;
    float bins[kBins];
    energy = third = 0.0;
    for (unsigned b = kVerifyBandFirstBin; b <= kVerifyBandLastBin; ++b) {
      const double e = bin_power(b);
      bins[b - kVerifyBandFirstBin] = static_cast<float>(e);
      energy += e;
      third = std::max(third, e);
    }
    if (energy * kToEnergy > kMaxResidual * tone_energy) return false;
    if (third <= kMaxThirdPeak * strongest) return true;
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
    for (unsigned b = 2; b < kVerifyBandFirstBin; ++b) low += bin_power(b);
    low *= kToEnergy;
    if (low >= kProgressWorthTrying * tone_energy) {
      int best = -1;
      double best_explained = 0.0, best_fit[4] = {};
      for (int si = 0; si < 2; ++si) {
        const WindowTables::ProgressToneSet& set = t.progress_sets[si];
        double projection[4] = {};
        for (unsigned n = 0; n < kWindowSamples; ++n)
          for (int j = 0; j < set.columns; ++j) projection[j] += t.window[n] * residual[n] * set.basis[n][j];
        double fit[4] = {}, explained = 0.0;
        for (int r = 0; r < set.columns; ++r)
          for (int c = 0; c < set.columns; ++c) fit[r] += set.inverse[r][c] * projection[c];
        for (int j = 0; j < set.columns; ++j) explained += fit[j] * projection[j];  // = a' G a
        if (explained > best_explained) {
          best_explained = explained;
          best = si;
          std::copy(fit, fit + 4, best_fit);
        }
      }
      if (best >= 0 && best_explained >= kProgressExplained * low) {
        const WindowTables::ProgressToneSet& set = t.progress_sets[best];
        for (unsigned n = 0; n < kWindowSamples; ++n) {
          double fitted = 0.0;
          for (int j = 0; j < set.columns; ++j) fitted += best_fit[j] * set.basis[n][j];
          frame[n] = static_cast<float>(residual[n] - t.window[n] * fitted);
        }
        for (unsigned n = kWindowSamples; n < kFft; ++n) frame[n] = 0.0f;
        t.verification_fft.forward(frame, spectrum_re, spectrum_im);
        pure = judge_band(energy, third);
      }
    }
  }
  if (trace) {
    trace->residual = tone_energy > 0.0 ? energy * kToEnergy / tone_energy : 1e9;
    trace->third_peak = strongest > 0.0 ? third / strongest : 1e9;
  }
  return pure;
}

}  // namespace prosody::tones::dtmf
