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
  // One thread steps the module and reads every output while another adds
  // and removes members at random, 200,000 times. Afterwards every output
  // holds exactly the members the control thread left it (checked by ear:
  // each party says its own tone), and the module is still consistent.
  Module m = Module::create({});
  constexpr std::size_t kParties = 6;
  static const double kFreqs[kParties] = {413, 587, 761, 1009, 1163, 1319};
  std::vector<Channel> ch;
  for (std::size_t i = 0; i < kParties; ++i) {
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
  bool member[kParties][kParties] = {};  // [output][talker]
  for (int i = 0; i < 200000; ++i) {
    const std::size_t o = rng() % kParties, p = rng() % kParties;
    if (rng() % 2) {
      ch[o].conf_add(ch[p]);
      member[o][p] = true;
    } else if (ch[p].participant_id() >= 0) {
      ch[o].conf_leave(ch[p].participant_id());
      member[o][p] = false;
    }
  }
  stop = true;
  stepper.join();
  // An input that no output holds any more is detached (standard type), so
  // the survivors' membership is what the model says.
  for (std::size_t o = 0; o < kParties; ++o) {
    const std::vector<int> ids = ch[o].conf_members();
    std::size_t expected = 0;
    for (std::size_t p = 0; p < kParties; ++p) expected += member[o][p];
    EXPECT_EQ(ids.size(), expected) << "output " << o;
  }
  // By ear: everyone says a tone; output o hears its members, no one else.
  std::vector<Party> parties(kParties);
  for (std::size_t i = 0; i < kParties; ++i) {
    parties[i].channel = std::move(ch[i]);
    parties[i].channel.enable_host_input();
    if (parties[i].channel.participant_id() >= 0) parties[i].channel.conf_set_gating(false);
    parties[i].input = testsig::sine(kFreqs[i], -20.0, 8000, 8000.0);
  }
  std::vector<Party*> all;
  for (auto& p : parties) all.push_back(&p);
  run(m, all, 100);
  for (std::size_t o = 0; o < kParties; ++o)
    for (std::size_t p = 0; p < kParties; ++p) {
      if (o == p) continue;  // a party never hears itself
      const double db = tone_db(parties[o].output, kFreqs[p], 8000.0, 4000, 4000);
      if (member[o][p])
        EXPECT_NEAR(db, -20.0, 0.5) << "output " << o << " hears " << p;
      else
        EXPECT_LT(db, -80.0) << "output " << o << " should not hear " << p;
    }
}

TEST(Threads, FrameApiDrivenWhileControlCallsComeFromAnotherThread) {
  // One thread drives step_frame with every party's frame, another attaches,
  // detaches, re-adds, mutes and changes volumes; a third joins and leaves
  // with a channel of its own. Afterwards the conference is still right.
  Module m = Module::create({});
  const std::size_t n = m.frame_samples();
  constexpr std::size_t kParties = 6;
  static const double kFreqs[] = {413, 587, 761, 1009, 1163, 1319};
  std::vector<Channel> party;
  std::vector<std::vector<float>> said;
  Conference conf;
  for (std::size_t i = 0; i < kParties; ++i) {
    party.push_back(m.allocate(ChannelType::full_duplex));
    party.back().enable_frame_input();
    party.back().enable_frame_output();
    conf.add_party(party.back());
    said.push_back(testsig::sine(kFreqs[i], -16.0, 8000, 8000.0));
  }
  ListenSettings ls;
  ls.enabled = true;
  party[0].listen_for(ls);
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> frames{0}, events{0};
  std::vector<std::vector<float>> heard(kParties, std::vector<float>(n));
  auto drive = [&](std::size_t count) {
    FrameResult result;
    std::vector<FramePiece> pieces(kParties);
    std::vector<FrameInput> inputs(kParties);
    std::vector<FrameOutput> outputs(kParties);
    for (std::size_t f = 0; f < count && !stop; ++f) {
      const std::size_t at = (frames % 100) * n;
      for (std::size_t i = 0; i < kParties; ++i) {
        pieces[i] = FramePiece{0, std::uint32_t(n), said[i].data() + at, SampleFormat::f32};
        inputs[i] = {party[i].id(), Span<const FramePiece>(&pieces[i], 1)};
        outputs[i] = {party[i].id(), heard[i].data(), SampleFormat::f32};
      }
      m.step_frame(inputs, outputs, result);
      ++frames;
      events += result.events.size();
    }
  };
  std::thread stepper([&] { drive(SIZE_MAX); });
  std::thread control([&] {
    std::mt19937 rng(3);
    while (!stop) {
      Channel& p = party[rng() % kParties];
      Channel& q = party[rng() % kParties];
      switch (rng() % 5) {
        case 0:
          p.conf_adjust_input({double(int(rng() % 30) - 20), rng() % 2 == 0, rng() % 2 == 0});
          break;
        case 1:
          if (&p != &q) {
            p.conf_leave(q.participant_id());
            p.conf_add(q);
          }
          break;
        case 2:
          p.conf_config_activity(rng() % 2 ? 20 : 0, 100);
          break;
        case 3:
          p.conf_set_gating(rng() % 2 == 0);
          p.listen_for(ls);
          break;
        case 4:
          (void)p.input_stats();
          (void)p.conf_active_ids();
          break;
      }
    }
  });
  std::thread churn([&] {
    while (!stop) {
      Channel extra = m.allocate(ChannelType::full_duplex);
      extra.enable_frame_input();
      conf.add_party(extra);
      std::this_thread::sleep_for(1ms);
      conf.remove_party(extra);
    }
  });
  std::this_thread::sleep_for(1000ms);
  stop = true;
  stepper.join();
  control.join();
  churn.join();
  EXPECT_GT(frames.load(), 200u);
  EXPECT_EQ(m.samples_processed(), frames.load() * n);
  // Settle: everyone back at 0 dB, then party 0 hears the others at their
  // level. (Gating off: minutes of the same steady tone have gone by, which
  // the activity tracker rightly takes for noise.)
  for (auto& p : party) {
    p.conf_adjust_input({0.0, false, false});
    p.conf_set_gating(false);
  }
  stop = false;
  std::vector<float> heard0;
  for (int f = 0; f < 60; ++f) {
    drive(1);
    heard0.insert(heard0.end(), heard[0].begin(), heard[0].end());
  }
  for (std::size_t t = 1; t < kParties; ++t)
    EXPECT_NEAR(tone_db(heard0, kFreqs[t], 8000.0, 20 * n, 40 * n), -16.0, 0.5) << "party 0 hears " << t;
  EXPECT_LT(tone_db(heard0, kFreqs[0], 8000.0, 20 * n, 40 * n), -80.0) << "not itself";
}

TEST(Threads, TwoThreadsShareOneChannel) {
  // One Channel handle used by two threads at once, from its first call on
  // (its host-port state must not be filled in lazily by a const call),
  // while a third steps the module.
  Module m = Module::create({});
  const std::size_t n = m.frame_samples();
  for (int round = 0; round < 20; ++round) {
    Channel a = m.allocate(ChannelType::full_duplex);
    Channel b = m.allocate(ChannelType::full_duplex);
    a.enable_host_input(20);
    a.enable_host_output(20);
    b.enable_host_output(20);
    b.conf_start();
    b.conf_add(a);
    a.conf_set_gating(false);
    std::atomic<int> ready{0};
    std::atomic<bool> stop{false};
    std::atomic<std::size_t> written{0}, queued_seen{0};
    const std::vector<float> tone = testsig::sine(500.0, -20.0, n, 8000.0);
    auto wait_for_all = [&] {
      ++ready;
      while (ready.load() < 2) std::this_thread::yield();
    };
    std::thread writer([&] {
      wait_for_all();
      while (!stop) {
        written += a.write_input(Span<const float>(tone.data(), n));
        std::this_thread::yield();
      }
    });
    std::thread watcher([&] {
      wait_for_all();
      std::vector<float> buf(n);
      while (!stop) {
        queued_seen += a.input_queued();
        (void)a.output_available();
        (void)a.read_output(Span<float>(buf.data(), n));
        std::this_thread::yield();
      }
    });
    std::vector<float> out(n);
    std::size_t heard = 0, steps = 0;
    while (ready.load() < 2) std::this_thread::yield();
    // Until both threads have had a good go (however loaded the machine).
    const auto give_up = std::chrono::steady_clock::now() + 10s;
    while ((steps < 50 || written.load() < 10 * n) && std::chrono::steady_clock::now() < give_up) {
      m.step(1);
      ++steps;
      heard += b.read_output(Span<float>(out.data(), n));
      std::this_thread::sleep_for(100us);
    }
    stop = true;
    writer.join();
    watcher.join();
    EXPECT_GE(written.load(), 10 * n);
    EXPECT_EQ(heard, steps * n);
  }
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
