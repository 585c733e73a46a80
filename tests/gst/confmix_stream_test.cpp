// prosodyconfmix fed by hand through GstHarness (non-live): bad input (gaps,
// backwards timestamps, empty and huge buffers, NaN, wrong caps), EOS
// semantics, statistics; and pipelines that record a call and report
// talker activity.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "gst_test_util.hpp"
#include "prosody/tones.hpp"

namespace {

using namespace gsttest;

constexpr int kRate = 8000;
constexpr const char* kCaps = "audio/x-raw,format=F32LE,rate=8000,channels=1,layout=interleaved";

GstBuffer* float_buffer(const std::vector<float>& x, GstClockTime pts) {
  GstBuffer* b = gst_buffer_new_allocate(nullptr, x.size() * sizeof(float), nullptr);
  gst_buffer_fill(b, 0, x.data(), x.size() * sizeof(float));
  GST_BUFFER_PTS(b) = pts;
  GST_BUFFER_DURATION(b) = gst_util_uint64_scale_int(x.size(), GST_SECOND, kRate);
  PROSODY_TSAN_RELEASE(b);
  return b;
}

GstClockTime at(std::size_t sample) { return gst_util_uint64_scale_int(sample, GST_SECOND, kRate); }

// A conference element with parties 0 and 1 on harnesses, non-live.
struct TwoParties {
  ElementPtr element{gst_element_factory_make("prosodyconfmix", "m")};
  BusPtr bus{gst_bus_new()};
  HarnessPtr h1, h0;  // destroyed h0 first: the secondary harness goes first
  explicit TwoParties(const char* caps1 = kCaps) {
    gst_element_set_bus(element.get(), bus.get());
    h0.reset(gst_harness_new_with_element(element.get(), "sink_0", "src_0"));
    gst_harness_set_live(h0.get(), FALSE);
    h1.reset(gst_harness_new_with_element(element.get(), "sink_1", "src_1"));
    gst_harness_set_live(h1.get(), FALSE);
    gst_harness_set_sink_caps_str(h0.get(), kCaps);  // F32 out
    gst_harness_set_sink_caps_str(h1.get(), kCaps);
    gst_harness_set_src_caps_str(h0.get(), kCaps);
    if (caps1) gst_harness_set_src_caps_str(h1.get(), caps1);
  }
  ~TwoParties() {
    h0.reset();
    h1.reset();
    gst_element_set_state(element.get(), GST_STATE_NULL);
    // Messages left on the bus hold their sources (the element, its pads),
    // and the element holds the bus: drop them, or neither is freed.
    gst_bus_set_flushing(bus.get(), TRUE);
    gst_element_set_bus(element.get(), nullptr);
  }
  // Everything a harness's src pad delivered until EOS.
  static std::vector<float> pull_all(GstHarness* h, std::vector<GstClockTime>* pts = nullptr) {
    std::vector<float> y;
    bool eos = false;
    for (;;) {
      // Buffers and events queue separately: after EOS, take what is left.
      GstEvent* ev;
      while (!eos && (ev = gst_harness_try_pull_event(h))) {
        eos = GST_EVENT_TYPE(ev) == GST_EVENT_EOS;
        gst_event_unref(ev);
      }
      GstBuffer* b = gst_harness_try_pull(h);
      if (!b) {
        if (eos) return y;
        g_usleep(1000);
        continue;
      }
      PROSODY_TSAN_ACQUIRE(b);
      GstMapInfo map;
      gst_buffer_map(b, &map, GST_MAP_READ);
      const float* f = reinterpret_cast<const float*>(map.data);
      y.insert(y.end(), f, f + map.size / 4);
      if (pts) pts->push_back(GST_BUFFER_PTS(b));
      gst_buffer_unmap(b, &map);
      gst_buffer_unref(b);
    }
  }
  GstStructure* stats(const char* pad) {
    PadPtr p(gst_element_get_static_pad(element.get(), pad));
    GstStructure* s = nullptr;
    g_object_get(p.get(), "stats", &s, nullptr);
    return s;
  }
  std::string error() {
    MessagePtr m(gst_bus_timed_pop_filtered(bus.get(), 2 * GST_SECOND, GST_MESSAGE_ERROR));
    if (!m) return "";
    GError* e = nullptr;
    gchar* dbg = nullptr;
    gst_message_parse_error(m.get(), &e, &dbg);
    std::string s = std::string(e->message) + " | " + (dbg ? dbg : "");
    g_error_free(e);
    g_free(dbg);
    return s;
  }
};

guint64 field(GstStructure* s, const char* name) {
  guint64 v = 0;
  EXPECT_TRUE(gst_structure_get_uint64(s, name, &v)) << name;
  return v;
}

TEST(ConfMixStream, GapsAreConcealedAndCounted) {
  TwoParties t;
  // Party 0: 0-100 ms, then 300-400 ms; party 1: 0-400 ms.
  auto a = testsig::sine(600.0, -10.0, 3200, kRate);
  std::vector<float> first(a.begin(), a.begin() + 800), last(a.begin() + 2400, a.end());
  EXPECT_EQ(gst_harness_push(t.h0.get(), float_buffer(first, 0)), GST_FLOW_OK);
  EXPECT_EQ(gst_harness_push(t.h0.get(), float_buffer(last, at(2400))), GST_FLOW_OK);
  EXPECT_EQ(gst_harness_push(t.h1.get(), float_buffer(std::vector<float>(3200, 0.0f), 0)), GST_FLOW_OK);
  gst_harness_push_event(t.h0.get(), gst_event_new_eos());
  gst_harness_push_event(t.h1.get(), gst_event_new_eos());
  std::vector<float> heard = TwoParties::pull_all(t.h1.get());
  ASSERT_EQ(heard.size(), 3200u);
  EXPECT_NEAR(tone_db(heard, 600.0, kRate, 0, 800), -10.0, 0.3);
  EXPECT_LT(testsig::level_dbm0(heard.data() + 1000, 1300), -70.0) << "the gap is silence after one fading frame";
  EXPECT_NEAR(tone_db(heard, 600.0, kRate, 2560, 640), -10.0, 0.3);
  StructurePtr s(t.stats("sink_0"));
  EXPECT_EQ(field(s.get(), "gap-samples"), 1600u);
  EXPECT_GE(field(s.get(), "frames-concealed"), 19u);
}

TEST(ConfMixStream, BackwardsTimestampsAreTrimmedAndCounted) {
  TwoParties t;
  auto a = testsig::sine(600.0, -10.0, 1600, kRate);
  std::vector<float> first(a.begin(), a.begin() + 800), again(a.begin() + 400, a.begin() + 1600);
  gst_harness_push(t.h0.get(), float_buffer(first, 0));
  gst_harness_push(t.h0.get(), float_buffer(again, at(400)));  // 50 ms back in time
  gst_harness_push(t.h1.get(), float_buffer(std::vector<float>(1600, 0.0f), 0));
  gst_harness_push_event(t.h0.get(), gst_event_new_eos());
  gst_harness_push_event(t.h1.get(), gst_event_new_eos());
  std::vector<float> heard = TwoParties::pull_all(t.h1.get());
  ASSERT_EQ(heard.size(), 1600u);
  // What was kept is the original timeline: the output is the sine itself.
  EXPECT_GT(testsig::snr_db(a.data() + 80, heard.data() + 80, 1520), 60.0);
  StructurePtr s(t.stats("sink_0"));
  EXPECT_EQ(field(s.get(), "overlap-samples"), 400u);
}

TEST(ConfMixStream, EmptyAndHugeBuffers) {
  TwoParties t;
  const std::size_t n = 10 * kRate;  // ten seconds in one buffer
  auto a = testsig::sine(600.0, -10.0, n, kRate);
  GstBuffer* empty = gst_buffer_new();
  GST_BUFFER_PTS(empty) = 0;
  EXPECT_EQ(gst_harness_push(t.h0.get(), empty), GST_FLOW_OK);
  EXPECT_EQ(gst_harness_push(t.h0.get(), float_buffer(a, 0)), GST_FLOW_OK);
  EXPECT_EQ(gst_harness_push(t.h1.get(), float_buffer(std::vector<float>(n, 0.0f), 0)), GST_FLOW_OK);
  gst_harness_push_event(t.h0.get(), gst_event_new_eos());
  gst_harness_push_event(t.h1.get(), gst_event_new_eos());
  std::vector<GstClockTime> pts;
  std::vector<float> heard = TwoParties::pull_all(t.h1.get(), &pts);
  ASSERT_EQ(heard.size(), n);
  EXPECT_GT(testsig::snr_db(a.data() + 80, heard.data() + 80, n - 80), 60.0);
  EXPECT_GT(testsig::snr_db(a.data() + n - 800, heard.data() + n - 800, 800), 60.0) << "to the last sample";
  for (std::size_t i = 0; i < pts.size(); ++i) ASSERT_EQ(pts[i], i * 10 * GST_MSECOND) << "buffer " << i;
}

TEST(ConfMixStream, NonFiniteSamplesNeverReachTheMix) {
  TwoParties t;
  auto a = testsig::sine(600.0, -10.0, 1600, kRate);
  for (std::size_t i = 300; i < 1600; i += 7)
    a[i] = (i % 2) ? std::numeric_limits<float>::quiet_NaN() : std::numeric_limits<float>::infinity();
  gst_harness_push(t.h0.get(), float_buffer(a, 0));
  gst_harness_push(t.h1.get(), float_buffer(std::vector<float>(1600, 0.0f), 0));
  gst_harness_push_event(t.h0.get(), gst_event_new_eos());
  gst_harness_push_event(t.h1.get(), gst_event_new_eos());
  std::vector<float> heard = TwoParties::pull_all(t.h1.get());
  ASSERT_EQ(heard.size(), 1600u);
  for (float v : heard) ASSERT_TRUE(std::isfinite(v));
  EXPECT_LE(testsig::peak(heard.data(), heard.size()), 1.0);
}

// Finite but absurd samples (1e30 in a float stream) are corrupt, not loud
// audio: they become silence and are counted, so the limiter does not duck
// the talker, who is heard at its own level.
TEST(ConfMixStream, AbsurdSamplesAreCleanedAndCounted) {
  TwoParties t;
  auto a = testsig::sine(600.0, -10.0, 8000, kRate);
  std::size_t corrupt = 0;
  for (std::size_t i = 400; i < a.size(); i += 50, ++corrupt) a[i] = (i % 100) ? 1e30f : -3e20f;
  gst_harness_push(t.h0.get(), float_buffer(a, 0));
  gst_harness_push(t.h1.get(), float_buffer(std::vector<float>(a.size(), 0.0f), 0));
  gst_harness_push_event(t.h0.get(), gst_event_new_eos());
  gst_harness_push_event(t.h1.get(), gst_event_new_eos());
  std::vector<float> heard = TwoParties::pull_all(t.h1.get());
  ASSERT_EQ(heard.size(), a.size());
  // One sample in 50 silenced: 0.09 dB less energy.
  EXPECT_NEAR(tone_db(heard, 600.0, kRate, 1600, 6400), -10.0, 0.3);
  EXPECT_LE(testsig::peak(heard.data(), heard.size()), 1.0);
  PadPtr sink0(gst_element_get_static_pad(t.element.get(), "sink_0"));
  PadPtr src1(gst_element_get_static_pad(t.element.get(), "src_1"));
  GstStructure* in_stats = nullptr;
  GstStructure* out_stats = nullptr;
  g_object_get(sink0.get(), "stats", &in_stats, nullptr);
  g_object_get(src1.get(), "stats", &out_stats, nullptr);
  EXPECT_EQ(field(in_stats, "cleaned-samples"), corrupt);
  EXPECT_EQ(field(out_stats, "limited-frames"), 0u) << "the limiter never acted";
  gst_structure_free(in_stats);
  gst_structure_free(out_stats);
}

TEST(ConfMixStream, MismatchedRateIsRefusedNamingPadAndRate) {
  TwoParties t(nullptr);
  gst_harness_push(t.h0.get(), float_buffer(std::vector<float>(800, 0.0f), 0));
  gst_harness_set_src_caps_str(t.h1.get(), "audio/x-raw,format=F32LE,rate=16000,channels=1,layout=interleaved");
  const std::string e = t.error();
  EXPECT_NE(e.find("sink_1"), std::string::npos) << e;
  EXPECT_NE(e.find("16000"), std::string::npos) << e;
  EXPECT_NE(e.find("8000"), std::string::npos) << e;
}

TEST(ConfMixStream, StereoIsRefusedWithAClearError) {
  TwoParties t(nullptr);
  gst_harness_set_src_caps_str(t.h1.get(), "audio/x-raw,format=F32LE,rate=8000,channels=2,layout=interleaved");
  const std::string e = t.error();
  EXPECT_NE(e.find("sink_1: 2 channels"), std::string::npos) << e;
  EXPECT_NE(e.find("mono"), std::string::npos) << e;
  EXPECT_NE(e.find("audioconvert ! audio/x-raw,channels=1"), std::string::npos) << e;
}

// A stream that was mono and becomes stereo mid-stream gets the same clear
// error, naming the channel count and the fix.
TEST(ConfMixStream, MonoToStereoCapsChangeNamesTheFix) {
  TwoParties t;
  gst_harness_push(t.h1.get(), float_buffer(std::vector<float>(800, 0.0f), 0));
  gst_harness_set_src_caps_str(t.h1.get(), "audio/x-raw,format=F32LE,rate=8000,channels=2,layout=interleaved");
  const std::string e = t.error();
  EXPECT_NE(e.find("sink_1: 2 channels"), std::string::npos) << e;
  EXPECT_NE(e.find("audioconvert ! audio/x-raw,channels=1"), std::string::npos) << e;
}

TEST(ConfMixStream, OtherSampleFormatIsRefusedNamingIt) {
  TwoParties t(nullptr);
  gst_harness_set_src_caps_str(t.h1.get(), "audio/x-raw,format=S24LE,rate=8000,channels=1,layout=interleaved");
  const std::string e = t.error();
  EXPECT_NE(e.find("sink_1: sample format S24LE"), std::string::npos) << e;
  EXPECT_NE(e.find("audioconvert"), std::string::npos) << e;
}

TEST(ConfMixStream, StatisticsCountFramesInAndOut) {
  TwoParties t;
  gst_harness_push(t.h0.get(), float_buffer(testsig::sine(600.0, -10.0, 1600, kRate), 0));
  gst_harness_push(t.h1.get(), float_buffer(testsig::sine(900.0, -20.0, 1600, kRate), 0));
  gst_harness_push_event(t.h0.get(), gst_event_new_eos());
  gst_harness_push_event(t.h1.get(), gst_event_new_eos());
  ASSERT_EQ(TwoParties::pull_all(t.h1.get()).size(), 1600u);
  StructurePtr in(t.stats("sink_0"));
  EXPECT_EQ(field(in.get(), "buffers-in"), 1u);
  EXPECT_GE(field(in.get(), "frames-in"), 16u);
  EXPECT_EQ(field(in.get(), "late-buffers"), 0u);
  double level = 0;
  ASSERT_TRUE(gst_structure_get_double(in.get(), "level", &level));
  EXPECT_NEAR(level, -10.0, 1.0);
  StructurePtr out(t.stats("src_1"));
  EXPECT_EQ(field(out.get(), "buffers-out"), 20u);
}

}  // namespace

namespace {

std::string source(int pad, double freq, double volume, int buffers, int spb = 160) {
  char s[400];
  std::snprintf(s, sizeof s,
                "audiotestsrc freq=%g volume=%g samplesperbuffer=%d num-buffers=%d ! "
                "audio/x-raw,format=F32LE,rate=8000,channels=1 ! m.sink_%d ",
                freq, volume, spb, buffers, pad);
  return s;
}

std::string sink(int pad) {
  char s[200];
  std::snprintf(s, sizeof s, "m.src_%d ! queue ! appsink name=out%d sync=false caps=audio/x-raw,format=F32LE ", pad,
                pad);
  return s;
}

TEST(ConfMixEos, EndedInputLeavesAndEveryOutputEndsAfterTheLastSample) {
  // Party 0 talks 0.5 s, party 1 for 163 * 60 = 9780 samples (not a whole
  // number of frames); party 2 only listens.
  PipelineRun r = run_pipeline("prosodyconfmix name=m rate=8000 " + source(0, 600.0, 0.3, 25, 160) +
                               source(1, 900.0, 0.3, 60, 163) + sink(0) + sink(1) + sink(2));
  ASSERT_TRUE(r.eos) << r.error;
  for (const char* name : {"out0", "out1", "out2"}) EXPECT_EQ(r.sinks[name].samples.size(), 9780u) << name;
  const auto& heard1 = r.sinks["out1"].samples;
  EXPECT_NEAR(tone_db(heard1, 600.0, kRate, 1000, 3000), audiotestsrc_dbm0(0.3), 0.1);
  EXPECT_LT(tone_db(heard1, 600.0, kRate, 4000 + 160, 5600), -70.0) << "party 0 has left";
  const auto& heard0 = r.sinks["out0"].samples;  // party 0 still hears party 1
  EXPECT_NEAR(tone_db(heard0, 900.0, kRate, 5000, 4000), audiotestsrc_dbm0(0.3), 0.1);
  EXPECT_NEAR(tone_db(r.sinks["out2"].samples, 900.0, kRate, 5000, 4000), audiotestsrc_dbm0(0.3), 0.1);
}

// A two-party call recorded as a stereo file (left = what A says, right =
// what B says, sample-aligned with the sources) and as a mono mix. The
// recorders are listen-only parties 8 and 9 that hear one talker each
// (heard-by), and party 7 hears both.
TEST(ConfMixRecording, TwoPartyCallAsStereoAndMono) {
  const std::string d =
      "prosodyconfmix name=m rate=8000 sink_0::heard-by=\"1,8,7\" sink_1::heard-by=\"0,9,7\" "
      "audiotestsrc freq=500 volume=0.3 samplesperbuffer=160 num-buffers=100 ! audio/x-raw,format=F32LE,rate=8000 ! "
      "tee name=a ! queue ! m.sink_0  a. ! queue ! appsink name=srcA sync=false "
      "audiotestsrc freq=700 volume=0.2 samplesperbuffer=160 num-buffers=100 ! audio/x-raw,format=F32LE,rate=8000 ! "
      "tee name=b ! queue ! m.sink_1  b. ! queue ! appsink name=srcB sync=false "
      "m.src_0 ! queue ! fakesink  m.src_1 ! queue ! fakesink "
      "interleave name=i ! audio/x-raw,format=F32LE,channels=2 ! appsink name=stereo sync=false "
      "m.src_8 ! queue ! audio/x-raw,format=F32LE ! i.sink_0  m.src_9 ! queue ! audio/x-raw,format=F32LE ! i.sink_1 "
      "m.src_7 ! queue ! appsink name=mono sync=false caps=audio/x-raw,format=F32LE";
  PipelineRun r = run_pipeline(d);
  ASSERT_TRUE(r.eos) << r.error;
  const auto& a = r.sinks["srcA"].samples;
  const auto& b = r.sinks["srcB"].samples;
  const Capture& st = r.sinks["stereo"];
  ASSERT_EQ(st.channels, 2);
  const auto left = channel(st, 0), right = channel(st, 1);
  ASSERT_EQ(left.size(), 16000u);
  ASSERT_EQ(a.size(), 16000u);
  // Sample-aligned: the recording is the source itself, no offset.
  EXPECT_GT(testsig::snr_db(a.data() + 800, left.data() + 800, 15200), 60.0);
  EXPECT_GT(testsig::snr_db(b.data() + 800, right.data() + 800, 15200), 60.0);
  EXPECT_LT(tone_db(left, 700.0, kRate, 800, 15200), -70.0);
  EXPECT_LT(tone_db(right, 500.0, kRate, 800, 15200), -70.0);
  const auto& mono = r.sinks["mono"].samples;
  ASSERT_EQ(mono.size(), 16000u);
  std::vector<float> sum(16000);
  for (std::size_t i = 0; i < 16000; ++i) sum[i] = a[i] + b[i];
  EXPECT_GT(testsig::snr_db(sum.data() + 800, mono.data() + 800, 15200), 60.0);
}

TEST(ConfMixActivity, TopTalkersByPadWithLevels) {
  std::string d = "prosodyconfmix name=m rate=8000 activity-interval=100000000 activity-sensitivity=100 ";
  const double vol[3] = {0.1, 0.3, 0.03};
  for (int i = 0; i < 3; ++i) d += source(i, 400.0 + 300.0 * i, vol[i], 100) + sink(i);
  PipelineRun r = run_pipeline(d);
  ASSERT_TRUE(r.eos) << r.error;
  std::vector<const GstStructure*> reports;
  for (const GstStructure* s : r.element_messages)
    if (gst_structure_has_name(s, "prosody-activity")) reports.push_back(s);
  ASSERT_GE(reports.size(), 2u);
  ASSERT_LE(reports.size(), 21u) << "rate-limited to one per 100 ms";
  const GstStructure* last = reports.back();
  const GValue* talkers = gst_structure_get_value(last, "talkers");
  const GValue* levels = gst_structure_get_value(last, "levels");
  ASSERT_NE(talkers, nullptr);
  ASSERT_NE(levels, nullptr);
  ASSERT_EQ(gst_value_array_get_size(talkers), 3u) << gst_structure_to_string(last);
  EXPECT_STREQ(g_value_get_string(gst_value_array_get_value(talkers, 0)), "sink_1");
  EXPECT_STREQ(g_value_get_string(gst_value_array_get_value(talkers, 1)), "sink_0");
  EXPECT_STREQ(g_value_get_string(gst_value_array_get_value(talkers, 2)), "sink_2");
  EXPECT_NEAR(g_value_get_double(gst_value_array_get_value(levels, 0)), audiotestsrc_dbm0(0.3), 1.0);
  guint64 ts = 0;
  EXPECT_TRUE(gst_structure_get_uint64(last, "running-time", &ts));
  EXPECT_GT(ts, 0u);
  EXPECT_LE(ts, 2 * GST_SECOND);
}

}  // namespace

namespace {

TEST(ConfMixTones, DtmfEventNamesThePadWithTiming) {
  // Digit 5 (770 + 1336 Hz) from 100 ms to 200 ms on party 0.
  std::vector<float> x(4000, 0.0f);
  testsig::add_sine(x, 770.0, -10.0, kRate, 0.0, 800, 800);
  testsig::add_sine(x, 1336.0, -10.0, kRate, 0.0, 800, 800);
  TwoParties t;
  PadPtr pad(gst_element_get_static_pad(t.element.get(), "sink_0"));
  gst_util_set_object_arg(G_OBJECT(pad.get()), "detect-tones", "dtmf");
  gst_harness_push(t.h0.get(), float_buffer(x, 0));
  gst_harness_push(t.h1.get(), float_buffer(std::vector<float>(4000, 0.0f), 0));
  gst_harness_push_event(t.h0.get(), gst_event_new_eos());
  gst_harness_push_event(t.h1.get(), gst_event_new_eos());
  ASSERT_EQ(TwoParties::pull_all(t.h1.get()).size(), 4000u);
  std::vector<MessagePtr> events;
  while (GstMessage* m = gst_bus_pop_filtered(t.bus.get(), GST_MESSAGE_ELEMENT))
    if (gst_structure_has_name(gst_message_get_structure(m), "dtmf-event"))
      events.emplace_back(m);
    else
      gst_message_unref(m);
  ASSERT_EQ(events.size(), 2u) << "a start and an end";
  for (std::size_t i = 0; i < 2; ++i) {
    const GstStructure* s = gst_message_get_structure(events[i].get());
    int type = -1, number = -1, method = -1;
    gboolean start = FALSE;
    EXPECT_TRUE(gst_structure_get_int(s, "type", &type));
    EXPECT_TRUE(gst_structure_get_int(s, "number", &number));
    EXPECT_TRUE(gst_structure_get_int(s, "method", &method));
    EXPECT_TRUE(gst_structure_get_boolean(s, "start", &start));
    EXPECT_EQ(type, 1);
    EXPECT_EQ(number, 5);
    EXPECT_EQ(method, 2);
    EXPECT_EQ(bool(start), i == 0);
    EXPECT_STREQ(gst_structure_get_string(s, "pad"), "sink_0");
    guint64 ts = 0, rt = 0, dur = 0;
    EXPECT_TRUE(gst_structure_get_uint64(s, "timestamp", &ts));
    EXPECT_TRUE(gst_structure_get_uint64(s, "running-time", &rt));
    EXPECT_TRUE(gst_structure_get_uint64(s, "duration", &dur));
    EXPECT_EQ(rt, ts);
    if (i == 0)
      EXPECT_EQ(dur, GST_CLOCK_TIME_NONE) << "not known at the start";
    else
      EXPECT_NEAR(double(dur) / GST_MSECOND, 100.0, 10.0);
    EXPECT_NEAR(double(ts) / GST_MSECOND, i == 0 ? 100.0 : 200.0, 10.0);
  }
}

TEST(ConfMixStream, GapEventIsConcealedWithoutStall) {
  TwoParties t;
  auto a = testsig::sine(600.0, -10.0, 800, kRate);
  gst_harness_push(t.h0.get(), float_buffer(a, 0));
  gst_harness_push_event(t.h0.get(), gst_event_new_gap(at(800), at(800)));  // 100-200 ms: nothing
  gst_harness_push(t.h0.get(), float_buffer(a, at(1600)));
  gst_harness_push(t.h1.get(), float_buffer(std::vector<float>(2400, 0.0f), 0));
  gst_harness_push_event(t.h0.get(), gst_event_new_eos());
  gst_harness_push_event(t.h1.get(), gst_event_new_eos());
  std::vector<float> heard = TwoParties::pull_all(t.h1.get());
  ASSERT_EQ(heard.size(), 2400u);
  EXPECT_LT(testsig::level_dbm0(heard.data() + 900, 700), -70.0);
  EXPECT_NEAR(tone_db(heard, 600.0, kRate, 1760, 640), -10.0, 0.3);
  StructurePtr s(t.stats("sink_0"));
  EXPECT_EQ(field(s.get(), "gap-samples"), 800u);
}

TEST(ConfMixStream, FlushOnOnePartyKeepsTheConferenceGoing) {
  TwoParties t;
  auto a = testsig::sine(600.0, -10.0, 2400, kRate);
  gst_harness_push(t.h0.get(), float_buffer(std::vector<float>(a.begin(), a.begin() + 800), 0));
  gst_harness_push_event(t.h0.get(), gst_event_new_flush_start());
  gst_harness_push_event(t.h0.get(), gst_event_new_flush_stop(TRUE));
  GstSegment seg;
  gst_segment_init(&seg, GST_FORMAT_TIME);
  seg.base = at(800);  // the new segment continues at 100 ms of running time
  gst_harness_push_event(t.h0.get(), gst_event_new_segment(&seg));
  gst_harness_push(t.h0.get(), float_buffer(std::vector<float>(a.begin() + 800, a.end()), 0));
  gst_harness_push(t.h1.get(), float_buffer(std::vector<float>(2400, 0.0f), 0));
  gst_harness_push_event(t.h0.get(), gst_event_new_eos());
  gst_harness_push_event(t.h1.get(), gst_event_new_eos());
  std::vector<float> heard = TwoParties::pull_all(t.h1.get());
  ASSERT_EQ(heard.size(), 2400u);
  EXPECT_NEAR(tone_db(heard, 600.0, kRate, 1200, 1200), -10.0, 0.3);
}

}  // namespace

#include <atomic>
#include <thread>

namespace {

// A chain blocked on a full queue (non-live: party 1 sends nothing, so
// nothing is mixed) is released by releasing its pad, and returns FLUSHING.
TEST(ConfMixStream, ReleasingAPadUnblocksItsChain) {
  TwoParties t;
  std::atomic<int> last{GST_FLOW_OK};
  std::atomic<bool> done{false};
  std::thread pusher([&] {
    const std::vector<float> second(kRate, 0.1f);
    for (int i = 0; i < 4 && last == GST_FLOW_OK; ++i)
      last = gst_harness_push(t.h0.get(), float_buffer(second, i * GST_SECOND));
    done = true;
  });
  g_usleep(200000);
  EXPECT_FALSE(done) << "the chain should be blocked on a full queue";
  PadPtr pad(gst_element_get_static_pad(t.element.get(), "sink_0"));
  gst_element_release_request_pad(t.element.get(), pad.get());
  pusher.join();
  EXPECT_EQ(last.load(), GST_FLOW_FLUSHING);
}

}  // namespace

namespace {

// US busy (480 + 620 Hz, 0.5 s on, 0.5 s off) on party 0.
TEST(ConfMixTones, BusyToneIsPostedByName) {
  std::vector<float> x(4 * kRate, 0.0f);
  for (int on = 0; on < 4; ++on) {
    testsig::add_sine(x, 480.0, -20.0, kRate, 0.0, std::size_t(on * kRate), kRate / 2);
    testsig::add_sine(x, 620.0, -20.0, kRate, 0.0, std::size_t(on * kRate), kRate / 2);
  }
  TwoParties t;
  PadPtr pad(gst_element_get_static_pad(t.element.get(), "sink_0"));
  gst_util_set_object_arg(G_OBJECT(pad.get()), "detect-tones", "call-progress");
  gst_harness_push(t.h0.get(), float_buffer(x, 0));
  gst_harness_push(t.h1.get(), float_buffer(std::vector<float>(x.size(), 0.0f), 0));
  gst_harness_push_event(t.h0.get(), gst_event_new_eos());
  gst_harness_push_event(t.h1.get(), gst_event_new_eos());
  ASSERT_EQ(TwoParties::pull_all(t.h1.get()).size(), x.size());
  int busy = 0;
  while (GstMessage* m = gst_bus_pop_filtered(t.bus.get(), GST_MESSAGE_ELEMENT)) {
    const GstStructure* s = gst_message_get_structure(m);
    if (gst_structure_has_name(s, "prosody-tone")) {
      EXPECT_STREQ(gst_structure_get_string(s, "tone"), "busy");
      EXPECT_STREQ(gst_structure_get_string(s, "pad"), "sink_0");
      int id = 0;
      EXPECT_TRUE(gst_structure_get_int(s, "id", &id));
      EXPECT_EQ(id, 2);
      ++busy;
    }
    gst_message_unref(m);
  }
  EXPECT_GE(busy, 1);
}

}  // namespace
