#include "dsp/agc.hpp"

#include <algorithm>
#include <cmath>

#include "dsp/levels.hpp"

namespace prosody::dsp {

AgcCoefficients agc_coefficients(const AgcParams& p) {
  AgcCoefficients c;
  c.target_db = p.target_dbm0;
  c.max_gain_db = p.max_gain_db;
  c.min_gain_db = p.min_gain_db;
  c.rise_per_frame_db = p.rise_db_per_s * p.frame_seconds;
  c.fall_per_frame_db = p.fall_db_per_s * p.frame_seconds;
  // max_level_decay 0 -> the estimate holds its peak; 1 -> falls 20 dB/s.
  c.level_release_per_frame_db = std::clamp(p.max_level_decay, 0.0, 1.0) * 20.0 * p.frame_seconds;
  ActivityParams ap;
  ap.frame_seconds = p.frame_seconds;
  c.activity = activity_coefficients(ap);
  return c;
}

AgcStep agc_update(AgcState& s, const AgcCoefficients& c, double ms) {
  AgcStep step;
  step.gain_before = static_cast<float>(db_to_gain(s.gain_db));
  const double level = mean_square_to_dbm0(ms);
  const bool speech = track_activity(s.activity, c.activity, frame_energy(ms));
  if (speech && level > -80.0) {
    if (s.level_db < -200.0 || level > s.level_db) {
      // Attack: a louder frame is believed at once, but halfway, so a single
      // click does not own the estimate.
      s.level_db = s.level_db < -200.0 ? level : s.level_db + 0.5 * (level - s.level_db);
    } else {
      s.level_db = std::max(level, s.level_db - c.level_release_per_frame_db);
    }
    const double wanted = std::clamp(c.target_db - s.level_db, c.min_gain_db, c.max_gain_db);
    if (wanted > s.gain_db)
      s.gain_db = std::min(wanted, s.gain_db + c.rise_per_frame_db);
    else
      s.gain_db = std::max(wanted, s.gain_db - c.fall_per_frame_db);
  }
  step.gain_after = static_cast<float>(db_to_gain(s.gain_db));
  return step;
}

}  // namespace prosody::dsp
