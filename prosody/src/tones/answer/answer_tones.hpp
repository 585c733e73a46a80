// answer_tones.hpp - what answered a call, from the answering side's tones
// (sm_ans_listen_for, sm_beep_listen_for), at 8 kHz:
//
// - modem answer tones (ITU-T V.25 and V.8): 2100 Hz +-15 Hz, plain (ANS,
//   also a fax's CED), with 180-degree phase reversals every 450 +-25 ms
//   (/ANS), with 15 Hz amplitude modulation at 20 % (ANSam), or both (/ANSam);
// - an answering machine's beep: one steady, pure tone, 350-2,600 Hz, then
//   quiet (the machine is recording), reported with its frequency when it
//   ends (the application then starts recording).
//
// The kernels are pure functions; the detectors hold only their run state.
#pragma once

#include <complex>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "prosody/tones.hpp"

namespace prosody::tones {

// --- kernels ----------------------------------------------------------------

// sum x[i] e^{-j 2 pi freq (first + i) / 8000}: the component of x at freq,
// phase-referenced to the stream's sample 0 (so successive blocks compare).
std::complex<double> demodulate(const float* x, std::size_t n, double freq_hz, std::uint64_t first);

// Modulation of an envelope sampled at rate_hz, at mod_hz: the depth m of
// e(t) = E (1 + m cos(2 pi mod_hz t + phi)), from the DFT of e - mean.
double modulation_depth(const float* envelope, std::size_t n, double rate_hz, double mod_hz);

// The strongest tone of a 256-sample block (Hann window): its frequency
// (parabolic interpolation of the log spectrum), its level in dBm0, and
// its purity, the share of the block's energy within +-2 bins of it.
struct SpectralPeak {
  double freq_hz = 0.0;
  double level_dbm0 = -200.0;
  double purity = 0.0;
};
SpectralPeak strongest_tone(const float* x256);

// --- modem answer tones -------------------------------------------------------

enum class AnswerTone {
  ans = 1,              // V.25 ANS (or a fax CED): plain 2100 Hz
  ans_reversals = 2,    // V.25 /ANS: phase reversals every 450 ms
  ansam = 3,            // V.8 ANSam: 15 Hz AM
  ansam_reversals = 4,  // V.8 /ANSam: both
};
const char* answer_tone_name(AnswerTone t) noexcept;

// Reports each answer tone once, kDecisionMs after its onset (long enough
// to hold the first phase reversal, at 450 +-25 ms): a ToneEvent of type
// RecognitionType::ans, code = AnswerTone, code2 = ms from the onset to the
// report, start_sample = onset, level.
class AnswerToneDetector {
 public:
  static constexpr double kFrequencyHz = 2100.0;
  static constexpr std::size_t kBlock = 40;       // 5 ms: the analysis step
  static constexpr double kDecisionMs = 520.0;    // onset to report
  static constexpr double kMinLevelDbm0 = -43.0;  // as spandsp's CED/ANS
  static constexpr double kMaxOffsetHz = 25.0;    // V.25 asks +-15 Hz; 2060 and 2140 Hz are out
  static constexpr std::size_t kAmBlocks = 80;    // the AM is measured over 400 ms: six 15 Hz cycles

  // x: n samples at 8 kHz; first_sample: the stream index of x[0].
  void process(const float* x, std::size_t n, std::uint64_t first_sample, std::vector<ToneEvent>& events);
  void reset();
  // Was sample (a stream index) within the last answer tone reported, or
  // within `slack` samples before its onset? (A beep detector hears an answer
  // tone too: a steady tone, then quiet.)
  bool within_reported_tone(std::uint64_t sample, std::uint64_t slack) const noexcept {
    return any_reported_ && sample + slack >= reported_onset_ && sample <= reported_until_;
  }

 private:
  void block(std::uint64_t first, std::vector<ToneEvent>& events);
  void end_run();
  AnswerTone classify() const;
  void add_envelope(double amplitude);  // this block's (blocks_ is its index)

  float pending_[kBlock] = {};
  std::size_t filled_ = 0;
  // The current run of 2100 Hz blocks.
  bool in_run_ = false, reported_ = false, rejected_ = false;
  std::uint64_t run_start_ = 0;  // its first sample
  std::size_t blocks_ = 0, weak_in_row_ = 0;
  std::complex<double> ref_{};           // the last full-strength block
  std::size_t ref_age_ = 0;              // blocks since it
  std::complex<double> rotation_sum_{};  // z_k conj(z_{k-1}), reversals flipped
  double energy_sum_ = 0.0;
  // |z| of the last kAmBlocks blocks (a ring by block index), for the AM.
  float envelope_[kAmBlocks] = {};
  double amplitude_squares_ = 0.0;                      // sum of |z|^2 over the run, for its level
  std::size_t reversal_count_ = 0, last_reversal_ = 0;  // the latest's block index
  bool reversals_too_close_ = false;
  // The last answer tone reported: [onset, end of its latest block).
  bool any_reported_ = false;
  std::uint64_t reported_onset_ = 0, reported_until_ = 0;
};

// --- answering-machine beeps --------------------------------------------------

struct BeepConfig {
  double min_hz = 350.0, max_hz = 2600.0;
  // Beeps last 100 ms and more; the margin covers the edges' few samples
  // of uncertainty.
  double min_duration_ms = 90.0;
  double min_level_dbm0 = -40.0;
};

// Reports each beep once, kQuietMs after its end (the quiet after it is part
// of a beep: a note of music goes on into the next): a ToneEvent of type
// RecognitionType::beep, is_end, code = frequency in Hz, start_sample and
// end_sample (the tone's edges, to a few samples), duration_ms (and code2),
// level.
class BeepDetector {
 public:
  static constexpr std::size_t kWindow = 256;  // 32 ms
  static constexpr std::size_t kHop = 64;      // 8 ms
  // After the end: a gap for the line's echo and reverberation to fade, then
  // kQuietMs at least kQuietDb below the beep.
  static constexpr double kQuietGapMs = 8.0;
  static constexpr double kQuietMs = 64.0;
  static constexpr double kQuietDb = 20.0;

  explicit BeepDetector(const BeepConfig& config = {});
  void configure(const BeepConfig& config) { config_ = config; }
  void process(const float* x, std::size_t n, std::uint64_t first_sample, std::vector<ToneEvent>& events);
  // The stream ends: a beep in progress ends here.
  void finish(std::vector<ToneEvent>& events);
  void reset();

 private:
  void hop(std::uint64_t window_first, std::vector<ToneEvent>& events);
  void end_run(std::uint64_t search_from, std::uint64_t search_to);
  // Reports the beep that ended if the line went quiet after it.
  // stream_ended: no more samples come, so the line is quiet from next_.
  void check_quiet(bool stream_ended, std::vector<ToneEvent>& events);
  const float* history_at(std::uint64_t first, std::size_t n);

  BeepConfig config_;
  std::vector<float> history_;  // the newest samples, a ring of kHistory
  std::vector<float> scratch_;
  std::uint64_t next_ = 0;  // stream index of the next sample
  bool started_ = false;
  // The current run of steady tone windows.
  bool in_run_ = false;
  std::uint64_t onset_ = 0;
  double freq_sum_ = 0.0, level_sum_ = 0.0, amp_sum_ = 0.0;
  std::size_t windows_ = 0;
  // A beep that ended, waiting for the quiet after it.
  bool ended_ = false;
  ToneEvent beep_;
};

}  // namespace prosody::tones
