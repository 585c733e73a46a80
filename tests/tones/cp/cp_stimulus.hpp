// cp_stimulus.hpp - call-progress and fax stimuli for the detector tests:
// cadenced tone sequences from the UK, CEPT (EC) and US frequency plans,
// with level, frequency offset, cadence jitter and noise under control.
// Independent of the library: it shares no code with the detector.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace cpstim {

constexpr double kRate = 8000.0;

struct Component {
  double freq_hz;
  double level_dbm0;
};

// One step of a cadence: the components sounding together (none: silence)
// for a duration.
struct Step {
  std::vector<Component> tones;
  double ms;
};

// A named test signal and the Prosody call-progress id it should produce.
struct ToneSignal {
  std::string name;
  int expected_id;
  std::vector<Step> steps;  // the whole signal, in order
};

struct Variation {
  double freq_scale = 1.0;        // every frequency multiplied by this (1.02 = +2 %)
  double jitter = 0.0;            // each step's duration scaled by 1 + U(-jitter, +jitter)
  std::uint32_t seed = 1;         // jitter and tone phases
  double lead_silence_ms = 700;   // before the signal
  double tail_silence_ms = 1500;  // after it
};

// Every tone of the default repertoire in the UK, EC and US plans (several
// signals per id), rendered as step lists at the variation's level.
std::vector<ToneSignal> repertoire_signals(double level_dbm0);

// Renders steps to 8 kHz float samples (full scale +/-1.0). Each burst
// starts at a random phase; frequencies and durations follow the variation.
// tone_spans, when given, receives [first, end) sample ranges of the steps
// that sound, in order.
std::vector<float> render(const std::vector<Step>& steps, const Variation& v,
                          std::vector<std::pair<std::size_t, std::size_t>>* tone_spans = nullptr);

// Convenience: one tone (or a pair) on for on_ms at level, with silence
// around it, as a step list.
std::vector<Step> burst(std::vector<double> freqs_hz, double level_dbm0, double on_ms);

// V.25 / V.8 answer tone: 2100 Hz at level for ms, with 180 degree phase
// reversals every reversal_ms (0: none) and amplitude modulation at 15 Hz of
// the given depth (0.2 for ANSam, 0: none), after lead_ms of silence.
std::vector<float> answer_tone(double level_dbm0, double ms, double reversal_ms, double am_depth,
                               double lead_ms = 500.0, double tail_ms = 1000.0, double freq_hz = 2100.0);

// Adds white Gaussian noise at level_dbm0 (deterministic seed).
void add_noise(std::vector<float>& x, double level_dbm0, std::uint32_t seed);

// Scales by gain_db, saturating at full scale as a 16-bit path would.
void apply_gain(std::vector<float>& x, double gain_db);

}  // namespace cpstim
