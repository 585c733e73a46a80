// The on-hook click detector (sm_onhook_listen_for): synthetic hang-up
// clicks at and around the documented levels are found, too long or too
// quiet pulses and a noisy line are not, and speech and music (the corpora)
// raise none.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "corpus.hpp"
#include "signal.hpp"
#include "test_data.hpp"
#include "tones/callstate/onhook.hpp"

namespace {

using prosody::OnHookSettings;
using prosody::RecognitionType;
using prosody::ToneEvent;
using prosody::tones::OnHookDetector;

std::vector<ToneEvent> detect(const std::vector<float>& x, const OnHookSettings& s = {}) {
  OnHookDetector d;
  d.configure(s);
  d.reset();
  std::vector<ToneEvent> ev;
  for (std::size_t at = 0; at < x.size(); at += 160)
    d.process(x.data() + at, std::min<std::size_t>(160, x.size() - at), at, ev);
  return ev;
}

// A hang-up: line noise at before_dbm0 for 1 s, then at onset a click - a
// damped 600 Hz ring of peak_dbm0 decaying with time constant tau_ms - and
// line noise at after_dbm0 for 1 s.
struct Click {
  double before_dbm0 = -60.0, peak_dbm0 = -10.0, tau_ms = 4.0, after_dbm0 = -55.0;
};
constexpr std::size_t kOnset = 8000;

std::vector<float> hang_up(const Click& c, std::uint32_t seed = 1) {
  std::vector<float> x = testsig::white_noise(c.before_dbm0, kOnset, seed);
  const std::vector<float> after = testsig::white_noise(c.after_dbm0, 8000, seed + 1);
  x.insert(x.end(), after.begin(), after.end());
  const double amplitude = testsig::sine_peak(c.peak_dbm0);
  for (std::size_t i = 0; i < 8000; ++i) {
    const double t = double(i) / 8000.0;
    x[kOnset + i] += float(amplitude * std::exp(-t * 1000.0 / c.tau_ms) * std::sin(2.0 * M_PI * 600.0 * t));
  }
  return x;
}

// The pulse's time over the -42 dBm0 floor: the ring's power falls 8.7 dB
// per time constant.
double ms_over_floor(const Click& c) { return (c.peak_dbm0 + 42.0) / 8.686 * c.tau_ms; }

TEST(OnHook, ClicksAreFoundWithTheirOnsetLengthAndPeak) {
  for (const double peak : {-15.0, -10.0, 0.0}) {
    for (const double tau : {2.0, 5.0, 10.0}) {
      Click c;
      c.peak_dbm0 = peak;
      c.tau_ms = tau;
      const auto ev = detect(hang_up(c));
      ASSERT_EQ(ev.size(), 1u) << peak << " dBm0, tau " << tau << " ms";
      EXPECT_EQ(ev[0].type, RecognitionType::onhook);
      EXPECT_NEAR(double(ev[0].start_sample), double(kOnset), 8.0) << "to a 1 ms block";
      EXPECT_NEAR(double(ev[0].duration_ms), ms_over_floor(c), 2.0) << peak << " dBm0, tau " << tau;
      // The first 1 ms block's power: the decay's mean over it.
      const double first_block = peak + 10.0 * std::log10(tau / 2.0 * (1.0 - std::exp(-2.0 / tau)));
      EXPECT_NEAR(ev[0].level_dbm0, first_block, 1.0) << peak << " dBm0, tau " << tau;
    }
  }
}

// The documented limits, each crossed on its own.
TEST(OnHook, EachConditionIsRequired) {
  Click quiet_pulse;
  quiet_pulse.peak_dbm0 = -21.0;  // under pulse_min_power (-18)
  EXPECT_TRUE(detect(hang_up(quiet_pulse)).empty());
  Click noisy_line;
  noisy_line.before_dbm0 = -45.0;  // over pre_pulse_max_power (-48)
  EXPECT_TRUE(detect(hang_up(noisy_line)).empty());
  Click long_pulse;
  long_pulse.tau_ms = 30.0;  // over the floor for 110 ms: max_duration is 60
  ASSERT_GT(ms_over_floor(long_pulse), 60.0);
  EXPECT_TRUE(detect(hang_up(long_pulse)).empty());
  Click loud_after;
  loud_after.after_dbm0 = -33.0;  // the line after stays over floor - latitude (-36)
  EXPECT_TRUE(detect(hang_up(loud_after)).empty());
  // A burst as loud and as short, but flat (a plosive's release after a
  // closure): its first quarter holds a quarter of its energy, not 75 %.
  std::vector<float> flat = testsig::white_noise(-60.0, 2 * 8000, 11);
  const std::vector<float> burst = testsig::white_noise(-10.0, 240, 12);  // 30 ms
  for (std::size_t i = 0; i < burst.size(); ++i) flat[kOnset + i] += burst[i];
  EXPECT_TRUE(detect(flat).empty());
  // Raising max_duration admits the long pulse; lowering pulse_min the quiet one.
  OnHookSettings s;
  s.max_duration_ms = 150;
  EXPECT_EQ(detect(hang_up(long_pulse), s).size(), 1u);
  s = OnHookSettings{};
  s.pulse_min_dbm0 = -24.0;
  EXPECT_EQ(detect(hang_up(quiet_pulse), s).size(), 1u);
}

// Two clicks a second apart are two reports; silence alone is none.
TEST(OnHook, RepeatsAndSilence) {
  std::vector<float> x = hang_up(Click{});
  const std::vector<float> again = hang_up(Click{}, 9);
  x.insert(x.end(), again.begin(), again.end());
  EXPECT_EQ(detect(x).size(), 2u);
  EXPECT_TRUE(detect(std::vector<float>(8000 * 10, 0.0f)).empty());
}

void talk_off(bool music, double gain_db) {
  std::string why;
  const std::vector<std::string> files = music ? testsig::music_files(&why) : testsig::speech_files(&why);
  if (files.empty()) PROSODY_SKIP_WITHOUT_DATA(why);
  std::vector<std::string> offenders;
  const testsig::CorpusRun run =
      testsig::for_each_corpus_file(files, gain_db, [&](const std::string& path, std::vector<float>& x) {
        x.insert(x.begin(), 8000, 0.0f);  // a quiet line before, as on a real call
        x.resize(x.size() + 8000, 0.0f);
        for (const ToneEvent& e : detect(x)) {
          char line[256];
          std::snprintf(line, sizeof line, "%s at %.2f s (%u ms, %.1f dBm0)", path.c_str(),
                        e.start_sample / 8000.0 - 1.0, e.duration_ms, e.level_dbm0);
          offenders.push_back(line);
        }
      });
  std::printf("[on-hook talk-off %s %+.0f dB] %zu files, %.0f s: %zu clicks\n", music ? "music" : "speech", gain_db,
              run.files_read, run.seconds, offenders.size());
  for (const auto& o : offenders) std::printf("  %s\n", o.c_str());
  EXPECT_EQ(run.unreadable, std::vector<std::string>{}) << "unreadable or not 8 kHz";
  EXPECT_GE(run.seconds, 1000.0) << "corpus shorter than expected";
  EXPECT_TRUE(offenders.empty());
}

TEST(OnHookTalkoff, Speech) { talk_off(false, 0.0); }
TEST(OnHookTalkoff, SpeechLouder) { talk_off(false, 10.0); }
TEST(OnHookTalkoff, Music) { talk_off(true, 0.0); }
TEST(OnHookTalkoff, MusicLouder) { talk_off(true, 10.0); }

}  // namespace
