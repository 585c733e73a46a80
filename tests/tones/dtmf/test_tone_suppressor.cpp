// prosody::ToneSuppressor: events, settings, rates, suppression quality
// (rows B1-B4 of docs/tone-detection.md), packet loss, and the call-progress
// path. Every audio assertion is a measured number.
#include "test_data.hpp"
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "decimator.hpp"
#include "dtmf_harness.hpp"
#include "prosody/tones.hpp"
#include "signal.hpp"

using namespace dtmftest;
using prosody::ListenSettings;
using prosody::RecognitionType;
using prosody::ToneEvent;
using prosody::ToneSuppressor;

namespace {

#ifdef DTMF_FULL_SWEEPS
constexpr bool kFull = true;
#else
constexpr bool kFull = false;
#endif
int trials(int full, int fast) { return kFull ? full : fast; }

const unsigned kRates[4] = {8000, 16000, 32000, 48000};

ListenSettings listening(unsigned lookahead_us = 0) {
  ListenSettings s;
  s.enabled = true;
  s.lookahead_us = lookahead_us;
  return s;
}

struct Processed {
  std::vector<float> out;
  std::vector<ToneEvent> events;
  std::size_t delay = 0;
};

Processed suppress(const std::vector<float>& x, unsigned rate, const ListenSettings& s, std::size_t frame = 0) {
  if (frame == 0) frame = rate / 100;  // the engine's 10 ms frames
  ToneSuppressor ts(rate, s);
  Processed r;
  r.out.resize(x.size());
  for (std::size_t i = 0; i < x.size(); i += frame)
    ts.process(x.data() + i, r.out.data() + i, std::min(frame, x.size() - i), r.events);
  r.delay = ts.latency_samples();
  return r;
}

std::vector<ToneEvent> of_kind(const std::vector<ToneEvent>& ev, bool end) {
  std::vector<ToneEvent> v;
  for (const auto& e : ev)
    if (e.is_end == end) v.push_back(e);
  return v;
}

// Short-time energy ratio out/reference over a 1 ms window centred on n,
// where reference is the input delayed by `delay`.
struct Envelope {
  std::vector<double> ratio;  // indexed by output sample; -1 where the reference is silent
};
Envelope envelope(const std::vector<float>& in, const std::vector<float>& out, std::size_t delay, unsigned rate) {
  const std::size_t half = rate / 2000;
  Envelope e;
  e.ratio.assign(out.size(), -1.0);
  double eo = 0.0, er = 0.0;
  auto ref = [&](std::size_t n) { return n >= delay && n - delay < in.size() ? double(in[n - delay]) : 0.0; };
  for (std::size_t n = 0; n < out.size() + half; ++n) {
    if (n < out.size()) {
      eo += double(out[n]) * out[n];
      er += ref(n) * ref(n);
    }
    if (n >= 2 * half + 1 && n - 2 * half - 1 < out.size()) {
      const std::size_t k = n - 2 * half - 1;
      eo -= double(out[k]) * out[k];
      er -= ref(k) * ref(k);
    }
    if (n >= half && n - half < out.size() && er > 1e-12) e.ratio[n - half] = std::max(eo, 0.0) / er;
  }
  return e;
}

// B1: how long the tone's energy in the output stays above -30 dB of the
// undisturbed tone, in ms, over the burst [start, end) (input timeline).
double leak_ms(const Envelope& env, std::size_t start, std::size_t end, std::size_t delay, unsigned rate) {
  std::size_t leaky = 0;
  for (std::size_t n = start + delay; n < end + delay && n < env.ratio.size(); ++n)
    if (env.ratio[n] > 1e-3) ++leaky;
  return leaky * 1000.0 / rate;
}

std::string fmt(const char* f, double a, double b = 0, double c = 0, double d = 0) {
  char buf[256];
  std::snprintf(buf, sizeof buf, f, a, b, c, d);
  return buf;
}

}  // namespace

TEST(ToneSuppressorApi, DtmfNumberAndCharacter) {
  const char* chars = "0123456789*#ABCD";
  for (int n = 0; n < 16; ++n) {
    EXPECT_EQ(prosody::dtmf_number_to_char(n), chars[n]);
    EXPECT_EQ(prosody::dtmf_char_to_number(chars[n]), n);
  }
  EXPECT_EQ(prosody::dtmf_char_to_number('d'), 15);
  EXPECT_EQ(prosody::dtmf_number_to_char(16), '\0');
  EXPECT_EQ(prosody::dtmf_number_to_char(-1), '\0');
  EXPECT_EQ(prosody::dtmf_char_to_number('E'), -1);
  EXPECT_EQ(prosody::dtmf_char_to_number(' '), -1);
}

TEST(ToneSuppressorApi, RejectsUnsupportedRates) {
  EXPECT_THROW(ToneSuppressor(11025, listening()), std::invalid_argument);
}

// Digits come out with start and end, in the input's own timeline, at every
// supported rate and for any frame size.
TEST(ToneSuppressorEvents, DigitsInTheInputTimelineAtEveryRate) {
  for (unsigned rate : kRates) {
    Stimulus s(rate, 10 + rate);
    std::vector<Truth> truth;
    s.silence(73.0, rate / 100);
    for (char d : std::string("159#0D")) {
      Tone t;
      t.digit = d;
      t.duration_ms = 70.0;
      t.low_level_dbm0 = -8.0;
      t.high_level_dbm0 = -6.0;
      truth.push_back(s.tone(t));
      s.silence(60.0, rate / 200);
    }
    for (std::size_t frame : {std::size_t(rate / 100), std::size_t(7), std::size_t(rate / 50 + 3)}) {
      SCOPED_TRACE(testing::Message() << rate << " Hz, frames of " << frame);
      const Processed r = suppress(s.samples(), rate, listening(), frame);
      const auto st = of_kind(r.events, false), en = of_kind(r.events, true);
      ASSERT_EQ(st.size(), truth.size());
      ASSERT_EQ(en.size(), truth.size());
      for (std::size_t i = 0; i < truth.size(); ++i) {
        EXPECT_EQ(st[i].type, RecognitionType::digit);
        EXPECT_EQ(st[i].code, truth[i].digit);
        EXPECT_NEAR(double(st[i].start_sample), double(truth[i].start), 0.002 * rate);  // 2 ms
        EXPECT_NEAR(double(en[i].end_sample), double(truth[i].end), 0.003 * rate);
        EXPECT_NEAR(en[i].duration_ms, 70.0, 3.0);
        EXPECT_NEAR(en[i].level_dbm0, -6.0, 0.5);
        EXPECT_EQ(en[i].start_sample, st[i].start_sample);
      }
    }
  }
}

TEST(ToneSuppressorEvents, UnmappedDigitsAreToneIndices) {
  Stimulus s(8000.0, 2);
  s.silence(50.0);
  Tone t;
  t.digit = '8';  // row 2 (852 Hz), column 1 (1336 Hz)
  s.tone(t);
  s.silence(100.0);
  ListenSettings l = listening();
  l.map_to_digits = false;
  const auto st = of_kind(suppress(s.samples(), 8000, l).events, false);
  ASSERT_EQ(st.size(), 1u);
  EXPECT_EQ(st[0].type, RecognitionType::tone);
  EXPECT_EQ(st[0].code, 2);
  EXPECT_EQ(st[0].code2, 1);
}

TEST(ToneSuppressorSettings, DisabledPassesTheDelayedInputUntouched) {
  Stimulus s(16000.0, 3);
  s.silence(40.0);
  s.tone(Tone{});
  s.silence(80.0);
  ListenSettings l = listening(5000);
  l.enabled = false;
  const Processed r = suppress(s.samples(), 16000, l);
  EXPECT_TRUE(r.events.empty());
  ASSERT_EQ(r.delay, 80u);
  for (std::size_t n = r.delay; n < r.out.size(); ++n) ASSERT_EQ(r.out[n], s.samples()[n - r.delay]);
}

TEST(ToneSuppressorSettings, SuppressOffReportsButDoesNotTouchTheAudio) {
  Stimulus s(8000.0, 4);
  s.silence(40.0);
  s.tone(Tone{});
  s.silence(80.0);
  ListenSettings l = listening();
  l.suppress = false;
  const Processed r = suppress(s.samples(), 8000, l);
  EXPECT_EQ(of_kind(r.events, false).size(), 1u);
  for (std::size_t n = 0; n < r.out.size(); ++n) ASSERT_EQ(r.out[n], s.samples()[n]);
}

TEST(ToneSuppressorSettings, LastBlockUnchangedTellsTheTruth) {
  // The flag lets a caller skip writing back an untouched block, so it must
  // never claim "unchanged" for a block that changed: checked against the
  // samples, 10 ms block by block, through a suppressed digit, with and
  // without look-ahead.
  Stimulus s(8000.0, 5);
  s.silence(60.0);
  s.tone(Tone{});
  s.silence(120.0);
  for (int lookahead_ms : {0, 8}) {
    ListenSettings l = listening();
    l.lookahead_us = lookahead_ms * 1000;
    ToneSuppressor ts(8000, l);
    std::vector<ToneEvent> ev;
    unsigned unchanged = 0, changed = 0;
    for (std::size_t i = 0; i + 80 <= s.samples().size(); i += 80) {
      std::vector<float> block(s.samples().begin() + i, s.samples().begin() + i + 80);
      const std::vector<float> before = block;
      ts.process(block.data(), block.data(), block.size(), ev);
      const bool same = block == before;
      if (ts.last_block_unchanged()) {
        ASSERT_TRUE(same) << "block at " << i << " changed, look-ahead " << lookahead_ms << " ms";
        ++unchanged;
      } else {
        ++changed;
      }
    }
    if (lookahead_ms == 0) {
      EXPECT_GE(unchanged, 10u);  // the silence around the digit (23 blocks in all)
      EXPECT_GT(changed, 3u);     // the digit was removed
    } else {
      EXPECT_EQ(unchanged, 0u);  // delayed output is never the input
    }
  }
}

TEST(ToneSuppressorSettings, ToneSetOneReportsNoDigits) {
  Stimulus s(8000.0, 5);
  s.silence(40.0);
  for (char d : std::string("123")) {
    Tone t;
    t.digit = d;
    t.duration_ms = 80.0;
    s.tone(t);
    s.silence(80.0);
  }
  ListenSettings l = listening();
  l.tone_set = 1;
  for (const auto& e : suppress(s.samples(), 8000, l).events) EXPECT_NE(e.type, RecognitionType::digit);
}

TEST(ToneSuppressorSettings, ReconfigureWhileRunning) {
  ToneSuppressor ts(8000, listening());
  EXPECT_EQ(ts.latency_samples(), 0u);
  ListenSettings l = listening(16000);
  ts.configure(l);
  EXPECT_EQ(ts.latency_samples(), 128u);
  l.lookahead_us = 40000;  // clamped to the 16 ms maximum
  ts.configure(l);
  EXPECT_EQ(ts.latency_samples(), 128u);
  EXPECT_EQ(ts.settings().lookahead_us, 16000u);
  // Twist limits take effect: a 6 dB-normal digit is rejected with a 5 dB limit.
  Stimulus s(8000.0, 6);
  s.silence(40.0);
  Tone t;
  t.low_level_dbm0 = -6.0;
  t.high_level_dbm0 = -12.0;
  s.tone(t);
  s.silence(100.0);
  l.lookahead_us = 0;
  l.twist_normal_db = 5.0;
  ts.configure(l);
  std::vector<ToneEvent> ev;
  std::vector<float> out(s.samples().size());
  ts.process(s.samples().data(), out.data(), out.size(), ev);
  EXPECT_TRUE(ev.empty());
  ts.reset();
  EXPECT_EQ(ts.samples_processed(), 0u);
  l.twist_normal_db = 8.0;
  ts.configure(l);
  ts.process(s.samples().data(), out.data(), out.size(), ev);
  EXPECT_EQ(of_kind(ev, false).size(), 1u);
  EXPECT_EQ(ts.samples_processed(), s.samples().size());
}

// Look-ahead switched on mid-stream: without look-ahead no input is kept,
// so the new delay starts with silence, then the input follows exactly
// `delay` samples late. Switched off again: the input itself, at once.
TEST(ToneSuppressorSettings, LookaheadSwitchedMidStream) {
  const unsigned rate = 16000;
  std::vector<float> x(rate);  // 1 s of a ramp: every sample identifies its time
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = 0.1f + 0.5f * float(i) / float(x.size());
  ToneSuppressor ts(rate, listening(0));
  std::vector<ToneEvent> ev;
  std::vector<float> y(x.size());
  const std::size_t frame = rate / 100, switch_on = 30 * frame, switch_off = 70 * frame;
  for (std::size_t i = 0; i < x.size(); i += frame) {
    if (i == switch_on) ts.configure(listening(16000));
    if (i == switch_off) ts.configure(listening(0));
    ts.process(x.data() + i, y.data() + i, frame, ev);
  }
  const std::size_t delay = 16 * rate / 1000;
  double worst = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    float want;
    if (i < switch_on || i >= switch_off)
      want = x[i];
    else if (i < switch_on + delay)
      want = 0.0f;
    else
      want = x[i - delay];
    worst = std::max(worst, double(std::fabs(y[i] - want)));
  }
  EXPECT_EQ(worst, 0.0);
  EXPECT_TRUE(ev.empty());
}

// Detection switched off and on again mid-stream: events still land on the
// input timeline, at every rate.
TEST(ToneSuppressorSettings, ReEnabledDetectionKeepsTheTimeline) {
  for (unsigned rate : kRates) {
    Stimulus s(rate, 33 + rate);
    s.silence(200.0, rate / 100);
    const Truth tr = s.tone(Tone{});
    s.silence(100.0);
    ToneSuppressor ts(rate, listening());
    ListenSettings off = listening();
    off.enabled = false;
    ts.configure(off);
    std::vector<ToneEvent> ev;
    std::vector<float> out(s.samples().size());
    const std::size_t half = rate / 10 + 7;  // re-enable at 100 ms (+7 samples)
    ts.process(s.samples().data(), out.data(), half, ev);
    ts.configure(listening());
    ts.process(s.samples().data() + half, out.data() + half, out.size() - half, ev);
    const auto st = of_kind(ev, false);
    ASSERT_EQ(st.size(), 1u) << rate;
    EXPECT_NEAR(double(st[0].start_sample), double(tr.start), 0.002 * rate) << rate;
  }
}

namespace {
struct SuppressionFigures {
  std::vector<double> leak, atten_db, down_ms, up_ms, edge_step;
};

// The gain ramp between two levels of the exact gain trajectory g: its span
// in ms and the gain step it adds to the signal at its first and last
// samples (a hard mute would step by the whole signal there).
void ramp(const std::vector<double>& g, const std::vector<float>& ref, std::size_t from, std::size_t to, bool down,
          unsigned rate, SuppressionFigures& f) {
  std::size_t first = 0, last = 0;
  for (std::size_t k = from; k < to; ++k) {
    if (g[k] < 0.0) continue;
    const bool left = down ? g[k] < 0.9999 : g[k] > 1e-4;
    const bool done = down ? g[k] <= 1e-4 : g[k] >= 0.9999;
    if (first == 0 && left) first = k;
    if (first != 0 && done) {
      last = k;
      break;
    }
  }
  if (first == 0 || last == 0) return;
  (down ? f.down_ms : f.up_ms).push_back((last - first + 1) * 1000.0 / rate);
  for (std::size_t k : {first, last})
    if (g[k - 1] >= 0.0) f.edge_step.push_back(std::fabs((g[k] - g[k - 1]) * ref[k]));
}

// One digit over a quiet background (so the gain can be read everywhere),
// random level, onset and frame phase; measures B1/B2 quantities.
void measure_suppression(unsigned rate, unsigned lookahead_us, int n, SuppressionFigures& f) {
  for (int i = 0; i < n; ++i) {
    Stimulus s(rate, 500u + 31u * i + rate);
    s.silence(60.0, rate / 50);
    Tone t;
    t.digit = kDigits[i % 16];
    t.duration_ms = 60.0 + (i * 17) % 80;
    t.low_level_dbm0 = -3.0 - (i % 20);
    t.high_level_dbm0 = t.low_level_dbm0 + (i % 5) - 2.0;
    const Truth tr = s.tone(t);
    s.silence(150.0);
    s.add_sine(300.0, -45.0);
    const Processed r = suppress(s.samples(), rate, listening(lookahead_us), rate / 100);
    ASSERT_EQ(of_kind(r.events, false).size(), 1u);
    const Envelope env = envelope(s.samples(), r.out, r.delay, rate);
    f.leak.push_back(leak_ms(env, tr.start, tr.end, r.delay, rate));
    // Attenuation once the mute is in (40 ms in) until the tone ends.
    double worst = 0.0;
    for (std::size_t k = tr.start + r.delay + rate / 25; k + rate / 500 < tr.end + r.delay; ++k)
      worst = std::max(worst, env.ratio[k]);
    f.atten_db.push_back(worst > 0.0 ? -10.0 * std::log10(worst) : 300.0);
    // The exact gain trajectory (the output is the delayed input times g).
    const auto& x = s.samples();
    std::vector<float> ref(r.out.size(), 0.0f);
    std::vector<double> g(r.out.size(), -1.0);
    for (std::size_t k = r.delay; k < r.out.size(); ++k) {
      ref[k] = x[k - r.delay];
      if (std::fabs(ref[k]) > 1e-6f) g[k] = double(r.out[k]) / ref[k];
    }
    ramp(g, ref, tr.start + r.delay - rate / 50, tr.end + r.delay, true, rate, f);
    ramp(g, ref, tr.end + r.delay - rate / 100, r.out.size(), false, rate, f);
  }
}
}  // namespace

// B1 + B2 with zero look-ahead at 8 kHz: leak <= 15 ms, >= 40 dB while the
// tone lasts, 2-5 ms ramps without steps at their ends.
TEST(ToneSuppressorQuality, ZeroLookaheadLeakAndRamps) {
  SuppressionFigures f;
  measure_suppression(8000, 0, trials(400, 80), f);
  EXPECT_LE(quantile(f.leak, 1.0), 15.0);
  EXPECT_GE(quantile(f.atten_db, 0.0), 40.0);
  ASSERT_EQ(f.down_ms.size(), f.leak.size());
  ASSERT_EQ(f.up_ms.size(), f.leak.size());
  EXPECT_GE(quantile(f.down_ms, 0.0), 2.0);
  EXPECT_LE(quantile(f.down_ms, 1.0), 5.0);
  EXPECT_GE(quantile(f.up_ms, 0.0), 2.0);
  EXPECT_LE(quantile(f.up_ms, 1.0), 5.0);
  EXPECT_LE(quantile(f.edge_step, 1.0), 0.01);  // -40 dBFS
  figure(fmt("B1 zero look-ahead, 8 kHz: leak min %.1f / median %.1f / max %.1f ms", quantile(f.leak, 0.0),
             quantile(f.leak, 0.5), quantile(f.leak, 1.0)));
  figure(
      fmt("B2 attenuation while present >= %.0f dB; ramps down %.2f ms, up %.2f ms (raised cosine); largest step at a "
          "ramp end %.1f dBFS",
          std::min(300.0, quantile(f.atten_db, 0.0)), quantile(f.down_ms, 1.0), quantile(f.up_ms, 1.0),
          20.0 * std::log10(std::max(1e-9, quantile(f.edge_step, 1.0)))));
}

// B1 with 16 ms of look-ahead: leak <= 3 ms.
TEST(ToneSuppressorQuality, SixteenMillisecondLookaheadLeak) {
  SuppressionFigures f;
  measure_suppression(8000, 16000, trials(400, 80), f);
  EXPECT_LE(quantile(f.leak, 1.0), 3.0);
  EXPECT_GE(quantile(f.atten_db, 0.0), 40.0);
  figure(fmt("B1 16 ms look-ahead, 8 kHz: leak median %.2f ms, max %.2f ms", quantile(f.leak, 0.5),
             quantile(f.leak, 1.0)));
}

// The same at the wideband rates (the decimator adds its delay to the
// detector's decision, which zero look-ahead cannot hide).
TEST(ToneSuppressorQuality, LeakAtWidebandRates) {
  for (unsigned rate : {16000u, 32000u, 48000u}) {
    SuppressionFigures f0, f16;
    measure_suppression(rate, 0, trials(100, 24), f0);
    measure_suppression(rate, 16000, trials(100, 24), f16);
    EXPECT_LE(quantile(f0.leak, 1.0), 19.0) << rate;
    EXPECT_LE(quantile(f16.leak, 1.0), 3.0) << rate;
    EXPECT_GE(quantile(f0.atten_db, 0.0), 40.0) << rate;
    figure(fmt("B1 %.0f Hz: leak max %.1f ms (zero look-ahead), %.2f ms (16 ms look-ahead)", rate,
               quantile(f0.leak, 1.0), quantile(f16.leak, 1.0)));
  }
}

// After the digit the output is the input again (gain fully back).
TEST(ToneSuppressorQuality, GainComesBackAfterTheTone) {
  Stimulus s(8000.0, 9);
  s.silence(50.0);
  const Truth tr = s.tone(Tone{});
  s.silence(100.0);
  // Speech-like material after the digit: a sine that must come through.
  testsig::add_sine(s.samples(), 500.0, -20.0, 8000.0, 0.0, tr.end + 480);
  const Processed r = suppress(s.samples(), 8000, listening());
  for (std::size_t n = tr.end + 480; n < r.out.size(); ++n) ASSERT_EQ(r.out[n], s.samples()[n]) << n;
}

// B4: detection runs on the raw input. Suppressing cannot change what is
// detected (a detector fed its own muted output would see every digit end
// when the mute starts), in place or not, with or without look-ahead.
TEST(ToneSuppressorArchitecture, DetectionNeverSeesSuppressedAudio) {
  Stimulus s(8000.0, 12);
  s.silence(40.0);
  for (int i = 0; i < 12; ++i) {
    Tone t;
    t.digit = kDigits[(i * 5) % 16];
    t.duration_ms = 45.0 + 20 * (i % 6);
    s.tone(t);
    s.silence(45.0 + 10 * (i % 3));
  }
  for (unsigned lookahead : {0u, 16000u}) {
    ListenSettings on = listening(lookahead), off = on;
    off.suppress = false;
    const Processed a = suppress(s.samples(), 8000, on), b = suppress(s.samples(), 8000, off);
    ASSERT_EQ(a.events.size(), 24u);
    ASSERT_EQ(a.events.size(), b.events.size());
    for (std::size_t i = 0; i < a.events.size(); ++i) {
      EXPECT_EQ(a.events[i].code, b.events[i].code);
      EXPECT_EQ(a.events[i].is_end, b.events[i].is_end);
      EXPECT_EQ(a.events[i].start_sample, b.events[i].start_sample);
      EXPECT_EQ(a.events[i].end_sample, b.events[i].end_sample);
    }
    // In place (in == out) gives the same output and events.
    std::vector<float> buf = s.samples();
    ToneSuppressor ts(8000, on);
    std::vector<ToneEvent> ev;
    for (std::size_t i = 0; i < buf.size(); i += 80)
      ts.process(buf.data() + i, buf.data() + i, std::min<std::size_t>(80, buf.size() - i), ev);
    EXPECT_EQ(buf, a.out);
    EXPECT_EQ(ev.size(), a.events.size());
  }
}

// Packet loss: a 20 ms gap neither loses nor duplicates a digit, wherever it
// falls in the digit, and two digits either side of a gap stay two.
TEST(ToneSuppressorConceal, TwentyMillisecondGaps) {
  const int n = trials(200, 40);
  for (unsigned rate : {8000u, 16000u}) {
    const std::size_t ms = rate / 1000;
    for (int i = 0; i < n; ++i) {
      SCOPED_TRACE(testing::Message() << rate << " Hz, trial " << i);
      Stimulus s(rate, 700u + i);
      s.silence(40.0, 2 * ms);
      Tone t;
      t.digit = kDigits[i % 16];
      t.duration_ms = 120.0;
      const Truth tr = s.tone(t);
      s.silence(100.0);
      const std::size_t gap_at = tr.start + (5 + (i * 7) % 95) * ms;  // anywhere in the digit
      ToneSuppressor ts(rate, listening());
      std::vector<ToneEvent> ev;
      std::vector<float> out(s.samples().size());
      ts.process(s.samples().data(), out.data(), gap_at, ev);
      ts.conceal(20 * ms, ev);
      const std::size_t resume = gap_at + 20 * ms;
      ts.process(s.samples().data() + resume, out.data() + resume, out.size() - resume, ev);
      EXPECT_EQ(ts.samples_processed(), s.samples().size());
      const auto st = of_kind(ev, false), en = of_kind(ev, true);
      ASSERT_EQ(st.size(), 1u);
      ASSERT_EQ(en.size(), 1u);
      EXPECT_EQ(st[0].code, t.digit);
      EXPECT_NEAR(double(st[0].start_sample), double(tr.start), 30.0 * ms);
    }
    // Two identical digits, the gap inside the 60 ms pause between them.
    for (int i = 0; i < n / 4; ++i) {
      Stimulus s(rate, 900u + i);
      s.silence(40.0, 2 * ms);
      Tone t;
      t.digit = kDigits[i % 16];
      t.duration_ms = 60.0;
      s.tone(t);
      const std::size_t pause = s.samples().size();
      s.silence(60.0);
      s.tone(t);
      s.silence(100.0);
      ToneSuppressor ts(rate, listening());
      std::vector<ToneEvent> ev;
      std::vector<float> out(s.samples().size());
      const std::size_t gap_at = pause + (20 + i % 20) * ms;
      ts.process(s.samples().data(), out.data(), gap_at, ev);
      ts.conceal(20 * ms, ev);
      const std::size_t resume = gap_at + 20 * ms;
      ts.process(s.samples().data() + resume, out.data() + resume, out.size() - resume, ev);
      EXPECT_EQ(of_kind(ev, false).size(), 2u) << rate << " Hz, pair " << i;
    }
  }
}

// The anti-alias decimator: flat to 3.4 kHz, >= 60 dB from 4 kHz up, both as
// designed and as measured with sines.
// skip(n) leaves the decimator exactly as n zeros through process() would:
// the same number of outputs due, then the same outputs, sample for sample,
// whether the skip is shorter than the filters or far longer.
TEST(ToneSuppressorDecimator, SkipIsExactlyZerosIn) {
  for (unsigned rate : {16000u, 32000u, 48000u}) {
    const auto before = testsig::sine(1000.0, -10.0, rate / 10, rate, 0.3);
    const auto after = testsig::sine(1300.0, -10.0, rate / 10, rate, 0.7);
    for (std::size_t gap : {std::size_t(1), std::size_t(7), std::size_t(97), std::size_t(rate / 5)}) {
      prosody::tones::Decimator a(rate), b(rate);
      std::vector<float> ya(before.size() + gap + after.size()), yb(ya.size()), zeros(gap, 0.0f);
      std::size_t na = a.process(before.data(), before.size(), ya.data());
      std::size_t nb = b.process(before.data(), before.size(), yb.data());
      na += a.process(zeros.data(), gap, ya.data() + na);
      nb += b.skip(gap);
      ASSERT_EQ(na, nb) << rate << " Hz, gap " << gap;
      const std::size_t ka = a.process(after.data(), after.size(), ya.data() + na);
      const std::size_t kb = b.process(after.data(), after.size(), yb.data() + nb);
      ASSERT_EQ(ka, kb);
      ASSERT_GT(ka, 100u);
      for (std::size_t i = 0; i < ka; ++i)
        ASSERT_EQ(ya[na + i], yb[nb + i]) << rate << " Hz, gap " << gap << ", output " << i;
    }
  }
}

// Quiet wideband input is not decimated while the DTMF detector skips quiet
// input. Call-progress recognition (on the right) has no such shortcut, so
// the two must report the same digits at the same times.
TEST(ToneSuppressorDecimator, QuietInputSkipsTheFilterAndChangesNothing) {
  for (unsigned rate : {16000u, 48000u}) {
    for (double hiss : {-300.0, -75.0}) {
      Stimulus s(rate, 70 + rate / 1000);
      for (int i = 0; i < 24; ++i) {
        Tone t;
        t.digit = kDigits[(i * 3) % 16];
        t.duration_ms = 45.0 + (i * 11) % 50;
        s.tone(t);
        s.silence(i % 4 == 0 ? 600.0 : 80.0 + (i * 29) % 200, rate / 400);
      }
      if (hiss > -200.0) s.add_white_noise(hiss);
      ListenSettings plain = listening(), with_cp = listening();
      with_cp.cptone_recognition = true;
      auto run = [&](const ListenSettings& l) {
        ToneSuppressor ts(rate, l);
        std::vector<ToneEvent> ev;
        const std::size_t frame = rate / 100;
        std::vector<float> out(frame);
        for (std::size_t i = 0, k = 0; i + frame <= s.samples().size(); i += frame, ++k) {
          if (k % 41 == 17)
            ts.conceal(frame, ev);
          else
            ts.process(s.samples().data() + i, out.data(), frame, ev);
        }
        std::vector<ToneEvent> digits;
        for (const ToneEvent& e : ev)
          if (e.type == RecognitionType::digit) digits.push_back(e);
        return digits;
      };
      const auto a = run(plain), b = run(with_cp);
      ASSERT_EQ(a.size(), b.size()) << rate << " Hz, hiss " << hiss;
      ASSERT_GE(a.size(), 40u);
      double worst_ms = 0.0;
      for (std::size_t i = 0; i < a.size(); ++i) {
        EXPECT_EQ(a[i].code, b[i].code);
        EXPECT_EQ(a[i].is_end, b[i].is_end);
        worst_ms = std::max({worst_ms, std::fabs(double(a[i].start_sample) - double(b[i].start_sample)) * 1000.0 / rate,
                             std::fabs(double(a[i].end_sample) - double(b[i].end_sample)) * 1000.0 / rate});
      }
      EXPECT_LE(worst_ms, hiss < -200.0 ? 0.0 : 0.25) << rate << " Hz, hiss " << hiss;
    }
  }
}

TEST(ToneSuppressorDecimator, FlatPassbandAndAliasRejection) {
  for (unsigned rate : {16000u, 32000u, 48000u}) {
    prosody::tones::Decimator d(rate);
    double ripple = 0.0, rejection = 1e9;
    for (double f = 0.0; f <= 3400.0; f += 10.0) ripple = std::max(ripple, std::fabs(d.response_db(f)));
    for (double f = 4000.0; f < rate / 2.0; f += 5.0) rejection = std::min(rejection, -d.response_db(f));
    EXPECT_LE(ripple, 0.05) << rate;
    EXPECT_GE(rejection, 60.0) << rate;
    // Measured: 1 kHz passes at its level; 4.5 kHz (aliasing to 3.5 kHz)
    // and rate/2 - 100 Hz do not.
    for (double f : {1000.0, 3300.0, 4500.0, rate / 2.0 - 100.0}) {
      prosody::tones::Decimator m(rate);
      const auto x = testsig::sine(f, 0.0, rate, rate, 0.1);
      std::vector<float> y(x.size() / d.ratio() + 1);
      const std::size_t k = m.process(x.data(), x.size(), y.data());
      const double level = testsig::level_dbm0(y.data() + 200, k - 200);
      if (f < 3400.0)
        EXPECT_NEAR(level, 0.0, 0.05) << rate << " Hz input, " << f << " Hz";
      else
        EXPECT_LT(level, -60.0) << rate << " Hz input, " << f << " Hz";
    }
    figure(
        fmt("decimator %.0f Hz -> 8 kHz: passband ripple %.3f dB to 3.4 kHz, rejection >= %.1f dB from 4 kHz, delay "
            "%.2f ms",
            rate, ripple, rejection, -d.input_offset() * 1000.0 / rate));
  }
}

// Tone set 1 / call-progress recognition through the suppressor: the CP
// detector's events arrive in the input timeline and its tones are removed.
TEST(ToneSuppressorCallProgress, CedToneReportedAndSuppressedAt16kHz) {
  const unsigned rate = 16000;
  Stimulus s(rate, 21);
  s.silence(300.0);
  const std::size_t onset = s.samples().size();
  s.silence(1500.0);
  testsig::add_sine(s.samples(), 2100.0, -20.0, rate, 0.0, onset);
  ListenSettings l = listening();
  l.tone_set = 1;
  const Processed r = suppress(s.samples(), rate, l);
  const auto st = of_kind(r.events, false);
  ASSERT_FALSE(st.empty());
  EXPECT_EQ(st[0].type, RecognitionType::tone);
  EXPECT_EQ(st[0].code, 6);  // set 1 band 6: 2085..2115 Hz (fax CED)
  EXPECT_NEAR(double(st[0].start_sample), double(onset), 0.02 * rate);
  // Once confirmed (well within 200 ms) the tone is gone from the output.
  const Envelope env = envelope(s.samples(), r.out, r.delay, rate);
  double worst = 0.0;
  for (std::size_t k = onset + rate / 5; k + rate / 10 < s.samples().size(); ++k) worst = std::max(worst, env.ratio[k]);
  EXPECT_LE(10.0 * std::log10(std::max(worst, 1e-30)), -40.0);
}

// B3 (quick): speculative mutes on real speech stay under 0.5 % of active
// speech time. The whole corpus, with and without look-ahead, runs in the
// full suite.
TEST(ToneSuppressorQuality, SpeechCollateral) {
  std::string why;
  auto files = speech_files(&why);
  if (files.empty()) PROSODY_SKIP_WITHOUT_DATA(why);
  if (!kFull) files.resize(std::min<std::size_t>(files.size(), 60));
  for (unsigned lookahead : {0u, 16000u}) {
    ToneSuppressor ts(8000, listening(lookahead));
    std::size_t active = 0, muted = 0;
    int digits = 0;
    double seconds = 0.0;
    for (const auto& f : files) {
      std::vector<float> x;
      int rate = 0;
      if (!testsig::read_wav(f, x, rate) || rate != 8000) {
        ADD_FAILURE() << "unreadable or not 8 kHz: " << f;
        continue;
      }
      x.resize(x.size() + 800, 0.0f);  // let the file play out of the delay line
      seconds += x.size() / 8000.0;
      std::vector<float> y(x.size());
      std::vector<ToneEvent> ev;
      ts.process(x.data(), y.data(), x.size(), ev);
      for (const auto& e : ev) digits += !e.is_end;
      const std::size_t d = ts.latency_samples();
      // Active speech: 10 ms frames above -45 dBm0.
      for (std::size_t fr = 0; fr + 80 <= x.size(); fr += 80) {
        if (testsig::level_dbm0(x.data() + fr, 80) < -45.0) continue;
        for (std::size_t k = fr; k < fr + 80; ++k) {
          if (x[k] == 0.0f || k + d >= y.size()) continue;
          ++active;
          if (std::fabs(y[k + d] - x[k]) > 1e-3 * std::fabs(x[k])) ++muted;
        }
      }
      ts.reset();
    }
    const double pct = active ? 100.0 * muted / active : 0.0;
    // What was checked: the first 60 files are about 1.5 minutes of speech,
    // of which well over half is active.
    EXPECT_GE(seconds, kFull ? 1000.0 : 60.0);
    EXPECT_GE(double(active) / 8000.0, kFull ? 500.0 : 30.0) << "seconds of active speech compared";
    EXPECT_EQ(digits, 0) << "false digits on speech";
    EXPECT_LE(pct, 0.5) << lookahead << " us look-ahead";
    figure(fmt("B3 collateral (%.0f s of speech, look-ahead %.0f ms): %.3f%% of active speech muted, %.0f false digits",
               seconds, lookahead / 1000.0, pct, digits));
  }
}

// The stream stops 80 ms into a 200 ms digit: finish() ends it there, with
// its measured length, and hands back the look-ahead's last samples intact.
TEST(ToneSuppressorFinish, DigitInProgressEndsWhereTheStreamStops) {
  const unsigned rate = 16000;
  Stimulus s(rate, 31);
  s.silence(100.0);
  Tone t;
  t.digit = '7';
  t.duration_ms = 200.0;
  s.tone(t);
  const std::size_t onset = s.truth()[0].start;
  const std::vector<float> x(s.samples().begin(), s.samples().begin() + long(onset + rate * 80 / 1000));
  ListenSettings l = listening(16000);
  l.suppress = false;  // so the tail is the input itself
  ToneSuppressor ts(rate, l);
  std::vector<float> out(x.size());
  std::vector<ToneEvent> ev;
  const std::size_t frame = rate / 100;
  for (std::size_t i = 0; i < x.size(); i += frame)
    ts.process(x.data() + i, out.data() + i, std::min(frame, x.size() - i), ev);
  ASSERT_EQ(of_kind(ev, false).size(), 1u) << "confirmed before the stream stops";
  ASSERT_EQ(of_kind(ev, true).size(), 0u);

  const std::size_t delay = ts.latency_samples();
  ASSERT_EQ(delay, rate * 16 / 1000);
  std::vector<float> tail(delay, 1.0f);
  ts.finish(tail.data(), ev);
  const auto ends = of_kind(ev, true);
  ASSERT_EQ(ends.size(), 1u);
  EXPECT_EQ(ends[0].code, '7');
  EXPECT_NEAR(double(ends[0].duration_ms), 80.0, 13.0);
  EXPECT_NEAR(double(ends[0].end_sample), double(x.size()), 0.013 * rate);
  EXPECT_TRUE(std::equal(tail.begin(), tail.end(), x.end() - long(delay))) << "the held-back input, unchanged";
  EXPECT_EQ(ts.samples_processed(), 0u) << "a new stream after finish()";
}

// A cadenced tone stays active through a pause (the cadence may resume), so
// only finish() can end it when the stream stops in a pause: at the end of
// its last burst.
TEST(ToneSuppressorFinish, CallProgressToneEndsAtItsLastBurst) {
  const unsigned rate = 8000;
  const std::size_t ms = rate / 1000;
  std::vector<float> x(2900 * ms, 0.0f);
  for (std::size_t on : {200u, 1200u, 2200u})  // EC busy: 425 Hz 500 ms on, 500 ms off
    testsig::add_sine(x, 425.0, -15.0, rate, 0.0, on * ms, 500 * ms);
  ListenSettings l = listening();
  l.tone_set = 1;
  l.cptone_recognition = true;
  ToneSuppressor ts(rate, l);
  std::vector<float> out(x.size());
  std::vector<ToneEvent> ev;
  for (std::size_t i = 0; i < x.size(); i += 80) ts.process(x.data() + i, out.data() + i, 80, ev);
  auto busy = [&](bool end) {
    std::vector<ToneEvent> v;
    for (const ToneEvent& e : of_kind(ev, end))
      if (e.type == RecognitionType::cptone && e.code == 2) v.push_back(e);
    return v;
  };
  ASSERT_EQ(busy(false).size(), 1u);
  ASSERT_EQ(busy(true).size(), 0u) << "still active 200 ms into a pause";
  ts.finish(nullptr, ev);
  const auto ends = busy(true);
  ASSERT_EQ(ends.size(), 1u);
  EXPECT_NEAR(double(ends[0].end_sample), 2700.0 * ms, 20.0 * ms);
  EXPECT_NEAR(double(ends[0].start_sample), 200.0 * ms, 20.0 * ms);
}
