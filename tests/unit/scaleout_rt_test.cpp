// The scale-out models with every module on its own real-time thread, as
// sm_open_module gives them: the TDM bus carries frames between threads (and
// cores) with no lock on the way. Runs under ThreadSanitizer too.
#include "scaleout.hpp"

namespace {

using namespace scaleout;

class RealTimeModels : public ::testing::TestWithParam<ModelCase> {};

TEST_P(RealTimeModels, EveryPartyHearsEveryOtherAndNeverItself) {
  const ModelCase c = GetParam();
  Card card(c.modules);  // real time, as sm_open_module gives
  Topology t;
  std::string failed;
  ASSERT_EQ(testmodels::build(c.model, card.modules, kPartiesPerModule, kSMTimeslotTypeData, t, &failed), 0) << failed;
  constexpr std::size_t kFrames = 300;  // 3 s, queued at once
  std::vector<Party> parties = parties_of(t, kFrames + 10);
  give_tones(parties, kFrames * kFrame);
  for (Party& p : parties) {
    std::size_t accepted = 0;
    ASSERT_EQ(p.io->write_input(p.input.data(), p.input.size(), accepted), Errc::ok);
    ASSERT_EQ(accepted, p.input.size());
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(3200));
  for (Party& p : parties) {
    p.output.resize(kFrames * kFrame + 2000);
    std::size_t got = 0;
    ASSERT_EQ(p.io->read_output(p.output.data(), p.output.size(), got), Errc::ok);
    p.output.resize(got);
  }
  // One second in the middle: every module has had its input since it
  // started, and the bus is running (levels: medians over ten 100 ms
  // windows).
  expect_everyone_hears_everyone(parties, 120 * kFrame, 100 * kFrame, testmodels::name(c.model), true, 10);
  for (tSMTDMrxId rx : t.rx) {
    prosody::detail::TdmRxStats s;
    ASSERT_EQ(prosody::detail::TdmBus::instance().rx_stats(raw(rx), s), Errc::ok);
    std::printf("[ bus      ] %s: received %llu frames, concealed %llu, dropped %llu samples, %llu start(s)\n",
                testmodels::name(c.model), (unsigned long long)s.frames_received,
                (unsigned long long)s.frames_concealed, (unsigned long long)s.samples_dropped,
                (unsigned long long)s.restarts);
  }
  testmodels::teardown(t);
}

INSTANTIATE_TEST_SUITE_P(FourModules, RealTimeModels,
                         ::testing::Values(ModelCase{Model::broadcast, 4}, ModelCase{Model::pipeline, 4},
                                           ModelCase{Model::hierarchical, 4}),
                         case_name);

}  // namespace

namespace {

using namespace scaleout;

// The sender of a timeslot moves between two real-time modules, again and
// again, while a third module listens. A destroyed TDM[tx] may still be held
// by its module's processing path for a frame or two: it must send nothing
// more, so that the new sender is the only writer of the receivers' rings
// (ThreadSanitizer sees two writers otherwise). The listener hears the tone
// both senders send throughout, but for the frames of each hand-over.
TEST(RealTimeTdmBus, ASenderMovingBetweenModulesLeavesOneWriter) {
  Card card(3);
  const tSMModuleId listener_module = card.modules[2];
  // On modules 0 and 1, a replay-free source: a host-input channel in a
  // conference output, whose datafeed a TDM[tx] sends.
  std::vector<tSMDatafeedId> source(2);
  std::vector<std::shared_ptr<ChannelIo>> talker_io(2);
  constexpr std::size_t kSeconds = 2;
  const std::vector<float> tone = testsig::sine(1000.0, kLevel, kSeconds * 8000 + 4000, kRate);
  for (std::size_t m = 0; m < 2; ++m) {
    const tSMChannelId talker = alloc_on(card.modules[m], kSMChannelTypeInput);
    const tSMChannelId out = conference_of(card.modules[m], talker);
    auto e = engine_of(card.modules[m]);
    ASSERT_EQ(e->enable_host_input(raw(talker), tone.size()), Errc::ok);
    ASSERT_EQ(e->channel_io(raw(talker), talker_io[m]), Errc::ok);
    source[m] = datafeed_of(out);
  }
  // On module 2, the listener: an input fed by timeslot (6, 0), heard on a
  // conference output's host port.
  SM_TDMRX_CREATE_PARMS rc{};
  rc.module = listener_module;
  rc.stream = 6;
  rc.timeslot = 0;
  rc.type = kSMTimeslotTypeData;
  ASSERT_EQ(sm_tdmrx_create(&rc), 0);
  SM_TDMRX_DATAFEED_PARMS rd{};
  rd.tdmrx = rc.tdmrx;
  ASSERT_EQ(sm_tdmrx_get_datafeed(&rd), 0);
  const tSMChannelId remote = alloc_on(listener_module, kSMChannelTypeInput);
  SM_CHANNEL_DATAFEED_CONNECT_PARMS k{};
  k.data_source = rd.datafeed;
  k.channel = remote;
  ASSERT_EQ(sm_channel_datafeed_connect(&k), 0);
  const tSMChannelId heard = conference_of(listener_module, remote);
  auto listener = engine_of(listener_module);
  ASSERT_EQ(listener->enable_host_output(raw(heard), (kSeconds + 1) * 8000), Errc::ok);
  std::shared_ptr<ChannelIo> heard_io;
  ASSERT_EQ(listener->channel_io(raw(heard), heard_io), Errc::ok);

  std::size_t accepted = 0;
  for (auto& io : talker_io) ASSERT_EQ(io->write_input(tone.data(), tone.size(), accepted), Errc::ok);
  // 40 hand-overs, 50 ms apart.
  tSMTDMtxId tx = kSMNullTDMtxId;
  for (int i = 0; i < 40; ++i) {
    if (tx != kSMNullTDMtxId) {
      ASSERT_EQ(sm_tdmtx_destroy(tx), 0);
    }
    SM_TDMTX_CREATE_PARMS tc{};
    tc.module = card.modules[std::size_t(i % 2)];
    tc.stream = 6;
    tc.timeslot = 0;
    tc.type = kSMTimeslotTypeData;
    ASSERT_EQ(sm_tdmtx_create(&tc), 0) << "hand-over " << i << ": the timeslot is free once its sender is destroyed";
    tx = tc.tdmtx;
    SM_TDMTX_DATAFEED_CONNECT_PARMS tk{};
    tk.data_source = source[std::size_t(i % 2)];
    tk.tdmtx = tx;
    ASSERT_EQ(sm_tdmtx_datafeed_connect(&tk), 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::vector<float> out((kSeconds + 1) * 8000);
  std::size_t got = 0;
  ASSERT_EQ(heard_io->read_output(out.data(), out.size(), got), Errc::ok);
  ASSERT_GE(got, std::size_t(8000));
  // The median level over 100 ms windows of the second second: the tone,
  // as sent (each hand-over costs a frame or two of it).
  EXPECT_NEAR(median_tone_level(out.data() + 8000, 8000, 1000.0, 10), kLevel, 1.0);
  EXPECT_EQ(sm_tdmtx_destroy(tx), 0);
  EXPECT_EQ(sm_tdmrx_destroy(rc.tdmrx), 0);
}

}  // namespace
