#include "block_analyser.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace prosody::tones::cp {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr int kFirstPeakBin = 4;    // 250 Hz: Prosody's detector range starts here
constexpr int kLastPeakBin = 36;    // 2250 Hz: above CED
constexpr int kLastBandBin = 54;    // 3375 Hz: top of the detector range
constexpr int kMaxPeaks = 6;

// |response| of a 128-point rectangular window to a tone delta bins off centre.
double window_gain(double delta) {
  const double a = std::fabs(delta);
  if (a < 1e-6) return 1.0;
  return std::fabs(std::sin(kPi * a) / (kBlock * std::sin(kPi * a / kBlock)));
}

// Hann-windowed 256-point correlators at 350 Hz and 445 Hz (covers 440 and
// 450 Hz): the dial-tone components that one 62.5 Hz bin cannot separate.
struct DialTables {
  static constexpr int kLength = 2 * kBlock;
  float cos350[kLength], sin350[kLength], cos445[kLength], sin445[kLength];
  DialTables() {
    for (int n = 0; n < kLength; ++n) {
      const double w = 0.5 - 0.5 * std::cos(2.0 * kPi * n / kLength);
      cos350[n] = static_cast<float>(w * std::cos(2.0 * kPi * 350.0 * n / kSampleRate));
      sin350[n] = static_cast<float>(w * std::sin(2.0 * kPi * 350.0 * n / kSampleRate));
      cos445[n] = static_cast<float>(w * std::cos(2.0 * kPi * 445.0 * n / kSampleRate));
      sin445[n] = static_cast<float>(w * std::sin(2.0 * kPi * 445.0 * n / kSampleRate));
    }
  }
};
const DialTables& dial_tables() {
  static const DialTables tables;
  return tables;
}

}  // namespace

BlockAnalyser::BlockAnalyser() : fft_(RealFft128::instance()) {
  dial_tables();  // build shared tables outside the audio path
  set_tuning(AnalyserTuning{});
}

void BlockAnalyser::set_tuning(const AnalyserTuning& tuning) noexcept {
  tuning_ = tuning;
  gate_ms_ = dbm0_to_ms(tuning.activity_gate_dbm0);
  min_ms_ = dbm0_to_ms(tuning.min_level_dbm0);
  hold_ms_ = dbm0_to_ms(tuning.hold_level_dbm0);
}

void BlockAnalyser::reset() noexcept {
  prev_valid_ = false;
  prev_components_ = 0;
  prev_phase_ok_ = false;
  std::memset(prev_samples_, 0, sizeof prev_samples_);
}

void BlockAnalyser::dial_evidence(const float* x, BlockResult& out) const noexcept {
  const DialTables& t = dial_tables();
  float c350 = 0.f, s350 = 0.f, c445 = 0.f, s445 = 0.f;
  for (int n = 0; n < kBlock; ++n) {
    const float v = prev_samples_[n];
    c350 += v * t.cos350[n];
    s350 += v * t.sin350[n];
    c445 += v * t.cos445[n];
    s445 += v * t.sin445[n];
  }
  for (int n = 0; n < kBlock; ++n) {
    const float v = x[n];
    c350 += v * t.cos350[kBlock + n];
    s350 += v * t.sin350[kBlock + n];
    c445 += v * t.cos445[kBlock + n];
    s445 += v * t.sin445[kBlock + n];
  }
  // A sine of amplitude A gives |sum| = A * (sum of window) / 2 = A * 64.
  const double norm = 2.0 / (128.0 * 128.0);
  out.power_350 = norm * (double(c350) * c350 + double(s350) * s350);
  out.power_445 = norm * (double(c445) * c445 + double(s445) * s445);
}

void BlockAnalyser::analyse(const float* x, int held_kind, bool concealed,
                            BlockResult& out) noexcept {
  out = BlockResult{};
  float total_energy = 0.f;
  for (int s = 0; s < kSubBlocks; ++s) {
    float e = 0.f;
    const float* p = x + s * kSubBlock;
    for (int n = 0; n < kSubBlock; ++n) e += p[n] * p[n];
    out.sub_energy[s] = e;
    total_energy += e;
  }
  out.mean_square = total_energy / kBlock;

  if (concealed || out.mean_square < gate_ms_) {
    // Too quiet to hold a tone we report: no FFT. Phase history is lost.
    prev_valid_ = false;
    prev_components_ = 0;
    prev_phase_ok_ = false;
    std::memcpy(prev_samples_, x, sizeof prev_samples_);
    return;
  }
  out.analysed = true;

  float re[kFftBins], im[kFftBins];
  fft_.forward(x, re, im);
  // Power per bin as the mean square of the sine it represents.
  const double scale = 2.0 / (double(kBlock) * kBlock);
  double power[kLastBandBin + 2];
  for (int b = 0; b <= kLastBandBin + 1; ++b) power[b] = scale * (double(re[b]) * re[b] + double(im[b]) * im[b]);
  double band_total = 0.0;
  for (int b = kFirstPeakBin; b <= kLastBandBin; ++b) band_total += power[b];
  band_total += 1e-30;

  // Local maxima are candidate components.
  Peak peaks[kMaxPeaks];
  int npeaks = 0;
  for (int b = kFirstPeakBin; b <= kLastPeakBin; ++b) {
    if (!(power[b] > power[b - 1] && power[b] >= power[b + 1])) continue;
    if (power[b] < 0.02 * band_total) continue;
    Peak pk{b, 0.0, 0.0, b * kBinHz, false};
    if (npeaks < kMaxPeaks) {
      peaks[npeaks++] = pk;
    } else {
      int weakest = 0;
      for (int i = 1; i < kMaxPeaks; ++i)
        if (power[peaks[i].bin] < power[peaks[weakest].bin]) weakest = i;
      if (power[b] > power[peaks[weakest].bin]) peaks[weakest] = pk;
    }
  }
  // Ascending bin order (insertion sort: at most kMaxPeaks entries).
  for (int i = 1; i < npeaks; ++i)
    for (int j = i; j > 0 && peaks[j].bin < peaks[j - 1].bin; --j) std::swap(peaks[j], peaks[j - 1]);

  for (int i = 0; i < npeaks; ++i) {
    Peak& pk = peaks[i];
    const int b = pk.bin;
    // Bins shared with a neighbouring peak's cluster count half to each.
    const double left = (i > 0 && peaks[i - 1].bin == b - 2) ? 0.5 : 1.0;
    const double right = (i + 1 < npeaks && peaks[i + 1].bin == b + 2) ? 0.5 : 1.0;
    pk.cluster = left * power[b - 1] + power[b] + right * power[b + 1];
    double delta = 0.0;
    if (prev_valid_ && b < kKeptBins) {
      const double prev_power = scale * (double(prev_re_[b]) * prev_re_[b] + double(prev_im_[b]) * prev_im_[b]);
      if (prev_power > 0.25 * power[b] && prev_power < 4.0 * power[b]) {
        // X_k * conj(X_{k-1}): a steady tone advances 2*pi*delta per block.
        const double cr = double(re[b]) * prev_re_[b] + double(im[b]) * prev_im_[b];
        const double ci = double(im[b]) * prev_re_[b] - double(re[b]) * prev_im_[b];
        delta = std::atan2(ci, cr) / (2.0 * kPi);
        pk.phase_ok = true;
      }
    }
    if (!pk.phase_ok) {
      // Coarse: parabolic interpolation on magnitudes.
      const double m0 = std::sqrt(power[b - 1]), m1 = std::sqrt(power[b]), m2 = std::sqrt(power[b + 1]);
      const double den = 2.0 * m1 - m0 - m2;
      delta = den > 0.0 ? std::clamp(0.5 * (m2 - m0) / den, -0.5, 0.5) : 0.0;
    }
    pk.freq_hz = (b + delta) * kBinHz;
    const double corrected = power[b] / std::max(1e-3, window_gain(delta) * window_gain(delta));
    // The correction is exact for one steady tone; two tones in one bin
    // (beating) can fool it, so never trust it far above the cluster.
    pk.power = pk.phase_ok ? std::min(corrected, 1.25 * pk.cluster) : pk.cluster;
  }

  // Significant components: within 10 dB of the strongest (Prosody's third-peak rule).
  double strongest = 0.0;
  for (int i = 0; i < npeaks; ++i) strongest = std::max(strongest, peaks[i].power);
  int sig[kMaxPeaks];
  int nsig = 0;
  double sig_cluster = 0.0;
  for (int i = 0; i < npeaks; ++i) {
    if (peaks[i].power >= tuning_.third_peak_ratio * strongest) {
      sig[nsig++] = i;
      sig_cluster += peaks[i].cluster;
    }
  }
  out.purity = sig_cluster / band_total;
  out.strongest_power = strongest;

  // Remember this block's bins for the next block's phase comparison.
  for (int b = 0; b < kKeptBins; ++b) {
    prev_re_[b] = re[b];
    prev_im_[b] = im[b];
  }
  prev_valid_ = true;
  const int prev_components = prev_components_;
  const bool prev_phase_ok = prev_phase_ok_;
  const double prev_freq[2] = {prev_freq_[0], prev_freq_[1]};
  prev_components_ = 0;
  prev_phase_ok_ = false;

  if (nsig == 0 || nsig > 2) {
    std::memcpy(prev_samples_, x, sizeof prev_samples_);
    return;
  }
  out.components = nsig;
  bool phase_ok = true;
  int bands[2];
  for (int i = 0; i < nsig; ++i) {
    const Peak& pk = peaks[sig[i]];
    out.freq_hz[i] = pk.freq_hz;
    out.power[i] = pk.power;
    bands[i] = band_of(pk.freq_hz);
    phase_ok = phase_ok && pk.phase_ok;
    prev_freq_[i] = pk.freq_hz;
  }
  prev_components_ = nsig;
  prev_phase_ok_ = phase_ok;

  int kind = kNoTone;
  if (nsig == 1) {
    switch (bands[0]) {
      case kBandLow: kind = kLow; break;
      case kBandSitLow: kind = kSitLow; break;
      case kBandSitMid: kind = kSitMid; break;
      case kBandSitHigh: kind = kSitHigh; break;
      case kBand620: kind = k620; break;
      case kBandCng: kind = kCng; break;
      case kBandCed: kind = kCed; break;
      default: break;
    }
  } else if (bands[0] == kBandLow && bands[1] == kBandLow) {
    kind = kLow;
  } else if (bands[0] == kBandLow && bands[1] == kBand620) {
    kind = kLowPlus620;
  }

  // Steady: every component's frequency came from phase continuity and
  // moved little since the previous block (when that one was measured the
  // same way; a coarse estimate cannot judge the step).
  bool steady = phase_ok && prev_components == nsig;
  for (int i = 0; steady && prev_phase_ok && i < nsig; ++i)
    steady = std::fabs(out.freq_hz[i] - prev_freq[i]) <= tuning_.max_step_hz;
  out.stable = steady;

  const double needed = (kind == held_kind && kind != kNoTone) ? hold_ms_ : min_ms_;
  if (kind != kNoTone && (strongest < needed || out.purity < tuning_.min_purity)) kind = kNoTone;
  out.kind = kind;

  if (kind == kLow) {
    dial_evidence(x, out);
    out.low_band_power = sig_cluster;
  }
  std::memcpy(prev_samples_, x, sizeof prev_samples_);
}

}  // namespace prosody::tones::cp
