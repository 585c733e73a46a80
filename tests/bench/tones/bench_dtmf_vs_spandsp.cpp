// DTMF detection: prosody's detector against spandsp 0.0.6 dtmf_rx with its
// default parameters (what GStreamer's dtmfdetect runs), side by side in one
// run, on the same stimuli: accuracy at the rows A1-A12 of
// docs/tone-detection.md, false digits on the speech corpus, report latency,
// and CPU per channel-second.
//
// CPU is the thread's CPU time for feeding 10 ms frames of 16-bit samples, the
// format a line delivers, to each detector: spandsp takes them as they are;
// ours converts them to float first (libprosody's conversion), and that
// conversion is charged to ours. The stimulus is made 16-bit once, outside
// the timing.
//
// Run: meson test -C <build> --benchmark --suite tones -v
#include <algorithm>
#include <chrono>
#include <ctime>
#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "dtmf_detector.hpp"
#include "dtmf_stimulus.hpp"
#include "prosody/prosody.hpp"
#include "prosody/tones.hpp"
#include "signal.hpp"

extern "C" {
#include <spandsp.h>
#include <spandsp/version.h>
}

using namespace dtmftest;
using prosody::tones::DtmfConfig;
using prosody::tones::DtmfDetector;
using prosody::tones::DtmfEvent;

namespace {

struct Start {
  char digit;
  std::uint64_t at;  // sample count when the detector said so
};

// A detector under test: feed samples, collect digit starts.
class Receiver {
 public:
  virtual ~Receiver() = default;
  virtual void feed(const float* x, std::size_t n) = 0;
  // 16-bit samples, as a line delivers them (the CPU measure).
  virtual void feed_s16(const std::int16_t* x, std::size_t n) = 0;
  std::vector<Start> starts;
};

class Ours : public Receiver {
 public:
  explicit Ours(const DtmfConfig& c = {}) : d_(c) { ev_.reserve(64); }
  void feed(const float* x, std::size_t n) override {
    ev_.clear();
    d_.process(x, n, ev_);
    for (const DtmfEvent& e : ev_)
      if (!e.is_end) starts.push_back({e.digit, e.decided_sample});
  }
  void feed_s16(const std::int16_t* x, std::size_t n) override {
    if (f_.size() < n) f_.resize(n);
    prosody::s16_to_float(x, f_.data(), n);
    feed(f_.data(), n);
  }

 private:
  DtmfDetector d_;
  std::vector<DtmfEvent> ev_;
  std::vector<float> f_;
};

class Spandsp : public Receiver {
 public:
  Spandsp() {
    s_ = dtmf_rx_init(nullptr, nullptr, nullptr);
    dtmf_rx_set_realtime_callback(s_, &Spandsp::report, this);
  }
  ~Spandsp() override { dtmf_rx_free(s_); }
  void feed(const float* x, std::size_t n) override {
    buf_.resize(n);
    for (std::size_t i = 0; i < n; ++i)
      buf_[i] = static_cast<std::int16_t>(std::clamp(std::nearbyint(x[i] * 32768.0f), -32768.0f, 32767.0f));
    fed_ += n;  // the callback reports during this call: at most n samples late
    dtmf_rx(s_, buf_.data(), static_cast<int>(n));
  }
  void feed_s16(const std::int16_t* x, std::size_t n) override {
    fed_ += n;
    dtmf_rx(s_, x, static_cast<int>(n));
  }

 private:
  static void report(void* user, int code, int, int) {
    auto* self = static_cast<Spandsp*>(user);
    if (code) self->starts.push_back({static_cast<char>(code), self->fed_});
  }
  dtmf_rx_state_t* s_;
  std::vector<std::int16_t> buf_;
  std::uint64_t fed_ = 0;
};

using Factory = std::function<std::unique_ptr<Receiver>()>;
std::unique_ptr<Receiver> ours() { return std::make_unique<Ours>(); }
std::unique_ptr<Receiver> spandsp() { return std::make_unique<Spandsp>(); }

std::vector<Start> run(const Factory& make, const std::vector<float>& x, std::size_t chunk = 160) {
  auto r = make();
  for (std::size_t i = 0; i < x.size(); i += chunk) r->feed(x.data() + i, std::min(chunk, x.size() - i));
  return r->starts;
}

// One isolated burst per trial; returns the fraction (percent) of trials in
// which `ok(starts, digit)` holds.
double percent(const Factory& make, int trials, std::uint32_t seed,
               const std::function<void(Stimulus&, Tone&, int)>& build,
               const std::function<bool(const std::vector<Start>&, char)>& ok) {
  int good = 0;
  for (int i = 0; i < trials; ++i) {
    Stimulus s(8000.0, seed + 7919u * i);
    Tone t;
    t.digit = kDigits[s.rng()() % 16];
    s.silence(40.0, 102);  // onsets anywhere on either detector's block grid
    build(s, t, i);
    s.silence(150.0);
    if (ok(run(make, s.samples()), t.digit)) ++good;
  }
  return 100.0 * good / trials;
}

bool one_right(const std::vector<Start>& st, char d) { return st.size() == 1 && st[0].digit == d; }
bool any(const std::vector<Start>& st, char) { return !st.empty(); }

const Codec kCodecs[3] = {Codec::none, Codec::alaw, Codec::ulaw};

void finish(Stimulus& s, int i) {
  s.saturate_int16();
  s.codec_round_trip(kCodecs[i % 3]);
}

struct Row {
  std::string row, point, ours, spandsp;
};
std::vector<Row> table;

std::string pct(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f %%", v);
  return b;
}

void add(const std::string& row, const std::string& point, const std::function<double(const Factory&)>& measure) {
  table.push_back({row, point, pct(measure(ours)), pct(measure(spandsp))});
  std::printf("  %-4s %-52s ours %8s  spandsp %8s\n", row.c_str(), point.c_str(), table.back().ours.c_str(),
              table.back().spandsp.c_str());
  std::fflush(stdout);
}

// A sequence of digits (50 ms on, 50 ms off) in AWGN; returns errors.
struct Errors {
  int missed = 0, extra = 0, wrong = 0, expected = 0;
};
Errors errors_in_noise(const Factory& make, double snr, int digits, std::uint32_t seed, Codec codec) {
  const Stimulus s = digits_in_noise(snr, digits, seed, codec);
  const auto st = run(make, s.samples());
  Errors e;
  e.expected = digits;
  std::vector<bool> used(st.size(), false);
  for (const Truth& t : s.truth()) {
    bool found = false;
    for (std::size_t j = 0; j < st.size(); ++j) {
      // A start counts for the burst it is reported during or within 60 ms after.
      if (!used[j] && st[j].at >= t.start && st[j].at <= t.end + 480) {
        used[j] = true;
        found = true;
        if (st[j].digit != t.digit) ++e.wrong;
        break;
      }
    }
    if (!found) ++e.missed;
  }
  for (bool u : used) e.extra += !u;
  return e;
}

int talk_off(const Factory& make, const std::vector<std::string>& files, double gain_db, Codec codec, double* seconds) {
  auto r = make();
  const double g = std::pow(10.0, gain_db / 20.0);
  const std::vector<float> gap(800, 0.0f);
  *seconds = 0.0;
  for (const auto& f : files) {
    std::vector<float> x;
    int rate = 0;
    if (!testsig::read_wav(f, x, rate) || rate != 8000) continue;
    for (float& v : x) v = std::clamp(float(v * g), -1.0f, 32767.0f / 32768.0f);
    g711_round_trip(x, codec);
    *seconds += x.size() / 8000.0;
    for (std::size_t i = 0; i < x.size(); i += 160) r->feed(x.data() + i, std::min<std::size_t>(160, x.size() - i));
    r->feed(gap.data(), gap.size());
  }
  return static_cast<int>(r->starts.size());
}

double thread_cpu_seconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

// CPU seconds to feed x (16-bit) in 10 ms frames.
double seconds_per_pass(const Factory& make, const std::vector<std::int16_t>& x) {
  auto r = make();
  const double t0 = thread_cpu_seconds();
  for (std::size_t i = 0; i + 80 <= x.size(); i += 80) r->feed_s16(x.data() + i, 80);
  return thread_cpu_seconds() - t0;
}

}  // namespace

int main() {
  std::printf("DTMF detection: prosody vs spandsp 0.0.6 (release %s) dtmf_rx with defaults\n\n",
              SPANDSP_RELEASE_DATETIME_STRING);
  const int n = 60;  // trials per point (per codec rotation: linear, A-law, mu-law)

  // --- A1 / A2: frequency ------------------------------------------------
  add("A1", "+/-(1.5% + 2 Hz), each tone, 40 ms, -3..-24 dBm0: detected", [&](const Factory& f) {
    double sum = 0;
    for (int tone = 0; tone < 8; ++tone)
      for (int sign : {-1, 1})
        sum += percent(
            f, n / 3, 100 + tone * 10 + sign,
            [&](Stimulus& s, Tone& t, int i) {
              const double nom = tone < 4 ? kRowHz[tone] : kColumnHz[tone - 4];
              t.digit = tone < 4 ? kDigits[tone * 4 + i % 4] : kDigits[(i % 4) * 4 + tone - 4];
              (tone < 4 ? t.low_offset_hz : t.high_offset_hz) = accept_edge_hz(nom, sign);
              t.duration_ms = 40.0;
              t.low_level_dbm0 = t.high_level_dbm0 = -3.0 - (i % 22);
              s.tone(t);
              finish(s, i);
            },
            one_right);
    return sum / 16.0;
  });
  add("A2", "+/-3.5 %, each tone, 40 and 500 ms, -25..0 dBm0: accepted", [&](const Factory& f) {
    double sum = 0;
    for (int tone = 0; tone < 8; ++tone)
      for (int sign : {-1, 1})
        sum += percent(
            f, n / 3, 200 + tone * 10 + sign,
            [&](Stimulus& s, Tone& t, int i) {
              const double nom = tone < 4 ? kRowHz[tone] : kColumnHz[tone - 4];
              t.digit = tone < 4 ? kDigits[tone * 4 + i % 4] : kDigits[(i % 4) * 4 + tone - 4];
              (tone < 4 ? t.low_offset_hz : t.high_offset_hz) = reject_edge_hz(nom, sign);
              t.duration_ms = i % 2 ? 500.0 : 40.0;
              t.low_level_dbm0 = t.high_level_dbm0 = -(i % 26);
              s.tone(t);
              finish(s, i);
            },
            any);
    return sum / 16.0;
  });
  add("A2", "697 Hz at -4.4 %, 200 ms, -4 dBm0: accepted", [&](const Factory& f) {
    return percent(
        f, n, 250,
        [&](Stimulus& s, Tone& t, int i) {
          t.digit = kDigits[(i % 4)];
          t.low_offset_hz = -0.044 * 697.0;
          t.duration_ms = 200.0;
          t.low_level_dbm0 = t.high_level_dbm0 = -4.0;
          s.tone(t);
          finish(s, i);
        },
        any);
  });

  // --- A3: duration ---------------------------------------------------------
  for (double ms : {40.0, 23.0, 20.0}) {
    add("A3", std::to_string(int(ms)) + " ms tones, -3..-25 dBm0: " + (ms >= 40 ? "detected" : "accepted"),
        [&](const Factory& f) {
          return percent(
              f, 2 * n, 300 + int(ms),
              [&](Stimulus& s, Tone& t, int i) {
                t.duration_ms = ms;
                t.low_level_dbm0 = t.high_level_dbm0 = -3.0 - (i % 23);
                s.tone(t);
                finish(s, i);
              },
              ms >= 40 ? one_right : any);
        });
  }
  // --- A4: interruption -----------------------------------------------------
  for (double gap : {8.0, 10.0}) {
    add("A4", std::to_string(int(gap)) + " ms break inside a 60+60 ms tone: one digit", [&](const Factory& f) {
      return percent(
          f, 2 * n, 400 + int(gap),
          [&](Stimulus& s, Tone& t, int i) {
            t.duration_ms = 120.0;
            t.interruption_at_ms = 60.0;
            t.interruption_ms = gap;
            t.low_level_dbm0 = t.high_level_dbm0 = -3.0 - (i % 23);
            s.tone(t);
            finish(s, i);
          },
          one_right);
    });
  }
  // --- A5: pause --------------------------------------------------------------
  add("A5", "two digits, 40 ms on / 40 ms pause (half repeats): both", [&](const Factory& f) {
    int good = 0;
    for (int i = 0; i < 2 * n; ++i) {
      Stimulus s(8000.0, 500u + i);
      s.silence(40.0, 102);
      Tone a;
      a.digit = kDigits[i % 16];
      a.duration_ms = 40.0;
      a.low_level_dbm0 = a.high_level_dbm0 = -3.0 - (i % 23);
      Tone b = a;
      b.digit = i % 2 ? a.digit : kDigits[(i * 7 + 3) % 16];
      s.tone(a);
      s.silence(40.0);
      s.tone(b);
      s.silence(150.0);
      finish(s, i);
      const auto st = run(f, s.samples());
      good += st.size() == 2 && st[0].digit == a.digit && st[1].digit == b.digit;
    }
    return 100.0 * good / (2 * n);
  });
  // --- A6: twist ---------------------------------------------------------------
  struct TwistPoint {
    double db;
    bool reverse, want;
  };
  for (TwistPoint tp : {TwistPoint{8.0, false, true}, TwistPoint{4.0, true, true}, TwistPoint{10.0, false, false},
                        TwistPoint{10.0, true, false}}) {
    add("A6",
        std::string(tp.reverse ? "reverse" : "normal") + " twist " + std::to_string(int(tp.db)) +
            " dB: " + (tp.want ? "detected" : "accepted"),
        [&](const Factory& f) {
          return percent(
              f, 2 * n, 600 + int(tp.db) + tp.reverse,
              [&](Stimulus& s, Tone& t, int i) {
                const double strong = -3.0 - (i % 13);
                (tp.reverse ? t.high_level_dbm0 : t.low_level_dbm0) = strong;
                (tp.reverse ? t.low_level_dbm0 : t.high_level_dbm0) = strong - tp.db;
                s.tone(t);
                finish(s, i);
              },
              tp.want ? one_right : any);
        });
  }
  // --- A7: levels --------------------------------------------------------------
  for (double lv : {0.0, -25.0, -36.0, -55.0}) {
    add("A7", std::to_string(int(lv)) + " dBm0 per tone: " + (lv > -50 ? "detected" : "accepted"),
        [&](const Factory& f) {
          return percent(
              f, 2 * n, 700 + int(-lv),
              [&](Stimulus& s, Tone& t, int i) {
                t.low_level_dbm0 = t.high_level_dbm0 = lv;
                s.tone(t);
                finish(s, i);
              },
              lv > -50 ? one_right : any);
        });
  }
  // --- A8: AWGN ------------------------------------------------------------------
  for (double snr : {12.0, 10.0, 6.0}) {
    Errors eo{}, es{};
    for (Codec c : kCodecs) {
      const Errors a = errors_in_noise(ours, snr, snr == 12.0 ? 1000 : 300, 800u + int(snr) + int(c), c);
      const Errors b = errors_in_noise(spandsp, snr, snr == 12.0 ? 1000 : 300, 800u + int(snr) + int(c), c);
      eo.missed += a.missed, eo.extra += a.extra, eo.wrong += a.wrong, eo.expected += a.expected;
      es.missed += b.missed, es.extra += b.extra, es.wrong += b.wrong, es.expected += b.expected;
    }
    auto fmt = [](const Errors& e) {
      char b[96];
      std::snprintf(b, sizeof b, "%.1f %% (%d err)", 100.0 * (e.expected - e.missed - e.wrong) / e.expected,
                    e.missed + e.extra + e.wrong);
      return std::string(b);
    };
    table.push_back(
        {"A8",
         std::to_string(int(snr)) + " dB SNR, " + std::to_string(eo.expected) + " digits (3 codecs): detected (errors)",
         fmt(eo), fmt(es)});
    std::printf("  %-4s %-52s ours %8s  spandsp %8s\n", "A8", table.back().point.c_str(), table.back().ours.c_str(),
                table.back().spandsp.c_str());
  }
  // --- A9: dial tone -------------------------------------------------------------
  for (double dial : {10.0, 16.0}) {
    add("A9", "dial tone " + std::to_string(int(dial)) + " dB over the DTMF (-22 dBm0/tone): detected",
        [&](const Factory& f) {
          return percent(
              f, 2 * n, 900 + int(dial),
              [&](Stimulus& s, Tone& t, int i) {
                t.low_level_dbm0 = t.high_level_dbm0 = -22.0;
                s.tone(t);
                s.silence(100.0);
                s.add_dial_tone(-22.0 + dial);
                finish(s, i);
              },
              one_right);
        });
  }
  // --- A10: talk-off ----------------------------------------------------------------
  {
    struct Corpus {
      const char* name;
      std::vector<std::string> files;
      std::string why;
    } corpora[2] = {{"speech corpus", {}, {}}, {"music on hold", {}, {}}};
    corpora[0].files = speech_files(&corpora[0].why);
    corpora[1].files = music_files(&corpora[1].why);
    for (const Corpus& c : corpora) {
      if (c.files.empty()) {
        std::printf("  A10 skipped: %s\n", c.why.c_str());
        continue;
      }
      for (Codec codec : {Codec::none, Codec::alaw})
        for (double gain : {0.0, 10.0}) {
          double secs = 0;
          const int a = talk_off(ours, c.files, gain, codec, &secs);
          const int b = talk_off(spandsp, c.files, gain, codec, &secs);
          char p[96];
          std::snprintf(p, sizeof p, "%s %.0f s at %+.0f dB (%s): false digits", c.name, secs, gain, codec_name(codec));
          table.push_back({"A10", p, std::to_string(a), std::to_string(b)});
          std::printf("  %-4s %-52s ours %8d  spandsp %8d\n", "A10", p, a, b);
        }
    }
  }
  // --- A11: latency (fed sample by sample: exact report times) ---------------------
  {
    std::vector<double> lo, ls;
    for (int i = 0; i < 300; ++i) {
      Stimulus s(8000.0, 1100u + i);
      s.silence(40.0, 102);
      Tone t;
      t.digit = kDigits[i % 16];
      t.duration_ms = 60.0;
      t.low_level_dbm0 = t.high_level_dbm0 = -4.0 - (i % 20);
      const Truth tr = s.tone(t);
      s.silence(100.0);
      for (int which = 0; which < 2; ++which) {
        const auto st = run(which ? Factory(spandsp) : Factory(ours), s.samples(), 1);
        if (!st.empty()) (which ? ls : lo).push_back((double(st[0].at) - tr.start) / 8.0);
      }
    }
    for (auto* v : {&lo, &ls}) std::sort(v->begin(), v->end());
    auto fmt = [](const std::vector<double>& v) {
      char b[64];
      std::snprintf(b, sizeof b, "%.1f / %.1f / %.1f", v.front(), v[v.size() / 2], v.back());
      return std::string(b);
    };
    table.push_back({"A11", "start report after onset, ms (min / median / max)", fmt(lo), fmt(ls)});
    std::printf("  %-4s %-52s ours %s  spandsp %s\n", "A11", table.back().point.c_str(), table.back().ours.c_str(),
                table.back().spandsp.c_str());
  }

  // --- CPU --------------------------------------------------------------------------
  std::vector<float> speech;
  {
    std::string why;
    for (const auto& f : speech_files(&why)) {
      std::vector<float> x;
      int rate = 0;
      if (testsig::read_wav(f, x, rate) && rate == 8000) speech.insert(speech.end(), x.begin(), x.end());
      if (speech.size() >= 8000u * 120) break;
    }
  }
  Stimulus dtmf(8000.0, 77);
  for (int i = 0; i < 600; ++i) {  // 60 s: 50 ms on, 50 ms off
    Tone t;
    t.digit = kDigits[i % 16];
    dtmf.tone(t);
    dtmf.silence(50.0);
  }
  const auto noise = testsig::white_noise(-40.0, 8000 * 60, 9);
  // The same digits as a line delivers them: through A-law, and with noise
  // 20 dB under the tones (which defeats the detector's early exits).
  std::vector<float> dtmf_alaw = dtmf.samples(), dtmf_noisy = dtmf.samples();
  g711_round_trip(dtmf_alaw, Codec::alaw);
  {
    const auto hiss = testsig::white_noise(-30.0, dtmf_noisy.size(), 10);
    for (std::size_t i = 0; i < dtmf_noisy.size(); ++i) dtmf_noisy[i] += hiss[i];
  }
  struct Signal {
    const char* name;
    const std::vector<float>* x;
  } signals[] = {{"speech", &speech},
                 {"DTMF 50/50 ms", &dtmf.samples()},
                 {"DTMF 50/50 ms, A-law", &dtmf_alaw},
                 {"DTMF 50/50 ms, noise 20 dB under", &dtmf_noisy},
                 {"noise -40 dBm0", &noise}};
  std::printf("\nCPU (thread CPU time), 10 ms frames of 16-bit samples, best of 7 interleaved passes:\n");
  for (const Signal& sig : signals) {
    if (sig.x->empty()) continue;
    const std::vector<std::int16_t> x16 = testsig::to_int16(*sig.x);
    double best_o = 1e9, best_s = 1e9;
    for (int rep = 0; rep < 7; ++rep) {
      best_o = std::min(best_o, seconds_per_pass(ours, x16));
      best_s = std::min(best_s, seconds_per_pass(spandsp, x16));
    }
    const double secs = sig.x->size() / 8000.0;
    char o[96], s[96], p[96];
    std::snprintf(o, sizeof o, "%.1f us (%.2f ns/sample)", best_o * 1e6 / secs, best_o * 1e9 / sig.x->size());
    std::snprintf(s, sizeof s, "%.1f us (%.2f ns/sample)", best_s * 1e6 / secs, best_s * 1e9 / sig.x->size());
    std::snprintf(p, sizeof p, "detector CPU per channel-second, %s (ours/spandsp %.2f)", sig.name, best_o / best_s);
    table.push_back({"CPU", p, o, s});
    std::printf("  %-4s %-52s ours %s  spandsp %s\n", "CPU", p, o, s);
  }

  // The whole ToneSuppressor as the engine runs it (10 ms frames, detection
  // on, suppression on, no look-ahead), on speech, at 8 and 16 kHz.
  if (!speech.empty()) {
    for (unsigned rate : {8000u, 16000u}) {
      std::vector<float> x(speech.size() * (rate / 8000));
      for (std::size_t i = 0; i < x.size(); ++i) x[i] = speech[i / (rate / 8000)];
      prosody::ListenSettings l;
      l.enabled = true;
      double best = 1e9;
      std::vector<float> y(x.size());
      std::vector<prosody::ToneEvent> ev;
      for (int rep = 0; rep < 5; ++rep) {
        prosody::ToneSuppressor ts(rate, l);
        const std::size_t frame = rate / 100;
        const double t0 = thread_cpu_seconds();
        for (std::size_t i = 0; i + frame <= x.size(); i += frame) ts.process(x.data() + i, y.data() + i, frame, ev);
        best = std::min(best, thread_cpu_seconds() - t0);
      }
      const double secs = x.size() / double(rate);
      char p[96], o[96];
      std::snprintf(p, sizeof p, "whole ToneSuppressor, %u kHz speech: CPU per channel-second", rate / 1000);
      std::snprintf(o, sizeof o, "%.1f us", best * 1e6 / secs);
      table.push_back({"CPU", p, o, "-"});
      std::printf("  %-4s %-52s ours %s\n", "CPU", p, o);
    }
  }

  // --- table -------------------------------------------------------------------------
  std::printf("\n| Row | Point | prosody | spandsp 0.0.6 |\n|---|---|---|---|\n");
  for (const Row& r : table)
    std::printf("| %s | %s | %s | %s |\n", r.row.c_str(), r.point.c_str(), r.ours.c_str(), r.spandsp.c_str());
  return 0;
}
