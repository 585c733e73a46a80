// The test-side oracles (G.711 codec, DTMF stimulus) checked against the
// standards before anything is measured with them.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "dtmf_stimulus.hpp"
#include "signal.hpp"

using namespace dtmftest;

TEST(G711Oracle, AlawCodesRoundTripAndSpanTheSegments) {
  for (int c = 0; c < 256; ++c) {
    const std::int16_t v = alaw_decode(static_cast<std::uint8_t>(c));
    EXPECT_EQ(alaw_encode(v), c) << c;  // every code is its own decision level's output
  }
  EXPECT_EQ(alaw_decode(0xAA), 32256);  // 0x80 | 0x7F, even bits inverted: the largest
  EXPECT_EQ(alaw_decode(0x2A), -32256);
  EXPECT_EQ(alaw_decode(0xD5), 8);  // smallest positive: segment 0, step 16 on this scale
  std::set<int> values;
  for (int c = 0; c < 256; ++c) values.insert(alaw_decode(static_cast<std::uint8_t>(c)));
  EXPECT_EQ(values.size(), 256u);  // A-law has no zero level: 256 distinct values
}

TEST(G711Oracle, MulawCodesRoundTripAndSpanTheSegments) {
  for (int c = 0; c < 256; ++c) {
    if (c == 0x7F) continue;  // negative zero encodes back as positive zero
    const std::int16_t v = ulaw_decode(static_cast<std::uint8_t>(c));
    EXPECT_EQ(ulaw_encode(v), c) << c;
  }
  EXPECT_EQ(ulaw_decode(0x80), 32124);
  EXPECT_EQ(ulaw_decode(0x00), -32124);
  EXPECT_EQ(ulaw_decode(0xFF), 0);
}

// The digital milliwatt of G.711 Tables 5 and 6 is 0 dBm0.
TEST(G711Oracle, DigitalMilliwattIsZeroDbm0) {
  const std::uint8_t a[8] = {0x34, 0x21, 0x21, 0x34, 0xB4, 0xA1, 0xA1, 0xB4};
  const std::uint8_t u[8] = {0x1E, 0x0B, 0x0B, 0x1E, 0x9E, 0x8B, 0x8B, 0x9E};
  std::vector<float> xa, xu;
  for (int r = 0; r < 100; ++r)
    for (int i = 0; i < 8; ++i) {
      xa.push_back(alaw_decode(a[i]) / 32768.0f);
      xu.push_back(ulaw_decode(u[i]) / 32768.0f);
    }
  EXPECT_NEAR(testsig::level_dbm0(xa), 0.0, 0.1);
  // mu-law's full-scale sine is +3.17 dBm0, 0.03 dB above A-law's (the scale used here).
  EXPECT_NEAR(testsig::level_dbm0(xu) + 0.03, 0.0, 0.1);
}

// Round-trip SQNR of a 1020 Hz sine matches the ideal quantiser (dsp.md 7.3).
TEST(G711Oracle, SignalToQuantisationNoise) {
  for (double level : {-10.0, -20.0, -30.0}) {
    const auto x = testsig::sine(1020.0, level, 8000, 8000.0, 0.3);
    auto ya = x, yu = x;
    g711_round_trip(ya, Codec::alaw);
    g711_round_trip(yu, Codec::ulaw);
    EXPECT_GT(testsig::snr_db(x.data(), ya.data(), x.size()), 36.0) << level;
    EXPECT_GT(testsig::snr_db(x.data(), yu.data(), x.size()), 35.5) << level;
    EXPECT_LT(testsig::snr_db(x.data(), ya.data(), x.size()), 40.0) << level;
  }
}

TEST(DtmfStimulus, TonesHaveTheLevelsAndFrequenciesAsked) {
  Stimulus s(8000.0, 3);
  Tone t;
  t.digit = '9';
  t.low_level_dbm0 = -7.0;
  t.high_level_dbm0 = -13.0;
  t.low_offset_hz = 10.0;
  t.duration_ms = 500.0;
  const Truth tr = s.tone(t);
  EXPECT_EQ(tr.end - tr.start, 4000u);
  EXPECT_NEAR(testsig::tone_level_dbm0(s.samples(), 862.0, 8000.0), -7.0, 0.05);
  EXPECT_NEAR(testsig::tone_level_dbm0(s.samples(), 1477.0, 8000.0), -13.0, 0.05);
  EXPECT_LT(testsig::tone_level_dbm0(s.samples(), 852.0, 8000.0), -7.5);  // really offset
}

TEST(DtmfStimulus, InterruptionIsSilentAndKeepsTheTotalLength) {
  Stimulus s(8000.0, 4);
  Tone t;
  t.duration_ms = 100.0;
  t.interruption_at_ms = 30.0;
  t.interruption_ms = 10.0;
  const Truth tr = s.tone(t);
  EXPECT_EQ(tr.end - tr.start, 880u);  // 100 ms on plus the 10 ms gap
  for (std::size_t i = tr.start + 240; i < tr.start + 320; ++i) EXPECT_EQ(s.samples()[i], 0.0f);
  EXPECT_GT(testsig::peak(s.samples().data() + tr.start + 320, 100), 0.1);
}

TEST(DtmfStimulus, WhiteNoiseLevel) {
  Stimulus s(8000.0, 5);
  s.silence(10000.0);
  s.add_white_noise(-20.0);
  EXPECT_NEAR(testsig::level_dbm0(s.samples()), -20.0, 0.1);
}
