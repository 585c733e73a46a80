// Speech-activity gating (on by default for every party, as on Prosody) cuts
// line noise, and must never cut a steady signal a listener wants: music on
// hold, a test tone, a modem. The rule (docs/architecture.md): the noise
// floor the tracker learns never rises above -40 dBm0, so a signal louder
// than about -34 dBm0 is always heard, however steady.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "corpus.hpp"
#include "harness.hpp"
#include "signal.hpp"
#include "test_data.hpp"

namespace prosody::test {
namespace {

constexpr double kRate = 8000.0;
constexpr std::size_t kWindow = 5 * 8000;  // 5 s

// A three-party conference (the high-level library: gating on, echo
// suppression on) in which A says `signal` and B listens.
std::vector<float> heard_by_b(const std::vector<float>& signal) {
  Module m = Module::create({});
  Party a, b, c;
  Conference conf;
  for (Party* p : {&a, &b, &c}) {
    p->channel = m.allocate(ChannelType::full_duplex);
    p->channel.enable_host_input();
    p->channel.enable_host_output();
    conf.add_party(p->channel);
  }
  a.input = signal;
  run(m, {&a, &b, &c}, signal.size() / m.frame_samples());
  return b.output;
}

// Level of what B heard against what A said, per 5 s window, in dB.
std::vector<double> heard_minus_said(const std::vector<float>& said, const std::vector<float>& heard) {
  std::vector<double> d;
  for (std::size_t w = 0; w + kWindow <= heard.size(); w += kWindow)
    d.push_back(testsig::level_dbm0(heard.data() + w, kWindow) - testsig::level_dbm0(said.data() + w, kWindow));
  return d;
}

void expect_heard_throughout(const std::vector<float>& said, const char* what) {
  const std::vector<float> heard = heard_by_b(said);
  const std::vector<double> d = heard_minus_said(said, heard);
  ASSERT_GE(d.size(), 2u);
  for (std::size_t w = 0; w < d.size(); ++w) {
    std::printf("[%s] window %2zu (%3zu-%3zu s): heard - said %+.2f dB\n", what, w, w * 5, w * 5 + 5, d[w]);
    EXPECT_NEAR(d[w], d[0], 1.0) << what << ": window " << w << " (" << w * 5 << " s) heard "
                                 << d[w] - d[0] << " dB off the first window";
  }
  EXPECT_NEAR(d[0], 0.0, 1.0) << what << " is heard at its own level from the start";
}

TEST(Gating, MusicOnHoldIsHeardThroughout) {
  std::string why;
  const std::vector<std::string> files = testsig::music_files(&why);
  if (files.empty()) PROSODY_SKIP_WITHOUT_DATA(why);
  std::vector<float> music;
  for (const std::string& f : files) {
    std::vector<float> x;
    int rate = 0;
    ASSERT_TRUE(testsig::read_wav(f, x, rate)) << f;
    ASSERT_EQ(rate, 8000) << f;
    music.insert(music.end(), x.begin(), x.end());
    if (music.size() >= 120 * 8000) break;
  }
  ASSERT_GE(music.size(), 120u * 8000u) << "under 120 s of music on hold in " << testsig::music_dir();
  music.resize(120 * 8000);
  expect_heard_throughout(music, "music on hold");
}

TEST(Gating, SteadyTestToneIsHeardThroughout) {
  expect_heard_throughout(testsig::sine(1004.0, -20.0, 60 * 8000, kRate), "1004 Hz at -20 dBm0");
}

// The quietest steady signal that is always heard: about -34 dBm0 (the
// noise-floor ceiling, -40 dBm0, plus the tracker's margin).
TEST(Gating, SteadyToneAtMinus30IsHeardThroughout) {
  expect_heard_throughout(testsig::sine(450.0, -30.0, 60 * 8000, kRate), "450 Hz at -30 dBm0");
}

// Line noise is still cut, whether below the tracker's minimum noise level
// (-55 dBm0) or learnt as the floor above it.
TEST(Gating, LineNoiseIsGated) {
  for (double level : {-60.0, -50.0, -45.0}) {
    const std::vector<float> noise = testsig::white_noise(level, 30 * 8000, 7);
    const std::vector<float> heard = heard_by_b(noise);
    // After 5 s (the floor is learnt in seconds), B hears silence.
    const double after = testsig::level_dbm0(heard.data() + 5 * 8000, heard.size() - 5 * 8000);
    EXPECT_LT(after, level - 30.0) << "noise at " << level << " dBm0 is heard at " << after << " dBm0";
  }
}

// Speech over that noise still opens the gate.
TEST(Gating, SpeechOverLineNoiseIsHeard) {
  std::string why;
  const std::vector<std::string> files = testsig::speech_files(&why);
  if (files.empty()) PROSODY_SKIP_WITHOUT_DATA(why);
  std::vector<float> speech;
  for (const std::string& f : files) {
    std::vector<float> x;
    int rate = 0;
    if (!testsig::read_wav(f, x, rate) || rate != 8000) continue;
    speech.insert(speech.end(), x.begin(), x.end());
    if (speech.size() >= 30 * 8000) break;
  }
  ASSERT_GE(speech.size(), 30u * 8000u);
  speech.resize(30 * 8000);
  std::vector<float> said = testsig::white_noise(-50.0, 40 * 8000, 3);
  for (std::size_t i = 0; i < speech.size(); ++i) said[10 * 8000 + i] += speech[i];
  const std::vector<float> heard = heard_by_b(said);
  // The speech's energy reaches B (within 1 dB); the noise before it does not.
  const double speech_in = testsig::level_dbm0(said.data() + 10 * 8000, 30 * 8000);
  const double speech_out = testsig::level_dbm0(heard.data() + 10 * 8000, 30 * 8000);
  EXPECT_NEAR(speech_out, speech_in, 1.0);
  EXPECT_LT(testsig::level_dbm0(heard.data() + 5 * 8000, 5 * 8000), -80.0);
}

}  // namespace
}  // namespace prosody::test
