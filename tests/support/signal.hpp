// Test-side signal generation and measurement. An independent oracle: it
// shares no code with the library under test.
//
// Conventions: float samples, full scale +/-1.0 (= int16 32768). dBm0 per
// G.711 A-law: a full-scale sine is +3.14 dBm0, so a sine of level L dBm0 has
// peak 10^((L - 3.14) / 20).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace testsig {

constexpr double kFullScaleSineDbm0 = 3.14;
constexpr double kPi = 3.14159265358979323846;

// Peak amplitude of a sine at level_dbm0.
double sine_peak(double level_dbm0);
// Level in dBm0 of a signal with the given mean-square (full scale 1.0).
double ms_to_dbm0(double mean_square);
double dbm0_to_ms(double level_dbm0);

std::vector<float> sine(double freq_hz, double level_dbm0, std::size_t n, double rate, double phase = 0.0);
// Adds a sine into x in place.
void add_sine(std::vector<float>& x, double freq_hz, double level_dbm0, double rate, double phase = 0.0,
              std::size_t start = 0, std::size_t count = SIZE_MAX);
// Gaussian white noise at level_dbm0 (deterministic seed).
std::vector<float> white_noise(double level_dbm0, std::size_t n, std::uint32_t seed = 1);

// Mean square over [start, start+n).
double mean_square(const float* x, std::size_t n);
double level_dbm0(const float* x, std::size_t n);
inline double level_dbm0(const std::vector<float>& x) { return level_dbm0(x.data(), x.size()); }

// Power of the component at freq_hz, as the level in dBm0 a pure sine of that
// amplitude would have (Goertzel with a Hann window, so neighbouring tones
// 40+ Hz away over 100 ms do not leak into each other).
double tone_level_dbm0(const float* x, std::size_t n, double freq_hz, double rate);
inline double tone_level_dbm0(const std::vector<float>& x, double freq_hz, double rate) {
  return tone_level_dbm0(x.data(), x.size(), freq_hz, rate);
}

// Signal-to-noise ratio of y against a reference r (the error y - g*r with the
// least-squares gain g), in dB.
double snr_db(const float* reference, const float* y, std::size_t n);
// Least-squares gain of r in y (how much of r y contains).
double projection_gain(const float* reference, const float* y, std::size_t n);

// Largest absolute second difference |x[n] - 2x[n-1] + x[n-2]|: a click
// detector for smooth (band-limited) signals.
double max_second_difference(const float* x, std::size_t n);

// Peak absolute sample.
double peak(const float* x, std::size_t n);

std::vector<float> to_float(const std::vector<std::int16_t>& x);
std::vector<std::int16_t> to_int16(const std::vector<float>& x);

// WAV files (mono). Return false on failure.
bool write_wav(const std::string& path, const std::vector<float>& x, int rate);
bool read_wav(const std::string& path, std::vector<float>& x, int& rate);

}  // namespace testsig
