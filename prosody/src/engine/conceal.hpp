// conceal.hpp - concealment of missing input: audio lost in the network, a
// host port that ran dry, the stretches of a frame no piece covered.
//
// A hole is filled so that it does not click. Its start continues the audio
// before it played backwards (a mirror about the last sample received, so
// there is no step and no phase jump), fading out. If audio follows within
// the frame, the hole is a crossfade from that mirror to the mirror of the
// audio after it, which it meets without a step. A hole that reaches the end
// of the frame fades out to silence by the frame's end (nothing to meet
// yet), and whatever follows silence fades in: the first audio of the next
// frame over its run, or the mirror of it that fills the hole before it.
#pragma once

#include <cstddef>

namespace prosody::detail {

class FrameConcealer {
 public:
  // x: the frame being received (n samples). prev: the previous frame as
  // processed, or null if there was none (what came before is silence, and
  // the first audio does not fade in). silent_before: the previous frame's
  // end was missing, so its concealment faded to silence.
  FrameConcealer(float* x, std::size_t n, const float* prev, bool silent_before) noexcept
      : x_(x), n_(n), prev_(prev), silent_(silent_before && prev != nullptr) {}

  // Samples [begin, end) have been received; runs come in order, without
  // overlap. Fills the hole before the run.
  void received(std::size_t begin, std::size_t end) noexcept;
  // Fills the hole at the end of the frame, if any.
  void finish() noexcept;

  bool any_received() const noexcept { return received_; }
  bool any_missing() const noexcept { return missing_; }
  bool end_missing() const noexcept { return at_ < n_; }

 private:
  float before(std::ptrdiff_t j) const noexcept;  // sample j of this frame, or of the one before if j < 0

  float* x_;
  std::size_t n_;
  const float* prev_;
  bool silent_;  // what precedes at_ has faded to silence
  std::size_t at_ = 0;
  bool received_ = false;
  bool missing_ = false;
};

}  // namespace prosody::detail
