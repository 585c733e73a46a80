// CPU per channel-second of the call-progress detector (all of tone set 1
// and the CP repertoire at once) against spandsp's modem_connect_tones_rx
// (one instance per fax tone, as an application needing CNG and CED runs).
//
// The counter cpu_per_channel_s is seconds of CPU per second of 8 kHz audio
// on one channel, printed with an SI prefix (3.0u = 3 us per channel-second). Signals: digital silence, quiet line
// noise, speech (the Debian asterisk prompts, or PROSODY_SPEECH_DIR), a US busy tone, CED.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <dirent.h>
#include <string>
#include <vector>

#include "cp_stimulus.hpp"
#include "cptone_detector.hpp"
#include "signal.hpp"

#ifdef HAVE_SPANDSP
extern "C" {
#include <spandsp.h>
}
#endif

namespace {

constexpr std::size_t kChunk = 160;  // 20 ms packets

std::vector<float> speech_seconds(double seconds) {
  const char* env = std::getenv("PROSODY_SPEECH_DIR");
  const std::string dir = env && *env ? env : "/usr/share/asterisk/sounds/en_US_f_Allison";
  std::vector<std::string> files;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      const std::string n = e->d_name;
      if (n.size() > 4 && n.compare(n.size() - 4, 4, ".wav") == 0) files.push_back(dir + "/" + n);
    }
    closedir(d);
  }
  std::sort(files.begin(), files.end());
  std::vector<float> out;
  for (const auto& f : files) {
    std::vector<float> x;
    int rate = 0;
    if (testsig::read_wav(f, x, rate) && rate == 8000) out.insert(out.end(), x.begin(), x.end());
    if (out.size() >= seconds * 8000) break;
  }
  return out;
}

const std::vector<float>& signal(int which) {
  static std::vector<float> cache[5];
  std::vector<float>& s = cache[which];
  if (!s.empty()) return s;
  const std::size_t n = 10 * 8000;
  switch (which) {
    case 0:
      s.assign(n, 0.0f);
      break;
    case 1:
      s = testsig::white_noise(-60.0, n, 5);
      break;
    case 2:
      s = speech_seconds(60.0);
      break;
    case 3: {
      cpstim::Variation v;
      s = cpstim::render(cpstim::repertoire_signals(-20.0)[3].steps, v);  // US busy
      break;
    }
    case 4:
      s = testsig::sine(2100.0, -20.0, n, 8000.0);
      break;
  }
  if (s.empty()) s = testsig::white_noise(-30.0, n, 6);  // no speech corpus: loud noise instead
  return s;
}

const char* kNames[] = {"silence", "noise_-60dBm0", "speech", "busy_US", "CED"};

void set_counter(benchmark::State& state, std::size_t samples) {
  state.counters["cpu_per_channel_s"] = benchmark::Counter(
      double(samples) / 8000.0, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
  state.SetLabel(kNames[state.range(0)]);
}

void BM_CallProgressDetector(benchmark::State& state) {
  const auto& x = signal(int(state.range(0)));
  prosody::tones::CallProgressConfig c;
  c.report_simple_tones = true;
  c.report_cptones = true;
  prosody::tones::CallProgressDetector d(c);
  std::vector<prosody::ToneEvent> events;
  events.reserve(1024);
  std::uint64_t t = 0;
  for (auto _ : state) {
    for (std::size_t at = 0; at < x.size(); at += kChunk) {
      const std::size_t n = std::min(kChunk, x.size() - at);
      d.process(x.data() + at, n, t, events);
      t += n;
    }
    events.clear();
  }
  set_counter(state, x.size());
}
BENCHMARK(BM_CallProgressDetector)->DenseRange(0, 4)->Unit(benchmark::kMillisecond);

#ifdef HAVE_SPANDSP
void report(void*, int, int, int) {}

// CNG and CED/ANS: two spandsp receivers, as our one detector covers both.
void BM_SpandspModemConnectTones(benchmark::State& state) {
  const auto& f = signal(int(state.range(0)));
  const std::vector<std::int16_t> x = testsig::to_int16(f);
  modem_connect_tones_rx_state_t* cng =
      modem_connect_tones_rx_init(nullptr, MODEM_CONNECT_TONES_FAX_CNG, report, nullptr);
  modem_connect_tones_rx_state_t* ced =
      modem_connect_tones_rx_init(nullptr, MODEM_CONNECT_TONES_FAX_CED_OR_PREAMBLE, report, nullptr);
  for (auto _ : state) {
    for (std::size_t at = 0; at < x.size(); at += kChunk) {
      const int n = int(std::min(kChunk, x.size() - at));
      modem_connect_tones_rx(cng, x.data() + at, n);
      modem_connect_tones_rx(ced, x.data() + at, n);
    }
  }
  modem_connect_tones_rx_free(cng);
  modem_connect_tones_rx_free(ced);
  set_counter(state, x.size());
}
BENCHMARK(BM_SpandspModemConnectTones)->DenseRange(0, 4)->Unit(benchmark::kMillisecond);
#endif

}  // namespace

BENCHMARK_MAIN();
