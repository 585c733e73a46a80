// Parties joining and leaving a live conference while PLAYING with audio
// flowing: no crash, no leak (ASan), and no click at the outputs that stay
// (the largest second difference of a remaining sine output stays bounded).
#include <gtest/gtest.h>

#include <cmath>

#include "gst_test_util.hpp"

namespace {

using namespace gsttest;

constexpr double kPi = 3.14159265358979323846;

// Party 0 talks a sine that party 1 hears; parties 2.. come and go. Every
// fourth newcomer talks (a live sine) for a couple of frames before it
// leaves; the others join with unlinked pads.
void join_and_leave(int cycles) {
  GError* err = nullptr;
  ElementPtr pipeline(gst_parse_launch(
      // 500 ms of latency: slow runs (sanitizers on a loaded machine) must
      // not make party 0's input late, whose concealment is not what this
      // test measures (the sink pad's stats tell if it happened).
      "prosodyconfmix name=m rate=8000 latency=500000000 "
      "audiotestsrc is-live=true freq=300 volume=0.3 samplesperbuffer=80 ! audio/x-raw,format=F32LE,rate=8000 ! "
      "m.sink_0  m.src_0 ! queue ! fakesink sync=false async=false "
      "m.src_1 ! queue ! appsink name=out sync=false async=false caps=audio/x-raw,format=F32LE",
      &err));
  ASSERT_EQ(err, nullptr) << err->message;
  ElementPtr mix(gst_bin_get_by_name(GST_BIN(pipeline.get()), "m"));
  ElementPtr out(gst_bin_get_by_name(GST_BIN(pipeline.get()), "out"));
  BusPtr bus(gst_element_get_bus(pipeline.get()));
  struct StopAtExit {
    GstElement* p;
    ~StopAtExit() { gst_element_set_state(p, GST_STATE_NULL); }
  } stop_at_exit{pipeline.get()};
  ASSERT_NE(gst_element_set_state(pipeline.get(), GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
  Capture heard;
  g_usleep(100000);

  GstPadTemplate* sink_t = gst_element_class_get_pad_template(GST_ELEMENT_GET_CLASS(mix.get()), "sink_%u");
  GstPadTemplate* src_t = gst_element_class_get_pad_template(GST_ELEMENT_GET_CLASS(mix.get()), "src_%u");
  for (int i = 0; i < cycles; ++i) {
    const std::string k = std::to_string(2 + i % 7);  // names are reused
    GstPad* sink = gst_element_request_pad(mix.get(), sink_t, ("sink_" + k).c_str(), nullptr);
    GstPad* src = gst_element_request_pad(mix.get(), src_t, ("src_" + k).c_str(), nullptr);
    ASSERT_NE(sink, nullptr);
    ASSERT_NE(src, nullptr);
    GstElement* talker = nullptr;
    if (i % 4 == 0) {
      GError* perr = nullptr;
      talker = gst_parse_bin_from_description(
          "audiotestsrc is-live=true freq=200 volume=0.1 samplesperbuffer=80 ! "
          "capsfilter caps=audio/x-raw,format=F32LE,rate=8000",
          TRUE, &perr);
      ASSERT_EQ(perr, nullptr) << perr->message;
      gst_bin_add(GST_BIN(pipeline.get()), talker);
      PadPtr talker_src(gst_element_get_static_pad(talker, "src"));
      ASSERT_EQ(gst_pad_link(talker_src.get(), sink), GST_PAD_LINK_OK);
      gst_element_sync_state_with_parent(talker);
    }
    g_usleep(i % 4 == 0 ? 25000 : 1000);
    drain_appsink(out.get(), heard);
    if (talker) {
      gst_element_set_state(talker, GST_STATE_NULL);
      gst_bin_remove(GST_BIN(pipeline.get()), talker);
    }
    gst_element_release_request_pad(mix.get(), sink);
    gst_element_release_request_pad(mix.get(), src);
    gst_object_unref(sink);
    gst_object_unref(src);
    MessagePtr bad(gst_bus_pop_filtered(bus.get(), static_cast<GstMessageType>(GST_MESSAGE_ERROR)));
    ASSERT_EQ(bad, nullptr) << "error in cycle " << i;
  }
  g_usleep(100000);
  drain_appsink(out.get(), heard);
  EXPECT_EQ(GST_ELEMENT(mix.get())->numpads, 3u) << "every requested pad went away";
  guint64 late = 0, concealed = 0;
  {
    PadPtr talker0(gst_element_get_static_pad(mix.get(), "sink_0"));
    GstStructure* stats = nullptr;
    g_object_get(talker0.get(), "stats", &stats, nullptr);
    ASSERT_NE(stats, nullptr);
    gst_structure_get_uint64(stats, "late-buffers", &late);
    gst_structure_get_uint64(stats, "frames-concealed", &concealed);
    gst_structure_free(stats);
  }
  gst_element_set_state(pipeline.get(), GST_STATE_NULL);

  // What party 1 heard: party 0's sine, smooth through every join and
  // leave. A step of a newcomer's 0.1 amplitude would be a second
  // difference of about 0.1; the sines themselves stay under 0.02.
  ASSERT_GT(heard.samples.size(), 4000u);
  const double w0 = 2.0 * kPi * 300.0 / 8000.0, w1 = 2.0 * kPi * 200.0 / 8000.0;
  const double smooth = 0.3 * w0 * w0 + 0.1 * w1 * w1;
  const std::size_t skip = 800;  // the first 100 ms: party 0 joining
  EXPECT_LT(testsig::max_second_difference(heard.samples.data() + skip, heard.samples.size() - skip), 2.0 * smooth)
      << "a click at a remaining output (party 0: " << late << " late buffers, " << concealed
      << " frames concealed; concealment of a late input also makes one)";
  EXPECT_NEAR(tone_db(heard.samples, 300.0, 8000.0, skip, heard.samples.size() - skip), audiotestsrc_dbm0(0.3), 0.5);
}

TEST(ConfMixStress, PartiesJoinAndLeaveWhilePlaying) { join_and_leave(60); }

TEST(ConfMixStress, SlowThousandJoinLeaveCycles) { join_and_leave(1000); }

}  // namespace
