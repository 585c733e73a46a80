// onhook.cpp - the on-hook click detector (see onhook.hpp for the rules).
#include "onhook.hpp"

#include <algorithm>
#include <cmath>

#include "../cp/cp_common.hpp"

namespace prosody::tones {

using cp::dbm0_to_ms;
using cp::ms_to_dbm0;

void OnHookDetector::reset() {
  power_.reset();
  start_over(false);
  quiet_blocks_ = 0;
}

void OnHookDetector::start_over(bool quiet_now) {
  state_ = State::waiting;
  quiet_blocks_ = quiet_now ? 1 : 0;
  since_quiet_ = kRiseMs + 1;  // not armed until a fresh quiet run
  pulse_blocks_ = pulse_loud_ = settle_blocks_ = settle_loud_ = 0;
  pulse_energy_ = peak_ms_ = settle_energy_ = 0.0;
  pulse_powers_.clear();
}

bool OnHookDetector::decays_at_once() const {
  const std::size_t head = std::max<std::size_t>(2, (pulse_powers_.size() + 3) / 4);
  double head_energy = 0.0;
  for (std::size_t i = 0; i < std::min(head, pulse_powers_.size()); ++i) head_energy += pulse_powers_[i];
  return head_energy >= kHeadShare * pulse_energy_;
}

void OnHookDetector::process(const float* x, std::size_t n, std::uint64_t first_sample,
                             std::vector<ToneEvent>& events) {
  power_.feed(x, n, first_sample, [&](double mean_square, std::uint64_t first) { block(mean_square, first, events); });
}

void OnHookDetector::block(double mean_square, std::uint64_t first, std::vector<ToneEvent>& events) {
  const OnHookSettings& s = settings_;
  const bool quiet = mean_square <= dbm0_to_ms(s.pre_pulse_max_dbm0);
  const bool over_floor = mean_square >= dbm0_to_ms(s.post_pulse_floor_dbm0);
  const std::size_t max_blocks = std::size_t(std::max(1, s.max_duration_ms));
  switch (state_) {
    case State::waiting:
      if (quiet) {
        if (++quiet_blocks_ >= kQuietMs) since_quiet_ = 0;
        return;
      }
      quiet_blocks_ = 0;
      ++since_quiet_;
      if (since_quiet_ > kRiseMs || mean_square < dbm0_to_ms(s.pulse_min_dbm0)) return;
      state_ = State::pulse;
      onset_ = first;
      pulse_blocks_ = 0;
      [[fallthrough]];
    case State::pulse:
      if (!over_floor && pulse_blocks_ > 0) {
        state_ = State::settling;
        end_ = first;
        break;  // this block is the settling window's first
      }
      ++pulse_blocks_;
      if (over_floor) ++pulse_loud_;
      pulse_energy_ += mean_square;
      pulse_powers_.push_back(mean_square);
      peak_ms_ = std::max(peak_ms_, mean_square);
      if (pulse_blocks_ > max_blocks) start_over(false);  // too long for a click: speech, music, a tone
      return;
    case State::settling:
      break;
  }
  // Settling.
  if (mean_square > dbm0_to_ms(s.post_pulse_floor_dbm0 - s.latitude_db)) {
    start_over(false);  // the line did not settle: something else goes on
    return;
  }
  ++settle_blocks_;
  if (over_floor) ++settle_loud_;
  settle_energy_ += mean_square;
  if (settle_blocks_ < max_blocks) return;
  const bool counts = double(pulse_loud_) >= s.count_ratio * double(settle_loud_);
  const bool energy = pulse_energy_ >= s.total_ratio * settle_energy_;
  if (counts && energy && decays_at_once()) {
    ToneEvent e;
    e.type = RecognitionType::onhook;
    e.start_sample = onset_;
    e.end_sample = end_;
    e.duration_ms = static_cast<std::uint32_t>((end_ - onset_) / 8);
    e.level_dbm0 = ms_to_dbm0(peak_ms_);
    e.code = static_cast<int>(e.duration_ms);
    e.code2 = static_cast<int>(std::lround(e.level_dbm0));
    e.is_end = true;
    events.push_back(e);
  }
  start_over(quiet);
}

}  // namespace prosody::tones
