// decimator.hpp - anti-alias decimation from 16, 32 or 48 kHz to 8 kHz for
// the tone detectors.
//
// Minimum-phase FIR, designed at construction with a Kaiser window and then
// converted to minimum phase (same magnitude, a fraction of the delay):
//   16 -> 8 kHz:  passband 0..3400 Hz (ripple < 0.01 dB), stopband >= 4000 Hz
//                 at >= 66 dB, so nothing above 4 kHz aliases into the band;
//   32 -> 16 and 48 -> 16 kHz first: a short filter that only has to keep
//                 12..20 kHz (what would alias below 4 kHz) out, >= 70 dB.
// Fixed-size state; no allocation after construction.
#pragma once

#include <cstddef>
#include <vector>

namespace prosody::tones {

class Decimator {
 public:
  // input_rate: 8000 (pass-through), 16000, 32000 or 48000.
  explicit Decimator(unsigned input_rate);

  unsigned ratio() const noexcept { return ratio_; }
  // Converts n input samples; returns how many 8 kHz samples were written.
  // out must hold n / ratio() + 1 samples.
  std::size_t process(const float* in, std::size_t n, float* out);
  // Input samples still needed before the next output sample appears.
  unsigned samples_to_next_output() const noexcept;
  // Output j stands for input sample j * ratio() + offset (the filters'
  // combined group delay in the DTMF band; negative offsets mean before the
  // stream began).
  double input_offset() const noexcept { return offset_; }
  // Output j is computed when input (j + 1) * ratio() - 1 arrives (counting
  // from reset) from the support() inputs up to and including that one.
  std::size_t support() const noexcept { return support_; }
  bool identity() const noexcept { return count_ == 0; }  // 8 kHz in: process() copies
  // Takes n input samples as zeros whose outputs nobody reads (quiet input
  // the detectors would skip anyway): the state moves on as process() would
  // move it, with no filtering. Returns how many outputs were due.
  std::size_t skip(std::size_t n);
  void reset();

  // The filters' amplitude response at f Hz (for tests and documentation).
  double response_db(double f_hz) const;

 private:
  struct Stage {
    unsigned factor = 1;
    unsigned rate = 0;  // input rate of this stage
    std::vector<float> taps;
    std::vector<float> history;  // 2 * taps.size(): a doubled ring for contiguous reads
    std::size_t head = 0;
    unsigned phase = 0;        // inputs since the last output
    std::size_t zero_run = 0;  // newest inputs that were zeros (>= taps.size(): history all zeros)
    void reset();
    // Feeds one sample; returns true and sets y when an output is due.
    bool push(float x, float& y);
    std::size_t skip(std::size_t n);  // n zeros into an all-zero history
  };
  static Stage design(unsigned rate, unsigned factor, double pass_hz, double stop_hz, double atten_db);
  static const Stage& cached(unsigned rate, unsigned factor);

  unsigned ratio_ = 1;
  Stage stages_[2];
  int count_ = 0;  // stages in use
  double offset_ = 0.0;
  std::size_t support_ = 1;
};

}  // namespace prosody::tones
