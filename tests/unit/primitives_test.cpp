// Conference primitives, checked by measuring audio: the recipes of the
// Prosody application notes (monitor, background, coach), clone, implicit
// attach and detach, ids, gains and ramps, overload, gating, reports, AGC.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "harness.hpp"

namespace prosody::test {
namespace {

constexpr double kRate = 8000.0;

// A module with n parties on host ports, each saying a tone at its own
// frequency.
struct Room {
  Module m;
  std::vector<Party> p;
  std::vector<double> freq;
  explicit Room(std::size_t n, double level = -16.0, ModuleConfig cfg = {}) : m(Module::create(cfg)), p(n) {
    // Irregular spacing, so intermodulation products of the others never
    // land on a party's own frequency.
    static const double kFreqs[] = {413, 587, 761, 1009, 1163, 1319, 1499, 1693, 1877, 2039, 2237, 2411};
    for (std::size_t i = 0; i < n; ++i) {
      freq.push_back(kFreqs[i % 12]);
      p[i].channel = m.allocate(ChannelType::full_duplex);
      p[i].channel.enable_host_input();
      p[i].channel.enable_host_output();
      p[i].input = testsig::sine(freq[i], level, 40000, kRate, 0.7 * double(i));
    }
  }
  std::vector<Party*> all() {
    std::vector<Party*> v;
    for (auto& x : p) v.push_back(&x);
    return v;
  }
  void run(std::size_t frames) { test::run(m, all(), frames); }
  // Level of party talker's tone in party listener's output, over the last
  // half second heard.
  double heard(std::size_t listener, std::size_t talker) {
    const auto& out = p[listener].output;
    return tone_db(out, freq[talker], kRate, out.size() - 4000, 4000);
  }
};

constexpr double kAbsent = -80.0;  // at or below: not heard

TEST(Primitives, MonitorHearsEveryoneAndIsHeardByNoone) {
  Room r(4);
  Conference conf;
  for (int i = 0; i < 3; ++i) conf.add_party(r.p[static_cast<std::size_t>(i)].channel);
  // Monitor: an output cloned from a party's output, plus that party's input.
  r.p[3].channel.conf_clone(r.p[0].channel);
  r.p[3].channel.conf_add(r.p[0].channel);
  r.run(200);
  for (std::size_t t = 0; t < 3; ++t) EXPECT_NEAR(r.heard(3, t), -16.0, 0.1) << "monitor hears " << t;
  for (std::size_t l = 0; l < 3; ++l) EXPECT_LT(r.heard(l, 3), kAbsent) << l << " hears the monitor";
}

TEST(Primitives, ReplayHearsItsBackgroundAsTheBackgroundIsHeard) {
  // A replay with a conference output as its background hears that output
  // as finished (its volume applied), the way its own listeners hear it.
  Module m = Module::create({});
  Channel talker = m.allocate(ChannelType::input);
  talker.enable_host_input();
  Channel bus = m.allocate(ChannelType::output);
  bus.conf_start({-6.0, false, false});
  bus.conf_add(talker);
  talker.conf_set_gating(false);
  Channel music = m.allocate(ChannelType::output);
  music.enable_host_output();
  ReplaySettings rs;
  rs.background = bus.id();
  music.replay_start(rs);
  const std::vector<float> talk = testsig::sine(500.0, -10.0, 16000, kRate);
  std::vector<std::int16_t> tune(16000);
  const std::vector<float> tune_f = testsig::sine(1200.0, -16.0, 16000, kRate);
  float_to_s16(tune_f.data(), tune.data(), tune.size());
  music.replay_put(Span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(tune.data()), 2 * tune.size()));
  std::vector<float> heard, frame(80);
  for (int f = 0; f < 100; ++f) {
    talker.write_input(Span<const float>(talk.data() + f * 80, 80));
    m.step(1);
    ASSERT_EQ(music.read_output(Span<float>(frame.data(), 80)), 80u);
    heard.insert(heard.end(), frame.begin(), frame.end());
  }
  EXPECT_NEAR(tone_db(heard, 500.0, kRate, 3000, 4000), -16.0, 0.2) << "the background at its -6 dB";
  EXPECT_NEAR(tone_db(heard, 1200.0, kRate, 3000, 4000), -16.0, 0.2) << "the replay over it";
}

TEST(Primitives, BackgroundIsHeardByAllAndHearsNothing) {
  Room r(4);
  Conference conf;
  for (int i = 0; i < 3; ++i) conf.add_party(r.p[static_cast<std::size_t>(i)].channel);
  // Background: an input added to every party's output; no output of its own.
  r.p[3].channel.conf_attach();
  r.p[3].channel.conf_set_gating(false);  // music is steady, never gated
  for (int i = 0; i < 3; ++i) r.p[static_cast<std::size_t>(i)].channel.conf_add(r.p[3].channel);
  r.run(200);
  for (std::size_t l = 0; l < 3; ++l) EXPECT_NEAR(r.heard(l, 3), -16.0, 0.1) << l << " hears the music";
  EXPECT_EQ(testsig::peak(r.p[3].output.data(), r.p[3].output.size()), 0.0) << "its own output is idle: silence";
}

TEST(Primitives, CoachIsHeardOnlyByTraineeAndHearsEveryone) {
  Room r(4);
  Conference conf;
  for (int i = 0; i < 3; ++i) conf.add_party(r.p[static_cast<std::size_t>(i)].channel);
  Channel& coach = r.p[3].channel;
  // The coach hears everyone: a clone of party 0's output plus party 0.
  coach.conf_clone(r.p[0].channel);
  coach.conf_add(r.p[0].channel);
  // Only the trainee (party 1) hears the coach.
  r.p[1].channel.conf_add(coach);
  r.run(200);
  EXPECT_NEAR(r.heard(1, 3), -16.0, 0.1);
  EXPECT_LT(r.heard(0, 3), kAbsent);
  EXPECT_LT(r.heard(2, 3), kAbsent);
  for (std::size_t t = 0; t < 3; ++t) EXPECT_NEAR(r.heard(3, t), -16.0, 0.1);
  EXPECT_LT(r.heard(3, 3), kAbsent);
}

TEST(Primitives, CloneCopiesParticipantsThenIsIndependent) {
  Room r(4);
  r.p[0].channel.conf_start();
  const int id1 = r.p[0].channel.conf_add(r.p[1].channel);
  r.p[0].channel.conf_add(r.p[2].channel);
  r.p[3].channel.conf_clone(r.p[0].channel);
  EXPECT_EQ(r.p[3].channel.conf_members(), (std::vector<int>{id1, id1 + 1}));
  // Changing the clone does not change the model, and the other way round.
  r.p[3].channel.conf_leave(id1);
  r.p[0].channel.conf_add(r.p[3].channel);
  EXPECT_EQ(r.p[0].channel.conf_members().size(), 3u);
  EXPECT_EQ(r.p[3].channel.conf_members().size(), 1u);
  r.run(200);
  EXPECT_NEAR(r.heard(0, 1), -16.0, 0.1);
  EXPECT_LT(r.heard(3, 1), kAbsent);
  EXPECT_NEAR(r.heard(3, 2), -16.0, 0.1);
}

TEST(Primitives, CloneOfNothingIsAStartAndCloneOfItselfIsRefused) {
  Module m = Module::create({});
  Channel a = m.allocate(ChannelType::full_duplex);
  a.conf_clone(Channel{});
  EXPECT_TRUE(a.conf_members().empty());
  Channel b = m.allocate(ChannelType::full_duplex);
  b.conf_start();
  try {
    b.conf_clone(b);
    FAIL() << "clone of itself accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::bad_parameter);
  }
}

TEST(Primitives, StandardTypeAttachesAndDetachesImplicitly) {
  Module m = Module::create({});
  Channel out1 = m.allocate(ChannelType::output), out2 = m.allocate(ChannelType::output);
  Channel in = m.allocate(ChannelType::input);
  out1.conf_start();
  out2.conf_start();
  EXPECT_EQ(in.participant_id(), -1);
  const int id = out1.conf_add(in);
  EXPECT_EQ(in.participant_id(), id) << "implicitly attached";
  EXPECT_EQ(out2.conf_add(in), id) << "the same id in every output";
  in.conf_adjust_input({-6.0, false, false});
  out1.conf_leave(id);
  EXPECT_EQ(in.participant_id(), id) << "still in out2";
  out2.conf_leave(id);
  EXPECT_EQ(in.participant_id(), -1) << "left its last output: implicitly detached";
  try {
    in.conf_adjust_input({});
    FAIL() << "settings of a detached input";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::wrong_channel_state);
  }
}

TEST(Primitives, ExplicitAttachSurvivesLeavingEveryOutput) {
  Module m = Module::create({});
  Channel out = m.allocate(ChannelType::output);
  Channel in = m.allocate(ChannelType::input);
  const int id = in.conf_attach();
  out.conf_start();
  EXPECT_EQ(out.conf_add(in), id);
  out.conf_leave(id);
  EXPECT_EQ(in.participant_id(), id);
  // Detach while in use is refused; when no longer in use it works.
  out.conf_add(in);
  try {
    in.conf_detach();
    FAIL() << "detach while in use";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::wrong_channel_state);
  }
  out.conf_leave(id);
  in.conf_detach();
  EXPECT_EQ(in.participant_id(), -1);
}

TEST(Primitives, OutputWithNoParticipantsKeepsRunningSilent) {
  Room r(2);
  r.p[0].channel.conf_start();
  const int id = r.p[0].channel.conf_add(r.p[1].channel);
  r.run(50);
  EXPECT_NEAR(r.heard(0, 1), -16.0, 0.1);
  r.p[0].channel.conf_leave(id);
  r.run(50);
  const std::size_t n = r.p[0].output.size();
  EXPECT_EQ(n, 100u * 80u) << "still producing frames";
  EXPECT_EQ(testsig::peak(r.p[0].output.data() + n - 3000, 3000), 0.0);
}

TEST(Primitives, NonBlockingStopReportsStoppedOnce) {
  Module m = Module::create({});
  Channel out = m.allocate(ChannelType::full_duplex);
  out.conf_start();
  out.conf_stop(false);
  m.step(1);
  // The C API reports kSMConfStatusStopped once; C++ polls report nothing.
  EXPECT_FALSE(out.conf_poll_activity().has_value());
  try {
    out.conf_poll_activity();
    FAIL() << "status of a stopped output, twice";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::wrong_channel_state);
  }
  out.conf_start();  // the output half is free again
}

TEST(Primitives, VolumesAreAccurateOverTheProsodyRange) {
  for (int db = -24; db <= 8; db += 4) {
    Room r(2, -20.0);
    r.p[0].channel.conf_start({double(db) / 2.0, false, false});
    r.p[0].channel.conf_add(r.p[1].channel);
    r.p[1].channel.conf_adjust_input({double(db) / 2.0, false, false});
    r.run(100);
    EXPECT_NEAR(r.heard(0, 1), -20.0 + db, 0.1) << db << " dB";
  }
}

TEST(Primitives, MuteRemovesAnInputFromEveryOutput) {
  Room r(3);
  Conference conf;
  for (auto& x : r.p) conf.add_party(x.channel);
  r.run(50);
  r.p[2].channel.conf_adjust_input({0.0, true, false});
  r.run(100);
  EXPECT_LT(r.heard(0, 2), kAbsent);
  EXPECT_LT(r.heard(1, 2), kAbsent);
  EXPECT_NEAR(r.heard(0, 1), -16.0, 0.1);
}

TEST(Primitives, GainChangesAndJoinsAreRampedNotStepped) {
  // A party hears one talker at 1 kHz. A smooth sine's largest sample step
  // is 2 pi f / fs * A; a stepped gain change would jump by up to A.
  Room r(3, -6.0);
  r.freq[1] = 1000.0;
  r.p[1].input = testsig::sine(1000.0, -6.0, 40000, kRate);
  r.p[2].input = testsig::sine(1000.0, -6.0, 40000, kRate, 1.0);
  r.p[0].channel.conf_start();
  r.p[0].channel.conf_add(r.p[1].channel);
  r.run(30);
  const double a = testsig::sine_peak(-6.0);
  const double smooth = 2.0 * testsig::kPi * 1000.0 / kRate * a;
  r.p[1].channel.conf_adjust_input({-24.0, false, false});  // -24 dB at once
  r.run(10);
  r.p[0].channel.conf_add(r.p[2].channel);  // a join
  r.run(10);
  r.p[0].channel.conf_leave(r.p[2].channel.participant_id());  // a leave
  r.run(10);
  const auto& y = r.p[0].output;
  // Each change ramps over a frame: the step never exceeds the smooth bound
  // by more than the per-sample share of the change.
  EXPECT_LE(max_step(y, 30 * 80, y.size()), smooth + a / 80.0 + 1e-3);
  // The gain change took effect: -24 dB.
  EXPECT_NEAR(tone_db(y, 1000.0, kRate, 32 * 80, 6 * 80), -30.0, 0.5);
}

TEST(Primitives, MissingInputIsConcealedWithoutAClick) {
  // A talker's audio stops half way through a frame, is missing for two
  // frames, then resumes. 317 Hz does not fit a frame a whole number of
  // times, so repeating the last frame would jump in phase (by about a full
  // amplitude here); the concealment must stay within the smooth sine's
  // step plus the per-sample share of its fade.
  Room r(2, -6.0);
  const std::size_t n = r.m.frame_samples();
  const double f = 317.0;
  const std::vector<float> talk = testsig::sine(f, -6.0, 40000, kRate);
  r.p[0].channel.conf_start();
  r.p[0].channel.conf_add(r.p[1].channel);
  std::vector<float> heard, frame(n);
  std::size_t said = 0;
  auto step = [&](std::size_t samples) {
    r.p[1].channel.write_input(Span<const float>(talk.data() + said, samples));
    said += n;  // the talker's clock runs on through the gap
    r.m.step(1);
    const std::size_t got = r.p[0].channel.read_output(Span<float>(frame.data(), n));
    heard.insert(heard.end(), frame.begin(), frame.begin() + static_cast<long>(got));
  };
  for (int i = 0; i < 30; ++i) step(n);
  const std::size_t gap_at = heard.size();
  step(n / 2);
  step(0);
  step(0);
  for (int i = 0; i < 10; ++i) step(n);
  const double a = testsig::sine_peak(-6.0);
  const double smooth = 2.0 * testsig::kPi * f / kRate * a;
  EXPECT_LE(max_step(heard, 20 * n, heard.size()), smooth + a / double(n / 2) + 1e-3);
  // The gap was filled (not a hard cut to zero) and counted.
  EXPECT_GT(testsig::peak(heard.data() + gap_at + n / 2, n / 4), 0.1 * a);
  EXPECT_EQ(r.p[1].channel.input_stats().frames_concealed, 3u);
  // And the talker is back at full level.
  EXPECT_NEAR(tone_db(heard, f, kRate, heard.size() - 4 * n, 4 * n), -6.0, 0.5);
}

TEST(Primitives, OverloadNeverLeaksTheListenersOwnSignal) {
  // Six parties with -3 dBFS peaks: every sum overloads and is limited.
  // Own-signal leakage, measured the strict way: a listener's output is
  // bit-identical whether the listener talks or is silent.
  auto run_room = [](bool party0_talks) {
    Room r(6, testsig::kFullScaleSineDbm0 - 3.0);
    if (!party0_talks) r.p[0].input.assign(r.p[0].input.size(), 0.0f);
    Conference conf;
    for (auto& x : r.p) conf.add_party(x.channel);
    r.run(200);
    return r;
  };
  Room talking = run_room(true);
  Room silent = run_room(false);
  const auto& a = talking.p[0].output;
  const auto& b = silent.p[0].output;
  ASSERT_EQ(a.size(), b.size());
  double diff = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) diff = std::max(diff, std::fabs(double(a[i]) - b[i]));
  EXPECT_EQ(diff, 0.0) << "party 0's output depends on what party 0 says";
  for (std::size_t l = 0; l < 6; ++l) {
    const auto& y = talking.p[l].output;
    // Nothing that int16 conversion would clip (it rounds to <= 32767).
    EXPECT_LE(testsig::peak(y.data(), y.size()), 32767.5 / 32768.0) << "never beyond full scale";
  }
  EXPECT_GT(talking.p[0].channel.output_stats().limited_frames, 100u);
  // And the others are all there, each within 1 dB of the others (the
  // limiter scales them together).
  for (std::size_t t = 1; t < 6; ++t) EXPECT_NEAR(talking.heard(0, t), talking.heard(0, 1), 1.0);
}

TEST(Primitives, BelowFullScaleTheMixIsBitExact) {
  // Integer inputs, unity gains, gating off: each int16 output is exactly
  // the integer sum of the others.
  Module m = Module::create({});
  std::vector<Channel> ch;
  std::vector<std::vector<std::int16_t>> in(5);
  Conference conf;
  for (int i = 0; i < 5; ++i) {
    ch.push_back(m.allocate(ChannelType::full_duplex));
    ch.back().enable_host_input();
    ch.back().enable_host_output();
    conf.add_party(ch.back());
    ch.back().conf_set_gating(false);
    std::uint32_t seed = 12345u + static_cast<std::uint32_t>(i);
    for (int s = 0; s < 8000; ++s) {
      seed = seed * 1664525u + 1013904223u;
      in[static_cast<std::size_t>(i)].push_back(static_cast<std::int16_t>(static_cast<int>(seed >> 20) - 2048));
    }
  }
  m.step(2);  // past the join ramps (which start with silent inputs)
  for (auto& c : ch) {
    std::vector<std::int16_t> drain(160);
    c.read_output(Span<std::int16_t>(drain.data(), drain.size()));
  }
  std::vector<std::vector<std::int16_t>> out(5, std::vector<std::int16_t>(8000));
  for (int f = 0; f < 100; ++f) {
    for (int i = 0; i < 5; ++i)
      ch[std::size_t(i)].write_input(Span<const std::int16_t>(in[std::size_t(i)].data() + f * 80, 80));
    m.step(1);
    for (int i = 0; i < 5; ++i)
      ch[std::size_t(i)].read_output(Span<std::int16_t>(out[std::size_t(i)].data() + f * 80, 80));
  }
  for (int l = 0; l < 5; ++l)
    for (int s = 0; s < 8000; ++s) {
      int sum = 0;
      for (int t = 0; t < 5; ++t)
        if (t != l) sum += in[std::size_t(t)][std::size_t(s)];
      ASSERT_EQ(out[std::size_t(l)][std::size_t(s)], sum) << "listener " << l << " sample " << s;
    }
}

TEST(Primitives, GatingSilencesANoisyIdlePartyAndPassesTalk) {
  Room r(3);
  Conference conf;
  for (auto& x : r.p) conf.add_party(x.channel);
  // Party 2 only sends noise at -45 dBm0: after the tracker has learnt the
  // floor (5 s at 2 dB/s from -55 dBm0) it is gated out of the mix.
  r.p[2].input = testsig::white_noise(-45.0, 8000 * 8, 11);
  r.p[1].input.resize(8000 * 8, 0.0f);
  for (std::size_t i = 0; i < r.p[1].input.size(); ++i)  // talk in bursts
    r.p[1].input[i] =
        ((i / 2400) % 2 == 0) ? float(0.3 * std::sin(2.0 * testsig::kPi * 600.0 * double(i) / kRate)) : 0.0f;
  r.freq[1] = 600.0;
  r.run(800);
  const auto& y = r.p[0].output;
  // Last 0.3 s of talk (burst 26 spans samples 62400..64800 within 8 s? use
  // a window inside a burst) is heard; in a pause nothing of the noise is.
  const std::size_t burst_start = 24 * 2400, pause_start = 25 * 2400;
  EXPECT_GT(testsig::level_dbm0(y.data() + burst_start + 800, 1200), -15.0);
  EXPECT_LT(testsig::level_dbm0(y.data() + pause_start + 2000, 400), -80.0) << "noise gated out";
  EXPECT_FALSE(r.p[2].channel.input_stats().active);
}

TEST(Primitives, ActivityReportsRankTalkersByLevelAndAreRateLimited) {
  Room r(5);
  const double levels[5] = {-30, -10, -20, -25, -15};
  for (std::size_t i = 0; i < 5; ++i) r.p[i].input = testsig::sine(r.freq[i], levels[i], 40000, kRate);
  Conference conf;
  for (auto& x : r.p) conf.add_party(x.channel);
  Channel& out = r.p[0].channel;
  out.conf_config_activity(200, 50);
  std::vector<ActivityReport> reports;
  for (int f = 0; f < 300; ++f) {
    r.run(1);
    while (auto rep = out.conf_poll_activity()) reports.push_back(*rep);
  }
  ASSERT_FALSE(reports.empty());
  const ActivityReport& last = reports.back();
  // Party 0 listens: the others ranked by level: 1 (-10), 4 (-15), 2 (-20), 3 (-25).
  const int id[5] = {r.p[0].channel.participant_id(), r.p[1].channel.participant_id(), r.p[2].channel.participant_id(),
                     r.p[3].channel.participant_id(), r.p[4].channel.participant_id()};
  EXPECT_EQ(last.ranks[0].id, id[1]);
  EXPECT_EQ(last.ranks[1].id, id[4]);
  EXPECT_EQ(last.ranks[2].id, id[2]);
  EXPECT_EQ(last.ranks[3].id, id[3]);
  EXPECT_NEAR(last.ranks[0].level_dbm0, -10.0, 0.5);
  // Steady talkers: a report when the ranking settles, then none (nothing
  // changes by more than the sensitivity), never two within 200 ms.
  for (std::size_t i = 1; i < reports.size(); ++i) EXPECT_GE(reports[i].frame - reports[i - 1].frame, 20u);
  EXPECT_LE(reports.size(), 3u);
  // The speaking list of the high-level library has everyone.
  EXPECT_EQ(conf.speaking().size(), 5u);
}

TEST(Primitives, ActivityReportingIsNotClonedAndValidatesSensitivity) {
  Module m = Module::create({});
  Channel a = m.allocate(ChannelType::full_duplex), b = m.allocate(ChannelType::full_duplex);
  a.conf_start();
  a.conf_config_activity(100, 100);
  try {
    a.conf_config_activity(100, 101);
    FAIL() << "sensitivity 101 accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::bad_parameter);
  }
  b.conf_clone(a);
  Channel c = m.allocate(ChannelType::full_duplex);
  c.enable_host_input();
  std::vector<float> tone = testsig::sine(500.0, -10.0, 8000, kRate);
  a.conf_add(c);
  b.conf_add(c);
  for (int f = 0; f < 50; ++f) {
    c.write_input(Span<const float>(tone.data() + f * 80, 80));
    m.step(1);
  }
  EXPECT_TRUE(a.conf_poll_activity().has_value());
  EXPECT_FALSE(b.conf_poll_activity().has_value()) << "reporting config was cloned";
}

TEST(Primitives, OutputAgcAimsAtZeroDbm0PlusVolume) {
  // out_agc = 1, out_volume = -12 -> about -12 dBm0 (Prosody's documented
  // example), from talk at -20 dBm0 in 200 ms bursts (the AGC gives at most
  // +20 dB).
  Room r(2);
  r.p[1].input.assign(8000 * 12, 0.0f);
  for (std::size_t i = 0; i < r.p[1].input.size(); ++i)
    if ((i / 1600) % 3 != 2)
      r.p[1].input[i] = float(testsig::sine_peak(-20.0) * std::sin(2.0 * testsig::kPi * 700.0 * double(i) / kRate));
  r.p[0].channel.conf_start({-12.0, true, false});
  r.p[0].channel.conf_add(r.p[1].channel);
  r.run(1200);
  const auto& y = r.p[0].output;
  // A burst in the last seconds (bursts are samples [4800k, 4800k+3200)).
  const std::size_t start = 4800 * 19 + 400;
  EXPECT_NEAR(testsig::level_dbm0(y.data() + start, 2400), -12.0, 1.5);
}

TEST(Primitives, InputAgcConvergesToItsTarget) {
  Room r(2);
  r.p[1].input.assign(8000 * 12, 0.0f);
  for (std::size_t i = 0; i < r.p[1].input.size(); ++i)
    if ((i / 1600) % 3 != 2)
      r.p[1].input[i] = float(testsig::sine_peak(-35.0) * std::sin(2.0 * testsig::kPi * 700.0 * double(i) / kRate));
  r.p[0].channel.conf_start();
  r.p[0].channel.conf_add(r.p[1].channel);
  r.p[1].channel.conf_adjust_input({0.0, false, true});
  r.p[1].channel.conf_input_agc_settings({0.5, -18.0});
  r.run(1200);
  const std::size_t start = 4800 * 19 + 400;
  EXPECT_NEAR(testsig::level_dbm0(r.p[0].output.data() + start, 2400), -18.0, 1.5);
}

TEST(Primitives, InputFarBelowItsOwnOutputIsTreatedAsEcho) {
  // The high-level library ties each party's input to its own output
  // (sm_set_sidetone_channel). Party 1 hears party 0 at -10 dBm0; an input
  // 25 dB below that is probably echo and enters the mix 10 dB down; an
  // input at a talking level is untouched.
  for (double input_level : {-35.0, -12.0}) {
    Room r(3, -10.0);
    r.p[1].input = testsig::sine(r.freq[1], input_level, 40000, kRate);
    r.p[2].input.assign(40000, 0.0f);
    Conference conf;
    for (auto& x : r.p) conf.add_party(x.channel);
    r.run(200);
    const double expected = input_level < -30.0 ? input_level - 10.0 : input_level;
    EXPECT_NEAR(r.heard(2, 1), expected, 0.2) << "input at " << input_level << " dBm0";
  }
}

TEST(Primitives, TenThousandParticipantsInOneModule) {
  Module m = Module::create({});
  std::vector<Channel> in;
  Channel out = m.allocate(ChannelType::output);
  out.conf_start();
  for (int i = 0; i < 10000; ++i) {
    in.push_back(m.allocate(ChannelType::input));
    ASSERT_EQ(out.conf_add(in.back()), i) << "lowest free ids, beyond 63";
  }
  EXPECT_EQ(out.conf_members().size(), 10000u);
  m.step(1);
  EXPECT_EQ(m.stats().participants, 10000u);
}

}  // namespace
}  // namespace prosody::test
