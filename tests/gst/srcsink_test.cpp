// prosodysink and prosodysrc: pipelines, one per caller, meeting in
// conferences on a shared module. Every test measures what a caller hears
// (Goertzel levels of the other callers' tones and of its own) in recordings
// of prosodysrc's output, and counts from the elements' stats.
#include <gst/gst.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "gst_test_util.hpp"
#include "prosodyelements.h"
#include "prosody/smclib.h"
#include "prosody/smdrvr.h"
#include "signal.hpp"

namespace {

using namespace gsttest;

constexpr double kRate = 8000.0;
constexpr double kVolume = 0.2;  // audiotestsrc's; four callers sum below full scale
const char* const kCaps = "audio/x-raw,format=S16LE,rate=8000,channels=1";
// The sinks' jitter margin in the live tests: the default 5 ms is for a
// quiet machine; the tests share 2 cores with parallel builds.
const std::string kLiveMargin = "latency=40000000";

// One caller's pipeline, run from the test thread alongside others: its
// appsinks are drained and its bus read at every poll().
class Call {
 public:
  explicit Call(const std::string& description) {
    GError* err = nullptr;
    pipeline_.reset(gst_parse_launch(description.c_str(), &err));
    if (err) {
      error = std::string("parse: ") + err->message;
      g_error_free(err);
      pipeline_.reset();
      return;
    }
    gst_object_ref_sink(pipeline_.get());
    GstIterator* it = gst_bin_iterate_sinks(GST_BIN(pipeline_.get()));
    GValue item = G_VALUE_INIT;
    while (gst_iterator_next(it, &item) == GST_ITERATOR_OK) {
      GstElement* e = GST_ELEMENT(g_value_get_object(&item));
      if (GST_IS_APP_SINK(e)) appsinks_.push_back(e);
      g_value_reset(&item);
    }
    g_value_unset(&item);
    gst_iterator_free(it);
    bus_.reset(gst_element_get_bus(pipeline_.get()));
  }
  ~Call() { stop(); }
  Call(const Call&) = delete;
  Call& operator=(const Call&) = delete;

  GstStateChangeReturn set_state(GstState state) {
    return pipeline_ ? gst_element_set_state(pipeline_.get(), state) : GST_STATE_CHANGE_FAILURE;
  }
  // Leaves the call: the pipeline goes to NULL (what is left to drain is kept).
  void stop() {
    if (!pipeline_) return;
    poll();
    gst_element_set_state(pipeline_.get(), GST_STATE_NULL);
    poll();
  }
  void poll() {
    if (!pipeline_) return;
    for (GstElement* s : appsinks_) drain_appsink(s, got[GST_OBJECT_NAME(s)]);
    while (MessagePtr msg{gst_bus_pop_filtered(
        bus_.get(), static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR | GST_MESSAGE_WARNING))}) {
      GError* e = nullptr;
      gchar* dbg = nullptr;
      switch (GST_MESSAGE_TYPE(msg.get())) {
        case GST_MESSAGE_EOS:
          eos = true;
          break;
        case GST_MESSAGE_WARNING:
          gst_message_parse_warning(msg.get(), &e, &dbg);
          warnings.emplace_back(e->message);
          break;
        default:
          gst_message_parse_error(msg.get(), &e, &dbg);
          if (error.empty()) error = e->message;
          break;
      }
      if (e) g_error_free(e);
      g_free(dbg);
    }
  }
  // A counter of an element's stats (a guint64 field).
  guint64 stat(const char* element, const char* field) const {
    ElementPtr e(gst_bin_get_by_name(GST_BIN(pipeline_.get()), element));
    GstStructure* s = nullptr;
    g_object_get(e.get(), "stats", &s, nullptr);
    StructurePtr owned(s);
    guint64 v = 0;
    EXPECT_TRUE(gst_structure_get_uint64(s, field, &v)) << element << "." << field;
    return v;
  }
  const Capture& out() { return got["out"]; }

  bool eos = false;
  std::string error;
  std::vector<std::string> warnings;
  std::map<std::string, Capture> got;

 private:
  ElementPtr pipeline_;
  BusPtr bus_;
  std::vector<GstElement*> appsinks_;
};

// Polls the calls until every one has ended (EOS or error), or for at most
// timeout_s; false on a timeout.
bool run_until_ended(const std::vector<Call*>& calls, double timeout_s) {
  const gint64 deadline = g_get_monotonic_time() + gint64(timeout_s * 1e6);
  for (;;) {
    bool all = true;
    for (Call* c : calls) {
      c->poll();
      all = all && (c->eos || !c->error.empty());
    }
    if (all) return true;
    if (g_get_monotonic_time() > deadline) return false;
    g_usleep(2000);
  }
}

// Polls the calls for seconds.
void run_for(const std::vector<Call*>& calls, double seconds) {
  const gint64 until = g_get_monotonic_time() + gint64(seconds * 1e6);
  while (g_get_monotonic_time() < until) {
    for (Call* c : calls) c->poll();
    g_usleep(2000);
  }
}

// A caller: its tone into the party's input, the party's output into the
// appsink "out". extra: properties for both Prosody elements; sink_extra:
// for the sink.
std::string caller(const std::string& module, const std::string& party, double freq, int talk_buffers, int hear_buffers,
                   bool live, const std::string& extra = "conference=c", const std::string& sink_extra = "") {
  const std::string endpoint = " module=" + module + " party=" + party + " " + extra;
  return "audiotestsrc is-live=" + std::string(live ? "true" : "false") + " freq=" + std::to_string(freq) +
         " volume=" + std::to_string(kVolume) + " samplesperbuffer=80 num-buffers=" + std::to_string(talk_buffers) +
         " ! " + kCaps + " ! prosodysink name=in" + endpoint + " " + sink_extra + "  prosodysrc name=src" + endpoint +
         " num-buffers=" + std::to_string(hear_buffers) + " ! appsink name=out sync=false";
}

class SrcSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(GST_ELEMENT_REGISTER(prosodysink, nullptr));
    ASSERT_TRUE(GST_ELEMENT_REGISTER(prosodysrc, nullptr));
  }
};

const double kFreq[4] = {250.0, 350.0, 450.0, 550.0};

// Each listener's level of every talker, relative to the talker's level.
void expect_each_hears_the_others(std::vector<std::unique_ptr<Call>>& calls, std::size_t from, std::size_t len) {
  const double talk = audiotestsrc_dbm0(kVolume);
  for (std::size_t listener = 0; listener < calls.size(); ++listener) {
    const std::vector<float>& heard = calls[listener]->out().samples;
    ASSERT_GE(heard.size(), from + len) << "caller " << listener << " heard too little";
    for (std::size_t talker = 0; talker < calls.size(); ++talker) {
      const double rel = tone_db(heard, kFreq[talker], kRate, from, len) - talk;
      if (talker == listener)
        EXPECT_LE(rel, -60.0) << "caller " << listener << " hears itself";
      else
        EXPECT_NEAR(rel, 0.0, 0.5) << "caller " << listener << " hearing " << talker;
    }
  }
}

// ---------------------------------------------------------------------------
// Acceptance 1: four callers, four pipelines, one conference on one module.

// Non-live: file-like sources on a stepped module. The module advances when
// every sink has a frame, so the result is the same sample for sample on
// every run.
TEST_F(SrcSinkTest, FourSteppedPipelinesHearEachOtherDeterministically) {
  std::vector<std::vector<float>> first_run;
  for (int run = 0; run < 2; ++run) {
    std::vector<std::unique_ptr<Call>> calls;
    std::vector<Call*> all;
    for (int i = 0; i < 4; ++i) {
      calls.push_back(std::make_unique<Call>(
          caller("stepped4", "p" + std::to_string(i), kFreq[i], 150, -1, false, "conference=c drive=stepped")));
      all.push_back(calls.back().get());
    }
    // Every caller registers before any plays, so each frame has all four.
    for (Call* c : all) ASSERT_NE(c->set_state(GST_STATE_READY), GST_STATE_CHANGE_FAILURE) << c->error;
    for (Call* c : all) c->set_state(GST_STATE_PLAYING);
    ASSERT_TRUE(run_until_ended(all, 60.0)) << "timeout";
    for (Call* c : all) {
      EXPECT_TRUE(c->eos) << c->error;
      EXPECT_EQ(c->out().samples.size(), 150u * 80u) << "one frame out for every frame in";
    }
    expect_each_hears_the_others(calls, 800, 8000);
    for (int i = 0; i < 4; ++i) {
      EXPECT_EQ(calls[std::size_t(i)]->stat("in", "underruns"), 0u);
      if (run == 0)
        first_run.push_back(calls[std::size_t(i)]->out().samples);
      else
        EXPECT_EQ(calls[std::size_t(i)]->out().samples, first_run[std::size_t(i)]) << "caller " << i << " differs";
    }
  }
}

// Live: a real-time module paces the pipelines, whose srcs give them the
// module's clock.
TEST_F(SrcSinkTest, FourLivePipelinesHearEachOther) {
  std::vector<std::unique_ptr<Call>> calls;
  std::vector<Call*> all;
  for (int i = 0; i < 4; ++i) {
    calls.push_back(std::make_unique<Call>(
        caller("live4", "p" + std::to_string(i), kFreq[i], 400, 300, true, "conference=c", kLiveMargin)));
    all.push_back(calls.back().get());
  }
  for (Call* c : all) ASSERT_NE(c->set_state(GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE) << c->error;
  run_for(all, 1.0);
  std::vector<guint64> underruns, overruns;
  for (Call* c : all) {
    underruns.push_back(c->stat("in", "underruns"));
    overruns.push_back(c->stat("in", "overrun-frames"));
  }
  ASSERT_TRUE(run_until_ended(all, 30.0)) << "timeout";
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_TRUE(calls[i]->eos) << calls[i]->error;
    EXPECT_EQ(calls[i]->out().samples.size(), 300u * 80u);
    EXPECT_EQ(calls[i]->stat("in", "underruns"), underruns[i]) << "caller " << i << ": underruns in steady state";
    EXPECT_EQ(calls[i]->stat("in", "overrun-frames"), overruns[i]) << "caller " << i << ": overruns in steady state";
    EXPECT_GT(calls[i]->stat("in", "frames-in"), 200u);
  }
  // The last 1.5 s: every caller talks then, however long the others took
  // to start on a loaded machine.
  expect_each_hears_the_others(calls, 12000, 12000);
}

}  // namespace
