// Automatic gain control for conference inputs, outputs and records.
//
// Per frame: estimate the level of the active signal (fast attack, slower
// release, updated only while speech is present so pauses and steady noise do
// not pull the gain up), and move the gain toward target - level at a bounded
// rate. The caller applies the gain as a ramp from gain_before to gain_after
// across the frame, so gain never steps within a frame.
//
// Defaults follow the targets in the project's DSP reference: rise <= 6 dB/s,
// fall >= 20 dB/s, at most +20 dB of gain (G.169 guidance), and the gain never
// rises on noise alone (the activity tracker decides what is speech).
#pragma once

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
  double target_db = -20.0;
  double max_gain_db = 20.0;
  double min_gain_db = -30.0;
  double rise_per_frame_db = 0.06;
  double fall_per_frame_db = 0.3;
  double level_release_per_frame_db = 0.1;
  ActivityCoefficients activity;
};

struct AgcState {
  double gain_db = 0.0;
  double level_db = -300.0;  // active-level estimate; -300 = none yet
  ActivityState activity;
};

AgcCoefficients agc_coefficients(const AgcParams& params);

struct AgcStep {
  float gain_before = 1.0f;
  float gain_after = 1.0f;
};

// Feeds one frame's mean square (full scale 1.0) measured before the AGC
// gain; returns the gain ramp to apply to that frame.
AgcStep agc_update(AgcState& state, const AgcCoefficients& c, double mean_square);

}  // namespace prosody::dsp
