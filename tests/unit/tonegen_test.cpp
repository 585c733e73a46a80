// Tone and digit generation on output channels (sm_play_tone and family,
// and their C++ faces): the generator kernel, the jobs' timing to the
// sample, the ITU-T Q.23 and Prosody tolerances measured on the output, and
// the digits recognised by our detector and by spandsp's.
#include <gtest/gtest.h>
#include <poll.h>
extern "C" {
#include <spandsp.h>
}

#include <cmath>
#include <complex>
#include <cstring>
#include <string>
#include <vector>

#include "dsp/tonegen.hpp"
#include "capi_fixture.hpp"
#include "harness.hpp"
#include "prosody/prosody_sw.h"
#include "prosody/smbesp.h"

namespace prosody::test {
namespace {

constexpr double kRate = 8000.0;
constexpr double kPi = 3.14159265358979323846;

// ---------------------------------------------------------------------------
// Measurement

// Hann-windowed DFT of x[0, n) at f, phase referred to x[0].
std::complex<double> dft(const float* x, std::size_t n, double f, double rate) {
  std::complex<double> acc = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const double w = 0.5 - 0.5 * std::cos(2.0 * kPi * double(i) / double(n - 1));
    acc += w * double(x[i]) * std::polar(1.0, -2.0 * kPi * f * double(i) / rate);
  }
  return acc;
}

// Frequency of the component near f0 in x[0, n): the phase advance of a
// windowed DFT at f0 between two windows 10 ms apart (exact to a few mHz
// for a steady sine; unambiguous within +/-50 Hz of f0, beyond +/-1.5 %).
double measured_frequency(const float* x, std::size_t n, double f0, double rate) {
  const std::size_t d = static_cast<std::size_t>(rate / 100.0), len = n - d;
  const double advance = std::arg(dft(x + d, len, f0, rate) / dft(x, len, f0, rate));
  double excess = advance - 2.0 * kPi * f0 * double(d) / rate;
  excess -= 2.0 * kPi * std::round(excess / (2.0 * kPi));
  return f0 + excess * rate / (2.0 * kPi * double(d));
}

// Power of what is left of x[0, n) after the least-squares fit of sines at
// the given frequencies, relative to the power of x, in dB: distortion and
// noise.
double residual_db(const float* x, std::size_t n, const std::vector<double>& freqs, double rate) {
  const std::size_t k = 2 * freqs.size();
  std::vector<std::vector<double>> basis(k, std::vector<double>(n));
  for (std::size_t j = 0; j < freqs.size(); ++j)
    for (std::size_t i = 0; i < n; ++i) {
      basis[2 * j][i] = std::cos(2.0 * kPi * freqs[j] * double(i) / rate);
      basis[2 * j + 1][i] = std::sin(2.0 * kPi * freqs[j] * double(i) / rate);
    }
  // Normal equations, solved by Gaussian elimination.
  std::vector<std::vector<double>> a(k, std::vector<double>(k + 1, 0.0));
  for (std::size_t r = 0; r < k; ++r) {
    for (std::size_t c = 0; c < k; ++c)
      for (std::size_t i = 0; i < n; ++i) a[r][c] += basis[r][i] * basis[c][i];
    for (std::size_t i = 0; i < n; ++i) a[r][k] += basis[r][i] * x[i];
  }
  for (std::size_t p = 0; p < k; ++p)
    for (std::size_t r = p + 1; r < k; ++r) {
      const double m = a[r][p] / a[p][p];
      for (std::size_t c = p; c <= k; ++c) a[r][c] -= m * a[p][c];
    }
  std::vector<double> coef(k);
  for (std::size_t p = k; p-- > 0;) {
    double v = a[p][k];
    for (std::size_t c = p + 1; c < k; ++c) v -= a[p][c] * coef[c];
    coef[p] = v / a[p][p];
  }
  double res = 0.0, total = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    double fit = 0.0;
    for (std::size_t c = 0; c < k; ++c) fit += coef[c] * basis[c][i];
    res += (x[i] - fit) * (x[i] - fit);
    total += double(x[i]) * x[i];
  }
  return 10.0 * std::log10(res / total);
}

// Stretches of x louder than silence: [start, end) sample ranges.
std::vector<std::pair<std::size_t, std::size_t>> bursts(const std::vector<float>& x) {
  std::vector<std::pair<std::size_t, std::size_t>> out;
  for (std::size_t i = 0; i < x.size();) {
    if (x[i] == 0.0f && (i + 1 >= x.size() || x[i + 1] == 0.0f)) {
      ++i;
      continue;
    }
    // A sine starts at a zero crossing: its first sample may be exactly 0.
    const std::size_t start = i;
    std::size_t last = i;
    for (; i < x.size(); ++i) {
      if (x[i] != 0.0f)
        last = i;
      else if (i - last > 2)
        break;  // a sine has no run of three zero samples
    }
    out.push_back({start, last + 1});
  }
  return out;
}

// ---------------------------------------------------------------------------
// A stepped module with a generator channel on a host output port.

struct Generator {
  Module m;
  Channel out;
  explicit Generator(unsigned rate = 8000) {
    ModuleConfig cfg;
    cfg.sample_rate = rate;
    m = Module::create(cfg);
    out = m.allocate(ChannelType::output);
    out.enable_host_output(1000);
  }
  // Steps until the job completes (plus tail_frames more), collecting the
  // output from the next frame on.
  std::vector<float> run_to_completion(std::size_t max_frames, std::size_t tail_frames = 0) {
    std::vector<float> y, buf(m.frame_samples());
    std::size_t f = 0;
    bool done = false;
    for (; f < max_frames && !done; ++f) {
      m.step(1);
      const std::size_t got = out.read_output(Span<float>(buf.data(), buf.size()));
      y.insert(y.end(), buf.begin(), buf.begin() + long(got));
      done = out.tone_status() == ToneJobState::complete;
    }
    EXPECT_TRUE(done) << "completed within " << max_frames << " frames";
    for (std::size_t t = 0; t < tail_frames; ++t) {
      m.step(1);
      const std::size_t got = out.read_output(Span<float>(buf.data(), buf.size()));
      y.insert(y.end(), buf.begin(), buf.begin() + long(got));
    }
    return y;
  }
};

struct Dtmf {
  char digit;
  double low, high;
};
const Dtmf kDigits[] = {{'1', 697, 1209}, {'2', 697, 1336}, {'3', 697, 1477}, {'A', 697, 1633},
                        {'4', 770, 1209}, {'5', 770, 1336}, {'6', 770, 1477}, {'B', 770, 1633},
                        {'7', 852, 1209}, {'8', 852, 1336}, {'9', 852, 1477}, {'C', 852, 1633},
                        {'*', 941, 1209}, {'0', 941, 1336}, {'#', 941, 1477}, {'D', 941, 1633}};

const Dtmf& dtmf_of(char d) {
  for (const Dtmf& x : kDigits)
    if (x.digit == d) return x;
  return kDigits[0];
}

const std::string kAllDigits = "0123456789*#ABCD";

// ---------------------------------------------------------------------------
// The kernel

TEST(ToneKernel, FrequencyLevelAndPhaseContinuity) {
  dsp::ToneSpec s;
  s.freq_hz[0] = 697.0;
  s.freq_hz[1] = 1209.0;
  s.peak[0] = static_cast<float>(testsig::sine_peak(-12.0));
  s.peak[1] = static_cast<float>(testsig::sine_peak(-10.0));
  // One call of 8000 samples, and 100 calls of 80: the same signal.
  std::vector<float> whole(8000), blocks(8000);
  dsp::ToneOscillator a, b;
  dsp::generate_tone(s, kRate, a, 1.0f, whole.data(), whole.size());
  for (std::size_t at = 0; at < blocks.size(); at += 80) dsp::generate_tone(s, kRate, b, 1.0f, blocks.data() + at, 80);
  double worst = 0.0;
  for (std::size_t i = 0; i < whole.size(); ++i) worst = std::max(worst, std::fabs(double(whole[i]) - blocks[i]));
  EXPECT_LT(worst, 1e-6) << "blocks continue the phase";
  EXPECT_NEAR(measured_frequency(whole.data(), 4000, 697.0, kRate), 697.0, 0.01);
  EXPECT_NEAR(measured_frequency(whole.data(), 4000, 1209.0, kRate), 1209.0, 0.01);
  EXPECT_NEAR(testsig::tone_level_dbm0(whole, 697.0, kRate), -12.0, 0.01);
  EXPECT_NEAR(testsig::tone_level_dbm0(whole, 1209.0, kRate), -10.0, 0.01);
  EXPECT_LT(residual_db(whole.data(), 4000, {697.0, 1209.0}, kRate), -100.0) << "nothing but the two sines";
  EXPECT_EQ(whole[0], 0.0f) << "starts at a zero crossing";
}

TEST(ToneKernel, ModulationDepthAndPhaseReversal) {
  dsp::ToneSpec s;
  s.freq_hz[0] = 2100.0;
  s.freq_hz[1] = 15.0;
  s.peak[0] = 0.5f;
  s.peak[1] = 0.1f;  // 20 % amplitude modulation (V.8 ANSam)
  s.modulate = true;
  std::vector<float> y(8000);
  dsp::ToneOscillator osc;
  dsp::generate_tone(s, kRate, osc, 1.0f, y.data(), y.size());
  // AM puts sidebands at 2100 +/- 15 Hz, each at depth/2 of the carrier.
  const double carrier = testsig::tone_level_dbm0(y, 2100.0, kRate);
  EXPECT_NEAR(testsig::tone_level_dbm0(y, 2115.0, kRate) - carrier, 20.0 * std::log10(0.1), 0.1);
  EXPECT_NEAR(testsig::tone_level_dbm0(y, 2085.0, kRate) - carrier, 20.0 * std::log10(0.1), 0.1);
  // sign -1 is the same signal inverted.
  std::vector<float> inv(80);
  dsp::ToneOscillator o1, o2;
  dsp::generate_tone(s, kRate, o1, 1.0f, y.data(), 80);
  dsp::generate_tone(s, kRate, o2, -1.0f, inv.data(), 80);
  for (std::size_t i = 0; i < 80; ++i) ASSERT_EQ(inv[i], -y[i]);
}

// ---------------------------------------------------------------------------
// Digits: Q.23 and Prosody's tolerances, timing to the sample

TEST(PlayDigits, EveryDigitMeetsQ23FrequencyLevelAndTwist) {
  Generator g;
  g.out.play_digits(kAllDigits);
  const std::vector<float> y = g.run_to_completion(400);
  ASSERT_EQ(y.size(), 16u * 1600u) << "16 x (100 ms on + 100 ms off), complete in the last frame";
  const auto b = bursts(y);
  ASSERT_EQ(b.size(), 16u);
  for (std::size_t i = 0; i < 16; ++i) {
    SCOPED_TRACE(std::string("digit ") + kAllDigits[i]);
    const Dtmf& d = dtmf_of(kAllDigits[i]);
    // Timing: on at exactly n x 200 ms, 100 ms long.
    EXPECT_EQ(b[i].first, i * 1600);
    EXPECT_EQ(b[i].second - b[i].first, 800u);
    const float* x = y.data() + b[i].first;
    // Q.23: each frequency within +/-1.5 %. Measured: exact to 0.05 Hz.
    const double fl = measured_frequency(x, 800, d.low, kRate), fh = measured_frequency(x, 800, d.high, kRate);
    EXPECT_NEAR(fl, d.low, 0.05);
    EXPECT_NEAR(fh, d.high, 0.05);
    EXPECT_LT(std::fabs(fl / d.low - 1.0), 0.015);
    EXPECT_LT(std::fabs(fh / d.high - 1.0), 0.015);
    // Prosody's levels: low group -12 dBm0, high group -10 dBm0, so a twist
    // of +2 dB (high above low: what BT SIN 351 and Q.24 receivers expect).
    const double ll = testsig::tone_level_dbm0(x, 800, d.low, kRate),
                 lh = testsig::tone_level_dbm0(x, 800, d.high, kRate);
    EXPECT_NEAR(ll, -12.0, 0.05);
    EXPECT_NEAR(lh, -10.0, 0.05);
    EXPECT_NEAR(lh - ll, 2.0, 0.05);
    // Q.23: distortion at least 20 dB below the tones. Measured: below -80 dB.
    EXPECT_LT(residual_db(x, 800, {d.low, d.high}, kRate), -80.0);
  }
}

TEST(PlayDigits, DurationsAndGapsAreExactAtEveryRate) {
  for (unsigned rate : {8000u, 16000u, 48000u}) {
    SCOPED_TRACE(rate);
    Generator g(rate);
    g.out.play_digits("159#", 45, 55);
    const std::vector<float> y = g.run_to_completion(400);
    const std::size_t per_ms = rate / 1000;
    EXPECT_EQ(y.size(), 4u * 100u * per_ms);
    const auto b = bursts(y);
    ASSERT_EQ(b.size(), 4u);
    for (std::size_t i = 0; i < 4; ++i) {
      EXPECT_EQ(b[i].first, i * 100 * per_ms);
      EXPECT_EQ(b[i].second - b[i].first, 45 * per_ms);
    }
    const Dtmf& d = dtmf_of('9');
    EXPECT_NEAR(measured_frequency(y.data() + b[2].first, b[2].second - b[2].first, d.high, rate), d.high, 0.05);
  }
}

// Our detector, on another channel fed through a datafeed, reports every
// digit with its length.
TEST(PlayDigits, RecognisedByOurDetectorWithTheirDurations) {
  for (std::uint32_t on : {100u, 60u, 40u}) {
    SCOPED_TRACE(on);
    Generator g;
    Channel listener = g.m.allocate(ChannelType::input);
    listener.connect_input(g.out.datafeed());
    ListenSettings ls;
    ls.enabled = true;
    ls.report = ToneReport::with_length;
    listener.listen_for(ls);
    g.m.step(1);
    const std::uint64_t job_start = g.m.samples_processed();
    g.out.play_digits(kAllDigits, on, on);
    g.run_to_completion(800, 20);
    std::string got;
    std::vector<Recognition> r;
    while (auto x = listener.get_recognised()) r.push_back(*x);
    for (const Recognition& x : r) got += static_cast<char>(x.param0);
    EXPECT_EQ(got, kAllDigits);
    for (std::size_t i = 0; i < r.size(); ++i) {
      // Within one frame (10 ms): length, and onset (after the datafeed's
      // one-frame hop).
      EXPECT_NEAR(double(r[i].param1), double(on), 10.0) << kAllDigits[i];
      const double expected_onset = double(job_start + 80 + i * 2 * on * 8);
      EXPECT_NEAR(double(r[i].start_sample), expected_onset, 80.0) << kAllDigits[i];
    }
  }
}

// spandsp's DTMF receiver (an independent implementation) decodes them too.
TEST(PlayDigits, RecognisedBySpandsp) {
  for (std::uint32_t on : {100u, 50u}) {
    SCOPED_TRACE(on);
    Generator g;
    g.out.play_digits(kAllDigits, on, on);
    const std::vector<float> y = g.run_to_completion(800, 10);
    const std::vector<std::int16_t> pcm = testsig::to_int16(y);
    dtmf_rx_state_t* rx = dtmf_rx_init(nullptr, nullptr, nullptr);
    ASSERT_NE(rx, nullptr);
    dtmf_rx(rx, pcm.data(), static_cast<int>(pcm.size()));
    char digits[64] = {};
    dtmf_rx_get(rx, digits, sizeof digits - 1);
    dtmf_rx_free(rx);
    EXPECT_EQ(std::string(digits), kAllDigits);
  }
}

// ---------------------------------------------------------------------------
// Call-progress tones and simple tones

TEST(PlayCPTone, UkRingCadenceToTheSampleAndCutAtTheDuration) {
  Generator g;
  // UK ring (Prosody's example): tone 17 (400+450 Hz) 400 on, 208 off, 400 on, 2000 off.
  const ToneCadence ring[] = {{17, 400, 208}, {17, 400, 2000}};
  g.out.play_cptone(CPToneType::repeat, ring, 7000);  // cut in the sixth burst
  const std::vector<float> y = g.run_to_completion(800, 5);
  ASSERT_EQ(y.size(), 7000u * 8 + 5 * 80);
  const auto b = bursts(y);
  // Bursts every 3008 ms at 0 and 608 ms; the sixth, from 6624 ms, is cut
  // at 7000 ms.
  const std::size_t starts[] = {0, 608, 3008, 3616, 6016, 6624};
  ASSERT_EQ(b.size(), 6u);
  for (std::size_t i = 0; i < 6; ++i) {
    EXPECT_EQ(b[i].first, starts[i] * 8) << "cadence timing to the sample (the aim is 1 ms)";
    EXPECT_EQ(b[i].second - b[i].first, (i == 5 ? 376u : 400u) * 8);
  }
  const float* x = y.data() + b[1].first;
  EXPECT_NEAR(measured_frequency(x, 3200, 400.0, kRate), 400.0, 0.05);
  EXPECT_NEAR(measured_frequency(x, 3200, 450.0, kRate), 450.0, 0.05);
  EXPECT_NEAR(testsig::tone_level_dbm0(x, 3200, 400.0, kRate), -10.0, 0.05);
  EXPECT_NEAR(testsig::tone_level_dbm0(x, 3200, 450.0, kRate), -10.0, 0.05);
}

TEST(PlayCPTone, RepeatCutMidBurstOneShotAndContinuous) {
  {
    Generator g;
    const ToneCadence busy[] = {{16, 384, 384}};  // UK busy (Prosody's example)
    g.out.play_cptone(CPToneType::repeat, busy, 1000);
    const auto y = g.run_to_completion(200, 3);
    const auto b = bursts(y);
    ASSERT_EQ(b.size(), 2u);
    EXPECT_EQ(b[1].first, 768u * 8);
    EXPECT_EQ(b[1].second, 1000u * 8) << "cut exactly at the duration, mid-burst";
  }
  {
    Generator g;
    const ToneCadence sit[] = {{19, 336, 32}, {20, 336, 32}, {21, 336, 1008}};  // S.I.T.
    g.out.play_cptone(CPToneType::one_shot, sit, 99999);                        // duration ignored for a one shot
    const auto y = g.run_to_completion(400);
    EXPECT_EQ(y.size(), (3u * 336 + 2 * 32 + 1008) * 8);
    const auto b = bursts(y);
    ASSERT_EQ(b.size(), 3u);
    const double f[] = {950.0, 1400.0, 1800.0};
    for (std::size_t i = 0; i < 3; ++i) {
      EXPECT_EQ(b[i].first, i * 368 * 8);
      EXPECT_NEAR(measured_frequency(y.data() + b[i].first, 336 * 8, f[i], kRate), f[i], 0.05);
      EXPECT_NEAR(testsig::tone_level_dbm0(y.data() + b[i].first, 336 * 8, f[i], kRate), -13.0, 0.05);
    }
  }
  {
    Generator g;
    const ToneCadence c[] = {{18, 1, 1}};  // EC busy's tone, 425 Hz at -4.5 dBm0
    g.out.play_cptone(CPToneType::continuous, c, 250);
    const auto y = g.run_to_completion(100);
    const auto b = bursts(y);
    ASSERT_EQ(b.size(), 1u);
    EXPECT_EQ(b[0].second - b[0].first, 2000u);
    EXPECT_NEAR(testsig::tone_level_dbm0(y.data(), 2000, 425.0, kRate), -4.5, 0.05);
  }
}

TEST(PlayTone, PlaysUntilAbortedAndStatusFreesTheOutput) {
  Generator g;
  g.out.play_tone(5);  // '5': until aborted
  g.m.step(30);
  EXPECT_EQ(g.out.tone_status(), ToneJobState::ongoing);
  try {
    g.out.play_tone(3);
    FAIL() << "output half busy";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::wrong_channel_state);
  }
  try {
    g.out.replay_start(ReplaySettings{});
    FAIL() << "output half busy";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::wrong_channel_state);
  }
  std::vector<float> drain(30 * 80);
  EXPECT_EQ(g.out.read_output(Span<float>(drain.data(), drain.size())), drain.size());
  g.out.tone_abort();
  const auto y = g.run_to_completion(5);
  EXPECT_EQ(y.size(), 80u) << "the next frame completes it";
  EXPECT_EQ(testsig::peak(y.data(), y.size()), 0.0) << "silent once aborted";
  try {
    g.out.tone_status();
    FAIL() << "completion was reported: no job any more";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::wrong_channel_state);
  }
  g.out.play_tone(3, 20);  // free again
  const auto z = g.run_to_completion(10);
  EXPECT_EQ(bursts(z).size(), 1u);
  EXPECT_EQ(bursts(z)[0].second - bursts(z)[0].first, 160u);
}

TEST(PlayTone, AddedFrequenciesAndTones) {
  Generator g;
  const int f1 = g.m.add_output_freq(1000.0, -20.0);
  const int f2 = g.m.add_output_freq(2500.0, 0.0);
  EXPECT_EQ(f1, 26) << "after the 26 preloaded components";
  EXPECT_EQ(f2, 27);
  const int tone = g.m.add_output_tone(f1, f2);
  EXPECT_EQ(tone, 22) << "after the 22 preloaded tones";
  for (auto [hz, db] : {std::pair{149.0, -10.0}, {3601.0, -10.0}, {1000.0, -35.5}, {1000.0, 3.5}}) {
    try {
      g.m.add_output_freq(hz, db);
      FAIL() << hz << " Hz " << db << " dBm0";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Errc::bad_parameter);
    }
  }
  EXPECT_THROW(g.m.add_output_tone(f1, 99), Error);
  EXPECT_THROW(g.out.play_tone(999), Error);
  g.out.play_tone(tone, 500);
  const auto y = g.run_to_completion(100);
  EXPECT_NEAR(testsig::tone_level_dbm0(y.data(), 4000, 1000.0, kRate), -20.0, 0.05);
  EXPECT_NEAR(testsig::tone_level_dbm0(y.data(), 4000, 2500.0, kRate), 0.0, 0.05);
  EXPECT_NEAR(measured_frequency(y.data(), 4000, 2500.0, kRate), 2500.0, 0.05);
}

// ---------------------------------------------------------------------------
// Tone lists

TEST(PlayToneList, StreamsItemsReportsUnderrunAndCapacityThenCompletes) {
  Generator g;
  const ToneItem first[] = {{ToneOperation::sum, 30, 1000.0, -10.0, 0.0, 0.0}};
  g.out.play_tone_list(first);
  EXPECT_EQ(g.out.tone_status(), ToneJobState::has_capacity);
  std::vector<float> y, buf(80);
  auto step = [&](std::size_t frames) {
    for (std::size_t i = 0; i < frames; ++i) {
      g.m.step(1);
      y.insert(y.end(), buf.begin(), buf.begin() + long(g.out.read_output(Span<float>(buf.data(), 80))));
    }
  };
  step(5);  // 50 ms: 30 ms of tone, then 20 ms of nothing to play
  EXPECT_EQ(g.out.tone_status(), ToneJobState::underrun);
  EXPECT_EQ(g.out.tone_status(), ToneJobState::has_capacity) << "underrun reported once";
  const ToneItem more[] = {{ToneOperation::sum, 20, 0.0, 0.0, 2000.0, -6.0}, {ToneOperation::stop, 0, 0, 0, 0, 0}};
  g.out.play_tone_list(more);
  EXPECT_EQ(g.out.tone_status(), ToneJobState::ongoing) << "no capacity asked for after the stop";
  EXPECT_THROW(g.out.play_tone_list(more), Error) << "nothing after the stop";
  step(3);
  EXPECT_EQ(g.out.tone_status(), ToneJobState::complete);
  const auto b = bursts(y);
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b[0].first, 0u);
  EXPECT_EQ(b[0].second, 240u);
  EXPECT_EQ(b[1].first, 400u) << "the new item starts at the next frame";
  EXPECT_EQ(b[1].second, 560u);
  EXPECT_NEAR(testsig::tone_level_dbm0(y.data() + 400, 160, 2000.0, kRate), -6.0, 0.05);
}

TEST(PlayToneList, AnsamWithPhaseReversalsAsV8Describes) {
  Generator g;
  // V.8 ANSam/: 2100 Hz, 20 % AM at 15 Hz, phase reversed every 450 ms.
  const double depth_db = 20.0 * std::log10(0.2);
  const ToneItem ansam[] = {{ToneOperation::modulate, 1000, 2100.0, -12.0, 15.0, -12.0 + depth_db},
                            {ToneOperation::stop, 0, 0, 0, 0, 0}};
  g.out.play_tone_list(ansam);
  g.out.tone_list_phase_reverse(450);
  const auto y = g.run_to_completion(200);
  ASSERT_EQ(y.size(), 8000u);
  const double carrier = testsig::tone_level_dbm0(y.data(), 3600, 2100.0, kRate);
  EXPECT_NEAR(testsig::tone_level_dbm0(y.data(), 3600, 2115.0, kRate) - carrier, 20.0 * std::log10(0.1), 0.2)
      << "sidebands at half the 20 % depth";
  // A reversal at 450 ms: the signal after it is the continuation negated.
  dsp::ToneSpec s;
  s.freq_hz[0] = 2100.0;
  s.freq_hz[1] = 15.0;
  s.peak[0] = static_cast<float>(testsig::sine_peak(-12.0));
  s.peak[1] = static_cast<float>(testsig::sine_peak(-12.0 + depth_db));
  s.modulate = true;
  std::vector<float> ref(8000);
  dsp::ToneOscillator osc;
  dsp::generate_tone(s, kRate, osc, 1.0f, ref.data(), ref.size());
  for (std::size_t i : {100u, 3599u}) EXPECT_NEAR(y[i], ref[i], 1e-6) << i;
  for (std::size_t i : {3600u, 3700u, 7199u}) EXPECT_NEAR(y[i], -ref[i], 1e-6) << i;
  for (std::size_t i : {7200u, 7900u}) EXPECT_NEAR(y[i], ref[i], 1e-6) << i;
}

TEST(PlayToneList, ItemsAreValidated) {
  Generator g;
  auto refused = [&](ToneItem item) {
    try {
      g.out.play_tone_list(Span<const ToneItem>(&item, 1));
      return false;
    } catch (const Error& e) {
      return e.code() == Errc::bad_parameter;
    }
  };
  EXPECT_TRUE(refused({ToneOperation::sum, 0, 1000.0, -10.0, 0.0, 0.0})) << "no duration";
  EXPECT_TRUE(refused({ToneOperation::sum, 10, 100.0, -10.0, 0.0, 0.0})) << "below 150 Hz";
  EXPECT_TRUE(refused({ToneOperation::sum, 10, 1000.0, -40.0, 0.0, 0.0})) << "below -35 dBm0";
  EXPECT_TRUE(refused({static_cast<ToneOperation>(7), 10, 1000.0, -10.0, 0.0, 0.0}));
  EXPECT_FALSE(refused({ToneOperation::sum, 10, 0.0, -99.0, 0.0, -99.0})) << "frequency 0 is silence";
}

// ---------------------------------------------------------------------------
// Mixing under other output

// A replay hears a tone channel as its background (sm_replay_start's
// background): the tones are mixed under the replay.
TEST(ToneMixing, UnderAReplayAsItsBackground) {
  Generator g;
  Channel voice = g.m.allocate(ChannelType::output);
  voice.enable_host_output(1000);
  ReplaySettings rs;
  rs.background = g.out.id();
  voice.replay_start(rs);
  const std::vector<std::int16_t> pcm = testsig::to_int16(testsig::sine(500.0, -20.0, 4000, kRate));
  voice.replay_put(Span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(pcm.data()), pcm.size() * 2), true);
  g.out.play_tone(5, 400);
  std::vector<float> y(4000);
  g.m.step(50);
  ASSERT_EQ(voice.read_output(Span<float>(y.data(), y.size())), 4000u);
  EXPECT_NEAR(testsig::tone_level_dbm0(y.data() + 400, 2400, 500.0, kRate), -20.0, 0.05);
  EXPECT_NEAR(testsig::tone_level_dbm0(y.data() + 400, 2400, 770.0, kRate), -12.0, 0.05);
  EXPECT_NEAR(testsig::tone_level_dbm0(y.data() + 400, 2400, 1336.0, kRate), -10.0, 0.05);
}

// A tone channel's datafeed into a conference input added to one party's
// output: that party hears the tone under the conference, the others do not.
TEST(ToneMixing, UnderAConferenceToOneParty) {
  Generator g;
  Party a, b;
  for (Party* p : {&a, &b}) {
    p->channel = g.m.allocate(ChannelType::full_duplex);
    p->channel.enable_host_input();
    p->channel.enable_host_output();
  }
  Conference conf;
  conf.add_party(a.channel);
  conf.add_party(b.channel);
  Channel announcer = g.m.allocate(ChannelType::input);
  announcer.connect_input(g.out.datafeed());
  announcer.conf_attach();
  announcer.conf_set_gating(false);
  a.channel.conf_add(announcer);
  a.input = testsig::sine(500.0, -20.0, 8000, kRate);
  b.input = testsig::sine(600.0, -20.0, 8000, kRate);
  g.out.play_digits("5", 500, 1);
  run(g.m, {&a, &b}, 100);
  EXPECT_NEAR(testsig::tone_level_dbm0(a.output.data() + 800, 3200, 770.0, kRate), -12.0, 0.1);
  EXPECT_NEAR(testsig::tone_level_dbm0(a.output.data() + 800, 3200, 600.0, kRate), -20.0, 0.2);
  EXPECT_LT(testsig::tone_level_dbm0(b.output.data() + 800, 3200, 770.0, kRate), -60.0);
  EXPECT_NEAR(testsig::tone_level_dbm0(b.output.data() + 800, 3200, 500.0, kRate), -20.0, 0.2);
}

// ---------------------------------------------------------------------------
// The C API

class ToneCApi : public CardModuleTest<1> {};

TEST_F(ToneCApi, DocumentedErrorsAndTheWriteEvent) {
  const tSMChannelId out = alloc(kSMChannelTypeOutput), in = alloc(kSMChannelTypeInput);
  SM_PLAY_TONE_PARMS pt{};
  pt.channel = in;
  pt.tone_id = 1;
  EXPECT_EQ(sm_play_tone(&pt), ERR_SM_WRONG_CHANNEL_TYPE);
  pt.channel = out;
  pt.tone_id = 22;
  EXPECT_EQ(sm_play_tone(&pt), ERR_SM_BAD_PARAMETER) << "no such tone";
  pt.tone_id = 1;
  pt.wait_for_completion = 1;
  EXPECT_EQ(sm_play_tone(&pt), ERR_SM_WRONG_MODULE_STATE) << "nothing would advance a stepped module";
  pt.wait_for_completion = 0;
  SM_PLAY_DIGITS_PARMS pd{};
  pd.channel = out;
  std::strcpy(pd.digits.digit_string, "12x");
  EXPECT_EQ(sm_play_digits(&pd), ERR_SM_BAD_PARAMETER) << "not a digit";
  std::strcpy(pd.digits.digit_string, "12");
  pd.digits.qualifier = 1;
  EXPECT_EQ(sm_play_digits(&pd), ERR_SM_BAD_PARAMETER) << "qualifier must be 0";
  pd.digits.qualifier = 0;
  std::memset(pd.digits.digit_string, '1', sizeof pd.digits.digit_string);
  EXPECT_EQ(sm_play_digits(&pd), ERR_SM_BAD_PARAMETER) << "not terminated within 33";
  SM_PLAY_CPTONE_PARMS pc{};
  pc.channel = out;
  pc.tone_count = 9;
  EXPECT_EQ(sm_play_cptone(&pc), ERR_SM_BAD_PARAMETER) << "at most 8 cadences";
  pc.tone_count = 1;
  pc.type = static_cast<enum kSMPlayCPToneType>(3);
  EXPECT_EQ(sm_play_cptone(&pc), ERR_SM_BAD_PARAMETER);
  EXPECT_EQ(sm_play_tone_abort(out), ERR_SM_WRONG_CHANNEL_STATE) << "nothing playing";
  SM_PLAY_TONE_STATUS_PARMS st{};
  st.channel = out;
  EXPECT_EQ(sm_play_tone_status(&st), ERR_SM_WRONG_CHANNEL_STATE);
  SM_PLAY_TONE_LIST_STATUS_PARMS ls{};
  EXPECT_EQ(sm_play_tone_list_status(&ls), ERR_SM_NOT_IMPLEMENTED) << "no any-channel mode";

  const tSMEventId ev = bind_channel_event(out, kSMEventTypeWriteData, kSMChannelSpecificEventNonIdle);
  pollfd p{ev.fd, static_cast<short>(ev.mode), 0};
  std::strcpy(pd.digits.digit_string, "1#");
  pd.digits.digit_duration = 50;
  pd.digits.inter_digit_delay = 50;
  ASSERT_EQ(sm_play_digits(&pd), 0);
  EXPECT_EQ(sm_play_tone(&pt), ERR_SM_WRONG_CHANNEL_STATE) << "output busy with the digits";
  SM_PLAY_DIGITS_STATUS_PARMS ds{};
  ds.channel = out;
  ASSERT_EQ(prosody_sw_step(module, 19), 0);
  EXPECT_EQ(poll(&p, 1, 0), 0) << "still playing";
  ASSERT_EQ(sm_play_digits_status(&ds), 0);
  EXPECT_EQ(ds.status, kSMPlayDigitsStatusOngoing);
  ASSERT_EQ(prosody_sw_step(module, 1), 0);
  EXPECT_EQ(poll(&p, 1, 0), 1) << "write event at completion";
  ASSERT_EQ(sm_play_digits_status(&ds), 0);
  EXPECT_EQ(ds.status, kSMPlayDigitsStatusComplete);
  EXPECT_EQ(poll(&p, 1, 0), 0) << "idle, and bound NonIdle";
  EXPECT_EQ(sm_play_digits_status(&ds), ERR_SM_WRONG_CHANNEL_STATE) << "after Complete";
  smd_ev_free(ev);

  // Output frequencies and tones of the module.
  SM_OUTPUT_FREQ_PARMS of{};
  of.module = module;
  of.freq = 3601.0;
  EXPECT_EQ(sm_add_output_freq(&of), ERR_SM_BAD_PARAMETER);
  of.freq = 2000.0;
  of.amplitude = -6.0;
  ASSERT_EQ(sm_add_output_freq(&of), 0);
  SM_OUTPUT_TONE_PARMS ot{};
  ot.module = module;
  ot.component1_id = of.id;
  ASSERT_EQ(sm_add_output_tone(&ot), 0);
  EXPECT_EQ(ot.id, 22);
  of.module = kSMNullModuleId;
  EXPECT_EQ(sm_add_output_freq(&of), ERR_SM_NO_SUCH_MODULE);
}

TEST_F(ToneCApi, ToneListStreamsThroughTheCApi) {
  const tSMChannelId out = alloc(kSMChannelTypeFullDuplex);
  SM_PLAY_TONE_LIST_PARMS tl{};
  SM_PLAY_TONE_LIST_PARMS::sm_play_tone_item items[2] = {};
  items[0].operation = kSMToneOperationSum;
  items[0].duration = 20;
  items[0].frequency1 = 1000.0;
  items[0].amplitude1 = -10.0;
  items[1].operation = kSMToneOperationStop;
  tl.channel = out;
  tl.tones = items;
  tl.tone_count = 2;
  ASSERT_EQ(sm_play_tone_list(&tl), 0);
  SM_PLAY_TONE_LIST_STATUS_PARMS ls{};
  ls.channel = out;
  ASSERT_EQ(sm_play_tone_list_status(&ls), 0);
  EXPECT_EQ(ls.status, kSMPlayToneListStatusOngoing);
  EXPECT_EQ(sm_play_tone_abort(out), ERR_SM_WRONG_CHANNEL_STATE) << "a list is not a simple tone";
  ASSERT_EQ(prosody_sw_step(module, 2), 0);
  ASSERT_EQ(sm_play_tone_list_status(&ls), 0);
  EXPECT_EQ(ls.status, kSMPlayToneListStatusComplete);
  EXPECT_EQ(sm_play_tone_list_abort(out), ERR_SM_WRONG_CHANNEL_STATE);
}

// wait_for_completion on a module running in real time.
TEST(ToneRealTime, WaitForCompletionReturnsWhenTheDigitsAreOut) {
  const tSMModuleId module = open_card_module(3, kProsodySwDriveRealTime);
  SM_CHANNEL_ALLOC_PLACED_PARMS al{};
  al.type = kSMChannelTypeOutput;
  al.module = module;
  ASSERT_EQ(sm_channel_alloc_placed(&al), 0);
  SM_PLAY_DIGITS_PARMS pd{};
  pd.channel = al.channel;
  pd.wait_for_completion = 1;
  std::strcpy(pd.digits.digit_string, "12");
  pd.digits.digit_duration = 40;
  pd.digits.inter_digit_delay = 40;
  PROSODY_SW_MODULE_INFO_PARMS info{};
  info.module = module;
  ASSERT_EQ(prosody_sw_module_info(&info), 0);
  const auto before = info.frames_processed;
  ASSERT_EQ(sm_play_digits(&pd), 0);
  ASSERT_EQ(prosody_sw_module_info(&info), 0);
  EXPECT_GE(info.frames_processed - before, 16u) << "160 ms of digits went out before the call returned";
  SM_PLAY_DIGITS_STATUS_PARMS ds{};
  ds.channel = al.channel;
  EXPECT_EQ(sm_play_digits_status(&ds), ERR_SM_WRONG_CHANNEL_STATE) << "the output half is free again";
  close_card_module(module);
}

}  // namespace
}  // namespace prosody::test
