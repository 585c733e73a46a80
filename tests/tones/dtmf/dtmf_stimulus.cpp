#include "dtmf_stimulus.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "signal.hpp"

namespace dtmftest {

namespace {
constexpr double kTwoPi = 2.0 * testsig::kPi;
}

int digit_row(char d) {
  for (int i = 0; i < 16; ++i)
    if (kDigits[i] == d) return i / 4;
  return -1;
}

int digit_column(char d) {
  for (int i = 0; i < 16; ++i)
    if (kDigits[i] == d) return i % 4;
  return -1;
}

double low_freq(char d) { return kRowHz[digit_row(d)]; }
double high_freq(char d) { return kColumnHz[digit_column(d)]; }

const char* codec_name(Codec c) {
  switch (c) {
    case Codec::alaw:
      return "A-law";
    case Codec::ulaw:
      return "mu-law";
    default:
      return "linear";
  }
}

Stimulus::Stimulus(double rate, std::uint32_t seed) : rate_(rate), rng_(seed) {}

void Stimulus::silence(double ms, std::size_t jitter) {
  std::size_t n = static_cast<std::size_t>(std::llround(ms * rate_ / 1000.0));
  if (jitter > 0) n += std::uniform_int_distribution<std::size_t>(0, jitter)(rng_);
  x_.resize(x_.size() + n, 0.0f);
}

void Stimulus::append_sines(double f1, double a1, double f2, double a2, std::size_t n) {
  std::uniform_real_distribution<double> phase(0.0, kTwoPi);
  const double p1 = phase(rng_), p2 = phase(rng_);
  const std::size_t base = x_.size();
  x_.resize(base + n);
  for (std::size_t i = 0; i < n; ++i) {
    const double t = static_cast<double>(i) / rate_;
    x_[base + i] = static_cast<float>(a1 * std::sin(kTwoPi * f1 * t + p1) + a2 * std::sin(kTwoPi * f2 * t + p2));
  }
}

Truth Stimulus::tone(const Tone& t) {
  Truth truth;
  truth.digit = t.digit;
  truth.start = x_.size();
  truth.level_dbm0 = std::max(t.low_level_dbm0, t.high_level_dbm0);
  const double f1 = low_freq(t.digit) + t.low_offset_hz;
  const double f2 = high_freq(t.digit) + t.high_offset_hz;
  const double a1 = testsig::sine_peak(t.low_level_dbm0);
  const double a2 = testsig::sine_peak(t.high_level_dbm0);
  const auto samples = [&](double ms) { return static_cast<std::size_t>(std::llround(ms * rate_ / 1000.0)); };
  if (t.interruption_at_ms >= 0.0 && t.interruption_ms > 0.0) {
    const std::size_t first = samples(t.interruption_at_ms);
    const std::size_t gap = samples(t.interruption_ms);
    const std::size_t total = samples(t.duration_ms);
    append_sines(f1, a1, f2, a2, first);
    x_.resize(x_.size() + gap, 0.0f);
    append_sines(f1, a1, f2, a2, total > first ? total - first : 0);
  } else {
    append_sines(f1, a1, f2, a2, samples(t.duration_ms));
  }
  truth.end = x_.size();
  truth_.push_back(truth);
  return truth;
}

void Stimulus::add_white_noise(double level) {
  std::normal_distribution<double> g(0.0, std::sqrt(testsig::dbm0_to_ms(level)));
  for (float& v : x_) v += static_cast<float>(g(rng_));
}

void Stimulus::add_sine(double f, double level) {
  const double a = testsig::sine_peak(level);
  const double p = std::uniform_real_distribution<double>(0.0, kTwoPi)(rng_);
  for (std::size_t i = 0; i < x_.size(); ++i)
    x_[i] += static_cast<float>(a * std::sin(kTwoPi * f * static_cast<double>(i) / rate_ + p));
}

void Stimulus::add_dial_tone(double level_each) {
  add_sine(350.0, level_each);
  add_sine(440.0, level_each);
}

void Stimulus::saturate_int16() {
  for (float& v : x_) v = std::clamp(v, -1.0f, 32767.0f / 32768.0f);
}

void Stimulus::codec_round_trip(Codec codec) { g711_round_trip(x_, codec); }

Stimulus digits_in_noise(double snr_db, int digits, std::uint32_t seed, Codec codec) {
  Stimulus s(8000.0, seed);
  s.silence(50.0, 16);
  for (int i = 0; i < digits; ++i) {
    Tone t;
    t.digit = kDigits[s.rng()() % 16];
    t.duration_ms = 50.0;
    t.low_level_dbm0 = t.high_level_dbm0 = -10.0;
    s.tone(t);
    s.silence(50.0, 16);
  }
  s.add_white_noise(-10.0 + 10.0 * std::log10(2.0) - snr_db);  // the digits' power is two tones'
  s.saturate_int16();
  s.codec_round_trip(codec);
  return s;
}

// --- G.711 -------------------------------------------------------------------
// A-law: 13-bit sign-magnitude linear; segment s >= 1 spans magnitudes
// [32 << (s-1), 64 << (s-1)) in 12-bit units with 16 steps; segment 0 is
// linear with step 2. Even bits are inverted on the line.
std::uint8_t alaw_encode(std::int16_t x) {
  const bool negative = x < 0;
  int mag = (negative ? -(static_cast<int>(x) + 1) : x) >> 3;  // 12-bit magnitude
  mag = std::min(mag, 4095);
  int seg = 0, mant;
  if (mag < 32) {
    mant = mag >> 1;
  } else {
    seg = 1;
    while (mag >= (64 << (seg - 1))) ++seg;
    mant = (mag >> seg) & 0x0F;
  }
  const int code = (negative ? 0x00 : 0x80) | (seg << 4) | mant;
  return static_cast<std::uint8_t>(code ^ 0x55);
}

std::int16_t alaw_decode(std::uint8_t code) {
  const int c = code ^ 0x55;
  const int seg = (c >> 4) & 0x07, mant = c & 0x0F;
  const int mag = seg == 0 ? (mant << 1) + 1 : ((mant << 1) + 33) << (seg - 1);
  const int v = mag << 3;
  return static_cast<std::int16_t>((c & 0x80) ? v : -v);
}

// mu-law: magnitude + 33 (in 14-bit units, 132 on the 16-bit scale) is coded
// as a segment (the position of its leading one) and 4 mantissa bits; all
// bits are inverted on the line.
std::uint8_t ulaw_encode(std::int16_t x) {
  const bool negative = x < 0;
  int mag = negative ? -static_cast<int>(x) : x;
  mag = std::min(mag, 32635) + 132;
  int seg = 0;
  while (seg < 7 && mag >= (256 << seg)) ++seg;
  const int mant = (mag >> (seg + 3)) & 0x0F;
  const int code = (negative ? 0x80 : 0x00) | (seg << 4) | mant;
  return static_cast<std::uint8_t>(~code & 0xFF);
}

std::int16_t ulaw_decode(std::uint8_t code) {
  const int c = ~code & 0xFF;
  const int seg = (c >> 4) & 0x07, mant = c & 0x0F;
  const int mag = (((mant << 3) + 132) << seg) - 132;
  return static_cast<std::int16_t>((c & 0x80) ? -mag : mag);
}

void g711_round_trip(std::vector<float>& x, Codec codec) {
  if (codec == Codec::none) return;
  for (float& v : x) {
    const double s = std::clamp(std::nearbyint(double(v) * 32768.0), -32768.0, 32767.0);
    const auto lin = static_cast<std::int16_t>(s);
    const std::int16_t out = codec == Codec::alaw ? alaw_decode(alaw_encode(lin)) : ulaw_decode(ulaw_encode(lin));
    v = static_cast<float>(out) / 32768.0f;
  }
}

}  // namespace dtmftest
