// prosodyconfmix announcements: the play-digits and play-tone action signals
// play to one party or to every party, mixed under the conference, and a
// prosody-announcement message says when each ends.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "gst_test_util.hpp"

namespace {

using gsttest::Capture;
using gsttest::PipelineRun;
using gsttest::run_pipeline;
using gsttest::tone_db;

constexpr double kRate = 8000.0;
constexpr std::size_t kBlock = 80;  // 10 ms

// Two parties talking (party 0 at 430 Hz, party 1 at 1130 Hz, -15 dBm0) and
// listening, 3 s.
std::string two_parties() {
  std::string d = "prosodyconfmix name=m rate=8000 ";
  const double freqs[] = {430.0, 1130.0};
  for (int i = 0; i < 2; ++i) {
    char s[512];
    std::snprintf(s, sizeof s,
                  "audiotestsrc freq=%g volume=0.177 samplesperbuffer=160 num-buffers=150 ! "
                  "audio/x-raw,format=F32LE,rate=8000,channels=1 ! m.sink_%d "
                  "m.src_%d ! queue ! appsink name=out%d sync=false caps=audio/x-raw,format=F32LE ",
                  freqs[i], i, i, i);
    d += s;
  }
  return d;
}

// Prerolls the pipeline (the mixer then has its module), then emits an
// announcement signal on the mixer.
template <class Emit>
std::function<void(GstElement*)> announce(Emit emit) {
  return [emit](GstElement* pipeline) {
    gst_element_set_state(pipeline, GST_STATE_PAUSED);
    gst_element_get_state(pipeline, nullptr, nullptr, 10 * GST_SECOND);
    GstElement* m = gst_bin_get_by_name(GST_BIN(pipeline), "m");
    ASSERT_NE(m, nullptr);
    emit(m);
    gst_object_unref(m);
  };
}

// [start, end) sample range where the component at freq is above -30 dBm0,
// in 10 ms blocks; {0, 0} if never.
std::pair<std::size_t, std::size_t> span_of(const std::vector<float>& x, double freq) {
  std::size_t start = 0, end = 0;
  bool on = false;
  for (std::size_t at = 0; at + kBlock <= x.size(); at += kBlock) {
    const bool loud = tone_db(x, freq, kRate, at, kBlock) > -30.0;
    if (loud && !on && end == 0) start = at;
    if (!loud && on) end = at;
    on = loud;
  }
  if (on) end = x.size();
  return {start, end};
}

int announcements(const PipelineRun& r, int party, const char* kind) {
  int n = 0;
  for (GstStructure* s : r.element_messages) {
    if (!gst_structure_has_name(s, "prosody-announcement")) continue;
    int p = -2;
    gst_structure_get_int(s, "party", &p);
    if (p == party && std::string(gst_structure_get_string(s, "kind")) == kind) ++n;
  }
  return n;
}

const Capture& out(const PipelineRun& r, int pad) { return r.sinks.at("out" + std::to_string(pad)); }

// Digit '1' (697 + 1209 Hz), 400 ms, to party 0: party 0 hears it at
// Prosody's levels (-12 / -10 dBm0) with party 1 still at its level under
// it; party 1 does not hear it.
TEST(ConfMixAnnounce, DigitsToOnePartyUnderTheConference) {
  gboolean started = FALSE;
  PipelineRun r = run_pipeline(two_parties(), 60.0, announce([&](GstElement* m) {
                                 g_signal_emit_by_name(m, "play-digits", 0, "1", 400u, 100u, &started);
                               }));
  ASSERT_TRUE(r.eos) << r.error;
  ASSERT_TRUE(started);
  const auto& a = out(r, 0).samples;
  const auto& b = out(r, 1).samples;
  const auto [start, end] = span_of(a, 697.0);
  ASSERT_GT(end, start) << "party 0 hears the digit";
  EXPECT_NEAR(double(end - start), 400.0 * 8, 2.0 * kBlock) << "its length, to the 10 ms block";
  const std::size_t mid = start + 800, len = 1600;
  EXPECT_NEAR(tone_db(a, 697.0, kRate, mid, len), -12.0, 0.2);
  EXPECT_NEAR(tone_db(a, 1209.0, kRate, mid, len), -10.0, 0.2);
  EXPECT_NEAR(tone_db(a, 1130.0, kRate, mid, len), gsttest::audiotestsrc_dbm0(0.177), 0.2)
      << "the conference goes on under it";
  EXPECT_LT(tone_db(b, 697.0, kRate, mid, len), -60.0) << "party 1 does not hear it";
  EXPECT_NEAR(tone_db(b, 430.0, kRate, mid, len), gsttest::audiotestsrc_dbm0(0.177), 0.2);
  EXPECT_EQ(announcements(r, 0, "digits"), 1) << "one message when it ends";
}

// An 1800 Hz tone at -20 dBm0 to everyone (-1): both parties hear it for its duration.
TEST(ConfMixAnnounce, ToneToEveryParty) {
  gboolean started = FALSE;
  PipelineRun r = run_pipeline(two_parties(), 60.0, announce([&](GstElement* m) {
                                 g_signal_emit_by_name(m, "play-tone", -1, 1800.0, 0.0, -20.0, 300u, &started);
                               }));
  ASSERT_TRUE(r.eos) << r.error;
  ASSERT_TRUE(started);
  for (int p = 0; p < 2; ++p) {
    SCOPED_TRACE(p);
    const auto& x = out(r, p).samples;
    const auto [start, end] = span_of(x, 1800.0);
    ASSERT_GT(end, start);
    EXPECT_NEAR(double(end - start), 300.0 * 8, 2.0 * kBlock);
    EXPECT_NEAR(tone_db(x, 1800.0, kRate, start + 400, 1600), -20.0, 0.2);
  }
  EXPECT_EQ(announcements(r, -1, "tone"), 1);
}

// Refusals: no such party, bad digits, a second announcement to a target
// while one plays, a tone without a duration. Each returns FALSE.
TEST(ConfMixAnnounce, RefusedAnnouncementsReturnFalse) {
  gboolean no_party = TRUE, bad_digits = TRUE, first = FALSE, busy = TRUE, no_duration = TRUE;
  PipelineRun r = run_pipeline(two_parties(), 60.0, announce([&](GstElement* m) {
                                 g_signal_emit_by_name(m, "play-digits", 7, "1", 0u, 0u, &no_party);
                                 g_signal_emit_by_name(m, "play-digits", 0, "1x", 0u, 0u, &bad_digits);
                                 g_signal_emit_by_name(m, "play-digits", 1, "12", 0u, 0u, &first);
                                 g_signal_emit_by_name(m, "play-digits", 1, "3", 0u, 0u, &busy);
                                 g_signal_emit_by_name(m, "play-tone", 0, 1000.0, 0.0, -10.0, 0u, &no_duration);
                               }));
  ASSERT_TRUE(r.eos) << r.error;
  EXPECT_FALSE(no_party);
  EXPECT_FALSE(bad_digits);
  EXPECT_TRUE(first);
  EXPECT_FALSE(busy);
  EXPECT_FALSE(no_duration);
  EXPECT_EQ(announcements(r, 1, "digits"), 1);
}

}  // namespace
