// DSP kernels against external anchors: G.711's digital milliwatt and ideal
// SQNR, limiter transparency and overload distortion, AGC convergence and
// rate limits, the activity tracker's law.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "dsp/activity.hpp"
#include "dsp/agc.hpp"
#include "dsp/g711.hpp"
#include "dsp/kernels.hpp"
#include "dsp/levels.hpp"
#include "dsp/limiter.hpp"
#include "signal.hpp"

// spandsp's G.711 (Debian libspandsp-dev) is an independent oracle here: a
// test-time dependency only.
#include <spandsp/telephony.h>
#include <spandsp/bit_operations.h>
#include <spandsp/g711.h>

namespace prosody::dsp {
namespace {

// ---------------------------------------------------------------------------
// G.711

// The digital milliwatt (G.711 Tables 5 and 6) is 0 dBm0 by definition.
double milliwatt_level(const std::vector<std::uint8_t>& codes, bool alaw) {
  std::vector<float> x;
  for (int rep = 0; rep < 1000; ++rep)
    for (auto c : codes) x.push_back(float(alaw ? alaw_to_linear(c) : ulaw_to_linear(c)) / 32768.0f);
  return testsig::level_dbm0(x);
}

TEST(G711, DigitalMilliwattIsZeroDbm0) {
  EXPECT_NEAR(milliwatt_level({0x34, 0x21, 0x21, 0x34, 0xB4, 0xA1, 0xA1, 0xB4}, true), 0.0, 0.03);
  // mu-law's milliwatt is 0 dBm0 on mu-law's own scale (full-scale sine
  // +3.17 dBm0 at 32636): on the A-law scale the tests use that is
  // 20 log10(32636/32768) - 3.17 + 3.14 = -0.065 dBm0.
  EXPECT_NEAR(milliwatt_level({0x1E, 0x0B, 0x0B, 0x1E, 0x9E, 0x8B, 0x8B, 0x9E}, false), -0.065, 0.03);
}

TEST(G711, BitExactAgainstSpandsp) {
  for (int v = -32768; v <= 32767; ++v) {
    const auto s = static_cast<std::int16_t>(v);
    ASSERT_EQ(linear_to_alaw(s), ::linear_to_alaw(v)) << v;
    ASSERT_EQ(linear_to_ulaw(s), ::linear_to_ulaw(v)) << v;
  }
  for (int c = 0; c < 256; ++c) {
    ASSERT_EQ(alaw_to_linear(static_cast<std::uint8_t>(c)), ::alaw_to_linear(static_cast<std::uint8_t>(c))) << c;
    ASSERT_EQ(ulaw_to_linear(static_cast<std::uint8_t>(c)), ::ulaw_to_linear(static_cast<std::uint8_t>(c))) << c;
  }
}

TEST(G711, EveryCodeRoundTripsAndSecondRoundTripIsIdempotent) {
  for (int c = 0; c < 256; ++c) {
    const auto a = static_cast<std::uint8_t>(c);
    // A-law and mu-law each have one pair of codes for zero (+0 and -0).
    EXPECT_EQ(alaw_to_linear(linear_to_alaw(alaw_to_linear(a))), alaw_to_linear(a));
    EXPECT_EQ(ulaw_to_linear(linear_to_ulaw(ulaw_to_linear(a))), ulaw_to_linear(a));
  }
  for (int v = -32768; v <= 32767; ++v) {
    const auto s = static_cast<std::int16_t>(v);
    const std::int16_t a1 = alaw_to_linear(linear_to_alaw(s));
    EXPECT_EQ(alaw_to_linear(linear_to_alaw(a1)), a1);
    const std::int16_t u1 = ulaw_to_linear(linear_to_ulaw(s));
    EXPECT_EQ(ulaw_to_linear(linear_to_ulaw(u1)), u1);
  }
}

// Each code's decision interval is centred on its reconstruction level, so
// the error is at most half the local step (the larger gap to a neighbouring
// level, at segment boundaries where the step doubles).
TEST(G711, ErrorWithinHalfTheLocalStep) {
  auto half_step = [](std::int16_t (*decode)(std::uint8_t), int level) {
    std::vector<int> levels;
    for (int c = 0; c < 256; ++c) levels.push_back(decode(static_cast<std::uint8_t>(c)));
    std::sort(levels.begin(), levels.end());
    levels.erase(std::unique(levels.begin(), levels.end()), levels.end());
    const auto it = std::lower_bound(levels.begin(), levels.end(), level);
    int gap = 0;
    if (it != levels.begin()) gap = std::max(gap, level - *(it - 1));
    if (it + 1 != levels.end()) gap = std::max(gap, *(it + 1) - level);
    return gap / 2 + 1;
  };
  for (int v = -32768; v <= 32767; v += 5) {
    const auto s = static_cast<std::int16_t>(v);
    const int a = alaw_to_linear(linear_to_alaw(s));
    const int u = ulaw_to_linear(linear_to_ulaw(s));
    EXPECT_LE(std::abs(a - v), half_step(alaw_to_linear, a)) << v;
    // mu-law clips beyond its largest level, 32124.
    if (std::abs(v) <= 32124) {
      EXPECT_LE(std::abs(u - v), half_step(ulaw_to_linear, u)) << v;
    }
  }
}

double sqnr(double level, bool alaw) {
  std::vector<float> x = testsig::sine(1020.0, level, 80000, 8000.0, 0.1);
  std::vector<float> y(x.size());
  std::vector<std::uint8_t> codes(x.size());
  if (alaw) {
    encode_alaw(x.data(), codes.data(), x.size());
    decode_alaw(codes.data(), y.data(), y.size());
  } else {
    encode_ulaw(x.data(), codes.data(), x.size());
    decode_ulaw(codes.data(), y.data(), y.size());
  }
  return testsig::snr_db(x.data(), y.data(), x.size());
}

TEST(G711, SqnrMatchesIdealQuantiser) {
  // Ideal-quantiser SQNR at 1020 Hz (project DSP reference, section 7.3).
  // A-law within +/-0.3 dB from +3 to -50 dBm0. The reference's mu-law
  // column differs from any bit-exact G.711 mu-law (this one matches
  // spandsp code for code) by up to 0.7 dB, so mu-law is held to 0.8 dB.
  struct Row {
    double level, ulaw, alaw;
  };
  const Row rows[] = {{3, 39.2, 39.4},   {0, 36.9, 37.1},   {-10, 38.7, 38.2}, {-20, 37.0, 37.3},
                      {-30, 36.6, 37.4}, {-40, 32.4, 30.7}, {-45, 29.9, 25.3}, {-50, 27.1, 21.4}};
  for (const auto& r : rows) {
    EXPECT_NEAR(sqnr(r.level, true), r.alaw, 0.3) << "A-law at " << r.level << " dBm0";
    EXPECT_NEAR(sqnr(r.level, false), r.ulaw, 0.8) << "mu-law at " << r.level << " dBm0";
  }
}

// ---------------------------------------------------------------------------
// Kernels

TEST(Kernels, GainRampIsLinearAndEndsOnTarget) {
  std::vector<float> x(80, 1.0f);
  apply_gain_ramp(x.data(), x.size(), 0.0f, 1.0f);
  EXPECT_FLOAT_EQ(x.back(), 1.0f);
  for (std::size_t i = 1; i < x.size(); ++i) EXPECT_NEAR(x[i] - x[i - 1], 1.0f / 80.0f, 1e-6f);
}

TEST(Kernels, SanitiseRemovesNonFiniteAndAbsurdValues) {
  std::vector<float> x = {0.5f, NAN, INFINITY, -INFINITY, 100.0f, -1e30f, 7.9f, -0.25f};
  EXPECT_EQ(sanitise(x.data(), x.size(), 8.0f), 5u);
  EXPECT_EQ(x, (std::vector<float>{0.5f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 7.9f, -0.25f}));
}

// The mixing kernels run a hand-vectorised version where the CPU has AVX2
// and portable loops elsewhere; both must give every sample exactly as the
// one formula does, written out here sample by sample.
std::vector<float> random_samples(std::size_t n, std::uint32_t seed, float scale) {
  std::vector<float> x(n);
  for (auto& v : x) {
    seed = seed * 1664525u + 1013904223u;
    v = scale * (static_cast<float>(seed >> 8) / 16777216.0f - 0.5f);
  }
  return x;
}

float ramp_gain(float g0, float g1, std::size_t n, std::size_t i) {
  const float step = (g1 - g0) / static_cast<float>(n);
  return g0 + step * static_cast<float>(static_cast<int>(i) + 1);
}

TEST(Kernels, ContributionRecomputedFromItsInputCancelsExactly) {
  for (std::size_t n : {40u, 80u, 160u, 480u, 83u}) {
    const std::size_t sub = 32;
    const std::vector<float> x = random_samples(n, 1u + std::uint32_t(n), 1.7f);
    const std::vector<float> others = random_samples(n, 99u, 3.0f);
    const float g0 = 0.37f, g1 = 1.91f;
    std::vector<double> bus(n);
    for (std::size_t i = 0; i < n; ++i) bus[i] = others[i];
    accumulate_gain_ramp(bus.data(), x.data(), n, g0, g1);
    std::vector<float> out(n), peaks(n / sub + 2), stored(n), expected_peaks(n / sub + 2, 0.0f);
    const double ss = subtract_gain_ramp_narrow(bus.data(), x.data(), g0, g1, out.data(), n, sub, peaks.data());
    copy_gain_ramp(x.data(), stored.data(), n, g0, g1);
    double expected_ss = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      const float c = x[i] * ramp_gain(g0, g1, n, i);
      ASSERT_EQ(stored[i], c) << "copy_gain_ramp, sample " << i;
      // The listener's own contribution is taken away exactly: what is left
      // is the others, to the last bit.
      ASSERT_EQ(out[i], others[i]) << "n " << n << " sample " << i;
      expected_ss += double(out[i]) * out[i];
      expected_peaks[i / sub] = std::max(expected_peaks[i / sub], std::fabs(out[i]));
    }
    EXPECT_NEAR(ss, expected_ss, 1e-4 * expected_ss);
    for (std::size_t b = 0; b * sub < n; ++b) EXPECT_EQ(peaks[b], expected_peaks[b]);
    // And with unit gain the plain subtraction gives the same.
    std::vector<double> bus1(n);
    for (std::size_t i = 0; i < n; ++i) bus1[i] = double(others[i]) + double(x[i]);
    subtract_narrow(bus1.data(), x.data(), out.data(), n, sub, peaks.data());
    for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(out[i], others[i]);
  }
}

TEST(Kernels, CopyStatsIsACopyWithTheStatisticsOfBlockStats) {
  for (std::size_t n : {80u, 83u}) {
    std::vector<float> x = random_samples(n, 5u, 2.0f), y(n);
    const BlockStats a = copy_stats(x.data(), y.data(), n);
    const BlockStats b = block_stats(x.data(), n);
    EXPECT_EQ(y, x);
    EXPECT_EQ(a.sum_squares, b.sum_squares);
    EXPECT_EQ(a.peak, b.peak);
    x[n - 3] = NAN;
    EXPECT_FALSE(std::isfinite(copy_stats(x.data(), y.data(), n).sum_squares));
  }
}

TEST(Kernels, SubblockGainsAreTheProductOfTheTwoRamps) {
  for (std::size_t n : {80u, 480u, 40u}) {
    const std::size_t sub = n == 480 ? 192 : 32;
    const std::size_t nb = (n + sub - 1) / sub;
    std::vector<float> gains(nb + 1);
    for (std::size_t b = 0; b <= nb; ++b) gains[b] = 0.5f + 0.1f * float(b);
    const std::vector<float> x = random_samples(n, 7u, 1.0f);
    std::vector<float> y = x;
    const float g0 = 0.8f, vstep = 0.003f;
    apply_subblock_gains(y.data(), n, sub, gains.data(), g0, vstep);
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t b = i / sub, at = b * sub, count = std::min(sub, n - at);
      const float f = static_cast<float>(static_cast<int>(i - at) + 1);
      const float v0 = g0 + vstep * static_cast<float>(static_cast<int>(at));
      const float l0 = gains[b], lstep = (gains[b + 1] - l0) / static_cast<float>(count);
      ASSERT_EQ(y[i], x[i] * ((v0 + vstep * f) * (l0 + lstep * f))) << "n " << n << " sample " << i;
    }
  }
}

TEST(Kernels, BlockStatsFlagsNaN) {
  std::vector<float> x(80, 0.5f);
  EXPECT_NEAR(block_stats(x.data(), x.size()).sum_squares, 20.0, 1e-4);
  EXPECT_FLOAT_EQ(block_stats(x.data(), x.size()).peak, 0.5f);
  x[17] = NAN;
  EXPECT_FALSE(std::isfinite(block_stats(x.data(), x.size()).sum_squares));
}

// ---------------------------------------------------------------------------
// Limiter

struct LimiterRun {
  std::vector<float> out;
  float lowest = 1.0f;
};

LimiterRun run_limiter(std::vector<float> x, unsigned rate, std::size_t frame) {
  const LimiterCoefficients c = limiter_coefficients({}, rate);
  LimiterState st;
  std::vector<float> peaks(frame / c.subblock + 2), scratch(frame + 2);
  LimiterRun r;
  for (std::size_t at = 0; at + frame <= x.size(); at += frame) {
    subblock_stats(x.data() + at, frame, c.subblock, peaks.data());
    r.lowest =
        std::min(r.lowest, limit_with_gain(x.data() + at, frame, peaks.data(), 1.0f, 1.0f, st, c, scratch.data()));
  }
  r.out = std::move(x);
  return r;
}

TEST(Limiter, TransparentBelowFullScale) {
  const std::vector<float> x = testsig::sine(1000.0, testsig::kFullScaleSineDbm0 - 0.05, 8000, 8000.0);
  const LimiterRun r = run_limiter(x, 8000, 80);
  EXPECT_EQ(r.lowest, 1.0f);
  EXPECT_EQ(r.out, x) << "bit-exact below the threshold";
}

TEST(Limiter, SixDbOverloadNeverClipsAndStaysClean) {
  for (double freq : {200.0, 1000.0, 3000.0}) {
    const std::vector<float> x = testsig::sine(freq, testsig::kFullScaleSineDbm0 + 6.0, 16000, 8000.0);
    const LimiterRun r = run_limiter(x, 8000, 80);
    EXPECT_LE(testsig::peak(r.out.data(), r.out.size()), 32767.0 / 32768.0) << freq;
    // THD+N after the attack has settled (skip the first 100 ms).
    const double thdn = testsig::snr_db(x.data() + 800, r.out.data() + 800, x.size() - 800);
    EXPECT_GE(thdn, 30.0) << freq << " Hz";
    // And the level lands just under full scale.
    EXPECT_NEAR(testsig::level_dbm0(r.out.data() + 8000, 8000), testsig::kFullScaleSineDbm0, 0.6);
  }
}

TEST(Limiter, MinusTenDbfsPassesWithHighThdn) {
  const std::vector<float> x = testsig::sine(1000.0, testsig::kFullScaleSineDbm0 - 10.0, 8000, 8000.0);
  const LimiterRun r = run_limiter(x, 8000, 80);
  EXPECT_GE(testsig::snr_db(x.data(), r.out.data(), x.size()), 70.0);
}

TEST(Limiter, AppliesTheOutputRampAndLimitsItsResult) {
  // A -6 dBFS tone ramped from 0 dB to +12 dB in one frame: the ramp is
  // applied, and what would exceed full scale is limited in the same pass.
  const LimiterCoefficients c = limiter_coefficients({}, 8000);
  std::vector<float> x = testsig::sine(1000.0, testsig::kFullScaleSineDbm0 - 6.0, 80, 8000.0);
  const std::vector<float> orig = x;
  std::vector<float> peaks(8), scratch(16);
  subblock_stats(x.data(), 80, c.subblock, peaks.data());
  LimiterState st;
  EXPECT_LT(limit_with_gain(x.data(), 80, peaks.data(), 1.0f, 4.0f, st, c, scratch.data()), 1.0f);
  EXPECT_LE(testsig::peak(x.data(), 80), 32767.0 / 32768.0 + 1e-6);
  // Early in the frame the samples are the ramped input, the limiter's look-
  // ahead only beginning to bite (within 1.5 dB).
  const float ramped2 = orig[2] * (1.0f + 3.0f * 3.0f / 80.0f);
  EXPECT_LE(x[2] / ramped2, 1.0f + 1e-6f);
  EXPECT_GE(x[2] / ramped2, 0.84f);
  // Without overload it is exactly the ramp.
  std::vector<float> y = testsig::sine(1000.0, -30.0, 80, 8000.0), ramped = y;
  apply_gain_ramp(ramped.data(), 80, 1.0f, 2.0f);
  subblock_stats(y.data(), 80, c.subblock, peaks.data());
  LimiterState fresh;
  EXPECT_EQ(limit_with_gain(y.data(), 80, peaks.data(), 1.0f, 2.0f, fresh, c, scratch.data()), 1.0f);
  EXPECT_EQ(y, ramped);
}

TEST(Limiter, RecoversAtTheReleaseRate) {
  std::vector<float> x = testsig::sine(1000.0, testsig::kFullScaleSineDbm0 + 12.0, 800, 8000.0);
  const std::vector<float> quiet = testsig::sine(1000.0, -20.0, 8000, 8000.0);
  x.insert(x.end(), quiet.begin(), quiet.end());
  const LimiterRun r = run_limiter(x, 8000, 80);
  // 500 ms after the overload, at 40 dB/s, gain is back to within 0.1 dB.
  const double expected = testsig::level_dbm0(quiet.data() + 4000, 4000);
  EXPECT_NEAR(testsig::level_dbm0(r.out.data() + 800 + 4000, 4000), expected, 0.1);
  // 50 ms after, still about 12 - 2 = 10 dB down.
  EXPECT_NEAR(testsig::level_dbm0(r.out.data() + 800 + 400, 80) - expected, -10.0, 1.5);
}

// ---------------------------------------------------------------------------
// Activity tracker (Prosody's Lmin/Lmax law)

TEST(Activity, SpeechBurstsAreActiveAndPausesAreNot) {
  ActivityParams p;
  const ActivityCoefficients c = activity_coefficients(p);
  ActivityState st;
  int active_in_burst = 0, active_in_pause = 0, frames_in_pause = 0;
  // Bursts of 300 ms at -20 dBm0, pauses of 700 ms of noise at -60 dBm0.
  for (int f = 0; f < 500; ++f) {
    const bool burst = (f % 100) < 30;
    const double ms = testsig::dbm0_to_ms(burst ? -20.0 : -60.0);
    const bool active = track_activity(st, c, frame_energy(ms));
    if (burst) active_in_burst += active;
    // Allow the 200 ms hangover after each burst.
    if (!burst && (f % 100) >= 55) {
      ++frames_in_pause;
      active_in_pause += active;
    }
  }
  EXPECT_EQ(active_in_burst, 150);
  EXPECT_EQ(active_in_pause, 0);
  EXPECT_GT(frames_in_pause, 200);
}

TEST(Activity, HangoverHoldsTwoHundredMilliseconds) {
  const ActivityCoefficients c = activity_coefficients({});
  ActivityState st;
  for (int f = 0; f < 50; ++f) track_activity(st, c, frame_energy(testsig::dbm0_to_ms(-15.0)));
  int held = 0;
  while (track_activity(st, c, frame_energy(testsig::dbm0_to_ms(-70.0)))) ++held;
  EXPECT_EQ(held, 20);
}

TEST(Activity, ThresholdFollowsSpeechThresh) {
  // Lmin at the floor (-55 dBm0), Lmax at -10 dBm0: threshold =
  // Lmin + (Lmax - Lmin) * thresh. With thresh 0.01 that is about -29.9 dBm0.
  ActivityParams p;
  p.hangover_s = 0.0;
  const ActivityCoefficients c = activity_coefficients(p);
  auto verdict = [&](double probe_db) {
    ActivityState st;
    track_activity(st, c, frame_energy(testsig::dbm0_to_ms(-10.0)));
    return track_activity(st, c, frame_energy(testsig::dbm0_to_ms(probe_db)));
  };
  EXPECT_TRUE(verdict(-29.0));
  EXPECT_FALSE(verdict(-31.0));
  EXPECT_FALSE(verdict(-56.0)) << "never active below min_noise_level";
}

TEST(Activity, SteadyNoiseAloneIsNotSpeech) {
  // With noise only, Lmax is held 25 dB above Lmin, so the threshold stays
  // above the noise's own flicker once Lmin has climbed from the floor
  // (-55 dBm0) to the noise, at 2 dB/s. Line noise is quieter than the
  // ceiling of the learnt floor (-40 dBm0).
  const ActivityCoefficients c = activity_coefficients({});
  for (double level : {-50.0, -45.0, -41.0}) {
    ActivityState st;
    const std::vector<float> noise = testsig::white_noise(level, 8000 * 20, 3);
    const int learnt = static_cast<int>(((level + 55.0) / 2.0 + 0.5) * 100.0);  // frames
    int active_after = 0, frames = 0, active_before = 0;
    for (std::size_t at = 0; at + 80 <= noise.size(); at += 80, ++frames) {
      const bool a = track_activity(st, c, frame_energy(testsig::mean_square(noise.data() + at, 80)));
      (frames > learnt ? active_after : active_before) += a;
    }
    EXPECT_EQ(active_after, 0) << level << " dBm0 noise";
    // Before, a louder noise than the floor reads as speech: the documented
    // cost of learning the floor slowly (a long vowel is not noise).
    if (level > -46.0) {
      EXPECT_GT(active_before, 0);
    }
  }
}

TEST(Activity, SteadySignalAboveTheNoiseCeilingIsNeverGated) {
  // The learnt floor stops at -40 dBm0: a steady signal at -30 dBm0 (music
  // on hold, a test tone, a modem) stays active however long it lasts.
  const ActivityCoefficients c = activity_coefficients({});
  for (double level : {-33.0, -30.0, -10.0}) {
    ActivityState st;
    const std::vector<float> x = testsig::white_noise(level, 8000 * 60, 4);
    int inactive = 0;
    for (std::size_t at = 0; at + 80 <= x.size(); at += 80)
      inactive += !track_activity(st, c, frame_energy(testsig::mean_square(x.data() + at, 80)));
    EXPECT_EQ(inactive, 0) << level << " dBm0 steady signal";
  }
}

TEST(Activity, SpeechOverNoiseIsActive) {
  // 10 dB above a -50 dBm0 noise floor is speech.
  const ActivityCoefficients c = activity_coefficients({});
  ActivityState st;
  std::vector<float> x = testsig::white_noise(-50.0, 8000 * 6, 5);
  for (int burst = 0; burst < 5; ++burst) testsig::add_sine(x, 500.0, -40.0, 8000.0, 0.0, 8000 + burst * 8000, 2400);
  int active_bursts = 0;
  for (int burst = 0; burst < 5; ++burst) {
    bool any = false;
    for (std::size_t at = 0; at + 80 <= x.size(); at += 80) {
      const bool a = track_activity(st, c, frame_energy(testsig::mean_square(x.data() + at, 80)));
      if (at >= std::size_t(8000 + burst * 8000 + 400) && at < std::size_t(8000 + burst * 8000 + 2000)) any |= a;
    }
    st = ActivityState{};
    active_bursts += any;
  }
  EXPECT_EQ(active_bursts, 5);
}

// ---------------------------------------------------------------------------
// AGC

double settle_and_measure(double input_dbm0, double target, std::vector<double>* gain_steps = nullptr) {
  AgcParams p;
  p.target_dbm0 = target;
  const AgcCoefficients c = agc_coefficients(p);
  AgcState st;
  double out_level = -300.0;
  // 200 ms bursts, 100 ms pauses: speech-like, so the tracker sees activity.
  for (int f = 0; f < 3000; ++f) {
    const bool burst = (f % 30) < 20;
    const double ms = testsig::dbm0_to_ms(burst ? input_dbm0 : -65.0);
    const AgcStep s = agc_update(st, c, ms);
    if (gain_steps) gain_steps->push_back(20.0 * std::log10(double(s.gain_after) / double(s.gain_before)));
    if (burst && f > 2900) out_level = input_dbm0 + 20.0 * std::log10(double(s.gain_after));
  }
  return out_level;
}

TEST(Agc, ConvergesWithinOnePointFiveDb) {
  for (double in : {-35.0, -30.0, -20.0, -10.0}) EXPECT_NEAR(settle_and_measure(in, -20.0), -20.0, 1.5) << in;
}

TEST(Agc, GainChangesAreRateLimited) {
  std::vector<double> steps;
  settle_and_measure(-38.0, -20.0, &steps);
  for (double s : steps) {
    EXPECT_LE(s, 6.0 * 0.01 + 1e-4);    // rise <= 6 dB/s (gain is held as float)
    EXPECT_GE(s, -30.0 * 0.01 - 1e-4);  // fall <= 30 dB/s
  }
}

TEST(Agc, NoiseAloneDoesNotRaiseGain) {
  const AgcCoefficients c = agc_coefficients({});
  AgcState st;
  const std::vector<float> noise = testsig::white_noise(-50.0, 8000 * 20, 7);
  float gain = 1.0f;
  for (std::size_t at = 0; at + 80 <= noise.size(); at += 80)
    gain = agc_update(st, c, testsig::mean_square(noise.data() + at, 80)).gain_after;
  EXPECT_LE(20.0 * std::log10(gain), 0.5);
}

}  // namespace
}  // namespace prosody::dsp
