// prosodyconfmix in real non-live pipelines: who hears whom and how loud,
// measured per source with a Goertzel filter at each source's frequency.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <string>

#include "gst_test_util.hpp"

namespace {

using gsttest::Capture;
using gsttest::PipelineRun;
using gsttest::run_pipeline;
using gsttest::tone_db;

constexpr double kRate = 8000.0;
constexpr std::array<double, 4> kFreq = {430.0, 770.0, 1130.0, 1510.0};
constexpr std::array<double, 4> kVolume = {0.25, 0.177, 0.125, 0.0885};  // about -9..-18 dBm0

// audiotestsrc of party i feeding sink_<pad>, F32 at 8 kHz, 20 ms buffers.
std::string talker(int pad, double freq, double volume, int buffers = 125, const char* format = "F32LE",
                   int rate = 8000) {
  char s[512];
  std::snprintf(s, sizeof s,
                "audiotestsrc freq=%g volume=%g samplesperbuffer=%d num-buffers=%d ! "
                "audio/x-raw,format=%s,rate=%d,channels=1 ! m.sink_%d ",
                freq, volume, rate / 50, buffers, format, rate, pad);
  return s;
}

std::string listener(int pad, const char* format = "F32LE") {
  char s[256];
  std::snprintf(s, sizeof s, "m.src_%d ! queue ! appsink name=out%d sync=false caps=audio/x-raw,format=%s ", pad, pad,
                format);
  return s;
}

const Capture& out(const PipelineRun& r, int pad) {
  static const Capture empty;
  auto it = r.sinks.find("out" + std::to_string(pad));
  return it == r.sinks.end() ? empty : it->second;
}

// Each listener hears the talkers in `heard` at their level (+gain_db), and
// every other talker at least 60 dB down.
void expect_hears(const Capture& c, const std::vector<int>& heard, const std::vector<int>& not_heard,
                  double gain_db = 0.0, double tolerance = 0.1) {
  ASSERT_GE(c.samples.size(), 16000u);
  for (int t : heard)
    EXPECT_NEAR(tone_db(c.samples, kFreq[t], kRate, 8000, 8000), gsttest::audiotestsrc_dbm0(kVolume[t]) + gain_db,
                tolerance)
        << "talker " << t;
  for (int t : not_heard)
    EXPECT_LT(tone_db(c.samples, kFreq[t], kRate, 8000, 8000) - gsttest::audiotestsrc_dbm0(kVolume[t]), -60.0)
        << "talker " << t << " leaks";
}

std::string four_parties(const std::string& extra = "") {
  std::string d = "prosodyconfmix name=m rate=8000 " + extra + " ";
  for (int i = 0; i < 4; ++i) d += talker(i, kFreq[i], kVolume[i]) + listener(i);
  return d;
}

TEST(ConfMix, FourPartiesEachHearTheThreeOthers) {
  PipelineRun r = run_pipeline(four_parties() + listener(9));
  ASSERT_TRUE(r.eos) << r.error;
  for (int l = 0; l < 4; ++l) {
    SCOPED_TRACE("listener " + std::to_string(l));
    std::vector<int> heard, self = {l};
    for (int t = 0; t < 4; ++t)
      if (t != l) heard.push_back(t);
    expect_hears(out(r, l), heard, self);
    EXPECT_EQ(out(r, l).samples.size(), 125u * 160u) << "sample-accurate length";
  }
  // src_9 alone: a monitor, hears all four.
  SCOPED_TRACE("monitor");
  expect_hears(out(r, 9), {0, 1, 2, 3}, {});
}

TEST(ConfMix, BackgroundMusicIsHeardByAllAndNotGated) {
  // sink_5 only: speak-only; a steady low tone that speech gating would
  // remove as noise if gate=auto did not mean off for it.
  std::string d = "prosodyconfmix name=m rate=8000 ";
  for (int i = 0; i < 2; ++i) d += talker(i, kFreq[i], kVolume[i]) + listener(i);
  d += talker(5, 300.0, 0.02);
  PipelineRun r = run_pipeline(d);
  ASSERT_TRUE(r.eos) << r.error;
  for (int l = 0; l < 2; ++l)
    EXPECT_NEAR(tone_db(out(r, l).samples, 300.0, kRate, 8000, 8000), gsttest::audiotestsrc_dbm0(0.02), 0.1)
        << "listener " << l;
}

TEST(ConfMix, CoachIsHeardOnlyByTheTraineeAndHearsEveryone) {
  // Party 3 is the coach: heard by 1 only.
  PipelineRun r = run_pipeline(four_parties("sink_3::heard-by=\"1\""));
  ASSERT_TRUE(r.eos) << r.error;
  expect_hears(out(r, 1), {0, 2, 3}, {1});
  expect_hears(out(r, 0), {1, 2}, {0, 3});
  expect_hears(out(r, 2), {0, 1}, {2, 3});
  expect_hears(out(r, 3), {0, 1, 2}, {3});
}

TEST(ConfMix, WhisperToTwoParties) {
  PipelineRun r = run_pipeline(four_parties("sink_0::heard-by=\"2, 3\""));
  ASSERT_TRUE(r.eos) << r.error;
  expect_hears(out(r, 1), {2, 3}, {0, 1});
  expect_hears(out(r, 2), {0, 1, 3}, {2});
}

TEST(ConfMix, BadHeardByIsRefusedWithAWarning) {
  PipelineRun r = run_pipeline(four_parties("sink_0::heard-by=\"1,x\""));
  ASSERT_TRUE(r.eos) << r.error;
  ASSERT_FALSE(r.warnings.empty());
  EXPECT_NE(r.warnings[0].find("sink_0"), std::string::npos) << r.warnings[0];
  EXPECT_NE(r.warnings[0].find("1,x"), std::string::npos) << r.warnings[0];
  expect_hears(out(r, 2), {0, 1, 3}, {2});  // routing unchanged: everyone
}

TEST(ConfMix, MuteAndDeaf) {
  PipelineRun r = run_pipeline(four_parties("sink_1::mute=true src_2::deaf=true"));
  ASSERT_TRUE(r.eos) << r.error;
  expect_hears(out(r, 0), {2, 3}, {0, 1});
  expect_hears(out(r, 3), {0, 2}, {1, 3});
  expect_hears(out(r, 1), {0, 2, 3}, {1});  // a muted party still hears
  EXPECT_LT(testsig::level_dbm0(out(r, 2).samples.data() + 8000, 8000), -80.0) << "deaf output is silent";
}

TEST(ConfMix, PerPadVolumeIsAccurate) {
  PipelineRun r = run_pipeline(four_parties("sink_0::volume=-6.0 sink_2::volume=4.5 src_3::volume=-10.0"));
  ASSERT_TRUE(r.eos) << r.error;
  const Capture& c1 = out(r, 1);
  EXPECT_NEAR(tone_db(c1.samples, kFreq[0], kRate, 8000, 8000), gsttest::audiotestsrc_dbm0(kVolume[0]) - 6.0, 0.1);
  EXPECT_NEAR(tone_db(c1.samples, kFreq[2], kRate, 8000, 8000), gsttest::audiotestsrc_dbm0(kVolume[2]) + 4.5, 0.1);
  EXPECT_NEAR(tone_db(c1.samples, kFreq[3], kRate, 8000, 8000), gsttest::audiotestsrc_dbm0(kVolume[3]), 0.1);
  const Capture& c3 = out(r, 3);
  EXPECT_NEAR(tone_db(c3.samples, kFreq[1], kRate, 8000, 8000), gsttest::audiotestsrc_dbm0(kVolume[1]) - 10.0, 0.1);
  EXPECT_NEAR(tone_db(c3.samples, kFreq[0], kRate, 8000, 8000), gsttest::audiotestsrc_dbm0(kVolume[0]) - 16.0, 0.1);
}

// Each rate and format: the other party's tone arrives at the same level,
// and the output runs at the element's rate in the format asked for.
class Formats : public ::testing::TestWithParam<std::tuple<int, const char*>> {};

TEST_P(Formats, TwoPartiesAtEveryRateAndFormat) {
  const int rate = std::get<0>(GetParam());
  const char* format = std::get<1>(GetParam());
  std::string d = "prosodyconfmix name=m ";
  d += talker(0, 430.0, 0.25, 50, format, rate) + listener(0, format);
  d += talker(1, 770.0, 0.25, 50, format, rate) + listener(1, format);
  PipelineRun r = run_pipeline(d);
  ASSERT_TRUE(r.eos) << r.error;
  for (int l = 0; l < 2; ++l) {
    const Capture& c = out(r, l);
    EXPECT_EQ(c.rate, rate);
    EXPECT_EQ(c.format, format);
    ASSERT_EQ(c.samples.size(), std::size_t(rate)) << "one second";
    const double other = l == 0 ? 770.0 : 430.0, self = l == 0 ? 430.0 : 770.0;
    EXPECT_NEAR(tone_db(c.samples, other, rate, std::size_t(rate / 2), std::size_t(rate / 2)),
                gsttest::audiotestsrc_dbm0(0.25), 0.1);
    EXPECT_LT(tone_db(c.samples, self, rate, std::size_t(rate / 2), std::size_t(rate / 2)), -60.0);
  }
}

INSTANTIATE_TEST_SUITE_P(RatesAndFormats, Formats,
                         ::testing::Combine(::testing::Values(8000, 16000, 32000, 48000),
                                            ::testing::Values("S16LE", "F32LE")));

TEST(ConfMix, FrameDurationTwentyMilliseconds) {
  PipelineRun r = run_pipeline(four_parties("frame-duration=20000000"));
  ASSERT_TRUE(r.eos) << r.error;
  const Capture& c = out(r, 0);
  ASSERT_FALSE(c.sizes.empty());
  EXPECT_EQ(c.sizes[0], 160u);
  expect_hears(c, {1, 2, 3}, {0});
}

}  // namespace

#include <gst/controller/gstdirectcontrolbinding.h>
#include <gst/controller/gstinterpolationcontrolsource.h>

namespace {

// A controller on a pad property (GstChildProxy + GST_PARAM_CONTROLLABLE):
// party 0's volume goes from -20 dB to 0 dB over one second.
TEST(ConfMix, PadVolumeFollowsAController) {
  std::string d = "prosodyconfmix name=m rate=8000 ";
  d += talker(0, kFreq[0], kVolume[0]) + listener(0) + talker(1, kFreq[1], kVolume[1]) + listener(1);
  PipelineRun r = run_pipeline(d, 60.0, [](GstElement* pipeline) {
    GstElement* m = gst_bin_get_by_name(GST_BIN(pipeline), "m");
    GstPad* pad = gst_element_get_static_pad(m, "sink_0");
    GstControlSource* cs = gst_interpolation_control_source_new();
    g_object_set(cs, "mode", GST_INTERPOLATION_MODE_LINEAR, nullptr);
    gst_timed_value_control_source_set(GST_TIMED_VALUE_CONTROL_SOURCE(cs), 0, -20.0);
    gst_timed_value_control_source_set(GST_TIMED_VALUE_CONTROL_SOURCE(cs), GST_SECOND, 0.0);
    gst_object_add_control_binding(GST_OBJECT(pad),
                                   gst_direct_control_binding_new_absolute(GST_OBJECT(pad), "volume", cs));
    gst_object_unref(cs);
    gst_object_unref(pad);
    gst_object_unref(m);
  });
  ASSERT_TRUE(r.eos) << r.error;
  const auto& heard = out(r, 1).samples;
  const double level = gsttest::audiotestsrc_dbm0(kVolume[0]);
  EXPECT_NEAR(tone_db(heard, kFreq[0], kRate, 3600, 800), level - 10.0, 0.3) << "half way: -10 dB";
  EXPECT_NEAR(tone_db(heard, kFreq[0], kRate, 10000, 4000), level, 0.1) << "after the ramp: 0 dB";
}

}  // namespace

namespace {

// READY frees the module; the same element plays again, at another rate
// (set explicitly: with rate=0 the first caps win, and sink_1's
// audioresample could have chosen before sink_0 fixed the rate).
TEST(ConfMix, PlaysAgainAfterReadyAtAnotherRate) {
  GError* err = nullptr;
  gsttest::ElementPtr pipeline(gst_parse_launch(
      "prosodyconfmix name=m audiotestsrc name=a freq=430 volume=0.25 samplesperbuffer=160 num-buffers=50 ! "
      "capsfilter name=f caps=audio/x-raw,rate=8000 ! m.sink_0 "
      "audiotestsrc freq=770 volume=0.25 samplesperbuffer=160 num-buffers=50 ! audioresample ! m.sink_1 "
      "m.src_1 ! queue ! appsink name=out1 sync=false wait-on-eos=false caps=audio/x-raw,format=F32LE",
      &err));
  ASSERT_EQ(err, nullptr);
  gsttest::ElementPtr sink(gst_bin_get_by_name(GST_BIN(pipeline.get()), "out1"));
  gsttest::ElementPtr filter(gst_bin_get_by_name(GST_BIN(pipeline.get()), "f"));
  gsttest::ElementPtr mix(gst_bin_get_by_name(GST_BIN(pipeline.get()), "m"));
  struct StopAtExit {
    GstElement* p;
    ~StopAtExit() { gst_element_set_state(p, GST_STATE_NULL); }
  } stop_at_exit{pipeline.get()};
  gsttest::BusPtr bus(gst_element_get_bus(pipeline.get()));
  for (int rate : {8000, 16000}) {
    SCOPED_TRACE(rate);
    GstCaps* caps = gst_caps_new_simple("audio/x-raw", "rate", G_TYPE_INT, rate, nullptr);
    g_object_set(filter.get(), "caps", caps, nullptr);
    gst_caps_unref(caps);
    g_object_set(mix.get(), "rate", guint(rate), nullptr);
    gst_bus_set_flushing(bus.get(), TRUE);  // no message of the previous run
    gst_bus_set_flushing(bus.get(), FALSE);
    gst_element_set_state(pipeline.get(), GST_STATE_PLAYING);
    gsttest::MessagePtr msg(gst_bus_timed_pop_filtered(
        bus.get(), 30 * GST_SECOND, static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR)));
    ASSERT_NE(msg, nullptr);
    ASSERT_EQ(GST_MESSAGE_TYPE(msg.get()), GST_MESSAGE_EOS) << GST_MESSAGE_TYPE_NAME(msg.get());
    gsttest::Capture c;
    gsttest::drain_appsink(sink.get(), c);
    gsttest::PadPtr src(gst_element_get_static_pad(mix.get(), "src_1"));
    GstCaps* current = gst_pad_get_current_caps(src.get());
    ASSERT_NE(current, nullptr);
    int out_rate = 0;
    gst_structure_get_int(gst_caps_get_structure(current, 0), "rate", &out_rate);
    gst_caps_unref(current);
    EXPECT_EQ(out_rate, rate);
    ASSERT_EQ(c.samples.size(), 50u * 160u) << "50 buffers of 160 samples, at either rate";
    EXPECT_NEAR(tone_db(c.samples, 430.0, rate, c.samples.size() / 2, c.samples.size() / 2),
                gsttest::audiotestsrc_dbm0(0.25), 0.1);
    gst_element_set_state(pipeline.get(), GST_STATE_READY);
  }
  gst_element_set_state(pipeline.get(), GST_STATE_NULL);
}

}  // namespace

namespace {

// rate and frame-duration take only what the module can run at; anything
// else is refused with a warning the user sees, and the property keeps its
// value.
TEST(ConfMix, InvalidRateAndFrameDurationAreRefusedVisibly) {
  gsttest::ElementPtr m(gst_element_factory_make("prosodyconfmix", nullptr));
  ASSERT_TRUE(m);
  guint rate = 1;
  guint64 frame = 0;
  {
    gsttest::LogCapture warnings;
    g_object_set(m.get(), "rate", 44100u, nullptr);
    g_object_set(m.get(), "frame-duration", guint64(7 * GST_MSECOND), nullptr);
    ASSERT_EQ(warnings.messages.size(), 2u);
    EXPECT_NE(warnings.messages[0].find("rate 44100 Hz is not supported"), std::string::npos) << warnings.messages[0];
    EXPECT_NE(warnings.messages[1].find("frame-duration 7000000 ns is not supported"), std::string::npos)
        << warnings.messages[1];
  }
  g_object_get(m.get(), "rate", &rate, "frame-duration", &frame, nullptr);
  EXPECT_EQ(rate, 0u);
  EXPECT_EQ(frame, 10 * GST_MSECOND);
  {
    gsttest::LogCapture warnings;
    g_object_set(m.get(), "rate", 16000u, "frame-duration", guint64(20 * GST_MSECOND), nullptr);
    EXPECT_TRUE(warnings.messages.empty());
  }
  g_object_get(m.get(), "rate", &rate, "frame-duration", &frame, nullptr);
  EXPECT_EQ(rate, 16000u);
  EXPECT_EQ(frame, 20 * GST_MSECOND);
}

// A conference cannot be sought, and says so (the default handler would ask
// one upstream at random, answer TRUE, and the seek would then fail).
TEST(ConfMix, SeekingQueryAnswersFalse) {
  GError* err = nullptr;
  gsttest::ElementPtr pipeline(gst_parse_launch(
      ("prosodyconfmix name=m " + talker(0, 430.0, 0.1, 500) + talker(1, 770.0, 0.1, 500) +
       "m.src_0 ! queue ! fakesink m.src_1 ! queue ! fakesink")
          .c_str(),
      &err));
  ASSERT_EQ(err, nullptr) << err->message;
  ASSERT_NE(gst_element_set_state(pipeline.get(), GST_STATE_PAUSED), GST_STATE_CHANGE_FAILURE);
  ASSERT_EQ(gst_element_get_state(pipeline.get(), nullptr, nullptr, 5 * GST_SECOND), GST_STATE_CHANGE_SUCCESS);
  GstQuery* q = gst_query_new_seeking(GST_FORMAT_TIME);
  ASSERT_TRUE(gst_element_query(pipeline.get(), q));
  gboolean seekable = TRUE;
  gst_query_parse_seeking(q, nullptr, &seekable, nullptr, nullptr);
  gst_query_unref(q);
  EXPECT_FALSE(seekable);
  gst_element_set_state(pipeline.get(), GST_STATE_NULL);
}

}  // namespace
