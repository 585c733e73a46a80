#include "cp_stimulus.hpp"

#include <algorithm>
#include <cmath>
#include <random>

#include "signal.hpp"

namespace cpstim {
namespace {

Step on(std::vector<double> freqs, double level, double ms) {
  Step s;
  for (double f : freqs) s.tones.push_back({f, level});
  s.ms = ms;
  return s;
}
Step off(double ms) { return Step{{}, ms}; }

void repeat(std::vector<Step>& out, const std::vector<Step>& cycle, int times) {
  for (int i = 0; i < times; ++i) out.insert(out.end(), cycle.begin(), cycle.end());
}

}  // namespace

std::vector<ToneSignal> repertoire_signals(double L) {
  std::vector<ToneSignal> s;
  auto add = [&](const char* name, int id, std::vector<Step> cycle, int times) {
    ToneSignal t{name, id, {}};
    repeat(t.steps, cycle, times);
    s.push_back(std::move(t));
  };
  // 1: UK number unobtainable, continuous 400 Hz.
  add("unobtainable UK 400", 1, {on({400}, L, 7000)}, 1);
  // 2: busy.
  add("busy UK 400 375/375", 2, {on({400}, L, 375), off(375)}, 8);
  add("busy EC 425 500/500", 2, {on({425}, L, 500), off(500)}, 6);
  add("busy US 480+620 500/500", 2, {on({480, 620}, L, 500), off(500)}, 6);
  // 3: UK path engaged (congestion): 400 on, 350 off, 225 on, 525 off.
  add("path engaged UK 400", 3, {on({400}, L, 400), off(350), on({400}, L, 225), off(525)}, 5);
  // 4: ring.
  add("ring UK 400+450 double", 4, {on({400, 450}, L, 400), off(200), on({400, 450}, L, 400), off(2000)}, 3);
  add("ring EC 425 1/4", 4, {on({425}, L, 1000), off(4000)}, 2);
  add("ring US 440+480 2/4", 4, {on({440, 480}, L, 2000), off(4000)}, 3);
  // 5: special information tones (Telcordia segment frequencies and
  // durations: 274 ms short, 380 ms long) and the ETSI 950/1400/1800 Hz one.
  add("SIT NC", 5, {on({913.8}, L, 380), on({1428.5}, L, 380), on({1776.7}, L, 380), off(2000)}, 2);
  add("SIT IC", 5, {on({913.8}, L, 274), on({1370.6}, L, 274), on({1776.7}, L, 380), off(2000)}, 2);
  add("SIT VC", 5, {on({985.2}, L, 380), on({1370.6}, L, 274), on({1776.7}, L, 380), off(2000)}, 2);
  add("SIT RO", 5, {on({985.2}, L, 274), on({1428.5}, L, 380), on({1776.7}, L, 380), off(2000)}, 2);
  add("SIT ETSI 950/1400/1800", 5,
      {on({950}, L, 330), off(30), on({1400}, L, 330), off(30), on({1800}, L, 330), off(1000)}, 2);
  // 6, 7: fax.
  add("fax CNG 1100 0.5/3", 6, {on({1100}, L, 500), off(3000)}, 2);
  add("fax CED 2100 3.3 s", 7, {on({2100}, L, 3300)}, 1);
  // 8: dial tone.
  add("dial US 350+440", 8, {on({350, 440}, L, 5000)}, 1);
  add("dial UK 350+450", 8, {on({350, 450}, L, 5000)}, 1);
  add("dial EC 425", 8, {on({425}, L, 5000)}, 1);
  // 9: reorder (fast busy).
  add("reorder US 480+620 250/250", 9, {on({480, 620}, L, 250), off(250)}, 8);
  // 11: US intercept, 440 and 620 Hz alternating.
  add("intercept US 440/620", 11, {on({440}, L, 230), on({620}, L, 230)}, 6);
  return s;
}

std::vector<Step> burst(std::vector<double> freqs, double level, double on_ms) {
  return {on(std::move(freqs), level, on_ms)};
}

std::vector<float> render(const std::vector<Step>& steps, const Variation& v,
                          std::vector<std::pair<std::size_t, std::size_t>>* tone_spans) {
  std::mt19937 rng(v.seed);
  std::uniform_real_distribution<double> unit(-1.0, 1.0);
  std::uniform_real_distribution<double> phase(0.0, 2.0 * testsig::kPi);
  std::vector<float> x(std::size_t(v.lead_silence_ms * kRate / 1000.0), 0.0f);
  for (const Step& s : steps) {
    const double ms = s.ms * (1.0 + v.jitter * unit(rng));
    const std::size_t n = std::size_t(std::llround(ms * kRate / 1000.0));
    const std::size_t at = x.size();
    x.resize(at + n, 0.0f);
    for (const Component& c : s.tones)
      testsig::add_sine(x, c.freq_hz * v.freq_scale, c.level_dbm0, kRate, phase(rng), at, n);
    if (tone_spans && !s.tones.empty()) tone_spans->emplace_back(at, at + n);
  }
  x.resize(x.size() + std::size_t(v.tail_silence_ms * kRate / 1000.0), 0.0f);
  return x;
}

std::vector<float> answer_tone(double level, double ms, double reversal_ms, double am_depth, double lead_ms,
                               double tail_ms, double freq_hz) {
  const std::size_t lead = std::size_t(lead_ms * kRate / 1000.0), n = std::size_t(ms * kRate / 1000.0);
  std::vector<float> x(lead + n + std::size_t(tail_ms * kRate / 1000.0), 0.0f);
  // Keep the mean power at level: AM of depth m adds m^2/2 of power.
  const double peak = testsig::sine_peak(level) / std::sqrt(1.0 + am_depth * am_depth / 2.0);
  for (std::size_t i = 0; i < n; ++i) {
    const double t = double(i) / kRate;
    const int reversals = reversal_ms > 0.0 ? int(t * 1000.0 / reversal_ms) : 0;
    const double phase = 2.0 * testsig::kPi * freq_hz * t + (reversals % 2 ? testsig::kPi : 0.0);
    const double envelope = 1.0 + am_depth * std::sin(2.0 * testsig::kPi * 15.0 * t);
    x[lead + i] = static_cast<float>(peak * envelope * std::sin(phase));
  }
  return x;
}

void add_noise(std::vector<float>& x, double level_dbm0, std::uint32_t seed) {
  const std::vector<float> n = testsig::white_noise(level_dbm0, x.size(), seed);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] += n[i];
}

void apply_gain(std::vector<float>& x, double gain_db) {
  const float g = static_cast<float>(std::pow(10.0, gain_db / 20.0));
  for (float& v : x) v = std::clamp(v * g, -1.0f, 32767.0f / 32768.0f);
}

}  // namespace cpstim
