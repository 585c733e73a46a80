// block_analyser.hpp - classifies one 16 ms block of 8 kHz audio: which tone
// of the call-progress set (if any) it holds, at what frequencies and level.
//
// Method: a 128-point real FFT per block (62.5 Hz bins). Spectral peaks in
// 250..2250 Hz are components; each component's frequency comes from the
// phase advance of its bin between consecutive blocks (exact for a steady
// tone, unambiguous within +/-31.25 Hz of the bin), and its power from the
// peak bin corrected by the window response at that offset. A block holds a
// tone when at most two components carry most of the energy in 250..3400 Hz
// (Prosody's "third peak" and signal-to-noise rules) and they fall in the
// bands of tone set 1. Quiet blocks skip the FFT entirely.
#pragma once

#include <cstdint>

#include "cp_common.hpp"
#include "real_fft.hpp"

namespace prosody::tones::cp {

struct BlockResult {
  int kind = kNoTone;        // ToneKind
  bool analysed = false;     // false: below the activity gate, no FFT run
  bool stable = false;       // every component's frequency confirmed by phase continuity
  int components = 0;        // significant components (0..2)
  double freq_hz[2] = {0.0, 0.0};     // ascending
  double power[2] = {0.0, 0.0};       // mean square of each component
  double strongest_power = 0.0;       // mean square of the strongest component
  double mean_square = 0.0;           // whole block
  double purity = 0.0;                // share of 250..3400 Hz energy in the components
  float sub_energy[kSubBlocks] = {};  // sum of squares per 4 ms
  // Dial-tone evidence, computed for kLow blocks only: power near 350 Hz and
  // near 440/450 Hz over the last 32 ms (Hann), and the band's total.
  double power_350 = 0.0;
  double power_445 = 0.0;
  double low_band_power = 0.0;
};

struct AnalyserTuning {
  double activity_gate_dbm0 = -48.0;   // below: silence without analysis
  double min_level_dbm0 = -43.5;       // strongest component, to start a tone
  double hold_level_dbm0 = -45.5;      // to continue one (hysteresis)
  double min_purity = 0.6;             // component energy / band energy
  double third_peak_ratio = 0.1;       // a third component this strong: not a tone
  double max_step_hz = 6.0;            // frequency change between blocks of a steady tone
};

class BlockAnalyser {
 public:
  BlockAnalyser();
  void reset() noexcept;
  void set_tuning(const AnalyserTuning& tuning) noexcept;

  // x: kBlock samples. held_kind: the tone the tracker currently follows (its
  // level threshold is relaxed). concealed: the block is filler for lost audio.
  void analyse(const float* x, int held_kind, bool concealed, BlockResult& out) noexcept;

 private:
  struct Peak {
    int bin;
    double cluster;   // Parseval power of the bins around the peak
    double power;     // corrected component power
    double freq_hz;
    bool phase_ok;
  };
  void dial_evidence(const float* x, BlockResult& out) const noexcept;

  const RealFft128& fft_;
  AnalyserTuning tuning_;
  double gate_ms_ = 0.0, min_ms_ = 0.0, hold_ms_ = 0.0;
  static constexpr int kKeptBins = 40;  // phase history for bins 0..39 (to 2.4 kHz)
  float prev_re_[kKeptBins] = {}, prev_im_[kKeptBins] = {};
  bool prev_valid_ = false;
  int prev_components_ = 0;
  bool prev_phase_ok_ = false;
  double prev_freq_[2] = {0.0, 0.0};
  float prev_samples_[kBlock] = {};  // for 32 ms dial-tone evidence
};

}  // namespace prosody::tones::cp
