// prosodyconfmix live, driven by a GstTestClock through GstHarness: a
// missing input is silence and never stalls the others, a late buffer is
// dropped, counted and reported, timestamps run on without a gap.
#include <gtest/gtest.h>

#include "gst_test_util.hpp"

namespace {

using namespace gsttest;

constexpr int kRate = 8000;
constexpr std::size_t kFrame = 80;  // 10 ms
constexpr const char* kCaps = "audio/x-raw,format=F32LE,rate=8000,channels=1,layout=interleaved";

GstBuffer* frame_buffer(const std::vector<float>& x, std::size_t k) {
  GstBuffer* b = gst_buffer_new_allocate(nullptr, kFrame * sizeof(float), nullptr);
  gst_buffer_fill(b, 0, x.data() + k * kFrame, kFrame * sizeof(float));
  GST_BUFFER_PTS(b) = k * 10 * GST_MSECOND;
  GST_BUFFER_DURATION(b) = 10 * GST_MSECOND;
  PROSODY_TSAN_RELEASE(b);
  return b;
}

struct LiveParties {
  ElementPtr element{gst_element_factory_make("prosodyconfmix", "m")};
  BusPtr bus{gst_bus_new()};
  HarnessPtr h1, h0;
  LiveParties() {
    gst_element_set_bus(element.get(), bus.get());
    // Each harness puts its own test clock on the element; the last one (h1's)
    // is the element's clock, so time is cranked through h1. rate stays 0 so
    // that the module, and its first clock wait, start with the caps below.
    h0.reset(gst_harness_new_with_element(element.get(), "sink_0", "src_0"));
    h1.reset(gst_harness_new_with_element(element.get(), "sink_1", "src_1"));
    for (GstHarness* h : {h0.get(), h1.get()}) {
      gst_harness_set_sink_caps_str(h, kCaps);
      gst_harness_set_src_caps_str(h, kCaps);
    }
  }
  ~LiveParties() {
    h0.reset();
    h1.reset();
    gst_element_set_state(element.get(), GST_STATE_NULL);
    // Messages left on the bus hold their sources (the element, its pads),
    // and the element holds the bus: drop them, or neither is freed.
    gst_bus_set_flushing(bus.get(), TRUE);
    gst_element_set_bus(element.get(), nullptr);
  }
  // Releases the next frame's clock wait and takes the frame from both outputs.
  void crank(std::vector<float>& out0, std::vector<float>& out1, std::vector<GstClockTime>& pts) {
    ASSERT_TRUE(gst_harness_crank_single_clock_wait(h1.get()));
    take(out0, out1, pts);
  }
  void take(std::vector<float>& out0, std::vector<float>& out1, std::vector<GstClockTime>& pts) {
    for (int i = 0; i < 2; ++i) {
      GstBuffer* b = gst_harness_pull(i == 0 ? h0.get() : h1.get());
      ASSERT_NE(b, nullptr);
      PROSODY_TSAN_ACQUIRE(b);
      if (i == 0) pts.push_back(GST_BUFFER_PTS(b));
      PROSODY_TSAN_ACQUIRE(b);
      GstMapInfo map;
      gst_buffer_map(b, &map, GST_MAP_READ);
      const float* f = reinterpret_cast<const float*>(map.data);
      (i == 0 ? out0 : out1).insert((i == 0 ? out0 : out1).end(), f, f + map.size / 4);
      gst_buffer_unmap(b, &map);
      gst_buffer_unref(b);
    }
  }
  guint64 stat(const char* pad, const char* name) {
    PadPtr p(gst_element_get_static_pad(element.get(), pad));
    GstStructure* s = nullptr;
    g_object_get(p.get(), "stats", &s, nullptr);
    guint64 v = 0;
    gst_structure_get_uint64(s, name, &v);
    gst_structure_free(s);
    return v;
  }
};

TEST(ConfMixLive, MissingInputIsSilenceAndNeverStalls) {
  LiveParties t;
  const auto a = testsig::sine(500.0, -10.0, 40 * kFrame, kRate);
  std::vector<float> out0, out1;
  std::vector<GstClockTime> pts;
  for (std::size_t k = 0; k < 40; ++k) {
    // Party 0 talks; party 1 sends nothing at all.
    ASSERT_EQ(gst_harness_push(t.h0.get(), frame_buffer(a, k)), GST_FLOW_OK);
    t.crank(out0, out1, pts);
  }
  ASSERT_EQ(out1.size(), 40 * kFrame);
  for (std::size_t k = 0; k < pts.size(); ++k) ASSERT_EQ(pts[k], k * 10 * GST_MSECOND) << "continuous timestamps";
  EXPECT_GT(testsig::snr_db(a.data() + kFrame, out1.data() + kFrame, 39 * kFrame), 60.0) << "party 1 hears 0";
  EXPECT_LT(testsig::level_dbm0(out0.data(), out0.size()), -90.0) << "party 0 hears silence";
  EXPECT_EQ(t.stat("sink_1", "frames-in"), 0u);
}

TEST(ConfMixLive, LateBufferIsDroppedCountedAndReported) {
  LiveParties t;
  const auto a = testsig::sine(500.0, -10.0, 30 * kFrame, kRate);
  const auto b = testsig::sine(900.0, -15.0, 30 * kFrame, kRate);
  std::vector<float> out0, out1;
  std::vector<GstClockTime> pts;
  for (std::size_t k = 0; k < 10; ++k) {  // both on time: mixed as soon as both are in
    gst_harness_push(t.h0.get(), frame_buffer(a, k));
    gst_harness_push(t.h1.get(), frame_buffer(b, k));
    t.take(out0, out1, pts);
  }
  for (std::size_t k = 10; k < 20; ++k) {  // party 1 misses frames 10..19
    gst_harness_push(t.h0.get(), frame_buffer(a, k));
    t.crank(out0, out1, pts);
  }
  // Frame 12 of party 1 arrives now: too late.
  EXPECT_EQ(gst_harness_push(t.h1.get(), frame_buffer(b, 12)), GST_FLOW_OK);
  for (std::size_t k = 20; k < 30; ++k) {
    gst_harness_push(t.h0.get(), frame_buffer(a, k));
    gst_harness_push(t.h1.get(), frame_buffer(b, k));
    t.take(out0, out1, pts);
  }
  ASSERT_EQ(pts.size(), 30u);
  for (std::size_t k = 0; k < pts.size(); ++k) ASSERT_EQ(pts[k], k * 10 * GST_MSECOND);
  EXPECT_EQ(t.stat("sink_1", "late-buffers"), 1u);
  EXPECT_EQ(t.stat("sink_1", "late-samples"), kFrame);
  EXPECT_EQ(t.stat("sink_0", "late-buffers"), 0u);
  // Party 0 heard 1 before and after its silence, nothing in between.
  EXPECT_NEAR(tone_db(out0, 900.0, kRate, 2 * kFrame, 8 * kFrame), -15.0, 0.3);
  EXPECT_LT(testsig::level_dbm0(out0.data() + 12 * kFrame, 8 * kFrame), -70.0);
  EXPECT_NEAR(tone_db(out0, 900.0, kRate, 22 * kFrame, 8 * kFrame), -15.0, 0.5);
  MessagePtr qos(gst_bus_pop_filtered(t.bus.get(), GST_MESSAGE_QOS));
  ASSERT_NE(qos, nullptr) << "late input is reported";
  EXPECT_STREQ(GST_OBJECT_NAME(GST_MESSAGE_SRC(qos.get())), "sink_1");
  gboolean live = FALSE;
  guint64 rt = 0;
  gst_message_parse_qos(qos.get(), &live, &rt, nullptr, nullptr, nullptr);
  EXPECT_TRUE(live);
  EXPECT_EQ(rt, 120 * GST_MSECOND);
}

TEST(ConfMixLive, LatencyQueryAddsLatencyAndOneFrame) {
  LiveParties t;
  g_object_set(t.element.get(), "latency", 30 * GST_MSECOND, nullptr);
  gst_harness_set_upstream_latency(t.h0.get(), 20 * GST_MSECOND);
  GstQuery* q = gst_query_new_latency();
  PadPtr src(gst_element_get_static_pad(t.element.get(), "src_0"));
  ASSERT_TRUE(gst_pad_query(src.get(), q));
  gboolean live = FALSE;
  GstClockTime min = 0, max = 0;
  gst_query_parse_latency(q, &live, &min, &max);
  gst_query_unref(q);
  EXPECT_TRUE(live);
  EXPECT_EQ(min, 60 * GST_MSECOND) << "20 upstream + 30 latency + 10 frame";
}

}  // namespace

namespace {

// start-time-selection=now: a conference started late in a live pipeline
// begins at the running time it starts at, not at 0 (no burst of frames).
TEST(ConfMixLive, StartTimeNowBeginsAtTheCurrentRunningTime) {
  ElementPtr element(gst_element_factory_make("prosodyconfmix", "m"));
  gst_util_set_object_arg(G_OBJECT(element.get()), "start-time-selection", "now");
  HarnessPtr h0(gst_harness_new_with_element(element.get(), "sink_0", "src_0"));
  gst_harness_set_sink_caps_str(h0.get(), kCaps);
  ASSERT_TRUE(gst_harness_set_time(h0.get(), 3 * GST_SECOND));
  gst_harness_set_src_caps_str(h0.get(), kCaps);  // the rate: the module starts now
  const auto a = testsig::sine(500.0, -10.0, 400 * kFrame, kRate);
  ASSERT_EQ(gst_harness_push(h0.get(), frame_buffer(a, 300)), GST_FLOW_OK);  // 3.00 s
  ASSERT_TRUE(gst_harness_crank_single_clock_wait(h0.get()));
  GstBuffer* b = gst_harness_pull(h0.get());
  ASSERT_NE(b, nullptr);
  PROSODY_TSAN_ACQUIRE(b);
  EXPECT_GE(GST_BUFFER_PTS(b), 3 * GST_SECOND);
  EXPECT_LT(GST_BUFFER_PTS(b), 3 * GST_SECOND + 20 * GST_MSECOND);
  gst_buffer_unref(b);
  h0.reset();
  gst_element_set_state(element.get(), GST_STATE_NULL);
}

}  // namespace
