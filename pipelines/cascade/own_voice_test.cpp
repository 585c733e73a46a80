// The cascade's own-voice measure (own_voice.hpp) on a synthetic mix, as a
// party of the 3 x 4 lossy cascade hears it: the 11 other talkers' tones in
// syllables (250 Hz apart, -35 dBm0), 8 of them over two links that each lose
// 5 % of their 10 ms frames, concealed by a faded repeat of the frame before
// (a step in level and phase at both edges: the smear a concealment spreads
// across the spectrum); 4 s, as the tests measure. With 50 dB of its own
// voice echoed back (delayed, at another phase) the measure finds it; with
// none, it reads at most -60 dB.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "own_voice.hpp"
#include "signal.hpp"

namespace {

constexpr double kRate = 8000.0;
constexpr std::size_t kFrame = 80;
constexpr double kSpacing = 250.0;
constexpr double kTalkDbm0 = -35.0;
constexpr int kParties = 12;
constexpr int kOwn = 5;  // the listener: 1550 Hz, neighbours on both sides

double party_freq(int g) { return 300.0 + kSpacing * g; }

// Party g's speech, n samples from sample `from` of its stream.
std::vector<float> speech(int g, std::size_t n, std::size_t from = 0) {
  const double peak = testsig::sine_peak(kTalkDbm0);
  std::vector<float> x(n);
  for (std::size_t i = 0; i < n; ++i) x[i] = float(cascade::speech_sample(peak, party_freq(g), kRate, from + i));
  return x;
}

// A link's sum with loss_per_mille of its frames lost and concealed: the
// frame before it again, at half the level (seeded).
void conceal_losses(std::vector<float>& x, unsigned loss_per_mille, std::uint32_t seed) {
  std::uint32_t rng = seed;
  for (std::size_t f = 1; (f + 1) * kFrame <= x.size(); ++f) {
    rng = rng * 1664525u + 1013904223u;
    if ((rng >> 8) % 1000 >= loss_per_mille) continue;
    for (std::size_t i = 0; i < kFrame; ++i) x[f * kFrame + i] = 0.5f * x[(f - 1) * kFrame + i];
  }
}

// What the listener hears: its 3 local partners, two links of 4 lossy
// remote talkers, and its own voice echoed at echo_db (none: -inf).
std::vector<float> mix(std::size_t n, double echo_db, unsigned loss_per_mille, std::uint32_t seed) {
  std::vector<float> heard(n, 0.0f), links[2] = {std::vector<float>(n, 0.0f), std::vector<float>(n, 0.0f)};
  for (int g = 0; g < kParties; ++g) {
    if (g == kOwn) continue;
    const int node = g / 4, own_node = kOwn / 4;
    std::vector<float>& into = node == own_node ? heard : links[node < own_node ? 0 : 1];
    const std::vector<float> s = speech(g, n);
    for (std::size_t i = 0; i < n; ++i) into[i] += s[i];
  }
  for (int l = 0; l < 2; ++l) {
    conceal_losses(links[l], loss_per_mille, seed + 17u * std::uint32_t(l));
    for (std::size_t i = 0; i < n; ++i) heard[i] += links[l][i];
  }
  if (std::isfinite(echo_db)) {
    // A round trip later (1234 samples), its phase turned by the delay.
    const std::vector<float> own = speech(kOwn, n);
    const double gain = std::pow(10.0, echo_db / 20.0);
    for (std::size_t i = 1234; i < n; ++i) heard[i] += float(gain * own[i - 1234]);
  }
  return heard;
}

double measure(const std::vector<float>& heard) {
  const std::vector<float> sent = speech(kOwn, heard.size());
  return cascade::own_voice_db(heard.data(), heard.size(), sent.data(), sent.size(), party_freq(kOwn), kRate, kSpacing);
}

// The median of 100 ms Hann Goertzel windows (the measure this replaces):
// recorded, for comparison.
double windowed_median_db(const std::vector<float>& heard) {
  const std::vector<float> sent = speech(kOwn, heard.size());
  std::vector<double> v;
  for (std::size_t s = 0; s + 800 <= heard.size(); s += 800)
    v.push_back(testsig::tone_level_dbm0(&heard[s], 800, party_freq(kOwn), kRate) -
                testsig::tone_level_dbm0(&sent[s], 800, party_freq(kOwn), kRate));
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

constexpr std::size_t kRun = 4 * 8000;

TEST(CascadeOwnVoice, AnEchoAt50dBIsFoundThroughLossSmear) {
  for (std::uint32_t seed : {1u, 2u, 3u, 4u}) {
    const double db = measure(mix(kRun, -50.0, 50, seed));
    EXPECT_NEAR(db, -50.0, 1.5) << "seed " << seed;
  }
}

TEST(CascadeOwnVoice, NoEchoReadsBelowTheBarThroughLossSmear) {
  for (std::uint32_t seed : {1u, 2u, 3u, 4u}) {
    const std::vector<float> heard = mix(kRun, -INFINITY, 50, seed);
    const double db = measure(heard);
    RecordProperty("seed" + std::to_string(seed) + "_db", std::to_string(db));
    RecordProperty("seed" + std::to_string(seed) + "_windowed_median_db", std::to_string(windowed_median_db(heard)));
    EXPECT_LE(db, -60.0) << "seed " << seed << " (100 ms windows' median: " << windowed_median_db(heard) << " dB)";
  }
}

// Without loss: the echo is found at its level, and none reads far below.
TEST(CascadeOwnVoice, WithoutLossTheEchoIsExactAndNoneIsFarBelow) {
  EXPECT_NEAR(measure(mix(kRun, -50.0, 0, 1)), -50.0, 0.5);
  EXPECT_NEAR(measure(mix(kRun, -20.0, 0, 1)), -20.0, 0.5);  // the echo is missing from the first 1234 samples
  EXPECT_LE(measure(mix(kRun, -INFINITY, 0, 1)), -90.0);
}

// The measure's output is a gain: the sent signal against itself is 0 dB.
TEST(CascadeOwnVoice, TheSentSignalIsZeroDb) {
  const std::vector<float> sent = speech(kOwn, kRun);
  EXPECT_NEAR(
      cascade::own_voice_db(sent.data(), sent.size(), sent.data(), sent.size(), party_freq(kOwn), kRate, kSpacing), 0.0,
      1e-9);
}

}  // namespace
