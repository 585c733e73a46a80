// dtmf_verdicts - prints every verdict the DTMF detector reaches on a fixed
// set of inputs, so that two builds can be compared by diffing their output
// (a change meant to be faster only must print the same text):
//   * the speech and music corpora at 0 and +10 dB, linear, A-law and mu-law
//     (the talk-off inputs);
//   * the speech and music corpora with random digits laid over them (levels,
//     twists, offsets, durations across and beyond the accept limits);
//   * random isolated digits over the same ranges, with dial tone or noise;
//   * digit sequences in white noise at 3..15 dB SNR;
//   * the benchmark's CPU signals.
// Per input: every event with all its fields, the detector's per-hop counts
// (Stats), and a digest of activity() after every 10 ms frame (what the tone
// suppressor acts on).
//
// Run: <build>/tests/tones/dtmf/dtmf_verdicts > verdicts.txt
#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "dtmf_detector.hpp"
#include "dtmf_stimulus.hpp"
#include "signal.hpp"

using namespace dtmftest;
using prosody::DtmfStandard;
using prosody::tones::DtmfActivity;
using prosody::tones::DtmfConfig;
using prosody::tones::DtmfDetector;
using prosody::tones::DtmfEvent;

namespace {

std::uint64_t mix(std::uint64_t digest, std::uint64_t v) {  // FNV-1a over 64-bit words
  return (digest ^ v) * 1099511628211ull;
}

void report(const std::string& name, const std::vector<float>& x, const DtmfConfig& config = {}) {
  DtmfDetector d(config);
  std::vector<DtmfEvent> events;
  std::uint64_t digest = 14695981039346656037ull;
  for (std::size_t i = 0; i < x.size(); i += 80) {
    d.process(x.data() + i, std::min<std::size_t>(80, x.size() - i), events);
    const DtmfActivity a = d.activity();
    digest = mix(mix(mix(mix(digest, std::uint64_t(a.state)), a.onset), a.release), a.released_digit);
  }
  const DtmfDetector::Stats s = d.stats();
  std::printf("== %s: %zu samples, %zu events, hops %" PRIu64 " direct %" PRIu64 " screened %" PRIu64
              " verified %" PRIu64 " candidates %" PRIu64 " confirmed %" PRIu64 ", activity digest %016" PRIx64 "\n",
              name.c_str(), x.size(), events.size(), s.hops, s.direct, s.screened, s.verified, s.candidates,
              s.confirmed, digest);
  for (const DtmfEvent& e : events)
    std::printf("  %s %c r%d c%d start %" PRIu64 " end %" PRIu64 " decided %" PRIu64
                " dur %.9g level %.9g low %.9g high %.9g f %.9g %.9g\n",
                e.is_end ? "end  " : "start", e.digit, e.row, e.column, e.start_sample, e.end_sample, e.decided_sample,
                e.duration_ms, e.level_dbm0, e.low_level_dbm0, e.high_level_dbm0, e.low_freq_hz, e.high_freq_hz);
}

// The corpus's files one after another, 100 ms apart.
std::vector<float> concatenated(const std::vector<std::string>& files) {
  std::vector<float> all;
  for (const auto& f : files) {
    std::vector<float> x;
    int rate = 0;
    if (!testsig::read_wav(f, x, rate) || rate != 8000) continue;
    all.insert(all.end(), x.begin(), x.end());
    all.insert(all.end(), 800, 0.0f);
  }
  return all;
}

std::vector<float> at_gain(std::vector<float> x, double gain_db, Codec codec) {
  const double g = std::pow(10.0, gain_db / 20.0);
  for (float& v : x) v = std::clamp(float(v * g), -1.0f, 32767.0f / 32768.0f);
  g711_round_trip(x, codec);
  return x;
}

// A digit with everything random over ranges wider than the accept limits.
Tone random_tone(std::mt19937& rng) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  Tone t;
  t.digit = kDigits[rng() % 16];
  t.low_offset_hz = (u(rng) * 2.0 - 1.0) * 0.04 * low_freq(t.digit);
  t.high_offset_hz = (u(rng) * 2.0 - 1.0) * 0.04 * high_freq(t.digit);
  t.low_level_dbm0 = -3.0 - 42.0 * u(rng);
  t.high_level_dbm0 = std::min(0.0, t.low_level_dbm0 + (u(rng) * 2.0 - 1.0) * 11.0);
  t.duration_ms = 15.0 + 85.0 * u(rng);
  if (rng() % 8 == 0) {
    t.interruption_at_ms = 0.3 * t.duration_ms + 0.4 * t.duration_ms * u(rng);
    t.interruption_ms = 4.0 + 12.0 * u(rng);
  }
  return t;
}

// Random digits (gaps 30..500 ms) covering at least n samples.
Stimulus random_digits(std::size_t n, std::uint32_t seed) {
  Stimulus s(8000.0, seed);
  std::mt19937& rng = s.rng();
  s.silence(40.0, 102);
  while (s.samples().size() < n) {
    s.tone(random_tone(rng));
    s.silence(30.0 + double(rng() % 470), 16);
  }
  return s;
}

}  // namespace

int main() {
  const Codec codecs[3] = {Codec::none, Codec::alaw, Codec::ulaw};
  std::string why;
  const std::vector<float> corpora[2] = {concatenated(speech_files(&why)), concatenated(music_files(&why))};
  const char* corpus_names[2] = {"speech", "music"};
  for (int c = 0; c < 2; ++c) {
    if (corpora[c].empty()) {
      std::printf("== %s corpus missing\n", corpus_names[c]);
      continue;
    }
    for (double gain : {0.0, 10.0})
      for (Codec codec : codecs)
        report(std::string(corpus_names[c]) + " " + std::to_string(int(gain)) + " dB " + codec_name(codec),
               at_gain(corpora[c], gain, codec));
    // Digits over the corpus: talk-off and recognition interact.
    for (Codec codec : {Codec::none, Codec::alaw}) {
      Stimulus s = random_digits(corpora[c].size(), 31u + c);
      std::vector<float>& x = s.samples();
      for (std::size_t i = 0; i < corpora[c].size(); ++i) x[i] += corpora[c][i];
      s.saturate_int16();
      s.codec_round_trip(codec);
      report(std::string("digits over ") + corpus_names[c] + " " + codec_name(codec), x);
    }
  }
  for (int k = 0; k < 3; ++k) {
    Stimulus s = random_digits(8000u * 600, 7u + k);
    if (k == 1) s.add_dial_tone(-20.0);
    if (k == 2) s.add_white_noise(-35.0);
    s.saturate_int16();
    s.codec_round_trip(codecs[k]);
    const char* what[3] = {"random digits", "random digits, dial tone", "random digits, noise"};
    report(what[k], s.samples());
    if (k == 0) {
      DtmfConfig etsi;
      etsi.standard = DtmfStandard::etsi;
      report("random digits, ETSI", s.samples(), etsi);
      DtmfConfig min40;
      min40.min_duration_ms = 40;
      report("random digits, minimum 40 ms", s.samples(), min40);
    }
  }
  for (double snr = 3.0; snr <= 15.0; snr += 2.0)
    for (Codec codec : codecs) {
      const Stimulus s = digits_in_noise(snr, 300, 800u + unsigned(snr) + unsigned(codec), codec);
      report("digits in noise " + std::to_string(int(snr)) + " dB SNR " + codec_name(codec), s.samples());
    }
  // The benchmark's CPU signals.
  Stimulus dtmf(8000.0, 77);
  for (int i = 0; i < 600; ++i) {
    Tone t;
    t.digit = kDigits[i % 16];
    dtmf.tone(t);
    dtmf.silence(50.0);
  }
  std::vector<float> dtmf_alaw = dtmf.samples(), dtmf_noisy = dtmf.samples();
  g711_round_trip(dtmf_alaw, Codec::alaw);
  const auto hiss = testsig::white_noise(-30.0, dtmf_noisy.size(), 10);
  for (std::size_t i = 0; i < dtmf_noisy.size(); ++i) dtmf_noisy[i] += hiss[i];
  report("bench DTMF 50/50 ms", dtmf.samples());
  report("bench DTMF 50/50 ms, A-law", dtmf_alaw);
  report("bench DTMF 50/50 ms, noise 20 dB under", dtmf_noisy);
  report("bench noise -40 dBm0", testsig::white_noise(-40.0, 8000 * 60, 9));
  return 0;
}
