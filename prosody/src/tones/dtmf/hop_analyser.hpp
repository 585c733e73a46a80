// hop_analyser.hpp - the DTMF detector's signal analysis: every 2 ms, the
// newest 12 ms window's DFT at the eight DTMF frequencies, and a verdict on
// whether it holds a DTMF pair.
//
// Method (docs/tone-detection.md, sections 1.2 to 1.4): a running bank of
// three overlapping windows produces a window every 4 ms; the windows in
// between are computed from the sample history only while something
// tone-like is about (dense mode). Quiet input counts as zeros, and long
// quiet stretches are only counted. Each computed window is screened
// cheaply (levels, in-group purity, twist, phase advance); a window that
// passes and names a pair the tracker does not already vouch for is
// verified against its 128-point spectrum, with the two modelled tones
// (and any low call-progress tones) removed.
//
// The analyser also keeps what the digit tracker reads back: the last
// 128 ms of windows, the last 64 ms of samples, and the span of lost audio.
#pragma once

#include <algorithm>
#include <complex>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "dtmf_common.hpp"
#include "dtmf_kernels.hpp"
#include "window_tables.hpp"

namespace prosody::tones::dtmf {

// One hop's window: the DFT at the eight nominal frequencies.
// 64-byte aligned: a record is exactly two cache lines (with a thousand
// detectors in a module, each new hop is a cache miss; make it two, not three).
struct alignas(64) WindowRecord {
  float re[kChannels] = {}, im[kChannels] = {};  // z, as the bank leaves it
  float mag[kChannels] = {};                     // |z|
  std::uint64_t end = 0;                         // the window covers [end - kWindowSamples, end)
  bool computed = false;                         // false: skipped (sparse mode, nothing tone-like)
  bool unknown = false;                          // the window overlaps concealed samples

  std::complex<float> z(int k) const { return {re[k], im[k]}; }
};

// The screen's and the verification's verdict on one window.
struct WindowVerdict {
  bool screened = false;      // tone-like enough to look closely (and to go dense)
  bool valid = false;         // a verified DTMF pair (or one the tracker vouches for)
  int row = -1, column = -1;  // the pair named (column 0..3)
};

// Where the digit tracker stands (the numbering is the trace's `phase`).
enum class TrackingPhase { idle, candidate, candidate_gap, confirmed, ending, rejected };

// The pair the digit tracker follows and how far it has got: the tracker's
// own state, which the analysis reads to decide which windows to compute and
// which pairs need verifying.
struct TrackedPair {
  static constexpr unsigned kVerifyEveryHop = 3;  // candidates verified on every hop until this many

  TrackingPhase phase = TrackingPhase::idle;
  int row = 0, column = 0;          // column 0..3
  unsigned verified_hops = 0;       // the candidate's verified windows
  unsigned consecutive_misses = 0;  // failed verifications in a row

  bool idle() const noexcept { return phase == TrackingPhase::idle; }
  // Confirmed, ending or rejected: judged, and followed at the bank's 4 ms.
  bool settled() const noexcept {
    return phase == TrackingPhase::confirmed || phase == TrackingPhase::ending || phase == TrackingPhase::rejected;
  }
  // Settled or bridging a gap: the pair is valid on the screen alone.
  bool trusted() const noexcept { return phase != TrackingPhase::idle && phase != TrackingPhase::candidate; }
  // An established candidate: verified on every other hop only.
  bool sampled() const noexcept {
    return phase == TrackingPhase::candidate && verified_hops >= kVerifyEveryHop && consecutive_misses == 0;
  }
};

// Concealed (lost) audio: windows starting before `until` are unknown.
struct LostAudio {
  bool any = false;
  std::uint64_t from = 0, until = 0;  // the latest lost span
};

class HopAnalyser {
 public:
  static constexpr unsigned kHistorySamples = 512;  // sample history (window + sieve frame)
  static constexpr unsigned kWindowRecords = 64;    // 128 ms of per-hop windows

  HopAnalyser() : tables_(&window_tables()) {}

  void configure(const DtmfConfig& config);
  void reset();

  // Samples until the bank's next hop (a call to take() may not cross it).
  std::size_t samples_to_bank_hop() const noexcept { return kBankHopSamples - bank_position_; }
  std::size_t samples_to_next_hop() const noexcept { return kHopSamples - bank_position_ % kHopSamples; }
  std::uint64_t samples_taken() const noexcept { return sample_count_; }
  bool dense() const noexcept { return dense_; }
  // Every window in flight holds only quiet input, and the hops between the
  // bank's are not being computed.
  bool quiet_and_sparse() const noexcept { return quiet_run_ >= kWindowSamples && !dense_; }

  // Where the samples just taken ended hops (0: none ended; no hop ends at 0).
  struct HopEnds {
    std::uint64_t hop_end = 0;       // the hop between two bank hops
    std::uint64_t bank_hop_end = 0;  // the bank's hop
  };
  // Takes x[0..n) (nullptr: n zeros for lost audio), n <= samples_to_bank_hop().
  // may_skip: quiet input may be skipped outright (nothing to track, no
  // trace); its hops then end unreported. tracking_idle: nothing is followed,
  // so quiet input need not even run the bank.
  HopEnds take(const float* x, std::size_t n, bool may_skip, bool tracking_idle);
  // The next n samples are lost audio (fed next as zeros).
  void begin_loss(std::size_t n);

  // Ends the hop at `end` (bank_hop: the running bank's); returns its window
  // if there is one to judge (null: not complete yet, or skipped).
  const WindowRecord* close_hop(std::uint64_t end, bool bank_hop);
  // Screens and, where needed, verifies the window close_hop() returned.
  // trace (null: off) receives the analysis figures.
  void examine(const WindowRecord& window, const TrackedPair& tracked, WindowVerdict& verdict, HopTrace* trace);
  // After the tracker has seen the window: leave full resolution when
  // nothing may be starting.
  void update_resolution(const TrackedPair& tracked);

  // Read back by the tracker.
  std::uint64_t hop_count() const noexcept { return hop_count_; }
  // The window of k hops ago (0: the newest).
  const WindowRecord& window_back(unsigned k) const { return windows_[(hop_count_ - 1 - k) % kWindowRecords]; }
  const LostAudio& lost() const noexcept { return lost_; }
  // Samples [start, start + n) from the history (the last kHistorySamples).
  void copy_history(std::uint64_t start, unsigned n, float* out) const;
  // The same samples in place where they do not wrap, else gathered into
  // scratch (n floats).
  const float* history_span(std::uint64_t start, unsigned n, float* scratch) const;

  struct Counts {
    std::uint64_t hops = 0;
    std::uint64_t direct = 0;    // windows computed from the history (dense mode)
    std::uint64_t screened = 0;  // passed the cheap bank test
    std::uint64_t verified = 0;  // passed the spectral purity test too
  };
  const Counts& counts() const noexcept { return counts_; }

 private:
  static constexpr unsigned kDenseHoldHops = 2;  // hops of full resolution after the last screen pass

  void run_bank(const float* x, std::size_t n);
  void skip_quiet(std::size_t n);  // a quiet run while idle: counted, nothing written
  // Writes the history a skipped stretch left, if any.
  void catch_up() {
    if (skipping_) write_skipped_history();
  }
  void write_skipped_history();
  void publish(WindowRecord& window, const float* re_im);
  void compute_from_history(WindowRecord& window);
  void enter_dense();
  // Fills `v` (an out-parameter: returned by value, the mixed-size struct
  // was assembled on the stack and read back whole, a store-forwarding stall
  // on every hop).
  void judge(const WindowRecord& window, const WindowRecord& previous, const TrackedPair& tracked, WindowVerdict& v,
             HopTrace* trace);
  bool spectrally_pure(int row, int column, const WindowRecord& window, double f_low, double f_high, HopTrace* trace);

  const WindowTables* tables_;
  float screen_power_ = 0.0f;          // bank power of a tone at the screening floor
  float screen_reverse_ = 0.0f;        // high/low power ratio limit for the screen
  float screen_normal_ = 0.0f;         // low/high power ratio limit for the screen
  double screen_tan_[kChannels] = {};  // tan of the largest phase advance offset per hop

  // Bank state: kBankWindows concurrent windows, each 8 complex accumulators
  // (re[8] then im[8]), by age: row 0 is the newest window.
  alignas(64) float bank_sums_[kBankWindows][16]{};
  std::uint64_t quiet_run_ = 0;            // consecutive quiet samples so far
  bool skipping_ = false;                  // history not yet written since...
  std::uint64_t skipped_from_hop_ = 0;     // ...this hop
  std::uint64_t skipped_from_sample_ = 0;  // ...and this sample
  unsigned bank_position_ = 0;             // sample position inside the current bank hop
  bool dense_ = false;                     // computing every hop
  std::uint64_t last_screened_hop_ = 0;    // hop count at the latest screen pass
  std::uint64_t sample_count_ = 0;
  LostAudio lost_;

  alignas(64) float history_[kHistorySamples]{};  // last samples, for the verification spectrum and sieve

  WindowRecord windows_[kWindowRecords];
  std::uint64_t hop_count_ = 0;
  Counts counts_;
};

// The per-hop path, inline: the detector runs it every hop, and as calls
// from another file it cost a few per cent of the whole detector on speech.

inline HopAnalyser::HopEnds HopAnalyser::take(const float* x, std::size_t n, bool may_skip, bool tracking_idle) {
  static const float zeros[kBankHopSamples] = {};
  HopEnds ends;
  const float* samples = x ? x : zeros;
  // n never crosses a bank hop, and the history holds a whole number of
  // bank hops, so its copy into the history never wraps.
  static_assert(kHistorySamples % kBankHopSamples == 0, "the history holds whole bank hops");
  float* to = history_ + sample_count_ % kHistorySamples;
  // Input below Q.24's must-reject level (-55 dBm0 per tone) cannot hold
  // a digit: while nothing tone-like is about, the bank treats it as the
  // zeros it effectively is, which costs nothing (most channels, most of
  // the time, are quiet). Once every window is quiet, not even the
  // history is written (skip_quiet).
  bool quiet;
  if (x && may_skip && quiet_and_sparse()) {
    if (peak_of(x, n) < kQuietPeak) {
      skip_quiet(n);
      return ends;
    }
    catch_up();
    std::copy(x, x + n, to);
    quiet = false;
  } else {
    catch_up();
    quiet = copy_and_peak(samples, n, to) < kQuietPeak || x == nullptr;
  }
  quiet_run_ = quiet ? quiet_run_ + n : 0;
  if (!(quiet && x != nullptr && !dense_ && tracking_idle)) run_bank(samples, n);
  const unsigned before = bank_position_;
  bank_position_ += static_cast<unsigned>(n);
  sample_count_ += n;
  if (before < kHopSamples && bank_position_ >= kHopSamples)
    ends.hop_end = sample_count_ - (bank_position_ - kHopSamples);
  if (bank_position_ == kBankHopSamples) ends.bank_hop_end = sample_count_;
  return ends;
}

inline void HopAnalyser::run_bank(const float* x, std::size_t n) {
  bank_accumulate(x, n, bank_position_, bank_sums_, tables_->bank_coefficients);
}

inline const WindowRecord* HopAnalyser::close_hop(std::uint64_t end, bool bank_hop) {
  WindowRecord& window = windows_[hop_count_ % kWindowRecords];
  window.end = end;
  window.unknown = lost_.any && end - kWindowSamples < lost_.until;
  window.computed = false;
  if (bank_hop) {
    // The oldest bank window is complete: publish it, age the others and
    // start the newest (moving 128 bytes costs less than indexing the rows
    // by a rotating slot on every run).
    publish(window, bank_sums_[kBankWindows - 1]);
    for (unsigned age = kBankWindows - 1; age > 0; --age)
      std::memcpy(bank_sums_[age], bank_sums_[age - 1], sizeof bank_sums_[age]);
    std::fill(std::begin(bank_sums_[0]), std::end(bank_sums_[0]), 0.0f);
    bank_position_ = 0;
  } else if (dense_ && end >= kWindowSamples) {
    compute_from_history(window);
  }
  ++hop_count_;
  ++counts_.hops;
  return end >= kWindowSamples && window.computed ? &window : nullptr;
}

inline void HopAnalyser::examine(const WindowRecord& window, const TrackedPair& tracked, WindowVerdict& verdict,
                                 HopTrace* trace) {
  // A window of nothing but quiet input, with nothing tone-like about, has
  // nothing to judge.
  const bool all_quiet = quiet_and_sparse() && tracked.idle();
  if (window.unknown || all_quiet) return;
  judge(window, window_back(1), tracked, verdict, trace);
  const bool already_followed = tracked.settled() && verdict.row == tracked.row && verdict.column == tracked.column;
  if (verdict.screened && !already_followed) last_screened_hop_ = hop_count_;
  if (verdict.screened && !dense_ && !already_followed) {
    enter_dense();  // the previous hop now exists: judge again with its phase
    judge(window, window_back(1), tracked, verdict, trace);
  }
}

inline void HopAnalyser::update_resolution(const TrackedPair& tracked) {
  // Full resolution while a tone may be starting; a tone already judged is
  // followed at the bank's 4 ms (its edges are interpolated either way).
  if (dense_ && (tracked.settled() || (tracked.idle() && hop_count_ - last_screened_hop_ > kDenseHoldHops)))
    dense_ = false;
}

inline void HopAnalyser::publish(WindowRecord& window, const float* re_im) {
  std::memcpy(window.re, re_im, sizeof window.re);
  std::memcpy(window.im, re_im + kChannels, sizeof window.im);
  for (int k = 0; k < kChannels; ++k)
    window.mag[k] = std::sqrt(window.re[k] * window.re[k] + window.im[k] * window.im[k]);
  window.computed = true;
}

}  // namespace prosody::tones::dtmf
