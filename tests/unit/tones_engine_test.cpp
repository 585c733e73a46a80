// Tone detection and suppression through the module: sm_listen_for on a
// conference input reports digits in the documented modes, and the digit is
// removed from everyone else's mix while the party stays in it.
#include <gtest/gtest.h>
#include <poll.h>

#include <cmath>
#include <cstring>

#include "harness.hpp"
#include "prosody/prosody_sw.h"
#include "prosody/smbesp.h"

namespace prosody::test {
namespace {

constexpr double kRate = 8000.0;

// Digit '5': 770 + 1336 Hz, each at level, for ms, starting at start.
void add_digit5(std::vector<float>& x, double rate, std::size_t start, double ms, double level = -10.0) {
  const std::size_t n = static_cast<std::size_t>(ms * rate / 1000.0);
  testsig::add_sine(x, 770.0, level, rate, 0.3, start, n);
  testsig::add_sine(x, 1336.0, level, rate, 1.1, start, n);
}

struct TwoParties {
  Module m;
  Party a, b;
  explicit TwoParties(unsigned rate = 8000) {
    ModuleConfig cfg;
    cfg.sample_rate = rate;
    m = Module::create(cfg);
    for (Party* p : {&a, &b}) {
      p->channel = m.allocate(ChannelType::full_duplex);
      p->channel.enable_host_input();
      p->channel.enable_host_output();
    }
  }
};

std::vector<Recognition> drain(Channel& c) {
  std::vector<Recognition> r;
  while (auto x = c.get_recognised()) r.push_back(*x);
  return r;
}

TEST(TonesInTheModule, ConferenceInputReportsTheDigitAtStartAndEnd) {
  for (ToneReport mode : {ToneReport::at_start, ToneReport::at_end, ToneReport::with_length}) {
    TwoParties t;
    Conference conf;
    conf.add_party(t.a.channel);
    conf.add_party(t.b.channel);
    ListenSettings ls;
    ls.enabled = true;
    ls.report = mode;
    t.a.channel.listen_for(ls);
    t.a.input.assign(8000, 0.0f);
    add_digit5(t.a.input, kRate, 2000, 80.0);
    run(t.m, {&t.a, &t.b}, 100);
    const auto got = drain(t.a.channel);
    ASSERT_EQ(got.size(), 1u) << "one report per digit";
    EXPECT_EQ(got[0].type, RecognitionType::digit);
    EXPECT_EQ(got[0].param0, '5');
    EXPECT_EQ(got[0].is_end, mode != ToneReport::at_start);
    EXPECT_NEAR(double(got[0].start_sample), 2000.0, 8.0 * 2) << "onset within 2 ms";
    if (mode == ToneReport::with_length) {
      EXPECT_NEAR(got[0].param1, 80, 13) << "length in ms";
    }
    if (mode != ToneReport::at_start) {
      EXPECT_NEAR(double(got[0].duration_ms), 80.0, 13.0);
    }
  }
}

TEST(TonesInTheModule, DetectedDigitIsSuppressedFromTheOthersMix) {
  TwoParties t;
  Conference conf;
  conf.add_party(t.a.channel);
  conf.add_party(t.b.channel);
  ListenSettings ls;
  ls.enabled = true;
  t.a.channel.listen_for(ls);
  // Party a talks (a 500 Hz tone stands in for speech) and keys a 200 ms
  // digit in the middle.
  t.a.input = testsig::sine(500.0, -20.0, 16000, kRate);
  const std::size_t onset = 6000, len = 1600;
  add_digit5(t.a.input, kRate, onset, 200.0);
  run(t.m, {&t.a, &t.b}, 200);
  const auto& y = t.b.output;
  // Leak: time the DTMF band in b's mix stays above -30 dB of the tone.
  const double undisturbed = testsig::tone_level_dbm0(t.a.input.data() + onset + 400, 400, 770.0, kRate);
  std::size_t leak = 0;
  for (std::size_t at = onset; at + 40 <= onset + len; at += 8)
    if (testsig::tone_level_dbm0(y.data() + at, 40, 770.0, kRate) > undisturbed - 30.0) leak = at + 40 - onset;
  EXPECT_LE(double(leak) / 8.0, 15.0 + 5.0) << "ms of tone heard (5 ms analysis window)";
  // During the tone: at least 40 dB down.
  EXPECT_LT(testsig::tone_level_dbm0(y.data() + onset + 400, 800, 770.0, kRate), undisturbed - 40.0);
  EXPECT_LT(testsig::tone_level_dbm0(y.data() + onset + 400, 800, 1336.0, kRate), undisturbed - 40.0);
  // Before and after: party a is heard normally.
  EXPECT_NEAR(testsig::tone_level_dbm0(y.data() + 3000, 2000, 500.0, kRate), -20.0, 0.2);
  EXPECT_NEAR(testsig::tone_level_dbm0(y.data() + 12000, 2000, 500.0, kRate), -20.0, 0.2);
  // The digit was reported, once.
  const auto got = drain(t.a.channel);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].param0, '5');
}

TEST(TonesInTheModule, RecordingHoldsTheUnsuppressedInput) {
  TwoParties t;
  Conference conf;
  conf.add_party(t.a.channel);
  conf.add_party(t.b.channel);
  ListenSettings ls;
  ls.enabled = true;
  t.a.channel.listen_for(ls);
  RecordSettings rs;
  t.a.channel.record_start(rs);
  t.a.input.assign(8000, 0.0f);
  add_digit5(t.a.input, kRate, 2000, 200.0);
  run(t.m, {&t.a, &t.b}, 100);
  std::vector<std::uint8_t> bytes(32000);
  const std::size_t got = t.a.channel.record_get(Span<std::uint8_t>(bytes.data(), bytes.size()));
  ASSERT_GE(got, 16000u);
  std::vector<float> rec(got / 2);
  for (std::size_t i = 0; i < rec.size(); ++i) {
    std::int16_t v;
    std::memcpy(&v, bytes.data() + 2 * i, 2);
    rec[i] = float(v) / 32768.0f;
  }
  EXPECT_NEAR(testsig::tone_level_dbm0(rec.data() + 2400, 800, 770.0, kRate), -10.0, 0.2);
}

TEST(TonesInTheModule, WidebandModulesDetectToo) {
  for (unsigned rate : {16000u, 48000u}) {
    TwoParties t(rate);
    Conference conf;
    conf.add_party(t.a.channel);
    conf.add_party(t.b.channel);
    ListenSettings ls;
    ls.enabled = true;
    t.a.channel.listen_for(ls);
    t.a.input.assign(rate, 0.0f);
    add_digit5(t.a.input, double(rate), rate / 4, 80.0);
    run(t.m, {&t.a, &t.b}, 100);
    const auto got = drain(t.a.channel);
    ASSERT_EQ(got.size(), 1u) << rate;
    EXPECT_EQ(got[0].param0, '5');
    EXPECT_NEAR(double(got[0].start_sample), rate / 4.0, rate / 500.0) << "in module samples";
  }
}

TEST(TonesInTheModule, ListenForValidatesAndDiscardEmptiesTheQueue) {
  TwoParties t;
  ListenSettings ls;
  ls.enabled = true;
  ls.tone_set = 2;
  try {
    t.a.channel.listen_for(ls);
    FAIL() << "tone set 2";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::bad_parameter);
  }
  ls.tone_set = 0;
  ls.lookahead_us = 20000;
  EXPECT_THROW(t.a.channel.listen_for(ls), Error);
  ls.lookahead_us = 0;
  t.a.channel.listen_for(ls);
  t.a.input.assign(8000, 0.0f);
  add_digit5(t.a.input, kRate, 400, 60.0);
  add_digit5(t.a.input, kRate, 2400, 60.0);
  run(t.m, {&t.a}, 100);
  t.a.channel.discard_recognised();
  EXPECT_FALSE(t.a.channel.get_recognised().has_value());
}

// Listening stops 60 ms into a 300 ms digit (both as a conference party and
// as a plain input that is then no longer used): the digit still gets its end
// report, with the length it had when listening stopped.
TEST(TonesInTheModule, StoppingListeningEndsTheDigitInProgress) {
  for (bool party : {true, false}) {
    SCOPED_TRACE(party ? "conference party" : "plain input");
    TwoParties t;
    Conference conf;
    if (party) {
      conf.add_party(t.a.channel);
      conf.add_party(t.b.channel);
    }
    ListenSettings ls;
    ls.enabled = true;
    ls.report = ToneReport::start_and_end;
    t.a.channel.listen_for(ls);
    t.a.input.assign(8000, 0.0f);
    add_digit5(t.a.input, kRate, 2000, 300.0);
    run(t.m, {&t.a, &t.b}, 33);  // to 2640: 80 ms in
    auto got = drain(t.a.channel);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_FALSE(got[0].is_end);
    run(t.m, {&t.a, &t.b}, 2);  // 2800: 100 ms in
    t.a.channel.listen_for(ListenSettings{});
    if (!party) {  // the input is no longer needed at all
      t.a.channel.disable_host_input();
      t.a.input.clear();
    }
    run(t.m, {&t.a, &t.b}, 2);
    got = drain(t.a.channel);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_TRUE(got[0].is_end);
    EXPECT_EQ(got[0].param0, '5');
    EXPECT_NEAR(double(got[0].duration_ms), 100.0, 13.0);
  }
}

// The C API: sm_listen_for modes, digit mapping, recognition event.
TEST(TonesInTheCApi, ListenForGetRecognisedAndTheEvent) {
  PROSODY_SW_MODULE_CONFIG_PARMS cfg{};
  cfg.module_ix = 2;
  cfg.drive_mode = kProsodySwDriveStepped;
  ASSERT_EQ(prosody_sw_configure_module(&cfg), 0);
  SM_OPEN_MODULE_PARMS open{};
  open.module_ix = 2;
  ASSERT_EQ(sm_open_module(&open), 0);
  SM_CHANNEL_ALLOC_PLACED_PARMS al{};
  al.type = kSMChannelTypeOutput;
  al.module = open.module_id;
  ASSERT_EQ(sm_channel_alloc_placed(&al), 0);
  const tSMChannelId phone = al.channel;
  al.type = kSMChannelTypeFullDuplex;
  ASSERT_EQ(sm_channel_alloc_placed(&al), 0);
  const tSMChannelId ch = al.channel;
  SM_CHANNEL_DATAFEED_PARMS df{};
  df.channel = phone;
  ASSERT_EQ(sm_channel_get_datafeed(&df), 0);
  SM_CHANNEL_DATAFEED_CONNECT_PARMS dc{};
  dc.channel = ch;
  dc.data_source = df.datafeed;
  ASSERT_EQ(sm_channel_datafeed_connect(&dc), 0);
  tSMEventId ev{};
  ASSERT_EQ(smd_ev_create(&ev, ch, kSMEventTypeRecog, kSMChannelSpecificEventNonIdle), 0);
  SM_CHANNEL_SET_EVENT_PARMS se{};
  se.channel = ch;
  se.event_type = kSMEventTypeRecog;
  se.issue_events = kSMChannelSpecificEventNonIdle;
  se.event = ev;
  ASSERT_EQ(sm_channel_set_event(&se), 0);
  SM_LISTEN_FOR_PARMS lf{};
  lf.channel = ch;
  lf.tone_detection_mode = kSMToneLenDetectionMinDuration40;
  lf.map_tones_to_digits = kSMDTMFToneSetDigitMapping;
  ASSERT_EQ(sm_listen_for(&lf), 0);
  lf.enable_grunt_detection = 1;
  EXPECT_EQ(sm_listen_for(&lf), ERR_SM_NOT_IMPLEMENTED);
  lf.enable_grunt_detection = 0;
  lf.tone_detection_mode = kSMToneDetectionAsListenFor;
  EXPECT_EQ(sm_listen_for(&lf), ERR_SM_BAD_PARAMETER);
  // Replay "5" for 100 ms into the phone.
  std::vector<float> x(4000, 0.0f);
  add_digit5(x, kRate, 800, 100.0);
  const std::vector<std::int16_t> pcm = testsig::to_int16(x);
  SM_REPLAY_PARMS rp{};
  rp.channel = phone;
  rp.type = kSMDataFormat16bit;
  ASSERT_EQ(sm_replay_start(&rp), 0);
  for (std::size_t at = 0; at < pcm.size() * 2; at += 2000) {
    SM_TS_DATA_PARMS d{};
    d.channel = phone;
    d.data = reinterpret_cast<char*>(const_cast<std::int16_t*>(pcm.data())) + at;
    d.length = static_cast<tSM_INT>(std::min<std::size_t>(2000, pcm.size() * 2 - at));
    ASSERT_EQ(sm_put_replay_data(&d), 0);
  }
  pollfd p{ev.fd, static_cast<short>(ev.mode), 0};
  EXPECT_EQ(poll(&p, 1, 0), 0) << "nothing recognised yet";
  ASSERT_EQ(prosody_sw_step(open.module_id, 50), 0);
  EXPECT_EQ(poll(&p, 1, 0), 1) << "recognition event";
  SM_RECOGNISED_PARMS r{};
  r.channel = ch;
  ASSERT_EQ(sm_get_recognised(&r), 0);
  EXPECT_EQ(r.type, kSMRecognisedDigit);
  EXPECT_EQ(r.param0, '5');
  EXPECT_NEAR(r.param1, 100, 13) << "ToneLen: the duration in ms";
  ASSERT_EQ(sm_get_recognised(&r), 0);
  EXPECT_EQ(r.type, kSMRecognisedNothing);
  EXPECT_EQ(poll(&p, 1, 0), 0) << "event cleared once the queue is empty";
  smd_ev_free(ev);
  SM_CLOSE_MODULE_PARMS close{};
  close.module_id = open.module_id;
  EXPECT_EQ(sm_close_module(&close), 0);
}

}  // namespace
}  // namespace prosody::test
