// real_fft.hpp - a 128-point real FFT, the only transform the call-progress
// detector needs (16 ms blocks at 8 kHz, 62.5 Hz bins).
#pragma once

namespace prosody::tones::cp {

constexpr int kFftSize = 128;
constexpr int kFftBins = kFftSize / 2 + 1;  // bins 0..64 inclusive

// Twiddle and bit-reversal tables; built once and shared by every detector.
class RealFft128 {
 public:
  static const RealFft128& instance();

  // x: 128 real samples. re/im receive bins 0..64 (kFftBins values each).
  // No allocation; the work arrays live on the stack.
  void forward(const float* x, float* re, float* im) const noexcept;

 private:
  RealFft128();
  static constexpr int kHalf = kFftSize / 2;  // complex FFT length
  float twiddle_re_[kHalf / 2];
  float twiddle_im_[kHalf / 2];
  float split_re_[kFftBins];  // e^{-j 2 pi k / 128}: untangles the packed real input
  float split_im_[kFftBins];
  unsigned char bit_reverse_[kHalf];
};

}  // namespace prosody::tones::cp
