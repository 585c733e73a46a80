// onhook.hpp - a far-end analogue phone going on-hook (sm_onhook_listen_for),
// heard at 8 kHz as a click: the hook switch opens the loop while the line
// is quiet, a short strong transient follows, and the line then settles
// near its new floor.
//
// Our reading of SM_ONHOOK_LISTEN_FOR_PARMS (OnHookSettings), on the power
// of 1 ms blocks:
//   1. quiet: kQuietMs of blocks at or below pre_pulse_max; the pulse must
//      rise within kRiseMs of the last quiet block;
//   2. pulse: a block at or above pulse_min, and the power back below
//      post_pulse_floor within max_duration ms; a click decays from its
//      first instant, so the first quarter of the pulse (2 ms at least)
//      holds kHeadShare of its energy (a plosive's burst, as loud and as
//      short after a closure's silence, is flatter: half or less);
//   3. settling: for max_duration ms after the pulse no block goes above
//      post_pulse_floor - latitude (latitude is negative: 6 dB over the
//      floor by default), the pulse holds count_ratio times as many blocks
//      over the floor as the settling window, and total_ratio times its
//      energy.
// The click is reported at the end of the settling window.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "block_power.hpp"
#include "prosody/tones.hpp"

namespace prosody::tones {

// A ToneEvent of type RecognitionType::onhook per click: start_sample = the
// pulse's first block, end_sample = its end (first block under the floor),
// duration_ms = its length, level_dbm0 = its loudest 1 ms block's power (the
// first, for a click), code = the length in ms, code2 = that power rounded.
class OnHookDetector {
 public:
  static constexpr std::size_t kBlock = 8;  // 1 ms
  static constexpr std::size_t kQuietMs = 250;
  static constexpr std::size_t kRiseMs = 2;
  static constexpr double kHeadShare = 0.75;

  void configure(const OnHookSettings& settings) {
    settings_ = settings;
    pulse_powers_.reserve(std::size_t(std::max(1, settings.max_duration_ms)) + 1);  // none on the audio path
  }
  void reset();
  void process(const float* x, std::size_t n, std::uint64_t first_sample, std::vector<ToneEvent>& events);

 private:
  enum class State { waiting, pulse, settling };
  void block(double mean_square, std::uint64_t first, std::vector<ToneEvent>& events);
  void start_over(bool quiet_now);
  bool decays_at_once() const;

  OnHookSettings settings_;
  BlockPower<kBlock> power_;
  State state_ = State::waiting;
  std::size_t quiet_blocks_ = 0;  // consecutive blocks at or below pre_pulse_max
  std::size_t since_quiet_ = 0;   // blocks since the last quiet run of kQuietMs
  std::uint64_t onset_ = 0, end_ = 0;
  std::size_t pulse_blocks_ = 0, pulse_loud_ = 0;  // all, and over the floor
  double pulse_energy_ = 0.0, peak_ms_ = 0.0;
  std::vector<double> pulse_powers_;  // each pulse block's mean square
  std::size_t settle_blocks_ = 0, settle_loud_ = 0;
  double settle_energy_ = 0.0;
};

}  // namespace prosody::tones
