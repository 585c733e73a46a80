// answer_stimulus.hpp - modem answer tones and beeps, generated from their
// definitions (ITU-T V.25, V.8) for the answer-tone detector tests.
#pragma once

#include <cstddef>
#include <vector>

namespace answertest {

constexpr double kRate = 8000.0;

struct AnswerSignal {
  double freq_hz = 2100.0;
  double level_dbm0 = -12.0;  // of the carrier (AM adds its sidebands' power)
  bool reversals = false;     // 180 degrees every reversal_ms
  double reversal_ms = 450.0;
  double am_depth = 0.0;  // 0.2 for ANSam
  double am_hz = 15.0;
  double start_phase = 0.3;
};

// seconds of the signal, after lead_in seconds of silence, at rate.
std::vector<float> answer_tone(const AnswerSignal& s, double seconds, double lead_in = 0.2, double rate = kRate);

}  // namespace answertest
