#include "dsp/agc.hpp"

#include <algorithm>
#include <cmath>

#include "dsp/levels.hpp"

namespace prosody::dsp {

AgcCoefficients agc_coefficients(const AgcParams& p) {
  AgcCoefficients c;
  c.target_ms = dbm0_to_mean_square(p.target_dbm0);
  c.max_gain = db_to_gain(p.max_gain_db);
  c.min_gain = db_to_gain(p.min_gain_db);
  c.rise_ratio = db_to_gain(p.rise_db_per_s * p.frame_seconds);
  c.fall_ratio = db_to_gain(-p.fall_db_per_s * p.frame_seconds);
  // max_level_decay 0 -> the estimate holds its peak; 1 -> falls 20 dB/s.
  const double release_db = std::clamp(p.max_level_decay, 0.0, 1.0) * 20.0 * p.frame_seconds;
  c.release_ratio = std::pow(10.0, -release_db / 10.0);
  c.min_level_ms = dbm0_to_mean_square(-80.0);
  ActivityParams ap;
  ap.frame_seconds = p.frame_seconds;
  c.activity = activity_coefficients(ap);
  return c;
}

AgcStep agc_update(AgcState& s, const AgcCoefficients& c, double ms, bool speech) {
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

AgcStep agc_update(AgcState& s, const AgcCoefficients& c, double ms) {
  return agc_update(s, c, ms, track_activity(s.activity, c.activity, frame_energy(ms)));
}

}  // namespace prosody::dsp
