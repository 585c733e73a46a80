// digit_tracker.hpp - the DTMF detector's tracking: turns per-hop verdicts
// into digits with measured edges.
//
// A verified window starts a candidate. Its onset is read from the rise of
// the two channels' magnitudes; steady windows feed the plateau level and
// the frequency (summed lag products). Once the tone has been observed for
// the qualifying time, the measured frequency, twist, level, verification
// record, steadiness and the harmonic sieve decide whether it is a digit.
// Its end, gaps and interruptions are again read from the magnitudes and
// compared with the standard's durations (docs/tone-detection.md, 1.5).
#pragma once

#include <complex>
#include <cstdint>
#include <vector>

#include "dtmf_common.hpp"
#include "hop_analyser.hpp"

namespace prosody::tones::dtmf {

class DigitTracker {
 public:
  DigitTracker() : tables_(&window_tables()) {}

  void configure(const DtmfConfig& config);
  void reset();

  // One judged window, the analysis' newest (previous: the one a hop
  // before); events are appended. trace (null: off) receives the
  // qualification figures.
  void track(const WindowRecord& window, const WindowRecord& previous, const WindowVerdict& verdict,
             const HopAnalyser& analysis, std::vector<DtmfEvent>& events, HopTrace* trace);

  const TrackedPair& pair() const noexcept { return pair_; }
  TrackingPhase phase() const noexcept { return pair_.phase; }
  bool idle() const noexcept { return pair_.idle(); }
  double onset() const noexcept { return onset_; }      // measured onset (samples)
  double release() const noexcept { return release_; }  // where suppression may end
  bool released_digit() const noexcept { return released_digit_; }

  struct Counts {
    std::uint64_t candidates = 0;  // candidates started
    std::uint64_t confirmed = 0;   // digits reported
  };
  const Counts& counts() const noexcept { return counts_; }

 private:
  struct Measurement {
    double offset_low = 0.0, offset_high = 0.0;  // Hz from nominal
    double amp_low = 0.0, amp_high = 0.0;        // sine peak, full scale 1.0
  };

  int high_channel() const noexcept { return kFirstColumnChannel + pair_.column; }
  double plateau(bool high) const;                    // plateau |z| of the tracked tone
  double presence(const WindowRecord& window) const;  // |z| / plateau, both tones averaged
  bool tone_channels_dominate(const WindowRecord& window) const;
  double rising_edge(const WindowRecord& window, double presence) const;
  double falling_edge(const WindowRecord& window, double presence) const;
  // What the candidate's last onset walk found: the edge window (hop `edge`,
  // the tone less than half present) and the window after it it was read
  // against (hop `later`), and that every computed window from `later` to
  // the one before hop `newest` had the tone at least half present, with
  // magnitudes at least min_low and min_high.
  struct OnsetWalk {
    bool valid = false;
    std::uint64_t newest = 0, edge = 0, later = 0;  // hop numbers (the window ending hop h is h's)
    float min_low = 0.0f, min_high = 0.0f;
  };
  static double presence_bound(const OnsetWalk& walk, double inv_low, double inv_high);
  double estimate_onset(const HopAnalyser& analysis, double* concealed, double stop_below);
  double clamped_onset(const HopAnalyser& analysis);
  bool window_full(const WindowRecord& window) const;
  void absorb(const WindowRecord& window, const WindowRecord& previous);
  void start_candidate(const WindowVerdict& verdict, const WindowRecord& window, const HopAnalyser& analysis);
  void reset_measurements(const WindowRecord& window);
  Measurement measure() const;
  bool qualifies(const Measurement& m) const;
  bool steady(HopTrace* trace) const;
  bool harmonic_series(const Measurement& m, std::uint64_t end, const HopAnalyser& analysis, HopTrace* trace) const;
  DtmfEvent make_event(bool is_end, std::uint64_t decided) const;
  void finish(std::uint64_t decided, std::vector<DtmfEvent>& events);
  double qualifying_ms() const;
  double bridge_ms() const;

  const WindowTables* tables_;
  DtmfStandard standard_ = DtmfStandard::q24;
  unsigned min_duration_ms_ = 0;
  double twist_normal_db_ = 0.0, twist_reverse_db_ = 0.0;
  double min_amplitude_ = 0.0;

  // The tone being tracked.
  TrackedPair pair_;                                       // phase, digit, verification record
  double onset_ = 0.0;                                     // measured onset (samples)
  double burst_end_ = 0.0;                                 // measured end of the latest burst
  double release_ = 0.0;                                   // where suppression may end
  bool released_digit_ = false;                            // the last activity ended as a digit
  double peak_low_ = 0.0, peak_high_ = 0.0;                // largest |z| so far
  double plateau_sum_low_ = 0.0, plateau_sum_high_ = 0.0;  // |z| of steady windows
  unsigned plateau_count_ = 0;
  std::complex<double> lag_sum_low_{}, lag_sum_high_{};  // summed lag-1 products (frequency)
  unsigned lag_count_ = 0;
  // The first steady lag products and magnitudes, kept apart to test for
  // glides (speech harmonics drift; DTMF does not).
  static constexpr unsigned kKeptSteady = 32;
  std::complex<double> kept_lags_low_[kKeptSteady]{}, kept_lags_high_[kKeptSteady]{};
  float kept_mags_low_[kKeptSteady]{}, kept_mags_high_[kKeptSteady]{};
  double first_verified_end_ = 0.0;  // end of the first verified window
  unsigned total_misses_ = 0;        // failed verifications since the candidate began
  bool bridged_ = false;             // measured afresh after a gap or lost audio: the onset stays
  OnsetWalk walk_;                   // the candidate's last onset walk

  Counts counts_;
};

}  // namespace prosody::tones::dtmf
