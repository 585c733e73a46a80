// Control calls from other threads while the module processes audio: in real
// time, and stepped. Meant to run under ThreadSanitizer as well; its checks
// are that nothing crashes, nothing deadlocks, audio keeps flowing, and the
// conference is still right afterwards.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <random>
#include <thread>

#include "harness.hpp"

namespace prosody::test {
namespace {

using namespace std::chrono_literals;

TEST(Threads, ControlChurnWhileRealTimeAudioFlows) {
  ModuleConfig cfg;
  cfg.drive = DriveMode::realtime;
  Module m = Module::create(cfg);
  constexpr int kParties = 8;
  std::vector<Channel> party;
  Conference conf;
  for (int i = 0; i < kParties; ++i) {
    party.push_back(m.allocate(ChannelType::full_duplex));
    party.back().enable_host_input(50);
    party.back().enable_host_output(50);
    conf.add_party(party.back());
  }
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> samples_out{0};

  // Audio: keep every input fed and every output drained.
  std::thread audio([&] {
    const std::vector<float> tone = testsig::sine(500.0, -20.0, 80, 8000.0);
    std::vector<float> buf(800);
    while (!stop) {
      for (auto& p : party) {
        while (p.input_queued() < 400) p.write_input(Span<const float>(tone.data(), tone.size()));
        samples_out += p.read_output(Span<float>(buf.data(), buf.size()));
      }
      std::this_thread::sleep_for(2ms);
    }
  });

  // Control: levels, mutes, AGC, reporting, leave and re-add, on every party.
  std::thread control([&] {
    std::mt19937 rng(1);
    while (!stop) {
      Channel& p = party[rng() % kParties];
      Channel& q = party[rng() % kParties];
      switch (rng() % 7) {
        case 0:
          p.conf_adjust_input({double(int(rng() % 30) - 20), rng() % 2 == 0, rng() % 2 == 0});
          break;
        case 1:
          p.conf_adjust_output({double(int(rng() % 20) - 10), rng() % 2 == 0, false});
          break;
        case 2:
          p.conf_config_activity(50, 80);
          break;
        case 3:
          (void)p.conf_poll_activity();
          break;
        case 4:
          if (&p != &q) {
            const int id = q.participant_id();
            p.conf_leave(id);
            p.conf_add(q);
          }
          break;
        case 5:
          (void)p.conf_active_ids();
          (void)p.input_stats();
          (void)p.output_stats();
          break;
        case 6:
          (void)conf.speaking();
          break;
      }
    }
  });

  // Churn: extra parties join and leave the conference, channels come and go.
  std::thread churn([&] {
    while (!stop) {
      Channel extra = m.allocate(ChannelType::full_duplex);
      extra.enable_host_input();
      conf.add_party(extra);
      std::this_thread::sleep_for(3ms);
      conf.remove_party(extra);
    }  // extra released here
  });

  std::this_thread::sleep_for(1500ms);
  stop = true;
  audio.join();
  control.join();
  churn.join();
  EXPECT_GT(samples_out.load(), std::uint64_t(kParties) * 8000u) << "audio kept flowing";
  EXPECT_GT(m.stats().frames_processed, 100u);
  EXPECT_EQ(conf.size(), std::size_t(kParties));
  m.stop_realtime();
}

TEST(Threads, ReleaseWhileRealTimeAndBlockingStop) {
  ModuleConfig cfg;
  cfg.drive = DriveMode::realtime;
  Module m = Module::create(cfg);
  for (int round = 0; round < 50; ++round) {
    Channel out = m.allocate(ChannelType::full_duplex);
    Channel in = m.allocate(ChannelType::full_duplex);
    in.enable_host_input();
    out.enable_host_output();
    out.conf_start();
    out.conf_add(in);
    std::vector<float> tone = testsig::sine(300.0, -10.0, 160, 8000.0);
    in.write_input(Span<const float>(tone.data(), tone.size()));
    if (round % 2) out.conf_stop(true);  // waits for the frame boundary
    // in and out released here, mid-stream.
  }
  EXPECT_EQ(m.stats().channels, 0u);
}

TEST(Threads, SteppedModuleWithConcurrentControl) {
  Module m = Module::create({});
  std::vector<Channel> ch;
  for (int i = 0; i < 6; ++i) {
    ch.push_back(m.allocate(ChannelType::full_duplex));
    ch.back().enable_host_output();
    ch.back().conf_start();
  }
  std::atomic<bool> stop{false};
  std::thread stepper([&] {
    std::vector<float> buf(80);
    while (!stop) {
      m.step(1);
      for (auto& c : ch) c.read_output(Span<float>(buf.data(), buf.size()));
    }
  });
  std::mt19937 rng(7);
  for (int i = 0; i < 200000; ++i) {
    Channel& o = ch[rng() % ch.size()];
    Channel& p = ch[rng() % ch.size()];
    if (rng() % 2)
      o.conf_add(p);
    else if (p.participant_id() >= 0)
      o.conf_leave(p.participant_id());
  }
  stop = true;
  stepper.join();
  SUCCEED();
}

TEST(Threads, RealTimeModuleKeepsTime) {
  // A real-time module processes one frame per frame period, paced by the
  // monotonic clock: 100 frames a second at 10 ms.
  ModuleConfig cfg;
  cfg.drive = DriveMode::realtime;
  Module m = Module::create(cfg);
  Channel out = m.allocate(ChannelType::full_duplex);
  out.enable_host_output(200);
  out.conf_start();
  std::this_thread::sleep_for(200ms);  // settle
  const auto t0 = std::chrono::steady_clock::now();
  const ModuleStats s0 = m.stats();
  std::this_thread::sleep_for(1000ms);
  const ModuleStats s1 = m.stats();
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double frames = double(s1.frames_processed - s0.frames_processed);
  // Never ahead of the clock.
  EXPECT_LE(frames, elapsed * 100.0 + 2.0) << "frames in " << elapsed << " s";
  // On time whenever it had the CPU; a machine too loaded to give it the CPU
  // (sanitizers, parallel tests) makes it late, and then it says so.
  if (s1.late_frames == s0.late_frames)
    EXPECT_GE(frames, elapsed * 100.0 - 5.0) << "frames in " << elapsed << " s, and no late frame counted";
  EXPECT_EQ(m.drive_mode(), DriveMode::realtime);
  try {
    m.step(1);
    FAIL() << "step() on a real-time module";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::wrong_module_state);
  }
  m.stop_realtime();
  m.step(1);  // stepped again
}

}  // namespace
}  // namespace prosody::test
