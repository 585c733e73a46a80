// C API calls and options measured by what they do to audio and events:
// sm_replay_adjust, sm_put_audio_data, sm_discard_recognised, smd_ev_wait,
// the mu-law and 8-bit formats both ways, and a recording's volume, AGC and
// max_silence.
#include <gtest/gtest.h>
#include <poll.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <future>
#include <string>
#include <vector>

#include "prosody/prosody_sw.h"
#include "prosody/smbesp.h"
#include "api_support.hpp"
#include "capi_fixture.hpp"
#include "signal.hpp"

// spandsp's G.711: the oracle for mu-law.
#include <spandsp/telephony.h>
#include <spandsp/bit_operations.h>
#include <spandsp/g711.h>

namespace {

using namespace std::chrono_literals;
using prosody::test::pcm_bytes;
using prosody::test::pcm_samples;

constexpr double kRate = 8000.0;
constexpr std::size_t kFrame = 80;  // samples per 10 ms frame at 8 kHz

std::vector<std::int16_t> tone16(double freq, double level, std::size_t n) {
  return testsig::to_int16(testsig::sine(freq, level, n, kRate));
}

// Module 1 of card 0, stepped, opened for one test and closed after it.
class CApiModule : public ::testing::Test {
 protected:
  void SetUp() override {
    PROSODY_SW_MODULE_CONFIG_PARMS cfg{};
    cfg.module_ix = 1;
    cfg.drive_mode = kProsodySwDriveStepped;
    ASSERT_EQ(prosody_sw_configure_module(&cfg), 0);
    SM_OPEN_MODULE_PARMS open{};
    open.module_ix = 1;
    ASSERT_EQ(sm_open_module(&open), 0);
    module_ = open.module_id;
  }
  void TearDown() override {
    SM_CLOSE_MODULE_PARMS close{};
    close.module_id = module_;
    EXPECT_EQ(sm_close_module(&close), 0);
  }

  tSMChannelId alloc(enum kSMChannelType type) {
    SM_CHANNEL_ALLOC_PLACED_PARMS p{};
    p.type = type;
    p.module = module_;
    EXPECT_EQ(sm_channel_alloc_placed(&p), 0);
    return p.channel;
  }
  void step(unsigned frames) { ASSERT_EQ(prosody_sw_step(module_, frames), 0); }

  // in's input is out's output, a frame later.
  void feed(tSMChannelId in, tSMChannelId out) {
    SM_CHANNEL_DATAFEED_PARMS df{};
    df.channel = out;
    ASSERT_EQ(sm_channel_get_datafeed(&df), 0);
    SM_CHANNEL_DATAFEED_CONNECT_PARMS dc{};
    dc.channel = in;
    dc.data_source = df.datafeed;
    ASSERT_EQ(sm_channel_datafeed_connect(&dc), 0);
  }

  // A replay on an output channel of its own, fed each frame with what fits
  // (sm_put_audio_data) from data; its datafeed is referenced.
  struct Phone {
    tSMChannelId channel = kSMNullChannelId;
    std::vector<std::uint8_t> data;
    std::size_t at = 0;
    void top_up() {
      SM_AUDIO_DATA_PARMS d{};
      d.channel = channel;
      d.data = reinterpret_cast<char*>(data.data() + at);
      d.max_length = static_cast<tSM_INT>(std::min<std::size_t>(data.size() - at, 8192));
      ASSERT_EQ(sm_put_audio_data(&d), 0);
      at += static_cast<std::size_t>(d.done_length);
    }
  };
  Phone phone(enum kSMDataFormat format, std::vector<std::uint8_t> data, tSM_INT volume = 0) {
    Phone p;
    p.channel = alloc(kSMChannelTypeOutput);
    p.data = std::move(data);
    SM_REPLAY_PARMS r{};
    r.channel = p.channel;
    r.type = format;
    r.volume = volume;
    EXPECT_EQ(sm_replay_start(&r), 0);
    SM_CHANNEL_DATAFEED_PARMS df{};
    df.channel = p.channel;
    EXPECT_EQ(sm_channel_get_datafeed(&df), 0);
    return p;
  }

  // A new event, bound to channel's events of type.
  tSMEventId event(tSMChannelId channel, int type, int binding) {
    return prosody::test::bind_channel_event(channel, type, binding);
  }

  // A recorder of another channel's output (no delay).
  tSMChannelId record_output_of(tSMChannelId out, enum kSMDataFormat format, SM_RECORD_PARMS extra = {}) {
    const tSMChannelId rec = alloc(kSMChannelTypeInput);
    SM_RECORD_PARMS p = extra;
    p.channel = rec;
    p.alt_data_source = out;
    p.alt_data_source_type = kSMRecordAltSourceOutput;
    p.type = format;
    EXPECT_EQ(sm_record_start(&p), 0);
    return rec;
  }

  // Runs frames frames, topping the phones up before each, and appends what
  // rec recorded.
  void run(std::size_t frames, std::vector<Phone*> phones, tSMChannelId rec, std::vector<std::uint8_t>& recorded) {
    std::vector<char> buf(kSMMaxRecordDataBufferSize);
    for (std::size_t f = 0; f < frames; ++f) {
      for (Phone* p : phones) p->top_up();
      step(1);
      for (;;) {
        SM_TS_DATA_PARMS d{};
        d.channel = rec;
        d.data = buf.data();
        ASSERT_EQ(sm_get_recorded_data(&d), 0);
        if (d.length <= 0) break;
        recorded.insert(recorded.end(), buf.begin(), buf.begin() + d.length);
      }
    }
  }

  tSMModuleId module_ = kSMNullModuleId;
};

// ---------------------------------------------------------------------------
// sm_replay_adjust

// A replay's volume and background change while it plays: -12 dB and a
// background output mixed under it, then back to 0 dB and no background.
TEST_F(CApiModule, ReplayAdjustChangesVolumeAndBackgroundWhileItPlays) {
  Phone music = phone(kSMDataFormat16bit, pcm_bytes(tone16(1200.0, -10.0, 8000)));
  Phone other = phone(kSMDataFormat16bit, pcm_bytes(tone16(500.0, -15.0, 8000)));
  const tSMChannelId rec = record_output_of(music.channel, kSMDataFormat16bit);
  SM_REPLAY_ADJUST_PARMS adj{};
  adj.channel = music.channel;
  std::vector<std::uint8_t> recorded;
  run(30, {&music, &other}, rec, recorded);
  adj.volume = -12;
  adj.background = other.channel;
  ASSERT_EQ(sm_replay_adjust(&adj), 0);
  run(30, {&music, &other}, rec, recorded);
  adj.volume = 0;
  adj.background = kSMNullChannelId;
  ASSERT_EQ(sm_replay_adjust(&adj), 0);
  run(30, {&music, &other}, rec, recorded);
  const std::vector<float> y = testsig::to_float(pcm_samples(recorded));
  ASSERT_EQ(y.size(), 90 * kFrame);
  const auto level = [&](double freq, std::size_t first_frame) {
    return testsig::tone_level_dbm0(y.data() + first_frame * kFrame, 25 * kFrame, freq, kRate);
  };
  EXPECT_NEAR(level(1200.0, 3), -10.0, 0.1);
  EXPECT_LT(level(500.0, 3), -90.0);
  EXPECT_NEAR(level(1200.0, 33), -22.0, 0.1) << "volume -12";
  EXPECT_NEAR(level(500.0, 33), -15.0, 0.1) << "background mixed in";
  EXPECT_NEAR(level(1200.0, 63), -10.0, 0.1) << "volume 0 again";
  EXPECT_LT(level(500.0, 63), -90.0) << "background removed";
}

// AGC switched on by sm_replay_adjust brings a -18 dBm0 announcement toward
// about 0 dBm0 (its +20 dB at most, at 6 dB/s); off, it stays as recorded.
TEST_F(CApiModule, ReplayAdjustSwitchesAgcOn) {
  std::vector<float> talk(8000 * 8, 0.0f);  // 200 ms bursts, 100 ms pauses
  for (std::size_t i = 0; i < talk.size(); ++i)
    if ((i / 800) % 3 != 2)
      talk[i] = float(testsig::sine_peak(-18.0) * std::sin(2.0 * testsig::kPi * 700.0 * double(i) / kRate));
  for (int agc : {0, 1}) {
    SCOPED_TRACE(agc ? "agc on" : "agc off");
    Phone p = phone(kSMDataFormat16bit, pcm_bytes(testsig::to_int16(talk)));
    const tSMChannelId rec = record_output_of(p.channel, kSMDataFormat16bit);
    SM_REPLAY_ADJUST_PARMS adj{};
    adj.channel = p.channel;
    adj.agc = agc;
    ASSERT_EQ(sm_replay_adjust(&adj), 0);
    std::vector<std::uint8_t> recorded;
    run(790, {&p}, rec, recorded);
    const std::vector<float> y = testsig::to_float(pcm_samples(recorded));
    // A burst in the last second: samples [2400k, 2400k + 1600).
    const std::size_t burst = 2400 * 24 + 200;
    EXPECT_NEAR(testsig::level_dbm0(y.data() + burst, 1200), agc ? 0.0 : -18.0, agc ? 1.5 : 0.1);
  }
}

TEST_F(CApiModule, ReplayAdjustErrors) {
  const tSMChannelId out = alloc(kSMChannelTypeOutput), in = alloc(kSMChannelTypeInput);
  SM_REPLAY_ADJUST_PARMS adj{};
  adj.channel = out;
  EXPECT_EQ(sm_replay_adjust(&adj), ERR_SM_NO_REPLAY_IN_PROGRESS);
  Phone p = phone(kSMDataFormat16bit, {});
  adj.channel = p.channel;
  adj.volume = 30;
  EXPECT_EQ(sm_replay_adjust(&adj), ERR_SM_BAD_PARAMETER) << "volume beyond +24";
  adj.volume = 0;
  adj.agc = 2;
  EXPECT_EQ(sm_replay_adjust(&adj), 0) << "any non-zero agc enables AGC, as the reference says (issue 14)";
  adj.agc = 0;
  adj.speed = 50;
  EXPECT_EQ(sm_replay_adjust(&adj), ERR_SM_NOT_IMPLEMENTED);
  adj.speed = 100;
  EXPECT_EQ(sm_replay_adjust(&adj), 0);
  adj.background = p.channel;
  EXPECT_EQ(sm_replay_adjust(&adj), ERR_SM_BAD_PARAMETER) << "itself as background";
  adj.background = in;
  EXPECT_EQ(sm_replay_adjust(&adj), ERR_SM_BAD_PARAMETER) << "background without an output";
}

// ---------------------------------------------------------------------------
// sm_put_audio_data

// It takes what fits and says how much (done_length): a full replay takes
// nothing, one frame later exactly one frame's bytes. Fed so, in pieces of
// whatever fits, the replay plays every byte once, in order.
TEST_F(CApiModule, PutAudioDataTakesWhatFitsAndPlaysEveryByteOnce) {
  const tSMChannelId out = alloc(kSMChannelTypeOutput);
  SM_AUDIO_DATA_PARMS d{};
  char byte = 0;
  d.channel = out;
  d.data = &byte;
  d.max_length = 1;
  EXPECT_EQ(sm_put_audio_data(&d), ERR_SM_NO_REPLAY_IN_PROGRESS);
  EXPECT_EQ(d.done_length, 0);

  const std::vector<std::int16_t> pcm = tone16(700.0, -12.0, 8000 * 6);
  Phone p = phone(kSMDataFormat16bit, pcm_bytes(pcm));
  // Fill it: the first puts are taken whole, then one only in part.
  SM_AUDIO_DATA_PARMS put{};
  put.channel = p.channel;
  std::size_t taken = 0;
  for (int i = 0;; ++i) {
    ASSERT_LT(i, 100);
    put.data = reinterpret_cast<char*>(p.data.data() + taken);
    put.max_length = 2048;
    ASSERT_EQ(sm_put_audio_data(&put), 0);
    taken += std::size_t(put.done_length);
    if (put.done_length < 2048) break;
  }
  EXPECT_GT(taken, 8000u) << "room for a second of audio at least";
  put.data = reinterpret_cast<char*>(p.data.data() + taken);
  ASSERT_EQ(sm_put_audio_data(&put), 0);
  EXPECT_EQ(put.done_length, 0) << "full";
  const tSMChannelId rec = alloc(kSMChannelTypeInput);
  feed(rec, p.channel);
  SM_RECORD_PARMS rp{};
  rp.channel = rec;
  rp.type = kSMDataFormat16bit;
  ASSERT_EQ(sm_record_start(&rp), 0);
  std::vector<std::uint8_t> recorded;
  run(1, {}, rec, recorded);
  ASSERT_EQ(sm_put_audio_data(&put), 0);
  EXPECT_EQ(put.done_length, 2 * tSM_INT(kFrame)) << "one frame played, one frame's room";
  p.at = taken + std::size_t(put.done_length);
  // The rest, a frame's room at a time.
  run(pcm.size() / kFrame, {&p}, rec, recorded);
  EXPECT_EQ(p.at, p.data.size());
  const std::vector<std::int16_t> heard = pcm_samples(recorded);
  ASSERT_GE(heard.size(), pcm.size() + kFrame);
  std::size_t mismatches = 0;
  for (std::size_t i = 0; i < pcm.size(); ++i) mismatches += heard[i + kFrame] != pcm[i];
  EXPECT_EQ(mismatches, 0u) << "the datafeed's one frame later, every sample once";
}

// ---------------------------------------------------------------------------
// sm_discard_recognised

void add_digit5(std::vector<float>& x, std::size_t start, double ms) {
  const std::size_t n = static_cast<std::size_t>(ms * kRate / 1000.0);
  testsig::add_sine(x, 770.0, -10.0, kRate, 0.3, start, n);
  testsig::add_sine(x, 1336.0, -10.0, kRate, 1.1, start, n);
}

// Two digits are recognised; one is read; discard drops the other (and the
// recognition event), and a later digit is reported as usual.
TEST_F(CApiModule, DiscardRecognisedDropsWhatIsQueuedOnly) {
  std::vector<float> keys(8000, 0.0f);
  add_digit5(keys, 800, 80.0);
  add_digit5(keys, 2400, 80.0);
  add_digit5(keys, 5600, 80.0);
  Phone keypad = phone(kSMDataFormat16bit, pcm_bytes(testsig::to_int16(keys)));
  const tSMChannelId ch = alloc(kSMChannelTypeFullDuplex);
  feed(ch, keypad.channel);
  const tSMEventId ev = event(ch, kSMEventTypeRecog, kSMChannelSpecificEventNonIdle);
  SM_LISTEN_FOR_PARMS lf{};
  lf.channel = ch;
  lf.tone_detection_mode = kSMToneDetectionNoMinDuration;
  lf.map_tones_to_digits = kSMDTMFToneSetDigitMapping;
  ASSERT_EQ(sm_listen_for(&lf), 0);
  const auto readable = [&] {
    pollfd p{ev.fd, static_cast<short>(ev.mode), 0};
    return poll(&p, 1, 0) == 1;
  };
  for (int f = 0; f < 50; ++f) {  // both digits (at 100 and 300 ms) and their ends
    keypad.top_up();
    step(1);
  }
  SM_RECOGNISED_PARMS r{};
  r.channel = ch;
  ASSERT_EQ(sm_get_recognised(&r), 0);
  EXPECT_EQ(r.type, kSMRecognisedDigit);
  EXPECT_EQ(r.param0, '5');
  EXPECT_TRUE(readable()) << "the second digit waits";
  ASSERT_EQ(sm_discard_recognised(ch), 0);
  EXPECT_FALSE(readable()) << "nothing waits after the discard";
  ASSERT_EQ(sm_get_recognised(&r), 0);
  EXPECT_EQ(r.type, kSMRecognisedNothing) << "the second digit was discarded";
  for (int f = 0; f < 30; ++f) {  // the third digit, at 700 ms
    keypad.top_up();
    step(1);
  }
  EXPECT_TRUE(readable());
  ASSERT_EQ(sm_get_recognised(&r), 0);
  EXPECT_EQ(r.type, kSMRecognisedDigit) << "detection goes on after a discard";
  EXPECT_EQ(r.param0, '5');
  EXPECT_EQ(sm_discard_recognised(kSMNullChannelId), ERR_SM_NO_SUCH_CHANNEL);
  EXPECT_EQ(smd_ev_free(ev), 0);
}

// ---------------------------------------------------------------------------
// smd_ev_wait

// It blocks until the event's cause arises (recorded data to read), returns
// at once while the cause holds (level style: waiting does not consume it),
// and blocks again once the cause is gone.
TEST_F(CApiModule, EventWaitBlocksUntilTheCauseAndNotWhileItHolds) {
  const tSMChannelId src = alloc(kSMChannelTypeOutput), rec = alloc(kSMChannelTypeInput);
  feed(rec, src);
  const tSMEventId ev = event(rec, kSMEventTypeReadData, kSMChannelSpecificEvent);
  // Idle: ready to start an operation, so the wait returns at once.
  auto idle = std::async(std::launch::async, [&] { return smd_ev_wait(ev); });
  ASSERT_EQ(idle.wait_for(2s), std::future_status::ready) << "an idle channel's event is set";
  EXPECT_EQ(idle.get(), 0);

  SM_RECORD_PARMS rp{};
  rp.channel = rec;
  rp.type = kSMDataFormat16bit;
  ASSERT_EQ(sm_record_start(&rp), 0);
  for (int round = 0; round < 2; ++round) {
    SCOPED_TRACE(round);
    auto waiter = std::async(std::launch::async, [&] { return smd_ev_wait(ev); });
    EXPECT_EQ(waiter.wait_for(150ms), std::future_status::timeout) << "nothing to read: the wait blocks";
    step(1);  // a frame recorded
    ASSERT_EQ(waiter.wait_for(2s), std::future_status::ready) << "data to read wakes it";
    EXPECT_EQ(waiter.get(), 0);
    for (int again = 0; again < 2; ++again) {
      auto at_once = std::async(std::launch::async, [&] { return smd_ev_wait(ev); });
      ASSERT_EQ(at_once.wait_for(2s), std::future_status::ready) << "still data to read";
      EXPECT_EQ(at_once.get(), 0);
    }
    std::vector<char> buf(kSMMaxRecordDataBufferSize);
    SM_TS_DATA_PARMS d{};
    d.channel = rec;
    d.data = buf.data();
    ASSERT_EQ(sm_get_recorded_data(&d), 0);
    EXPECT_EQ(d.length, 2 * int(kFrame));  // read: the cause is gone, the next round blocks again
  }
  tSMEventId bad{};
  EXPECT_EQ(smd_ev_wait(bad), ERR_SM_BAD_PARAMETER);
  EXPECT_EQ(smd_ev_free(ev), 0);
}

// ---------------------------------------------------------------------------
// mu-law and 8-bit formats

// Each replay format decodes to the samples its definition gives: mu-law as
// G.711 (spandsp), unsigned 8-bit as (b - 128) * 256, signed 8-bit as b * 256;
// the legacy 8 kHz codes are the same formats.
TEST_F(CApiModule, ReplayDecodesMuLawAndEightBitFormats) {
  const std::vector<std::int16_t> pcm = tone16(900.0, -10.0, 4000);
  struct Case {
    const char* name;
    enum kSMDataFormat format;
    std::uint8_t (*encode)(std::int16_t);
    std::int16_t (*decode)(std::uint8_t);
  };
  const Case cases[] = {
      {"mu-law", kSMDataFormatULawPCM, [](std::int16_t v) { return ::linear_to_ulaw(v); },
       [](std::uint8_t b) { return ::ulaw_to_linear(b); }},
      {"mu-law (legacy code)", kSMDataFormat8KHzULawPCM, [](std::int16_t v) { return ::linear_to_ulaw(v); },
       [](std::uint8_t b) { return ::ulaw_to_linear(b); }},
      {"unsigned 8-bit", kSMDataFormat8bit, [](std::int16_t v) { return std::uint8_t((v >> 8) + 128); },
       [](std::uint8_t b) { return std::int16_t((int(b) - 128) * 256); }},
      {"unsigned 8-bit (legacy code)", kSMDataFormat8KHz8bitMono,
       [](std::int16_t v) { return std::uint8_t((v >> 8) + 128); },
       [](std::uint8_t b) { return std::int16_t((int(b) - 128) * 256); }},
      {"signed 8-bit", kSMDataFormatSigned8bit, [](std::int16_t v) { return std::uint8_t(std::int8_t(v >> 8)); },
       [](std::uint8_t b) { return std::int16_t(std::int8_t(b) * 256); }},
      {"signed 8-bit (legacy code)", kSMDataFormat8KHzSigned8bitMono,
       [](std::int16_t v) { return std::uint8_t(std::int8_t(v >> 8)); },
       [](std::uint8_t b) { return std::int16_t(std::int8_t(b) * 256); }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::vector<std::uint8_t> coded(pcm.size());
    for (std::size_t i = 0; i < pcm.size(); ++i) coded[i] = c.encode(pcm[i]);
    Phone p = phone(c.format, coded);
    const tSMChannelId rec = record_output_of(p.channel, kSMDataFormat16bit);
    std::vector<std::uint8_t> recorded;
    run(pcm.size() / kFrame, {&p}, rec, recorded);
    const std::vector<std::int16_t> heard = pcm_samples(recorded);
    ASSERT_EQ(heard.size(), pcm.size());
    std::size_t mismatches = 0;
    for (std::size_t i = 0; i < pcm.size(); ++i) mismatches += heard[i] != c.decode(coded[i]);
    EXPECT_EQ(mismatches, 0u);
    EXPECT_NEAR(testsig::tone_level_dbm0(testsig::to_float(heard), 900.0, kRate), -10.0, 0.3);
  }
}

// Recorded in each format, a 16-bit replay encodes as the definition says
// (mu-law bit-exact to spandsp, 8-bit the top byte rounded), silence included
// (mu-law 0xFF, unsigned 0x80, signed 0x00).
TEST_F(CApiModule, RecordEncodesMuLawAndEightBitFormats) {
  std::vector<std::int16_t> pcm = tone16(900.0, -10.0, 4000);
  std::fill(pcm.begin() + 3200, pcm.end(), 0);  // the last 100 ms silent
  struct Case {
    const char* name;
    enum kSMDataFormat format;
    double (*decode)(std::uint8_t);  // to float, full scale 1
    std::uint8_t silence;
  };
  const Case cases[] = {
      {"mu-law", kSMDataFormatULawPCM, [](std::uint8_t b) { return ::ulaw_to_linear(b) / 32768.0; }, 0xFF},
      {"unsigned 8-bit", kSMDataFormat8bit, [](std::uint8_t b) { return (int(b) - 128) / 128.0; }, 0x80},
      {"signed 8-bit", kSMDataFormatSigned8bit, [](std::uint8_t b) { return std::int8_t(b) / 128.0; }, 0x00},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Phone p = phone(kSMDataFormat16bit, pcm_bytes(pcm));
    const tSMChannelId rec = record_output_of(p.channel, c.format);
    std::vector<std::uint8_t> recorded;
    run(pcm.size() / kFrame, {&p}, rec, recorded);
    ASSERT_EQ(recorded.size(), pcm.size()) << "one byte a sample";
    std::size_t wrong = 0;
    for (std::size_t i = 0; i < 3200; ++i) {
      if (c.format == kSMDataFormatULawPCM) {
        wrong += recorded[i] != ::linear_to_ulaw(pcm[i]);
      } else {
        const double rounded = std::nearbyint(pcm[i] / 256.0);  // the nearest 8-bit step
        wrong += std::fabs(c.decode(recorded[i]) - std::clamp(rounded, -128.0, 127.0) / 128.0) > 1e-9;
      }
    }
    EXPECT_EQ(wrong, 0u);
    std::vector<float> y(3200);
    for (std::size_t i = 0; i < y.size(); ++i) y[i] = float(c.decode(recorded[i]));
    EXPECT_NEAR(testsig::tone_level_dbm0(y, 900.0, kRate), -10.0, 0.3);
    for (std::size_t i = 3200; i < recorded.size(); ++i) ASSERT_EQ(recorded[i], c.silence) << "sample " << i;
  }
}

// ---------------------------------------------------------------------------
// Record volume, AGC and max_silence

// volume scales the recording by its dB (-6, 0, +6 on a -16 dBm0 tone).
TEST_F(CApiModule, RecordVolumeScalesTheRecording) {
  for (int volume : {-6, 0, 6}) {
    SCOPED_TRACE(volume);
    Phone p = phone(kSMDataFormat16bit, pcm_bytes(tone16(600.0, -16.0, 4000)));
    SM_RECORD_PARMS extra{};
    extra.volume = volume;
    const tSMChannelId rec = record_output_of(p.channel, kSMDataFormat16bit, extra);
    std::vector<std::uint8_t> recorded;
    run(50, {&p}, rec, recorded);
    EXPECT_NEAR(testsig::tone_level_dbm0(testsig::to_float(pcm_samples(recorded)), 600.0, kRate), -16.0 + volume, 0.1);
  }
}

// AGC brings talk at -30 dBm0 (200 ms bursts) to about -12 dBm0 in the
// recording; without it the recording is at -30 dBm0.
TEST_F(CApiModule, RecordAgcBringsQuietTalkTowardMinus12) {
  std::vector<float> talk(8000 * 10, 0.0f);
  for (std::size_t i = 0; i < talk.size(); ++i)
    if ((i / 1600) % 3 != 2)
      talk[i] = float(testsig::sine_peak(-30.0) * std::sin(2.0 * testsig::kPi * 700.0 * double(i) / kRate));
  for (int agc : {0, 1}) {
    SCOPED_TRACE(agc ? "agc on" : "agc off");
    Phone p = phone(kSMDataFormat16bit, pcm_bytes(testsig::to_int16(talk)));
    SM_RECORD_PARMS extra{};
    extra.agc = agc;
    const tSMChannelId rec = record_output_of(p.channel, kSMDataFormat16bit, extra);
    std::vector<std::uint8_t> recorded;
    run(talk.size() / kFrame, {&p}, rec, recorded);
    const std::vector<float> y = testsig::to_float(pcm_samples(recorded));
    const std::size_t burst = 4800 * 15 + 400;  // a burst in the last second
    EXPECT_NEAR(testsig::level_dbm0(y.data() + burst, 2400), agc ? -12.0 : -30.0, agc ? 1.5 : 0.1);
  }
}

// max_silence ends a recording once that much silence (below
// min_noise_level, default -45 dBm0) has followed sound: a tone for 300 ms,
// then line noise at -50 dBm0 (silence) ends a 200 ms max_silence recording
// at 500 ms, within one frame, reporting about 200 ms of trailing octets;
// noise at -40 dBm0 is sound and never ends it.
TEST_F(CApiModule, RecordMaxSilenceEndsAtItsLimitAfterSound) {
  for (double noise_dbm0 : {-50.0, -40.0}) {
    SCOPED_TRACE(std::to_string(noise_dbm0) + " dBm0 after the tone");
    std::vector<float> x = testsig::white_noise(noise_dbm0, 8000, 5);
    for (std::size_t i = 0; i < 2400; ++i)
      x[i] = float(testsig::sine_peak(-15.0) * std::sin(2.0 * testsig::kPi * 800.0 * double(i) / kRate));
    Phone p = phone(kSMDataFormat16bit, pcm_bytes(testsig::to_int16(x)));
    SM_RECORD_PARMS extra{};
    extra.max_silence = 200;
    const tSMChannelId rec = record_output_of(p.channel, kSMDataFormat16bit, extra);
    SM_RECORD_STATUS_PARMS st{};
    st.channel = rec;
    std::vector<std::uint8_t> recorded;
    int ended_after_frame = -1;
    for (int f = 1; f <= 90 && ended_after_frame < 0; ++f) {
      run(1, {&p}, rec, recorded);
      ASSERT_EQ(sm_record_status(&st), 0);
      if (st.termination_reason != kSMRecordHowTerminatedNotYet) {
        EXPECT_EQ(st.termination_reason, kSMRecordHowTerminatedSilence);
        ended_after_frame = f;
      }
    }
    if (noise_dbm0 > -45.0) {
      EXPECT_EQ(ended_after_frame, -1) << "noise above min_noise_level is not silence";
      continue;
    }
    // Silence from frame 31 (300 ms): 200 ms of it after frame 50.
    EXPECT_GE(ended_after_frame, 50);
    EXPECT_LE(ended_after_frame, 51);
    EXPECT_NEAR(double(st.termination_octets), 200 * 16.0, 2.0 * kFrame) << "trailing silence, in octets";
    EXPECT_NEAR(double(recorded.size()), ended_after_frame * 2.0 * kFrame, 2.0 * kFrame);
  }
}

}  // namespace
