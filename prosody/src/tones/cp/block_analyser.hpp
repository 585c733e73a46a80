// block_analyser.hpp - classifies the newest 16 ms of 8 kHz audio: which tone
// of the call-progress set (if any) it holds, at what frequencies and level.
//
// Method: every 16 ms a 256-point real FFT of the last 32 ms (31.25 Hz
// bins). Each strong bin's frequency comes from its phase advance since the
// previous window (exact for a steady tone, unambiguous within +/-31.25 Hz
// of the bin). Neighbouring bins that report the same frequency belong to
// one component, so two tones a bin apart (440+480 Hz ringback) still come
// out as two steady components. A block holds a tone when at most two
// components carry most of the energy in 250..3400 Hz (Prosody's "third
// peak" and signal-to-noise rules), they lie in the bands of tone set 1, and
// their frequencies held still since the previous block. Quiet blocks skip
// the FFT entirely.
#pragma once

#include <cstdint>

#include "cp_common.hpp"
#include "tone_set.hpp"
#include "tones/real_fft.hpp"

namespace prosody::tones::cp {

struct BlockResult {
  int kind = kNoTone;                 // ToneKind of the components found (even if not yet steady)
  bool analysed = false;              // false: below the activity gate (or lost audio), no FFT run
  bool stable = false;                // every component's frequency held still since the last block
  bool measured = false;              // every component's frequency came from phase continuity (else coarse)
  int components = 0;                 // significant components (0..2)
  double freq_hz[2] = {0.0, 0.0};     // ascending
  double power[2] = {0.0, 0.0};       // mean square of each component
  double strongest_power = 0.0;       // mean square of the strongest component
  double mean_square = 0.0;           // newest block
  double purity = 0.0;                // share of 250..3400 Hz energy in the components
  float sub_energy[kSubBlocks] = {};  // newest block: sum of squares per 4 ms
};

struct AnalyserTuning {
  double activity_gate_dbm0 = -48.0;  // below: silence without analysis
  double min_level_dbm0 = -43.5;      // strongest component, to start a tone
  double hold_level_dbm0 = -45.5;     // to continue one (hysteresis)
  double min_purity = 0.6;            // component energy / band energy
  double third_peak_ratio = 0.1;      // a third component this strong: not a tone
  // Between blocks a steady tone may move this much (plus what the other
  // component's leakage into its bins explains).
  double steady_hz = 1.5;
  double steady_db = 1.0;
  // V.8 ANSam is 2100 Hz with 20 % amplitude modulation at 15 Hz: its level
  // swings by up to 2 dB from block to block. Speech never forms a lone
  // steady 2100 Hz component, so the fax answer band can allow it.
  double steady_ced_db = 2.5;
};

class BlockAnalyser {
 public:
  BlockAnalyser();
  void reset() noexcept;
  void set_tuning(const AnalyserTuning& tuning) noexcept;
  // Classify against a user tone set instead of tone set 1 (null: set 1):
  // kind is then 1 + the tone's index in the set. The spec must outlive the
  // analyser's use of it; the tuning follows its thresholds.
  void set_tone_set(const ToneSetSpec* spec) noexcept;

  // x: the newest kBlock samples. held_kind: the tone the tracker currently
  // follows (its level threshold is relaxed). concealed: x is filler for
  // lost audio.
  void analyse(const float* x, int held_kind, bool concealed, BlockResult& out) noexcept;

 private:
  struct Component {
    double power;       // Parseval power of its bins
    double peak_power;  // its strongest bin
    int peak_bin;
    double freq_hz;
    bool phase_ok;  // frequency from phase continuity (else coarse)
  };
  static constexpr int kMaxComponents = 8;
  int phase_components(const float* power, const float* re, const float* im, double band_total,
                       Component* out) const noexcept;
  int peak_components(const float* power, double band_total, Component* out) const noexcept;
  int user_kind(int count, const double* freq, const double* power) const noexcept;
  void forget() noexcept;

  const RealFft& fft_;  // kWindow points, shared by every analyser
  AnalyserTuning tuning_;
  const ToneSetSpec* tone_set_ = nullptr;
  int last_peak_bin_ = 72;  // components are searched up to here (2250 Hz: above CED)
  double gate_ms_ = 0.0, min_ms_ = 0.0, hold_ms_ = 0.0, steady_ratio_ = 1.0, steady_ced_ratio_ = 1.0;
  // Phase history for bins 0..109 (to 3.4 kHz: a user set's whole range).
  static constexpr int kKeptBins = 110;
  float prev_re_[kKeptBins] = {}, prev_im_[kKeptBins] = {};
  float prev_power_[kKeptBins] = {};
  bool prev_valid_ = false;
  int prev_count_ = 0;  // steady-check history: last block's components
  double prev_freq_[2] = {0.0, 0.0};
  double prev_comp_power_[2] = {0.0, 0.0};
  bool prev_phase_ok_[2] = {false, false};
  float prev_samples_[kBlock] = {};
  double prev_ms_ = 0.0;
};

}  // namespace prosody::tones::cp
