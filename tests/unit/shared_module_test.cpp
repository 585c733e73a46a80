// Shared modules (one registry per process, reached by the same names from
// the C API and the C++ API), a module's clock (ModuleTime), frame clients
// (frame ports served on the module's own drive) and borrowed channels.
#include <gtest/gtest.h>

#include <time.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <functional>
#include <thread>
#include <vector>

#include "prosody/prosody.hpp"
#include "prosody/prosody_sw.h"
#include "prosody/smdrvr.h"
#include "signal.hpp"

namespace prosody {
namespace {

Errc code_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.code();
  }
  return Errc::ok;
}

std::int64_t monotonic_now_ns() {
  timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return std::int64_t(t.tv_sec) * 1000000000LL + t.tv_nsec;
}

tSMChannelId c_channel(ChannelId id) { return reinterpret_cast<tSMChannelId>(id.value); }

// ---------------------------------------------------------------------------
// The registry

TEST(SharedModules, ACardIndexIsTheModuleTheCApiOpens) {
  SM_OPEN_MODULE_PARMS open{};
  open.module_ix = 1;
  ASSERT_EQ(sm_open_module(&open), 0);
  const ModuleConfig c = Module::shared_config("1");
  EXPECT_EQ(c.sample_rate, 8000u);
  EXPECT_EQ(c.frame_us, 10000u);
  EXPECT_EQ(c.drive, DriveMode::realtime) << "card modules run in real time by default";
  {
    Module m = Module::open_shared("1");
    Channel ch = m.allocate(ChannelType::full_duplex);
    EXPECT_EQ(sm_get_channel_module_id(c_channel(ch.id())), 1) << "a channel of the C API's module 1";
    SM_CHANNEL_ALLOC_PLACED_PARMS alloc{};
    alloc.type = kSMChannelTypeFullDuplex;
    alloc.module = open.module_id;
    ASSERT_EQ(sm_channel_alloc_placed(&alloc), 0);
    EXPECT_NO_THROW(m.borrow(ChannelId{reinterpret_cast<std::uintptr_t>(alloc.channel)}))
        << "the C API's channel is a channel of the C++ handle's module";
    EXPECT_EQ(sm_channel_release(alloc.channel), 0);
  }
  SM_CLOSE_MODULE_PARMS close{};
  close.module_id = open.module_id;
  EXPECT_EQ(sm_close_module(&close), 0);
  EXPECT_EQ(code_of([] { Module::open_shared("4"); }), Errc::no_such_module) << "card 0 has 4 modules";
  EXPECT_EQ(code_of([] { Module::shared_config("99"); }), Errc::no_such_module);
  EXPECT_EQ(code_of([] { Module::open_shared(""); }), Errc::bad_parameter);
}

TEST(SharedModules, NamedModulesAreOneRegistryForBothFaces) {
  PROSODY_SW_OPEN_SHARED_MODULE_PARMS open{};
  open.name = "bridge";
  ASSERT_EQ(prosody_sw_open_shared_module(&open), 0);
  SM_CHANNEL_ALLOC_PLACED_PARMS alloc{};
  alloc.type = kSMChannelTypeFullDuplex;
  alloc.module = open.module_id;
  ASSERT_EQ(sm_channel_alloc_placed(&alloc), 0);
  const ChannelId id{reinterpret_cast<std::uintptr_t>(alloc.channel)};
  Module m = Module::open_shared("bridge");
  EXPECT_NO_THROW(m.borrow(id));
  EXPECT_EQ(m.drive_mode(), DriveMode::realtime) << "created by the C API: real time, as hardware";
  bool fixed = true;
  Module::shared_config("other", &fixed);
  EXPECT_FALSE(fixed) << "nobody configured it: its first user decides";
  Module other = Module::open_shared("other");
  EXPECT_EQ(other.drive_mode(), DriveMode::stepped) << "created by the C++ API: a default ModuleConfig";
  Module::shared_config("other", &fixed);
  EXPECT_TRUE(fixed) << "it exists";
  EXPECT_EQ(code_of([&] { other.borrow(id); }), Errc::no_such_channel) << "another name, another module";
  PROSODY_SW_OPEN_SHARED_MODULE_PARMS bad{};
  EXPECT_EQ(prosody_sw_open_shared_module(&bad), ERR_SM_BAD_PARAMETER);
  SM_CLOSE_MODULE_PARMS close{};
  close.module_id = open.module_id;
  EXPECT_EQ(sm_close_module(&close), 0);
  EXPECT_EQ(sm_close_module(&close), ERR_SM_BAD_PARAMETER) << "the C API's hold is gone";
  EXPECT_NO_THROW(m.borrow(id)) << "the C++ handle still holds the module, channels and all";
}

TEST(SharedModules, ConfiguredBeforeFirstUse) {
  ModuleConfig wide;
  wide.sample_rate = 16000;
  wide.frame_us = 20000;
  wide.drive = DriveMode::stepped;
  Module::configure_shared("wide", wide);
  {
    Module m = Module::open_shared("wide");
    EXPECT_EQ(m.sample_rate(), 16000u);
    EXPECT_EQ(m.frame_samples(), 320u);
    EXPECT_EQ(m.drive_mode(), DriveMode::stepped);
    EXPECT_EQ(code_of([&] { Module::configure_shared("wide", ModuleConfig{}); }), Errc::wrong_module_state);
    ModuleConfig narrow = wide;
    narrow.sample_rate = 8000;
    EXPECT_EQ(code_of([&] { Module::open_shared("wide", narrow); }), Errc::bad_parameter)
        << "an existing module keeps its rate";
    ModuleConfig realtime = wide;
    realtime.drive = DriveMode::realtime;
    EXPECT_EQ(Module::open_shared("wide", realtime).drive_mode(), DriveMode::stepped)
        << "an existing module keeps its drive mode";
  }
  EXPECT_NO_THROW(Module::configure_shared("wide", ModuleConfig{})) << "gone with its last handle";
  EXPECT_EQ(code_of([] {
              ModuleConfig bad;
              bad.sample_rate = 11025;
              Module::configure_shared("wide", bad);
            }),
            Errc::bad_parameter);
}

TEST(SharedModules, LivesWhileAnythingHoldsIt) {
  ChannelId id;
  {
    Module m = Module::open_shared("held");
    Channel owned = m.allocate(ChannelType::full_duplex);
    id = owned.id();
    Channel kept = std::move(owned);
    m = Module();
    // The channel handle alone keeps the module.
    EXPECT_NO_THROW(Module::open_shared("held").borrow(id));
  }
  EXPECT_EQ(code_of([&] { Module::open_shared("held").borrow(id); }), Errc::no_such_channel)
      << "once nothing held it, the name opens a new module";

  // The C API's hold alone keeps a module running in real time.
  PROSODY_SW_OPEN_SHARED_MODULE_PARMS open{};
  open.name = "held-by-c";
  ASSERT_EQ(prosody_sw_open_shared_module(&open), 0);
  std::uint64_t before = 0;
  {
    Module m = Module::open_shared("held-by-c");
    before = m.time().samples;
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_GT(Module::open_shared("held-by-c").time().samples, before);
  SM_CLOSE_MODULE_PARMS close{};
  close.module_id = open.module_id;
  EXPECT_EQ(sm_close_module(&close), 0);
}

// ---------------------------------------------------------------------------
// The module's clock

TEST(ModuleClock, SteppedFramesCountSamplesWithoutATime) {
  Module m = Module::create({});
  EXPECT_EQ(m.time().samples, 0u);
  m.step(3);
  EXPECT_EQ(m.time().samples, 240u);
  EXPECT_EQ(m.time().monotonic_ns, -1);
}

TEST(ModuleClock, RealTimeTellsWhenTheCounterWasReached) {
  ModuleConfig c;
  c.drive = DriveMode::realtime;
  Module m = Module::create(c);
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  const std::uint64_t late_before = m.stats().late_frames;
  const ModuleTime t0 = m.time();
  const std::int64_t now0 = monotonic_now_ns();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const ModuleTime t1 = m.time();
  const std::int64_t now1 = monotonic_now_ns();
  ASSERT_GT(t0.samples, 0u);
  ASSERT_GE(t0.monotonic_ns, 0);
  EXPECT_LE(t0.monotonic_ns, now0) << "the count was reached in the past";
  EXPECT_LE(t1.monotonic_ns, now1);
  EXPECT_GT(t1.monotonic_ns, now1 - 100000000LL) << "and recently";
  EXPECT_GE(t1.samples - t0.samples, 2000u) << "300 ms at 8 kHz, give or take a late frame";
  if (m.stats().late_frames == late_before) {
    // On schedule, the counter and the monotonic clock advance together:
    // 80 samples are 10 ms exactly.
    EXPECT_EQ((t1.monotonic_ns - t0.monotonic_ns) * 8000, std::int64_t(t1.samples - t0.samples) * 1000000000LL);
  }
}

// ---------------------------------------------------------------------------
// Frame clients

// Feeds one talker's frame port from a signal and collects a listener's
// frame output: the frame API, served on the module's own drive.
class TalkerClient : public FrameClient {
 public:
  TalkerClient(Module& m, std::vector<float> signal) : n_(m.frame_samples()), signal_(std::move(signal)) {
    talker_ = m.allocate(ChannelType::full_duplex);
    listener_ = m.allocate(ChannelType::full_duplex);
    talker_.enable_frame_input();
    listener_.enable_frame_output();
    listener_.conf_start();
    listener_.conf_add(talker_);
    talker_.conf_set_gating(false);
    out_.resize(n_);
  }
  void prepare(const FrameTime& time, std::vector<FrameInput>& inputs, std::vector<FrameOutput>& outputs) override {
    times.push_back(time);
    const std::size_t at = std::size_t(time.first_sample);
    if (at + n_ <= signal_.size()) {
      piece_ = FramePiece{0, std::uint32_t(n_), signal_.data() + at, SampleFormat::f32};
      inputs.push_back(FrameInput{talker_.id(), Span<const FramePiece>(&piece_, 1), false});
    }
    if (stale_) inputs.push_back(FrameInput{stale_, Span<const FramePiece>(&piece_, 1), false});
    outputs.push_back(FrameOutput{listener_.id(), out_.data(), SampleFormat::f32});
  }
  void complete(const FrameTime& time) override {
    EXPECT_EQ(time.first_sample, times.back().first_sample);
    heard.insert(heard.end(), out_.begin(), out_.end());
    completed.fetch_add(1);
  }
  std::vector<FrameTime> times;
  std::vector<float> heard;
  std::atomic<int> completed{0};
  ChannelId stale_;

 private:
  std::size_t n_;
  std::vector<float> signal_;
  Channel talker_, listener_;
  FramePiece piece_;
  std::vector<float> out_;
};

TEST(FrameClientTest, ServesEveryStep) {
  Module m = Module::create({});
  const auto x = testsig::sine(700.0, -10.0, 800, 8000.0);
  auto client = std::make_shared<TalkerClient>(m, x);
  m.set_frame_client(client);
  m.step(10);
  ASSERT_EQ(client->times.size(), 10u);
  for (std::size_t k = 0; k < 10; ++k) {
    EXPECT_EQ(client->times[k].first_sample, 80 * k);
    EXPECT_EQ(client->times[k].due_ns, -1);
  }
  ASSERT_EQ(client->heard.size(), x.size());
  // The listener hears the talker from its first frame, sample for sample
  // (the join fades in over the first frame).
  for (std::size_t i = 80; i < x.size(); ++i) ASSERT_EQ(client->heard[i], x[i]) << i;
  FrameResult r;
  EXPECT_EQ(code_of([&] { m.step_frame({}, {}, r); }), Errc::wrong_module_state) << "the client owns the ports";
  EXPECT_EQ(code_of([&] { m.set_frame_client(std::make_shared<TalkerClient>(m, x)); }), Errc::wrong_module_state);
  m.set_frame_client(nullptr);
  EXPECT_NO_THROW(m.step_frame({}, {}, r));
}

TEST(FrameClientTest, EntriesThatAreGoneAreLeftOut) {
  Module m = Module::create({});
  const auto x = testsig::sine(700.0, -10.0, 800, 8000.0);
  auto client = std::make_shared<TalkerClient>(m, x);
  {
    Channel gone = m.allocate(ChannelType::full_duplex);
    gone.enable_frame_input();
    client->stale_ = gone.id();
  }  // released: the client still names it
  m.set_frame_client(client);
  m.step(10);
  ASSERT_EQ(client->heard.size(), x.size());
  EXPECT_GT(testsig::snr_db(x.data() + 80, client->heard.data() + 80, x.size() - 80), 100.0);
  m.set_frame_client(nullptr);  // the client's channels hold the module
}

TEST(FrameClientTest, ServesTheRealTimeThread) {
  ModuleConfig c;
  c.drive = DriveMode::realtime;
  Module m = Module::create(c);
  const auto x = testsig::sine(700.0, -10.0, 8000, 8000.0);
  auto client = std::make_shared<TalkerClient>(m, x);
  m.set_frame_client(client);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (client->completed.load() < 20 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  m.set_frame_client(nullptr);  // waits for the frame in progress: then the vectors are ours
  ASSERT_GE(client->times.size(), 20u);
  const std::uint64_t first = client->times.front().first_sample;
  for (std::size_t k = 1; k < client->times.size(); ++k) {
    EXPECT_EQ(client->times[k].first_sample, first + 80 * k);
    ASSERT_GE(client->times[k].due_ns, 0);
    // Due 10 ms apart, unless the thread fell behind and restarted its schedule.
    EXPECT_GE(client->times[k].due_ns - client->times[k - 1].due_ns, 10000000);
  }
  // What the listener heard is the signal at the module's sample positions.
  std::size_t checked = 0;
  for (std::size_t k = 1; k < client->times.size(); ++k) {
    const std::size_t at = std::size_t(client->times[k].first_sample);
    if (at + 80 > x.size()) break;
    for (std::size_t i = 0; i < 80; ++i) ASSERT_EQ(client->heard[80 * k + i], x[at + i]);
    ++checked;
  }
  EXPECT_GE(checked, 10u);
}

TEST(BorrowedChannel, IsNotReleasedWithItsHandle) {
  Module m = Module::create({});
  Channel owner = m.allocate(ChannelType::full_duplex);
  {
    Channel borrowed = m.borrow(owner.id());
    EXPECT_FALSE(borrowed.owns());
    borrowed.enable_frame_input();
  }
  EXPECT_NO_THROW(owner.type()) << "still allocated";
  EXPECT_NO_THROW(owner.disable_frame_input());
  EXPECT_EQ(code_of([&] { m.borrow(ChannelId{12345}); }), Errc::no_such_channel);
  Module other = Module::create({});
  EXPECT_EQ(code_of([&] { other.borrow(owner.id()); }), Errc::no_such_channel);
}

}  // namespace
}  // namespace prosody
