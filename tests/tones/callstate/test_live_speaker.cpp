// The live speaker / answering machine classifier (sm_catsig_listen_for):
// its speech rule, no decision on silence, the tone variant, and its
// accuracy and decision time on answers built from the speech corpus:
//   live    - the first 0.3-1.0 s of a prompt ("Hello?"), then silence;
//   machine - prompts joined with 0.2-0.5 s gaps into a 5-20 s greeting.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "answer_stimulus.hpp"
#include "corpus.hpp"
#include "signal.hpp"
#include "test_data.hpp"
#include "tones/callstate/live_speaker.hpp"

namespace {

using prosody::LiveSpeakerSettings;
using prosody::RecognitionType;
using prosody::ToneEvent;
using prosody::tones::CatSigCategory;
using prosody::tones::CatSigEvidence;
using prosody::tones::LiveSpeakerClassifier;

constexpr double kRate = 8000.0;
constexpr double kLineNoiseDbm0 = -65.0;  // a quiet line under everything

// Runs the classifier over x in 20 ms chunks; its events.
std::vector<ToneEvent> classify(const std::vector<float>& x, bool with_tones = false) {
  LiveSpeakerClassifier c;
  c.configure(LiveSpeakerSettings{}, with_tones);
  c.reset();
  std::vector<ToneEvent> ev;
  for (std::size_t at = 0; at < x.size(); at += 160)
    c.process(x.data() + at, std::min<std::size_t>(160, x.size() - at), at, ev);
  return ev;
}

std::vector<float> with_line_noise(std::vector<float> x, std::uint32_t seed) {
  const std::vector<float> noise = testsig::white_noise(kLineNoiseDbm0, x.size(), seed);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] += noise[i];
  return x;
}

// [first, last) of the samples whose 10 ms blocks reach -45 dBm0: the
// prompt without its leading and trailing silence.
std::pair<std::size_t, std::size_t> speech_span(const std::vector<float>& x) {
  std::size_t first = x.size(), last = 0;
  for (std::size_t at = 0; at + 80 <= x.size(); at += 80) {
    if (testsig::level_dbm0(x.data() + at, 80) < -45.0) continue;
    first = std::min(first, at);
    last = at + 80;
  }
  return first < last ? std::make_pair(first, last) : std::make_pair(std::size_t(0), std::size_t(0));
}

TEST(LiveSpeaker, SpeechBlocksAreLoudAndOverTheFloor) {
  using prosody::tones::is_speech_block;
  EXPECT_TRUE(is_speech_block(-30.0, -70.0, -42.0));
  EXPECT_FALSE(is_speech_block(-43.0, -70.0, -42.0)) << "under the absolute threshold";
  EXPECT_FALSE(is_speech_block(-30.0, -40.0, -42.0)) << "only 10 dB over the noise floor";
  EXPECT_TRUE(is_speech_block(-28.0, -40.0, -42.0)) << "12 dB over it";
}

// Silence, line noise and steady noise never decide.
TEST(LiveSpeaker, NoDecisionOnSilenceOrSteadyNoise) {
  EXPECT_TRUE(classify(std::vector<float>(20 * 8000, 0.0f)).empty());
  EXPECT_TRUE(classify(testsig::white_noise(kLineNoiseDbm0, 20 * 8000, 7)).empty());
  const auto noise = classify(testsig::white_noise(-35.0, 20 * 8000, 8));
  EXPECT_TRUE(noise.empty()) << "steady noise louder than the speech threshold becomes the floor";
}

// Short bursts of noise stand for speech: 600 ms then silence is live,
// decided 800 ms after its end; 3 s of syllables is a machine, decided once
// 1.5 s of speech is heard.
TEST(LiveSpeaker, RulesOnSyntheticSpeech) {
  std::vector<float> live(8000 * 4, 0.0f);
  const std::vector<float> burst = testsig::white_noise(-20.0, 4800, 3);
  std::copy(burst.begin(), burst.end(), live.begin() + 4000);
  auto ev = classify(with_line_noise(live, 1));
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].type, RecognitionType::catsig);
  EXPECT_EQ(ev[0].code, int(CatSigEvidence::speech));
  EXPECT_EQ(ev[0].code2, int(CatSigCategory::live));
  EXPECT_NEAR(double(ev[0].start_sample), 4000.0, 80.0) << "the onset, to a block";
  EXPECT_NEAR(ev[0].duration_ms, 600.0 + 800.0, 20.0) << "the utterance, then the live silence";
  EXPECT_NEAR(ev[0].level_dbm0, -20.0, 1.0);

  std::vector<float> machine(8000 * 5, 0.0f);
  for (std::size_t at = 4000; at + 2400 <= 4000 + 3 * 8000; at += 2400) {  // 200 ms syllables, 100 ms gaps
    const std::vector<float> syllable = testsig::white_noise(-20.0, 1600, std::uint32_t(at));
    std::copy(syllable.begin(), syllable.end(), machine.begin() + std::ptrdiff_t(at));
  }
  ev = classify(with_line_noise(machine, 2));
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].code2, int(CatSigCategory::machine));
  // 1.5 s of speech in 200 ms syllables every 300 ms: the eighth syllable.
  EXPECT_NEAR(ev[0].duration_ms, 7 * 300 + 110, 20.0);
}

// A click (under 80 ms) starts nothing.
TEST(LiveSpeaker, ClicksAreNotSpeech) {
  std::vector<float> x(8000 * 3, 0.0f);
  const std::vector<float> click = testsig::white_noise(-10.0, 400, 4);  // 50 ms
  std::copy(click.begin(), click.end(), x.begin() + 8000);
  EXPECT_TRUE(classify(with_line_noise(x, 3)).empty());
}

// The tone variant: a beep or a modem answer tone is a machine.
TEST(LiveSpeaker, ToneVariantTakesBeepsAndAnswerTonesForMachines) {
  std::vector<float> beep(8000 * 2, 0.0f);
  testsig::add_sine(beep, 1000.0, -15.0, kRate, 0.0, 4000, 2400);
  auto ev = classify(with_line_noise(beep, 5), true);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].code, int(CatSigEvidence::beep));
  EXPECT_EQ(ev[0].code2, int(CatSigCategory::machine));
  ev = classify(with_line_noise(beep, 5), false);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].code, int(CatSigEvidence::speech)) << "without the tone variant, 300 ms of sound then silence";
  EXPECT_EQ(ev[0].code2, int(CatSigCategory::live));

  const std::vector<float> ans = answertest::answer_tone(answertest::AnswerSignal{}, 3.0, 0.5);
  ev = classify(ans, true);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].code, int(CatSigEvidence::answer_tone));
  EXPECT_EQ(ev[0].code2, int(CatSigCategory::machine));
  EXPECT_LE(ev[0].duration_ms, 600u);
}

struct Tally {
  int trials = 0, correct = 0, undecided = 0;
  std::vector<double> decision_ms;  // from the speech's onset
  double percentile(double p) const {
    if (decision_ms.empty()) return 0.0;
    std::vector<double> v = decision_ms;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, std::size_t(p * (v.size() - 1) + 0.5))];
  }
};

void score(const std::vector<ToneEvent>& ev, CatSigCategory truth, Tally& t) {
  ++t.trials;
  if (ev.empty()) {
    ++t.undecided;
    return;
  }
  if (ev[0].code2 == int(truth)) ++t.correct;
  t.decision_ms.push_back(ev[0].duration_ms);
}

TEST(LiveSpeaker, CorpusAnswersAreCategorised) {
  std::string why;
  const std::vector<std::string> files = testsig::speech_files(&why);
  if (files.empty()) PROSODY_SKIP_WITHOUT_DATA(why);
  std::vector<std::vector<float>> prompts;  // trimmed to their speech
  for (const std::string& path : files) {
    std::vector<float> x;
    if (!testsig::read_corpus_file(path, x)) continue;
    const auto [first, last] = speech_span(x);
    if (last - first >= 4000) prompts.emplace_back(x.begin() + std::ptrdiff_t(first), x.begin() + std::ptrdiff_t(last));
  }
  ASSERT_GE(prompts.size(), 100u);
  const std::size_t trials = 150, step = prompts.size() / trials;
  Tally live, machine;
  for (std::size_t k = 0; k < trials; ++k) {
    const std::size_t i = k * step;
    // Live: "Hello?" - 300-1000 ms of a prompt's speech, faded out over
    // 20 ms, then 3 s of silence.
    const std::size_t hello = std::min(prompts[i].size(), std::size_t(2400 + (k * 373) % 5600));
    std::vector<float> x(4000, 0.0f);
    x.insert(x.end(), prompts[i].begin(), prompts[i].begin() + std::ptrdiff_t(hello));
    for (std::size_t j = 0; j < 160; ++j) x[x.size() - 1 - j] *= float(j) / 160.0f;
    x.resize(x.size() + 3 * 8000, 0.0f);
    score(classify(with_line_noise(x, std::uint32_t(k))), CatSigCategory::live, live);

    // Machine: prompts i, i+1, ... with 200-500 ms gaps, 5-20 s in all.
    const std::size_t length = (5 + k % 16) * 8000;
    std::vector<float> g(4000, 0.0f);
    for (std::size_t j = i; g.size() < length; ++j) {
      const std::vector<float>& p = prompts[j % prompts.size()];
      g.insert(g.end(), p.begin(), p.end());
      g.resize(g.size() + 1600 + (j * 97) % 2400, 0.0f);
    }
    g.resize(g.size() + 2 * 8000, 0.0f);
    score(classify(with_line_noise(g, std::uint32_t(1000 + k))), CatSigCategory::machine, machine);
  }
  for (const auto& [name, t] : {std::make_pair("live", &live), std::make_pair("machine", &machine)})
    std::printf(
        "[catsig %s] %d trials: %d correct, %d wrong, %d undecided; decision ms from onset: median %.0f, "
        "90%% %.0f, max %.0f\n",
        name, t->trials, t->correct, t->trials - t->correct - t->undecided, t->undecided, t->percentile(0.5),
        t->percentile(0.9), t->percentile(1.0));
  EXPECT_EQ(live.undecided + machine.undecided, 0) << "speech always decides";
  EXPECT_GE(live.correct, live.trials * 95 / 100);
  EXPECT_GE(machine.correct, machine.trials * 90 / 100);
  EXPECT_LE(live.percentile(1.0), 1000.0 + 800.0 + 20.0) << "the longest hello, then the live silence";
  EXPECT_LE(machine.percentile(0.9), 3000.0);
}

}  // namespace
