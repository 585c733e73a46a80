// Modem answer tones (ANS, /ANS, ANSam, /ANSam) and answering-machine beeps:
// the detectors of prosody/src/tones/answer against signals generated from
// their definitions.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include "tones/answer/answer_tones.hpp"
#include "answer_stimulus.hpp"
#include "dtmf_stimulus.hpp"
#include "signal.hpp"

using namespace answertest;
using prosody::RecognitionType;
using prosody::ToneEvent;
using prosody::tones::AnswerTone;
using prosody::tones::AnswerToneDetector;
using prosody::tones::BeepDetector;

namespace {

constexpr std::size_t kChunk = 80;  // fed as 10 ms frames

struct Timed {
  ToneEvent event;
  std::size_t reported_at = 0;  // the sample after the chunk that produced it
};

template <typename Detector>
std::vector<Timed> run(Detector& d, const std::vector<float>& x) {
  std::vector<Timed> out;
  std::vector<ToneEvent> ev;
  for (std::size_t at = 0; at < x.size(); at += kChunk) {
    const std::size_t n = std::min(kChunk, x.size() - at);
    ev.clear();
    d.process(x.data() + at, n, at, ev);
    for (const ToneEvent& e : ev) out.push_back({e, at + n});
  }
  return out;
}

std::vector<Timed> detect_answer(const std::vector<float>& x) {
  AnswerToneDetector d;
  return run(d, x);
}

std::vector<Timed> detect_beeps(const std::vector<float>& x) {
  BeepDetector d;
  std::vector<Timed> out = run(d, x);
  std::vector<ToneEvent> ev;
  d.finish(ev);
  for (const ToneEvent& e : ev) out.push_back({e, x.size()});
  return out;
}

AnswerSignal kind_signal(AnswerTone kind) {
  AnswerSignal s;
  s.reversals = kind == AnswerTone::ans_reversals || kind == AnswerTone::ansam_reversals;
  s.am_depth = (kind == AnswerTone::ansam || kind == AnswerTone::ansam_reversals) ? 0.2 : 0.0;
  return s;
}

constexpr AnswerTone kKinds[] = {AnswerTone::ans, AnswerTone::ans_reversals, AnswerTone::ansam,
                                 AnswerTone::ansam_reversals};
// Seconds of silence before each tone: not a whole number of the detector's
// 5 ms blocks, so the onset falls inside one.
constexpr double kLeadIn = 0.2 + 13.0 / 8000.0;

}  // namespace

// --- kernels ---------------------------------------------------------------

TEST(AnswerKernels, DemodulateMeasuresAmplitudeAndPhaseAcrossBlocks) {
  const std::vector<float> x = testsig::sine(2100.0, -10.0, 800, 8000.0, 0.7);
  const double amp = testsig::sine_peak(-10.0);
  // Two blocks far apart see the same phase (referenced to sample 0).
  const auto a = prosody::tones::demodulate(x.data() + 40, 40, 2100.0, 40);
  const auto b = prosody::tones::demodulate(x.data() + 600, 40, 2100.0, 600);
  EXPECT_NEAR(2.0 * std::abs(a) / 40.0, amp, 1e-3 * amp);
  EXPECT_NEAR(std::remainder(std::arg(a) - std::arg(b), 2.0 * testsig::kPi), 0.0, 1e-3);
}

TEST(AnswerKernels, ModulationDepthOfAKnownEnvelope) {
  std::vector<float> env(80);
  for (std::size_t i = 0; i < env.size(); ++i)
    env[i] = static_cast<float>(2.0 * (1.0 + 0.2 * std::cos(2.0 * testsig::kPi * 15.0 * double(i) / 200.0 + 1.0)));
  EXPECT_NEAR(prosody::tones::modulation_depth(env.data(), env.size(), 200.0, 15.0), 0.2, 1e-3);
  EXPECT_LT(prosody::tones::modulation_depth(env.data(), env.size(), 200.0, 10.0), 0.01);
  const std::vector<float> flat(80, 1.0f);
  EXPECT_EQ(prosody::tones::modulation_depth(flat.data(), flat.size(), 200.0, 15.0), 0.0);
}

TEST(AnswerKernels, StrongestToneFrequencyLevelAndPurity) {
  for (double f : {400.0, 777.0, 1000.0, 1523.0, 2500.0}) {
    const std::vector<float> x = testsig::sine(f, -20.0, 256, 8000.0, 0.2);
    const auto p = prosody::tones::strongest_tone(x.data());
    EXPECT_NEAR(p.freq_hz, f, 2.0) << f;
    EXPECT_NEAR(p.level_dbm0, -20.0, 0.5) << f;
    EXPECT_GT(p.purity, 0.99) << f;
  }
  const std::vector<float> noise = testsig::white_noise(-20.0, 256, 3);
  EXPECT_LT(prosody::tones::strongest_tone(noise.data()).purity, 0.3);
}

// --- ANS, /ANS, ANSam, /ANSam -----------------------------------------------

enum class Path { clean, noise, alaw, ulaw };
const char* path_name(Path p) {
  return p == Path::clean ? "clean" : p == Path::noise ? "noise" : p == Path::alaw ? "A-law" : "mu-law";
}

// Each of the four is reported once, as itself, with its onset, at -10..-40
// dBm0, clean, in white noise 20 dB down, and through A-law and mu-law.
TEST(AnswerTones, FourKindsToldApartAtEveryLevelAndPath) {
  double worst_latency_ms = 0.0, worst_onset_ms = 0.0;
  for (AnswerTone kind : kKinds) {
    for (double level : {-10.0, -20.0, -30.0, -40.0}) {
      for (Path path : {Path::clean, Path::noise, Path::alaw, Path::ulaw}) {
        AnswerSignal s = kind_signal(kind);
        s.level_dbm0 = level;
        std::vector<float> x = answer_tone(s, 2.0, kLeadIn);
        if (path == Path::noise) {
          const std::vector<float> noise = testsig::white_noise(level - 20.0, x.size(), 11);
          for (std::size_t i = 0; i < x.size(); ++i) x[i] += noise[i];
        } else if (path == Path::alaw || path == Path::ulaw) {
          dtmftest::g711_round_trip(x, path == Path::alaw ? dtmftest::Codec::alaw : dtmftest::Codec::ulaw);
        }
        const auto found = detect_answer(x);
        const std::string what = std::string(prosody::tones::answer_tone_name(kind)) + " at " +
                                 std::to_string(int(level)) + " dBm0, " + path_name(path);
        ASSERT_EQ(found.size(), 1u) << what;
        const ToneEvent& e = found[0].event;
        EXPECT_EQ(e.type, RecognitionType::ans) << what;
        EXPECT_EQ(e.code, static_cast<int>(kind)) << what;
        const double onset_ms = (double(e.start_sample) - kLeadIn * kRate) / 8.0;
        EXPECT_LE(std::abs(onset_ms), 5.0) << what;
        EXPECT_NEAR(e.level_dbm0, level, 1.0) << what;
        const double latency_ms = (double(found[0].reported_at) - kLeadIn * kRate) / 8.0;
        worst_latency_ms = std::max(worst_latency_ms, latency_ms);
        worst_onset_ms = std::max(worst_onset_ms, std::abs(onset_ms));
      }
    }
  }
  std::printf("[answer tones] report at most %.0f ms after onset; onset error at most %.1f ms\n", worst_latency_ms,
              worst_onset_ms);
  EXPECT_LE(worst_latency_ms, 540.0);
}

// The tolerances the standards give: reversals 450 +-25 ms, AM 15 +-0.1 Hz
// at 15-25 %, carrier 2100 +-15 Hz.
TEST(AnswerTones, AcceptedAcrossTheStandardsTolerances) {
  for (AnswerTone kind : kKinds) {
    for (double offset : {-15.0, 0.0, 15.0}) {
      for (double reversal_ms : {425.0, 475.0}) {
        for (double depth : {0.15, 0.25}) {
          for (double am_hz : {14.9, 15.1}) {
            AnswerSignal s = kind_signal(kind);
            s.freq_hz = 2100.0 + offset;
            s.reversal_ms = reversal_ms;
            if (s.am_depth > 0.0) s.am_depth = depth;
            s.am_hz = am_hz;
            const auto found = detect_answer(answer_tone(s, 2.0, kLeadIn));
            ASSERT_EQ(found.size(), 1u) << prosody::tones::answer_tone_name(kind) << " " << offset;
            EXPECT_EQ(found[0].event.code, static_cast<int>(kind))
                << prosody::tones::answer_tone_name(kind) << " offset " << offset << " Hz, reversals every "
                << reversal_ms << " ms, AM " << depth << " at " << am_hz << " Hz";
          }
        }
      }
    }
  }
}

TEST(AnswerTones, OffFrequencyNotReported) {
  for (AnswerTone kind : kKinds) {
    for (double f : {2060.0, 2140.0}) {
      for (double level : {-10.0, -25.0, -40.0}) {
        AnswerSignal s = kind_signal(kind);
        s.freq_hz = f;
        s.level_dbm0 = level;
        EXPECT_TRUE(detect_answer(answer_tone(s, 3.0, kLeadIn)).empty())
            << prosody::tones::answer_tone_name(kind) << " at " << f << " Hz, " << level << " dBm0";
      }
    }
  }
}

TEST(AnswerTones, BelowTheLevelFloorNotReported) {
  AnswerSignal s;
  s.level_dbm0 = -46.0;
  EXPECT_TRUE(detect_answer(answer_tone(s, 2.0, kLeadIn)).empty());
  s.level_dbm0 = -42.0;
  EXPECT_EQ(detect_answer(answer_tone(s, 2.0, kLeadIn)).size(), 1u);
}

// A fax machine's CED (T.30: 2100 Hz for 2.6-4 s, no reversals, no AM) is
// an ANS: reported once, however long it lasts.
TEST(AnswerTones, FaxCedIsAns) {
  AnswerSignal s;
  s.level_dbm0 = -11.0;  // the level Prosody's own CED generator uses
  const auto found = detect_answer(answer_tone(s, 3.3, kLeadIn));
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].event.code, static_cast<int>(AnswerTone::ans));
}

// Too short for an answer tone (a 400 ms burst), and two tones in a row.
TEST(AnswerTones, ShortBurstIgnoredAndSeparateTonesEachReported) {
  AnswerSignal s;
  EXPECT_TRUE(detect_answer(answer_tone(s, 0.4, kLeadIn)).empty());
  std::vector<float> x = answer_tone(s, 1.0, kLeadIn);
  const std::vector<float> second = answer_tone(kind_signal(AnswerTone::ansam), 1.0, 0.3);
  x.insert(x.end(), second.begin(), second.end());
  const auto found = detect_answer(x);
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].event.code, static_cast<int>(AnswerTone::ans));
  EXPECT_EQ(found[1].event.code, static_cast<int>(AnswerTone::ansam));
}

// Reversals too close together (every 200 ms) are no V.25 /ANS.
TEST(AnswerTones, ReversalsTooCloseRejected) {
  AnswerSignal s = kind_signal(AnswerTone::ans_reversals);
  s.reversal_ms = 200.0;
  EXPECT_TRUE(detect_answer(answer_tone(s, 2.0, kLeadIn)).empty());
}

// --- beeps -----------------------------------------------------------------

// Beeps at several frequencies, lengths and levels: each found once, with
// its frequency, and its edges to within 2 ms (16 samples; a 10 ms frame is
// the need; the measured worst is printed).
TEST(Beeps, FoundWithFrequencyAndEdges) {
  double worst_onset = 0.0, worst_end = 0.0, worst_hz = 0.0, worst_report = 0.0;
  for (double f : {400.0, 850.0, 1000.0, 1400.0, 2000.0, 2500.0}) {
    for (double ms : {100.0, 500.0, 2000.0}) {
      for (double level : {-10.0, -25.0, -35.0}) {
        const std::size_t lead = 2000, n = std::size_t(ms * 8.0);
        std::vector<float> x(lead + n + 4000, 0.0f);
        testsig::add_sine(x, f, level, 8000.0, 0.4, lead, n);
        const std::vector<float> noise = testsig::white_noise(level - 30.0, x.size(), 5);
        for (std::size_t i = 0; i < x.size(); ++i) x[i] += noise[i];
        const auto found = detect_beeps(x);
        const std::string what =
            std::to_string(int(f)) + " Hz, " + std::to_string(int(ms)) + " ms, " + std::to_string(int(level)) + " dBm0";
        ASSERT_EQ(found.size(), 1u) << what;
        const ToneEvent& e = found[0].event;
        EXPECT_EQ(e.type, RecognitionType::beep) << what;
        EXPECT_TRUE(e.is_end) << what;
        EXPECT_NEAR(e.code, f, std::max(2.0, 0.005 * f)) << what;
        const double onset_err = std::abs(double(e.start_sample) - double(lead));
        const double end_err = std::abs(double(e.end_sample) - double(lead + n));
        EXPECT_LE(onset_err, 16.0) << what;
        EXPECT_LE(end_err, 16.0) << what;
        EXPECT_NEAR(double(e.duration_ms), ms, 10.0) << what;
        EXPECT_NEAR(e.level_dbm0, level, 1.5) << what;
        // Reported within 100 ms of its end (the application starts recording;
        // the quiet after a beep is part of it).
        EXPECT_LE(double(found[0].reported_at) - double(lead + n), 800.0) << what;
        worst_report = std::max(worst_report, double(found[0].reported_at) - double(lead + n));
        worst_onset = std::max(worst_onset, onset_err);
        worst_end = std::max(worst_end, end_err);
        worst_hz = std::max(worst_hz, std::abs(e.code - f));
      }
    }
  }
  std::printf(
      "[beeps] edges within %.0f (onset) and %.0f (end) samples; frequency within %.0f Hz; reported at most "
      "%.0f ms after the end\n",
      worst_onset, worst_end, worst_hz, worst_report / 8.0);
}

// After a "greeting" (noise with a syllabic envelope right up to the beep).
TEST(Beeps, FoundRightAfterAGreeting) {
  std::vector<float> x = testsig::white_noise(-18.0, 16000, 9);
  for (std::size_t i = 0; i < x.size(); ++i)
    x[i] *= static_cast<float>(0.6 + 0.4 * std::sin(2.0 * testsig::kPi * 4.0 * double(i) / 8000.0));
  const std::size_t onset = x.size();
  x.resize(onset + 3200 + 4000, 0.0f);
  testsig::add_sine(x, 1000.0, -15.0, 8000.0, 0.0, onset, 3200);
  const auto found = detect_beeps(x);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_NEAR(double(found[0].event.start_sample), double(onset), 80.0);
  EXPECT_NEAR(double(found[0].event.end_sample), double(onset + 3200), 80.0);
}

TEST(Beeps, TooShortGlidingOrNoiseNotReported) {
  {  // 60 ms
    std::vector<float> x(8000, 0.0f);
    testsig::add_sine(x, 1000.0, -15.0, 8000.0, 0.0, 2000, 480);
    EXPECT_TRUE(detect_beeps(x).empty());
  }
  {  // a glide 800 -> 1200 Hz over 300 ms
    std::vector<float> x(8000, 0.0f);
    const double peak = testsig::sine_peak(-15.0);
    double phase = 0.0;
    for (std::size_t i = 0; i < 2400; ++i) {
      phase += 2.0 * testsig::kPi * (800.0 + 400.0 * double(i) / 2400.0) / 8000.0;
      x[2000 + i] = static_cast<float>(peak * std::sin(phase));
    }
    EXPECT_TRUE(detect_beeps(x).empty());
  }
  {  // a dual tone (DTMF-like) is not one steady tone
    std::vector<float> x(8000, 0.0f);
    testsig::add_sine(x, 770.0, -15.0, 8000.0, 0.0, 2000, 2400);
    testsig::add_sine(x, 1336.0, -15.0, 8000.0, 0.0, 2000, 2400);
    EXPECT_TRUE(detect_beeps(x).empty());
  }
  EXPECT_TRUE(detect_beeps(testsig::white_noise(-15.0, 16000, 4)).empty());
}
