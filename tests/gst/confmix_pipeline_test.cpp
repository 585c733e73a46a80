// prosodyconfmix as users first write it: src pads straight into encoders and
// sinks (no queue), a party joining a file conference while it plays, a
// property set while downstream waits to preroll, late input told on the
// bus, and a pad that cannot be added.
#include <gtest/gtest.h>
#include <glib/gstdio.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>

#include "gst_test_util.hpp"

namespace {

using namespace gsttest;

constexpr double kRate = 8000.0;

std::string talker(int pad, double freq, double volume, int buffers, bool live = false) {
  char s[400];
  std::snprintf(s, sizeof s,
                "audiotestsrc is-live=%s freq=%g volume=%g samplesperbuffer=160 num-buffers=%d ! "
                "audio/x-raw,format=S16LE,rate=8000,channels=1 ! m.sink_%d ",
                live ? "true" : "false", freq, volume, buffers, pad);
  return s;
}

// Samples of a mono 8 kHz WAV file written by wavenc.
std::vector<float> read_wav_file(const std::string& path) {
  std::vector<float> x;
  int rate = 0;
  EXPECT_TRUE(testsig::read_wav(path, x, rate)) << path;
  EXPECT_EQ(rate, 8000) << path;
  return x;
}

// The documented first pipeline: three parties, each src pad into
// audioconvert ! wavenc ! filesink, with and without a queue after the src
// pads. Both reach EOS, and every file holds the two others and not itself.
TEST(ConfMixPipelines, SrcPadsNeedNoQueueToPreroll) {
  const double freq[3] = {440.0, 660.0, 880.0};
  gchar* dir = g_dir_make_tmp("confmix-XXXXXX", nullptr);
  ASSERT_NE(dir, nullptr);
  for (bool queues : {false, true}) {
    SCOPED_TRACE(queues ? "with queues" : "without queues");
    std::string d = "prosodyconfmix name=m rate=8000 ";
    for (int i = 0; i < 3; ++i) d += talker(i, freq[i], 0.2, 100);
    for (int i = 0; i < 3; ++i)
      d += "m.src_" + std::to_string(i) + (queues ? " ! queue" : "") +
           " ! audioconvert ! wavenc ! filesink location=" + dir + "/party" + std::to_string(i) + ".wav ";
    const PipelineRun run = run_pipeline(d, 30.0);
    ASSERT_TRUE(run.eos) << run.error;
    for (int i = 0; i < 3; ++i) {
      const std::vector<float> x = read_wav_file(std::string(dir) + "/party" + std::to_string(i) + ".wav");
      ASSERT_GE(x.size(), 15000u);
      for (int t = 0; t < 3; ++t) {
        const double db = tone_db(x, freq[t], kRate, 4000, 8000);
        if (t == i)
          EXPECT_LT(db - audiotestsrc_dbm0(0.2), -60.0) << "party " << i << " hears itself";
        else
          EXPECT_NEAR(db, audiotestsrc_dbm0(0.2), 0.2) << "party " << i << " hears party " << t;
      }
      g_remove((std::string(dir) + "/party" + std::to_string(i) + ".wav").c_str());
    }
  }
  g_rmdir(dir);
  g_free(dir);
}

// Live too: every sink prerolls before a live pipeline plays, so a single
// pushing thread would wait in the first sink forever. Three live parties,
// each src pad straight into a default (syncing, prerolling) sink: the
// pipeline plays, and a listener hears the two others at their level.
TEST(ConfMixPipelines, LiveConferenceNeedsNoQueueToPlay) {
  GError* err = nullptr;
  ElementPtr pipeline(gst_parse_launch(("prosodyconfmix name=m rate=8000 " + talker(0, 440.0, 0.2, -1, true) +
                                        talker(1, 660.0, 0.2, -1, true) + talker(2, 880.0, 0.2, -1, true) +
                                        "m.src_0 ! appsink name=out caps=audio/x-raw,format=F32LE "
                                        "m.src_1 ! fakesink m.src_2 ! fakesink")
                                           .c_str(),
                                       &err));
  ASSERT_EQ(err, nullptr) << err->message;
  ElementPtr out(gst_bin_get_by_name(GST_BIN(pipeline.get()), "out"));
  ASSERT_NE(gst_element_set_state(pipeline.get(), GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
  Capture heard;
  for (int i = 0; i < 400 && heard.samples.size() < 12000; ++i) {
    drain_appsink(out.get(), heard);
    g_usleep(5000);
  }
  GstState state = GST_STATE_NULL;
  gst_element_get_state(pipeline.get(), &state, nullptr, 0);
  gst_element_set_state(pipeline.get(), GST_STATE_NULL);
  EXPECT_EQ(state, GST_STATE_PLAYING);
  ASSERT_GE(heard.samples.size(), 12000u) << "the live conference did not play";
  EXPECT_NEAR(tone_db(heard.samples, 660.0, kRate, 4000, 8000), audiotestsrc_dbm0(0.2), 0.5);
  EXPECT_NEAR(tone_db(heard.samples, 880.0, kRate, 4000, 8000), audiotestsrc_dbm0(0.2), 0.5);
  EXPECT_LT(tone_db(heard.samples, 440.0, kRate, 4000, 8000) - audiotestsrc_dbm0(0.2), -60.0);
}

// A thousand parties, each src pad into a default fakesink (which prerolls
// and syncs to the clock): the conference prerolls and reaches EOS.
TEST(ConfMixPipelines, SlowThousandPartiesIntoDefaultFakesinks) {
  std::string d = "prosodyconfmix name=m rate=8000 ";
  for (int i = 0; i < 1000; ++i) {
    char s[300];
    std::snprintf(s, sizeof s,
                  "audiotestsrc freq=%d volume=0.01 samplesperbuffer=160 num-buffers=15 ! m.sink_%d m.src_%d ! "
                  "fakesink ",
                  300 + i, i, i);
    d += s;
  }
  const PipelineRun run = run_pipeline(d, 300.0);
  EXPECT_TRUE(run.eos) << run.error;
}

// Sinks that never wait (sync=false async=false) need no more sending
// threads than the pool keeps, even while the element prerolls with every
// queue due at once: 1,000 file parties, and at most twice the pool's size
// at any time (one doubling allowed for a push the machine happened to hold
// up for 10 ms). Starting a thread whenever all were busy before PLAYING
// gave 20 to 440 here in three runs of four; they then took turns for the
// lock.
TEST(ConfMixPipelines, NoMoreSendingThreadsThanThePoolWhenNoSinkWaits) {
  constexpr int kParties = 1000;
  std::string d = "prosodyconfmix name=m rate=8000 frame-duration=20000000 ";
  for (int i = 0; i < kParties; ++i)
    d += talker(i, 300.0 + i, 0.05, 25) + "m.src_" + std::to_string(i) + " ! fakesink sync=false async=false ";
  GError* err = nullptr;
  ElementPtr pipeline(gst_parse_launch(d.c_str(), &err));
  ASSERT_EQ(err, nullptr) << err->message;
  ElementPtr mix(gst_bin_get_by_name(GST_BIN(pipeline.get()), "m"));
  BusPtr bus(gst_element_get_bus(pipeline.get()));
  ASSERT_NE(gst_element_set_state(pipeline.get(), GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
  MessagePtr end(gst_bus_timed_pop_filtered(bus.get(), 120 * GST_SECOND,
                                            static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR)));
  ASSERT_TRUE(end);
  EXPECT_EQ(GST_MESSAGE_TYPE(end.get()), GST_MESSAGE_EOS);
  GstStructure* stats = nullptr;
  g_object_get(mix.get(), "stats", &stats, nullptr);
  guint peak = 0;
  guint64 frames = 0;
  ASSERT_TRUE(gst_structure_get_uint(stats, "sending-threads-peak", &peak));
  ASSERT_TRUE(gst_structure_get_uint64(stats, "frames-mixed", &frames));
  gst_structure_free(stats);
  gst_element_set_state(pipeline.get(), GST_STATE_NULL);
  EXPECT_GE(frames, 25u) << "the conference did not run";
  const guint pool_size = std::min(4u, g_get_num_processors());
  EXPECT_GE(peak, 1u);
  EXPECT_LE(peak, 2 * pool_size) << "sending threads started with no sink waiting";
}

// Src pads share a few sending threads; a downstream that blocks must not
// hold up the others. Eight file parties, each paced on its way in
// (identity sleep-time: 20 ms per 20 ms buffer; not live, so every push goes
// through the sending threads) and each src pad into a fakesink that does
// not sync: output flows at about real time and a push returns at once,
// unless blocked. The sinks of five (more than the pool keeps: one thread per core,
// at most four) block for 1.5 s once, at 1 s of audio (queue-time 3 s, so
// the queue of a blocked pad does not fill). The three others keep
// receiving in time: no gap between their buffers longer than 0.7 s (20 ms
// apart when all is well; 1.5 s if the blocked pushes held up the pool).
// Every buffer arrives, and the pool is back to its size once idle.
struct SinkArrivals {
  std::mutex lock;
  std::vector<gint64> at_us;  // monotonic time of each buffer
};

void record_arrival(GstElement*, GstBuffer*, GstPad*, gpointer data) {
  auto* a = static_cast<SinkArrivals*>(data);
  std::lock_guard<std::mutex> lk(a->lock);
  a->at_us.push_back(g_get_monotonic_time());
}

GstPadProbeReturn block_once_at_one_second(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* blocked = static_cast<std::atomic<bool>*>(data);
  GstBuffer* buf = GST_PAD_PROBE_INFO_BUFFER(info);
  if (GST_BUFFER_PTS(buf) >= GST_SECOND && !blocked->exchange(true)) g_usleep(1500000);
  return GST_PAD_PROBE_OK;
}

TEST(ConfMixPipelines, OtherSrcPadsKeepReceivingWhileFiveDownstreamsBlock) {
  constexpr int kParties = 8, kBlocked = 5, kBuffers = 150;  // 3 s each
  std::string d = "prosodyconfmix name=m rate=8000 frame-duration=20000000 queue-time=3000000000 ";
  for (int i = 0; i < kParties; ++i) {
    d += "audiotestsrc freq=" + std::to_string(300 + 100 * i) +
         " volume=0.1 samplesperbuffer=160 num-buffers=" + std::to_string(kBuffers) +
         " ! audio/x-raw,format=S16LE,rate=8000,channels=1 ! identity sleep-time=20000 ! m.sink_" + std::to_string(i) +
         " ";
    d += "m.src_" + std::to_string(i) + " ! fakesink name=s" + std::to_string(i) +
         " sync=false async=false signal-handoffs=true ";
  }
  GError* err = nullptr;
  ElementPtr pipeline(gst_parse_launch(d.c_str(), &err));
  ASSERT_EQ(err, nullptr) << err->message;
  ElementPtr mix(gst_bin_get_by_name(GST_BIN(pipeline.get()), "m"));
  std::vector<SinkArrivals> arrivals(kParties);
  std::vector<std::atomic<bool>> blocked(kParties);
  for (int i = 0; i < kParties; ++i) {
    ElementPtr sink(gst_bin_get_by_name(GST_BIN(pipeline.get()), ("s" + std::to_string(i)).c_str()));
    g_signal_connect(sink.get(), "handoff", G_CALLBACK(record_arrival), &arrivals[i]);
    if (i < kBlocked) {
      PadPtr pad(gst_element_get_static_pad(sink.get(), "sink"));
      gst_pad_add_probe(pad.get(), GST_PAD_PROBE_TYPE_BUFFER, block_once_at_one_second, &blocked[i], nullptr);
    }
  }
  BusPtr bus(gst_element_get_bus(pipeline.get()));
  ASSERT_NE(gst_element_set_state(pipeline.get(), GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
  MessagePtr end(gst_bus_timed_pop_filtered(bus.get(), 60 * GST_SECOND,
                                            static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR)));
  ASSERT_TRUE(end);
  EXPECT_EQ(GST_MESSAGE_TYPE(end.get()), GST_MESSAGE_EOS);
  // Idle: the threads started for the blocked pushes end (a second after the
  // pool's size last sufficed; up to 5 s allowed on a loaded machine).
  const guint pool_size = std::min(4u, g_get_num_processors());
  guint threads = 99, peak = 0;
  for (int i = 0; i < 50 && threads > pool_size; ++i) {
    g_usleep(100000);
    GstStructure* stats = nullptr;
    g_object_get(mix.get(), "stats", &stats, nullptr);
    ASSERT_TRUE(gst_structure_get_uint(stats, "sending-threads", &threads));
    ASSERT_TRUE(gst_structure_get_uint(stats, "sending-threads-peak", &peak));
    gst_structure_free(stats);
  }
  gst_element_set_state(pipeline.get(), GST_STATE_NULL);

  for (int i = 0; i < kParties; ++i) {
    std::lock_guard<std::mutex> lk(arrivals[i].lock);
    const std::vector<gint64>& t = arrivals[i].at_us;
    ASSERT_EQ(t.size(), std::size_t(kBuffers)) << "src_" << i;
    gint64 longest_gap = 0;
    for (std::size_t k = 1; k < t.size(); ++k) longest_gap = std::max(longest_gap, t[k] - t[k - 1]);
    if (i < kBlocked)
      EXPECT_GE(longest_gap, 1400000) << "src_" << i << ": its sink did not block";
    else
      EXPECT_LT(longest_gap, 700000) << "src_" << i << " waited for the blocked ones";
  }
  EXPECT_GT(peak, guint(kBlocked)) << "the pool did not grow past the blocked pushes";
  EXPECT_LE(threads, pool_size) << "threads beyond the pool's size did not end";
}

// A party that joins a non-live conference while it plays is heard from
// where the mix is, from its first sample: its own timestamps start at 0,
// far behind, and none of its audio is dropped as late.
TEST(ConfMixPipelines, PartyJoiningAFileConferenceIsHeardFromWhereTheMixIs) {
  GError* err = nullptr;
  ElementPtr pipeline(gst_parse_launch(("prosodyconfmix name=m rate=8000 " + talker(0, 440.0, 0.2, 400) +
                                        "m.src_1 ! appsink name=out sync=true caps=audio/x-raw,format=F32LE")
                                           .c_str(),
                                       &err));
  ASSERT_EQ(err, nullptr) << err->message;
  ElementPtr mix(gst_bin_get_by_name(GST_BIN(pipeline.get()), "m"));
  ElementPtr out(gst_bin_get_by_name(GST_BIN(pipeline.get()), "out"));
  BusPtr bus(gst_element_get_bus(pipeline.get()));
  ASSERT_NE(gst_element_set_state(pipeline.get(), GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
  Capture heard;
  // sync=true: the mix runs at the clock's pace; after about 1 s a party joins.
  while (heard.samples.size() < 8000) {
    drain_appsink(out.get(), heard);
    g_usleep(5000);
  }
  GError* perr = nullptr;
  GstElement* newcomer = gst_parse_bin_from_description(
      "audiotestsrc freq=770 volume=0.2 samplesperbuffer=160 num-buffers=50 ! "
      "capsfilter caps=audio/x-raw,format=S16LE,rate=8000,channels=1",
      TRUE, &perr);
  ASSERT_EQ(perr, nullptr) << perr->message;
  gst_bin_add(GST_BIN(pipeline.get()), newcomer);
  GstPad* sink2 = gst_element_request_pad_simple(mix.get(), "sink_2");
  ASSERT_NE(sink2, nullptr);
  PadPtr newcomer_src(gst_element_get_static_pad(newcomer, "src"));
  ASSERT_EQ(gst_pad_link(newcomer_src.get(), sink2), GST_PAD_LINK_OK);
  gst_element_sync_state_with_parent(newcomer);
  MessagePtr end;
  for (int i = 0; i < 4000 && !end; ++i) {  // appsink posts EOS once it is drained
    drain_appsink(out.get(), heard);
    end.reset(gst_bus_timed_pop_filtered(bus.get(), 5 * GST_MSECOND,
                                         static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR)));
  }
  ASSERT_TRUE(end);
  EXPECT_EQ(GST_MESSAGE_TYPE(end.get()), GST_MESSAGE_EOS);
  drain_appsink(out.get(), heard);
  GstStructure* stats = nullptr;
  g_object_get(sink2, "stats", &stats, nullptr);
  guint64 late = 1;
  ASSERT_TRUE(gst_structure_get_uint64(stats, "late-samples", &late));
  gst_structure_free(stats);
  gst_element_set_state(pipeline.get(), GST_STATE_NULL);
  gst_element_release_request_pad(mix.get(), sink2);
  gst_object_unref(sink2);

  EXPECT_EQ(late, 0u) << "the newcomer's audio was dropped as late";
  // The newcomer's 50 buffers (1 s) are heard, in one stretch, at its level.
  const std::size_t block = 400;  // 50 ms
  std::size_t first = 0, count = 0;
  for (std::size_t b = 0; b + block <= heard.samples.size(); b += block) {
    if (tone_db(heard.samples, 770.0, kRate, b, block) > audiotestsrc_dbm0(0.2) - 3.0) {
      if (count == 0) first = b;
      ++count;
    }
  }
  EXPECT_GE(first, 8000u) << "heard where it joined, not before";
  EXPECT_NEAR(double(count * block) / kRate, 1.0, 0.1) << "seconds of the newcomer heard";
  EXPECT_NEAR(tone_db(heard.samples, 770.0, kRate, first + 800, 4000), audiotestsrc_dbm0(0.2), 0.3);
}

// EOS reaches a src pad whose sink waits (PAUSED, prerolled) while another
// thread sets a pad property: the element holds no lock while it pushes, so
// the setter returns at once, and the pipeline finishes when PLAYING.
TEST(ConfMixPipelines, PropertySetWhileEosWaitsInAPrerolledSink) {
  GError* err = nullptr;
  ElementPtr pipeline(gst_parse_launch(("prosodyconfmix name=m rate=8000 " + talker(0, 440.0, 0.2, 5) +
                                        talker(1, 660.0, 0.2, 5) + "m.src_0 ! fakesink m.src_1 ! fakesink")
                                           .c_str(),
                                       &err));
  ASSERT_EQ(err, nullptr) << err->message;
  ElementPtr mix(gst_bin_get_by_name(GST_BIN(pipeline.get()), "m"));
  BusPtr bus(gst_element_get_bus(pipeline.get()));
  ASSERT_NE(gst_element_set_state(pipeline.get(), GST_STATE_PAUSED), GST_STATE_CHANGE_FAILURE);
  ASSERT_EQ(gst_element_get_state(pipeline.get(), nullptr, nullptr, 10 * GST_SECOND), GST_STATE_CHANGE_SUCCESS);
  g_usleep(200000);  // the inputs (100 ms) have ended; EOS waits in the sinks
  std::atomic<bool> returned{false};
  std::thread setter([&] {
    PadPtr src0(gst_element_get_static_pad(mix.get(), "src_0"));
    PadPtr sink1(gst_element_get_static_pad(mix.get(), "sink_1"));
    for (int i = 0; i < 20; ++i) {
      g_object_set(src0.get(), "volume", -double(i % 6), nullptr);
      g_object_set(sink1.get(), "mute", i % 2 == 0, nullptr);
    }
    returned = true;
  });
  for (int i = 0; i < 200 && !returned; ++i) g_usleep(10000);
  EXPECT_TRUE(returned) << "a pad property setter blocked while EOS waited downstream";
  ASSERT_NE(gst_element_set_state(pipeline.get(), GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
  MessagePtr end(gst_bus_timed_pop_filtered(bus.get(), 10 * GST_SECOND,
                                            static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR)));
  ASSERT_TRUE(end);
  EXPECT_EQ(GST_MESSAGE_TYPE(end.get()), GST_MESSAGE_EOS);
  setter.join();
  gst_element_set_state(pipeline.get(), GST_STATE_NULL);
}

// A request for a pad whose name is taken by a pad that is not the
// element's own fails cleanly: no party is left behind, nothing leaks
// (ASan), and the conference works on.
TEST(ConfMixPipelines, RequestForAPadNameTakenFailsCleanly) {
  ElementPtr mix(gst_element_factory_make("prosodyconfmix", nullptr));
  ASSERT_TRUE(mix);
  GstPad* foreign = gst_pad_new("sink_5", GST_PAD_SINK);
  ASSERT_TRUE(gst_element_add_pad(mix.get(), foreign));
  {
    LogCapture core("GStreamer");  // the core says the name is taken, twice
    GstPad* requested = gst_element_request_pad_simple(mix.get(), "sink_5");
    EXPECT_EQ(requested, nullptr);
    EXPECT_FALSE(core.messages.empty());
  }
  GstStructure* stats = nullptr;
  g_object_get(mix.get(), "stats", &stats, nullptr);
  guint parties = 99;
  ASSERT_TRUE(gst_structure_get_uint(stats, "parties", &parties));
  gst_structure_free(stats);
  EXPECT_EQ(parties, 0u);
  GstPad* other = gst_element_request_pad_simple(mix.get(), "sink_6");
  ASSERT_NE(other, nullptr);
  gst_element_release_request_pad(mix.get(), other);
  gst_object_unref(other);
  gst_element_remove_pad(mix.get(), foreign);
}

// Live input that arrives after its frame was mixed is dropped, counted,
// and told on the bus as a warning naming the pad and the fix (at most once
// every few seconds per pad).
TEST(ConfMixPipelines, LateLiveInputIsWarnedOnTheBus) {
  ElementPtr mix(gst_element_factory_make("prosodyconfmix", "m"));
  ASSERT_TRUE(mix);
  g_object_set(mix.get(), "rate", 8000u, nullptr);
  BusPtr bus(gst_bus_new());
  gst_element_set_bus(mix.get(), bus.get());
  HarnessPtr h(gst_harness_new_with_element(mix.get(), "sink_0", "src_0"));
  gst_harness_set_live(h.get(), TRUE);
  gst_harness_use_testclock(h.get());
  const char* caps = "audio/x-raw,format=F32LE,rate=8000,channels=1,layout=interleaved";
  gst_harness_set_src_caps_str(h.get(), caps);
  gst_harness_set_sink_caps_str(h.get(), caps);
  auto buffer = [](GstClockTime pts) {
    GstBuffer* b = gst_buffer_new_allocate(nullptr, 160 * 4, nullptr);
    gst_buffer_memset(b, 0, 0, 160 * 4);
    GST_BUFFER_PTS(b) = pts;
    GST_BUFFER_DURATION(b) = 20 * GST_MSECOND;
    return b;
  };
  ASSERT_EQ(gst_harness_push(h.get(), buffer(0)), GST_FLOW_OK);
  // The clock runs on: the frames of the first second are mixed without it.
  for (int i = 0; i < 100; ++i) {
    gst_harness_crank_single_clock_wait(h.get());
    if (GstBuffer* b = gst_harness_try_pull(h.get())) {
      PROSODY_TSAN_ACQUIRE(b);  // pushed by the mixing task's thread
      gst_buffer_unref(b);
    }
  }
  ASSERT_EQ(gst_harness_push(h.get(), buffer(100 * GST_MSECOND)), GST_FLOW_OK);  // long mixed
  bool warned = false;
  while (GstMessage* m = gst_bus_pop_filtered(bus.get(), GST_MESSAGE_WARNING)) {
    GError* e = nullptr;
    gst_message_parse_warning(m, &e, nullptr);
    const std::string text = e->message;
    warned = warned || (text.find("sink_0") != std::string::npos &&
                        text.find("arrived after their frame was mixed") != std::string::npos);
    g_error_free(e);
    gst_message_unref(m);
  }
  EXPECT_TRUE(warned);
  PadPtr sink0(gst_element_get_static_pad(mix.get(), "sink_0"));
  GstStructure* stats = nullptr;
  g_object_get(sink0.get(), "stats", &stats, nullptr);
  guint64 late = 0;
  ASSERT_TRUE(gst_structure_get_uint64(stats, "late-samples", &late));
  gst_structure_free(stats);
  EXPECT_EQ(late, 160u);
  gst_bus_set_flushing(bus.get(), TRUE);
  h.reset();
  gst_element_set_state(mix.get(), GST_STATE_NULL);
}

}  // namespace
