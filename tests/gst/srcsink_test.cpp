// prosodysink and prosodysrc: pipelines, one per caller, meeting in
// conferences on a shared module. Every test measures what a caller hears
// (Goertzel levels of the other callers' tones and of its own) in recordings
// of prosodysrc's output, and counts from the elements' stats.
#include <gst/app/gstappsrc.h>
#include <gst/audio/gstaudioclock.h>
#include <gst/gst.h>
#include <gtest/gtest.h>
#include <time.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "gst_test_util.hpp"
#include "prosodyelements.h"
#include "prosody/prosody.hpp"
#include "prosody/smclib.h"
#include "prosody/smdrvr.h"
#include "signal.hpp"

namespace {

using namespace gsttest;

constexpr double kRate = 8000.0;
constexpr double kVolume = 0.2;  // audiotestsrc's; four callers sum below full scale
const char* const kCaps = "audio/x-raw,format=S16LE,rate=8000,channels=1";
// The sinks' jitter margin and room in the live tests: the defaults are
// for a quiet machine; the tests share 2 cores with parallel builds and
// benchmarks, where a thread may wait hundreds of ms for a core.
const std::string kLiveMargin = "latency=100000000 buffer-time=1000000000";
// And the srcs' room for output their streaming thread has not taken yet.
const std::string kLiveSrc = "buffer-time=1000000000";

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
          if (error.empty()) error = std::string(e->message) + " (" + (dbg ? dbg : "") + ")";
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
  GstElement* pipeline() const { return pipeline_.get(); }

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

// A caller (who: "party=NAME" or "channel=ID"): its tone into the channel's input, the party's output into the
// appsink "out". extra: properties for both Prosody elements; sink_extra,
// src_extra: for one.
std::string caller(const std::string& module, const std::string& who, double freq, int talk_buffers, int hear_buffers,
                   bool live, const std::string& extra = "conference=c", const std::string& sink_extra = "",
                   const std::string& src_extra = "") {
  const std::string endpoint = " module=" + module + " " + who + " " + extra;
  return "audiotestsrc is-live=" + std::string(live ? "true" : "false") + " freq=" + std::to_string(freq) +
         " volume=" + std::to_string(kVolume) + " samplesperbuffer=80 num-buffers=" + std::to_string(talk_buffers) +
         " ! " + kCaps + " ! prosodysink name=in" + endpoint + " " + sink_extra + "  prosodysrc name=src" + endpoint +
         " " + src_extra + " num-buffers=" + std::to_string(hear_buffers) + " ! appsink name=out sync=false";
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
          caller("stepped4", "party=p" + std::to_string(i), kFreq[i], 150, -1, false, "conference=c drive=stepped")));
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
    calls.push_back(std::make_unique<Call>(caller("live4", "party=p" + std::to_string(i), kFreq[i], 400, 300, true,
                                                  "conference=c", kLiveMargin, kLiveSrc)));
    all.push_back(calls.back().get());
  }
  for (Call* c : all) ASSERT_NE(c->set_state(GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE) << c->error;
  run_for(all, 1.0);
  std::vector<guint64> underruns, overruns, dropped;
  for (Call* c : all) {
    underruns.push_back(c->stat("in", "underruns"));
    overruns.push_back(c->stat("in", "overrun-frames"));
    dropped.push_back(c->stat("src", "dropped-frames"));
  }
  ASSERT_TRUE(run_until_ended(all, 30.0)) << "timeout";
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_TRUE(calls[i]->eos) << calls[i]->error;
    EXPECT_EQ(calls[i]->out().samples.size(), 300u * 80u);
    EXPECT_EQ(calls[i]->stat("in", "underruns"), underruns[i]) << "caller " << i << ": underruns in steady state";
    EXPECT_EQ(calls[i]->stat("in", "overrun-frames"), overruns[i]) << "caller " << i << ": overruns in steady state";
    EXPECT_EQ(calls[i]->stat("src", "dropped-frames"), dropped[i]) << "caller " << i << ": output dropped";
    EXPECT_GT(calls[i]->stat("in", "frames-in"), 200u);
  }
  // The last 1.5 s: every caller talks then, however long the others took
  // to start on a loaded machine.
  expect_each_hears_the_others(calls, 12000, 12000);
}

// The largest second difference tones at these frequencies (amplitude
// kVolume) can make together: a click (a step, a gap) makes more.
double smooth_bound(std::initializer_list<double> freqs) {
  double sum = 0.0;
  for (double f : freqs) {
    const double w = 2.0 * 3.14159265358979 * f / kRate;
    sum += kVolume * w * w;
  }
  return 2.0 * sum;
}

// Whether a src's buffers follow each other without a hole (a stall).
void expect_contiguous(const Capture& c, const char* who) {
  for (std::size_t i = 1; i < c.pts.size(); ++i)
    if (c.pts[i] != c.pts[i - 1] + GST_SECOND * c.sizes[i - 1] / 8000) {
      ADD_FAILURE() << who << ": buffer " << i << " at " << c.pts[i] << " ns after one at " << c.pts[i - 1];
      return;
    }
}

// ---------------------------------------------------------------------------
// Acceptance 2: while the others keep talking, one caller leaves (its
// pipeline stops) and another joins.
TEST_F(SrcSinkTest, CallersLeaveAndJoinWhileTheOthersRun) {
  const std::string module = "joinleave";
  auto a = std::make_unique<Call>(
      caller(module, "party=a", kFreq[0], 500, 400, true, "conference=c", kLiveMargin, kLiveSrc));
  auto b = std::make_unique<Call>(
      caller(module, "party=b", kFreq[1], 500, 400, true, "conference=c", kLiveMargin, kLiveSrc));
  auto c = std::make_unique<Call>(
      caller(module, "party=c", kFreq[2], 500, 400, true, "conference=c", kLiveMargin, kLiveSrc));
  for (Call* x : {a.get(), b.get(), c.get()})
    ASSERT_NE(x->set_state(GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE) << x->error;
  run_for({a.get(), b.get(), c.get()}, 0.5);
  const guint64 a_under = a->stat("in", "underruns"), a_over = a->stat("in", "overrun-frames");
  const guint64 c_under = c->stat("in", "underruns"), c_over = c->stat("in", "overrun-frames");
  const guint64 a_dropped = a->stat("src", "dropped-frames");
  run_for({a.get(), b.get(), c.get()}, 0.5);

  auto d = std::make_unique<Call>(
      caller(module, "party=d", kFreq[3], 300, 200, true, "conference=c", kLiveMargin, kLiveSrc));
  ASSERT_NE(d->set_state(GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE) << d->error;
  run_for({a.get(), b.get(), c.get(), d.get()}, 1.0);
  b->stop();  // leaves mid-stream
  EXPECT_TRUE(b->error.empty()) << b->error;
  ASSERT_TRUE(run_until_ended({a.get(), c.get()}, 30.0)) << "timeout";
  d->stop();

  for (Call* x : {a.get(), c.get()}) {
    EXPECT_TRUE(x->eos) << x->error;
    EXPECT_EQ(x->out().samples.size(), 400u * 80u) << "a caller who stayed heard every frame";
    expect_contiguous(x->out(), "a caller who stayed");
  }
  EXPECT_EQ(a->stat("in", "underruns"), a_under) << "steady state";
  EXPECT_EQ(a->stat("in", "overrun-frames"), a_over) << "steady state";
  EXPECT_EQ(c->stat("in", "underruns"), c_under) << "steady state";
  EXPECT_EQ(c->stat("in", "overrun-frames"), c_over) << "steady state";
  EXPECT_EQ(a->stat("src", "dropped-frames"), a_dropped) << "steady state";

  const std::vector<float>& heard = a->out().samples;
  const double talk = audiotestsrc_dbm0(kVolume);
  // Before d joined (0.3-0.8 s): b and c.
  EXPECT_NEAR(tone_db(heard, kFreq[1], kRate, 2400, 4000) - talk, 0.0, 0.5) << "b before leaving";
  EXPECT_NEAR(tone_db(heard, kFreq[2], kRate, 2400, 4000) - talk, 0.0, 0.5);
  EXPECT_LT(tone_db(heard, kFreq[3], kRate, 2400, 4000) - talk, -60.0) << "d before joining";
  // The last second (b gone, d still talking): c and d.
  EXPECT_NEAR(tone_db(heard, kFreq[2], kRate, 24000, 8000) - talk, 0.0, 0.5);
  EXPECT_NEAR(tone_db(heard, kFreq[3], kRate, 24000, 8000) - talk, 0.0, 0.5) << "d after joining";
  EXPECT_LT(tone_db(heard, kFreq[1], kRate, 24000, 8000) - talk, -60.0) << "b after leaving";
  EXPECT_LT(tone_db(heard, kFreq[0], kRate, 24000, 8000) - talk, -60.0) << "itself";
  // No click as d joins and b leaves (from 0.3 s: the others joining at
  // the start are not this test's). d's sine starts at phase 0, a corner
  // of its own (second difference kVolume * w); a step (a gap, a cut
  // mid-cycle) at the tones' amplitude goes beyond.
  const double d_onset = kVolume * 2.0 * 3.14159265358979 * kFreq[3] / kRate;
  EXPECT_LT(testsig::max_second_difference(heard.data() + 2400, heard.size() - 2400),
            smooth_bound({kFreq[1], kFreq[2], kFreq[3]}) + d_onset);
}

// ---------------------------------------------------------------------------
// Acceptance 3: the conference made with the C API (sm_conference_*) on
// channels allocated with it; the pipelines feed and hear those channels
// (channel=).
TEST_F(SrcSinkTest, ConferenceOfTheCApiOnChannelsPipelinesFeed) {
  SM_OPEN_MODULE_PARMS open{};
  open.module_ix = 2;
  ASSERT_EQ(sm_open_module(&open), 0);
  std::vector<tSMChannelId> channels;
  tSMConference conf = sm_conference_create();
  ASSERT_TRUE(conf);
  for (int i = 0; i < 4; ++i) {
    SM_CHANNEL_ALLOC_PLACED_PARMS alloc{};
    alloc.type = kSMChannelTypeFullDuplex;
    alloc.module = open.module_id;
    ASSERT_EQ(sm_channel_alloc_placed(&alloc), 0);
    channels.push_back(alloc.channel);
    SM_CONFERENCE_ADD_PARTY_PARMS party{};
    party.conf = conf;
    party.channelIn = alloc.channel;
    party.channelOut = alloc.channel;
    ASSERT_EQ(sm_conference_add_party(&party), 0);
  }
  {
    std::vector<std::unique_ptr<Call>> calls;
    std::vector<Call*> all;
    for (int i = 0; i < 4; ++i) {
      const std::string id = std::to_string(reinterpret_cast<std::uintptr_t>(channels[std::size_t(i)]));
      calls.push_back(
          std::make_unique<Call>(caller("2", "channel=" + id, kFreq[i], 400, 300, true, "", kLiveMargin, kLiveSrc)));
      all.push_back(calls.back().get());
    }
    for (Call* c : all) ASSERT_NE(c->set_state(GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE) << c->error;
    ASSERT_TRUE(run_until_ended(all, 30.0)) << "timeout";
    for (Call* c : all) EXPECT_TRUE(c->eos) << c->error;
    expect_each_hears_the_others(calls, 12000, 12000);
  }
  sm_conference_delete(conf);
  for (tSMChannelId ch : channels) EXPECT_EQ(sm_channel_release(ch), 0) << "the elements did not release it";
  SM_CLOSE_MODULE_PARMS close{};
  close.module_id = open.module_id;
  EXPECT_EQ(sm_close_module(&close), 0);
}

// ---------------------------------------------------------------------------
// Acceptance 5: bad use gets a clear error and disturbs nothing else.

// The description fails to reach state (the states before it are reached),
// with an error that says what.
void expect_fails_at(const std::string& description, GstState state, const std::string& says) {
  Call c(description);
  if (state == GST_STATE_PAUSED) {
    EXPECT_NE(c.set_state(GST_STATE_READY), GST_STATE_CHANGE_FAILURE) << c.error;
  }
  EXPECT_EQ(c.set_state(state), GST_STATE_CHANGE_FAILURE) << description;
  c.poll();
  EXPECT_NE(c.error.find(says), std::string::npos) << c.error;
}

TEST_F(SrcSinkTest, UnknownModuleFailsAtReady) {
  expect_fails_at("audiotestsrc ! prosodysink module=9 party=x", GST_STATE_READY, "module 9 does not exist");
}

TEST_F(SrcSinkTest, UnknownChannelFailsAtPaused) {
  expect_fails_at("prosodysrc module=1 channel=12345 ! fakesink", GST_STATE_PAUSED, "is not a channel of module 1");
}

TEST_F(SrcSinkTest, PartyAndChannelTogetherAreRefused) {
  expect_fails_at("prosodysrc module=1 party=x channel=5 ! fakesink", GST_STATE_READY, "not both");
}

TEST_F(SrcSinkTest, CapsTheModuleCannotTakeAreRefused) {
  Call c(std::string("audiotestsrc num-buffers=10 ! audio/x-raw,format=S16LE,rate=16000,channels=1 ! ") +
         "prosodysink module=capsbad party=x drive=stepped");
  c.set_state(GST_STATE_PLAYING);
  ASSERT_TRUE(run_until_ended({&c}, 10.0));
  // The sink offers the module's rate only, so upstream cannot negotiate;
  // the sink's error (the first on the bus) says why, with what was offered.
  EXPECT_NE(c.error.find("the module runs at 8000 Hz"), std::string::npos)
      << "16 kHz into an 8 kHz module: " << c.error;
  EXPECT_NE(c.error.find("rate=(int)16000"), std::string::npos) << "the offered caps: " << c.error;
  EXPECT_NE(c.error.find("audioresample"), std::string::npos) << "what to do: " << c.error;
}

// An audioresample in front adapts to the module's rate: no error.
TEST_F(SrcSinkTest, AnotherRateThroughAudioresampleIsTaken) {
  Call c(
      std::string("audiotestsrc num-buffers=20 samplesperbuffer=160 ! audio/x-raw,format=S16LE,rate=16000,"
                  "channels=1 ! audioresample ! prosodysink name=in module=capsresampled party=x drive=stepped"));
  c.set_state(GST_STATE_PLAYING);
  ASSERT_TRUE(run_until_ended({&c}, 10.0));
  EXPECT_TRUE(c.eos) << c.error;
  EXPECT_TRUE(c.error.empty()) << c.error;
  EXPECT_GE(c.stat("in", "frames-in"), 19u) << "0.2 s of audio, 20 frames of 10 ms (the resampler's delay aside)";
}

// A second sink on a party that one already feeds fails; the first feeds on.
TEST_F(SrcSinkTest, AChannelAlreadyFedIsRefusedAndTheFeedGoesOn) {
  const std::string module = "fedtwice";
  auto a = std::make_unique<Call>(
      caller(module, "party=a", kFreq[0], 400, 300, true, "conference=c", kLiveMargin, kLiveSrc));
  auto b = std::make_unique<Call>(
      caller(module, "party=b", kFreq[1], 400, 300, true, "conference=c", kLiveMargin, kLiveSrc));
  for (Call* x : {a.get(), b.get()}) ASSERT_NE(x->set_state(GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE) << x->error;
  run_for({a.get(), b.get()}, 0.5);
  Call intruder("audiotestsrc is-live=true freq=1000 ! " + std::string(kCaps) + " ! prosodysink module=" + module +
                " party=a conference=c");
  EXPECT_EQ(intruder.set_state(GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
  intruder.poll();
  EXPECT_NE(intruder.error.find("already fed"), std::string::npos) << intruder.error;
  intruder.stop();
  ASSERT_TRUE(run_until_ended({a.get(), b.get()}, 30.0)) << "timeout";
  const std::vector<float>& heard = b->out().samples;
  const double talk = audiotestsrc_dbm0(kVolume);
  EXPECT_NEAR(tone_db(heard, kFreq[0], kRate, 12000, 12000) - talk, 0.0, 0.5) << "a feeds on";
  EXPECT_LT(tone_db(heard, 1000.0, kRate, 12000, 12000) - talk, -60.0) << "the intruder is not heard";
  EXPECT_EQ(heard.size(), 300u * 80u);
}

// A pipeline torn down mid-stream (to NULL while streaming, without EOS)
// leaves the others running, and its party can come back.
TEST_F(SrcSinkTest, TearDownMidStreamDisturbsNothingElse) {
  const std::string module = "teardown";
  auto a = std::make_unique<Call>(
      caller(module, "party=a", kFreq[0], 400, 300, true, "conference=c", kLiveMargin, kLiveSrc));
  auto b = std::make_unique<Call>(
      caller(module, "party=b", kFreq[1], 400, 300, true, "conference=c", kLiveMargin, kLiveSrc));
  for (Call* x : {a.get(), b.get()}) ASSERT_NE(x->set_state(GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE) << x->error;
  run_for({a.get(), b.get()}, 0.7);
  b.reset();  // torn down
  run_for({a.get()}, 0.3);
  auto again = std::make_unique<Call>(
      caller(module, "party=b", kFreq[3], 300, 100, true, "conference=c", kLiveMargin, kLiveSrc));
  ASSERT_NE(again->set_state(GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE) << again->error;
  ASSERT_TRUE(run_until_ended({a.get()}, 30.0)) << "timeout";
  again.reset();
  EXPECT_TRUE(a->eos) << a->error;
  const std::vector<float>& heard = a->out().samples;
  EXPECT_EQ(heard.size(), 300u * 80u);
  expect_contiguous(a->out(), "the caller who stayed");
  const double talk = audiotestsrc_dbm0(kVolume);
  EXPECT_NEAR(tone_db(heard, kFreq[1], kRate, 1600, 2400) - talk, 0.0, 0.5) << "b before its teardown";
  EXPECT_LT(tone_db(heard, kFreq[1], kRate, 16000, 8000) - talk, -60.0) << "b after its teardown";
  EXPECT_NEAR(tone_db(heard, kFreq[3], kRate, 16000, 8000) - talk, 0.0, 0.5) << "party b again, another tone";
}

// ---------------------------------------------------------------------------
// The module as the pipeline's clock.

// A live pipeline with a prosodysrc runs on the module's clock: its time is
// the module's sample counter over the rate (between frames, the monotonic
// time since the counter was reached), and the buffers follow each other by
// exactly a frame.
TEST_F(SrcSinkTest, ALivePipelineRunsOnTheModulesClock) {
  Call c("prosodysrc name=src module=clock party=x num-buffers=100 ! appsink name=out sync=false");
  ASSERT_NE(c.set_state(GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE) << c.error;
  run_for({&c}, 0.3);
  GstClock* clock = gst_pipeline_get_clock(GST_PIPELINE(c.pipeline()));
  ASSERT_TRUE(clock);
  EXPECT_TRUE(GST_IS_AUDIO_CLOCK(clock)) << "the pipeline chose " << GST_OBJECT_NAME(clock);
  prosody::Module module = prosody::Module::open_shared("clock");
  EXPECT_EQ(module.drive_mode(), prosody::DriveMode::realtime);
  for (int i = 0; i < 5; ++i) {
    const prosody::ModuleTime t = module.time();
    const GstClockTime now = gst_clock_get_time(clock);
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    const std::int64_t mono = std::int64_t(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
    ASSERT_GE(t.monotonic_ns, 0);
    // The module's time of now, from the reading before the clock's.
    const double expected = double(t.samples) * 1e9 / 8000.0 + double(mono - t.monotonic_ns);
    EXPECT_NEAR(double(now), expected, 10e6) << "within a frame of the module's counter";
    g_usleep(20000);
  }
  gst_object_unref(clock);
  ASSERT_TRUE(run_until_ended({&c}, 30.0));
  EXPECT_TRUE(c.eos) << c.error;
  EXPECT_EQ(c.out().sizes.size(), 100u);
  expect_contiguous(c.out(), "prosodysrc");
}

// ---------------------------------------------------------------------------
// Network jitter is not drift.

// An unpaced import on a true clock (no drift): 10 ms buffers stamped every
// 10 ms, each pushed after a delay uniform in 0..20 ms (in order: a buffer
// never goes before the one before it), and with held_per_mille of them held
// 60 ms instead (a loss a jitter buffer waits for), for 20 s into a sink with
// the cascade's 40 ms margin. Returns the sink's corrections, recording its
// counts.
guint64 corrections_of_jittered_import(const std::string& module, unsigned held_per_mille,
                                       const std::function<void(const std::string&, guint64)>& record) {
  constexpr int kBuffers = 2000;
  constexpr gint64 kPeriodUs = 10000;
  Call c("appsrc name=src is-live=true format=time caps=" + std::string(kCaps) + ",layout=interleaved" +
         " ! prosodysink name=in module=" + module + " party=a conference=c latency=40000000 buffer-time=1000000000");
  EXPECT_NE(c.set_state(GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE) << c.error;
  GstElement* src = gst_bin_get_by_name(GST_BIN(c.pipeline()), "src");
  const double peak = testsig::sine_peak(audiotestsrc_dbm0(kVolume)) * 32767.0;
  std::uint32_t rng = 12345;
  const gint64 t0 = g_get_monotonic_time() + 100000;
  gint64 last_push = t0;
  for (int i = 0; i < kBuffers; ++i) {
    rng = rng * 1664525u + 1013904223u;
    gint64 delay = gint64((rng >> 8) % 20000);
    rng = rng * 1664525u + 1013904223u;
    if ((rng >> 8) % 1000 < held_per_mille) delay = 60000;
    last_push = std::max(last_push, t0 + i * kPeriodUs + delay);
    while (g_get_monotonic_time() < last_push) {
      c.poll();
      g_usleep(std::max<gint64>(0, std::min<gint64>(2000, last_push - g_get_monotonic_time())));
    }
    GstBuffer* b = gst_buffer_new_allocate(nullptr, 160, nullptr);
    GstMapInfo map;
    gst_buffer_map(b, &map, GST_MAP_WRITE);
    auto* pcm = reinterpret_cast<gint16*>(map.data);
    for (int k = 0; k < 80; ++k)
      pcm[k] = gint16(peak * std::sin(2.0 * testsig::kPi * 500.0 * double(i * 80 + k) / kRate));
    gst_buffer_unmap(b, &map);
    GST_BUFFER_PTS(b) = GstClockTime(i) * 10 * GST_MSECOND;
    GST_BUFFER_DURATION(b) = 10 * GST_MSECOND;
    PROSODY_TSAN_RELEASE(b);  // to the sink's streaming thread, through GLib's queue
    EXPECT_EQ(gst_app_src_push_buffer(GST_APP_SRC(src), b), GST_FLOW_OK);
  }
  run_for({&c}, 0.2);
  gst_object_unref(src);
  for (const char* field : {"drift-dropped", "drift-repeated", "underruns", "overrun-frames", "frames-in"})
    record(field, c.stat("in", field));
  EXPECT_TRUE(c.error.empty()) << c.error;
  return c.stat("in", "drift-dropped") + c.stat("in", "drift-repeated");
}

// 0..20 ms of jitter, no drift, 20 s: the margin covers it, and the drift
// control sees no drift. Each correcting window is 5 samples; 10 allows for
// two on a loaded machine (a stall of seconds moves every wait).
TEST_F(SrcSinkTest, SlowJitterWithoutDriftMakesAlmostNoCorrections) {
  const guint64 corrections = corrections_of_jittered_import(
      "jitter rate=8000", 0, [this](const std::string& k, guint64 v) { RecordProperty(k, std::to_string(v)); });
  EXPECT_LE(corrections, 10u);
}

// The same with 5 % of the buffers held 60 ms (losses behind a jitter
// buffer), beyond the margin: their underruns are concealed; still no drift.
TEST_F(SrcSinkTest, SlowJitterAndLossHoldsWithoutDriftMakeAlmostNoCorrections) {
  const guint64 corrections = corrections_of_jittered_import(
      "jitterloss rate=8000", 50, [this](const std::string& k, guint64 v) { RecordProperty(k, std::to_string(v)); });
  EXPECT_LE(corrections, 10u);
}

// ---------------------------------------------------------------------------
// Clock drift between a source and the module.

// Clocks 0.2% fast and 0.2% slow: a live source on one delivers 8016 or
// 7984 samples a second to a module taking 8000.
std::int64_t monotonic_now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::int64_t(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
}
GstClockTime fast_clock_time(GstClock*, gpointer) { return GstClockTime(double(monotonic_now_ns()) * 1.002); }
GstClockTime slow_clock_time(GstClock*, gpointer) { return GstClockTime(double(monotonic_now_ns()) * 0.998); }

// Two talkers, each on its own drifting clock (their pipelines have no
// prosodysrc to give them the module's) for 25 s, and a listener for
// 20 s (its last 2 s are within the talkers' time even when its thread
// falls 5 s behind and its oldest frames are dropped).
// Unabsorbed, the fast talker's queue would grow by 16 samples a second
// and the slow one's shrink by as much; the drift control drops samples
// from the first and repeats samples in the second. Frames of 5 ms make it
// act within seconds: its bound is one sample in ten frames (0.25% at
// 5 ms), and the band it holds the least wait in, half the margin (10 ms)
// to the margin plus two frames, is reached in at most 5 s, and again at
// most 5 s after a stall has made it start over (a trim: the margin).
//
// Real time on a shared machine: a stall makes underruns, and the burst
// after it a trim (an overrun) that absorbs the surplus of that moment, and
// either can make a correction of the other sign. So the test asserts
// what load cannot fake: each talker's corrections go the way of its
// drift, at least twice as many as the other way, and absorb a part of the
// surplus due once the band is reached (~300 samples each); and the
// listener hears both tones. Counts of underruns and
// overruns are recorded (RecordProperty), not asserted.
TEST_F(SrcSinkTest, SlowDriftOfFastAndSlowSourcesIsAbsorbed) {
  const std::string module = "drift rate=8000 frame-duration=5000000";
  const std::string caps = "audio/x-raw,format=S16LE,rate=8000,channels=1";
  const std::string margin = " latency=10000000 buffer-time=1000000000";
  auto talker = [&](double freq, const char* party) {
    return "audiotestsrc is-live=true freq=" + std::to_string(freq) +
           " volume=0.2 samplesperbuffer=40 num-buffers=5000 ! " + caps + " ! prosodysink name=in module=" + module +
           " party=" + party + " conference=c" + margin;
  };
  Call fast(talker(400.0, "fast"));
  Call slow(talker(600.0, "slow"));
  Call listener("prosodysrc name=src module=" + module + " party=l conference=c num-buffers=4000 " + kLiveSrc +
                " ! appsink name=out sync=false");
  GstClock* fast_clock = gst_audio_clock_new("fast", fast_clock_time, nullptr, nullptr);
  GstClock* slow_clock = gst_audio_clock_new("slow", slow_clock_time, nullptr, nullptr);
  gst_pipeline_use_clock(GST_PIPELINE(fast.pipeline()), fast_clock);
  gst_pipeline_use_clock(GST_PIPELINE(slow.pipeline()), slow_clock);
  gst_object_unref(fast_clock);
  gst_object_unref(slow_clock);
  ASSERT_NE(listener.set_state(GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE) << listener.error;
  ASSERT_NE(fast.set_state(GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE) << fast.error;
  ASSERT_NE(slow.set_state(GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE) << slow.error;
  ASSERT_TRUE(run_until_ended({&fast, &slow, &listener}, 120.0)) << "timeout";
  EXPECT_TRUE(listener.eos) << listener.error;

  const guint64 fast_dropped = fast.stat("in", "drift-dropped"), fast_repeated = fast.stat("in", "drift-repeated");
  const guint64 slow_dropped = slow.stat("in", "drift-dropped"), slow_repeated = slow.stat("in", "drift-repeated");
  for (auto [name, call] : {std::pair<const char*, Call*>{"fast", &fast}, {"slow", &slow}})
    for (const char* field : {"drift-dropped", "drift-repeated", "underruns", "overrun-frames", "frames-in"})
      RecordProperty(std::string(name) + "_" + field, std::to_string(call->stat("in", field)));
  RecordProperty("listener_dropped-frames", std::to_string(listener.stat("src", "dropped-frames")));
  // Over a second of a talker trimmed: the machine stalled for seconds in
  // all (a trim follows a backlog of 30 ms or more). Drift (2 ms a second)
  // is then not what moved the waits, and a stall can make corrections
  // either way: measured at load 14-18 with a test beside it, 375 frames
  // trimmed and 50 samples dropped from the slow talker against 43
  // repeated. Not a measurement of drift: skipped, saying so.
  const guint64 most_trimmed = std::max(fast.stat("in", "overrun-frames"), slow.stat("in", "overrun-frames"));
  if (most_trimmed > 200)
    GTEST_SKIP() << "the machine stalled: " << most_trimmed << " frames (" << most_trimmed * 5
                 << " ms) of a talker trimmed after stalls; drift is not measurable in this run";
  // The surplus (or lack) is 16 samples a second, 400 in all, ~300 of it
  // after the band is reached; at load 20 under ThreadSanitizer stalls made
  // trims that took most of it and left 47 and 60 corrections: 20 at least
  // (four windows' worth), whatever stalls took.
  EXPECT_GE(fast_dropped, 20u) << "the fast source's surplus was not dropped (repeated " << fast_repeated << ")";
  EXPECT_GE(slow_repeated, 20u) << "the slow source's lack was not made up (dropped " << slow_dropped << ")";
  EXPECT_GT(fast_dropped, 2 * fast_repeated) << "the fast source: corrections the wrong way";
  EXPECT_GT(slow_repeated, 2 * slow_dropped) << "the slow source: corrections the wrong way";

  const std::vector<float>& heard = listener.out().samples;
  ASSERT_GE(heard.size(), 4000u * 40u);
  // Dropping a sample in one frame of ten plays 401 cycles of a 400 Hz tone
  // a second: while the control corrects, a tone is up to 0.25% higher
  // (lower when it repeats), 0.2% on average. Each correction steps its
  // phase by a sample (0.31 or 0.47 rad), 20 times a second, which moves
  // part of it into sidebands 20 Hz apart (measured: 2 to 3.6 dB, more with
  // a trim in the window). So: the level at the best frequency between the
  // tone's and the most corrected, over the last 2 s, is the talker heard
  // (within 10 dB), not lost to the corrections; the levels are recorded.
  const double talk = audiotestsrc_dbm0(0.2);
  auto best_level = [&](double from, double to) {
    double best = -300.0;
    for (double f = from; f <= to + 1e-9; f += 0.1)
      best = std::max(best, tone_db(heard, f, kRate, heard.size() - 16000, 16000));
    return best - talk;
  };
  const double fast_level = best_level(400.0, 401.0), slow_level = best_level(598.5, 600.0);
  RecordProperty("fast_level_db", std::to_string(fast_level));
  RecordProperty("slow_level_db", std::to_string(slow_level));
  EXPECT_GT(fast_level, -10.0) << "the fast talker";
  EXPECT_GT(slow_level, -10.0) << "the slow talker";
}

}  // namespace
