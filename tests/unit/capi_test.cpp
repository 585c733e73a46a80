// The C API as an application written for the hardware uses it: card 0,
// modules, channels, datafeeds, replay, record, events, the primitives and
// the high-level library, and every documented misuse returning its
// ERR_SM_* code.
#include <gtest/gtest.h>
#include <poll.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "capi_fixture.hpp"
#include "prosody/prosody_sw.h"
#include "prosody/smbesp.h"
#include "prosody/smclib.h"
#include "prosody/smdrvr.h"
#include "signal.hpp"

// spandsp's G.711 decoder: an independent oracle for recorded A-law.
#include <spandsp/telephony.h>
#include <spandsp/bit_operations.h>
#include <spandsp/g711.h>

namespace {

// A stepped module on card 0, opened for one test and closed after it.
class CApi : public prosody::test::CardModuleTest<0> {};

// ---------------------------------------------------------------------------
// Card, module, channel

TEST(CardZero, IsAlwaysOpenAndReportsItsModules) {
  SM_CARD_INFO_PARMS info{};
  info.card = 0;
  ASSERT_EQ(sm_get_card_info(&info), 0);
  EXPECT_EQ(info.module_count, kProsodySwDefaultModuleCount);
  EXPECT_EQ(info.card_detected, 1);
  EXPECT_EQ(prosody_sw_set_module_count(8), ERR_SM_WRONG_MODULE_STATE) << "fixed after first use";
  info.card = 1;
  EXPECT_EQ(sm_get_card_info(&info), ERR_SM_BAD_PARAMETER);
  SM_OPEN_MODULE_PARMS open{};
  open.module_ix = static_cast<tSM_UT32>(kProsodySwDefaultModuleCount);
  EXPECT_EQ(sm_open_module(&open), ERR_SM_NO_SUCH_MODULE);
  open.card_id = 3;
  open.module_ix = 0;
  EXPECT_EQ(sm_open_module(&open), ERR_SM_BAD_PARAMETER);
}

TEST(CardZero, ModulesOpenInRealTimeByDefault) {
  SM_OPEN_MODULE_PARMS open{};
  open.module_ix = 3;
  ASSERT_EQ(sm_open_module(&open), 0);
  PROSODY_SW_MODULE_INFO_PARMS info{};
  info.module = open.module_id;
  ASSERT_EQ(prosody_sw_module_info(&info), 0);
  EXPECT_EQ(info.drive_mode, kProsodySwDriveRealTime);
  EXPECT_EQ(info.sample_rate, 8000u);
  EXPECT_EQ(info.frame_samples, 80u);
  EXPECT_EQ(prosody_sw_step(open.module_id, 1), ERR_SM_WRONG_MODULE_STATE);
  PROSODY_SW_MODULE_CONFIG_PARMS cfg{};
  cfg.module_ix = 3;
  EXPECT_EQ(prosody_sw_configure_module(&cfg), ERR_SM_WRONG_MODULE_STATE) << "already open";
  SM_CLOSE_MODULE_PARMS close{};
  close.module_id = open.module_id;
  EXPECT_EQ(sm_close_module(&close), 0);
  EXPECT_EQ(sm_close_module(&close), ERR_SM_BAD_PARAMETER) << "closed twice";
}

TEST(CardZero, ModuleConfigurationIsValidated) {
  PROSODY_SW_MODULE_CONFIG_PARMS cfg{};
  cfg.module_ix = 2;
  cfg.sample_rate = 11025;
  EXPECT_EQ(prosody_sw_configure_module(&cfg), ERR_SM_BAD_PARAMETER);
  cfg.sample_rate = 16000;
  cfg.frame_us = 7000;
  EXPECT_EQ(prosody_sw_configure_module(&cfg), ERR_SM_BAD_PARAMETER);
  cfg.frame_us = 20000;
  cfg.drive_mode = static_cast<enum kProsodySwDriveMode>(9);
  EXPECT_EQ(prosody_sw_configure_module(&cfg), ERR_SM_BAD_PARAMETER);
}

TEST_F(CApi, ChannelsAllocateReleaseAndReportTheirType) {
  SM_CHANNEL_ALLOC_PLACED_PARMS p{};
  p.module = module;
  p.type = static_cast<enum kSMChannelType>(7);
  EXPECT_EQ(sm_channel_alloc_placed(&p), ERR_SM_BAD_PARAMETER);
  p.type = kSMChannelTypeInput;
  p.module = kSMNullModuleId;
  EXPECT_EQ(sm_channel_alloc_placed(&p), ERR_SM_BAD_PARAMETER);
  const tSMChannelId c = alloc(kSMChannelTypeHalfDuplex);
  EXPECT_EQ(sm_get_channel_type(c), kSMChannelTypeHalfDuplex);
  SM_CHANNEL_INFO_PARMS info{};
  info.channel = c;
  EXPECT_EQ(sm_channel_info(&info), 0);
  EXPECT_EQ(sm_channel_release(c), 0);
  EXPECT_EQ(sm_channel_release(c), ERR_SM_NO_SUCH_CHANNEL) << "released channel";
  EXPECT_EQ(sm_get_channel_type(c), ERR_SM_NO_SUCH_CHANNEL);
  EXPECT_EQ(sm_channel_release(kSMNullChannelId), ERR_SM_NO_SUCH_CHANNEL);
  EXPECT_EQ(sm_channel_release(reinterpret_cast<tSMChannelId>(0x1234)), ERR_SM_NO_SUCH_CHANNEL) << "forged id";
}

TEST(ErrorNames, NameEveryCode) {
  SM_ERROR_NAME_PARMS p{};
  p.code = ERR_SM_WRONG_CHANNEL_STATE;
  EXPECT_STREQ(sm_error_name(&p), "ERR_SM_WRONG_CHANNEL_STATE");
  p.code = -999;
  EXPECT_STREQ(sm_error_name(&p), "Unknown Prosody error: -999 0xfffffc19");
}

// ---------------------------------------------------------------------------
// Conferencing primitives: the documented errors

TEST_F(CApi, ConfPrimStartErrors) {
  SM_CONF_PRIM_START_PARMS s{};
  s.channel = alloc(kSMChannelTypeInput);
  EXPECT_EQ(sm_conf_prim_start(&s), ERR_SM_WRONG_CHANNEL_TYPE) << "input-only channel";
  s.channel = alloc();
  s.conf_type = static_cast<enum kSMConfType>(5);
  EXPECT_EQ(sm_conf_prim_start(&s), ERR_SM_BAD_PARAMETER) << "unknown conf_type";
  s.conf_type = kSMConfTypeStandard;
  s.volume = 99;
  EXPECT_EQ(sm_conf_prim_start(&s), ERR_SM_BAD_PARAMETER) << "volume out of range";
  s.volume = -24;
  EXPECT_EQ(sm_conf_prim_start(&s), 0);
  EXPECT_EQ(sm_conf_prim_start(&s), ERR_SM_WRONG_CHANNEL_STATE) << "output already busy";
}

TEST_F(CApi, ConfPrimAddLeaveErrors) {
  const tSMChannelId out = alloc(), in = alloc(), output_only = alloc(kSMChannelTypeOutput);
  SM_CONF_PRIM_ADD_PARMS a{};
  a.channel = out;
  a.participant = in;
  EXPECT_EQ(sm_conf_prim_add(&a), ERR_SM_WRONG_CHANNEL_STATE) << "not a conference output";
  SM_CONF_PRIM_START_PARMS s{};
  s.channel = out;
  ASSERT_EQ(sm_conf_prim_start(&s), 0);
  a.participant = output_only;
  EXPECT_EQ(sm_conf_prim_add(&a), ERR_SM_WRONG_CHANNEL_TYPE) << "participant has no input";
  a.participant = in;
  a.factor = 0.5f;
  EXPECT_EQ(sm_conf_prim_add(&a), ERR_SM_BAD_PARAMETER) << "factor on the standard type";
  a.factor = 0.0f;
  ASSERT_EQ(sm_conf_prim_add(&a), 0);
  const int id = a.id;
  ASSERT_EQ(sm_conf_prim_add(&a), 0) << "adding twice just sets the bit again";
  EXPECT_EQ(a.id, id);
  SM_CONF_PRIM_LEAVE_PARMS l{};
  l.channel = out;
  l.id = 10000;
  EXPECT_EQ(sm_conf_prim_leave(&l), ERR_SM_BAD_PARAMETER) << "id beyond the table";
  l.id = -1;
  EXPECT_EQ(sm_conf_prim_leave(&l), ERR_SM_BAD_PARAMETER);
  l.id = id + 1;
  EXPECT_EQ(sm_conf_prim_leave(&l), ERR_SM_WRONG_CHANNEL_STATE) << "no input holds that id";
  l.id = id;
  EXPECT_EQ(sm_conf_prim_leave(&l), 0);
  l.channel = in;
  EXPECT_EQ(sm_conf_prim_leave(&l), ERR_SM_WRONG_CHANNEL_STATE) << "not a conference output";
}

TEST_F(CApi, ConfPrimAttachDetachErrors) {
  const tSMChannelId in = alloc(), out = alloc();
  SM_CONF_PRIM_ATTACH_PARMS at{};
  at.channel = alloc(kSMChannelTypeOutput);
  EXPECT_EQ(sm_conf_prim_attach(&at), ERR_SM_WRONG_CHANNEL_TYPE);
  at.channel = in;
  at.conf_type = static_cast<enum kSMConfType>(3);
  EXPECT_EQ(sm_conf_prim_attach(&at), ERR_SM_BAD_PARAMETER);
  SM_CONF_PRIM_DETACH_PARMS de{};
  de.channel = in;
  EXPECT_EQ(sm_conf_prim_detach(&de), ERR_SM_WRONG_CHANNEL_STATE) << "never attached";
  // Implicitly attached (by add): detach is refused.
  SM_CONF_PRIM_START_PARMS s{};
  s.channel = out;
  ASSERT_EQ(sm_conf_prim_start(&s), 0);
  SM_CONF_PRIM_ADD_PARMS a{};
  a.channel = out;
  a.participant = in;
  ASSERT_EQ(sm_conf_prim_add(&a), 0);
  EXPECT_EQ(sm_conf_prim_detach(&de), ERR_SM_WRONG_CHANNEL_STATE) << "implicitly attached";
  at.conf_type = kSMConfTypeStandard;
  ASSERT_EQ(sm_conf_prim_attach(&at), 0) << "now explicitly";
  EXPECT_EQ(sm_conf_prim_detach(&de), ERR_SM_WRONG_CHANNEL_STATE) << "detach while in use";
  SM_CONF_PRIM_LEAVE_PARMS l{};
  l.channel = out;
  l.id = a.id;
  ASSERT_EQ(sm_conf_prim_leave(&l), 0);
  EXPECT_EQ(sm_conf_prim_detach(&de), 0);
  EXPECT_EQ(prosody_sw_conf_prim_participant_id(in), ERR_SM_WRONG_CHANNEL_STATE);
}

TEST_F(CApi, ConfPrimCloneErrors) {
  const tSMChannelId a = alloc(), b = alloc();
  SM_CONF_PRIM_CLONE_PARMS c{};
  c.channel = a;
  c.model = a;
  EXPECT_EQ(sm_conf_prim_clone(&c), ERR_SM_BAD_PARAMETER) << "clone of itself";
  c.model = b;
  EXPECT_EQ(sm_conf_prim_clone(&c), ERR_SM_WRONG_CHANNEL_STATE) << "model is not a conference output";
  c.model = kSMNullChannelId;
  EXPECT_EQ(sm_conf_prim_clone(&c), 0) << "null model: a start";
}

TEST_F(CApi, CrossModuleParticipantsAreRefused) {
  PROSODY_SW_MODULE_CONFIG_PARMS cfg{};
  cfg.module_ix = 1;
  cfg.drive_mode = kProsodySwDriveStepped;
  ASSERT_EQ(prosody_sw_configure_module(&cfg), 0);
  SM_OPEN_MODULE_PARMS open{};
  open.module_ix = 1;
  ASSERT_EQ(sm_open_module(&open), 0);
  SM_CHANNEL_ALLOC_PLACED_PARMS p{};
  p.type = kSMChannelTypeFullDuplex;
  p.module = open.module_id;
  ASSERT_EQ(sm_channel_alloc_placed(&p), 0);
  const tSMChannelId other = p.channel, out = alloc();
  SM_CONF_PRIM_START_PARMS s{};
  s.channel = out;
  ASSERT_EQ(sm_conf_prim_start(&s), 0);
  SM_CONF_PRIM_ADD_PARMS a{};
  a.channel = out;
  a.participant = other;
  EXPECT_EQ(sm_conf_prim_add(&a), ERR_SM_BAD_PARAMETER);
  SM_CONF_PRIM_CLONE_PARMS c{};
  c.channel = other;
  c.model = out;
  EXPECT_EQ(sm_conf_prim_clone(&c), ERR_SM_BAD_PARAMETER);
  SM_CHANNEL_DATAFEED_PARMS df{};
  df.channel = out;
  ASSERT_EQ(sm_channel_get_datafeed(&df), 0);
  SM_CHANNEL_DATAFEED_CONNECT_PARMS dc{};
  dc.channel = other;
  dc.data_source = df.datafeed;
  EXPECT_EQ(sm_channel_datafeed_connect(&dc), ERR_SM_NOT_SAME_MODULE);
  SM_CLOSE_MODULE_PARMS close{};
  close.module_id = open.module_id;
  EXPECT_EQ(sm_close_module(&close), 0);
}

TEST_F(CApi, AdjustmentsValidateTheirArguments) {
  const tSMChannelId in = alloc(), out = alloc();
  SM_CONF_PRIM_ADJ_INPUT_PARMS ai{};
  ai.channel = in;
  EXPECT_EQ(sm_conf_prim_adj_input(&ai), ERR_SM_WRONG_CHANNEL_STATE) << "not attached";
  SM_CONF_PRIM_ATTACH_PARMS at{};
  at.channel = in;
  ASSERT_EQ(sm_conf_prim_attach(&at), 0);
  ai.volume = kSMConfAdjInputVolumeMute;
  EXPECT_EQ(sm_conf_prim_adj_input(&ai), 0) << "mute";
  ai.volume = 40;
  EXPECT_EQ(sm_conf_prim_adj_input(&ai), ERR_SM_BAD_PARAMETER);
  ai.volume = 0;
  SM_CONF_PRIM_ADJ_INPUT_SETTINGS_PARMS as{};
  as.channel = in;
  as.max_level_decay = 1.5f;
  EXPECT_EQ(sm_conf_prim_adj_input_settings(&as), ERR_SM_BAD_PARAMETER);
  as.max_level_decay = 0.5f;
  as.target_level = 10.0f;
  EXPECT_EQ(sm_conf_prim_adj_input_settings(&as), ERR_SM_BAD_PARAMETER);
  as.target_level = -20.0f;
  EXPECT_EQ(sm_conf_prim_adj_input_settings(&as), 0);
  SM_CONF_PRIM_ADJ_TRACKING_PARMS tr{};
  tr.channel = in;
  tr.min_noise_level = -55.0;
  tr.speech_thresh = 2.0;
  EXPECT_EQ(sm_conf_prim_adj_tracking(&tr), ERR_SM_BAD_PARAMETER);
  tr.speech_thresh = 0.02;
  EXPECT_EQ(sm_conf_prim_adj_tracking(&tr), 0);
  SM_CONF_PRIM_ADJ_OUTPUT_PARMS ao{};
  ao.channel = out;
  EXPECT_EQ(sm_conf_prim_adj_output(&ao), ERR_SM_WRONG_CHANNEL_STATE) << "not a conference output";
  SM_CONF_PRIM_START_PARMS s{};
  s.channel = out;
  s.conf_type = kSMConfTypeIndividualVolume;
  ASSERT_EQ(sm_conf_prim_start(&s), 0);
  EXPECT_EQ(sm_conf_prim_adj_output(&ao), ERR_SM_WRONG_CHANNEL_STATE) << "not a standard output";
  SM_CONF_PRIM_INFO_PARMS info{};
  info.channel = out;
  EXPECT_EQ(sm_conf_prim_info(&info), ERR_SM_WRONG_CHANNEL_STATE) << "info needs a standard output";
  SM_CONF_PRIM_CONFIG_ACTIVITY_REPORTING_PARMS ar{};
  ar.channel = out;
  ar.sensitivity = 101;
  EXPECT_EQ(sm_conf_prim_config_activity_reporting(&ar), ERR_SM_BAD_PARAMETER);
  SM_SET_SIDETONE_CHANNEL_PARMS st{};
  st.channel = alloc();
  st.output = out;
  EXPECT_EQ(sm_set_sidetone_channel(&st), ERR_SM_WRONG_CHANNEL_STATE) << "input not attached";
  st.channel = in;
  st.output = alloc();
  EXPECT_EQ(sm_set_sidetone_channel(&st), ERR_SM_WRONG_CHANNEL_STATE) << "output not a conference output";
}

TEST_F(CApi, IndividualVolumeNeedsExplicitAttachAndScalesByFactor) {
  const tSMChannelId out = alloc(), in = alloc();
  SM_CONF_PRIM_START_PARMS s{};
  s.channel = out;
  s.conf_type = kSMConfTypeIndividualVolume;
  ASSERT_EQ(sm_conf_prim_start(&s), 0);
  SM_CONF_PRIM_ADD_PARMS a{};
  a.channel = out;
  a.participant = in;
  a.factor = 0.5f;
  EXPECT_EQ(sm_conf_prim_add(&a), ERR_SM_WRONG_CHANNEL_STATE) << "no implicit attach for civ";
  SM_CONF_PRIM_ATTACH_PARMS at{};
  at.channel = in;
  at.conf_type = kSMConfTypeIndividualVolume;
  ASSERT_EQ(sm_conf_prim_attach(&at), 0);
  EXPECT_EQ(sm_conf_prim_add(&a), 0);
}

TEST_F(CApi, StopAndAbort) {
  const tSMChannelId out = alloc();
  EXPECT_EQ(sm_conf_prim_abort(out), ERR_SM_WRONG_CHANNEL_STATE);
  SM_CONF_PRIM_START_PARMS s{};
  s.channel = out;
  ASSERT_EQ(sm_conf_prim_start(&s), 0);
  SM_CONF_PRIM_STOP_PARMS st{};
  st.channel = out;
  st.no_wait = 1;
  ASSERT_EQ(sm_conf_prim_stop(&st), 0);
  SM_CONF_PRIM_STATUS_PARMS status{};
  status.channel = out;
  ASSERT_EQ(sm_conf_prim_status(&status), 0);
  EXPECT_EQ(status.status, kSMConfStatusStopped);
  EXPECT_EQ(sm_conf_prim_status(&status), ERR_SM_WRONG_CHANNEL_STATE);
  ASSERT_EQ(sm_conf_prim_start(&s), 0);
  EXPECT_EQ(sm_conf_prim_abort(out), 0);
}

TEST_F(CApi, HalfDuplexIsInputOrOutputNotBoth) {
  const tSMChannelId h = alloc(kSMChannelTypeHalfDuplex), out = alloc();
  SM_CONF_PRIM_START_PARMS s{};
  s.channel = h;
  ASSERT_EQ(sm_conf_prim_start(&s), 0);
  SM_CONF_PRIM_ATTACH_PARMS at{};
  at.channel = h;
  EXPECT_EQ(sm_conf_prim_attach(&at), ERR_SM_WRONG_CHANNEL_STATE);
  s.channel = out;
  ASSERT_EQ(sm_conf_prim_start(&s), 0);
  SM_CONF_PRIM_ADD_PARMS a{};
  a.channel = out;
  a.participant = h;
  EXPECT_EQ(sm_conf_prim_add(&a), ERR_SM_WRONG_CHANNEL_STATE);
}

TEST_F(CApi, ReleasingAnAttachedInputRemovesItEverywhere) {
  const tSMChannelId in = alloc(), out1 = alloc(), out2 = alloc();
  for (tSMChannelId o : {out1, out2}) {
    SM_CONF_PRIM_START_PARMS s{};
    s.channel = o;
    ASSERT_EQ(sm_conf_prim_start(&s), 0);
    SM_CONF_PRIM_ADD_PARMS a{};
    a.channel = o;
    a.participant = in;
    ASSERT_EQ(sm_conf_prim_add(&a), 0);
  }
  ASSERT_EQ(sm_channel_release(in), 0);
  PROSODY_SW_CONF_PRIM_ACTIVE_IDS_PARMS ids{};
  ids.channel = out1;
  ASSERT_EQ(prosody_sw_conf_prim_active_ids(&ids), 0);
  EXPECT_EQ(ids.member_count, 0);
  // The id is free again: the next input gets it.
  const tSMChannelId next = alloc();
  SM_CONF_PRIM_ATTACH_PARMS at{};
  at.channel = next;
  ASSERT_EQ(sm_conf_prim_attach(&at), 0);
  EXPECT_EQ(prosody_sw_conf_prim_participant_id(next), 0);
}

// ---------------------------------------------------------------------------
// Datafeeds, replay, record: audio through the API only, as on hardware.

std::vector<std::int16_t> tone16(double freq, double level, std::size_t n) {
  return testsig::to_int16(testsig::sine(freq, level, n, 8000.0));
}

// Feeds a replay from a buffer, 2048 bytes at a time, while there is room.
struct Feeder {
  tSMChannelId channel;
  std::vector<std::uint8_t> bytes;
  std::size_t at = 0;
  void pump() {
    while (at < bytes.size()) {
      SM_TS_DATA_PARMS d{};
      d.channel = channel;
      d.data = reinterpret_cast<char*>(bytes.data() + at);
      d.length = static_cast<tSM_INT>(std::min<std::size_t>(kSMMaxReplayDataBufferSize, bytes.size() - at));
      const int r = at + static_cast<std::size_t>(d.length) == bytes.size() ? sm_put_last_replay_data(&d)
                                                                            : sm_put_replay_data(&d);
      if (r == ERR_SM_NO_CAPACITY) return;
      ASSERT_EQ(r, 0);
      at += static_cast<std::size_t>(d.length);
    }
  }
};

std::vector<float> drain_record(tSMChannelId ch) {
  std::vector<float> out;
  std::vector<char> buf(kSMMaxRecordDataBufferSize);
  for (;;) {
    SM_TS_DATA_PARMS d{};
    d.channel = ch;
    d.data = buf.data();
    EXPECT_EQ(sm_get_recorded_data(&d), 0);
    if (d.length == 0) break;
    for (int i = 0; i + 1 < d.length; i += 2) {
      std::int16_t v;
      std::memcpy(&v, buf.data() + i, 2);
      out.push_back(float(v) / 32768.0f);
    }
  }
  return out;
}

TEST_F(CApi, ReplayThroughADatafeedIntoAConferenceAndRecordTheMix) {
  // Two "phones" replay tones; their outputs feed two conference channels
  // (a two-party conference); a recorder records party A's conference
  // output. A hears B only.
  const tSMChannelId phone_a = alloc(kSMChannelTypeOutput), phone_b = alloc(kSMChannelTypeOutput);
  const tSMChannelId conf_a = alloc(), conf_b = alloc(), recorder = alloc(kSMChannelTypeInput);
  Feeder feed[2];
  const double freq[2] = {600.0, 1400.0};
  const tSMChannelId phones[2] = {phone_a, phone_b}, confs[2] = {conf_a, conf_b};
  for (int i = 0; i < 2; ++i) {
    SM_REPLAY_PARMS r{};
    r.channel = phones[i];
    r.type = kSMDataFormat16bit;
    ASSERT_EQ(sm_replay_start(&r), 0);
    const auto pcm = tone16(freq[i], -12.0, 16000);
    feed[i].channel = phones[i];
    feed[i].bytes.assign(reinterpret_cast<const std::uint8_t*>(pcm.data()),
                         reinterpret_cast<const std::uint8_t*>(pcm.data() + pcm.size()));
    SM_CHANNEL_DATAFEED_PARMS df{};
    df.channel = phones[i];
    ASSERT_EQ(sm_channel_get_datafeed(&df), 0);
    SM_CHANNEL_DATAFEED_CONNECT_PARMS dc{};
    dc.channel = confs[i];
    dc.data_source = df.datafeed;
    ASSERT_EQ(sm_channel_datafeed_connect(&dc), 0);
  }
  tSMConference conf = sm_conference_create();
  for (tSMChannelId c : confs) {
    SM_CONFERENCE_ADD_PARTY_PARMS ap{};
    ap.conf = conf;
    ap.channelIn = c;
    ap.channelOut = c;
    ASSERT_EQ(sm_conference_add_party(&ap), 0);
  }
  SM_CHANNEL_DATAFEED_PARMS df{};
  df.channel = conf_a;
  ASSERT_EQ(sm_channel_get_datafeed(&df), 0);
  SM_RECORD_PARMS rec{};
  rec.channel = recorder;
  rec.alt_data_source = conf_a;
  rec.alt_data_source_type = kSMRecordAltSourceOutput;
  rec.type = kSMDataFormat16bit;
  ASSERT_EQ(sm_record_start(&rec), 0);
  std::vector<float> heard;
  for (int f = 0; f < 150; ++f) {
    feed[0].pump();
    feed[1].pump();
    step(1);
    const auto got = drain_record(recorder);
    heard.insert(heard.end(), got.begin(), got.end());
  }
  ASSERT_GE(heard.size(), 10000u);
  EXPECT_NEAR(testsig::tone_level_dbm0(heard.data() + 4000, 6000, 1400.0, 8000.0), -12.0, 0.1);
  EXPECT_LT(testsig::tone_level_dbm0(heard.data() + 4000, 6000, 600.0, 8000.0), -80.0);
  sm_conference_delete(conf);
}

// The individual-volume type scales each participant by its factor: a
// -12 dBm0 tone added with factor 0.5 is heard 6.02 dB down, and one added
// with factor 1 at its own level.
TEST_F(CApi, IndividualVolumeFactorScalesTheAudio) {
  for (float factor : {0.5f, 1.0f}) {
    SCOPED_TRACE(factor);
    const tSMChannelId phone = alloc(kSMChannelTypeOutput), in = alloc(), out = alloc();
    const tSMChannelId recorder = alloc(kSMChannelTypeInput);
    SM_REPLAY_PARMS r{};
    r.channel = phone;
    r.type = kSMDataFormat16bit;
    ASSERT_EQ(sm_replay_start(&r), 0);
    const auto pcm = tone16(1000.0, -12.0, 16000);
    Feeder feed{phone,
                {reinterpret_cast<const std::uint8_t*>(pcm.data()),
                 reinterpret_cast<const std::uint8_t*>(pcm.data() + pcm.size())}};
    SM_CHANNEL_DATAFEED_PARMS df{};
    df.channel = phone;
    ASSERT_EQ(sm_channel_get_datafeed(&df), 0);
    SM_CHANNEL_DATAFEED_CONNECT_PARMS dc{};
    dc.channel = in;
    dc.data_source = df.datafeed;
    ASSERT_EQ(sm_channel_datafeed_connect(&dc), 0);
    SM_CONF_PRIM_START_PARMS s{};
    s.channel = out;
    s.conf_type = kSMConfTypeIndividualVolume;
    ASSERT_EQ(sm_conf_prim_start(&s), 0);
    SM_CONF_PRIM_ATTACH_PARMS at{};
    at.channel = in;
    at.conf_type = kSMConfTypeIndividualVolume;
    ASSERT_EQ(sm_conf_prim_attach(&at), 0);
    SM_CONF_PRIM_ADD_PARMS a{};
    a.channel = out;
    a.participant = in;
    a.factor = factor;
    ASSERT_EQ(sm_conf_prim_add(&a), 0);
    SM_CHANNEL_DATAFEED_PARMS out_df{};  // an output is recorded through its datafeed
    out_df.channel = out;
    ASSERT_EQ(sm_channel_get_datafeed(&out_df), 0);
    SM_RECORD_PARMS rec{};
    rec.channel = recorder;
    rec.alt_data_source = out;
    rec.alt_data_source_type = kSMRecordAltSourceOutput;
    rec.type = kSMDataFormat16bit;
    ASSERT_EQ(sm_record_start(&rec), 0);
    std::vector<float> heard;
    for (int f = 0; f < 150; ++f) {
      feed.pump();
      step(1);
      const auto got = drain_record(recorder);
      heard.insert(heard.end(), got.begin(), got.end());
    }
    ASSERT_GE(heard.size(), 10000u);
    EXPECT_NEAR(testsig::tone_level_dbm0(heard.data() + 4000, 6000, 1000.0, 8000.0),
                -12.0 + 20.0 * std::log10(double(factor)), 0.1);
  }
}

TEST_F(CApi, ReplayCompletesAndFreesTheOutput) {
  const tSMChannelId ch = alloc();
  SM_REPLAY_PARMS r{};
  r.channel = ch;
  r.type = kSMDataFormatALawPCM;
  r.data_length = 800;
  ASSERT_EQ(sm_replay_start(&r), 0);
  EXPECT_EQ(sm_replay_start(&r), ERR_SM_WRONG_CHANNEL_STATE) << "output busy";
  std::vector<char> data(800, 0x55);
  SM_TS_DATA_PARMS d{};
  d.channel = ch;
  d.data = data.data();
  d.length = 800;
  ASSERT_EQ(sm_put_replay_data(&d), 0);
  step(5);
  SM_REPLAY_STATUS_PARMS st{};
  st.channel = ch;
  ASSERT_EQ(sm_replay_status(&st), 0);
  EXPECT_EQ(st.status, kSMReplayStatusHasCapacity);
  step(6);
  ASSERT_EQ(sm_replay_status(&st), 0);
  EXPECT_EQ(st.status, kSMReplayStatusComplete);
  EXPECT_EQ(st.offset, 800u);
  EXPECT_EQ(sm_replay_status(&st), ERR_SM_NO_REPLAY_IN_PROGRESS);
  SM_CONF_PRIM_START_PARMS s{};
  s.channel = ch;
  EXPECT_EQ(sm_conf_prim_start(&s), 0) << "the output half is free again";
}

TEST_F(CApi, ReplayErrorsAndUnderrun) {
  const tSMChannelId ch = alloc();
  SM_TS_DATA_PARMS d{};
  char byte = 0;
  d.channel = ch;
  d.data = &byte;
  d.length = 1;
  EXPECT_EQ(sm_put_replay_data(&d), ERR_SM_NO_REPLAY_IN_PROGRESS);
  SM_REPLAY_PARMS r{};
  r.channel = alloc(kSMChannelTypeInput);
  r.type = kSMDataFormat16bit;
  EXPECT_EQ(sm_replay_start(&r), ERR_SM_WRONG_CHANNEL_TYPE);
  r.channel = ch;
  r.type = kSMDataFormatIMAADPCM;
  EXPECT_EQ(sm_replay_start(&r), ERR_SM_NOT_IMPLEMENTED) << "no raw IMA ADPCM stream in libsndfile";
  r.type = kSMDataFormat16bit;
  r.sampling_rate = 3000;
  EXPECT_EQ(sm_replay_start(&r), ERR_SM_BAD_PARAMETER) << "rates are 4000..96000 Hz";
  r.type = kSMDataFormat8KHzALawPCM;
  r.sampling_rate = 16000;
  EXPECT_EQ(sm_replay_start(&r), ERR_SM_BAD_PARAMETER) << "the legacy code says 8000 Hz";
  r.type = kSMDataFormat16bit;
  r.sampling_rate = 0;
  r.speed = 150;
  EXPECT_EQ(sm_replay_start(&r), ERR_SM_NOT_IMPLEMENTED);
  r.speed = 0;
  ASSERT_EQ(sm_replay_start(&r), 0);
  d.length = kSMMaxReplayDataBufferSize + 1;
  EXPECT_EQ(sm_put_replay_data(&d), ERR_SM_BAD_DATA_LENGTH);
  std::vector<char> data(160, 0);
  d.data = data.data();
  d.length = 160;
  ASSERT_EQ(sm_put_replay_data(&d), 0);
  step(3);  // one frame of data, then starved
  SM_REPLAY_STATUS_PARMS st{};
  st.channel = ch;
  ASSERT_EQ(sm_replay_status(&st), 0);
  EXPECT_EQ(st.status, kSMReplayStatusUnderrun);
  SM_REPLAY_ABORT_PARMS ab{};
  ab.channel = ch;
  ASSERT_EQ(sm_replay_abort(&ab), 0);
  EXPECT_EQ(ab.offset, 160u);
}

TEST_F(CApi, ReplayVolumeAndBackgroundMixing) {
  // Channel M replays a tone at -6 dB over the conference output B (which
  // carries another tone): M's output has both.
  const tSMChannelId b = alloc(), talker = alloc(), m = alloc(), rec = alloc(kSMChannelTypeInput);
  SM_CONF_PRIM_START_PARMS s{};
  s.channel = b;
  ASSERT_EQ(sm_conf_prim_start(&s), 0);
  Feeder talk{talker, {}};
  SM_REPLAY_PARMS r{};
  r.channel = talker;
  r.type = kSMDataFormat16bit;
  ASSERT_EQ(sm_replay_start(&r), 0);
  const auto pcm_t = tone16(500.0, -10.0, 16000);
  talk.bytes.assign(reinterpret_cast<const std::uint8_t*>(pcm_t.data()),
                    reinterpret_cast<const std::uint8_t*>(pcm_t.data() + pcm_t.size()));
  SM_CHANNEL_DATAFEED_PARMS df{};
  df.channel = talker;
  ASSERT_EQ(sm_channel_get_datafeed(&df), 0);
  SM_CHANNEL_DATAFEED_CONNECT_PARMS dc{};
  dc.channel = talker;
  dc.data_source = df.datafeed;
  ASSERT_EQ(sm_channel_datafeed_connect(&dc), 0);  // the talker hears itself; only its input matters
  SM_CONF_PRIM_ADD_PARMS a{};
  a.channel = b;
  a.participant = talker;
  ASSERT_EQ(sm_conf_prim_add(&a), 0);
  SM_CONF_PRIM_ADJ_TRACKING_PARMS tr{};
  Feeder music{m, {}};
  r.channel = m;
  r.background = b;
  r.volume = -6;
  ASSERT_EQ(sm_replay_start(&r), 0);
  const auto pcm_m = tone16(1200.0, -10.0, 16000);
  music.bytes.assign(reinterpret_cast<const std::uint8_t*>(pcm_m.data()),
                     reinterpret_cast<const std::uint8_t*>(pcm_m.data() + pcm_m.size()));
  df.channel = m;
  ASSERT_EQ(sm_channel_get_datafeed(&df), 0);
  SM_RECORD_PARMS rp{};
  rp.channel = rec;
  rp.alt_data_source = m;
  rp.alt_data_source_type = kSMRecordAltSourceOutput;
  rp.type = kSMDataFormat16bit;
  ASSERT_EQ(sm_record_start(&rp), 0);
  std::vector<float> heard;
  (void)tr;
  for (int f = 0; f < 120; ++f) {
    talk.pump();
    music.pump();
    step(1);
    const auto got = drain_record(rec);
    heard.insert(heard.end(), got.begin(), got.end());
  }
  EXPECT_NEAR(testsig::tone_level_dbm0(heard.data() + 3000, 6000, 1200.0, 8000.0), -16.0, 0.1) << "replay at -6 dB";
  EXPECT_NEAR(testsig::tone_level_dbm0(heard.data() + 3000, 6000, 500.0, 8000.0), -10.0, 0.1) << "background under it";
}

TEST_F(CApi, RecordStatesLimitsAndAbort) {
  const tSMChannelId src = alloc(), rec = alloc();
  // Replay into src's output; record src's output in A-law, 1000 octets max.
  SM_REPLAY_PARMS r{};
  r.channel = src;
  r.type = kSMDataFormat16bit;
  ASSERT_EQ(sm_replay_start(&r), 0);
  const auto pcm = tone16(800.0, -10.0, 8000);
  Feeder f{src, std::vector<std::uint8_t>(reinterpret_cast<const std::uint8_t*>(pcm.data()),
                                          reinterpret_cast<const std::uint8_t*>(pcm.data() + pcm.size()))};
  SM_RECORD_PARMS rp{};
  rp.channel = rec;
  rp.alt_data_source = src;
  rp.alt_data_source_type = kSMRecordAltSourceOutput;
  rp.type = kSMDataFormatALawPCM;
  EXPECT_EQ(sm_record_start(&rp), ERR_SM_WRONG_CHANNEL_STATE) << "the output's datafeed was never referenced";
  SM_CHANNEL_DATAFEED_PARMS df{};
  df.channel = src;
  ASSERT_EQ(sm_channel_get_datafeed(&df), 0);
  rp.max_octets = 1000;
  ASSERT_EQ(sm_record_start(&rp), 0);
  EXPECT_EQ(sm_record_start(&rp), ERR_SM_WRONG_CHANNEL_STATE) << "already recording";
  SM_RECORD_STATUS_PARMS st{};
  st.channel = rec;
  ASSERT_EQ(sm_record_status(&st), 0);
  EXPECT_EQ(st.status, kSMRecordStatusNoData);
  for (int i = 0; i < 20; ++i) {
    f.pump();
    step(1);
  }
  ASSERT_EQ(sm_record_status(&st), 0);
  EXPECT_EQ(st.status, kSMRecordStatusCompleteData);
  EXPECT_EQ(st.termination_reason, kSMRecordHowTerminatedLength);
  std::vector<char> buf(kSMMaxRecordDataBufferSize);
  SM_TS_DATA_PARMS d{};
  d.channel = rec;
  d.data = buf.data();
  ASSERT_EQ(sm_get_recorded_data(&d), 0);
  EXPECT_EQ(d.length, 1000);
  // A-law decode of what was recorded: the tone at -10 dBm0 (G.711 accuracy).
  std::vector<float> y(static_cast<std::size_t>(d.length));
  for (std::size_t i = 0; i < y.size(); ++i)
    y[i] = float(::alaw_to_linear(static_cast<std::uint8_t>(buf[i]))) / 32768.0f;
  EXPECT_NEAR(testsig::tone_level_dbm0(y.data() + 200, 800, 800.0, 8000.0), -10.0, 0.2);
  ASSERT_EQ(sm_record_status(&st), 0);
  EXPECT_EQ(st.status, kSMRecordStatusComplete);
  EXPECT_EQ(sm_record_status(&st), ERR_SM_NO_RECORD_IN_PROGRESS);
  // Abort with discard.
  ASSERT_EQ(sm_record_start(&rp), 0);
  step(3);
  SM_RECORD_ABORT_PARMS ab{};
  ab.channel = rec;
  ab.discard = 1;
  ASSERT_EQ(sm_record_abort(&ab), 0);
  ASSERT_EQ(sm_record_status(&st), 0);
  EXPECT_EQ(st.status, kSMRecordStatusComplete);
  EXPECT_EQ(st.termination_reason, kSMRecordHowTerminatedAborted);
}

TEST_F(CApi, RecordingAConferenceInputTapsTheRawInput) {
  // The recording holds the input to the conference before its conference
  // processing: muting the participant does not mute the recording.
  const tSMChannelId phone = alloc(kSMChannelTypeOutput), party = alloc(), out = alloc();
  SM_REPLAY_PARMS r{};
  r.channel = phone;
  r.type = kSMDataFormat16bit;
  ASSERT_EQ(sm_replay_start(&r), 0);
  const auto pcm = tone16(700.0, -15.0, 16000);
  Feeder f{phone, std::vector<std::uint8_t>(reinterpret_cast<const std::uint8_t*>(pcm.data()),
                                            reinterpret_cast<const std::uint8_t*>(pcm.data() + pcm.size()))};
  SM_CHANNEL_DATAFEED_PARMS df{};
  df.channel = phone;
  ASSERT_EQ(sm_channel_get_datafeed(&df), 0);
  SM_CHANNEL_DATAFEED_CONNECT_PARMS dc{};
  dc.channel = party;
  dc.data_source = df.datafeed;
  ASSERT_EQ(sm_channel_datafeed_connect(&dc), 0);
  SM_CONF_PRIM_START_PARMS s{};
  s.channel = out;
  ASSERT_EQ(sm_conf_prim_start(&s), 0);
  SM_CONF_PRIM_ADD_PARMS a{};
  a.channel = out;
  a.participant = party;
  ASSERT_EQ(sm_conf_prim_add(&a), 0);
  SM_CONF_PRIM_ADJ_INPUT_PARMS ai{};
  ai.channel = party;
  ai.volume = kSMConfAdjInputVolumeMute;
  ASSERT_EQ(sm_conf_prim_adj_input(&ai), 0);
  SM_RECORD_PARMS rp{};
  rp.channel = party;
  rp.type = kSMDataFormat16bit;
  ASSERT_EQ(sm_record_start(&rp), 0) << "a conference input can record at the same time";
  std::vector<float> heard;
  for (int i = 0; i < 100; ++i) {
    f.pump();
    step(1);
    const auto got = drain_record(party);
    heard.insert(heard.end(), got.begin(), got.end());
  }
  EXPECT_NEAR(testsig::tone_level_dbm0(heard.data() + 2000, 4000, 700.0, 8000.0), -15.0, 0.1);
}

TEST_F(CApi, RecordStopsOnMaxTimeAndOnSilence) {
  const tSMChannelId rec = alloc(), quiet = alloc();
  SM_CHANNEL_DATAFEED_PARMS df{};
  df.channel = quiet;
  ASSERT_EQ(sm_channel_get_datafeed(&df), 0);
  SM_CHANNEL_DATAFEED_CONNECT_PARMS dc{};
  dc.channel = rec;
  dc.data_source = df.datafeed;
  ASSERT_EQ(sm_channel_datafeed_connect(&dc), 0);
  SM_RECORD_PARMS rp{};
  rp.channel = rec;
  rp.type = kSMDataFormat16bit;
  rp.max_elapsed_time = 200;
  ASSERT_EQ(sm_record_start(&rp), 0);
  step(19);
  SM_RECORD_STATUS_PARMS st{};
  st.channel = rec;
  ASSERT_EQ(sm_record_status(&st), 0);
  EXPECT_EQ(st.termination_reason, kSMRecordHowTerminatedNotYet);
  step(1);
  ASSERT_EQ(sm_record_status(&st), 0);
  EXPECT_EQ(st.termination_reason, kSMRecordHowTerminatedMaxTime);
  SM_RECORD_ABORT_PARMS ab{};
  ab.channel = rec;
  ab.discard = 1;
  sm_record_abort(&ab);
  sm_record_status(&st);
  rp.max_elapsed_time = 0;
  rp.max_initial_silence = 300;
  ASSERT_EQ(sm_record_start(&rp), 0);
  step(31);
  ASSERT_EQ(sm_record_status(&st), 0);
  EXPECT_EQ(st.termination_reason, kSMRecordHowTerminatedSilence);
}

// ---------------------------------------------------------------------------
// Events: level-style, pollable fds.

bool readable(const tSMEventId& ev) {
  pollfd p{ev.fd, static_cast<short>(ev.mode), 0};
  return poll(&p, 1, 0) == 1;
}

TEST_F(CApi, EventsAreLevelStyleAndFollowTheirCause) {
  const tSMChannelId ch = alloc(), src = alloc();
  tSMEventId read_ev{}, recog_ev{};
  ASSERT_EQ(smd_ev_create(&read_ev, ch, kSMEventTypeReadData, kSMChannelSpecificEvent), 0);
  ASSERT_EQ(smd_ev_create(&recog_ev, ch, kSMEventTypeRecog, kSMChannelSpecificEventNonIdle), 0);
  SM_CHANNEL_SET_EVENT_PARMS se{};
  se.channel = ch;
  se.event_type = kSMEventTypeReadData;
  se.issue_events = kSMChannelSpecificEvent;
  se.event = read_ev;
  ASSERT_EQ(sm_channel_set_event(&se), 0);
  EXPECT_TRUE(readable(read_ev)) << "an idle channel is ready to start an operation";
  se.event_type = kSMEventTypeRecog;
  se.issue_events = kSMChannelSpecificEventNonIdle;
  se.event = recog_ev;
  ASSERT_EQ(sm_channel_set_event(&se), 0);
  EXPECT_FALSE(readable(recog_ev)) << "non-idle binding: no wake-up for idleness";
  // Record: readable while data waits, not after it is read.
  SM_CHANNEL_DATAFEED_PARMS df{};
  df.channel = src;
  ASSERT_EQ(sm_channel_get_datafeed(&df), 0);
  SM_CHANNEL_DATAFEED_CONNECT_PARMS dc{};
  dc.channel = ch;
  dc.data_source = df.datafeed;
  ASSERT_EQ(sm_channel_datafeed_connect(&dc), 0);
  SM_RECORD_PARMS rp{};
  rp.channel = ch;
  rp.type = kSMDataFormat16bit;
  ASSERT_EQ(sm_record_start(&rp), 0);
  EXPECT_FALSE(readable(read_ev)) << "recording, nothing to read yet";
  step(1);
  EXPECT_TRUE(readable(read_ev));
  drain_record(ch);
  EXPECT_FALSE(readable(read_ev));
  EXPECT_EQ(smd_ev_free(read_ev), 0);
  EXPECT_EQ(smd_ev_free(recog_ev), 0);
  tSMEventId bad{};
  EXPECT_EQ(smd_ev_create(&bad, ch, 9, kSMChannelSpecificEvent), ERR_SM_BAD_PARAMETER);
  EXPECT_EQ(smd_ev_create(&bad, kSMNullChannelId, kSMEventTypeReadData, kSMChannelSpecificEvent),
            ERR_SM_NO_SUCH_CHANNEL);
}

// ---------------------------------------------------------------------------
// High-level library

TEST_F(CApi, HighLevelLibraryChecksItsArguments) {
  const tSMChannelId a = alloc(), b = alloc(), c = alloc();
  tSMConference conf = sm_conference_create();
  ASSERT_NE(conf, nullptr);
  SM_CONFERENCE_ADD_PARTY_PARMS ap{};
  ap.conf = conf;
  ap.channelIn = a;
  ap.channelOut = a;
  ap.out_agc = 5;  // any non-zero value enables AGC
  ASSERT_EQ(sm_conference_add_party(&ap), 0);
  EXPECT_EQ(sm_conference_add_party(&ap), ERR_SM_BAD_PARAMETER) << "the same party twice";
  EXPECT_NE(smConfError, nullptr);
  EXPECT_EQ(smConfErrno, ERR_SM_BAD_PARAMETER);
  ap.channelIn = b;
  ap.channelOut = b;
  ASSERT_EQ(sm_conference_add_party(&ap), 0);
  // A party must not be in another conference.
  tSMConference other = sm_conference_create();
  SM_CONFERENCE_ADD_PARTY_PARMS ap2 = ap;
  ap2.conf = other;
  EXPECT_EQ(sm_conference_add_party(&ap2), ERR_SM_BAD_PARAMETER);
  sm_conference_delete(other);
  SM_CONFERENCE_REMOVE_PARTY_PARMS rp{};
  rp.conf = conf;
  rp.channelIn = b;
  rp.channelOut = c;
  EXPECT_EQ(sm_conference_remove_party(&rp), ERR_SM_BAD_PARAMETER) << "channelOut does not match";
  rp.channelIn = c;
  rp.channelOut = c;
  EXPECT_EQ(sm_conference_remove_party(&rp), ERR_SM_BAD_PARAMETER) << "not a party";
  rp.channelIn = b;
  rp.channelOut = b;
  EXPECT_EQ(sm_conference_remove_party(&rp), 0);
  // The lone remaining member is never reported as speaking.
  tSMChannelId list[4];
  SM_CONFERENCE_INFO_PARMS info{};
  info.conf = conf;
  info.activeChannelList = list;
  ASSERT_EQ(sm_conference_info(&info), 0);
  EXPECT_EQ(info.activeChannelCount, 0);
  sm_conference_delete(conf);
}

TEST_F(CApi, ParticipantIdsBeyond63AreReportedThroughTheExtension) {
  const tSMChannelId out = alloc(kSMChannelTypeOutput);
  SM_CONF_PRIM_START_PARMS s{};
  s.channel = out;
  ASSERT_EQ(sm_conf_prim_start(&s), 0);
  std::vector<tSMChannelId> parties;
  for (int i = 0; i < 100; ++i) {
    parties.push_back(alloc(kSMChannelTypeInput));
    SM_CONF_PRIM_ADD_PARMS a{};
    a.channel = out;
    a.participant = parties.back();
    ASSERT_EQ(sm_conf_prim_add(&a), 0);
    ASSERT_EQ(a.id, i);
  }
  std::vector<tSM_INT> ids(200);
  PROSODY_SW_CONF_PRIM_ACTIVE_IDS_PARMS p{};
  p.channel = out;
  p.max_ids = 200;
  p.ids = ids.data();
  ASSERT_EQ(prosody_sw_conf_prim_active_ids(&p), 0);
  EXPECT_EQ(p.member_count, 100);
  EXPECT_EQ(p.active_count, 0) << "nobody speaks";
}

}  // namespace
