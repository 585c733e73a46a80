// cp_probe - developer tool: runs the call-progress detector over a WAV
// file or a generated repertoire signal and prints its events (and, with
// -v, the per-block classification).
//
//   cp_probe --wav FILE [--gain DB] [-v]
//   cp_probe --signal NAME [--level DBM0] [--scale F] [--jitter J] [--seed N] [--noise DBM0]
//            [--noise-seed N] [--lead MS] [-v]
//   cp_probe --ans REVERSAL_MS AM_DEPTH [--level DBM0] [-v]   (2100 Hz answer tone)
//   cp_probe --list
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "block_analyser.hpp"
#include "cp_stimulus.hpp"
#include "cptone_detector.hpp"
#include "signal.hpp"

using namespace prosody;

int main(int argc, char** argv) {
  std::string wav, name;
  double gain = 0.0, level = -20.0, scale = 1.0, jitter = 0.0, noise = -200.0, lead = 700.0;
  unsigned noise_seed = 7;
  bool ans = false;
  double ans_reversal = 0.0, ans_am = 0.0;
  unsigned seed = 1;
  bool verbose = false, list = false;
  unsigned min_ms = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--wav")
      wav = next();
    else if (a == "--signal")
      name = next();
    else if (a == "--gain")
      gain = std::atof(next());
    else if (a == "--level")
      level = std::atof(next());
    else if (a == "--scale")
      scale = std::atof(next());
    else if (a == "--jitter")
      jitter = std::atof(next());
    else if (a == "--noise")
      noise = std::atof(next());
    else if (a == "--noise-seed")
      noise_seed = unsigned(std::atoi(next()));
    else if (a == "--lead")
      lead = std::atof(next());
    else if (a == "--seed")
      seed = unsigned(std::atoi(next()));
    else if (a == "--min")
      min_ms = unsigned(std::atoi(next()));
    else if (a == "--ans") {
      ans_reversal = std::atof(next());
      ans_am = std::atof(next());
      ans = true;
    } else if (a == "-v")
      verbose = true;
    else if (a == "--list")
      list = true;
  }
  std::vector<float> x;
  if (list) {
    for (const auto& s : cpstim::repertoire_signals(-20)) std::printf("%2d  %s\n", s.expected_id, s.name.c_str());
    return 0;
  }
  if (ans) {
    x = cpstim::answer_tone(level, 3300, ans_reversal, ans_am);
  } else if (!wav.empty()) {
    int rate = 0;
    if (!testsig::read_wav(wav, x, rate) || rate != 8000) {
      std::fprintf(stderr, "cannot read 8 kHz WAV %s\n", wav.c_str());
      return 1;
    }
    cpstim::apply_gain(x, gain);
  } else {
    for (const auto& s : cpstim::repertoire_signals(level))
      if (s.name == name) {
        cpstim::Variation v;
        v.freq_scale = scale;
        v.jitter = jitter;
        v.seed = seed;
        v.lead_silence_ms = lead;
        std::vector<std::pair<std::size_t, std::size_t>> spans;
        x = cpstim::render(s.steps, v, &spans);
        for (const auto& sp : spans) std::printf("truth %.1f .. %.1f ms\n", sp.first / 8.0, sp.second / 8.0);
      }
    if (x.empty()) {
      std::fprintf(stderr, "unknown signal (try --list)\n");
      return 1;
    }
  }
  if (noise > -150.0) cpstim::add_noise(x, noise, noise_seed);
  if (verbose) {
    tones::cp::BlockAnalyser analyser;
    for (std::size_t at = 0; at + 128 <= x.size(); at += 128) {
      tones::cp::BlockResult r;
      analyser.analyse(x.data() + at, 0, false, r);
      if (!r.analysed) continue;
      std::printf("%7.1f ms kind %d st %d n %d f %.1f %.1f lvl %.1f pur %.2f\n", at / 8.0, r.kind, r.stable,
                  r.components, r.freq_hz[0], r.freq_hz[1], tones::cp::ms_to_dbm0(r.strongest_power), r.purity);
    }
  }
  tones::CallProgressConfig c;
  c.report_cptones = true;
  c.report_simple_tones = true;
  c.min_duration_ms = min_ms;
  tones::CallProgressDetector d(c);
  std::vector<ToneEvent> ev;
  for (std::size_t at = 0; at < x.size(); at += 160) {
    const std::size_t n = std::min<std::size_t>(160, x.size() - at);
    const std::size_t before = ev.size();
    d.process(x.data() + at, n, at, ev);
    for (std::size_t i = before; i < ev.size(); ++i) {
      const ToneEvent& e = ev[i];
      std::printf("@%8.1f ms  %-6s %s code %d/%d start %.1f ms", (at + n) / 8.0,
                  e.type == RecognitionType::cptone ? "cptone" : "tone", e.is_end ? "END  " : "START", e.code, e.code2,
                  e.start_sample / 8.0);
      if (e.is_end) std::printf(" end %.1f dur %u", e.end_sample / 8.0, e.duration_ms);
      std::printf(" level %.1f\n", e.level_dbm0);
    }
  }
  return 0;
}
