// real_fft.hpp - real-input FFT of 16..1024 points (a power of two), shared
// by the tone detectors: the call-progress detector's 256-point analysis
// window, the DTMF detector's 128-point verification spectrum and its
// 512-point harmonic sieve.
//
// The N real samples are packed as an N/2-point complex sequence (even
// samples real, odd imaginary), transformed radix-2, and untangled into bins
// 0..N/2: half the work of a complex FFT of the same length.
#pragma once

#include <vector>

namespace prosody::tones {

class RealFft {
 public:
  static constexpr unsigned kMinPoints = 16;
  static constexpr unsigned kMaxPoints = 1024;

  // points: a power of two in [kMinPoints, kMaxPoints].
  explicit RealFft(unsigned points);

  unsigned points() const noexcept { return points_; }
  unsigned bins() const noexcept { return points_ / 2 + 1; }

  // x: points() real samples. re/im receive bins 0..points()/2 (bins()
  // values each). No allocation; the work arrays live on the stack.
  void forward(const float* x, float* re, float* im) const noexcept;

 private:
  unsigned points_;
  unsigned half_;  // complex transform length
  // Twiddles of the radix-2 stages from length 8 up, each stage's run
  // contiguous so that butterflies go several to a vector operation.
  std::vector<float> twiddle_re_, twiddle_im_;
  std::vector<float> split_re_, split_im_;  // e^{-j 2 pi k / N}: untangles the packed input
  std::vector<unsigned short> bit_reverse_;
};

}  // namespace prosody::tones
