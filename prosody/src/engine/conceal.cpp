#include "engine/conceal.hpp"

#include "dsp/kernels.hpp"

namespace prosody::detail {

namespace {

// Index d >= 0 reflected back and forth into [0, len): the run mirrored as
// far as needed, continuous at every turn.
std::size_t reflect(std::size_t d, std::size_t len) noexcept {
  d %= 2 * len;
  return d < len ? d : 2 * len - 1 - d;
}

}  // namespace

float FrameConcealer::before(std::ptrdiff_t j) const noexcept {
  if (j >= 0) return x_[j];
  return prev_ ? prev_[std::ptrdiff_t(n_) + j] : 0.0f;
}

void FrameConcealer::received(std::size_t begin, std::size_t end) noexcept {
  if (end <= begin) return;
  const std::size_t a = at_;
  if (begin > a) {
    // A hole with audio after it: from the mirror of what came before (or
    // from silence) to the mirror of the run that follows.
    const std::size_t len = begin - a;
    const std::size_t run = end - begin;
    const float step = 1.0f / float(len + 1);
    for (std::size_t k = 0; k < len; ++k) {
      const std::size_t p = a + k;
      const float in = float(k + 1) * step;
      const float after = x_[begin + reflect(begin - 1 - p, run)];
      const float from = silent_ ? 0.0f : before(std::ptrdiff_t(a) - 1 - std::ptrdiff_t(k)) * (1.0f - in);
      x_[p] = from + after * in;
    }
    missing_ = true;
  } else if (silent_) {
    // Audio right at the start of the frame after a hole that faded out.
    dsp::apply_gain_ramp(x_ + begin, end - begin, 0.0f, 1.0f);
  }
  silent_ = false;
  received_ = true;
  at_ = end;
}

void FrameConcealer::finish() noexcept {
  if (at_ >= n_) return;
  missing_ = true;
  const std::size_t a = at_;
  const std::size_t gap = n_ - a;
  if (silent_) {
    dsp::zero(x_ + a, gap);
    return;
  }
  // Source index a-1-k counts back through this frame's samples, then the
  // previous frame's.
  for (std::size_t k = 0; k < gap; ++k)
    x_[a + k] = before(std::ptrdiff_t(a) - 1 - std::ptrdiff_t(k)) * (1.0f - float(k + 1) / float(gap));
}

}  // namespace prosody::detail
