#include "block_analyser.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace prosody::tones::cp {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr int kFirstBin = 8;          // 250 Hz: Prosody's detector range starts here
constexpr int kLastPeakBin = 72;      // 2250 Hz: above CED (tone set 1)
constexpr int kLastBandBin = 108;     // 3375 Hz: top of the detector range
constexpr double kStrongBin = 0.005;  // share of band energy for a bin to count
// Bins reporting frequencies within this of each other are one component.
// The closest pair in the plans is 40 Hz apart; the window after a tone's
// first (partial) one gives each bin a differently biased estimate.
constexpr double kGroupHz = 15.0;
// Power ratio between windows within which a bin's phase advance is trusted:
// wider than a steady tone needs, because a close pair's leakage makes each
// bin's magnitude wobble; narrow enough to refuse a tone's first partial window.
constexpr double kPhaseRatio = 2.9;
// A component no stronger than this times the leakage bound is leakage.
constexpr double kLeakageMargin = 2.0;

// sin(pi * x) by a short polynomial on the reduced argument (error < 1e-6):
// called for every pair of components, where libm's sin showed in profiles.
double sin_pi(double x) {
  const double n = std::round(x);
  const double r = x - n;  // [-0.5, 0.5]
  const double r2 = r * r;
  const double s =
      r * (3.14159265358979 +
           r2 * (-5.16771278004997 + r2 * (2.55016403987734 + r2 * (-0.59926452932079 + r2 * 0.08214588661112))));
  return (static_cast<long long>(n) & 1) ? -s : s;
}

// atan2 to about 1e-5 rad (a 1/1000 Hz frequency error here), for every strong bin.
double fast_atan2(double y, double x) {
  const double ax = std::fabs(x), ay = std::fabs(y);
  const double big = std::max(ax, ay);
  if (big == 0.0) return 0.0;
  const double t = std::min(ax, ay) / big;
  const double t2 = t * t;
  double a = t * (0.99997726 +
                  t2 * (-0.33262347 + t2 * (0.19354346 + t2 * (-0.11643287 + t2 * (0.05265332 + t2 * -0.01172120)))));
  if (ay > ax) a = 0.5 * kPi - a;
  if (x < 0.0) a = kPi - a;
  return y < 0.0 ? -a : a;
}

// |response| of a kWindow-point rectangular window to a tone delta bins off
// (the small-angle form of the denominator is within 0.1 % for |delta| < 40).
double window_gain(double delta) {
  const double a = std::fabs(delta);
  if (a < 1e-6) return 1.0;
  return std::fabs(sin_pi(a)) / (kPi * a);
}

}  // namespace

namespace {
const RealFft& window_fft() {
  static const RealFft fft(kWindow);  // thread-safe one-time construction
  return fft;
}
}  // namespace

BlockAnalyser::BlockAnalyser() : fft_(window_fft()) { set_tuning(AnalyserTuning{}); }

void BlockAnalyser::set_tuning(const AnalyserTuning& tuning) noexcept {
  tuning_ = tuning;
  gate_ms_ = dbm0_to_ms(tuning.activity_gate_dbm0);
  min_ms_ = dbm0_to_ms(tuning.min_level_dbm0);
  hold_ms_ = dbm0_to_ms(tuning.hold_level_dbm0);
  steady_ratio_ = std::pow(10.0, tuning.steady_db / 10.0);
  steady_ced_ratio_ = std::pow(10.0, tuning.steady_ced_db / 10.0);
}

void BlockAnalyser::set_tone_set(const ToneSetSpec* spec) noexcept {
  tone_set_ = spec;
  AnalyserTuning t;
  last_peak_bin_ = kLastPeakBin;
  if (spec) {
    t.min_level_dbm0 = spec->min_power_dbm0;
    t.hold_level_dbm0 = spec->min_power_dbm0 - 2.0;
    t.activity_gate_dbm0 = std::min(t.activity_gate_dbm0, spec->min_power_dbm0 - 4.5);
    t.min_purity = spec->snr;
    t.third_peak_ratio = spec->third_peak;
    last_peak_bin_ = std::clamp(static_cast<int>(std::ceil(spec->stop_hz / kBinHz)), kFirstBin + 1, kLastBandBin);
  }
  set_tuning(t);
  forget();
}

void BlockAnalyser::forget() noexcept {
  prev_valid_ = false;
  prev_count_ = 0;
}

void BlockAnalyser::reset() noexcept {
  forget();
  std::memset(prev_samples_, 0, sizeof prev_samples_);
  prev_ms_ = 0.0;
}

// Components from the frequency map: runs of strong bins whose phase
// advance reports the same frequency.
int BlockAnalyser::phase_components(const float* power, const float* re, const float* im, double band_total,
                                    Component* out) const noexcept {
  const double strong = kStrongBin * band_total;
  int n = 0;
  bool open = false;
  for (int b = kFirstBin; b <= last_peak_bin_; ++b) {
    if (power[b] < strong) {
      open = false;
      continue;
    }
    const double pp = prev_power_[b];
    bool have_freq = false;
    double freq = 0.0;
    if (pp * kPhaseRatio >= power[b] && pp <= kPhaseRatio * power[b]) {
      // X_k * conj(X_{k-1}): a tone at bin b + d advances pi * (b + d) per hop.
      const double cr = double(re[b]) * prev_re_[b] + double(im[b]) * prev_im_[b];
      const double ci = double(im[b]) * prev_re_[b] - double(re[b]) * prev_im_[b];
      double d = fast_atan2(ci, cr) / kPi - b;
      d -= 2.0 * std::round(d / 2.0);  // into [-1, 1]
      freq = (b + d) * kBinHz;
      have_freq = true;
    }
    Component* c = open ? &out[n - 1] : nullptr;
    const bool joins = c && (!have_freq || !c->phase_ok || std::fabs(freq - c->freq_hz) <= kGroupHz);
    if (joins) {
      c->power += power[b];
      if (power[b] > c->peak_power) {
        c->peak_power = power[b];
        c->peak_bin = b;
        if (have_freq) {
          c->freq_hz = freq;
          c->phase_ok = true;
        }
      } else if (have_freq && !c->phase_ok) {
        c->freq_hz = freq;
        c->phase_ok = true;
      }
      continue;
    }
    if (n == kMaxComponents) break;
    out[n++] = Component{power[b], power[b], b, have_freq ? freq : b * kBinHz, have_freq};
    open = true;
  }
  // Sidelobes across a null report the same frequency: fold them in.
  for (int i = 0; i < n; ++i) {
    for (int j = i + 1; j < n;) {
      if (out[i].phase_ok && out[j].phase_ok && std::fabs(out[i].freq_hz - out[j].freq_hz) <= kGroupHz) {
        Component& keep = out[i].peak_power >= out[j].peak_power ? out[i] : out[j];
        const Component& drop = &keep == &out[i] ? out[j] : out[i];
        keep.power += drop.power;
        out[i] = keep;
        out[j] = out[--n];
      } else {
        ++j;
      }
    }
  }
  return n;
}

// Without phase history (a tone's first window): local maxima with the bins
// either side, frequencies by parabolic interpolation. Never steady.
int BlockAnalyser::peak_components(const float* power, double band_total, Component* out) const noexcept {
  int n = 0;
  for (int b = kFirstBin; b <= last_peak_bin_ && n < kMaxComponents; ++b) {
    if (!(power[b] > power[b - 1] && power[b] >= power[b + 1])) continue;
    if (power[b] < 2.0 * kStrongBin * band_total) continue;
    const double m0 = std::sqrt(power[b - 1]), m1 = std::sqrt(power[b]), m2 = std::sqrt(power[b + 1]);
    const double den = 2.0 * m1 - m0 - m2;
    const double d = den > 0.0 ? std::clamp(0.5 * (m2 - m0) / den, -0.5, 0.5) : 0.0;
    out[n++] = Component{power[b - 1] + power[b] + power[b + 1], power[b], b, (b + d) * kBinHz, false};
  }
  return n;
}

void BlockAnalyser::analyse(const float* x, int held_kind, bool concealed, BlockResult& out) noexcept {
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

  const bool active = !concealed && std::max(prev_ms_, out.mean_square) >= gate_ms_;
  if (!active) {
    // Too quiet to hold a tone we report, or lost: no FFT, phase history gone.
    forget();
    std::memcpy(prev_samples_, x, sizeof prev_samples_);
    prev_ms_ = out.mean_square;
    return;
  }
  out.analysed = true;

  float window[kWindow];
  std::memcpy(window, prev_samples_, sizeof prev_samples_);
  std::memcpy(window + kBlock, x, kBlock * sizeof(float));
  std::memcpy(prev_samples_, x, sizeof prev_samples_);
  prev_ms_ = out.mean_square;

  float re[kWindow / 2 + 1], im[kWindow / 2 + 1];
  fft_.forward(window, re, im);
  // Power per bin as the mean square of the sine it represents.
  const float scale = 2.0f / (float(kWindow) * kWindow);
  float power[kLastBandBin + 2];
  for (int b = 0; b <= kLastBandBin + 1; ++b) power[b] = scale * (re[b] * re[b] + im[b] * im[b]);
  float band_sum = 0.0f;
  for (int b = kFirstBin; b <= kLastBandBin; ++b) band_sum += power[b];
  const double band_total = double(band_sum) + 1e-30;

  Component comps[kMaxComponents];
  int ncomps =
      prev_valid_ ? phase_components(power, re, im, band_total, comps) : peak_components(power, band_total, comps);
  std::memcpy(prev_re_, re, sizeof prev_re_);
  std::memcpy(prev_im_, im, sizeof prev_im_);
  std::memcpy(prev_power_, power, sizeof prev_power_);
  prev_valid_ = true;

  // Component power: for one steady tone the peak bin corrected by the
  // window's response is exact; a close pair's leakage can fool the
  // correction, so never trust it far above the bins' own sum.
  double strongest = 0.0;
  for (int i = 0; i < ncomps; ++i) {
    Component& c = comps[i];
    if (c.phase_ok) {
      const double delta = std::clamp(c.freq_hz / kBinHz - c.peak_bin, -1.0, 1.0);
      const double g = window_gain(delta);
      c.power = std::min(c.peak_power / std::max(1e-3, g * g), 1.25 * c.power);
    }
    strongest = std::max(strongest, c.power);
  }
  // Bins between two strong tones hold a mix of both tones' leakage and
  // report no consistent frequency: drop a weaker component whose peak the
  // stronger ones' window response explains. (Components too weak to count
  // anyway are left alone: the test is for those that could.)
  for (int i = 0; i < ncomps;) {
    if (comps[i].power < tuning_.third_peak_ratio * strongest) {
      ++i;
      continue;
    }
    double leak = 0.0;
    for (int j = 0; j < ncomps; ++j)
      if (j != i && comps[j].phase_ok && comps[j].power > comps[i].power)
        leak += std::sqrt(comps[j].power) * window_gain(comps[i].peak_bin - comps[j].freq_hz / kBinHz);
    if (comps[i].peak_power <= kLeakageMargin * leak * leak)
      comps[i] = comps[--ncomps];
    else
      ++i;
  }
  // Significant components: within 10 dB of the strongest (Prosody's third-peak rule).
  int sig[kMaxComponents];
  int nsig = 0;
  double sig_power = 0.0;
  for (int i = 0; i < ncomps; ++i)
    if (comps[i].power >= tuning_.third_peak_ratio * strongest) {
      sig[nsig++] = i;
      sig_power += comps[i].power;
    }
  out.purity = std::min(1.0, sig_power / band_total);
  out.strongest_power = strongest;

  const int prev_count = prev_count_;
  const double prev_freq[2] = {prev_freq_[0], prev_freq_[1]};
  const double prev_power[2] = {prev_comp_power_[0], prev_comp_power_[1]};
  const bool prev_phase_ok[2] = {prev_phase_ok_[0], prev_phase_ok_[1]};
  prev_count_ = 0;
  if (nsig == 0 || nsig > 2) return;
  if (nsig == 2 && comps[sig[0]].freq_hz > comps[sig[1]].freq_hz) std::swap(sig[0], sig[1]);

  out.components = nsig;
  int bands[2];
  for (int i = 0; i < nsig; ++i) {
    out.freq_hz[i] = comps[sig[i]].freq_hz;
    out.power[i] = comps[sig[i]].power;
    bands[i] = band_of(comps[sig[i]].freq_hz);
  }
  int kind = kNoTone;
  if (tone_set_) {
    kind = user_kind(nsig, out.freq_hz, out.power);
  } else if (nsig == 1) {
    switch (bands[0]) {
      case kBandLow:
        kind = kLow;
        break;
      case kBandSitLow:
        kind = kSitLow;
        break;
      case kBandSitMid:
        kind = kSitMid;
        break;
      case kBandSitHigh:
        kind = kSitHigh;
        break;
      case kBand620:
        kind = k620;
        break;
      case kBandCng:
        kind = kCng;
        break;
      case kBandCed:
        kind = kCed;
        break;
      default:
        break;
    }
  } else if (is_known_pair(out.freq_hz[0], out.freq_hz[1])) {
    if (bands[0] == kBandLow && bands[1] == kBandLow)
      kind = kLow;
    else if (bands[0] == kBandLow && bands[1] == kBand620)
      kind = kLowPlus620;
  }

  bool steady = true;
  bool measured = true;
  const double level_ratio = (kind == kCed && !tone_set_) ? steady_ced_ratio_ : steady_ratio_;
  for (int i = 0; i < nsig; ++i) {
    const Component& c = comps[sig[i]];
    prev_freq_[i] = c.freq_hz;
    prev_comp_power_[i] = c.power;
    prev_phase_ok_[i] = c.phase_ok;
    // Steady: measured by phase continuity now and in the previous block,
    // hardly moved in frequency, and kept its level (speech harmonics glide
    // and swell; a tone does neither). The other component's leakage into
    // this one's bins (relative amplitude r) makes each window's phase err
    // by up to r radians, so one frequency estimate (a phase step) by 2r and
    // the change between two estimates by 4r; amplitude by (1+r)/(1-r).
    // r is the other component's response at this one's peak bin relative
    // to this one's own (off-centre) response there.
    double r = 0.0;
    if (nsig == 2) {
      const Component& other = comps[sig[1 - i]];
      const double own = std::max(0.3, window_gain(c.peak_bin - c.freq_hz / kBinHz));
      r = std::min(0.8, std::sqrt(other.power / c.power) * window_gain(c.peak_bin - other.freq_hz / kBinHz) / own);
    }
    const double allowed_hz = tuning_.steady_hz + 4.0 * r * kSampleRate / (2.0 * kPi * kBlock);
    const double wobble = (1.0 + r) / (1.0 - r);
    const double allowed_ratio = level_ratio * wobble * wobble;
    bool matched = false;
    for (int j = 0; j < prev_count && !matched; ++j)
      matched = prev_phase_ok[j] && std::fabs(c.freq_hz - prev_freq[j]) <= allowed_hz &&
                c.power <= allowed_ratio * prev_power[j] && prev_power[j] <= allowed_ratio * c.power;
    steady = steady && c.phase_ok && matched;
    measured = measured && c.phase_ok;
  }
  out.measured = measured;
  prev_count_ = nsig;
  out.stable = steady;

  const double needed = (kind == held_kind && kind != kNoTone) ? hold_ms_ : min_ms_;
  if (kind != kNoTone && (strongest < needed || out.purity < tuning_.min_purity)) kind = kNoTone;
  out.kind = kind;
}

// The tone of the user set that count components (ascending frequencies)
// make, as a kind (1 + its index), or kNoTone.
int BlockAnalyser::user_kind(int count, const double* freq, const double* power) const noexcept {
  const ToneSetSpec& s = *tone_set_;
  if (!s.dual()) {
    const int i = count == 1 ? s.range_of(s.band1, freq[0]) : -1;
    return i < 0 ? kNoTone : s.kind_of(i, 0);
  }
  if (count != 2) return kNoTone;
  // Band 1 is usually the lower; a set may have it the other way round.
  for (int low_in_band1 = 1; low_in_band1 >= 0; --low_in_band1) {
    const int a = low_in_band1 ? 0 : 1, b = 1 - a;
    const int i = s.range_of(s.band1, freq[a]), j = s.range_of(s.band2, freq[b]);
    if (i < 0 || j < 0) continue;
    if (s.twist_db > 0.0 && std::fabs(10.0 * std::log10(power[b] / power[a])) > s.twist_db) return kNoTone;
    return s.kind_of(i, j);
  }
  return kNoTone;
}

}  // namespace prosody::tones::cp
