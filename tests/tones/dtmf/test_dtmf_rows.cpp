// DTMF detector against the Q.24 / ETSI / MT8870 rows A1..A12 of
// docs/tone-detection.md (dsp.md "Targets").
//
// Built twice: test_dtmf_rows (default suite, reduced trial counts) and
// test_dtmf_rows_full (suite 'slow', DTMF_FULL_SWEEPS: the full counts, fine
// sweeps and the speech corpus). Every assertion is on a measured number.
#include "test_data.hpp"
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "dtmf_harness.hpp"
#include "signal.hpp"

using namespace dtmftest;
using prosody::DtmfStandard;

namespace {

#ifdef DTMF_FULL_SWEEPS
constexpr bool kFull = true;
#else
constexpr bool kFull = false;
#endif
int trials(int full, int fast) { return kFull ? full : fast; }

const Codec kCodecs[3] = {Codec::none, Codec::alaw, Codec::ulaw};

std::string fmt(const char* f, double a, double b = 0, double c = 0, double d = 0) {
  char buf[256];
  std::snprintf(buf, sizeof buf, f, a, b, c, d);
  return buf;
}

DtmfConfig etsi() {
  DtmfConfig c;
  c.standard = DtmfStandard::etsi;
  return c;
}

// Trial with one tone (low if tone < 4) offset by off_hz; the other tone is
// nominal and the digit is random among those using this tone.
Trial offset_trial(int tone, double off_hz, double ms, double level) {
  Trial t;
  t.random_digit = false;
  t.tone.duration_ms = ms;
  t.tone.low_level_dbm0 = t.tone.high_level_dbm0 = level;
  if (tone < 4)
    t.tone.low_offset_hz = off_hz;
  else
    t.tone.high_offset_hz = off_hz;
  return t;
}
char digit_with_tone(int tone, int i) {
  return tone < 4 ? kDigits[tone * 4 + i % 4] : kDigits[(i % 4) * 4 + (tone - 4)];
}
double nominal(int tone) { return tone < 4 ? kRowHz[tone] : kColumnHz[tone - 4]; }

}  // namespace

// A1: every tone at +/-(1.5 % + 2 Hz) is detected in every trial, through
// each codec, at levels across the operating range.
TEST(DtmfRows, A1AcceptEdgeOfFrequencyTolerance) {
  const int n = trials(200, 24);
  for (int tone = 0; tone < 8; ++tone)
    for (int sign : {-1, 1})
      for (Codec codec : kCodecs) {
        const Trial base = offset_trial(tone, accept_edge_hz(nominal(tone), sign), 40.0, -10.0);
        Rates r = run_trials(base, {}, n, 1000u + tone * 97 + (sign > 0) * 13 + int(codec), [&](Trial& t, int i) {
          t.tone.digit = digit_with_tone(tone, i);
          t.tone.low_level_dbm0 = t.tone.high_level_dbm0 = -2.0 - (i % 24);
          t.codec = codec;
        });
        EXPECT_EQ(r.exact, r.trials) << nominal(tone) << " Hz " << (sign > 0 ? "+" : "-") << "(1.5%+2Hz) via "
                                     << codec_name(codec);
      }
  figure(fmt("A1 accept +/-(1.5%%+2Hz), 40 ms tones, 8 tones x 2 signs x 3 codecs x %.0f trials: all detected", n));
}

// A2: at +/-3.5 % nothing is detected, for 40 ms and 500 ms tones, -25..0 dBm0.
TEST(DtmfRows, A2RejectAtThreeAndAHalfPercent) {
  const int n = trials(200, 16);
  int detected = 0, total = 0;
  for (int tone = 0; tone < 8; ++tone)
    for (int sign : {-1, 1})
      for (double ms : {40.0, 500.0}) {
        const Trial base = offset_trial(tone, reject_edge_hz(nominal(tone), sign), ms, -10.0);
        Rates r = run_trials(base, {}, n, 3000u + tone * 31 + (sign > 0) * 7 + int(ms), [&](Trial& t, int i) {
          t.tone.digit = digit_with_tone(tone, i);
          t.tone.low_level_dbm0 = t.tone.high_level_dbm0 = -(i % 26);
          t.codec = kCodecs[i % 3];
        });
        EXPECT_EQ(r.any, 0) << nominal(tone) << " Hz " << (sign > 0 ? "+" : "-") << "3.5%, " << ms << " ms";
        detected += r.any;
        total += r.trials;
      }
  figure(fmt("A2 reject +/-3.5%%, 40 and 500 ms, -25..0 dBm0: %.0f of %.0f trials detected", detected, total));
}

#ifdef DTMF_FULL_SWEEPS
// The whole acceptance curve: 100 % inside +/-(1.5 % + 2 Hz), 0 % beyond
// +/-3.5 %, one decision point in between (printed per tone).
TEST(DtmfRows, FrequencySweepPerTone) {
  for (int tone = 0; tone < 8; ++tone) {
    double lo = 0, hi = 0;  // widest offsets (percent) still detected
    for (double pct = -5.0; pct <= 5.0001; pct += 0.1) {
      const Trial base = offset_trial(tone, nominal(tone) * pct / 100.0, 60.0, -17.0);
      const Rates r = run_trials(base, {}, 20, 5000u + tone * 101 + int(pct * 10 + 50),
                                 [&](Trial& t, int i) { t.tone.digit = digit_with_tone(tone, i); });
      const double a = 0.015 * nominal(tone) + 2.0;
      if (std::fabs(pct) * nominal(tone) / 100.0 <= a) {
        EXPECT_EQ(r.exact, r.trials) << pct << "%";
      }
      if (std::fabs(pct) >= 3.5 - 1e-9) {
        EXPECT_EQ(r.any, 0) << pct << "%";
      }
      if (r.exact == r.trials) {
        lo = std::min(lo, pct);
        hi = std::max(hi, pct);
      }
    }
    figure(fmt("A1/A2 %4.0f Hz: detected 100%% from %+.1f%% to %+.1f%%", nominal(tone), lo, hi));
  }
}
#endif

// A3: 100 % at >= 40 ms; 0 % at <= 23 ms (Q.24) / <= 20 ms (ETSI).
TEST(DtmfRows, A3Duration) {
  const int n = trials(200, 40);
  auto rate = [&](double ms, const DtmfConfig& c, std::uint32_t seed) {
    Trial t;
    t.tone.duration_ms = ms;
    return run_trials(t, c, n, seed, [&](Trial& tr, int i) {
      tr.tone.low_level_dbm0 = tr.tone.high_level_dbm0 = -3.0 - (i % 23);
      tr.codec = kCodecs[i % 3];
    });
  };
  for (double ms : {40.0, 45.0, 60.0}) {
    EXPECT_EQ(rate(ms, {}, 100).exact_pct(), 100.0) << ms << " ms, Q.24";
    EXPECT_EQ(rate(ms, etsi(), 200).exact_pct(), 100.0) << ms << " ms, ETSI";
  }
  for (double ms : {10.0, 15.0, 20.0, 23.0}) EXPECT_EQ(rate(ms, {}, 300).any, 0) << ms << " ms, Q.24";
  for (double ms : {10.0, 15.0, 20.0}) EXPECT_EQ(rate(ms, etsi(), 400).any, 0) << ms << " ms, ETSI";
  if (kFull) {
    std::string curve = "A3 detection vs duration (Q.24):";
    for (double ms = 20; ms <= 40; ms += 1) curve += fmt(" %.0f:%.0f%%", ms, rate(ms, {}, 600 + ms).any_pct());
    figure(curve);
  }
  figure("A3 100% at 40/45/60 ms, 0% at <= 23 ms (Q.24) and <= 20 ms (ETSI)");
}

// A4: an interruption of <= 10 ms (Q.24) / < 20 ms (ETSI) inside a digit
// gives exactly one digit, wherever it falls.
TEST(DtmfRows, A4InterruptionIsBridged) {
  const int n = trials(200, 40);
  auto check = [&](double gap, const DtmfConfig& c, std::uint32_t seed) {
    Trial t;
    t.tone.duration_ms = 120.0;
    t.tone.interruption_ms = gap;
    return run_trials(t, c, n, seed, [&](Trial& tr, int i) {
      tr.tone.interruption_at_ms = 30.0 + (i * 37) % 60;
      tr.tone.low_level_dbm0 = tr.tone.high_level_dbm0 = -3.0 - (i % 23);
      tr.codec = kCodecs[i % 3];
    });
  };
  for (double gap : {2.0, 5.0, 8.0, 10.0}) EXPECT_EQ(check(gap, {}, 700).exact_pct(), 100.0) << gap << " ms, Q.24";
  for (double gap : {10.0, 15.0, 19.0}) EXPECT_EQ(check(gap, etsi(), 800).exact_pct(), 100.0) << gap << " ms, ETSI";
  figure("A4 interruptions of 2..10 ms (Q.24) and 10..19 ms (ETSI) bridged: one digit in every trial");
}

// A5: two digits separated by a 40 ms pause are two digits (including the
// same digit twice); 93 ms per digit works.
TEST(DtmfRows, A5FortyMillisecondPauseSeparates) {
  const int n = trials(300, 60);
  for (const DtmfConfig& c : {DtmfConfig{}, etsi()}) {
    int ok = 0;
    for (int i = 0; i < n; ++i) {
      Stimulus s(8000.0, 900u + i);
      s.silence(30.0, 64);
      Tone a;
      a.digit = kDigits[i % 16];
      a.duration_ms = 53.0;  // 53 + 40 = 93 ms per digit
      a.low_level_dbm0 = a.high_level_dbm0 = -3.0 - (i % 23);
      Tone b = a;
      b.digit = i % 2 ? a.digit : kDigits[(i * 7 + 3) % 16];
      s.tone(a);
      s.silence(40.0);
      s.tone(b);
      s.silence(100.0);
      s.saturate_int16();
      s.codec_round_trip(kCodecs[i % 3]);
      const auto st = starts_of(detect(s.samples(), c));
      ok += st.size() == 2 && st[0].digit == a.digit && st[1].digit == b.digit;
    }
    EXPECT_EQ(ok, n) << (c.standard == DtmfStandard::etsi ? "ETSI" : "Q.24");
  }
  figure(
      fmt("A5 two digits with a 40 ms pause (53 ms on, 93 ms/digit, half repeats): %.0f/%.0f pairs right in both modes",
          n, n));
}

// A6: twist accepted at exactly the limit, rejected 0.5 dB past it and at
// 10 dB, for the default 8/4 dB and other administrations' limits.
TEST(DtmfRows, A6TwistBoundary) {
  const int n = trials(100, 24);
  struct Case {
    double normal, reverse;
  };
  for (Case lim : {Case{8, 4}, Case{5, 5}, Case{6, 6}, Case{9, 9}, Case{10, 10}}) {
    DtmfConfig c;
    c.twist_normal_db = lim.normal;
    c.twist_reverse_db = lim.reverse;
    for (int reverse = 0; reverse < 2; ++reverse) {
      const double limit = reverse ? lim.reverse : lim.normal;
      auto rate = [&](double twist, std::uint32_t seed) {
        Trial t;
        return run_trials(t, c, n, seed, [&](Trial& tr, int i) {
          const double strong = -3.0 - (i % 13);
          tr.tone.low_level_dbm0 = reverse ? strong - twist : strong;
          tr.tone.high_level_dbm0 = reverse ? strong : strong - twist;
          tr.codec = kCodecs[i % 3];
        });
      };
      EXPECT_EQ(rate(limit, 1100).exact_pct(), 100.0) << (reverse ? "reverse " : "normal ") << limit << " dB";
      EXPECT_EQ(rate(limit + 0.5, 1200).any, 0) << (reverse ? "reverse " : "normal ") << limit + 0.5 << " dB";
      if (limit < 10.0) {
        EXPECT_EQ(rate(10.0, 1300).any, 0) << "10 dB";
      }
    }
  }
  figure("A6 twist: 100% at the limit, 0% at limit + 0.5 dB, for 8/4 (default), 5, 6, 9 and 10 dB");
}

// A7: -25..0 dBm0 per tone accepted (and the stretch, -36), -55 rejected.
TEST(DtmfRows, A7Levels) {
  const int n = trials(100, 24);
  for (double level : {3.0, 0.0, -10.0, -20.0, -25.0, -30.0, -36.0}) {
    Trial t;
    t.tone.low_level_dbm0 = t.tone.high_level_dbm0 = level;
    const Rates r = run_trials(t, {}, n, 1400u + int(-level), [&](Trial& tr, int i) { tr.codec = kCodecs[i % 3]; });
    EXPECT_EQ(r.exact_pct(), 100.0) << level << " dBm0";
  }
  for (double level : {-45.0, -55.0, -60.0}) {
    Trial t;
    t.tone.low_level_dbm0 = t.tone.high_level_dbm0 = level;
    const Rates r = run_trials(t, {}, n, 1500u + int(-level), [&](Trial& tr, int i) { tr.codec = kCodecs[i % 3]; });
    EXPECT_EQ(r.any, 0) << level << " dBm0";
  }
  // A stricter administration's floor (NTT: nothing at -29 dBm0).
  DtmfConfig ntt;
  ntt.min_level_dbm0 = -27.0;
  Trial t;
  t.tone.low_level_dbm0 = t.tone.high_level_dbm0 = -29.0;
  EXPECT_EQ(run_trials(t, ntt, n, 1600).any, 0);
  t.tone.low_level_dbm0 = t.tone.high_level_dbm0 = -24.0;
  EXPECT_EQ(run_trials(t, ntt, n, 1700).exact_pct(), 100.0);
  figure("A7 levels +3..-36 dBm0 per tone: 100% (linear, A-law, mu-law); -45/-55/-60 dBm0: 0%; floor configurable");
}

// A8: AWGN over 0..4 kHz at 12 dB SNR (total DTMF power / noise power):
// no error in 1000 digits (50 ms on, 50 ms off), through each codec.
TEST(DtmfRows, A8WhiteNoise) {
  const int digits = trials(1000, 200);
  auto run = [&](double snr, Codec codec, std::uint32_t seed) {
    const Stimulus s = digits_in_noise(snr, digits, seed, codec);
    return score(s.truth(), detect(s.samples()));
  };
  for (Codec codec : kCodecs) {
    const Score s = run(12.0, codec, 2000u + int(codec));
    EXPECT_EQ(s.errors(), 0) << codec_name(codec) << ": " << s.misses << " missed, " << s.wrong << " wrong, " << s.extra
                             << " extra";
    figure(fmt("A8 12 dB SNR, %.0f digits: %.0f missed, %.0f wrong, %.0f extra", digits, s.misses, s.wrong, s.extra) +
           " (" + codec_name(codec) + ")");
  }
  if (kFull) {
    for (double snr : {10.0, 8.0, 6.0}) {
      const Score s = run(snr, Codec::none, 2100u + int(snr));
      figure(fmt("A8 %.0f dB SNR (stretch): %.1f%% detected, %.0f wrong, %.0f extra", snr, 100.0 * s.hits / s.expected,
                 s.wrong, s.extra));
      EXPECT_EQ(s.wrong + s.extra, 0) << snr << " dB: no false digits even when digits are missed";
    }
  }
}

// A9: dial tone (350 + 440 Hz) 10 dB above the DTMF (per component).
TEST(DtmfRows, A9DialTone) {
  const int n = trials(200, 48);
  for (double dial : {10.0, 16.0}) {
    Trial t;
    t.tone.low_level_dbm0 = t.tone.high_level_dbm0 = -22.0;
    t.dial_tone_db = dial;
    const Rates r = run_trials(t, {}, n, 2200u + int(dial), [&](Trial& tr, int i) { tr.codec = kCodecs[i % 3]; });
    EXPECT_EQ(r.exact_pct(), 100.0) << "dial tone " << dial << " dB above the DTMF";
  }
  // Stretch (MT8870): dial tone 22 dB above a tone at the minimum accept level.
  Trial t;
  t.tone.low_level_dbm0 = t.tone.high_level_dbm0 = -25.0;
  t.dial_tone_db = 22.0;
  const Rates r = run_trials(t, {}, n, 2300);
  EXPECT_EQ(r.exact_pct(), 100.0) << "stretch: +22 dB";
  figure(fmt("A9 dial tone +10 and +16 dB over the DTMF (all codecs): 100%%; +22 dB over -25 dBm0 (linear): %.0f%%",
             r.exact_pct()));
}

// A11 and A12: latency, and start/end events with duration and level.
TEST(DtmfRows, A11LatencyAndA12Events) {
  const int n = trials(1000, 200);
  std::vector<double> latency, dur_err, level_err;
  int complete = 0;
  for (int i = 0; i < n; ++i) {
    Trial t;
    t.tone.duration_ms = 40.0 + (i * 13) % 160;
    t.tone.low_level_dbm0 = -3.0 - (i % 23);
    t.tone.high_level_dbm0 = t.tone.low_level_dbm0 + ((i % 7) - 3);
    t.codec = kCodecs[i % 3];
    const TrialResult r = run_trial(t, {}, 3000u + i, 1);  // sample by sample: exact report time
    const auto st = starts_of(r.events), en = ends_of(r.events);
    ASSERT_EQ(st.size(), 1u);
    ASSERT_EQ(en.size(), 1u);
    ++complete;
    latency.push_back((double(st[0].decided_sample) - r.truth.start) / 8.0);
    dur_err.push_back(en[0].duration_ms - t.tone.duration_ms);
    level_err.push_back(en[0].level_dbm0 - std::max(t.tone.low_level_dbm0, t.tone.high_level_dbm0));
    EXPECT_EQ(en[0].start_sample, st[0].start_sample);
  }
  const double lat_max = quantile(latency, 1.0), lat_med = quantile(latency, 0.5);
  EXPECT_LE(lat_max, 40.0);
  EXPECT_LE(lat_med, 30.0);
  auto absmax = [](const std::vector<double>& v) {
    double m = 0;
    for (double x : v) m = std::max(m, std::fabs(x));
    return m;
  };
  EXPECT_LE(absmax(dur_err), 13.0);
  EXPECT_LE(absmax(level_err), 1.0);
  figure(fmt("A11 latency (%.0f digits): min %.1f ms, median %.1f ms, max %.1f ms", n, quantile(latency, 0.0), lat_med,
             lat_max));
  figure(fmt("A12 start+end for every digit; duration error max %.2f ms, level error max %.2f dB", absmax(dur_err),
             absmax(level_err)));
}

// Prosody's minimum-duration modes: 40 and 64 ms qualify tones of at least
// that length and nothing much shorter.
TEST(DtmfRows, MinimumDurationModes) {
  const int n = trials(100, 24);
  for (unsigned mode : {40u, 64u}) {
    DtmfConfig c;
    c.min_duration_ms = mode;
    Trial t;
    t.tone.duration_ms = mode;
    EXPECT_EQ(run_trials(t, c, n, 4000 + mode).exact_pct(), 100.0) << mode << " ms tones, mode " << mode;
    t.tone.duration_ms = mode - 6.0;
    EXPECT_EQ(run_trials(t, c, n, 4100 + mode).any, 0) << mode - 6.0 << " ms tones, mode " << mode;
  }
}

// Quiet stretches (below the -55 dBm0 must-reject level, nothing tone-like
// about) are skipped without writing history, and the history is filled in
// when the input wakes up. A detector with a trace callback takes the
// per-hop path throughout: both must report the same digits at the same
// measured times, through losses in silence and inside digits, and after
// silences longer than the history.
namespace {
std::vector<DtmfEvent> detect_with_losses(const std::vector<float>& x, bool per_hop, std::uint64_t* hops) {
  prosody::tones::DtmfDetector d;
  if (per_hop) d.set_trace([](const prosody::tones::DtmfDetector::Trace&, void*) {}, nullptr);
  std::vector<DtmfEvent> events;
  for (std::size_t i = 0, frame = 0; i + 80 <= x.size(); i += 80, ++frame) {
    if (frame % 37 == 11)
      d.conceal(80, events);  // a lost packet now and then, in silence or in a digit
    else
      d.process(x.data() + i, 80, events);
  }
  *hops = d.stats().hops;
  return events;
}
}  // namespace

TEST(DtmfDetector, SkippingQuietInputChangesNothing) {
  for (double hiss_dbm0 : {-300.0, -75.0}) {  // digital silence, then quiet hiss
    Stimulus s(8000.0, 91);
    for (int i = 0; i < 40; ++i) {
      Tone t;
      t.digit = kDigits[i % 16];
      t.duration_ms = 40.0 + (i * 7) % 60;
      t.low_level_dbm0 = -5.0 - (i % 30);
      t.high_level_dbm0 = t.low_level_dbm0 - 1.0;
      s.tone(t);
      s.silence(i % 5 == 0 ? 700.0 : 60.0 + (i * 37) % 240, 7);  // some longer than the 128 ms history
    }
    if (hiss_dbm0 > -200.0) s.add_white_noise(hiss_dbm0);
    std::uint64_t hops_per_hop = 0, hops_skipping = 0;
    const auto a = detect_with_losses(s.samples(), true, &hops_per_hop);
    const auto b = detect_with_losses(s.samples(), false, &hops_skipping);
    EXPECT_EQ(hops_per_hop, hops_skipping);
    ASSERT_EQ(a.size(), b.size()) << "hiss " << hiss_dbm0 << " dBm0";
    ASSERT_GE(starts_of(a).size(), 30u);  // most digits survive the losses
    double worst_time = 0.0, worst_level = 0.0;
    for (std::size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(a[i].digit, b[i].digit);
      EXPECT_EQ(a[i].is_end, b[i].is_end);
      for (auto [u, v] : {std::pair{a[i].start_sample, b[i].start_sample}, std::pair{a[i].end_sample, b[i].end_sample},
                          std::pair{a[i].decided_sample, b[i].decided_sample}})
        worst_time = std::max(worst_time, std::fabs(double(u) - double(v)) / 8.0);
      worst_level = std::max(worst_level, std::fabs(a[i].level_dbm0 - b[i].level_dbm0));
    }
    // Digital silence: identical. Hiss: the skipped path counts it as the
    // zeros it effectively is, which moves nothing measurably.
    const bool silent = hiss_dbm0 < -200.0;
    EXPECT_LE(worst_time, silent ? 0.0 : 0.25) << "ms";
    EXPECT_LE(worst_level, silent ? 0.0 : 0.01) << "dB";
    figure(fmt("quiet skipping, %.0f dBm0 hiss: %.0f events, same digits; times within %.3f ms, levels within %.4f dB",
               silent ? -999.0 : hiss_dbm0, double(a.size()), worst_time, worst_level));
  }
}

// The measured frequencies are reported, to better than 1 Hz on clean tones.
TEST(DtmfRows, ReportedFrequencies) {
  for (int i = 0; i < 32; ++i) {
    Trial t;
    t.tone.digit = kDigits[i % 16];
    t.random_digit = false;
    t.tone.duration_ms = 80.0;
    t.tone.low_offset_hz = (i % 5) - 2.0;
    t.tone.high_offset_hz = (i % 7) - 3.0;
    const TrialResult r = run_trial(t, {}, 4200u + i);
    const auto en = ends_of(r.events);
    ASSERT_EQ(en.size(), 1u);
    EXPECT_NEAR(en[0].low_freq_hz, low_freq(t.tone.digit) + t.tone.low_offset_hz, 1.0);
    EXPECT_NEAR(en[0].high_freq_hz, high_freq(t.tone.digit) + t.tone.high_offset_hz, 1.0);
  }
}

#ifdef DTMF_FULL_SWEEPS
namespace {
// The whole speech corpus through one detector (one continuous stream, files
// 100 ms apart), at a gain, optionally through a codec. Returns false digits.
int talk_off(const std::vector<std::string>& files, double gain_db, Codec codec, double* seconds) {
  prosody::tones::DtmfDetector d;
  std::vector<DtmfEvent> ev;
  const std::vector<float> gap(800, 0.0f);
  const double g = std::pow(10.0, gain_db / 20.0);
  *seconds = 0.0;
  for (const auto& f : files) {
    std::vector<float> x;
    int rate = 0;
    if (!testsig::read_wav(f, x, rate) || rate != 8000) {
      ADD_FAILURE() << "unreadable or not 8 kHz: " << f;
      continue;
    }
    for (float& v : x) v = std::clamp(float(v * g), -1.0f, 32767.0f / 32768.0f);
    g711_round_trip(x, codec);
    *seconds += x.size() / 8000.0;
    const std::size_t before = ev.size();
    d.process(x.data(), x.size(), ev);
    d.process(gap.data(), gap.size(), ev);
    for (std::size_t k = before; k < ev.size(); ++k)
      if (!ev[k].is_end)
        std::printf("false digit '%c' in %s (%.1f dB, %s)\n", ev[k].digit, f.c_str(), gain_db, codec_name(codec));
  }
  return static_cast<int>(starts_of(ev).size());
}

// A10: zero false digits on a corpus at nominal level and +10 dB, through
// every codec.
void expect_no_talk_off(const std::vector<std::string>& files, const char* what) {
  for (double gain : {0.0, 10.0})
    for (Codec codec : kCodecs) {
      double seconds = 0;
      const int falses = talk_off(files, gain, codec, &seconds);
      EXPECT_EQ(falses, 0) << what << ", " << gain << " dB, " << codec_name(codec);
      // The corpus as installed (Debian's: 1,529 s of speech, 1,107 s of music).
      EXPECT_GE(seconds, 1000.0) << what << ": less audio than the corpus holds";
      figure(fmt("A10 talk-off: %.0f false digits in %.0f s of ", falses, seconds) + what + fmt(" at %+.0f dB", gain) +
             " (" + codec_name(codec) + ")");
    }
}
}  // namespace

TEST(DtmfRows, A10TalkOffOnSpeechCorpus) {
  std::string why;
  const auto files = speech_files(&why);
  if (files.empty()) PROSODY_SKIP_WITHOUT_DATA(why);
  expect_no_talk_off(files, "speech");
}

TEST(DtmfRows, A10TalkOffOnMusic) {
  std::string why;
  const auto files = music_files(&why);
  if (files.empty()) PROSODY_SKIP_WITHOUT_DATA(why);
  expect_no_talk_off(files, "music");
}
#endif
