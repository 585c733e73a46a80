// Tone generation: up to two sinusoids, summed or one amplitude-modulating
// the other. A pure function of its arguments and an oscillator state the
// caller keeps, so a tone can be generated a block at a time with its phase
// continuous across blocks.
#pragma once

#include <cstddef>

namespace prosody::dsp {

// What one stretch of a generated signal holds. A component with frequency 0
// or peak 0 is absent; with both absent the stretch is silence.
struct ToneSpec {
  double freq_hz[2] = {0.0, 0.0};
  float peak[2] = {0.0f, 0.0f};  // peak amplitudes, full scale 1.0
  // false: the components are summed (DTMF). true: component 0 is the
  // carrier and component 1 modulates its amplitude:
  // peak0 * (1 + peak1 / peak0 * sin(2 pi f1 t)) * sin(2 pi f0 t).
  bool modulate = false;
};

// Phases in cycles, [0, 1). A zeroed state starts both sines at a zero
// crossing.
struct ToneOscillator {
  double phase[2] = {0.0, 0.0};
};

bool tone_is_silent(const ToneSpec& spec);

// Writes n samples of spec at sample_rate into out, continuing from osc, and
// advances osc by n samples. sign multiplies the output (-1: a phase
// reversal). The sines are rotated in double precision from phases computed
// exactly at the block start, so the frequency is exact and the error does
// not grow with the length of the tone.
void generate_tone(const ToneSpec& spec, double sample_rate, ToneOscillator& osc, float sign, float* out,
                   std::size_t n);

}  // namespace prosody::dsp
