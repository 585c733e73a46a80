// Engine throughput (issues 2 and 9): one conference of N parties, each with
// its own N-1 output, speech-activity gating and AGC on (input and output),
// at 8 and 48 kHz, driven two ways; and, on the same data in the same run,
// the naive per-listener summation (O(N^2)) for comparison.
//
// BM_Engine: host ports. Each frame the application writes every party's
// input frame into its host port, steps the module (Module::step), and reads
// every party's output.
// BM_EngineFrames: the frame API, as an element drives it. The application
// holds each party's input in its own memory and names it in one
// Module::step_frame call, which also writes every party's output into the
// application's own buffer: the copy in and the copy out are inside the call.
//
// Reported per benchmark (counters):
//   x_realtime      seconds of audio per CPU second of the module's call
//                   (Module::step or Module::step_frame, one core)
//   x_realtime_io   the same including the application's own work per frame
//                   (host ports: write_input / read_output for every party;
//                   frame API: filling in the FrameInput / FrameOutput arrays)
//   ns_party_frame  the module call's CPU per party per frame
// For the naive rows: x_realtime of the bare O(N^2) summation alone.
//
// Four loads: "talk" - every party talking at once (tones in syllable
// bursts, the worst case: every input active, every output limited);
// "typical" - 5 % of parties talking, the rest sending low background noise
// (-63 dBm0, gated out); "detect" - typical, with DTMF detection and
// suppression on every input (sm_listen_for), where the line noise is below
// the detector's quiet-input shortcut; "detect45" - the same with the line
// noise at -45 dBm0, above the shortcut, so every detector runs in full.
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

// One party's input, looped: a tone in 200 ms bursts (talk) or white noise
// (background) with the given peak amplitude: 0.001 gives about -63 dBm0,
// 0.0095 about -45 dBm0.
std::vector<float> party_signal(int party, unsigned rate, bool talking, std::size_t frame, double noise = 0.001) {
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
      x[i] = float((double(seed) / 4294967296.0 - 0.5) * 2.0 * noise);
    }
  }
  return x;
}

enum Load { kTalk, kTypical, kDetect, kDetect45 };
const char* const kLoadNames[] = {"talk: everyone talking", "typical: 5% talking", "detect: typical + DTMF detection",
                                  "detect45: detect, line noise -45 dBm0"};

struct Setup {
  prosody::Module module;
  std::vector<prosody::Channel> party;
  std::vector<std::vector<float>> input;
  prosody::Conference conference;
};

void build(Setup& s, int n, unsigned rate, Load load, bool frame_ports) {
  prosody::ModuleConfig cfg;
  cfg.sample_rate = rate;
  s.module = prosody::Module::create(cfg);
  const std::size_t frame = s.module.frame_samples();
  s.party.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    s.party.push_back(s.module.allocate(prosody::ChannelType::full_duplex));
    prosody::Channel& c = s.party.back();
    if (frame_ports) {
      c.enable_frame_input();
      c.enable_frame_output();
    } else {
      c.enable_host_input(2);
      c.enable_host_output(2);
    }
    prosody::PartySettings ps;
    ps.in_agc = true;   // input AGC on
    ps.out_agc = true;  // output AGC on (gating is on by default)
    s.conference.add_party(c, ps);
    if (load == kDetect || load == kDetect45) {
      prosody::ListenSettings ls;
      ls.enabled = true;
      c.listen_for(ls);
    }
    const bool talking = load == kTalk || i % 20 == 0;
    s.input.push_back(party_signal(i, rate, talking, frame, load == kDetect45 ? 0.0095 : 0.001));
  }
}

void report(benchmark::State& state, std::uint64_t frames, std::size_t frame, unsigned rate, int n, double module,
            double app, Load load) {
  const double audio = double(frames) * double(frame) / double(rate);
  state.counters["x_realtime"] = audio / module;
  state.counters["x_realtime_io"] = audio / (module + app);
  state.counters["ns_party_frame"] = module / double(frames) / n * 1e9;
  state.SetLabel(kLoadNames[load]);
}

void BM_Engine(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const unsigned rate = static_cast<unsigned>(state.range(1));
  const Load load = static_cast<Load>(state.range(2));
  Setup s;
  build(s, n, rate, load, false);
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
  report(state, frames, frame, rate, n, engine, io, load);
}

#ifndef PROSODY_BENCH_NO_FRAME_API
void BM_EngineFrames(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const unsigned rate = static_cast<unsigned>(state.range(1));
  const Load load = static_cast<Load>(state.range(2));
  Setup s;
  build(s, n, rate, load, true);
  const std::size_t frame = s.module.frame_samples();
  // Every party's output buffer, as an element has one per src pad.
  const std::size_t parties = static_cast<std::size_t>(n);
  std::vector<std::vector<float>> out(parties, std::vector<float>(frame));
  std::vector<prosody::FramePiece> pieces(parties);
  std::vector<prosody::FrameInput> inputs(parties);
  std::vector<prosody::FrameOutput> outputs(parties);
  prosody::FrameResult result;
  double engine = 0.0, app = 0.0;
  std::uint64_t frames = 0;
  auto name_frame = [&](std::uint64_t f) {
    const std::size_t at = (f % kFramesOfAudio) * frame;
    for (std::size_t i = 0; i < parties; ++i) {
      pieces[i] = {0, std::uint32_t(frame), s.input[i].data() + at, prosody::SampleFormat::f32};
      inputs[i] = {s.party[i].id(), prosody::Span<const prosody::FramePiece>(&pieces[i], 1)};
      outputs[i] = {s.party[i].id(), out[i].data(), prosody::SampleFormat::f32};
    }
  };
  for (int f = 0; f < 5; ++f) {  // joins done, AGC and gating running
    name_frame(std::uint64_t(f));
    s.module.step_frame(inputs, outputs, result);
  }
  for (auto _ : state) {
    const double t0 = thread_cpu_seconds();
    name_frame(frames);
    const double t1 = thread_cpu_seconds();
    s.module.step_frame(inputs, outputs, result);
    const double t2 = thread_cpu_seconds();
    engine += t2 - t1;
    app += t1 - t0;
    state.SetIterationTime(t2 - t1);
    ++frames;
  }
  report(state, frames, frame, rate, n, engine, app, load);
}
#endif

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
      for (int load : {kTalk, kTypical, kDetect, kDetect45}) b->Args({n, rate, load});
}

void naive_args(benchmark::internal::Benchmark* b) {
  for (int rate : {8000, 48000})
    for (int n : {4, 64, 1000, 10000}) b->Args({n, rate});
}

}  // namespace

BENCHMARK(BM_Engine)->Apply(engine_args)->UseManualTime()->Unit(benchmark::kMicrosecond)->MinTime(2.0);
#ifndef PROSODY_BENCH_NO_FRAME_API
BENCHMARK(BM_EngineFrames)->Apply(engine_args)->UseManualTime()->Unit(benchmark::kMicrosecond)->MinTime(2.0);
#endif
// The naive sum at N = 10,000 takes seconds per frame: a few frames suffice.
BENCHMARK(BM_Naive)->Apply(naive_args)->UseManualTime()->Unit(benchmark::kMicrosecond)->MinTime(1.0);

BENCHMARK_MAIN();
