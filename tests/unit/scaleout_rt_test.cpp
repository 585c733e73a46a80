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
  // started, and the bus is running (levels of the others: medians over ten
  // 100 ms windows).
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
