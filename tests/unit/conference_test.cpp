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
