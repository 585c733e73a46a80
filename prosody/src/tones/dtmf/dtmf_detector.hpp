// dtmf_detector.hpp - DTMF reception at 8 kHz (ITU-T Q.24 AT&T column by
// default, ETSI ES 201 235-3 as an option).
//
// Design in brief (docs/tone-detection.md has the full argument):
//   * A bank of 8 windowed DFTs, one per nominal DTMF frequency, over a 12 ms
//     Kaiser window hopped every 2 ms. The window rejects anything 231 Hz or
//     more away by over 50 dB, so the low and high tones never disturb each
//     other's amplitude or phase estimate. The 8 frequencies are computed side
//     by side (one SIMD vector), which is the whole per-sample cost.
//   * Frequency is *measured* (phase advance between hops) and the
//     +/-(1.5 % + 2 Hz) accept / +/-3.5 % reject limits are applied to the
//     measured value, not left to a filter's shape. Amplitudes are corrected
//     for the window's response at the measured offset, so twist and level
//     are exact to a fraction of a dB anywhere in the accept band.
//   * A candidate pair is verified with a 128-point spectrum of the same
//     window: after subtracting the two modelled tones, the energy left in
//     550..3400 Hz and the largest remaining peak must be small (talk-off
//     guard; dial tone below 500 Hz is outside the band on purpose).
//   * Timing is measured explicitly: tone edges come from where the tone's
//     channel magnitudes cross half their plateau, inverted through the
//     window's cumulative weight, so durations, gaps and onsets are known to
//     about a millisecond and the duration and interruption rules of the
//     standards are applied to measured times.
//
// The detector is a facade over its two halves, as the call-progress
// detector (../cp) is:
//   hop_analyser    signal analysis: the DFT bank, sample and window
//                   history, screen and spectral verification;
//   digit_tracker   tracking: candidate and digit states, edges, the
//                   qualification rules and the harmonic sieve;
// with window_tables (the window and its derived tables), dtmf_kernels
// (the SIMD inner loops), harmonic_sieve, and dtmf_common (DtmfConfig,
// DtmfEvent and the shared constants).
//
// Pure DSP: fixed-size state, no allocation or locking after construction.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "digit_tracker.hpp"
#include "dtmf_common.hpp"
#include "hop_analyser.hpp"

namespace prosody::tones {

// What the suppressor needs to know, in the detector's 8 kHz timeline.
struct DtmfActivity {
  enum class State { idle, candidate, present };
  State state = State::idle;
  std::uint64_t onset = 0;      // candidate/present: best estimate of the tone's start
  std::uint64_t release = 0;    // idle: where the last tone ended (or was rejected)
  bool released_digit = false;  // idle: the last activity was a digit (else a rejected candidate)
};

class DtmfDetector {
 public:
  static constexpr unsigned kSampleRate = dtmf::kSampleRate;
  static constexpr unsigned kHop = dtmf::kHopSamples;        // 2 ms between analyses
  static constexpr unsigned kWindow = dtmf::kWindowSamples;  // 12 ms analysis window
  // The running bank produces a window every other hop (4 ms, three windows
  // in flight); the hops between are computed from the sample history only
  // while something tone-like is about, which is rare.
  static constexpr unsigned kBankHop = dtmf::kBankHopSamples;
  static constexpr unsigned kBankWindows = dtmf::kBankWindows;

  explicit DtmfDetector(const DtmfConfig& config = {});

  void configure(const DtmfConfig& config);
  const DtmfConfig& config() const noexcept { return config_; }

  // x: n samples at 8 kHz, full scale +/-1.0. Events are appended.
  void process(const float* x, std::size_t n, std::vector<DtmfEvent>& events);
  // n samples were lost: advance time. Analysis windows touching the lost
  // span neither prove nor disprove a tone, so a digit in progress carries on.
  void conceal(std::size_t n, std::vector<DtmfEvent>& events);
  void reset();

  DtmfActivity activity() const noexcept;
  // Peak of a -55 dBm0 sine (Q.24's must-reject level): input peaking below
  // it cannot hold a digit.
  static constexpr float kQuietPeak = dtmf::kQuietPeak;
  // True while quiet input (peak under kQuietPeak) is skipped outright:
  // nothing tone-like about and every window quiet. Quiet input then counts
  // as the zeros it effectively is, so a caller may pass zeros instead.
  bool skipping_quiet_input() const noexcept { return analyser_.quiet_and_sparse() && tracker_.idle() && !trace_; }
  std::uint64_t samples_processed() const noexcept { return analyser_.samples_taken(); }
  // Samples until the next analysis (the suppressor steps hop by hop).
  std::size_t samples_to_next_hop() const noexcept { return analyser_.samples_to_next_hop(); }
  // Samples until the next hop at which activity() can change: every hop
  // while something tone-like is about, else only at the bank's 4 ms hops.
  std::size_t samples_to_next_decision() const noexcept {
    return analyser_.dense() || !tracker_.idle() ? samples_to_next_hop() : analyser_.samples_to_bank_hop();
  }

  // Per-hop verdicts, for tests and tuning.
  struct Stats {
    std::uint64_t hops = 0;
    std::uint64_t direct = 0;      // windows computed from the history (dense mode)
    std::uint64_t screened = 0;    // passed the cheap bank test
    std::uint64_t verified = 0;    // passed the spectral purity test too
    std::uint64_t candidates = 0;  // candidates started
    std::uint64_t confirmed = 0;   // digits reported
  };
  Stats stats() const noexcept;

  // Optional per-hop trace for tuning and diagnosis (null: off).
  using Trace = dtmf::HopTrace;
  using TraceFn = void (*)(const Trace&, void* user);
  void set_trace(TraceFn fn, void* user) noexcept {
    trace_ = fn;
    trace_user_ = user;
  }

 private:
  void feed(const float* x, std::size_t n, std::vector<DtmfEvent>& events);  // nullptr: zeros
  // Runs a window that ended a hop through the analysis and the tracker.
  void judge_window(const dtmf::WindowRecord& window, std::vector<DtmfEvent>& events);

  DtmfConfig config_;
  dtmf::HopAnalyser analyser_;
  dtmf::DigitTracker tracker_;
  TraceFn trace_ = nullptr;
  void* trace_user_ = nullptr;
  Trace last_trace_;
};

}  // namespace prosody::tones
