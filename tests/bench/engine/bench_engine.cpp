// Engine throughput (issue 2): one conference of N parties, each with its own
// N-1 output, speech-activity gating and AGC on (input and output), at 8 and
// 48 kHz; and, on the same data in the same run, the naive per-listener
// summation (O(N^2)) for comparison.
//
// Reported per benchmark (counters):
//   x_realtime      seconds of audio per CPU second of the module's processing
//                   (Module::step, the module's own core)
//   x_realtime_io   the same including the application's host-port I/O
//                   (write_input / read_output for every party)
//   ns_party_frame  processing CPU per party per frame
// For the naive rows: x_realtime of the bare O(N^2) summation alone.
//
// Three loads: "talk" - every party talking at once (tones in syllable
// bursts, the worst case: every input active, every output limited);
// "typical" - 5 % of parties talking, the rest sending low background noise
// (gated out); "detect" - typical, with DTMF detection and suppression on
// every input (sm_listen_for).
#include <benchmark/benchmark.h>
#include <time.h>

#include <cmath>
#include <vector>

#include "prosody/prosody.hpp"

namespace {

double thread_cpu_seconds() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return double(t.tv_sec) + double(t.tv_nsec) * 1e-9;
}

constexpr double kPi = 3.14159265358979323846;
constexpr int kFramesOfAudio = 50;  // per source buffer: 0.5 s, looped

// One party's input, looped: a tone in 200 ms bursts (talk) or noise at
// -60 dBm0 (background).
std::vector<float> party_signal(int party, unsigned rate, bool talking, std::size_t frame) {
  std::vector<float> x(frame * kFramesOfAudio);
  std::uint32_t seed = 2463534242u + static_cast<std::uint32_t>(party);
  const double freq = 150.0 + 37.0 * (party % 90);
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double t = double(i) / rate;
    if (talking) {
      const bool on = std::fmod(t + 0.013 * party, 0.3) < 0.2;
      x[i] = on ? float(0.03 * std::sin(2.0 * kPi * freq * t)) : 0.0f;  // about -30 dBm0
    } else {
      seed ^= seed << 13;
      seed ^= seed >> 17;
      seed ^= seed << 5;
      x[i] = float((double(seed) / 4294967296.0 - 0.5) * 0.002);  // about -63 dBm0
    }
  }
  return x;
}

struct Setup {
  prosody::Module module;
  std::vector<prosody::Channel> party;
  std::vector<std::vector<float>> input;
  prosody::Conference conference;
};

void build(Setup& s, int n, unsigned rate, bool typical, bool detect) {
  prosody::ModuleConfig cfg;
  cfg.sample_rate = rate;
  s.module = prosody::Module::create(cfg);
  const std::size_t frame = s.module.frame_samples();
  s.party.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    s.party.push_back(s.module.allocate(prosody::ChannelType::full_duplex));
    prosody::Channel& c = s.party.back();
    c.enable_host_input(2);
    c.enable_host_output(2);
    prosody::PartySettings ps;
    ps.in_agc = true;   // input AGC on
    ps.out_agc = true;  // output AGC on (gating is on by default)
    s.conference.add_party(c, ps);
    if (detect) {
      prosody::ListenSettings ls;
      ls.enabled = true;
      c.listen_for(ls);
    }
    const bool talking = !typical || i % 20 == 0;
    s.input.push_back(party_signal(i, rate, talking, frame));
  }
}

void BM_Engine(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const unsigned rate = static_cast<unsigned>(state.range(1));
  const int load = static_cast<int>(state.range(2));
  const bool typical = load != 0, detect = load == 2;
  Setup s;
  build(s, n, rate, typical, detect);
  const std::size_t frame = s.module.frame_samples();
  std::vector<float> out(frame);
  double engine = 0.0, io = 0.0;
  std::uint64_t frames = 0;
  s.module.step(5);  // joins done, AGC and gating running
  for (auto _ : state) {
    const std::size_t at = (frames % kFramesOfAudio) * frame;
    const double t0 = thread_cpu_seconds();
    for (int i = 0; i < n; ++i)
      s.party[std::size_t(i)].write_input(prosody::Span<const float>(s.input[std::size_t(i)].data() + at, frame));
    const double t1 = thread_cpu_seconds();
    s.module.step(1);
    const double t2 = thread_cpu_seconds();
    for (int i = 0; i < n; ++i) s.party[std::size_t(i)].read_output(prosody::Span<float>(out.data(), frame));
    const double t3 = thread_cpu_seconds();
    engine += t2 - t1;
    io += (t1 - t0) + (t3 - t2);
    state.SetIterationTime(t2 - t1);
    ++frames;
  }
  const double audio = double(frames) * double(frame) / double(rate);
  state.counters["x_realtime"] = audio / engine;
  state.counters["x_realtime_io"] = audio / (engine + io);
  state.counters["ns_party_frame"] = engine / double(frames) / n * 1e9;
  static const char* kLoads[] = {"talk: everyone talking", "typical: 5% talking", "detect: typical + DTMF detection"};
  state.SetLabel(kLoads[load]);
}

// The naive construction: every listener sums every other input.
void BM_Naive(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const unsigned rate = static_cast<unsigned>(state.range(1));
  const std::size_t frame = rate / 100;
  std::vector<std::vector<float>> input;
  for (int i = 0; i < n; ++i) input.push_back(party_signal(i, rate, true, frame));
  std::vector<float> out(frame);
  double cpu = 0.0;
  std::uint64_t frames = 0;
  for (auto _ : state) {
    const std::size_t at = (frames % kFramesOfAudio) * frame;
    const double t0 = thread_cpu_seconds();
    for (int l = 0; l < n; ++l) {
      std::fill(out.begin(), out.end(), 0.0f);
      for (int j = 0; j < n; ++j) {
        if (j == l) continue;
        const float* x = input[std::size_t(j)].data() + at;
        for (std::size_t k = 0; k < frame; ++k) out[k] += x[k];
      }
      benchmark::DoNotOptimize(out.data());
    }
    const double t1 = thread_cpu_seconds();
    cpu += t1 - t0;
    state.SetIterationTime(t1 - t0);
    ++frames;
  }
  state.counters["x_realtime"] = double(frames) * double(frame) / double(rate) / cpu;
  state.counters["ns_party_frame"] = cpu / double(frames) / n * 1e9;
  state.SetLabel("naive O(N^2) summation only");
}

void engine_args(benchmark::internal::Benchmark* b) {
  for (int rate : {8000, 48000})
    for (int n : {4, 64, 1000, 10000})
      for (int load : {0, 1, 2}) b->Args({n, rate, load});
}

void naive_args(benchmark::internal::Benchmark* b) {
  for (int rate : {8000, 48000})
    for (int n : {4, 64, 1000, 10000}) b->Args({n, rate});
}

}  // namespace

BENCHMARK(BM_Engine)->Apply(engine_args)->UseManualTime()->Unit(benchmark::kMicrosecond)->MinTime(2.0);
// The naive sum at N = 10,000 takes seconds per frame: a few frames suffice.
BENCHMARK(BM_Naive)->Apply(naive_args)->UseManualTime()->Unit(benchmark::kMicrosecond)->MinTime(1.0);

BENCHMARK_MAIN();
