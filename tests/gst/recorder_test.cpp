// prosodyrecorder: channels in pad order, formats, limits and their
// reasons, splitting, progress, and the unhappy paths (unwritable path,
// format not supported, a pad requested while recording, caps changes, a
// full disk).
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "file_readers.hpp"
#include "gst_test_util.hpp"
#include "prosody/files.hpp"
#include "prosodyelements.h"

namespace {

using gsttest::run_pipeline;

class Recorder : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ASSERT_TRUE(GST_ELEMENT_REGISTER(prosodyrecorder, nullptr)); }
  void SetUp() override {
    const char* tmp = std::getenv("TMPDIR");
    dir_ = std::string(tmp ? tmp : "/tmp") + "/prosody-recorder-" + std::to_string(getpid());
    mkdir(dir_.c_str(), 0755);
  }
  void TearDown() override { (void)!system(("rm -rf '" + dir_ + "'").c_str()); }
  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  std::string dir_;
};

// A 8 kHz mono tone source of seconds s into pad.
std::string tone(double freq, double volume, double seconds, const std::string& pad, const char* format = "S16LE") {
  return "audiotestsrc freq=" + std::to_string(freq) + " volume=" + std::to_string(volume) +
         " samplesperbuffer=160 num-buffers=" + std::to_string(int(seconds * 50)) + " ! audio/x-raw,format=" + format +
         ",rate=8000,channels=1 ! " + pad + " ";
}

struct FileAudio {
  unsigned rate = 0, channels = 0;
  std::vector<std::vector<float>> ch;
  std::size_t frames() const { return ch.empty() ? 0 : ch[0].size(); }
};

FileAudio read_file(const std::string& path, const char* raw_format = nullptr) {
  FileAudio a;
  prosody::FileReaderSettings rs;
  if (raw_format) rs.raw_format = prosody::parse_file_format(raw_format);
  std::string error;
  auto r = prosody::FileReader::open(path, rs, &error);
  EXPECT_TRUE(r) << error;
  if (!r) return a;
  a.rate = r->rate();
  a.channels = r->channels();
  a.ch.resize(a.channels);
  std::vector<float> buf(4096 * a.channels);
  std::size_t got;
  while ((got = r->read(buf.data(), 4096)) > 0)
    for (std::size_t i = 0; i < got; ++i)
      for (unsigned c = 0; c < a.channels; ++c) a.ch[c].push_back(buf[i * a.channels + c]);
  return a;
}

// SNR of y against audiotestsrc's sine (volume 0.3, 500 Hz), which starts
// a sample ahead of ours.
double snr_vs_source(const std::vector<float>& y, std::size_t from, std::size_t n) {
  const auto ref =
      testsig::sine(500.0, gsttest::audiotestsrc_dbm0(0.3), from + n, 8000.0, 2 * testsig::kPi * 500.0 / 8000.0);
  return testsig::snr_db(ref.data() + from, y.data() + from, n);
}

const GstStructure* find_message(const gsttest::PipelineRun& run, const char* name) {
  for (const GstStructure* s : run.element_messages)
    if (gst_structure_has_name(s, name)) return s;
  return nullptr;
}

std::string reason_of(const gsttest::PipelineRun& run) {
  const GstStructure* s = find_message(run, "prosody-recorder-done");
  return s && gst_structure_get_string(s, "reason") ? gst_structure_get_string(s, "reason") : "";
}

// Zeroes the buffers entering element name's sink pad whose PTS is in
// [from, to) (to = NONE: for ever).
void silence_between(GstElement* pipeline, const char* name, GstClockTime from, GstClockTime to) {
  struct Span {
    GstClockTime from, to;
  };
  GstElement* e = gst_bin_get_by_name(GST_BIN(pipeline), name);
  GstPad* pad = gst_element_get_static_pad(e, "sink");
  gst_pad_add_probe(
      pad, GST_PAD_PROBE_TYPE_BUFFER,
      [](GstPad*, GstPadProbeInfo* info, gpointer data) -> GstPadProbeReturn {
        const Span* span = static_cast<const Span*>(data);
        GstBuffer* b = GST_PAD_PROBE_INFO_BUFFER(info);
        const GstClockTime t = GST_BUFFER_PTS(b);
        if (t >= span->from && (!GST_CLOCK_TIME_IS_VALID(span->to) || t < span->to)) {
          b = gst_buffer_make_writable(b);
          gst_buffer_memset(b, 0, 0, gst_buffer_get_size(b));
          GST_PAD_PROBE_INFO_DATA(info) = b;
        }
        return GST_PAD_PROBE_OK;
      },
      new Span{from, to}, [](gpointer data) { delete static_cast<Span*>(data); });
  gst_object_unref(pad);
  gst_object_unref(e);
}

TEST_F(Recorder, MonoWavHoldsTheInputSampleForSample) {
  const std::string file = path("mono.wav");
  auto run = run_pipeline(tone(500, 0.3, 2.0, "r.sink_0") + "prosodyrecorder name=r location=" + file);
  ASSERT_TRUE(run.eos) << run.error;
  EXPECT_EQ(reason_of(run), "eos");
  const auto a = read_file(file);
  ASSERT_EQ(a.channels, 1u);
  EXPECT_EQ(a.rate, 8000u);
  EXPECT_EQ(a.frames(), 16000u);
  // audiotestsrc's sine, at its level, from the first sample on.
  EXPECT_NEAR(testsig::tone_level_dbm0(a.ch[0], 500.0, 8000.0), gsttest::audiotestsrc_dbm0(0.3), 0.1);
  EXPECT_GT(snr_vs_source(a.ch[0], 0, 16000), 70.0);
  int progress = 0;
  for (const GstStructure* s : run.element_messages) progress += gst_structure_has_name(s, "prosody-recorder-progress");
  EXPECT_EQ(progress, 3) << "one a second of audio (at 0, 1 and 2 s)";
  const GstStructure* done = find_message(run, "prosody-recorder-done");
  guint64 duration = 0, bytes = 0;
  ASSERT_TRUE(gst_structure_get_uint64(done, "duration", &duration));
  ASSERT_TRUE(gst_structure_get_uint64(done, "bytes", &bytes));
  EXPECT_EQ(duration, 2 * GST_SECOND);
  EXPECT_EQ(bytes, 44u + 32000u);
}

TEST_F(Recorder, TwoPadsAreTwoChannelsInPadOrder) {
  const std::string file = path("stereo.wav");
  // Pad 1 is requested first: order is by pad number, not by request.
  auto run = run_pipeline(tone(700, 0.2, 1.0, "r.sink_1") + tone(500, 0.3, 1.0, "r.sink_0", "F32LE") +
                          "prosodyrecorder name=r location=" + file);
  ASSERT_TRUE(run.eos) << run.error;
  const auto a = read_file(file);
  ASSERT_EQ(a.channels, 2u);
  EXPECT_EQ(a.frames(), 8000u);
  EXPECT_NEAR(testsig::tone_level_dbm0(a.ch[0], 500.0, 8000.0), gsttest::audiotestsrc_dbm0(0.3), 0.1);
  EXPECT_NEAR(testsig::tone_level_dbm0(a.ch[1], 700.0, 8000.0), gsttest::audiotestsrc_dbm0(0.2), 0.1);
  EXPECT_LT(testsig::tone_level_dbm0(a.ch[0], 700.0, 8000.0), -100.0) << "left holds pad 0 only";
  EXPECT_LT(testsig::tone_level_dbm0(a.ch[1], 500.0, 8000.0), -100.0) << "right holds pad 1 only";
}

TEST_F(Recorder, EveryFormatRoundTrips) {
  struct Case {
    const char* format;
    double min_snr;
  };
  for (const Case& c : {Case{"wav", 70.0}, Case{"flac", 70.0}, Case{"au", 70.0}, Case{"wav-alaw", 30.0},
                        Case{"wav-ulaw", 30.0}, Case{"wav-ima-adpcm", 18.0}, Case{"vox", 17.0}, Case{"opus", 14.0}}) {
    SCOPED_TRACE(c.format);
    const std::string file = path(std::string("f.") + c.format);
    auto run = run_pipeline(tone(500, 0.3, 1.0, "r.sink_0") + "prosodyrecorder name=r format=" + c.format +
                            " location=" + file);
    ASSERT_TRUE(run.eos) << run.error;
    const auto a = read_file(file, std::string(c.format) == "vox" ? "vox" : nullptr);
    ASSERT_GE(a.frames(), 7000u);
    const std::size_t n = std::min<std::size_t>(a.frames(), 8000) - 800;
    EXPECT_GT(snr_vs_source(a.ch[0], 800, n), c.min_snr);
  }
}

TEST_F(Recorder, EachLimitEndsTheRecordingWithItsReason) {
  {
    const std::string file = path("time.wav");
    auto run = run_pipeline(tone(500, 0.3, 5.0, "r.sink_0") +
                            "prosodyrecorder name=r max-duration=1234000000 location=" + file);
    ASSERT_TRUE(run.eos) << run.error;
    EXPECT_EQ(reason_of(run), "time");
    EXPECT_EQ(read_file(file).frames(), 1240u * 8) << "the frame that reached 1234 ms is the last";
  }
  {
    const std::string file = path("length.wav");
    auto run =
        run_pipeline(tone(500, 0.3, 5.0, "r.sink_0") + "prosodyrecorder name=r max-bytes=10044 location=" + file);
    ASSERT_TRUE(run.eos) << run.error;
    EXPECT_EQ(reason_of(run), "length");
    const auto frames = read_file(file).frames();
    EXPECT_GE(frames * 2 + 44, 10044u);
    EXPECT_LT(frames * 2 + 44, 10044u + 160u) << "within a frame";
  }
  {
    // 1 s of tone, then silence (volume 0): ends 300 ms into the silence.
    const std::string file = path("silence.wav");
    auto run = run_pipeline(
        "audiotestsrc freq=500 volume=0.3 samplesperbuffer=160 num-buffers=250 name=s ! "
        "audio/x-raw,format=S16LE,rate=8000,channels=1 ! volume name=v ! r.sink_0 "
        "prosodyrecorder name=r max-silence=300000000 location=" +
            file,
        60.0, [](GstElement* pipeline) { silence_between(pipeline, "v", GST_SECOND, GST_CLOCK_TIME_NONE); });
    ASSERT_TRUE(run.eos) << run.error;
    EXPECT_EQ(reason_of(run), "silence");
    EXPECT_EQ(read_file(file).frames(), 1300u * 8);
  }
}

TEST_F(Recorder, SilenceEliminationShortensTheFile) {
  // 0.5 s tone, 2 s silence, 0.5 s tone: the silence is cut to 2 x 100 ms.
  const std::string file = path("elim.wav");
  auto run = run_pipeline(
      "audiotestsrc freq=500 volume=0.3 samplesperbuffer=160 num-buffers=150 ! "
      "audio/x-raw,format=S16LE,rate=8000,channels=1 ! identity name=gate ! r.sink_0 "
      "prosodyrecorder name=r silence-elimination=100000000 location=" +
          file,
      60.0, [](GstElement* pipeline) { silence_between(pipeline, "gate", GST_SECOND / 2, GST_SECOND * 5 / 2); });
  ASSERT_TRUE(run.eos) << run.error;
  EXPECT_EQ(read_file(file).frames(), (500u + 200u + 500u) * 8);
}

TEST_F(Recorder, SplitsIntoNumberedFiles) {
  auto run = run_pipeline(tone(500, 0.3, 3.5, "r.sink_0") +
                          "prosodyrecorder name=r split-duration=1000000000 location=" + path("part.wav"));
  ASSERT_TRUE(run.eos) << run.error;
  const std::size_t want[] = {8000, 8000, 8000, 4000};
  for (int i = 0; i < 4; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "part-%05d.wav", i);
    EXPECT_EQ(read_file(path(name)).frames(), want[i]) << name;
  }
  int files = 0;
  for (const GstStructure* s : run.element_messages) files += gst_structure_has_name(s, "prosody-recorder-file");
  EXPECT_EQ(files, 3) << "a message per finished file, then done";

  // By size, numbered by a printf pattern: a file ends with the frame that
  // takes it to 20,044 bytes (44 of header, 1.25 s of audio).
  auto by_size = run_pipeline(tone(500, 0.3, 3.5, "r.sink_0") +
                              "prosodyrecorder name=r split-bytes=20044 location=" + path("b-%02u.wav"));
  ASSERT_TRUE(by_size.eos) << by_size.error;
  const std::size_t sizes[] = {10000, 10000, 8000};
  for (int i = 0; i < 3; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "b-%02d.wav", i);
    EXPECT_EQ(read_file(path(name)).frames(), sizes[i]) << name;
  }
}

// Live: a pad whose upstream stops sending (buffers dropped from 1 s on, no
// GAP, EOS only at the end) holds the file back by max-lag, not more: at
// 2.5 s the file already holds about 1.5 s; at the end the stalled channel
// is silent from 1 s on.
TEST_F(Recorder, ALiveStalledPadHoldsTheFileBackByMaxLagOnly) {
  const std::string file = path("lag.wav");
  GstElement* pipeline =
      gst_parse_launch(("audiotestsrc is-live=true freq=500 volume=0.3 samplesperbuffer=160 num-buffers=200 ! "
                        "audio/x-raw,format=S16LE,rate=8000,channels=1 ! r.sink_0 "
                        "audiotestsrc is-live=true freq=700 volume=0.3 samplesperbuffer=160 num-buffers=200 ! "
                        "audio/x-raw,format=S16LE,rate=8000,channels=1 ! identity name=stall ! r.sink_1 "
                        "prosodyrecorder name=r location=" +
                        file)
                           .c_str(),
                       nullptr);
  ASSERT_TRUE(pipeline);
  GstElement* stall = gst_bin_get_by_name(GST_BIN(pipeline), "stall");
  GstPad* pad = gst_element_get_static_pad(stall, "src");
  gst_pad_add_probe(
      pad, GST_PAD_PROBE_TYPE_BUFFER,
      [](GstPad*, GstPadProbeInfo* info, gpointer) {
        return GST_BUFFER_PTS(GST_PAD_PROBE_INFO_BUFFER(info)) >= GST_SECOND ? GST_PAD_PROBE_DROP : GST_PAD_PROBE_OK;
      },
      nullptr, nullptr);
  gst_object_unref(pad);
  gst_object_unref(stall);
  ASSERT_NE(gst_element_set_state(pipeline, GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
  g_usleep(2500000);
  const double held = testsig::seconds_by_libsndfile(file);
  std::printf("[ measure ] 2.5 s into the recording, with a pad stalled since 1 s: %.2f s in the file\n", held);
  EXPECT_GT(held, 1.2) << "max-lag (1 s) behind the live pad, not stuck at the stall (1.0 s)";
  GstBus* bus = gst_element_get_bus(pipeline);
  GstMessage* m = gst_bus_timed_pop_filtered(bus, 10 * GST_SECOND,
                                             static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  ASSERT_TRUE(m);
  EXPECT_EQ(GST_MESSAGE_TYPE(m), GST_MESSAGE_EOS);
  gst_message_unref(m);
  gst_object_unref(bus);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(pipeline);
  const auto a = read_file(file);
  ASSERT_EQ(a.channels, 2u);
  EXPECT_NEAR(double(a.frames()), 32000.0, 160.0);
  EXPECT_NEAR(testsig::tone_level_dbm0(a.ch[1].data(), 8000, 700.0, 8000.0), gsttest::audiotestsrc_dbm0(0.3), 0.2);
  EXPECT_LT(testsig::level_dbm0(a.ch[1].data() + 8160, 16000), -100.0) << "silent after the stall";
}

// ---- Unhappy paths

TEST_F(Recorder, UnwritablePathFailsAtReadyToPaused) {
  GstElement* r = gst_element_factory_make("prosodyrecorder", nullptr);
  gst_object_ref_sink(r);
  g_object_set(r, "location", "/nonexistent-dir/x.wav", nullptr);
  GstPad* pad = gst_element_request_pad_simple(r, "sink_%u");
  ASSERT_TRUE(pad);
  gsttest::LogCapture quiet("GStreamer");
  EXPECT_EQ(gst_element_set_state(r, GST_STATE_READY), GST_STATE_CHANGE_SUCCESS);
  EXPECT_EQ(gst_element_set_state(r, GST_STATE_PAUSED), GST_STATE_CHANGE_FAILURE);
  gst_element_set_state(r, GST_STATE_NULL);
  gst_element_release_request_pad(r, pad);
  gst_object_unref(pad);
  gst_object_unref(r);
  // And through a pipeline, with the reason on the bus.
  auto run = run_pipeline(tone(500, 0.3, 1.0, "r.sink_0") + "prosodyrecorder name=r location=/nonexistent-dir/x.wav");
  EXPECT_NE(run.error.find("No such file or directory"), std::string::npos) << run.error;
}

TEST_F(Recorder, AFormatThatCannotHoldTheChannelsFails) {
  auto run = run_pipeline(tone(500, 0.3, 1.0, "r.sink_0") + tone(700, 0.3, 1.0, "r.sink_1") +
                          "prosodyrecorder name=r format=vox location=" + path("two.vox"));
  EXPECT_NE(run.error.find("mono only"), std::string::npos) << run.error;
}

TEST_F(Recorder, APadRequestedWhileRecordingIsRefused) {
  GstElement* pipeline = gst_parse_launch(
      ("audiotestsrc is-live=true samplesperbuffer=160 ! audio/x-raw,rate=8000 ! r.sink_0 prosodyrecorder name=r "
       "location=" +
       path("live.wav"))
          .c_str(),
      nullptr);
  ASSERT_TRUE(pipeline);
  ASSERT_NE(gst_element_set_state(pipeline, GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
  g_usleep(200000);
  GstElement* r = gst_bin_get_by_name(GST_BIN(pipeline), "r");
  EXPECT_EQ(gst_element_request_pad_simple(r, "sink_%u"), nullptr);
  GstBus* bus = gst_element_get_bus(pipeline);
  GstMessage* m = gst_bus_timed_pop_filtered(bus, GST_SECOND, GST_MESSAGE_WARNING);
  ASSERT_TRUE(m);
  GError* e = nullptr;
  gst_message_parse_warning(m, &e, nullptr);
  EXPECT_NE(std::string(e->message).find("READY->PAUSED"), std::string::npos) << e->message;
  g_error_free(e);
  gst_message_unref(m);
  gst_object_unref(bus);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(r);
  gst_object_unref(pipeline);
  EXPECT_GT(read_file(path("live.wav")).frames(), 1000u) << "stopping finished the file";
}

TEST_F(Recorder, CapsChanges) {
  // A second pad at another rate: refused. Whichever pad's caps come first
  // fix the file's rate; the other is refused either by the CAPS query (it
  // offers the file's rate only, so upstream fails to negotiate) or, when
  // both negotiate at once, by the element's own check of the rate.
  auto run = run_pipeline(tone(500, 0.3, 1.0, "r.sink_0") +
                          "audiotestsrc num-buffers=50 ! audio/x-raw,format=S16LE,rate=16000,channels=1 ! r.sink_1 "
                          "prosodyrecorder name=r location=" +
                          path("rates.wav"));
  EXPECT_TRUE(run.error.find("not-negotiated") != std::string::npos ||
              run.error.find("every pad must have the same rate") != std::string::npos)
      << run.error;
  // Caps sent without asking: refused (the pad's ACCEPT_CAPS offers the
  // file's rate only; two pads negotiating at once get the element's error).
  {
    GstElement* r = gst_element_factory_make("prosodyrecorder", nullptr);
    gst_object_ref_sink(r);
    g_object_set(r, "location", path("rates2.wav").c_str(), nullptr);
    GstBus* bus = gst_bus_new();
    gst_element_set_bus(r, bus);
    GstPad* p0 = gst_element_request_pad_simple(r, "sink_%u");
    GstPad* p1 = gst_element_request_pad_simple(r, "sink_%u");
    ASSERT_EQ(gst_element_set_state(r, GST_STATE_PAUSED), GST_STATE_CHANGE_SUCCESS);
    const auto caps = [](GstPad* pad, int rate) {
      gst_pad_send_event(pad, gst_event_new_stream_start("s"));
      GstCaps* c = gst_caps_new_simple("audio/x-raw", "format", G_TYPE_STRING, "S16LE", "rate", G_TYPE_INT, rate,
                                       "channels", G_TYPE_INT, 1, "layout", G_TYPE_STRING, "interleaved", nullptr);
      const gboolean ok = gst_pad_send_event(pad, gst_event_new_caps(c));
      gst_caps_unref(c);
      return ok;
    };
    EXPECT_TRUE(caps(p0, 8000));
    EXPECT_FALSE(caps(p1, 16000));
    EXPECT_TRUE(caps(p1, 8000));
    gst_element_set_state(r, GST_STATE_NULL);
    gst_element_release_request_pad(r, p0);
    gst_element_release_request_pad(r, p1);
    gst_object_unref(p0);
    gst_object_unref(p1);
    // The error messages on the bus hold the element: drop them, or element,
    // bus and messages keep each other alive.
    gst_element_set_bus(r, nullptr);
    gst_bus_set_flushing(bus, TRUE);
    gst_object_unref(bus);
    gst_object_unref(r);
  }
  // A pad changing sample format mid-stream (S16 then F32): fine.
  auto ok = run_pipeline(
      "audiotestsrc freq=500 volume=0.3 samplesperbuffer=160 num-buffers=50 ! "
      "audio/x-raw,format=S16LE,rate=8000,channels=1 ! "
      "c.sink_0 concat name=c ! r.sink_0 "
      "audiotestsrc freq=500 volume=0.3 samplesperbuffer=160 num-buffers=50 ! "
      "audio/x-raw,format=F32LE,rate=8000,channels=1 ! "
      "c.sink_1 prosodyrecorder name=r location=" +
      path("formats.wav"));
  ASSERT_TRUE(ok.eos) << ok.error;
  const auto a = read_file(path("formats.wav"));
  EXPECT_EQ(a.frames(), 16000u);
  EXPECT_NEAR(testsig::tone_level_dbm0(a.ch[0].data() + 8000, 8000, 500.0, 8000.0), gsttest::audiotestsrc_dbm0(0.3),
              0.1);
}

TEST_F(Recorder, AFullDiskEndsWithAClearErrorAndAValidFile) {
  if (geteuid() != 0) GTEST_SKIP() << "mounting a small tmpfs needs root";
  const std::string mnt = path("small");
  mkdir(mnt.c_str(), 0755);
  if (mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=64k") != 0) GTEST_SKIP() << "cannot mount a tmpfs here";
  const std::string file = mnt + "/full.wav";
  auto run = run_pipeline(tone(500, 0.3, 10.0, "r.sink_0") + "prosodyrecorder name=r location=" + file);
  EXPECT_NE(run.error.find("disk is full"), std::string::npos) << run.error;
  EXPECT_EQ(reason_of(run), "error");
  struct stat st {};
  ASSERT_EQ(stat(file.c_str(), &st), 0);
  const auto a = read_file(file);
  std::printf("[ measure ] full disk: file of %lld bytes holds %zu frames\n", (long long)st.st_size, a.frames());
  EXPECT_EQ(a.frames(), std::size_t(st.st_size - 44) / 2) << "the header counts what is on the disk";
  EXPECT_GT(a.frames(), 20000u);
  EXPECT_NEAR(testsig::tone_level_dbm0(a.ch[0], 500.0, 8000.0), gsttest::audiotestsrc_dbm0(0.3), 0.1);
  umount2(mnt.c_str(), MNT_DETACH);
}

}  // namespace
