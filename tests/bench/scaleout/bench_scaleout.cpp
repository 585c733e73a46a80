// Multi-core throughput of a conference split over modules (issue 13): one
// conference of N parties (2,000 by default) on one module, driven by one
// thread, against the same conference split over two modules joined by the
// TDM bus in the broadcast model, each module driven by its own thread on
// its own core. Both are built the same way through the C API
// (tests/support/models.cpp): a local sum of every party of the module,
// each party's output a clone of it less itself, plus the other module's
// sum.
//
// Each thread, per frame: writes one frame into each of its parties' host
// inputs, steps its module, reads each party's output frame. A thread starts
// a frame once the other has done the one before (as two real-time modules
// keep in step), so the bus neither starves nor overflows.
//
// Load: "typical", as bench_engine: 5 % of the parties talking (tones in
// syllable bursts, about -30 dBm0), the rest line noise at -63 dBm0.
//
// Reported, for rounds interleaved one-module / two-module: throughput in
// party-frames per wall second, its median and spread, the median of the
// per-round ratios, the CPU each thread used per wall second (a thread that
// keeps a core to itself shows 1.0: less means the machine's other work took
// it), and the CPU the frames' work took per party-frame, waits excluded
// (what splitting the conference costs, whatever else the machine runs).
//
// Usage: bench-scaleout [parties] [frames per run] [rounds] [pin]
// pin: 1 (default) pins module m's thread to CPU m; 0 leaves placement to
// the scheduler (better on a machine that other work keeps busy).
#include <pthread.h>
#include <sched.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "engine/engine.hpp"
#include "engine/registry.hpp"
#include "engine/tdm.hpp"
#include "models.hpp"
#include "prosody/prosody_sw.h"

namespace {

using prosody::Errc;
using prosody::detail::ChannelIo;

constexpr std::size_t kFrame = 80;
constexpr std::size_t kFramesOfAudio = 10;  // per party, looped
constexpr double kPi = 3.14159265358979323846;

double now_seconds(clockid_t clock) {
  timespec t;
  clock_gettime(clock, &t);
  return double(t.tv_sec) + double(t.tv_nsec) * 1e-9;
}

void pin_to_cpu(unsigned cpu) {
  const unsigned n = std::thread::hardware_concurrency();
  if (n == 0) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu % n, &set);
  pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

std::uintptr_t raw(const void* p) { return reinterpret_cast<std::uintptr_t>(p); }

std::shared_ptr<prosody::detail::Engine> engine_of(tSMModuleId m) {
  std::uint32_t n = 0;
  prosody::detail::decode_module(raw(m), n);
  return prosody::detail::Registry::instance().find(n);
}

std::vector<float> party_signal(std::size_t party) {
  std::vector<float> x(kFrame * kFramesOfAudio);
  const bool talking = party % 20 == 0;
  std::uint32_t seed = 2463534242u + static_cast<std::uint32_t>(party);
  const double freq = 150.0 + 37.0 * double(party % 90);
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double t = double(i) / 8000.0;
    if (talking) {
      const bool on = std::fmod(t + 0.013 * double(party), 0.3) < 0.2;
      x[i] = on ? float(0.03 * std::sin(2.0 * kPi * freq * t)) : 0.0f;
    } else {
      seed ^= seed << 13;
      seed ^= seed >> 17;
      seed ^= seed << 5;
      x[i] = float((double(seed) / 4294967296.0 - 0.5) * 0.002);
    }
  }
  return x;
}

struct ModuleLoad {
  tSMModuleId module = kSMNullModuleId;
  std::vector<std::shared_ptr<ChannelIo>> io;
  std::vector<std::vector<float>> input;
};

// Opens modules 0..k-1 of card 0, stepped, and builds the broadcast model of
// parties over them.
struct Conference {
  Conference(std::size_t k, std::size_t parties) {
    for (std::size_t i = 0; i < k; ++i) {
      prosody_sw_module_config_parms c{};
      c.module_ix = tSM_UT32(i);
      c.drive_mode = kProsodySwDriveStepped;
      if (prosody_sw_configure_module(&c) != 0) std::abort();
      SM_OPEN_MODULE_PARMS open{};
      open.module_ix = tSM_UT32(i);
      if (sm_open_module(&open) != 0) std::abort();
      modules.push_back(open.module_id);
    }
    std::string failed;
    if (testmodels::build(testmodels::Model::broadcast, modules, int(parties / k), kSMTimeslotTypeALaw, topology,
                          &failed) != 0) {
      std::fprintf(stderr, "building the model failed at %s\n", failed.c_str());
      std::abort();
    }
    std::size_t index = 0;
    for (std::size_t m = 0; m < k; ++m) {
      ModuleLoad load;
      load.module = modules[m];
      auto e = engine_of(modules[m]);
      for (tSMChannelId p : topology.parties[m]) {
        std::shared_ptr<ChannelIo> io;
        if (e->enable_host_input(raw(p), 4) != Errc::ok || e->enable_host_output(raw(p), 4) != Errc::ok ||
            e->channel_io(raw(p), io) != Errc::ok)
          std::abort();
        load.io.push_back(io);
        load.input.push_back(party_signal(index++));
      }
      loads.push_back(std::move(load));
    }
  }
  ~Conference() {
    testmodels::teardown(topology);
    for (tSMModuleId m : modules) {
      SM_CLOSE_MODULE_PARMS close{};
      close.module_id = m;
      sm_close_module(&close);
    }
  }
  std::vector<tSMModuleId> modules;
  testmodels::Topology topology;
  std::vector<ModuleLoad> loads;
};

struct Run {
  double wall = 0.0;
  std::vector<double> cpu;   // per thread, from its start to its end (waits included)
  std::vector<double> work;  // per thread, CPU of its frames' work only (no waits)
  std::uint64_t concealed = 0;
};

// Drives every module of the conference for frames frames, one thread per
// module pinned to its own CPU.
Run drive(Conference& conf, std::size_t frames, bool pin) {
  const std::size_t k = conf.loads.size();
  std::vector<std::atomic<std::size_t>> done(k);
  for (auto& d : done) d = 0;
  std::atomic<bool> go{false};
  Run run;
  run.cpu.assign(k, 0.0);
  run.work.assign(k, 0.0);
  std::vector<std::thread> threads;
  for (std::size_t m = 0; m < k; ++m) {
    threads.emplace_back([&, m] {
      if (pin) pin_to_cpu(unsigned(m));
      ModuleLoad& load = conf.loads[m];
      std::vector<float> out(kFrame);
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      const double cpu0 = now_seconds(CLOCK_THREAD_CPUTIME_ID);
      for (std::size_t f = 0; f < frames; ++f) {
        // Start a frame only once every other module has done the one
        // before: modules keep in step, as real-time modules do, so the bus
        // neither starves nor overflows.
        for (std::size_t j = 0; j < k; ++j)
          while (j != m && done[j].load(std::memory_order_acquire) + 1 < f) std::this_thread::yield();
        const double work0 = now_seconds(CLOCK_THREAD_CPUTIME_ID);
        const std::size_t at = (f % kFramesOfAudio) * kFrame;
        std::size_t n = 0;
        for (std::size_t p = 0; p < load.io.size(); ++p) load.io[p]->write_input(load.input[p].data() + at, kFrame, n);
        prosody_sw_step(load.module, 1);
        for (auto& io : load.io) io->read_output(out.data(), kFrame, n);
        run.work[m] += now_seconds(CLOCK_THREAD_CPUTIME_ID) - work0;
        done[m].store(f + 1, std::memory_order_release);
      }
      run.cpu[m] = now_seconds(CLOCK_THREAD_CPUTIME_ID) - cpu0;
    });
  }
  const double t0 = now_seconds(CLOCK_MONOTONIC);
  go.store(true, std::memory_order_release);
  for (auto& t : threads) t.join();
  run.wall = now_seconds(CLOCK_MONOTONIC) - t0;
  for (tSMTDMrxId rx : conf.topology.rx) {
    prosody::detail::TdmRxStats s;
    prosody::detail::TdmBus::instance().rx_stats(raw(rx), s);
    run.concealed += s.frames_concealed;
  }
  return run;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t parties = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 2000;
  const std::size_t frames = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 500;
  const int rounds = argc > 3 ? std::atoi(argv[3]) : 9;
  const bool pin = argc > 4 ? std::atoi(argv[4]) != 0 : true;
  std::printf("Conference of %zu parties, %zu frames (10 ms) per run, %d rounds interleaved; %u CPUs; threads %s\n",
              parties, frames, rounds, std::thread::hardware_concurrency(), pin ? "pinned" : "not pinned");
  double load[3];
  if (getloadavg(load, 3) == 3) std::printf("load average at the start: %.2f %.2f %.2f\n", load[0], load[1], load[2]);

  std::vector<double> one, two, ratio, cpu_one, cpu_two_a, cpu_two_b, work_one, work_two;
  std::uint64_t concealed = 0;
  for (int r = 0; r < rounds; ++r) {
    double t1, t2;
    {
      Conference c(1, parties);
      drive(c, 20, pin);  // warm up: every join faded in, caches filled
      const Run run = drive(c, frames, pin);
      t1 = double(parties * frames) / run.wall;
      cpu_one.push_back(run.cpu[0] / run.wall);
      work_one.push_back(run.work[0] / double(parties * frames) * 1e6);
    }
    {
      Conference c(2, parties);
      drive(c, 20, pin);
      const Run run = drive(c, frames, pin);
      t2 = double(parties * frames) / run.wall;
      cpu_two_a.push_back(run.cpu[0] / run.wall);
      cpu_two_b.push_back(run.cpu[1] / run.wall);
      work_two.push_back((run.work[0] + run.work[1]) / double(parties * frames) * 1e6);
      concealed += run.concealed;
    }
    one.push_back(t1);
    two.push_back(t2);
    ratio.push_back(t2 / t1);
    std::printf("round %d: one module %.0f party-frames/s (%.1fx real time), two modules %.0f (%.1fx), ratio %.2f\n",
                r + 1, t1, t1 / double(parties) / 100.0, t2, t2 / double(parties) / 100.0, t2 / t1);
  }
  auto spread = [](const std::vector<double>& v) {
    return std::make_pair(*std::min_element(v.begin(), v.end()), *std::max_element(v.begin(), v.end()));
  };
  const auto s1 = spread(one), s2 = spread(two), sr = spread(ratio);
  std::printf("\none module:  median %.0f party-frames/s (%.1fx real time), spread %.0f..%.0f; CPU per wall s %.2f\n",
              median(one), median(one) / double(parties) / 100.0, s1.first, s1.second, median(cpu_one));
  std::printf(
      "two modules: median %.0f party-frames/s (%.1fx real time), spread %.0f..%.0f; CPU per wall s %.2f + %.2f\n",
      median(two), median(two) / double(parties) / 100.0, s2.first, s2.second, median(cpu_two_a), median(cpu_two_b));
  std::printf("two / one:   median %.2f, spread %.2f..%.2f (bar: 1.7)\n", median(ratio), sr.first, sr.second);
  std::printf(
      "CPU of the work per party-frame (both threads summed, waits excluded): one module %.3f us, two "
      "modules %.3f us (medians)\n",
      median(work_one), median(work_two));
  std::printf("bus frames concealed in the timed two-module runs: %llu\n", (unsigned long long)concealed);
  return 0;
}
