// digit_tracker.cpp - see digit_tracker.hpp and docs/tone-detection.md.
#include "digit_tracker.hpp"

#include <algorithm>
#include <cmath>

#include "harmonic_sieve.hpp"

namespace prosody::tones::dtmf {

namespace {

constexpr double kEdgePresence = 0.5;        // an edge is where the tone is half present
constexpr double kSteadyPresence = 0.8;      // windows this full feed plateau and frequency
constexpr double kFullAfterGap = 0.95;       // less than this just after lost audio: the tone rose after it
constexpr unsigned kGraceHops = 2;           // failed verifications tolerated in a candidate
constexpr unsigned kGapMinVerifiedHops = 3;  // candidates this established may bridge a gap
constexpr double kFullTolerance = 4.0;       // samples: a window is full if it starts after the onset
constexpr double kTwistBoundaryDb = 0.25;    // accept at the limit, reject 0.5 dB past it
constexpr unsigned kMaxTotalMisses = 1;      // failed verifications allowed before confirmation (2 let a
                                             // synth note in music on hold through, A10),
constexpr unsigned kMissesPerVerified = 3;   // or one per three verified hops if more
// Steadiness: a DTMF tone holds its frequency and level; voiced speech glides.
constexpr double kMaxDriftHz = 12.0;       // offset change, first vs second half
constexpr double kMaxLevelChangeDb = 1.5;  // steady amplitude, second vs first half
constexpr double kSteadyRetryMs = 11.0;    // how long steadiness may be re-judged
constexpr double kOnsetSlack = 16.0;       // samples the onset may precede the first verified window
constexpr double kSieveOnsetDelay = 8.0;   // samples: the sieve's frame starts a millisecond into the tone

double accept_offset_hz(double f) {
  // Between must-accept (1.5 % + 2 Hz) and must-reject (3.5 %), nearer the
  // former: estimates are good to a hertz or two, and every hertz of width
  // admits more speech harmonics.
  const double accept = 0.015 * f + 2.0, reject = 0.035 * f;
  return accept + 0.3 * (reject - accept);
}

}  // namespace

void DigitTracker::configure(const DtmfConfig& config) {
  standard_ = config.standard;
  min_duration_ms_ = config.min_duration_ms;
  twist_normal_db_ = config.twist_normal_db;
  twist_reverse_db_ = config.twist_reverse_db;
  min_amplitude_ = dbm0_to_amplitude(config.min_level_dbm0);
}

void DigitTracker::reset() {
  pair_ = TrackedPair{};
  walk_ = OnsetWalk{};
  onset_ = burst_end_ = release_ = 0.0;
  released_digit_ = false;
  peak_low_ = peak_high_ = 0.0;
  plateau_sum_low_ = plateau_sum_high_ = 0.0;
  plateau_count_ = 0;
  lag_sum_low_ = lag_sum_high_ = 0.0;
  lag_count_ = 0;
  first_verified_end_ = 0.0;
  total_misses_ = 0;
  bridged_ = false;
  counts_ = Counts{};
}

double DigitTracker::qualifying_ms() const {
  if (min_duration_ms_ >= 64) return 61.0;
  if (min_duration_ms_ >= 40) return 37.0;
  // The standard's own guard time: halfway between must-reject (23 ms, or
  // 20 ms for ETSI) and must-accept (40 ms), nudged down for report latency.
  return standard_ == DtmfStandard::etsi ? 24.0 : 26.0;
}

double DigitTracker::bridge_ms() const {
  // Gaps that must be bridged (Q.24 <= 10 ms, ETSI < 20 ms) against pauses
  // that must separate digits (40 ms): decide halfway, on the measured gap.
  return standard_ == DtmfStandard::etsi ? 30.0 : 25.0;
}

double DigitTracker::plateau(bool high) const {
  if (plateau_count_ > 0) return (high ? plateau_sum_high_ : plateau_sum_low_) / plateau_count_;
  return high ? peak_high_ : peak_low_;
}

double DigitTracker::presence(const WindowRecord& window) const {
  const double low = window.mag[pair_.row] / std::max(plateau(false), 1e-30);
  const double high = window.mag[high_channel()] / std::max(plateau(true), 1e-30);
  return 0.5 * (low + high);
}

bool DigitTracker::tone_channels_dominate(const WindowRecord& window) const {
  for (int k = 0; k < kFirstColumnChannel; ++k)
    if (k != pair_.row && window.mag[k] > window.mag[pair_.row]) return false;
  for (int k = kFirstColumnChannel; k < kChannels; ++k)
    if (k != high_channel() && window.mag[k] > window.mag[high_channel()]) return false;
  return true;
}

double DigitTracker::rising_edge(const WindowRecord& window, double presence) const {
  return static_cast<double>(window.end) - kWindowSamples + tables_->cumulative_inverse(1.0 - presence);
}

double DigitTracker::falling_edge(const WindowRecord& window, double presence) const {
  return static_cast<double>(window.end) - kWindowSamples + tables_->cumulative_inverse(presence);
}

double DigitTracker::estimate_onset(const HopAnalyser& analysis, double* concealed, double stop_below) {
  // Walk back from the newest window to the last one in which the tone was
  // less than half present; the onset is read from whichever of that window
  // and its successor is nearer the half-way point. Concealed windows are
  // looked past (the edge may lie before a lost packet), and the span they
  // cover is reported so the caller can allow for it. Once every window
  // left ends before stop_below, so would any edge read from them: the
  // walk stops there.
  *concealed = 0.0;
  // presence() with the plateau's reciprocals and the channels taken once
  // for the walk.
  const double inv_low = 1.0 / std::max(plateau(false), 1e-30);
  const double inv_high = 1.0 / std::max(plateau(true), 1e-30);
  const int low = pair_.row, high = high_channel();
  auto presence = [&](const WindowRecord& w) { return 0.5 * (w.mag[low] * inv_low + w.mag[high] * inv_high); };
  // An end (a whole number) lies before stop_below if and only if it lies
  // before stop, the least whole number not below stop_below.
  std::uint64_t stop = 0;
  if (stop_below > 0.0) {
    stop = static_cast<std::uint64_t>(stop_below);
    stop += static_cast<double>(stop) < stop_below;
  }
  const std::uint64_t newest = analysis.hop_count() - 1;  // hop of window_back(0)
  const std::uint64_t depth = std::min<std::uint64_t>(newest, HopAnalyser::kWindowRecords - 2);
  // Where the last walk of this candidate ended, a hop or two ago, it found
  // the tone at least half present in every window between its edge and
  // its newest window. If the least magnitudes of those windows still make
  // the tone at least half present with today's plateau, so do theirs (the
  // presence rounds monotonically): this walk goes straight to that edge,
  // where the last one stopped, with the same windows and the same stop.
  const OnsetWalk resume = walk_;
  walk_.valid = false;
  const bool may_resume = resume.valid && !analysis.lost().any && resume.newest < newest &&
                          resume.later < resume.newest && newest - resume.edge <= depth &&
                          !(presence_bound(resume, inv_low, inv_high) < kEdgePresence);
  const std::uint64_t resume_at = newest - (resume.newest - 1);  // k of the last walk's first window
  float min_low = HUGE_VALF, min_high = HUGE_VALF;               // of the windows found present
  const WindowRecord* later = &analysis.window_back(0);
  std::uint64_t later_end = later->end, later_k = 0;
  bool gap_between = false;  // unknown windows between `later` and the one examined
  for (std::uint64_t k = 1; k <= depth; ++k) {
    if (may_resume && k == resume_at && !gap_between) {
      later_k = newest - resume.later;
      later = &analysis.window_back(static_cast<unsigned>(later_k));
      later_end = later->end;
      min_low = std::min(min_low, resume.min_low);
      min_high = std::min(min_high, resume.min_high);
      k = newest - resume.edge;
    }
    const WindowRecord& w = analysis.window_back(static_cast<unsigned>(k));
    if (w.end < kWindowSamples || later_end < stop) break;
    if (!w.computed) continue;
    if (w.unknown) {
      // A window just after lost audio that the tone only partly fills
      // shows the edge came after the gap: read it there.
      if (!gap_between) {
        const double later_presence = presence(*later);
        if (later_presence < kFullAfterGap) return rising_edge(*later, std::max(later_presence, 0.0));
      }
      *concealed += kHopSamples;
      gap_between = true;
      continue;
    }
    const double present = presence(w);
    if (present < kEdgePresence) {
      if (!gap_between) {
        walk_ = OnsetWalk{true, newest, newest - k, newest - later_k, min_low, min_high};
        const double later_presence = presence(*later);
        if (std::fabs(later_presence - kEdgePresence) < std::fabs(present - kEdgePresence))
          return rising_edge(*later, std::min(later_presence, 1.0));
      }
      return rising_edge(w, std::max(present, 0.0));
    }
    later = &w;
    later_end = w.end;
    later_k = k;
    min_low = std::min(min_low, w.mag[low]);
    min_high = std::min(min_high, w.mag[high]);
    gap_between = false;
  }
  return static_cast<double>(later_end) - kWindowSamples;
}

double DigitTracker::presence_bound(const OnsetWalk& walk, double inv_low, double inv_high) {
  return 0.5 * (walk.min_low * inv_low + walk.min_high * inv_high);
}

bool DigitTracker::window_full(const WindowRecord& window) const {
  return static_cast<double>(window.end) - kWindowSamples >= onset_ - kFullTolerance;
}

void DigitTracker::absorb(const WindowRecord& window, const WindowRecord& previous) {
  // Steady windows refine the plateau (for edges and level) and the
  // frequency (phase advance from the previous window).
  const double mag_low = window.mag[pair_.row], mag_high = window.mag[high_channel()];
  peak_low_ = std::max(peak_low_, mag_low);
  peak_high_ = std::max(peak_high_, mag_high);
  if (!window_full(window) || presence(window) < kSteadyPresence) return;
  plateau_sum_low_ += mag_low;
  plateau_sum_high_ += mag_high;
  if (plateau_count_ < kKeptSteady) {
    kept_mags_low_[plateau_count_] = static_cast<float>(mag_low);
    kept_mags_high_[plateau_count_] = static_cast<float>(mag_high);
  }
  ++plateau_count_;
  if (previous.computed && !previous.unknown && window_full(previous) && presence(previous) >= kSteadyPresence) {
    const std::complex<double> lag_low = tables_->lag_product(window.z(pair_.row), previous.z(pair_.row), pair_.row);
    const std::complex<double> lag_high =
        tables_->lag_product(window.z(high_channel()), previous.z(high_channel()), high_channel());
    lag_sum_low_ += lag_low;
    lag_sum_high_ += lag_high;
    if (lag_count_ < kKeptSteady) {
      kept_lags_low_[lag_count_] = lag_low;
      kept_lags_high_[lag_count_] = lag_high;
    }
    ++lag_count_;
  }
}

void DigitTracker::start_candidate(const WindowVerdict& verdict, const WindowRecord& window,
                                   const HopAnalyser& analysis) {
  pair_.phase = TrackingPhase::candidate;
  pair_.row = verdict.row;
  pair_.column = verdict.column;
  walk_.valid = false;
  reset_measurements(window);
  pair_.verified_hops = 1;
  pair_.consecutive_misses = 0;
  total_misses_ = 0;
  bridged_ = false;
  first_verified_end_ = static_cast<double>(window.end);
  onset_ = clamped_onset(analysis);
  released_digit_ = false;
  ++counts_.candidates;
}

void DigitTracker::reset_measurements(const WindowRecord& window) {
  peak_low_ = std::abs(window.z(pair_.row));
  peak_high_ = std::abs(window.z(high_channel()));
  plateau_sum_low_ = plateau_sum_high_ = 0.0;
  plateau_count_ = 0;
  lag_sum_low_ = lag_sum_high_ = 0.0;
  lag_count_ = 0;
}

double DigitTracker::clamped_onset(const HopAnalyser& analysis) {
  // The onset is read from the magnitude rise, but never placed more than a
  // window before the first verified window (plus any concealed span): a
  // vowel that slowly turned tone-like must earn its duration while it
  // looks like DTMF.
  // (Lost audio lowers the bound as the walk finds it: then it walks on.)
  double concealed = 0.0;
  const double bound = first_verified_end_ - kWindowSamples - kOnsetSlack;
  const double estimate = estimate_onset(analysis, &concealed, analysis.lost().any ? -1e300 : bound);
  return std::max(estimate, bound - concealed);
}

bool DigitTracker::steady(HopTrace* trace) const {
  // Compare the first and second halves of the steady windows: frequency by
  // the phase advance, level by the mean magnitude. Halves average several
  // windows, so noise moves them far less than a glide or a decay does.
  const double to_hz = kSampleRateHz / (2.0 * kPi * kHopSamples);
  const unsigned lags = std::min(lag_count_, kKeptSteady);
  double drift_low = 0.0, drift_high = 0.0;
  if (lags >= 2) {
    const unsigned half = lags / 2;
    std::complex<double> first_low = 0.0, second_low = 0.0, first_high = 0.0, second_high = 0.0;
    for (unsigned i = 0; i < half; ++i) {
      first_low += kept_lags_low_[i];
      first_high += kept_lags_high_[i];
      second_low += kept_lags_low_[lags - half + i];
      second_high += kept_lags_high_[lags - half + i];
    }
    drift_low = std::arg(second_low * std::conj(first_low)) * to_hz;
    drift_high = std::arg(second_high * std::conj(first_high)) * to_hz;
  }
  const unsigned mags = std::min(plateau_count_, kKeptSteady);
  double change_low = 0.0, change_high = 0.0;
  if (mags >= 2) {
    const unsigned half = mags / 2;
    double first_low = 0.0, second_low = 0.0, first_high = 0.0, second_high = 0.0;
    for (unsigned i = 0; i < half; ++i) {
      first_low += kept_mags_low_[i];
      first_high += kept_mags_high_[i];
      second_low += kept_mags_low_[mags - half + i];
      second_high += kept_mags_high_[mags - half + i];
    }
    change_low = 20.0 * std::log10(std::max(second_low, 1e-30) / std::max(first_low, 1e-30));
    change_high = 20.0 * std::log10(std::max(second_high, 1e-30) / std::max(first_high, 1e-30));
  }
  if (trace) {
    trace->judged = true;
    trace->drift_low = drift_low;
    trace->drift_high = drift_high;
    trace->change_low_db = change_low;
    trace->change_high_db = change_high;
  }
  return std::fabs(drift_low) <= kMaxDriftHz && std::fabs(drift_high) <= kMaxDriftHz &&
         std::fabs(change_low) <= kMaxLevelChangeDb && std::fabs(change_high) <= kMaxLevelChangeDb;
}

bool DigitTracker::harmonic_series(const Measurement& m, std::uint64_t end, const HopAnalyser& analysis,
                                   HopTrace* trace) const {
  // Frame: the tone since its onset (plus a millisecond), at most 32 ms.
  const double first = std::max(onset_ + kSieveOnsetDelay, static_cast<double>(end) - kSieveMaxFrameSamples);
  if (first >= static_cast<double>(end)) return false;
  const std::uint64_t start = static_cast<std::uint64_t>(std::ceil(first));
  const unsigned n = static_cast<unsigned>(end - start);
  if (n < kSieveMinFrameSamples) return false;
  float frame[kSieveMaxFrameSamples];
  analysis.copy_history(start, n, frame);
  // Lost audio (concealed, zeros in the history) inside the frame.
  const LostAudio& lost = analysis.lost();
  unsigned lost_begin = 0, lost_end = 0;
  if (lost.any && start < lost.until && end > lost.from) {
    lost_begin = static_cast<unsigned>(std::max(lost.from, start) - start);
    lost_end = static_cast<unsigned>(std::min(lost.until, end) - start);
  }
  // The measured tones, with their phasors from the nominal channels' (the
  // offsets are a few tens of hertz at most).
  auto tone = [&](int channel, double offset) {
    return SieveTone{kNominalHz[channel] + offset,
                     tables_->nominal_unit[channel] * small_rotation(2.0 * kPi * offset / kSampleRateHz)};
  };
  SieveEvidence evidence;
  const bool present = harmonic_series_present(frame, n, lost_begin, lost_end, tone(pair_.row, m.offset_low),
                                               tone(high_channel(), m.offset_high), trace ? &evidence : nullptr);
  if (trace) {
    trace->sieve_ratio = evidence.ratio;
    trace->sieve_level = evidence.level;
  }
  return present;
}

DigitTracker::Measurement DigitTracker::measure() const {
  Measurement m;
  const double scale = 2.0 / tables_->window_sum;
  m.offset_low = lag_count_ ? std::arg(lag_sum_low_) * kSampleRateHz / (2.0 * kPi * kHopSamples) : 0.0;
  m.offset_high = lag_count_ ? std::arg(lag_sum_high_) * kSampleRateHz / (2.0 * kPi * kHopSamples) : 0.0;
  m.amp_low = plateau(false) * scale / std::max(tables_->response_at(m.offset_low), 1e-3);
  m.amp_high = plateau(true) * scale / std::max(tables_->response_at(m.offset_high), 1e-3);
  return m;
}

bool DigitTracker::qualifies(const Measurement& m) const {
  if (std::fabs(m.offset_low) > accept_offset_hz(kNominalHz[pair_.row])) return false;
  if (std::fabs(m.offset_high) > accept_offset_hz(kNominalHz[high_channel()])) return false;
  if (m.amp_low < min_amplitude_ || m.amp_high < min_amplitude_) return false;
  const double twist_db = 20.0 * std::log10(m.amp_high / m.amp_low);
  if (twist_db > twist_reverse_db_ + kTwistBoundaryDb) return false;
  if (-twist_db > twist_normal_db_ + kTwistBoundaryDb) return false;
  return true;
}

DtmfEvent DigitTracker::make_event(bool is_end, std::uint64_t decided) const {
  const Measurement m = measure();
  DtmfEvent e;
  e.digit = kKeypad[pair_.row][pair_.column];
  e.row = pair_.row;
  e.column = pair_.column;
  e.is_end = is_end;
  e.start_sample = static_cast<std::uint64_t>(std::max(0.0, std::round(onset_)));
  e.decided_sample = decided;
  e.low_level_dbm0 = amplitude_to_dbm0(m.amp_low);
  e.high_level_dbm0 = amplitude_to_dbm0(m.amp_high);
  e.level_dbm0 = std::max(e.low_level_dbm0, e.high_level_dbm0);
  e.low_freq_hz = kNominalHz[pair_.row] + m.offset_low;
  e.high_freq_hz = kNominalHz[high_channel()] + m.offset_high;
  if (is_end) {
    e.end_sample = static_cast<std::uint64_t>(std::max(0.0, std::round(burst_end_)));
    if (e.end_sample < e.start_sample) e.end_sample = e.start_sample;
    e.duration_ms = (burst_end_ - onset_) * 1000.0 / kSampleRateHz;
  }
  return e;
}

void DigitTracker::finish(std::uint64_t decided, std::vector<DtmfEvent>& events) {
  events.push_back(make_event(true, decided));
  pair_.phase = TrackingPhase::idle;
  release_ = burst_end_;
  released_digit_ = true;
}

void DigitTracker::track(const WindowRecord& window, const WindowRecord& previous, const WindowVerdict& verdict,
                         const HopAnalyser& analysis, std::vector<DtmfEvent>& events, HopTrace* trace) {
  if (window.unknown) return;            // concealed audio: no evidence either way
  const std::uint64_t now = window.end;  // events and edges refer to this window's end
  if (previous.unknown && pair_.phase == TrackingPhase::candidate) {
    // First look after lost audio: keep the candidate and its onset, but
    // measure plateau, frequency and steadiness afresh from here.
    reset_measurements(window);
    bridged_ = true;
  }
  const bool same = verdict.valid && verdict.row == pair_.row && verdict.column == pair_.column;
  const bool other = verdict.valid && !same;
  const double gap_limit = bridge_ms() * kSampleRateHz / 1000.0;
  // After this long without the tone, no rise can fall within the bridge.
  const double bridge_horizon = gap_limit + 0.6 * kWindowSamples + kHopSamples;

  switch (pair_.phase) {
    case TrackingPhase::idle:
      if (verdict.valid) start_candidate(verdict, window, analysis);
      return;

    case TrackingPhase::candidate: {
      if (same) {
        ++pair_.verified_hops;
        pair_.consecutive_misses = 0;
        absorb(window, previous);
        if (!bridged_) onset_ = clamped_onset(analysis);
        if (plateau_count_ < 2 || lag_count_ < 2) return;
        // The tone must have been seen for the qualifying time: lost audio
        // inside the candidate does not count.
        const double present = std::min(presence(window), 1.0);
        const double lower_end = falling_edge(window, present);
        double observed = lower_end - onset_;
        const LostAudio& lost = analysis.lost();
        if (lost.any)
          observed -= std::max(0.0, std::min(lower_end, double(lost.until)) - std::max(onset_, double(lost.from)));
        if (observed < qualifying_ms() * kSampleRateHz / 1000.0) return;
        // Measured frequency, twist and level decide at once, and so does a
        // harmonic series. Steadiness is a noisy statistic over a few
        // windows: if only it fails, wait for more windows (its halves get
        // longer and quieter), up to a deadline that keeps the report
        // within 40 ms of the onset.
        const Measurement m = measure();
        const unsigned allowed = std::max(kMaxTotalMisses, pair_.verified_hops / kMissesPerVerified);
        bool reject = total_misses_ > allowed || !qualifies(m);
        if (!reject && steady(trace)) {
          if (!harmonic_series(m, now, analysis, trace)) {
            pair_.phase = TrackingPhase::confirmed;
            ++counts_.confirmed;
            events.push_back(make_event(false, now));
            return;
          }
          reject = true;
        }
        const double waited = static_cast<double>(window.end) - onset_;
        if (reject || waited > (qualifying_ms() + kSteadyRetryMs) * kSampleRateHz / 1000.0) {
          pair_.phase = TrackingPhase::rejected;
          release_ = static_cast<double>(now);
        }
        return;
      }
      const double present = presence(window);
      const bool dominant = tone_channels_dominate(window);
      ++total_misses_;
      if (!other && present >= kEdgePresence && dominant && ++pair_.consecutive_misses <= kGraceHops) return;
      if (!other && present < kEdgePresence && pair_.verified_hops >= kGapMinVerifiedHops) {
        pair_.phase = TrackingPhase::candidate_gap;
        burst_end_ = std::max(onset_, falling_edge(window, present));
        release_ = burst_end_;
        return;
      }
      pair_.phase = TrackingPhase::idle;
      release_ = static_cast<double>(now);
      if (other) start_candidate(verdict, window, analysis);
      return;
    }

    case TrackingPhase::candidate_gap: {
      if (other) {
        start_candidate(verdict, window, analysis);
        return;
      }
      const double present = presence(window);
      if (present >= kEdgePresence && tone_channels_dominate(window)) {
        if (rising_edge(window, std::min(present, 1.0)) - burst_end_ <= gap_limit) {
          pair_.phase = TrackingPhase::candidate;
          bridged_ = true;
          pair_.consecutive_misses = 0;
        } else {
          pair_.phase = TrackingPhase::idle;
          if (verdict.valid) start_candidate(verdict, window, analysis);
        }
        return;
      }
      if (static_cast<double>(window.end) > burst_end_ + bridge_horizon) pair_.phase = TrackingPhase::idle;
      return;
    }

    case TrackingPhase::confirmed: {
      const double present = presence(window);
      if (present >= kEdgePresence && tone_channels_dominate(window)) {
        absorb(window, previous);
        return;
      }
      // The tone is going: read its end from whichever window is nearer
      // half-present, this one or the previous.
      const double previous_presence = previous.unknown || !previous.computed ? -1.0 : presence(previous);
      if (previous_presence >= 0.0 && std::fabs(previous_presence - kEdgePresence) < std::fabs(present - kEdgePresence))
        burst_end_ = falling_edge(previous, std::min(previous_presence, 1.0));
      else
        burst_end_ = falling_edge(window, std::max(present, 0.0));
      burst_end_ = std::max(burst_end_, onset_);
      pair_.phase = TrackingPhase::ending;
      return;
    }

    case TrackingPhase::ending: {
      if (other) {
        finish(now, events);
        start_candidate(verdict, window, analysis);
        return;
      }
      const double present = presence(window);
      if (present >= kEdgePresence && tone_channels_dominate(window)) {
        const double previous_presence = previous.unknown || !previous.computed ? -1.0 : presence(previous);
        double rise;
        if (previous_presence >= 0.0 &&
            std::fabs(previous_presence - kEdgePresence) < std::fabs(present - kEdgePresence))
          rise = rising_edge(previous, std::max(previous_presence, 0.0));
        else
          rise = rising_edge(window, std::min(present, 1.0));
        if (rise - burst_end_ <= gap_limit) {
          pair_.phase = TrackingPhase::confirmed;  // an interruption: same digit
          return;
        }
        finish(now, events);
        if (verdict.valid) start_candidate(verdict, window, analysis);
        return;
      }
      if (static_cast<double>(window.end) > burst_end_ + bridge_horizon) finish(now, events);
      return;
    }

    case TrackingPhase::rejected: {
      const double present = presence(window);
      if (present < kEdgePresence || !tone_channels_dominate(window) || other) {
        pair_.phase = TrackingPhase::idle;
        release_ = static_cast<double>(now);
        if (other) start_candidate(verdict, window, analysis);
      }
      return;
    }
  }
}

}  // namespace prosody::tones::dtmf
