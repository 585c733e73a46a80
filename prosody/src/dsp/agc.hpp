// Automatic gain control for conference inputs, outputs and records.
//
// Per frame: estimate the level of the active signal (fast attack, slower
// release, updated only while speech is present so pauses and steady noise do
// not pull the gain up), and move the gain toward target / level at a bounded
// rate. The caller applies the gain as a ramp from gain_before to gain_after
// across the frame, so gain never steps within a frame.
//
// Defaults follow the targets in the project's DSP reference: rise <= 6 dB/s,
// fall >= 20 dB/s, at most +20 dB of gain (G.169 guidance), and the gain never
// rises on noise alone (the activity tracker decides what is speech).
//
// The law is computed on mean squares and gain ratios, not in dB, so a frame
// costs a square root and a few multiplications: the AGC runs on every party
// of a 10,000-party conference.
#pragma once

#include <algorithm>
#include <cmath>

#include "dsp/activity.hpp"

namespace prosody::dsp {

struct AgcParams {
  double target_dbm0 = -20.0;
  double max_gain_db = 20.0;
  double min_gain_db = -30.0;
  double rise_db_per_s = 6.0;
  double fall_db_per_s = 30.0;
  // 0..1 (sm_conf_prim_adj_input_settings max_level_decay): how fast the
  // level estimate falls when the signal gets quieter. 0.5 -> 10 dB/s.
  double max_level_decay = 0.5;
  double frame_seconds = 0.01;
};

struct AgcCoefficients {
  double target_ms = 0.0;  // mean square of the target level
  double max_gain = 10.0;
  double min_gain = 0.03;
  double rise_ratio = 1.0;     // per frame, > 1
  double fall_ratio = 1.0;     // per frame, < 1
  double release_ratio = 1.0;  // level estimate (mean square) per frame, < 1
  double min_level_ms = 0.0;   // ignore frames below -80 dBm0
  ActivityCoefficients activity;
};

// What the AGC keeps when its caller judges speech itself.
struct AgcLevel {
  double gain = 1.0;
  double level_ms = 0.0;  // active-level estimate; 0 = none yet
};

// ...and when it judges speech with its own activity tracker.
struct AgcState : AgcLevel {
  ActivityState activity;
};

AgcCoefficients agc_coefficients(const AgcParams& params);

struct AgcStep {
  float gain_before = 1.0f;
  float gain_after = 1.0f;
};

// Feeds one frame's mean square (full scale 1.0), measured before the AGC
// gain, and whether the frame is speech; returns the gain ramp to apply.
// Inline: the engine runs it for every party every frame.
inline AgcStep agc_update(AgcLevel& s, const AgcCoefficients& c, double ms, bool speech) {
  AgcStep step;
  step.gain_before = static_cast<float>(s.gain);
  if (speech && ms > c.min_level_ms) {
    if (s.level_ms <= 0.0) {
      s.level_ms = ms;
    } else if (ms > s.level_ms) {
      // Attack: a louder frame is believed at once, but halfway (in dB: the
      // geometric mean), so a single click does not own the estimate.
      s.level_ms = std::sqrt(s.level_ms * ms);
    } else {
      s.level_ms = std::max(ms, s.level_ms * c.release_ratio);
    }
    const double wanted = std::clamp(std::sqrt(c.target_ms / s.level_ms), c.min_gain, c.max_gain);
    s.gain = wanted > s.gain ? std::min(wanted, s.gain * c.rise_ratio) : std::max(wanted, s.gain * c.fall_ratio);
  }
  step.gain_after = static_cast<float>(s.gain);
  return step;
}
// The same, judging speech with its own activity tracker.
inline AgcStep agc_update(AgcState& s, const AgcCoefficients& c, double ms) {
  return agc_update(s, c, ms, track_activity(s.activity, c.activity, frame_energy(ms)));
}

}  // namespace prosody::dsp
