// The answer-tone and beep detectors inside prosody::ToneSuppressor (what a
// channel's input runs): at every module rate, reports on the input's own
// timeline, and the audio passes untouched.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "answer_stimulus.hpp"
#include "prosody/tones.hpp"
#include "signal.hpp"

namespace {

using prosody::RecognitionType;
using prosody::ToneEvent;

TEST(AnswerInSuppressor, ReportsOnTheInputTimelineAtEveryRate) {
  for (unsigned rate : {8000u, 16000u, 32000u, 48000u}) {
    const double r = rate;
    answertest::AnswerSignal s;
    s.reversals = true;
    s.am_depth = 0.2;
    const double lead = 0.3137;
    std::vector<float> x = answertest::answer_tone(s, 1.5, lead, r);
    // Then quiet, a 1200 Hz beep of 250 ms, quiet.
    const std::size_t beep_at = x.size() + std::size_t(0.5 * r), beep_n = std::size_t(0.25 * r);
    x.resize(beep_at + beep_n + std::size_t(0.5 * r), 0.0f);
    testsig::add_sine(x, 1200.0, -15.0, r, 0.0, beep_at, beep_n);

    prosody::ListenSettings ls;
    ls.answer_tones = true;
    ls.beeps = true;
    prosody::ToneSuppressor ts(rate, ls);
    std::vector<ToneEvent> ev;
    std::vector<float> out(x.size());
    const std::size_t chunk = rate / 100;
    bool unchanged = true;
    for (std::size_t at = 0; at < x.size(); at += chunk) {
      const std::size_t n = std::min(chunk, x.size() - at);
      ts.process(x.data() + at, out.data() + at, n, ev);
      unchanged = unchanged && ts.last_block_unchanged();
    }
    EXPECT_TRUE(unchanged) << rate << ": neither kind is suppressed";
    EXPECT_TRUE(std::equal(x.begin(), x.end(), out.begin())) << rate;
    ASSERT_EQ(ev.size(), 2u) << rate;
    EXPECT_EQ(ev[0].type, RecognitionType::ans);
    EXPECT_EQ(ev[0].code, 4) << "/ANSam";
    EXPECT_NEAR(double(ev[0].start_sample), lead * r, 0.005 * r) << rate << ": onset within 5 ms";
    EXPECT_EQ(ev[1].type, RecognitionType::beep);
    EXPECT_NEAR(ev[1].code, 1200, 2);
    // Edges within 2 ms (the decimator's delay is taken out).
    EXPECT_NEAR(double(ev[1].start_sample), double(beep_at), 0.002 * r) << rate;
    EXPECT_NEAR(double(ev[1].end_sample), double(beep_at + beep_n), 0.002 * r) << rate;
  }
}

// A beep in progress when the stream ends is reported by finish().
TEST(AnswerInSuppressor, FinishReportsTheBeepInProgress) {
  prosody::ListenSettings ls;
  ls.beeps = true;
  prosody::ToneSuppressor ts(16000, ls);
  std::vector<float> x(16000, 0.0f);
  testsig::add_sine(x, 900.0, -15.0, 16000.0, 0.0, 8000, 8000);
  std::vector<ToneEvent> ev;
  ts.process(x.data(), x.data(), x.size(), ev);
  EXPECT_TRUE(ev.empty()) << "still sounding";
  ts.finish(nullptr, ev);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].type, RecognitionType::beep);
  EXPECT_NEAR(double(ev[0].start_sample), 8000.0, 32.0);
}

}  // namespace
