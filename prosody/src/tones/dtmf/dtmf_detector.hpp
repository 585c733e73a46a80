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
// Pure DSP: fixed-size state, no allocation or locking after construction.
#pragma once

#include <array>
#include <complex>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "prosody/prosody.hpp"

namespace prosody::tones {

struct DtmfConfig {
  DtmfStandard standard = DtmfStandard::q24;
  double twist_normal_db = 8.0;   // low tone louder than the high tone by up to this
  double twist_reverse_db = 4.0;  // high tone louder than the low tone by up to this
  double min_level_dbm0 = -40.0;  // per tone; weaker tones are ignored
  // Qualifying minimum duration: 0 = the standard's own guard time (accept
  // >= 40 ms, reject <= 23 ms, or <= 20 ms under ETSI); 40 or 64 = report only
  // tones at least that long (Prosody MinDuration40 / MinDuration64).
  unsigned min_duration_ms = 0;
};

struct DtmfEvent {
  char digit = 0;  // '0'..'9', '*', '#', 'A'..'D'
  int row = 0;     // low-group index 0..3 (697, 770, 852, 941 Hz)
  int column = 0;  // high-group index 0..3 (1209, 1336, 1477, 1633 Hz)
  bool is_end = false;
  std::uint64_t start_sample = 0;    // measured onset (8 kHz samples since reset)
  std::uint64_t end_sample = 0;      // end events: first sample after the tone
  std::uint64_t decided_sample = 0;  // when the detector knew (report latency)
  double duration_ms = 0.0;          // end events
  double level_dbm0 = -100.0;        // the stronger component
  double low_level_dbm0 = -100.0;
  double high_level_dbm0 = -100.0;
  double low_freq_hz = 0.0;  // measured
  double high_freq_hz = 0.0;
};

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
  static constexpr unsigned kSampleRate = 8000;
  static constexpr unsigned kHop = 16;     // 2 ms between analyses
  static constexpr unsigned kWindow = 96;  // 12 ms analysis window
  // The running bank produces a window every other hop (4 ms, three windows
  // in flight); the hops between are computed from the sample history only
  // while something tone-like is about, which is rare.
  static constexpr unsigned kBankHop = 2 * kHop;
  static constexpr unsigned kBankWindows = kWindow / kBankHop;

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
  static constexpr float kQuietPeak = 0.00124f;
  // True while quiet input (peak under kQuietPeak) is skipped outright:
  // nothing tone-like about and every window quiet. Quiet input then counts
  // as the zeros it effectively is, so a caller may pass zeros instead.
  bool skipping_quiet_input() const noexcept {
    return quiet_samples_ >= kWindow && phase_ == Phase::idle && !dense_ && !trace_;
  }
  std::uint64_t samples_processed() const noexcept { return now_; }
  // Samples until the next analysis (the suppressor steps hop by hop).
  std::size_t samples_to_next_hop() const noexcept { return kHop - pos_ % kHop; }
  // Samples until the next hop at which activity() can change: every hop
  // while something tone-like is about, else only at the bank's 4 ms hops.
  std::size_t samples_to_next_decision() const noexcept {
    return dense_ || phase_ != Phase::idle ? samples_to_next_hop() : kBankHop - pos_;
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
  const Stats& stats() const noexcept { return stats_; }

  // Optional per-hop trace for tuning and diagnosis (null: off).
  struct Trace {
    std::uint64_t hop_end = 0;
    int row = -1, column = -1;  // group maxima
    bool screened = false, valid = false;
    double residual = 0.0, third_peak = 0.0;         // verification ratios (when screened)
    double offset_low = 0.0, offset_high = 0.0;      // single-hop frequency offsets (Hz)
    double level_low = -100.0, level_high = -100.0;  // uncorrected, dBm0
    int phase = 0;                                   // tracking phase after this hop
    // Filled on the hop a candidate is judged (confirmed or rejected).
    bool judged = false;
    double drift_low = 0.0, drift_high = 0.0;          // Hz, first vs second half
    double change_low_db = 0.0, change_high_db = 0.0;  // level, second vs first half
    double sieve_ratio = 0.0, sieve_level = 0.0;       // strongest harmonic-series evidence
  };
  using TraceFn = void (*)(const Trace&, void* user);
  void set_trace(TraceFn fn, void* user) noexcept {
    trace_ = fn;
    trace_user_ = user;
  }

 private:
  using cfloat = std::complex<float>;
  static constexpr unsigned kHistoryHops = 64;  // 128 ms of per-hop results
  static constexpr unsigned kRing = 512;        // sample history (window + sieve frame)

  // 64-byte aligned: a hop is exactly two cache lines (with a thousand
  // detectors in a module, each new hop is a cache miss; make it two, not three).
  struct alignas(64) HopResult {
    std::array<cfloat, 8> z{};  // window DFT at the 8 nominal frequencies
    float mag[8] = {};          // |z|
    std::uint64_t end = 0;      // the window covers [end - kWindow, end)
    bool computed = false;      // false: skipped (sparse mode, nothing tone-like)
    bool unknown = false;       // the window overlaps concealed samples
  };

  enum class Phase { idle, candidate, candidate_gap, confirmed, ending, rejected };

  struct Verdict {
    bool screened = false;
    bool valid = false;
    int row = -1, column = -1;  // column 0..3
  };

  struct Measurement {
    double offset_low = 0.0, offset_high = 0.0;  // Hz from nominal
    double amp_low = 0.0, amp_high = 0.0;        // sine peak, full scale 1.0
  };

  void run_bank(const float* x, std::size_t n);
  void skip_quiet(std::size_t n);  // a quiet run while idle: counted, nothing written
  void catch_up();                 // writes the history a skipped stretch left
  void feed(const float* x, std::size_t n, std::vector<DtmfEvent>& events);  // nullptr: zeros
  void end_of_hop(std::uint64_t end, bool bank_hop, std::vector<DtmfEvent>& events);
  void set_window(HopResult& hop, const float* re_im);
  void copy_history(std::uint64_t start, unsigned n, float* out) const;  // from ring_
  void compute_from_history(HopResult& hop);
  void enter_dense();
  // Fills `v` (an out-parameter: returned by value, the mixed-size struct
  // was assembled on the stack and read back whole, a store-forwarding stall
  // on every hop).
  void judge(const HopResult& hop, const HopResult& previous, Verdict& v);
  bool spectrally_pure(int row, int column, const HopResult& hop, double f_low, double f_high);
  void track(const HopResult& hop, const Verdict& verdict, std::vector<DtmfEvent>& events);

  double reference(bool high) const;            // plateau |z| of the tracked tone
  double presence(const HopResult& hop) const;  // |z| / plateau, both tones averaged
  bool tone_channels_dominate(const HopResult& hop) const;
  double rising_edge(const HopResult& hop, double presence) const;
  double falling_edge(const HopResult& hop, double presence) const;
  double estimate_onset(double* concealed, double stop_below) const;
  double clamped_onset() const;
  bool window_full(const HopResult& hop) const;
  void absorb(const HopResult& hop, const HopResult& previous);
  void start_candidate(const Verdict& verdict, const HopResult& hop);
  void reset_measurements(const HopResult& hop);
  Measurement measure() const;
  bool qualifies(const Measurement& m) const;
  bool steady();
  bool harmonic_series(double f_low, double f_high);
  DtmfEvent make_event(bool is_end, std::uint64_t decided) const;
  void finish(std::vector<DtmfEvent>& events);
  double qualifying_ms() const;
  double bridge_ms() const;
  const HopResult& hop_back(unsigned k) const { return hops_[(hop_count_ - 1 - k) % kHistoryHops]; }

  DtmfConfig config_;
  const struct DtmfTables* tables_ = nullptr;
  double min_amplitude_ = 0.0;
  float screen_power_ = 0.0f;    // bank power of a tone at the screening floor
  float screen_reverse_ = 0.0f;  // high/low power ratio limit for the screen
  float screen_normal_ = 0.0f;   // low/high power ratio limit for the screen
  double screen_tan_[8] = {};    // tan of the largest phase advance offset per hop

  // Bank state: kBankWindows concurrent windows, each 8 complex accumulators
  // (re[8] then im[8]); slot (head_ + age) % kBankWindows is age bank hops old.
  alignas(64) float acc_[kBankWindows][16]{};
  std::uint64_t quiet_samples_ = 0;     // consecutive quiet samples so far
  bool skipping_ = false;               // history not yet written since...
  std::uint64_t skip_from_hop_ = 0;     // ...this hop
  std::uint64_t skip_from_sample_ = 0;  // ...and this sample
  unsigned head_ = 0;
  unsigned pos_ = 0;                 // sample position inside the current bank hop
  bool dense_ = false;               // computing every hop
  std::uint64_t last_screened_ = 0;  // hop index of the latest screen pass
  std::uint64_t now_ = 0;
  std::uint64_t hop_end_ = 0;          // end of the hop being judged (events and edges refer to it)
  std::uint64_t concealed_until_ = 0;  // windows starting before this are unknown
  bool any_concealed_ = false;
  std::uint64_t concealed_from_ = 0;

  alignas(64) float ring_[kRing]{};  // last samples, for the verification spectrum

  HopResult hops_[kHistoryHops];
  std::uint64_t hop_count_ = 0;

  // The tone being tracked.
  Phase phase_ = Phase::idle;
  int row_ = 0, column_ = 0;                               // column 0..3
  double onset_ = 0.0;                                     // measured onset (samples)
  double fall_ = 0.0;                                      // measured end of the latest burst
  double release_ = 0.0;                                   // where suppression may end
  bool released_digit_ = false;                            // the last activity ended as a digit
  double peak_low_ = 0.0, peak_high_ = 0.0;                // largest |z| so far
  double plateau_sum_low_ = 0.0, plateau_sum_high_ = 0.0;  // |z| of steady windows
  unsigned plateau_count_ = 0;
  std::complex<double> lag_low_{}, lag_high_{};  // summed lag-1 products (frequency)
  unsigned lag_count_ = 0;
  // The first steady lag products, kept apart to test for glides (speech
  // harmonics drift; DTMF does not).
  static constexpr unsigned kLagKeep = 32;
  std::complex<double> lags_low_[kLagKeep]{}, lags_high_[kLagKeep]{};
  float mags_low_[kLagKeep]{}, mags_high_[kLagKeep]{};  // steady |z|, in order
  double first_valid_end_ = 0.0;                        // end of the first verified window
  unsigned good_hops_ = 0;
  unsigned misses_ = 0;        // consecutive failed verifications
  unsigned total_misses_ = 0;  // failed verifications since the candidate began
  bool bridged_ = false;

  Stats stats_;
  TraceFn trace_ = nullptr;
  void* trace_user_ = nullptr;
  Trace last_trace_;
};

}  // namespace prosody::tones
