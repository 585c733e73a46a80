// record_gate.cpp - the record job's rules on frames (files.hpp): silence
// elimination with a lead-in kept before each onset, and termination on
// elapsed time, silence and initial silence, each exact to the frame.
#include <algorithm>
#include <cstring>

#include "dsp/levels.hpp"
#include "prosody/files.hpp"

namespace prosody {

RecordGate::RecordGate(const RecordRules& rules, unsigned rate, unsigned frame_samples, unsigned channels)
    : rules_(rules),
      frame_len_(std::size_t(frame_samples) * channels),
      frame_ms_(1000.0 * frame_samples / rate),
      silence_ms_threshold_(dsp::dbm0_to_mean_square(rules.silence_level_dbm0)) {
  if (rules_.silence_elimination_ms > 0) {
    // At least a frame either side of the sound, whatever the setting.
    keep_frames_ = std::max<std::uint64_t>(1, std::uint64_t(rules_.silence_elimination_ms / frame_ms_ + 0.5));
    held_.resize(keep_frames_ * frame_len_);
    out_.resize((keep_frames_ + 1) * frame_len_);
  }
}

Span<const float> RecordGate::feed(const float* frame, double mean_square) {
  ++frames_in_;
  silent_ = mean_square < silence_ms_threshold_;
  if (silent_) {
    ++silent_run_;
  } else {
    silent_run_ = 0;
    heard_sound_ = true;
  }
  const auto limit_reached = [&](std::uint32_t ms, std::uint64_t frames) {
    return ms > 0 && double(frames) * frame_ms_ >= double(ms) - 1e-9;
  };
  if (ends_ == RecordTermination::not_yet) {
    if (limit_reached(rules_.max_elapsed_ms, frames_in_))
      ends_ = RecordTermination::max_time;
    else if (heard_sound_ && limit_reached(rules_.max_silence_ms, silent_run_))
      ends_ = RecordTermination::silence;
    else if (!heard_sound_ && limit_reached(rules_.max_initial_silence_ms, silent_run_))
      ends_ = RecordTermination::silence;
  }

  if (keep_frames_ == 0) {
    ++frames_out_;
    return Span<const float>(frame, frame_len_);
  }
  // Elimination. Silence right after sound is kept (keep_frames_ of it);
  // beyond that it is held back in a ring of keep_frames_ frames, whose
  // content is recorded ahead of the next sound: the onset's lead-in.
  const bool in_hangover = silent_ && heard_sound_ && silent_run_ <= keep_frames_;
  if (silent_ && !in_hangover) {
    std::memcpy(held_.data() + held_next_ * frame_len_, frame, frame_len_ * sizeof(float));
    held_next_ = (held_next_ + 1) % keep_frames_;
    held_count_ = std::min<std::size_t>(held_count_ + 1, keep_frames_);
    return {};
  }
  std::size_t at = 0;
  for (std::size_t k = 0; k < held_count_; ++k) {  // oldest first
    const std::size_t slot = (held_next_ + keep_frames_ - held_count_ + k) % keep_frames_;
    std::memcpy(out_.data() + at, held_.data() + slot * frame_len_, frame_len_ * sizeof(float));
    at += frame_len_;
  }
  frames_out_ += held_count_ + 1;
  held_count_ = 0;
  std::memcpy(out_.data() + at, frame, frame_len_ * sizeof(float));
  return Span<const float>(out_.data(), at + frame_len_);
}

}  // namespace prosody
