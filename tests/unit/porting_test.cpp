// What an application written for Prosody hardware relies on beyond the
// primitives: opening the card the documented way (acu_*), the legacy
// any-channel mode, write events as POLLOUT, and the behaviours where this
// library used to differ from the reference (issue 14): any non-zero agc
// enables AGC, ToneLen reports without digit mapping keep both tone
// indices, sm_get_recorded_data honours length, sm_discard_recognised needs
// an input half; the modem answer tone and beep detectors.
#include <gtest/gtest.h>
#include <poll.h>

#include <array>
#include <cmath>
#include <initializer_list>
#include <cstring>
#include <thread>
#include <vector>

#include "capi_fixture.hpp"
#include "prosody/prosody_sw.h"
#include "prosody/res_lib.h"
#include "prosody/smbesp.h"
#include "prosody/smclib.h"
#include "prosody/smdrvr.h"
#include "answer_stimulus.hpp"
#include "signal.hpp"

namespace prosody::test {
namespace {

bool ready(const tSMEventId& ev, short events) {
  pollfd p{ev.fd, events, 0};
  return poll(&p, 1, 0) == 1 && (p.revents & events);
}

class Porting : public CardModuleTest<2> {
 protected:
  // A channel replaying pcm (16-bit), fed in one go.
  tSMChannelId phone(const std::vector<std::int16_t>& pcm, int agc = 0) {
    const tSMChannelId ch = alloc(kSMChannelTypeOutput);
    SM_REPLAY_PARMS rp{};
    rp.channel = ch;
    rp.type = kSMDataFormat16bit;
    rp.agc = agc;
    EXPECT_EQ(sm_replay_start(&rp), 0);
    for (std::size_t at = 0; at < pcm.size() * 2; at += kSMMaxReplayDataBufferSize) {
      SM_TS_DATA_PARMS d{};
      d.channel = ch;
      d.data = reinterpret_cast<char*>(const_cast<std::int16_t*>(pcm.data())) + at;
      d.length = static_cast<tSM_INT>(std::min<std::size_t>(kSMMaxReplayDataBufferSize, pcm.size() * 2 - at));
      EXPECT_EQ(at + std::size_t(d.length) == pcm.size() * 2 ? sm_put_last_replay_data(&d) : sm_put_replay_data(&d), 0);
    }
    return ch;
  }
  // An input channel fed by source's output, recording it in 16-bit.
  tSMChannelId recorder(tSMChannelId source) {
    const tSMChannelId ch = alloc(kSMChannelTypeInput);
    connect(source, ch);
    SM_RECORD_PARMS rp{};
    rp.channel = ch;
    rp.type = kSMDataFormat16bit;
    EXPECT_EQ(sm_record_start(&rp), 0);
    return ch;
  }
  void connect(tSMChannelId source, tSMChannelId sink) {
    SM_CHANNEL_DATAFEED_PARMS df{};
    df.channel = source;
    ASSERT_EQ(sm_channel_get_datafeed(&df), 0);
    SM_CHANNEL_DATAFEED_CONNECT_PARMS dc{};
    dc.data_source = df.datafeed;
    dc.channel = sink;
    ASSERT_EQ(sm_channel_datafeed_connect(&dc), 0);
  }
  std::vector<char> recorded(tSMChannelId ch) {
    std::vector<char> all, buf(kSMMaxRecordDataBufferSize);
    for (;;) {
      SM_TS_DATA_PARMS d{};
      d.channel = ch;
      d.data = buf.data();
      d.length = static_cast<tSM_INT>(buf.size());
      EXPECT_EQ(sm_get_recorded_data(&d), 0);
      if (d.length <= 0) return all;
      all.insert(all.end(), buf.begin(), buf.begin() + d.length);
    }
  }
};

// ---------------------------------------------------------------------------
// Opening the card

TEST(AcuCard, OpensTheDocumentedWayAndChecksItsArguments) {
  ACU_SNAPSHOT_PARMS snap;
  INIT_ACU_STRUCT(&snap);
  ASSERT_EQ(acu_get_system_snapshot(&snap), ERR_NO_ERROR);
  ASSERT_EQ(snap.count, 1u);
  ACU_OPEN_CARD_PARMS open;
  INIT_ACU_STRUCT(&open);
  std::strcpy(open.serial_no, snap.serial_no[0]);
  ASSERT_EQ(acu_open_card(&open), ERR_NO_ERROR);
  EXPECT_EQ(open.card_id, 0u);
  ACU_CARD_INFO_PARMS info;
  INIT_ACU_STRUCT(&info);
  info.card_id = open.card_id;
  ASSERT_EQ(acu_get_card_info(&info), ERR_NO_ERROR);
  EXPECT_TRUE(info.resources_available & ACU_RESOURCE_SPEECH);
  EXPECT_STREQ(info.serial_no, snap.serial_no[0]);
  ACU_OPEN_PROSODY_PARMS pros;
  INIT_ACU_STRUCT(&pros);
  pros.card_id = open.card_id;
  ASSERT_EQ(acu_open_prosody(&pros), ERR_NO_ERROR);
  SM_CARD_INFO_PARMS card{};
  card.card = static_cast<tSMCardId>(open.card_id);
  ASSERT_EQ(sm_get_card_info(&card), 0);
  EXPECT_STREQ(card.serial_no, snap.serial_no[0]) << "one card, one serial number";
  ACU_CLOSE_PROSODY_PARMS close_pros;
  INIT_ACU_STRUCT(&close_pros);
  EXPECT_EQ(acu_close_prosody(&close_pros), 0);
  ACU_CLOSE_CARD_PARMS close_card;
  INIT_ACU_STRUCT(&close_card);
  EXPECT_EQ(acu_close_card(&close_card), ERR_NO_ERROR);

  // Errors: an unknown serial, another card, a struct not initialised.
  std::strcpy(open.serial_no, "NO-SUCH-CARD");
  EXPECT_EQ(acu_open_card(&open), ERR_CARD_NOT_FOUND);
  info.card_id = 1;
  EXPECT_EQ(acu_get_card_info(&info), ERR_INVALID_CARD);
  pros.card_id = 7;
  EXPECT_EQ(acu_open_prosody(&pros), ERR_INVALID_CARD);
  ACU_SNAPSHOT_PARMS raw{};
  EXPECT_EQ(acu_get_system_snapshot(&raw), ERR_PARM) << "size not set";
  EXPECT_STREQ(acu_error_desc(ERR_CARD_NOT_FOUND), "card not found");
}

// ---------------------------------------------------------------------------
// Divergences fixed

// Any non-zero agc enables AGC, as the reference says of every agc field:
// a replay with agc 7 comes out exactly as with agc 1, and unlike agc 0.
TEST_F(Porting, AnyNonZeroAgcEnablesAgc) {
  const auto pcm = testsig::to_int16(testsig::sine(440.0, -30.0, 16000, 8000.0));
  const tSMChannelId r0 = recorder(phone(pcm, 0)), r1 = recorder(phone(pcm, 1)), r7 = recorder(phone(pcm, 7));
  step(220);
  const auto y0 = recorded(r0), y1 = recorded(r1), y7 = recorded(r7);
  ASSERT_GE(y1.size(), 32000u);
  EXPECT_EQ(y7, y1) << "agc 7 is agc 1";
  auto level_at_end = [](const std::vector<char>& y) {
    std::vector<std::int16_t> s(y.size() / 2);
    std::memcpy(s.data(), y.data(), s.size() * 2);
    const auto f = testsig::to_float(s);
    return testsig::tone_level_dbm0(f.data() + 12000, 4000, 440.0, 8000.0);
  };
  EXPECT_NEAR(level_at_end(y0), -30.0, 0.1);
  EXPECT_GT(level_at_end(y1), -20.0) << "the AGC raised the level toward 0 dBm0";
  // The other agc fields accept any non-zero value too.
  const tSMChannelId out = alloc(kSMChannelTypeOutput), in = alloc(kSMChannelTypeInput);
  SM_CONF_PRIM_START_PARMS s{};
  s.channel = out;
  s.agc = -1;
  EXPECT_EQ(sm_conf_prim_start(&s), 0);
  SM_CONF_PRIM_ADD_PARMS a{};
  a.channel = out;
  a.participant = in;
  ASSERT_EQ(sm_conf_prim_add(&a), 0);
  SM_CONF_PRIM_ADJ_INPUT_PARMS ai{};
  ai.channel = in;
  ai.agc = 2;
  EXPECT_EQ(sm_conf_prim_adj_input(&ai), 0);
  SM_CONF_PRIM_ADJ_OUTPUT_PARMS ao{};
  ao.channel = out;
  ao.agc = 3;
  EXPECT_EQ(sm_conf_prim_adj_output(&ao), 0);
}

// ToneLen detection without digit mapping reports tones: param1 is the
// length, so both indices go in param0, and '*' (941 + 1209 Hz) and 'D'
// (941 + 1633 Hz) stay apart.
TEST_F(Porting, ToneLenWithoutDigitMappingKeepsBothIndices) {
  const tSMChannelId dialler = alloc(kSMChannelTypeOutput), listener = alloc(kSMChannelTypeInput);
  connect(dialler, listener);
  SM_LISTEN_FOR_PARMS lf{};
  lf.channel = listener;
  lf.tone_detection_mode = kSMToneLenDetectionNoMinDuration;
  lf.map_tones_to_digits = kSMNoDigitMapping;
  ASSERT_EQ(sm_listen_for(&lf), 0);
  SM_PLAY_DIGITS_PARMS pd{};
  pd.channel = dialler;
  std::strcpy(pd.digits.digit_string, "*D5");
  pd.digits.digit_duration = 70;
  ASSERT_EQ(sm_play_digits(&pd), 0);
  step(60);
  const int want[][2] = {{3, 0}, {3, 3}, {1, 1}};  // (row, column) of '*', 'D', '5'
  for (const auto& w : want) {
    SM_RECOGNISED_PARMS r{};
    r.channel = listener;
    ASSERT_EQ(sm_get_recognised(&r), 0);
    EXPECT_EQ(r.type, kSMRecognisedTone);
    EXPECT_EQ(r.param0, (w[0] << 8) | w[1]) << "band-1 index << 8 | band-2 index";
    EXPECT_NEAR(r.param1, 70, 10) << "length in ms";
  }
}

// sm_get_recorded_data writes at most length octets (0: the TiNG 2048).
TEST_F(Porting, GetRecordedDataHonoursLength) {
  const auto pcm = testsig::to_int16(testsig::sine(440.0, -10.0, 4000, 8000.0));
  const tSMChannelId rec = recorder(phone(pcm));
  step(30);  // 2400 samples = 4800 octets recorded
  std::vector<char> buf(kSMMaxRecordDataBufferSize + 16, 'x');
  SM_TS_DATA_PARMS d{};
  d.channel = rec;
  d.data = buf.data();
  d.length = 100;
  ASSERT_EQ(sm_get_recorded_data(&d), 0);
  EXPECT_EQ(d.length, 100);
  EXPECT_EQ(buf[100], 'x') << "nothing written beyond length";
  d.length = 0;
  ASSERT_EQ(sm_get_recorded_data(&d), 0);
  EXPECT_EQ(d.length, kSMMaxRecordDataBufferSize) << "a zeroed length: the hardware's full buffer";
  EXPECT_EQ(buf[kSMMaxRecordDataBufferSize], 'x');
  d.length = 5000;
  ASSERT_EQ(sm_get_recorded_data(&d), 0);
  EXPECT_EQ(d.length, kSMMaxRecordDataBufferSize) << "more than 2048 asked: 2048";
  ASSERT_EQ(sm_get_recorded_data(&d), 0);
  EXPECT_EQ(d.length, 4800 - 100 - 2 * kSMMaxRecordDataBufferSize) << "the rest";
  d.length = -1;
  EXPECT_EQ(sm_get_recorded_data(&d), ERR_SM_BAD_DATA_LENGTH);
}

TEST_F(Porting, DiscardRecognisedNeedsAnInputHalf) {
  EXPECT_EQ(sm_discard_recognised(alloc(kSMChannelTypeOutput)), ERR_SM_WRONG_CHANNEL_TYPE);
  EXPECT_EQ(sm_discard_recognised(alloc(kSMChannelTypeInput)), 0);
}

// A write event is ready as POLLOUT ("room to write"); read and recognition
// events as POLLIN.
TEST_F(Porting, WriteEventsReportPollout) {
  const tSMChannelId ch = alloc();
  const tSMEventId w = bind_channel_event(ch, kSMEventTypeWriteData, kSMChannelSpecificEvent);
  const tSMEventId r = bind_channel_event(ch, kSMEventTypeReadData, kSMChannelSpecificEvent);
  EXPECT_EQ(w.mode, POLLOUT);
  EXPECT_EQ(r.mode, POLLIN);
  EXPECT_TRUE(ready(w, POLLOUT)) << "an idle channel can start writing";
  EXPECT_FALSE(ready(w, POLLIN));
  EXPECT_EQ(smd_ev_wait(w), 0) << "returns at once: it is set";
  // Busy and full: not ready; completion: ready again.
  SM_PLAY_TONE_PARMS pt{};
  pt.channel = ch;
  pt.tone_id = 1;
  pt.duration = 30;
  ASSERT_EQ(sm_play_tone(&pt), 0);
  EXPECT_FALSE(ready(w, POLLOUT)) << "playing: nothing to do";
  step(3);
  EXPECT_TRUE(ready(w, POLLOUT)) << "complete: status wanted";
  SM_PLAY_TONE_STATUS_PARMS st{};
  st.channel = ch;
  ASSERT_EQ(sm_play_tone_status(&st), 0);
  EXPECT_EQ(st.status, kSMPlayToneStatusComplete);
  EXPECT_EQ(smd_ev_free(w), 0);
  EXPECT_EQ(smd_ev_free(r), 0);
}

// The legacy any-channel mode: channels bound to one event with
// kSMAnyChannelEvent; sm_record_status (and the other status calls) with
// kSMNullChannelId return one that needs service.
TEST_F(Porting, AnyChannelModeFindsTheChannelsNeedingService) {
  tSMEventId any{};
  ASSERT_EQ(smd_ev_create(&any, kSMNullChannelId, kSMEventTypeReadData, kSMAnyChannelEvent), 0);
  const auto pcm = testsig::to_int16(testsig::sine(440.0, -10.0, 800, 8000.0));
  const tSMChannelId a = recorder(phone(pcm)), b = recorder(phone(pcm));
  for (tSMChannelId ch : {a, b}) {
    SM_CHANNEL_SET_EVENT_PARMS se{};
    se.channel = ch;
    se.event_type = kSMEventTypeReadData;
    se.issue_events = kSMAnyChannelEvent;
    se.event = any;
    ASSERT_EQ(sm_channel_set_event(&se), 0);
  }
  SM_RECORD_STATUS_PARMS st{};
  EXPECT_EQ(sm_record_status(&st), ERR_SM_NO_SUCH_CHANNEL) << "recording, nothing yet";
  EXPECT_FALSE(ready(any, POLLIN)) << "an any-channel event ignores idleness and busy channels";
  step(1);
  EXPECT_TRUE(ready(any, POLLIN));
  std::vector<tSMChannelId> served;
  for (int i = 0; i < 2; ++i) {
    st = SM_RECORD_STATUS_PARMS{};
    ASSERT_EQ(sm_record_status(&st), 0);
    EXPECT_EQ(st.status, kSMRecordStatusData);
    served.push_back(st.channel);
    EXPECT_EQ(recorded(st.channel).size(), 160u) << "one frame of 16-bit";
  }
  EXPECT_TRUE((served[0] == a && served[1] == b) || (served[0] == b && served[1] == a)) << "each once";
  st = SM_RECORD_STATUS_PARMS{};
  EXPECT_EQ(sm_record_status(&st), ERR_SM_NO_SUCH_CHANNEL) << "both drained";
  EXPECT_FALSE(ready(any, POLLIN)) << "no channel raises it any more";
  // The replay and tone status calls have the same mode on write events.
  tSMEventId wany{};
  ASSERT_EQ(smd_ev_create(&wany, kSMNullChannelId, kSMEventTypeWriteData, kSMAnyChannelEvent), 0);
  const tSMChannelId out = alloc(kSMChannelTypeOutput);
  SM_CHANNEL_SET_EVENT_PARMS se{};
  se.channel = out;
  se.event_type = kSMEventTypeWriteData;
  se.issue_events = kSMAnyChannelEvent;
  se.event = wany;
  ASSERT_EQ(sm_channel_set_event(&se), 0);
  SM_PLAY_TONE_PARMS pt{};
  pt.channel = out;
  pt.tone_id = 3;
  pt.duration = 20;
  ASSERT_EQ(sm_play_tone(&pt), 0);
  SM_PLAY_TONE_STATUS_PARMS ts{};
  EXPECT_EQ(sm_play_tone_status(&ts), ERR_SM_NO_SUCH_CHANNEL) << "still playing";
  step(2);
  EXPECT_TRUE(ready(wany, POLLOUT));
  ASSERT_EQ(sm_play_tone_status(&ts), 0);
  EXPECT_EQ(ts.channel, out);
  EXPECT_EQ(ts.status, kSMPlayToneStatusComplete);
  EXPECT_FALSE(ready(wany, POLLOUT));
  EXPECT_EQ(smd_ev_free(any), 0);
  EXPECT_EQ(smd_ev_free(wany), 0);
  st = SM_RECORD_STATUS_PARMS{};
  EXPECT_EQ(sm_record_status(&st), ERR_SM_NO_SUCH_CHANNEL) << "unbound when the event was freed";
}

// smConfError / smConfErrno are process-wide (as Aculab declares them); the
// calling thread's own copy is prosody_sw_conf_error / _errno.
TEST_F(Porting, ConferenceErrorsAreGlobalWithAPerThreadCopy) {
  const tSMChannelId out_only = alloc(kSMChannelTypeOutput);
  tSMConference conf = sm_conference_create();
  std::thread([&] {
    SM_CONFERENCE_ADD_PARTY_PARMS ap{};
    ap.conf = conf;
    ap.channelIn = ap.channelOut = out_only;
    EXPECT_EQ(sm_conference_add_party(&ap), ERR_SM_WRONG_CHANNEL_TYPE);
    EXPECT_EQ(prosody_sw_conf_errno(), ERR_SM_WRONG_CHANNEL_TYPE);
  }).join();
  EXPECT_EQ(smConfErrno, ERR_SM_WRONG_CHANNEL_TYPE) << "seen from another thread";
  ASSERT_NE(smConfError, nullptr);
  EXPECT_NE(std::strstr(smConfError, "ERR_SM_WRONG_CHANNEL_TYPE"), nullptr);
  EXPECT_EQ(prosody_sw_conf_errno(), 0) << "this thread has not failed";
  EXPECT_STREQ(prosody_sw_conf_error(), "");
  sm_conference_delete(conf);
}

// ---------------------------------------------------------------------------
// Input tone sets and call-progress tones (sm_add_input_tone_set and family)

// A tone cadence: on_off[i] ms of freq_hz (even i) or silence (odd i), cycles times.
std::vector<std::int16_t> cadence(double freq_hz, std::initializer_list<int> on_off, int cycles) {
  std::vector<float> x;
  for (int c = 0; c < cycles; ++c) {
    bool on = true;
    for (int ms : on_off) {
      const std::size_t n = std::size_t(ms) * 8;
      const auto part = on ? testsig::sine(freq_hz, -15.0, n, 8000.0) : std::vector<float>(n, 0.0f);
      x.insert(x.end(), part.begin(), part.end());
      on = !on;
    }
  }
  x.resize(x.size() + 8000, 0.0f);  // a second of silence closes the last burst
  return testsig::to_int16(x);
}

class InputToneSets : public Porting {
 protected:
  // A replay being fed as the module runs (it buffers less than these signals).
  struct Feed {
    tSMChannelId channel;
    const std::vector<std::int16_t>* pcm;
    std::size_t at = 0;  // octets handed over
  };
  std::vector<Feed> feeds_;

  // An input channel hearing pcm (replayed on an output feeding it).
  tSMChannelId hearing(const std::vector<std::int16_t>& pcm) {
    const tSMChannelId in = alloc(kSMChannelTypeInput), out = alloc(kSMChannelTypeOutput);
    SM_REPLAY_PARMS rp{};
    rp.channel = out;
    rp.type = kSMDataFormat16bit;
    EXPECT_EQ(sm_replay_start(&rp), 0);
    feeds_.push_back({out, &pcm});
    connect(out, in);
    return in;
  }
  // A listener hearing pcm, listening with active_set and cptone recognition.
  tSMChannelId listener(const std::vector<std::int16_t>& pcm, int active_set) {
    const tSMChannelId in = hearing(pcm);
    SM_LISTEN_FOR_PARMS lf{};
    lf.channel = in;
    lf.tone_detection_mode = kSMToneEndDetectionNoMinDuration;
    lf.active_tone_set_id = active_set;
    lf.map_tones_to_digits = kSMNoDigitMapping;
    lf.enable_cptone_recognition = 1;
    EXPECT_EQ(sm_listen_for(&lf), 0);
    return in;
  }
  // Frames to step for pcm to be heard out (half a second after it).
  static unsigned frames_of(const std::vector<std::int16_t>& pcm) { return unsigned(pcm.size() / 80 + 50); }
  // Steps frames frames, topping up every replay before each.
  void run(unsigned frames) {
    for (unsigned f = 0; f < frames; ++f) {
      for (Feed& feed : feeds_) {
        const std::size_t total = feed.pcm->size() * 2;
        while (feed.at < total) {
          SM_TS_DATA_PARMS d{};
          d.channel = feed.channel;
          d.data = reinterpret_cast<char*>(const_cast<std::int16_t*>(feed.pcm->data())) + feed.at;
          d.length = static_cast<tSM_INT>(std::min<std::size_t>(kSMMaxReplayDataBufferSize, total - feed.at));
          const bool last = feed.at + std::size_t(d.length) == total;
          const int r = last ? sm_put_last_replay_data(&d) : sm_put_replay_data(&d);
          if (r == ERR_SM_NO_CAPACITY) break;
          ASSERT_EQ(r, 0);
          feed.at += std::size_t(d.length);
        }
      }
      step(1);
    }
  }
  std::vector<SM_RECOGNISED_PARMS> recognised(tSMChannelId ch) {
    std::vector<SM_RECOGNISED_PARMS> all;
    for (;;) {
      SM_RECOGNISED_PARMS r{};
      r.channel = ch;
      EXPECT_EQ(sm_get_recognised(&r), 0);
      if (r.type == kSMRecognisedNothing) return all;
      all.push_back(r);
    }
  }
  int add_frequency(double lower, double upper) {
    SM_INPUT_FREQ_COEFFS_PARMS f{};
    f.module = module;
    f.lower_limit = lower;
    f.upper_limit = upper;
    EXPECT_EQ(sm_add_input_freq_coeffs(&f), 0);
    return f.id;
  }
  // A set of single frequencies: coefficient ids first .. first + count - 1.
  int add_single_set(int first, int count) {
    SM_INPUT_TONE_SET_PARMS ts{};
    ts.module = module;
    ts.band1_first_freq_coeffs_id = first;
    ts.band1_freq_count = count;
    ts.req_third_peak = 0.1;
    ts.req_signal_to_noise_ratio = 0.5;
    ts.req_minimum_power = -36.0;
    EXPECT_EQ(sm_add_input_tone_set(&ts), 0);
    return ts.id;
  }
  // states in time order {freq_id, min, max}; handed over newest first.
  int add_cptone(int id, std::initializer_list<std::array<int, 3>> states) {
    SM_INPUT_CPTONE_PARMS cp{};
    cp.module = module;
    cp.id = id;
    cp.state_count = static_cast<tSM_INT>(states.size());
    int i = cp.state_count;
    for (const auto& st : states) {
      --i;
      cp.states[i].freq_id = st[0];
      cp.states[i].minimum_cadence = st[1];
      cp.states[i].maximum_cadence = st[2];
    }
    return sm_add_input_cptone(&cp);
  }
  int reset_cptones(int base_set) {
    SM_RESET_INPUT_CPTONES_PARMS r{};
    r.module = module;
    r.tone_set_id = base_set;
    return sm_reset_input_cptones(&r);
  }
};

// A tone of a user set (2400 Hz, in no band of set 1) with a cadence of
// its own (150 on, 150 off, 150 on, 450 off): reported as the tones of the
// set and as the application's call-progress id; the built-in set does not
// know it, and another cadence of the same tone is not it.
TEST_F(InputToneSets, UserToneSetAndCadenceAreRecognised) {
  const int f = add_frequency(2380.0, 2420.0);
  EXPECT_EQ(f, 15) << "after the pre-loaded ids 0..14";
  const int set = add_single_set(f, 1);
  EXPECT_EQ(set, 2) << "after the pre-loaded sets 0 and 1";
  ASSERT_EQ(reset_cptones(set), 0);
  // Newest first, as Prosody takes them: tone, silence, tone.
  ASSERT_EQ(add_cptone(42, {{1, 120, 180}, {0, 120, 180}, {1, 120, 180}}), 0);

  const auto ours = cadence(2400.0, {150, 150, 150, 450}, 3);
  const auto other = cadence(2400.0, {300, 300}, 4);
  const tSMChannelId a = listener(ours, set), b = listener(other, set), c = listener(ours, 1);
  run(static_cast<unsigned>(ours.size() / 80 + 100));
  int cptones_a = 0, tones_a = 0;
  for (const auto& r : recognised(a)) {
    if (r.type == kSMRecognisedCPTone) {
      EXPECT_EQ(r.param0, 42);
      ++cptones_a;
    } else if (r.type == kSMRecognisedTone) {
      EXPECT_EQ(r.param0, 0);
      EXPECT_EQ(r.param1, 0) << "single frequencies: band-1 index in param1";
      ++tones_a;
    }
  }
  EXPECT_EQ(tones_a, 6) << "every burst is a tone of the set";
  EXPECT_GE(cptones_a, 1);
  EXPECT_LE(cptones_a, 3) << "at most once per cycle";
  for (const auto& r : recognised(b)) EXPECT_NE(r.type, kSMRecognisedCPTone) << "300/300 is not the cadence";
  for (const auto& r : recognised(c))
    EXPECT_NE(r.type, kSMRecognisedCPTone) << "set 1 analyses its own bands: 2400 Hz is none of them";
}

// A cadence of set 1's tones (freq_id 1: call progress 1, 350..480 Hz) that
// the default repertoire lacks, after sm_reset_input_cptones(1): the
// default tones are gone, the new one is found.
TEST_F(InputToneSets, UserCadenceOfToneSetOne) {
  ASSERT_EQ(reset_cptones(1), 0);
  ASSERT_EQ(add_cptone(77, {{1, 200, 300}, {0, 200, 300}, {1, 200, 300}, {0, 200, 300}, {1, 600, 800}}), 0);
  const auto ours = cadence(425.0, {250, 250, 250, 250, 700, 1000}, 2);
  const auto uk_busy = cadence(400.0, {375, 375}, 6);
  const tSMChannelId a = listener(ours, 1), b = listener(uk_busy, 1);
  run(static_cast<unsigned>(ours.size() / 80 + 100));
  int found = 0;
  for (const auto& r : recognised(a))
    if (r.type == kSMRecognisedCPTone) {
      EXPECT_EQ(r.param0, 77);
      ++found;
    }
  EXPECT_GE(found, 1);
  EXPECT_LE(found, 2);
  for (const auto& r : recognised(b)) EXPECT_NE(r.type, kSMRecognisedCPTone) << "UK busy left the repertoire";
}

TEST_F(InputToneSets, ArgumentsAreChecked) {
  SM_INPUT_FREQ_COEFFS_PARMS f{};
  f.module = module;
  f.lower_limit = 500.0;
  f.upper_limit = 400.0;
  EXPECT_EQ(sm_add_input_freq_coeffs(&f), ERR_SM_BAD_PARAMETER) << "upper below lower";
  f.module = kSMNullModuleId;
  EXPECT_EQ(sm_add_input_freq_coeffs(&f), ERR_SM_NO_SUCH_MODULE);
  SM_INPUT_TONE_SET_PARMS ts{};
  ts.module = module;
  ts.band1_first_freq_coeffs_id = 14;
  ts.band1_freq_count = 2;  // id 15 does not exist yet
  ts.req_signal_to_noise_ratio = 0.5;
  ts.req_minimum_power = -36.0;
  EXPECT_EQ(sm_add_input_tone_set(&ts), ERR_SM_BAD_PARAMETER);
  ts.band1_freq_count = 1;
  ts.req_signal_to_noise_ratio = 0.0;
  EXPECT_EQ(sm_add_input_tone_set(&ts), ERR_SM_BAD_PARAMETER) << "SNR share must be above 0";
  ts.req_signal_to_noise_ratio = 0.5;
  ASSERT_EQ(sm_add_input_tone_set(&ts), 0);

  SM_ADJUST_TONE_SET_PARMS adj{};
  adj.module = module;
  adj.tone_set_id = ts.id;
  adj.parameter_id = kAdjustToneSetFPParamIdMinPower;
  adj.parameter_value.fp_value = -30.0;
  EXPECT_EQ(sm_adjust_input_tone_set(&adj), 0);
  adj.parameter_id = kAdjustToneSetIntParamIdMinOnTime;
  adj.parameter_value.int_value = 80;
  EXPECT_EQ(sm_adjust_input_tone_set(&adj), 0);
  adj.parameter_id = kAdjustToneSetFPParamIdStartFreq;
  adj.parameter_value.fp_value = 100.0;
  EXPECT_EQ(sm_adjust_input_tone_set(&adj), ERR_SM_BAD_PARAMETER) << "below the detector's 250 Hz";
  adj.parameter_id = static_cast<enum kAdjustToneSet>(8);
  EXPECT_EQ(sm_adjust_input_tone_set(&adj), ERR_SM_BAD_PARAMETER);
  adj.tone_set_id = 0;
  adj.parameter_id = kAdjustToneSetFPParamIdTwist;
  adj.parameter_value.fp_value = 6.0;
  EXPECT_EQ(sm_adjust_input_tone_set(&adj), ERR_SM_NOT_IMPLEMENTED) << "the pre-loaded sets are fixed here";
  adj.tone_set_id = 9;
  EXPECT_EQ(sm_adjust_input_tone_set(&adj), ERR_SM_BAD_PARAMETER) << "no such set";

  EXPECT_EQ(add_cptone(0, {{1, 100, 200}}), ERR_SM_BAD_PARAMETER) << "ids are 1..255";
  EXPECT_EQ(add_cptone(256, {{1, 100, 200}}), ERR_SM_BAD_PARAMETER);
  EXPECT_EQ(add_cptone(5, {{7, 100, 200}}), ERR_SM_BAD_PARAMETER) << "set 1 has no tone 7";
  EXPECT_EQ(add_cptone(5, {{1, 300, 200}}), ERR_SM_BAD_PARAMETER) << "maximum below minimum";
  SM_INPUT_CPTONE_PARMS none{};
  none.module = module;
  none.id = 5;
  EXPECT_EQ(sm_add_input_cptone(&none), ERR_SM_BAD_PARAMETER) << "no states";
  EXPECT_EQ(reset_cptones(0), ERR_SM_BAD_PARAMETER) << "DTMF has no cadences";
  EXPECT_EQ(reset_cptones(ts.id), 0);
  EXPECT_EQ(add_cptone(5, {{2, 100, 200}}), ERR_SM_BAD_PARAMETER) << "the base set has one tone";
  EXPECT_EQ(add_cptone(5, {{1, 100, 200}}), 0);

  const tSMChannelId in = alloc(kSMChannelTypeInput);
  SM_LISTEN_FOR_PARMS lf{};
  lf.channel = in;
  lf.tone_detection_mode = kSMToneDetectionNoMinDuration;
  lf.active_tone_set_id = ts.id + 1;
  EXPECT_EQ(sm_listen_for(&lf), ERR_SM_BAD_PARAMETER) << "no such set";
  lf.active_tone_set_id = ts.id;
  EXPECT_EQ(sm_listen_for(&lf), 0);
}

// ---------------------------------------------------------------------------
// sm_ans_listen_for and sm_beep_listen_for

class AnswerListeners : public InputToneSets {
 protected:
  static int listen_ans(tSMChannelId ch, int enable) {
    SM_ANS_LISTEN_FOR_PARMS p{};
    p.channel = ch;
    p.enable = enable;
    return sm_ans_listen_for(&p);
  }
  static int listen_beep(tSMChannelId ch, int enable) {
    SM_BEEP_LISTEN_FOR_PARMS p{};
    p.channel = ch;
    p.enable = enable;
    return sm_beep_listen_for(&p);
  }
};

std::vector<std::int16_t> answer_pcm(bool reversals, double am_depth) {
  answertest::AnswerSignal s;
  s.level_dbm0 = -20.0;
  s.reversals = reversals;
  s.am_depth = am_depth;
  return testsig::to_int16(answertest::answer_tone(s, 1.5, 0.3));
}

// Each kind reaches the recognition queue as kSMRecognisedANS with its
// kSMANSType in param0 and the delay from its onset in param1; a channel
// that does not listen hears nothing of it.
TEST_F(AnswerListeners, EachAnswerToneKindIsRecognised) {
  const std::vector<std::int16_t> pcm[] = {answer_pcm(false, 0.0), answer_pcm(true, 0.0), answer_pcm(false, 0.2),
                                           answer_pcm(true, 0.2)};
  const int kinds[] = {kSMANSTypeANS, kSMANSTypeANSPhaseRev, kSMANSTypeANSam, kSMANSTypeANSamPhaseRev};
  tSMChannelId ch[4];
  for (int k = 0; k < 4; ++k) {
    ch[k] = hearing(pcm[k]);
    ASSERT_EQ(listen_ans(ch[k], 1), 0);
  }
  const tSMChannelId deaf = hearing(pcm[0]);
  run(frames_of(pcm[0]));
  for (int k = 0; k < 4; ++k) {
    const auto all = recognised(ch[k]);
    ASSERT_EQ(all.size(), 1u) << "kind " << kinds[k];
    EXPECT_EQ(all[0].type, kSMRecognisedANS);
    EXPECT_EQ(all[0].param0, kinds[k]);
    EXPECT_GE(all[0].param1, 500) << "ms from the onset to the report";
    EXPECT_LE(all[0].param1, 540);
  }
  EXPECT_TRUE(recognised(deaf).empty());
}

// A beep is reported at its end with its frequency and duration.
TEST_F(AnswerListeners, BeepIsRecognisedAtItsEnd) {
  std::vector<float> x(8000 + 2400 + 8000, 0.0f);
  testsig::add_sine(x, 1000.0, -18.0, 8000.0, 0.0, 8000, 2400);
  const auto pcm = testsig::to_int16(x);
  const tSMChannelId ch = hearing(pcm);
  ASSERT_EQ(listen_beep(ch, 1), 0);
  run(frames_of(pcm));
  const auto all = recognised(ch);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].type, kSMRecognisedBeep);
  EXPECT_NEAR(all[0].param0, 1000, 3) << "Hz";
  EXPECT_NEAR(all[0].param1, 300, 3) << "ms";
}

// sm_listen_for, sm_ans_listen_for and sm_beep_listen_for each set their
// own detector: switching one leaves the others as they were. (The answer
// tone, a steady tone followed by quiet, is not a beep as well.)
TEST_F(AnswerListeners, EachCallSetsOnlyItsOwnDetector) {
  std::vector<float> x(4000 + 2400 + 4000, 0.0f);
  testsig::add_sine(x, 1000.0, -18.0, 8000.0, 0.0, 4000, 2400);
  const std::vector<float> ans = answertest::answer_tone(answertest::AnswerSignal{}, 1.5, 0.0);
  x.insert(x.end(), ans.begin(), ans.end());
  x.resize(x.size() + 4000, 0.0f);
  const auto pcm = testsig::to_int16(x);

  const tSMChannelId both = hearing(pcm), ans_only = hearing(pcm);
  ASSERT_EQ(listen_ans(both, 1), 0);
  ASSERT_EQ(listen_beep(both, 1), 0);
  SM_LISTEN_FOR_PARMS lf{};
  lf.channel = both;
  lf.tone_detection_mode = kSMToneDetectionNone;
  ASSERT_EQ(sm_listen_for(&lf), 0) << "tones off: answer tones and beeps stay on";
  ASSERT_EQ(listen_ans(ans_only, 1), 0);
  ASSERT_EQ(listen_beep(ans_only, 1), 0);
  ASSERT_EQ(listen_beep(ans_only, 0), 0);
  run(frames_of(pcm));
  const auto heard = recognised(both);
  ASSERT_EQ(heard.size(), 2u);
  EXPECT_EQ(heard[0].type, kSMRecognisedBeep);
  EXPECT_EQ(heard[1].type, kSMRecognisedANS);
  EXPECT_EQ(heard[1].param0, kSMANSTypeANS);
  const auto only = recognised(ans_only);
  ASSERT_EQ(only.size(), 1u);
  EXPECT_EQ(only[0].type, kSMRecognisedANS);
}

TEST_F(AnswerListeners, ArgumentsAreChecked) {
  EXPECT_EQ(sm_ans_listen_for(nullptr), ERR_SM_BAD_PARAMETER);
  EXPECT_EQ(sm_beep_listen_for(nullptr), ERR_SM_BAD_PARAMETER);
  const tSMChannelId out = alloc(kSMChannelTypeOutput);
  EXPECT_NE(listen_ans(out, 1), 0) << "an output-only channel has no input to listen to";
  EXPECT_NE(listen_beep(out, 1), 0);
  EXPECT_NE(listen_ans(tSMChannelId{}, 1), 0) << "no channel";
}

// ---------------------------------------------------------------------------
// sm_catsig_listen_for, sm_adjust_catsig_module_params, sm_onhook_listen_for

class CallState : public InputToneSets {
 protected:
  static int catsig(tSMChannelId ch, int alg, int abort_job = 0) {
    SM_CATSIG_LISTEN_FOR_PARMS p{};
    p.channel = ch;
    std::memcpy(&p.catsig_alg_id, &alg, sizeof alg);  // any int, as a C caller may pass
    p.abort_catsig_alg = abort_job;
    return sm_catsig_listen_for(&p);
  }
  int adjust(int param, double value) {
    SM_CATSIG_MODULE_PARMS p{};
    p.module = module;
    p.catsig_alg_id = kBESPCatSigAlgLiveSpeaker;
    std::memcpy(&p.param_id, &param, sizeof param);
    p.value = value;
    return sm_adjust_catsig_module_params(&p);
  }
  // Steps up to frames frames; the frame (from 0) after which ch first had
  // something recognised, or -1, with what.
  int frame_of_first(tSMChannelId ch, unsigned frames, SM_RECOGNISED_PARMS& got) {
    for (unsigned f = 0; f < frames; ++f) {
      run(1);
      got = SM_RECOGNISED_PARMS{};
      got.channel = ch;
      EXPECT_EQ(sm_get_recognised(&got), 0);
      if (got.type != kSMRecognisedNothing) return int(f);
    }
    return -1;
  }
};

// Speech stands in as noise bursts (at, length in s) at -20 dBm0 over a
// -65 dBm0 line.
std::vector<std::int16_t> speech_like(const std::vector<std::pair<double, double>>& bursts_s, double total_s) {
  std::vector<float> x = testsig::white_noise(-65.0, std::size_t(total_s * 8000), 21);
  std::uint32_t seed = 22;
  for (const auto& [at, length] : bursts_s) {
    const std::vector<float> b = testsig::white_noise(-20.0, std::size_t(length * 8000), seed++);
    for (std::size_t i = 0; i < b.size(); ++i) x[std::size_t(at * 8000) + i] += b[i];
  }
  return testsig::to_int16(x);
}

std::vector<std::int16_t> greeting_like() {  // 200 ms syllables every 300 ms for 5 s
  std::vector<std::pair<double, double>> syllables;
  for (double at = 0.5; at < 5.5; at += 0.3) syllables.emplace_back(at, 0.2);
  return speech_like(syllables, 6.0);
}

// "Hello?" (600 ms) then silence is a live speaker, decided 800 ms after
// the speech ends; a 5 s greeting is a machine, decided once 1.5 s of
// speech is heard. One kSMRecognisedCatSig each, param1 as Aculab's.
TEST_F(CallState, CatSigTellsLiveSpeakersFromMachines) {
  const auto hello = speech_like({{0.5, 0.6}}, 3.0);
  const auto greeting = greeting_like();
  const tSMChannelId live = hearing(hello), machine = hearing(greeting);
  ASSERT_EQ(catsig(live, kBESPCatSigAlgLiveSpeaker), 0);
  ASSERT_EQ(catsig(machine, kBESPCatSigAlgLiveSpeaker), 0);
  SM_RECOGNISED_PARMS r{};
  const int live_frame = frame_of_first(live, 300, r);
  EXPECT_EQ(r.type, kSMRecognisedCatSig);
  EXPECT_EQ(r.param1, 1) << "live";
  EXPECT_EQ(r.param0, 0) << "decided by speech";
  // 0.5 s + 0.6 s + 0.8 s = frame 190 of 10 ms, give or take the path's frame.
  EXPECT_GE(live_frame, 189);
  EXPECT_LE(live_frame, 192);
  run(100);
  EXPECT_TRUE(recognised(live).empty()) << "one categorisation per start";
  const auto m = recognised(machine);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].type, kSMRecognisedCatSig);
  EXPECT_EQ(m[0].param1, 0) << "machine";
}

// The tone variant takes a beep for a machine (param0 1); the plain one
// hears 300 ms of sound and then silence, a live speaker.
TEST_F(CallState, CatSigToneVariantHearsBeeps) {
  std::vector<float> x = testsig::white_noise(-65.0, 3 * 8000, 41);
  testsig::add_sine(x, 1000.0, -15.0, 8000.0, 0.0, 4000, 2400);
  const auto pcm = testsig::to_int16(x);
  const tSMChannelId tone = hearing(pcm), plain = hearing(pcm);
  ASSERT_EQ(catsig(tone, kBESPCatSigAlgLiveSpeakerTone), 0);
  ASSERT_EQ(catsig(plain, kBESPCatSigAlgLiveSpeaker), 0);
  run(frames_of(pcm));
  const auto t = recognised(tone), p = recognised(plain);
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].param0, 1) << "a beep";
  EXPECT_EQ(t[0].param1, 0);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].param0, 0);
  EXPECT_EQ(p[0].param1, 1);
}

// An aborted categorisation reports nothing; silence is never categorised.
TEST_F(CallState, CatSigAbortAndSilence) {
  const auto hello = speech_like({{0.5, 0.6}}, 3.0);
  const auto quiet = speech_like({}, 3.0);
  const tSMChannelId aborted = hearing(hello), silent = hearing(quiet);
  ASSERT_EQ(catsig(aborted, kBESPCatSigAlgLiveSpeaker), 0);
  ASSERT_EQ(catsig(silent, kBESPCatSigAlgLiveSpeaker), 0);
  ASSERT_EQ(catsig(aborted, 0, 1), 0);
  EXPECT_EQ(catsig(aborted, 0, 1), ERR_SM_WRONG_CHANNEL_STATE) << "nothing left to abort";
  run(300);
  EXPECT_TRUE(recognised(aborted).empty());
  EXPECT_TRUE(recognised(silent).empty());
}

// After a decision an abort is accepted, and a new start categorises
// what follows afresh: "Hello?", then (a second start) a greeting.
TEST_F(CallState, CatSigStartsAfreshAfterADecision) {
  std::vector<std::pair<double, double>> bursts{{0.5, 0.6}};
  for (double at = 3.0; at < 8.0; at += 0.3) bursts.emplace_back(at, 0.2);
  const auto pcm = speech_like(bursts, 9.0);
  const tSMChannelId ch = hearing(pcm);
  ASSERT_EQ(catsig(ch, kBESPCatSigAlgLiveSpeaker), 0);
  SM_RECOGNISED_PARMS r{};
  const int decided = frame_of_first(ch, 250, r);
  ASSERT_GE(decided, 0);
  EXPECT_EQ(r.param1, 1);
  EXPECT_EQ(catsig(ch, 0, 1), 0) << "aborting a decided categorisation";
  ASSERT_EQ(catsig(ch, kBESPCatSigAlgLiveSpeaker), 0);
  run(frames_of(pcm) - unsigned(decided) - 1);
  const auto again = recognised(ch);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].type, kSMRecognisedCatSig);
  EXPECT_EQ(again[0].param1, 0) << "the greeting";
}

// sm_adjust_catsig_module_params: with the longest live speech at 400 ms,
// "Hello?" (600 ms) is a machine; 0 restores the default for later starts.
TEST_F(CallState, CatSigParametersApplyToLaterStarts) {
  const auto hello = speech_like({{0.5, 0.6}}, 3.0);
  ASSERT_EQ(adjust(kBESPCatSigParamMaxLiveSpeech, 400.0), 0);
  const tSMChannelId strict = hearing(hello);
  ASSERT_EQ(catsig(strict, kBESPCatSigAlgLiveSpeaker), 0);
  ASSERT_EQ(adjust(kBESPCatSigParamMaxLiveSpeech, 0.0), 0);
  const tSMChannelId usual = hearing(hello);
  ASSERT_EQ(catsig(usual, kBESPCatSigAlgLiveSpeaker), 0);
  run(frames_of(hello));
  const auto s = recognised(strict), u = recognised(usual);
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].param1, 0);
  ASSERT_EQ(u.size(), 1u);
  EXPECT_EQ(u[0].param1, 1);
}

TEST_F(CallState, CatSigArgumentsAreChecked) {
  const tSMChannelId in = alloc(kSMChannelTypeInput), out = alloc(kSMChannelTypeOutput);
  EXPECT_EQ(sm_catsig_listen_for(nullptr), ERR_SM_BAD_PARAMETER);
  EXPECT_EQ(catsig(tSMChannelId{}, kBESPCatSigAlgLiveSpeaker), ERR_SM_NO_SUCH_CHANNEL);
  EXPECT_EQ(catsig(out, kBESPCatSigAlgLiveSpeaker), ERR_SM_WRONG_CHANNEL_TYPE) << "no input to categorise";
  EXPECT_EQ(catsig(in, 0), ERR_SM_BAD_PARAMETER);
  EXPECT_EQ(catsig(in, 9), ERR_SM_BAD_PARAMETER);
  EXPECT_EQ(catsig(in, kBESPCatSigAlgLiveSpeakerToneReport), ERR_SM_NOT_IMPLEMENTED);
  EXPECT_EQ(catsig(in, kBESPCatSigAlgLiveSpeaker, 2), ERR_SM_BAD_PARAMETER);
  EXPECT_EQ(catsig(in, 0, 1), ERR_SM_WRONG_CHANNEL_STATE) << "abort without a job";

  EXPECT_EQ(sm_adjust_catsig_module_params(nullptr), ERR_SM_BAD_PARAMETER);
  SM_CATSIG_MODULE_PARMS p{};
  p.catsig_alg_id = kBESPCatSigAlgLiveSpeaker;
  p.param_id = kBESPCatSigParamLiveSilence;
  p.value = 500.0;
  EXPECT_EQ(sm_adjust_catsig_module_params(&p), ERR_SM_NO_SUCH_MODULE);
  EXPECT_EQ(adjust(99, 500.0), ERR_SM_BAD_PARAMETER);
  EXPECT_EQ(adjust(kBESPCatSigParamLiveSilence, 50.0), ERR_SM_BAD_PARAMETER) << "under 100 ms";
  EXPECT_EQ(adjust(kBESPCatSigParamMinSpeechLevel, 6.0), ERR_SM_BAD_PARAMETER) << "over 0 dBm0";
  EXPECT_EQ(adjust(kBESPCatSigParamLiveSilence, 500.0), 0);
}

// A hang-up click: 1 s of quiet line, a 600 Hz ring from -10 dBm0 decaying
// with a 4 ms time constant, a quieter line after.
std::vector<std::int16_t> hang_up_click() {
  std::vector<float> x = testsig::white_noise(-60.0, 2 * 8000, 51);
  const double a = testsig::sine_peak(-10.0);
  for (std::size_t i = 0; i < 8000; ++i) {
    const double t = double(i) / 8000.0;
    x[8000 + i] += float(a * std::exp(-t / 0.004) * std::sin(2.0 * M_PI * 600.0 * t));
  }
  return testsig::to_int16(x);
}

// With every field 0 (the defaults) the click is kSMRecognisedOnHook, with
// its time over the -42 dBm0 floor (32 dB of decay at 8.7 dB per 4 ms:
// 15 ms) and first-millisecond power; disabled, nothing.
TEST_F(CallState, OnHookClickIsRecognised) {
  const auto pcm = hang_up_click();
  const tSMChannelId on = hearing(pcm), off = hearing(pcm);
  SM_ONHOOK_LISTEN_FOR_PARMS p{};
  p.channel = on;
  p.enable = 1;
  ASSERT_EQ(sm_onhook_listen_for(&p), 0);
  p.channel = off;
  ASSERT_EQ(sm_onhook_listen_for(&p), 0);
  p.enable = 0;
  ASSERT_EQ(sm_onhook_listen_for(&p), 0);
  run(frames_of(pcm));
  const auto all = recognised(on);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].type, kSMRecognisedOnHook);
  EXPECT_NEAR(all[0].param0, 15, 2) << "ms over the floor";
  EXPECT_NEAR(all[0].param1, -11, 1) << "dBm0";
  EXPECT_TRUE(recognised(off).empty());
}

TEST_F(CallState, OnHookArgumentsAreChecked) {
  const tSMChannelId in = alloc(kSMChannelTypeInput), out = alloc(kSMChannelTypeOutput);
  EXPECT_EQ(sm_onhook_listen_for(nullptr), ERR_SM_BAD_PARAMETER);
  SM_ONHOOK_LISTEN_FOR_PARMS p{};
  p.enable = 1;
  EXPECT_EQ(sm_onhook_listen_for(&p), ERR_SM_NO_SUCH_CHANNEL);
  p.channel = out;
  EXPECT_EQ(sm_onhook_listen_for(&p), ERR_SM_WRONG_CHANNEL_TYPE);
  p.channel = in;
  p.pulse_min_power = -50.0;  // under the quiet line's -48
  EXPECT_EQ(sm_onhook_listen_for(&p), ERR_SM_BAD_PARAMETER);
  p.pulse_min_power = 0.0;
  p.max_duration = -5;
  EXPECT_EQ(sm_onhook_listen_for(&p), ERR_SM_BAD_PARAMETER);
  p.max_duration = 0;
  p.latitude = 3.0;  // a latitude is at most 0 dB
  EXPECT_EQ(sm_onhook_listen_for(&p), ERR_SM_BAD_PARAMETER);
  p.latitude = 0.0;
  EXPECT_EQ(sm_onhook_listen_for(&p), 0);
  p.enable = 0;
  EXPECT_EQ(sm_onhook_listen_for(&p), 0);
}

}  // namespace
}  // namespace prosody::test
