// Level conventions shared by every part of the processor.
//
// Samples are float, full scale +/-1.0 (= int16 32768). dBm0 follows G.711
// A-law: a full-scale sine is +3.14 dBm0. Aculab's tracking and AGC
// parameters use an energy scale on which L dB maps to 10^((L + 90) / 10).
#pragma once

#include <cmath>

namespace prosody::dsp {

constexpr double kFullScaleSineDbm0 = 3.14;
// Largest sample that survives int16 conversion without clipping.
constexpr float kFullScale = 32767.0f / 32768.0f;

inline double db_to_gain(double db) { return std::pow(10.0, db / 20.0); }
inline double gain_to_db(double gain) { return gain > 0.0 ? 20.0 * std::log10(gain) : -300.0; }

// Mean square of a signal (full scale 1.0) as a level in dBm0.
inline double mean_square_to_dbm0(double ms) {
  return ms > 1e-30 ? 10.0 * std::log10(ms * 2.0) + kFullScaleSineDbm0 : -300.0;
}
inline double dbm0_to_mean_square(double dbm0) { return 0.5 * std::pow(10.0, (dbm0 - kFullScaleSineDbm0) / 10.0); }

// Aculab's energy scale: dB -> 10^((dB + 90) / 10).
inline double aculab_energy(double db) { return std::pow(10.0, (db + 90.0) / 10.0); }
inline double aculab_energy_to_db(double e) { return e > 0.0 ? 10.0 * std::log10(e) - 90.0 : -300.0; }

}  // namespace prosody::dsp
