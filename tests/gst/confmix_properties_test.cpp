// prosodyconfmix's timing and processing properties, each measured by what
// it does to the audio or the stream: alignment-threshold (where a buffer
// lands, gap counted or not), queue-time (how far upstream gets ahead),
// start-time-selection (output timestamps and onset), and the sink pads'
// agc, gate and suppress-tones (levels heard, messages posted).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <string>
#include <thread>
#include <vector>

#include "gst_test_util.hpp"

namespace {

using namespace gsttest;

constexpr int kRate = 8000;
constexpr const char* kCaps = "audio/x-raw,format=F32LE,rate=8000,channels=1,layout=interleaved";

GstClockTime time_of(std::size_t samples) { return gst_util_uint64_scale_int(samples, GST_SECOND, kRate); }

// A conference element whose parties are harnesses (non-live): a party
// talks (sink pad), listens (src pad) or both; audio is pushed as F32 and
// what each listener hears is collected to the end of the stream.
class Conference {
 public:
  Conference() { gst_element_set_bus(element_.get(), bus_.get()); }
  ~Conference() {
    parties_.clear();  // harnesses first, the secondary ones before the first
    gst_element_set_state(element_.get(), GST_STATE_NULL);
    gst_bus_set_flushing(bus_.get(), TRUE);  // messages hold the element
    gst_element_set_bus(element_.get(), nullptr);
  }
  Conference(const Conference&) = delete;
  Conference& operator=(const Conference&) = delete;

  GstElement* element() { return element_.get(); }

  // Party n with a sink pad (talks), a src pad (listens) or both.
  void add(int n, bool talks, bool listens) {
    const std::string sink = "sink_" + std::to_string(n), src = "src_" + std::to_string(n);
    GstHarness* h =
        gst_harness_new_with_element(element_.get(), talks ? sink.c_str() : nullptr, listens ? src.c_str() : nullptr);
    gst_harness_set_live(h, FALSE);
    if (listens) gst_harness_set_sink_caps_str(h, kCaps);
    if (talks) gst_harness_set_src_caps_str(h, kCaps);
    parties_.insert(parties_.begin(), {n, HarnessPtr(h)});
  }

  // A property of party n's sink pad, from its string form.
  void set_sink(int n, const char* name, const char* value) {
    PadPtr pad(gst_element_get_static_pad(element_.get(), ("sink_" + std::to_string(n)).c_str()));
    gst_util_set_object_arg(G_OBJECT(pad.get()), name, value);
  }

  GstFlowReturn say(int n, const std::vector<float>& x, GstClockTime pts, std::size_t from = 0,
                    std::size_t count = SIZE_MAX) {
    count = std::min(count, x.size() - from);
    GstBuffer* b = gst_buffer_new_allocate(nullptr, count * sizeof(float), nullptr);
    gst_buffer_fill(b, 0, x.data() + from, count * sizeof(float));
    GST_BUFFER_PTS(b) = pts;
    GST_BUFFER_DURATION(b) = time_of(count);
    PROSODY_TSAN_RELEASE(b);
    return gst_harness_push(harness(n), b);
  }
  void end(int n) { gst_harness_push_event(harness(n), gst_event_new_eos()); }

  // What party n heard, to its EOS, with each buffer's PTS.
  std::vector<float> heard(int n, std::vector<GstClockTime>* pts = nullptr) {
    std::vector<float> y;
    GstBuffer* b = nullptr;
    while (gst_harness_pull_until_eos(harness(n), &b) && b) {
      PROSODY_TSAN_ACQUIRE(b);
      GstMapInfo map;
      gst_buffer_map(b, &map, GST_MAP_READ);
      const float* f = reinterpret_cast<const float*>(map.data);
      y.insert(y.end(), f, f + map.size / sizeof(float));
      if (pts) pts->push_back(GST_BUFFER_PTS(b));
      gst_buffer_unmap(b, &map);
      gst_buffer_unref(b);
    }
    return y;
  }

  guint64 sink_stat(int n, const char* field) {
    PadPtr pad(gst_element_get_static_pad(element_.get(), ("sink_" + std::to_string(n)).c_str()));
    GstStructure* s = nullptr;
    g_object_get(pad.get(), "stats", &s, nullptr);
    guint64 v = 0;
    EXPECT_TRUE(gst_structure_get_uint64(s, field, &v)) << field;
    gst_structure_free(s);
    return v;
  }

  // The element messages named name posted so far.
  std::vector<StructurePtr> messages(const char* name) {
    while (GstMessage* m = gst_bus_pop_filtered(bus_.get(), GST_MESSAGE_ELEMENT)) {
      if (const GstStructure* s = gst_message_get_structure(m)) posted_.emplace_back(gst_structure_copy(s));
      gst_message_unref(m);
    }
    std::vector<StructurePtr> out;
    for (const StructurePtr& s : posted_)
      if (gst_structure_has_name(s.get(), name)) out.emplace_back(gst_structure_copy(s.get()));
    return out;
  }

 private:
  GstHarness* harness(int n) {
    for (auto& p : parties_)
      if (p.first == n) return p.second.get();
    ADD_FAILURE() << "no party " << n;
    return nullptr;
  }

  ElementPtr element_{gst_element_factory_make("prosodyconfmix", nullptr)};
  BusPtr bus_{gst_bus_new()};
  std::vector<std::pair<int, HarnessPtr>> parties_;  // newest first
  std::vector<StructurePtr> posted_;
};

// Talk: a 700 Hz tone at level_dbm0 in bursts of `on` samples, one every
// `period` samples (by default 200 ms bursts, 100 ms pauses).
std::vector<float> talk(double level_dbm0, std::size_t n, std::size_t on = 1600, std::size_t period = 2400) {
  std::vector<float> x(n, 0.0f);
  const double a = testsig::sine_peak(level_dbm0);
  for (std::size_t i = 0; i < n; ++i)
    if (i % period < on) x[i] = float(a * std::sin(2.0 * testsig::kPi * 700.0 * double(i) / kRate));
  return x;
}

// ---------------------------------------------------------------------------
// alignment-threshold

// Party 0 sends 100 ms of tone, then the next 100 ms stamped `offset` later
// than where the first ended. Within the threshold the second buffer is
// contiguous (no gap counted, the tone unbroken); beyond it, the buffer is
// placed by its timestamp (the gap counted, the tone moved by the offset).
TEST(ConfMixAlignment, ThresholdDecidesContiguousOrPlacedByTimestamp) {
  struct Case {
    const char* threshold;  // ns
    std::size_t offset;     // samples
    bool contiguous;
  };
  const Case cases[] = {
      {"40000000", 160, true},   // 20 ms within the default 40 ms
      {"10000000", 160, false},  // 20 ms beyond 10 ms
      {"40000000", 480, false},  // 60 ms beyond 40 ms
      {"80000000", 480, true},   // 60 ms within 80 ms
  };
  const std::vector<float> tone = testsig::sine(600.0, -10.0, 1600, kRate);
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string("threshold ") + c.threshold + " ns, offset " + std::to_string(c.offset) + " samples");
    Conference conf;
    gst_util_set_object_arg(G_OBJECT(conf.element()), "alignment-threshold", c.threshold);
    conf.add(0, true, false);
    conf.add(1, true, true);
    ASSERT_EQ(conf.say(0, tone, 0, 0, 800), GST_FLOW_OK);
    ASSERT_EQ(conf.say(0, tone, time_of(800 + c.offset), 800, 800), GST_FLOW_OK);
    ASSERT_EQ(conf.say(1, std::vector<float>(3200, 0.0f), 0), GST_FLOW_OK);
    conf.end(0);
    conf.end(1);
    const std::vector<float> y = conf.heard(1);
    ASSERT_EQ(y.size(), 3200u);
    EXPECT_EQ(conf.sink_stat(0, "gap-samples"), c.contiguous ? 0u : c.offset);
    // Where the second buffer's audio is: right after the first, or offset.
    const std::size_t landed = c.contiguous ? 800 : 800 + c.offset;
    EXPECT_GT(testsig::snr_db(tone.data() + 880, y.data() + landed + 80, 640), 60.0) << "second buffer in place";
    EXPECT_GT(testsig::snr_db(tone.data() + 80, y.data() + 80, 640), 60.0) << "first buffer";
  }
}

// ---------------------------------------------------------------------------
// queue-time

// With a party that has sent nothing, the mix cannot go on (non-live), so
// the other party's upstream fills its queue and blocks: it gets queue-time
// ahead (10 ms buffers: 100 ms -> 10 buffers, 300 ms -> 30), and not more.
// Once the silent party ends, everything queued and blocked is mixed.
TEST(ConfMixQueueTime, UpstreamGetsQueueTimeAheadThenBlocks) {
  for (int queue_ms : {100, 300}) {
    SCOPED_TRACE(std::to_string(queue_ms) + " ms queue-time");
    Conference conf;
    gst_util_set_object_arg(G_OBJECT(conf.element()), "queue-time",
                            std::to_string(std::uint64_t(queue_ms) * GST_MSECOND).c_str());
    conf.add(0, true, false);
    conf.add(1, true, false);
    conf.add(2, false, true);
    const std::vector<float> tone = testsig::sine(600.0, -10.0, 8000, kRate);
    std::atomic<int> accepted{0};
    std::thread upstream([&] {
      for (std::size_t at = 0; at < tone.size(); at += 80) {
        if (conf.say(0, tone, time_of(at), at, 80) != GST_FLOW_OK) break;
        ++accepted;
      }
      conf.end(0);
    });
    // Wait until it stops getting further (or has sent everything).
    int last = -1;
    for (auto still_since = std::chrono::steady_clock::now();
         std::chrono::steady_clock::now() - still_since < std::chrono::milliseconds(500);) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      const int now = accepted.load();
      if (now != last) {
        last = now;
        still_since = std::chrono::steady_clock::now();
      }
      if (now == 100) break;
    }
    EXPECT_EQ(last, queue_ms / 10) << "buffers taken before the chain blocked";
    conf.end(1);  // the mix goes on without party 1: the chain is released
    upstream.join();
    EXPECT_EQ(accepted.load(), 100);
    const std::vector<float> y = conf.heard(2);
    ASSERT_EQ(y.size(), tone.size());
    EXPECT_GT(testsig::snr_db(tone.data() + 80, y.data() + 80, tone.size() - 80), 60.0) << "nothing lost";
  }
}

// ---------------------------------------------------------------------------
// start-time-selection

// Both parties start at 500 ms (running time). zero: the output starts at 0
// and the tone 500 ms into it; first: the output starts at 500 ms with the
// tone.
TEST(ConfMixStartTime, ZeroOrFirstInputSetsTheOutputsFirstTimestamp) {
  const std::vector<float> tone = testsig::sine(600.0, -10.0, 4000, kRate);
  const GstClockTime start = 500 * GST_MSECOND;
  for (const char* selection : {"zero", "first"}) {
    SCOPED_TRACE(selection);
    const bool zero = std::string(selection) == "zero";
    Conference conf;
    gst_util_set_object_arg(G_OBJECT(conf.element()), "start-time-selection", selection);
    conf.add(0, true, false);
    conf.add(1, true, true);
    ASSERT_EQ(conf.say(0, tone, start), GST_FLOW_OK);
    ASSERT_EQ(conf.say(1, std::vector<float>(tone.size(), 0.0f), start), GST_FLOW_OK);
    conf.end(0);
    conf.end(1);
    std::vector<GstClockTime> pts;
    const std::vector<float> y = conf.heard(1, &pts);
    ASSERT_FALSE(pts.empty());
    EXPECT_EQ(pts.front(), zero ? 0 : start);
    EXPECT_EQ(y.size(), tone.size() + (zero ? 4000u : 0u));
    std::size_t onset = 0;
    while (onset < y.size() && std::fabs(y[onset]) < 0.01f) ++onset;
    EXPECT_NEAR(double(onset) * 1000.0 / kRate, zero ? 500.0 : 0.0, 10.0) << "ms into the output";
    EXPECT_NEAR(tone_db(y, 600.0, kRate, y.size() - 2000, 2000), -10.0, 0.1);
  }
}

// ---------------------------------------------------------------------------
// Sink pad agc

// A talker at -35 dBm0: with agc the others hear it near the AGC's
// -20 dBm0 target after some seconds; without, at -35 dBm0.
TEST(ConfMixPadAgc, BringsAQuietTalkerTowardTheTarget) {
  const std::vector<float> x = talk(-35.0, 8000 * 12);
  for (const char* agc : {"false", "true"}) {
    SCOPED_TRACE(std::string("agc=") + agc);
    Conference conf;
    conf.add(0, true, true);
    conf.add(1, true, true);
    conf.set_sink(0, "agc", agc);
    ASSERT_EQ(conf.say(0, x, 0), GST_FLOW_OK);
    ASSERT_EQ(conf.say(1, std::vector<float>(x.size(), 0.0f), 0), GST_FLOW_OK);
    conf.end(0);
    conf.end(1);
    const std::vector<float> y = conf.heard(1);
    ASSERT_EQ(y.size(), x.size());
    const std::size_t burst = 2400 * 38 + 200;  // a burst in the last second
    EXPECT_NEAR(testsig::level_dbm0(y.data() + burst, 1200), agc[0] == 't' ? -20.0 : -35.0, agc[0] == 't' ? 1.5 : 0.1);
  }
}

// ---------------------------------------------------------------------------
// Sink pad gate

// Line noise at -50 dBm0 for 8 s: gated out once learnt (the last 2 s
// silent) with gate=on, and with gate=auto on a talker (sink and src pads);
// heard throughout with gate=off, and with gate=auto on a speak-only party.
TEST(ConfMixPadGate, LineNoiseIsGatedAsTheSettingSays) {
  const std::vector<float> noise = testsig::white_noise(-50.0, 8000 * 8, 3);
  struct Case {
    const char* gate;
    bool talker;  // party 0 also listens
    bool gated;
  };
  for (const Case& c : {Case{"on", true, true}, Case{"off", true, false}, Case{"auto", true, true},
                        Case{"auto", false, false}, Case{"on", false, true}}) {
    SCOPED_TRACE(std::string("gate=") + c.gate + (c.talker ? ", talker" : ", speak-only"));
    Conference conf;
    conf.add(0, true, c.talker);
    conf.add(1, false, true);
    conf.set_sink(0, "gate", c.gate);
    ASSERT_EQ(conf.say(0, noise, 0), GST_FLOW_OK);
    conf.end(0);
    const std::vector<float> y = conf.heard(1);
    ASSERT_EQ(y.size(), noise.size());
    const double last_2s = testsig::level_dbm0(y.data() + y.size() - 16000, 16000);
    if (c.gated) {
      EXPECT_LT(last_2s, -90.0) << "gated out";
    } else {
      EXPECT_NEAR(last_2s, -50.0, 0.5) << "heard";
    }
  }
}

// Gating keeps speech: talk in 300 ms bursts at -20 dBm0 over line noise at
// -50 dBm0, gate=on. The bursts are heard at their level; the pauses are
// silent once the activity hangover (200 ms) is over.
TEST(ConfMixPadGate, GatedPartyIsHeardWhileItTalks) {
  std::vector<float> x = talk(-20.0, 8000 * 8, 2400, 8000);
  const std::vector<float> noise = testsig::white_noise(-50.0, x.size(), 4);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] += noise[i];
  Conference conf;
  conf.add(0, true, false);
  conf.add(1, false, true);
  conf.set_sink(0, "gate", "on");
  ASSERT_EQ(conf.say(0, x, 0), GST_FLOW_OK);
  conf.end(0);
  const std::vector<float> y = conf.heard(1);
  ASSERT_EQ(y.size(), x.size());
  // Bursts are [8000k, 8000k + 2400), pauses [8000k + 2400, 8000k + 8000).
  const std::size_t k = 6;
  EXPECT_NEAR(tone_db(y, 700.0, kRate, 8000 * k + 400, 1600), -20.0, 0.2) << "a burst";
  EXPECT_LT(testsig::level_dbm0(y.data() + 8000 * k + 2400 + 2400, 3200), -90.0) << "the pause after it: gated";
  EXPECT_NEAR(testsig::level_dbm0(y.data() + 8000 * k + 2400, 800), -50.0, 1.0) << "the hangover: noise heard";
}

// ---------------------------------------------------------------------------
// suppress-tones

// A 300 ms digit '5' on party 0 with detect-tones=dtmf: with suppress-tones
// it is removed from what party 1 hears (>= 40 dB after its first 30 ms);
// with suppress-tones=false it is heard at its level. Either way it is
// reported, start and end.
TEST(ConfMixSuppressTones, FalseLetsTheDigitThroughStillReported) {
  std::vector<float> x(8000, 0.0f);
  const std::size_t on = 1600, len = 2400;
  testsig::add_sine(x, 770.0, -10.0, kRate, 0.2, on, len);
  testsig::add_sine(x, 1336.0, -10.0, kRate, 0.9, on, len);
  for (const char* suppress : {"true", "false"}) {
    SCOPED_TRACE(std::string("suppress-tones=") + suppress);
    Conference conf;
    conf.add(0, true, false);
    conf.add(1, false, true);
    conf.set_sink(0, "detect-tones", "dtmf");
    conf.set_sink(0, "suppress-tones", suppress);
    ASSERT_EQ(conf.say(0, x, 0), GST_FLOW_OK);
    conf.end(0);
    const std::vector<float> y = conf.heard(1);
    ASSERT_EQ(y.size(), x.size());
    const bool suppressed = suppress[0] == 't';
    for (double f : {770.0, 1336.0}) {
      const double level = tone_db(y, f, kRate, on + 240, len - 240);
      if (suppressed) {
        EXPECT_LT(level, -50.0) << f << " Hz removed";
      } else {
        EXPECT_NEAR(level, -10.0, 0.2) << f << " Hz heard";
      }
    }
    const auto events = conf.messages("dtmf-event");
    ASSERT_EQ(events.size(), 2u) << "start and end";
    for (std::size_t i = 0; i < 2; ++i) {
      gint number = -1;
      gboolean start = FALSE;
      EXPECT_TRUE(gst_structure_get_int(events[i].get(), "number", &number));
      EXPECT_TRUE(gst_structure_get_boolean(events[i].get(), "start", &start));
      EXPECT_EQ(number, 5);
      EXPECT_EQ(bool(start), i == 0);
    }
  }
}

}  // namespace
