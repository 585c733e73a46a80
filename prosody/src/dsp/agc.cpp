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

}  // namespace prosody::dsp
