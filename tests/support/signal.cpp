#include "signal.hpp"

#include <sndfile.h>

#include <algorithm>
#include <cmath>
#include <random>

namespace testsig {

double sine_peak(double level_dbm0) { return std::pow(10.0, (level_dbm0 - kFullScaleSineDbm0) / 20.0); }

// A sine of peak A has mean square A^2/2; full-scale sine (A=1) is +3.14 dBm0.
double ms_to_dbm0(double ms) {
  if (ms <= 1e-30) return -300.0;
  return 10.0 * std::log10(ms / 0.5) + kFullScaleSineDbm0;
}
double dbm0_to_ms(double level) { return 0.5 * std::pow(10.0, (level - kFullScaleSineDbm0) / 10.0); }

std::vector<float> sine(double f, double level, std::size_t n, double rate, double phase) {
  std::vector<float> x(n, 0.0f);
  add_sine(x, f, level, rate, phase);
  return x;
}

void add_sine(std::vector<float>& x, double f, double level, double rate, double phase, std::size_t start,
              std::size_t count) {
  const double a = sine_peak(level);
  const std::size_t end = count == SIZE_MAX ? x.size() : std::min(x.size(), start + count);
  for (std::size_t i = start; i < end; ++i)
    x[i] += static_cast<float>(a * std::sin(2.0 * kPi * f * static_cast<double>(i - start) / rate + phase));
}

std::vector<float> white_noise(double level, std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> dist(0.0, std::sqrt(dbm0_to_ms(level)));
  std::vector<float> x(n);
  for (auto& v : x) v = static_cast<float>(dist(rng));
  return x;
}

double mean_square(const float* x, std::size_t n) {
  if (n == 0) return 0.0;
  double s = 0.0;
  for (std::size_t i = 0; i < n; ++i) s += double(x[i]) * double(x[i]);
  return s / double(n);
}

double level_dbm0(const float* x, std::size_t n) { return ms_to_dbm0(mean_square(x, n)); }

double tone_level_dbm0(const float* x, std::size_t n, double f, double rate) {
  if (n < 2) return -300.0;
  // Hann-windowed single-bin DFT; normalised so a sine of peak A reads A.
  double re = 0.0, im = 0.0, wsum = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const double w = 0.5 - 0.5 * std::cos(2.0 * kPi * double(i) / double(n - 1));
    const double ph = 2.0 * kPi * f * double(i) / rate;
    re += w * x[i] * std::cos(ph);
    im -= w * x[i] * std::sin(ph);
    wsum += w;
  }
  const double amp = 2.0 * std::sqrt(re * re + im * im) / wsum;
  return ms_to_dbm0(amp * amp / 2.0);
}

double projection_gain(const float* r, const float* y, std::size_t n) {
  double ry = 0.0, rr = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    ry += double(r[i]) * y[i];
    rr += double(r[i]) * r[i];
  }
  return rr > 0.0 ? ry / rr : 0.0;
}

double snr_db(const float* r, const float* y, std::size_t n) {
  const double g = projection_gain(r, y, n);
  double sig = 0.0, err = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const double s = g * r[i];
    sig += s * s;
    err += (y[i] - s) * (y[i] - s);
  }
  if (err <= 0.0) return 300.0;
  return 10.0 * std::log10(sig / err);
}

double max_second_difference(const float* x, std::size_t n) {
  double m = 0.0;
  for (std::size_t i = 2; i < n; ++i) m = std::max(m, std::fabs(double(x[i]) - 2.0 * x[i - 1] + x[i - 2]));
  return m;
}

double peak(const float* x, std::size_t n) {
  double m = 0.0;
  for (std::size_t i = 0; i < n; ++i) m = std::max(m, double(std::fabs(x[i])));
  return m;
}

std::vector<float> to_float(const std::vector<std::int16_t>& x) {
  std::vector<float> y(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) y[i] = float(x[i]) / 32768.0f;
  return y;
}

std::vector<std::int16_t> to_int16(const std::vector<float>& x) {
  std::vector<std::int16_t> y(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double v = std::nearbyint(double(x[i]) * 32768.0);
    y[i] = static_cast<std::int16_t>(std::clamp(v, -32768.0, 32767.0));
  }
  return y;
}

bool write_wav(const std::string& path, const std::vector<float>& x, int rate) {
  SF_INFO info{};
  info.samplerate = rate;
  info.channels = 1;
  info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
  SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
  if (!f) return false;
  const sf_count_t w = sf_write_float(f, x.data(), static_cast<sf_count_t>(x.size()));
  sf_close(f);
  return w == static_cast<sf_count_t>(x.size());
}

bool read_wav(const std::string& path, std::vector<float>& x, int& rate) {
  SF_INFO info{};
  SNDFILE* f = sf_open(path.c_str(), SFM_READ, &info);
  if (!f) return false;
  std::vector<float> all(static_cast<std::size_t>(info.frames) * info.channels);
  sf_readf_float(f, all.data(), info.frames);
  sf_close(f);
  x.resize(static_cast<std::size_t>(info.frames));
  for (sf_count_t i = 0; i < info.frames; ++i) x[i] = all[static_cast<std::size_t>(i) * info.channels];
  rate = info.samplerate;
  return true;
}

}  // namespace testsig
