// The four-party conference of the Prosody guide, built from the primitives
// and through the high-level library, checked by measuring each party's
// output: every other party at its level, none of its own.
#include <gtest/gtest.h>

#include <array>

#include "harness.hpp"

namespace prosody::test {
namespace {

constexpr double kRate = 8000.0;
constexpr std::array<double, 4> kFreq = {430.0, 770.0, 1130.0, 1510.0};
constexpr std::array<double, 4> kLevel = {-12.0, -15.0, -18.0, -21.0};

struct FourParties {
  Module m = Module::create({});
  std::array<Party, 4> p;
  FourParties() {
    for (std::size_t i = 0; i < 4; ++i) {
      p[i].channel = m.allocate(ChannelType::full_duplex);
      p[i].channel.enable_host_input();
      p[i].channel.enable_host_output();
      p[i].input = testsig::sine(kFreq[i], kLevel[i], 16000, kRate, 0.3 * double(i));
    }
  }
  std::vector<Party*> all() { return {&p[0], &p[1], &p[2], &p[3]}; }
};

void expect_mix_minus(FourParties& f) {
  for (std::size_t listener = 0; listener < 4; ++listener) {
    const auto& out = f.p[listener].output;
    ASSERT_GE(out.size(), 16000u);
    for (std::size_t talker = 0; talker < 4; ++talker) {
      const double got = tone_db(out, kFreq[talker], kRate, 8000, 8000);
      if (talker == listener) {
        EXPECT_LT(got - kLevel[talker], -60.0) << "party " << listener << " hears itself";
      } else {
        EXPECT_NEAR(got, kLevel[talker], 0.1) << "party " << listener << " hearing " << talker;
      }
    }
  }
}

TEST(FourPartyConference, BuiltFromPrimitives) {
  FourParties f;
  // Attach every input; start every output; add each input to the three
  // other outputs (the plain primitive sequence, section 2.3(b)).
  std::array<int, 4> ids{};
  for (std::size_t i = 0; i < 4; ++i) ids[i] = f.p[i].channel.conf_attach();
  for (std::size_t i = 0; i < 4; ++i) f.p[i].channel.conf_start();
  for (std::size_t o = 0; o < 4; ++o)
    for (std::size_t i = 0; i < 4; ++i)
      if (i != o) {
        EXPECT_EQ(f.p[o].channel.conf_add(f.p[i].channel), ids[i]) << "ids are the same in every output";
      }
  run(f.m, f.all(), 200);
  expect_mix_minus(f);
}

TEST(FourPartyConference, ThroughHighLevelLibrary) {
  FourParties f;
  Conference conf;
  for (auto& party : f.p) conf.add_party(party.channel);
  EXPECT_EQ(conf.size(), 4u);
  run(f.m, f.all(), 200);
  expect_mix_minus(f);
  // Everyone is talking.
  EXPECT_EQ(conf.speaking().size(), 4u);
}

// Parties with one half: a background (input only) heard by all, hearing
// nothing, and a monitor (output only) hearing all, heard by none, joined
// before the talkers and after, and removed again.
TEST(FourPartyConference, MonitorAndBackgroundParties) {
  FourParties f;
  auto id = [&](std::size_t i) { return f.p[i].channel.id(); };
  Conference conf;
  conf.add_party(id(2), ChannelId{});  // background first: nobody listens yet
  conf.add_party(ChannelId{}, id(3));  // a monitor, with no listener to clone
  conf.add_party(f.p[0].channel);
  conf.add_party(f.p[1].channel);
  EXPECT_EQ(conf.size(), 4u);
  run(f.m, f.all(), 200);
  auto hears = [&](std::size_t listener, std::size_t talker) {
    return tone_db(f.p[listener].output, kFreq[talker], kRate, 8000, 8000) - kLevel[talker];
  };
  for (std::size_t listener : {0, 1, 3})
    for (std::size_t talker = 0; talker < 4; ++talker) {
      const bool heard = talker != listener && talker != 3;  // the monitor's input is nobody's
      if (heard)
        EXPECT_NEAR(hears(listener, talker), 0.0, 0.1) << listener << " hearing " << talker;
      else
        EXPECT_LT(hears(listener, talker), -60.0) << listener << " hearing " << talker;
    }
  EXPECT_LT(testsig::level_dbm0(f.p[2].output.data() + 8000, 8000), -90.0) << "a background hears nothing";
  const auto talking = conf.speaking();
  EXPECT_EQ(talking.size(), 3u) << "the talkers and the background";
  EXPECT_THROW(conf.add_party(ChannelId{}, ChannelId{}), Error);
  EXPECT_THROW(conf.remove_party(id(2), id(2)), Error) << "the halves must match";

  conf.remove_party(id(2), ChannelId{});
  conf.remove_party(ChannelId{}, id(3));
  EXPECT_EQ(conf.size(), 2u);
  for (auto& party : f.p) party.output.clear();
  run(f.m, f.all(), 200);
  EXPECT_LT(hears(0, 2), -60.0) << "the background has left";
  EXPECT_NEAR(hears(0, 1), 0.0, 0.1);
  EXPECT_LT(testsig::level_dbm0(f.p[3].output.data() + 8000, 8000), -90.0) << "the monitor has left";
}

TEST(FourPartyConference, ParticipantIdsAreLowestFree) {
  Module m = Module::create({});
  std::vector<Channel> ch;
  for (int i = 0; i < 5; ++i) ch.push_back(m.allocate(ChannelType::full_duplex));
  EXPECT_EQ(ch[0].conf_attach(), 0);
  EXPECT_EQ(ch[1].conf_attach(), 1);
  EXPECT_EQ(ch[2].conf_attach(), 2);
  ch[1].conf_detach();
  EXPECT_EQ(ch[3].conf_attach(), 1);
  EXPECT_EQ(ch[4].conf_attach(), 3);
  EXPECT_EQ(ch[0].conf_attach(), 0) << "attach is a no-op when attached";
}

}  // namespace
}  // namespace prosody::test
