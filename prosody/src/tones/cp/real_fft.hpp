// real_fft.hpp - a 256-point real FFT: the call-progress detector's 32 ms
// analysis window at 8 kHz (31.25 Hz bins), computed every 16 ms.
#pragma once

namespace prosody::tones::cp {

constexpr int kFftSize = 256;
constexpr int kFftBins = kFftSize / 2 + 1;  // bins 0..128 inclusive

// Twiddle and bit-reversal tables; built once and shared by every detector.
class RealFft {
 public:
  static const RealFft& instance();

  // x: kFftSize real samples. re/im receive bins 0..kFftSize/2 (kFftBins
  // values each). No allocation; the work arrays live on the stack.
  void forward(const float* x, float* re, float* im) const noexcept;

 private:
  RealFft();
  static constexpr int kHalf = kFftSize / 2;  // complex FFT length
  static constexpr int kLog2Half = 7;
  // Twiddles of the radix-2 stages from length 8 up, each stage's run
  // contiguous so that four butterflies go in one vector operation.
  static constexpr int kStageTwiddles = 4 + 8 + 16 + 32 + 64;
  alignas(16) float twiddle_re_[kStageTwiddles];
  alignas(16) float twiddle_im_[kStageTwiddles];
  float split_re_[kFftBins];  // e^{-j 2 pi k / N}: untangles the packed real input
  float split_im_[kFftBins];
  unsigned char bit_reverse_[kHalf];
};

}  // namespace prosody::tones::cp
