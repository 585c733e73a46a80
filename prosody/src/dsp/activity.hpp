// Speech-activity tracker (sm_conf_prim_adj_tracking).
//
// Prosody's documented law: track Lmin (the noise floor, the lowest energy
// seen) and Lmax (the highest); speech is present when the frame energy
// exceeds Lmin + (Lmax - Lmin) * speech_thresh, with Lmin floored at
// min_noise_level. Energies use Aculab's scale, 10^((dB + 90) / 10).
//
// What Aculab does not document, chosen here:
// - Lmax never sits less than 25 dB above Lmin. With noise alone Lmax would
//   otherwise hug the floor and the threshold with it, and every noise frame
//   would count as speech; the floor on Lmax puts the threshold at least
//   about 6 dB above the noise floor (at speech_thresh 0.01), well clear of
//   the frame-to-frame flicker of steady noise;
// - Lmin rises 2 dB/s while the energy stays above it (a new, louder noise
//   floor is learnt in seconds), but never above -40 dBm0: line noise is
//   quieter than that, and a steady signal louder than it (music on hold, a
//   test tone, a modem) is something a listener wants, so it must never be
//   learnt as noise and gated. With the 25 dB range below, anything louder
//   than about -34 dBm0 is always active. Lmax decays toward Lmin at 6 dB/s;
// - activity holds for 200 ms after the last active frame so word endings
//   are not chopped.
#pragma once

#include <algorithm>
#include <cstdint>

namespace prosody::dsp {

struct ActivityParams {
  double min_noise_level_db = -55.0;  // dBm0
  double max_noise_level_db = -40.0;  // dBm0: the learnt noise floor stops here
  double speech_thresh = 0.01;
  double frame_seconds = 0.01;
  double lmin_rise_db_per_s = 2.0;
  double lmax_decay_db_per_s = 6.0;
  double hangover_s = 0.2;
  double min_range_db = 25.0;  // Lmax >= Lmin + this
};

struct ActivityState {
  double lmin = 0.0;  // Aculab energy scale; 0 = not initialised
  double lmax = 0.0;
  std::uint32_t hangover_frames_left = 0;
  bool active = false;
};

struct ActivityCoefficients {
  double min_noise = 0.0;
  double max_noise = 0.0;
  double thresh = 0.01;
  double lmin_rise = 1.0;   // per-frame ratio
  double lmax_decay = 1.0;  // per-frame ratio applied to (Lmax - Lmin)
  std::uint32_t hangover_frames = 0;
  double min_range = 1.0;  // ratio Lmax / Lmin at least
};

ActivityCoefficients activity_coefficients(const ActivityParams& params);

// Converts a frame's mean square (full scale 1.0) to Aculab's energy scale.
// Energy per unit mean square (see activity.cpp).
extern const double kEnergyPerMeanSquare;
inline double frame_energy(double mean_square) { return mean_square * kEnergyPerMeanSquare; }

// Updates the tracker with one frame's energy; returns the verdict.
// Inline: the engine runs it for every party every frame.
inline bool track_activity(ActivityState& s, const ActivityCoefficients& c, double e) {
  if (s.lmin <= 0.0) {
    s.lmin = c.min_noise;
    s.lmax = c.min_noise * c.min_range;
  }
  // Noise floor: follows the energy down at once, creeps up slowly.
  s.lmin = e < s.lmin ? e : std::min(s.lmin * c.lmin_rise, c.max_noise);
  s.lmin = std::max(s.lmin, c.min_noise);
  // Peak: follows the energy up at once, decays toward the floor.
  s.lmax = e > s.lmax ? e : s.lmin + (s.lmax - s.lmin) * c.lmax_decay;
  s.lmax = std::max(s.lmax, s.lmin * c.min_range);

  const double threshold = s.lmin + (s.lmax - s.lmin) * c.thresh;
  const bool speech = e > threshold && e > c.min_noise;
  if (speech) {
    s.hangover_frames_left = c.hangover_frames;
    s.active = true;
  } else if (s.hangover_frames_left > 0) {
    --s.hangover_frames_left;
    s.active = true;
  } else {
    s.active = false;
  }
  return s.active;
}

}  // namespace prosody::dsp
