#include "dsp/activity.hpp"

#include <algorithm>
#include <cmath>

#include "dsp/levels.hpp"

namespace prosody::dsp {

ActivityCoefficients activity_coefficients(const ActivityParams& p) {
  ActivityCoefficients c;
  c.min_noise = aculab_energy(p.min_noise_level_db);
  c.max_noise = std::max(c.min_noise, aculab_energy(p.max_noise_level_db));
  c.thresh = p.speech_thresh;
  c.lmin_rise = std::pow(10.0, p.lmin_rise_db_per_s * p.frame_seconds / 10.0);
  c.lmax_decay = std::pow(10.0, -p.lmax_decay_db_per_s * p.frame_seconds / 10.0);
  c.hangover_frames = static_cast<std::uint32_t>(std::lround(p.hangover_s / p.frame_seconds));
  c.min_range = std::pow(10.0, p.min_range_db / 10.0);
  return c;
}

// dBm0 of a frame on Aculab's scale, 10^((dBm0 + 90) / 10), is linear in the
// mean square: 2 * ms * 10^((3.14 + 90) / 10).
const double kEnergyPerMeanSquare = 2.0 * std::pow(10.0, (kFullScaleSineDbm0 + 90.0) / 10.0);

}  // namespace prosody::dsp
