// prosodytonesuppress through GstHarness and in pipelines: the 16 digits at
// every rate and format with their timing, suppression depth and leak,
// bit-exact pass-through away from tones, speech talk-off, packet loss,
// bad input, caps and property changes while playing, call-progress and fax
// tones, output timestamps and locking; and prosodyconfmix's tone reports,
// checked by the same rules.
#include "test_data.hpp"
#include <glib/gstdio.h>
#include <gst/audio/audio.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "../tones/dtmf/dtmf_stimulus.hpp"
#include "gst_test_util.hpp"
#include "prosodyelements.h"

namespace {

using namespace gsttest;

class RegisterToneSuppress : public ::testing::Environment {
 public:
  void SetUp() override { ASSERT_TRUE(GST_ELEMENT_REGISTER(prosodytonesuppress, nullptr)); }
};
[[maybe_unused]] ::testing::Environment* const kRegistered =
    ::testing::AddGlobalTestEnvironment(new RegisterToneSuppress);

constexpr int kRates[] = {8000, 16000, 32000, 48000};

// GStreamer's dtmf-event number of a keypad character (test-side, on purpose
// not the library's mapping).
int dtmf_number(char d) {
  if (d >= '0' && d <= '9') return d - '0';
  if (d == '*') return 10;
  if (d == '#') return 11;
  if (d >= 'A' && d <= 'D') return 12 + (d - 'A');
  return -1;
}

GstClockTime at(std::size_t sample, int rate) { return gst_util_uint64_scale_int(sample, GST_SECOND, rate); }
double ms_of(GstClockTime t) { return double(t) / double(GST_MSECOND); }
double ms_of(std::size_t samples, int rate) { return 1000.0 * double(samples) / rate; }

// One dtmf-event or prosody-tone message.
struct ToneMsg {
  std::string name;
  int type = -1, number = -1, method = -1, volume = -1, id = -1, id2 = -1;
  bool start = false;
  bool has_duration = false;
  double level = 0.0;
  std::string tone;
  GstClockTime timestamp = GST_CLOCK_TIME_NONE, running_time = GST_CLOCK_TIME_NONE, stream_time = GST_CLOCK_TIME_NONE,
               duration = GST_CLOCK_TIME_NONE;
};

ToneMsg parse_tone_message(const GstStructure* s) {
  ToneMsg m;
  m.name = gst_structure_get_name(s);
  gst_structure_get_int(s, "type", &m.type);
  gst_structure_get_int(s, "number", &m.number);
  gst_structure_get_int(s, "method", &m.method);
  gst_structure_get_int(s, "volume", &m.volume);
  gst_structure_get_int(s, "id", &m.id);
  gst_structure_get_int(s, "id2", &m.id2);
  gboolean start = FALSE;
  gst_structure_get_boolean(s, "start", &start);
  m.start = start;
  gst_structure_get_double(s, "level", &m.level);
  if (const char* t = gst_structure_get_string(s, "tone")) m.tone = t;
  guint64 v;
  if (gst_structure_get_uint64(s, "timestamp", &v)) m.timestamp = v;
  if (gst_structure_get_uint64(s, "running-time", &v)) m.running_time = v;
  if (gst_structure_get_uint64(s, "stream-time", &v)) m.stream_time = v;
  if (gst_structure_get_uint64(s, "duration", &v)) {
    m.duration = v;
    m.has_duration = true;
  }
  return m;
}

std::vector<ToneMsg> only(const std::vector<ToneMsg>& all, const char* name, int start = -1) {
  std::vector<ToneMsg> out;
  for (const ToneMsg& m : all)
    if (m.name == name && (start < 0 || m.start == bool(start))) out.push_back(m);
  return out;
}

// prosodytonesuppress on a harness: float signals in (converted to the
// negotiated format), output and bus messages collected.
class Rig {
 public:
  Rig(int rate, bool f32, std::vector<std::pair<const char*, const char*>> props = {}) : rate_(rate), f32_(f32) {
    h_.reset(gst_harness_new("prosodytonesuppress"));
    gst_harness_set_live(h_.get(), FALSE);
    for (const auto& p : props) gst_util_set_object_arg(G_OBJECT(h_->element), p.first, p.second);
    gst_element_set_bus(h_->element, bus_.get());
    // Each output buffer's format as its pad had it when it was pushed (the
    // harness's sink pad already has newer caps when we pull).
    PadPtr src(gst_element_get_static_pad(h_->element, "src"));
    gst_pad_add_probe(src.get(), GST_PAD_PROBE_TYPE_BUFFER, &Rig::note_format, this, nullptr);
    set_caps(rate, f32);
  }
  ~Rig() {
    // Messages left on the bus hold the element (their source), and the
    // element holds the bus: drop them, or neither is ever freed.
    gst_bus_set_flushing(bus_.get(), TRUE);
    h_.reset();
  }

  GstHarness* h() { return h_.get(); }
  GstElement* element() { return h_->element; }
  int rate() const { return rate_; }

  void set(const char* name, const char* value) { gst_util_set_object_arg(G_OBJECT(h_->element), name, value); }

  // New caps (the harness sends them with a segment on the first call).
  void set_caps(int rate, bool f32) {
    rate_ = rate;
    f32_ = f32;
    gchar* caps =
        g_strdup_printf("audio/x-raw,format=%s,rate=%d,channels=1,layout=interleaved", f32 ? "F32LE" : "S16LE", rate);
    if (!caps_sent_) {
      gst_harness_set_src_caps_str(h_.get(), caps);
      caps_sent_ = true;
    } else {
      GstCaps* c = gst_caps_from_string(caps);
      EXPECT_TRUE(gst_harness_push_event(h_.get(), gst_event_new_caps(c)));  // the event takes its own ref
      gst_caps_unref(c);
    }
    g_free(caps);
  }

  GstBuffer* make_buffer(const float* x, std::size_t n, GstClockTime pts) const {
    const std::size_t bps = f32_ ? 4 : 2;
    GstBuffer* b = gst_buffer_new_allocate(nullptr, n * bps, nullptr);
    GstMapInfo map;
    gst_buffer_map(b, &map, GST_MAP_WRITE);
    if (f32_) {
      std::copy(x, x + n, reinterpret_cast<float*>(map.data));
    } else {
      gint16* d = reinterpret_cast<gint16*>(map.data);
      for (std::size_t i = 0; i < n; ++i) d[i] = gint16(std::clamp(std::lround(x[i] * 32768.0f), -32768L, 32767L));
    }
    gst_buffer_unmap(b, &map);
    GST_BUFFER_PTS(b) = pts;
    GST_BUFFER_DURATION(b) = at(n, rate_);
    return b;
  }

  // Pushes x[from, from + n) stamped t0 + the time of sample `from`.
  GstFlowReturn push(const std::vector<float>& x, std::size_t from, std::size_t n, guint flags = 0,
                     GstClockTime t0 = 0) {
    GstBuffer* b = make_buffer(x.data() + from, n, t0 + at(from, rate_));
    GST_BUFFER_FLAG_SET(b, flags);
    const GstFlowReturn r = gst_harness_push(h_.get(), b);
    collect();
    return r;
  }

  // The whole signal in blocks of `block` samples (default 20 ms).
  void push_all(const std::vector<float>& x, std::size_t block = 0, GstClockTime t0 = 0) {
    if (block == 0) block = std::size_t(rate_ / 50);
    for (std::size_t i = 0; i < x.size(); i += block)
      ASSERT_EQ(push(x, i, std::min(block, x.size() - i), 0, t0), GST_FLOW_OK);
  }

  void eos() {
    EXPECT_TRUE(gst_harness_push_event(h_.get(), gst_event_new_eos()));
    collect();
  }

  // Takes the output buffers and the bus messages there are so far.
  void collect() {
    while (GstBuffer* b = gst_harness_try_pull(h_.get())) {
      GstMapInfo map;
      gst_buffer_map(b, &map, GST_MAP_READ);
      std::size_t n = 0;
      EXPECT_FALSE(pushed_formats_.empty());
      const GstAudioInfo info = pushed_formats_.empty() ? GstAudioInfo{} : pushed_formats_.front();
      if (!pushed_formats_.empty()) pushed_formats_.erase(pushed_formats_.begin());
      if (GST_AUDIO_INFO_FORMAT(&info) == GST_AUDIO_FORMAT_F32LE) {
        n = map.size / 4;
        const float* f = reinterpret_cast<const float*>(map.data);
        out.insert(out.end(), f, f + n);
      } else {
        n = map.size / 2;
        const gint16* s = reinterpret_cast<const gint16*>(map.data);
        for (std::size_t i = 0; i < n; ++i) out.push_back(float(s[i]) / 32768.0f);
      }
      gst_buffer_unmap(b, &map);
      out_pts.push_back(GST_BUFFER_PTS(b));
      out_sizes.push_back(n);
      out_rates.push_back(GST_AUDIO_INFO_RATE(&info));
      out_gap.push_back(GST_BUFFER_FLAG_IS_SET(b, GST_BUFFER_FLAG_GAP));
      gst_buffer_unref(b);
    }
    while (GstMessage* m = gst_bus_pop(bus_.get())) {
      const GstStructure* s = gst_message_get_structure(m);
      if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ELEMENT && s)
        messages.push_back(parse_tone_message(s));
      else if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_LATENCY)
        ++latency_messages;
      else if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR)
        ++errors;
      gst_message_unref(m);
    }
  }

  guint64 stat(const char* field) {
    GstStructure* s = nullptr;
    g_object_get(h_->element, "stats", &s, nullptr);
    guint64 v = 0;
    EXPECT_TRUE(gst_structure_get_uint64(s, field, &v)) << field;
    gst_structure_free(s);
    return v;
  }

  std::vector<float> out;
  std::vector<GstClockTime> out_pts;
  std::vector<std::size_t> out_sizes;
  std::vector<int> out_rates;
  std::vector<bool> out_gap;
  std::vector<ToneMsg> messages;
  int latency_messages = 0;
  int errors = 0;

 private:
  static GstPadProbeReturn note_format(GstPad* pad, GstPadProbeInfo*, gpointer self) {
    GstAudioInfo info;
    gst_audio_info_init(&info);
    if (GstCaps* caps = gst_pad_get_current_caps(pad)) {
      gst_audio_info_from_caps(&info, caps);
      gst_caps_unref(caps);
    }
    static_cast<Rig*>(self)->pushed_formats_.push_back(info);
    return GST_PAD_PROBE_OK;
  }

  std::vector<GstAudioInfo> pushed_formats_;
  int rate_;
  bool f32_;
  bool caps_sent_ = false;
  BusPtr bus_{gst_bus_new()};
  HarnessPtr h_;
};

// A DTMF test signal: every one of the 16 digits once, random phases and
// onsets, with the truth of where each landed.
dtmftest::Stimulus sixteen_digits(int rate, double on_ms, double off_ms, std::uint32_t seed) {
  dtmftest::Stimulus st(rate, seed);
  st.silence(100, std::size_t(rate / 100));
  for (char d : std::string(dtmftest::kDigits)) {
    dtmftest::Tone t;
    t.digit = d;
    t.duration_ms = on_ms;
    t.low_level_dbm0 = t.high_level_dbm0 = -10.0;
    st.tone(t);
    st.silence(off_ms, std::size_t(rate / 100));
  }
  st.silence(100);
  return st;
}

// S16 signals are compared after the same rounding the element's input got.
std::vector<float> as_pushed(const std::vector<float>& x, bool f32) {
  if (f32) return x;
  std::vector<float> y(x.size());
  for (std::size_t i = 0; i < x.size(); ++i)
    y[i] = float(std::clamp(std::lround(x[i] * 32768.0f), -32768L, 32767L)) / 32768.0f;
  return y;
}

// Each truth digit reported once with start and end, right number, onset
// within 5 ms, duration within 13 ms, level within 1 dB.
void expect_digits(const std::vector<ToneMsg>& msgs, const std::vector<dtmftest::Truth>& truth, int rate,
                   const std::string& what, double onset_tolerance_ms = 5.0, bool confmix_style = false) {
  const auto starts = only(msgs, "dtmf-event", 1);
  const auto ends = only(msgs, "dtmf-event", 0);
  ASSERT_EQ(starts.size(), truth.size()) << what;
  ASSERT_EQ(ends.size(), truth.size()) << what;
  for (std::size_t i = 0; i < truth.size(); ++i) {
    const dtmftest::Truth& t = truth[i];
    const ToneMsg& s = starts[i];
    const ToneMsg& e = ends[i];
    SCOPED_TRACE(what + " digit " + std::string(1, t.digit));
    EXPECT_EQ(s.number, dtmf_number(t.digit));
    EXPECT_EQ(e.number, dtmf_number(t.digit));
    EXPECT_EQ(s.type, 1);
    EXPECT_EQ(s.method, 2);
    // prosodyconfmix's start message has a duration field, set to NONE.
    if (confmix_style)
      EXPECT_EQ(s.duration, GST_CLOCK_TIME_NONE);
    else
      EXPECT_FALSE(s.has_duration);
    EXPECT_NEAR(s.level, t.level_dbm0, 1.0);
    EXPECT_NEAR(e.level, t.level_dbm0, 1.0);
    ASSERT_TRUE(e.has_duration);
    EXPECT_NEAR(ms_of(s.timestamp), ms_of(t.start, rate), onset_tolerance_ms);
    EXPECT_NEAR(ms_of(e.timestamp), ms_of(t.end, rate), 13.0);
    EXPECT_NEAR(ms_of(e.duration), ms_of(t.end - t.start, rate), 13.0);
    EXPECT_EQ(s.running_time, s.timestamp);  // segment from 0, rate 1
    EXPECT_EQ(s.stream_time, s.timestamp);
    EXPECT_NEAR(s.volume, -t.level_dbm0, 1.0);
  }
}

}  // namespace

namespace {

// What the output did to each digit and to everything else.
struct Suppression {
  double min_depth_db = 1e9;     // tone level in minus out, over each digit from 20 ms on
  double max_leak_ms = 0.0;      // 1 ms blocks of a digit whose output is within 30 dB of the tone
  std::size_t changed_away = 0;  // samples differing from the input away from digits
  std::size_t compared_away = 0;
};

Suppression measure_suppression(const std::vector<float>& in, const std::vector<float>& out,
                                const std::vector<dtmftest::Truth>& truth, int rate) {
  Suppression r;
  const std::size_t ms = std::size_t(rate / 1000);
  std::vector<bool> near_tone(in.size(), false);
  for (const dtmftest::Truth& t : truth) {
    const std::size_t from = t.start + 20 * ms;
    for (double f : {dtmftest::low_freq(t.digit), dtmftest::high_freq(t.digit)}) {
      const double in_db = tone_db(in, f, rate, from, t.end - from);
      const double out_db = std::max(-200.0, tone_db(out, f, rate, from, t.end - from));
      r.min_depth_db = std::min(r.min_depth_db, in_db - out_db);
    }
    const double tone_ms = testsig::mean_square(in.data() + t.start, t.end - t.start);
    std::size_t leaking = 0;
    for (std::size_t b = t.start; b + ms <= t.end && b + ms <= out.size(); b += ms)
      if (testsig::mean_square(out.data() + b, ms) > 1e-3 * tone_ms) ++leaking;
    r.max_leak_ms = std::max(r.max_leak_ms, double(leaking));
    const std::size_t lo = t.start > 20 * ms ? t.start - 20 * ms : 0;
    for (std::size_t i = lo; i < std::min(in.size(), t.end + 60 * ms); ++i) near_tone[i] = true;
  }
  for (std::size_t i = 0; i < std::min(in.size(), out.size()); ++i) {
    if (near_tone[i]) continue;
    ++r.compared_away;
    if (out[i] != in[i]) ++r.changed_away;
  }
  return r;
}

std::string label(int rate, bool f32) { return std::to_string(rate) + (f32 ? " F32LE" : " S16LE"); }

// Output buffer times follow one another without a hole or an overlap.
void expect_contiguous(const Rig& r, GstClockTime first = 0) {
  std::size_t pos = 0;
  for (std::size_t k = 0; k < r.out_pts.size(); ++k) {
    if (r.out_sizes[k] == 0) continue;
    const GstClockTime want = first + at(pos, r.out_rates[k]);
    EXPECT_LE(std::llabs(GST_CLOCK_DIFF(want, r.out_pts[k])), (long long)at(1, r.out_rates[k]))
        << "buffer " << k << " at sample " << pos;
    pos += r.out_sizes[k];
  }
}

}  // namespace

// Every digit at every rate and format: once, with its number, start and end
// messages, onset, duration and level.
TEST(ToneSuppress, SixteenDigitsAtEveryRateAndFormat) {
  std::uint32_t seed = 1;
  for (int rate : kRates) {
    for (bool f32 : {false, true}) {
      SCOPED_TRACE(label(rate, f32));
      auto st = sixteen_digits(rate, 80, 80, seed++);
      Rig r(rate, f32);
      r.push_all(st.samples());
      r.eos();
      expect_digits(r.messages, st.truth(), rate, label(rate, f32));
      EXPECT_EQ(r.out.size(), st.samples().size());
      EXPECT_EQ(r.stat("digits"), 16u);
      EXPECT_EQ(r.stat("samples"), st.samples().size());
      expect_contiguous(r);
    }
  }
}

// The digits leave the output (>= 40 dB down, short leak); everything else
// is the input, bit for bit, with and without look-ahead.
TEST(ToneSuppress, SuppressionDepthLeakAndBitExactElsewhere) {
  std::uint32_t seed = 100;
  for (const char* lookahead : {"0", "16000000"}) {
    const bool ahead = std::string(lookahead) != "0";
    for (int rate : kRates) {
      for (bool f32 : {false, true}) {
        SCOPED_TRACE(label(rate, f32) + (ahead ? ", 16 ms look-ahead" : ", no look-ahead"));
        auto st = sixteen_digits(rate, 80, 120, seed++);
        const std::vector<float> in = as_pushed(st.samples(), f32);
        Rig r(rate, f32, {{"lookahead", lookahead}});
        r.push_all(st.samples());
        r.eos();
        ASSERT_EQ(r.out.size(), in.size()) << "the output is the input, aligned";
        const Suppression s = measure_suppression(in, r.out, st.truth(), rate);
        EXPECT_GE(s.min_depth_db, 40.0);
        EXPECT_LE(s.max_leak_ms, ahead ? 3.0 : 15.0);
        EXPECT_GT(s.compared_away, in.size() / 8);
        EXPECT_EQ(s.changed_away, 0u);
        std::printf("[ figures  ] %s, look-ahead %s ns: depth >= %.0f dB, leak <= %.0f ms\n", label(rate, f32).c_str(),
                    lookahead, std::min(s.min_depth_db, 999.0), s.max_leak_ms);
        expect_contiguous(r);
        EXPECT_EQ(only(r.messages, "dtmf-event", 1).size(), 16u);
      }
    }
  }
}

// With suppress=false the audio passes untouched and digits are still
// reported.
TEST(ToneSuppress, DetectOnlyLeavesTheAudioAlone) {
  auto st = sixteen_digits(8000, 60, 60, 7);
  Rig r(8000, false, {{"suppress", "false"}});
  r.push_all(st.samples());
  r.eos();
  EXPECT_EQ(r.out, as_pushed(st.samples(), false));
  expect_digits(r.messages, st.truth(), 8000, "suppress=false");
}

// Talk-off: real speech gives no digit, and is muted (speculatively) for at
// most 0.5 % of its samples.
TEST(ToneSuppress, SpeechGivesNoDigits) {
  std::string why;
  const auto files = dtmftest::speech_files(&why);
  if (files.empty()) PROSODY_SKIP_WITHOUT_DATA(why);
  std::vector<float> speech;
  for (const std::string& f : files) {
    std::vector<float> x;
    int rate = 0;
    if (!testsig::read_wav(f, x, rate) || rate != 8000) continue;
    speech.insert(speech.end(), x.begin(), x.end());
    if (speech.size() > 8000u * 150) break;  // 150 s keeps the suite quick, also under ASan
  }
  if (speech.size() < 8000u * 10) PROSODY_SKIP_WITHOUT_DATA("under 10 s of 8 kHz speech in " << dtmftest::speech_dir());
  Rig r(8000, false);
  r.push_all(speech);
  r.eos();
  EXPECT_EQ(only(r.messages, "dtmf-event").size(), 0u);
  const std::vector<float> in = as_pushed(speech, false);
  ASSERT_EQ(r.out.size(), in.size());
  std::size_t changed = 0;
  for (std::size_t i = 0; i < in.size(); ++i) changed += r.out[i] != in[i];
  EXPECT_LE(double(changed) / double(in.size()), 0.005) << changed << " samples changed";
  std::printf("[ figures  ] %zu s of speech: %zu dtmf-event messages, %.3f %% of samples muted\n", speech.size() / 8000,
              only(r.messages, "dtmf-event").size(), 100.0 * double(changed) / double(in.size()));
}

namespace {

enum class Loss { discont_jump, gap_event, gap_buffer };
const char* loss_name(Loss l) {
  switch (l) {
    case Loss::discont_jump:
      return "DISCONT + timestamp jump";
    case Loss::gap_event:
      return "GAP event";
    default:
      return "GAP buffer";
  }
}

// Pushes x in 20 ms blocks, leaving out block `lost` in the way `how` says.
void push_with_loss(Rig& r, const std::vector<float>& x, std::size_t lost, Loss how) {
  const std::size_t block = std::size_t(r.rate() / 50);
  bool discont = false;
  for (std::size_t i = 0, k = 0; i < x.size(); i += block, ++k) {
    const std::size_t n = std::min(block, x.size() - i);
    if (k != lost) {
      ASSERT_EQ(r.push(x, i, n, discont ? GST_BUFFER_FLAG_DISCONT : 0), GST_FLOW_OK);
      discont = false;
      continue;
    }
    if (how == Loss::discont_jump) {
      discont = true;
    } else if (how == Loss::gap_event) {
      ASSERT_TRUE(gst_harness_push_event(r.h(), gst_event_new_gap(at(i, r.rate()), at(n, r.rate()))));
      r.collect();
    } else {
      const std::vector<float> silence(x.size(), 0.0f);
      ASSERT_EQ(r.push(silence, i, n, GST_BUFFER_FLAG_GAP), GST_FLOW_OK);
    }
  }
}

}  // namespace

// A 20 ms loss inside a 100 ms digit, however it is signalled, with and
// without look-ahead, early, mid or late in the digit: exactly one digit,
// with the onset and the whole duration.
TEST(ToneSuppress, PacketLossInsideADigitIsOneDigit) {
  const int rate = 8000;
  for (Loss how : {Loss::discont_jump, Loss::gap_event, Loss::gap_buffer}) {
    for (const char* lookahead : {"0", "16000000"}) {
      std::uint32_t seed = 300;  // the same signals with and without look-ahead
      for (int trial = 0; trial < 12; ++trial) {
        constexpr int kOffsetsMs[] = {5, 40, 60};
        const int offset_ms = kOffsetsMs[trial % 3];
        SCOPED_TRACE(std::string(loss_name(how)) + ", look-ahead " + lookahead + ", loss from " +
                     std::to_string(offset_ms) + " ms into the digit, seed " + std::to_string(seed));
        dtmftest::Stimulus st(rate, seed++);
        st.silence(200, 160);
        dtmftest::Tone t;
        t.digit = dtmftest::kDigits[seed % 16];
        t.duration_ms = 100;
        st.tone(t);
        st.silence(200);
        const dtmftest::Truth truth = st.truth()[0];
        // The 20 ms block that starts at or after the offset, wholly inside.
        const std::size_t block = rate / 50;
        const std::size_t lost = (truth.start + std::size_t(offset_ms) * 8 + block - 1) / block;
        ASSERT_LE((lost + 1) * block, truth.end);
        Rig r(rate, false, {{"lookahead", lookahead}});
        push_with_loss(r, st.samples(), lost, how);
        r.eos();
        // A loss that begins within 5 ms of the onset leaves less tone before
        // it than one 12 ms analysis window: the ToneSuppressor then reads
        // the onset after the loss, up to 11 ms late (the same without this
        // element: tests/tones/dtmf). The digit is still one digit.
        expect_digits(r.messages, st.truth(), rate, loss_name(how), offset_ms < 12 ? 12.0 : 5.0);
        EXPECT_EQ(r.stat("concealed-samples"), block);
        EXPECT_EQ(r.stat("streams"), 1u);
        const bool ahead = std::string(lookahead) != "0";
        if (ahead || how == Loss::gap_buffer) {
          // A delay line fills the hole (with silence); a GAP buffer passes.
          EXPECT_EQ(r.out.size(), st.samples().size());
          expect_contiguous(r);
        } else {
          EXPECT_EQ(r.out.size(), st.samples().size() - block);
        }
      }
    }
  }
}

// Look-ahead and a loss: the delayed audio before the hole still comes out,
// bit for bit, and the hole is silence.
TEST(ToneSuppress, LookaheadKeepsTheAudioBeforeALoss) {
  const int rate = 16000;
  std::vector<float> x = testsig::white_noise(-20.0, rate / 2, 5);  // noise: no tone
  const std::vector<float> in = as_pushed(x, false);
  const std::size_t block = rate / 50, lost = 10;
  Rig r(rate, false, {{"lookahead", "16000000"}});
  push_with_loss(r, x, lost, Loss::discont_jump);
  r.eos();
  ASSERT_EQ(r.out.size(), in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    const bool in_hole = i >= lost * block && i < (lost + 1) * block;
    ASSERT_EQ(r.out[i], in_hole ? 0.0f : in[i]) << "sample " << i;
  }
  EXPECT_EQ(r.stat("concealed-samples"), block);
}

// A jump of more than 100 ms is a new stream: the digit in progress ends
// there and what follows is judged afresh.
TEST(ToneSuppress, LongJumpStartsANewStream) {
  const int rate = 8000;
  dtmftest::Stimulus st(rate, 9);
  st.silence(100);
  dtmftest::Tone t;
  t.digit = '7';
  t.duration_ms = 200;
  st.tone(t);
  st.silence(100);
  const std::vector<float>& x = st.samples();
  const std::size_t block = 160, cut = (st.truth()[0].start + 800) / block * block;  // ~100 ms in
  Rig r(rate, false);
  for (std::size_t i = 0; i < cut; i += block) ASSERT_EQ(r.push(x, i, block), GST_FLOW_OK);
  for (std::size_t i = cut; i < x.size(); i += block)
    ASSERT_EQ(r.push(x, i, std::min(block, x.size() - i), i == cut ? GST_BUFFER_FLAG_DISCONT : 0, GST_SECOND),
              GST_FLOW_OK);
  r.eos();
  const auto starts = only(r.messages, "dtmf-event", 1), ends = only(r.messages, "dtmf-event", 0);
  ASSERT_EQ(starts.size(), 2u);
  ASSERT_EQ(ends.size(), 2u);
  EXPECT_NEAR(ms_of(ends[0].timestamp), ms_of(cut, rate), 5.0) << "ended where the stream did";
  EXPECT_NEAR(ms_of(starts[1].timestamp), 1000.0 + ms_of(cut, rate), 5.0);
  EXPECT_EQ(r.stat("streams"), 2u);
  EXPECT_EQ(r.stat("concealed-samples"), 0u);
}

// Timestamps going back: the overlap is dropped and counted, the digit
// across it is one digit, and the output is the input without repeats.
TEST(ToneSuppress, BackwardTimestampsDropTheOverlap) {
  const int rate = 8000;
  dtmftest::Stimulus st(rate, 11);
  st.silence(150, 80);
  dtmftest::Tone t;
  t.digit = '#';
  t.duration_ms = 120;
  st.tone(t);
  st.silence(150);
  const std::vector<float>& x = st.samples();
  const std::size_t block = 160, back = 80;
  const std::size_t resend = st.truth()[0].start / block * block + 2 * block;  // inside the digit
  Rig r(rate, true);
  std::size_t i = 0;
  for (; i < resend; i += block) ASSERT_EQ(r.push(x, i, block), GST_FLOW_OK);
  // One buffer starts 10 ms early (its first half was sent already).
  ASSERT_EQ(r.push(x, i - back, block), GST_FLOW_OK);
  for (i += block - back; i < x.size(); i += block) ASSERT_EQ(r.push(x, i, std::min(block, x.size() - i)), GST_FLOW_OK);
  // A whole buffer from the past is dropped.
  const std::size_t before = r.out.size();
  EXPECT_EQ(r.push(x, x.size() - 2 * block, block), GST_FLOW_OK);
  EXPECT_EQ(r.out.size(), before);
  r.eos();
  EXPECT_EQ(r.stat("overlap-samples"), back + block);
  ASSERT_EQ(r.out.size(), x.size());
  expect_contiguous(r);
  const Suppression sup = measure_suppression(x, r.out, st.truth(), rate);
  EXPECT_EQ(sup.changed_away, 0u);
  EXPECT_GT(sup.compared_away, x.size() / 2);
  expect_digits(r.messages, st.truth(), rate, "overlap");
}

// An empty buffer passes; a buffer that is not whole samples is an error
// with a message, not a crash.
TEST(ToneSuppress, EmptyAndBrokenBuffers) {
  Rig r(8000, false);
  const std::vector<float> x(800, 0.0f);
  ASSERT_EQ(r.push(x, 0, 160), GST_FLOW_OK);
  GstBuffer* empty = gst_buffer_new();
  GST_BUFFER_PTS(empty) = at(160, 8000);
  EXPECT_EQ(gst_harness_push(r.h(), empty), GST_FLOW_OK);
  r.collect();
  ASSERT_EQ(r.out_sizes.size(), 2u);
  EXPECT_EQ(r.out_sizes[1], 0u);
  ASSERT_EQ(r.push(x, 160, 160), GST_FLOW_OK);
  EXPECT_EQ(r.errors, 0);
  GstBuffer* odd = gst_buffer_new_allocate(nullptr, 3, nullptr);
  GST_BUFFER_PTS(odd) = at(320, 8000);
  EXPECT_EQ(gst_harness_push(r.h(), odd), GST_FLOW_ERROR);
  r.collect();
  EXPECT_EQ(r.errors, 1);
}

// NaN and infinities never reach the detector or the output.
TEST(ToneSuppress, NonFiniteFloatsAreSanitised) {
  const int rate = 8000;
  dtmftest::Stimulus st(rate, 13);
  st.silence(100, 80);
  dtmftest::Tone t;
  t.digit = '0';
  t.duration_ms = 100;
  st.tone(t);
  st.silence(150);
  std::vector<float> x = st.samples();
  const std::size_t s = st.truth()[0].start;
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  x[s + 80] = nan;
  x[s + 300] = nan;
  x[s + 301] = inf;
  x[200] = -inf;
  x[x.size() - 10] = nan;
  Rig r(rate, true);
  r.push_all(x);
  r.eos();
  EXPECT_EQ(r.stat("sanitised-samples"), 5u);
  ASSERT_EQ(r.out.size(), x.size());
  for (float v : r.out) ASSERT_TRUE(std::isfinite(v));
  EXPECT_EQ(r.out[200], 0.0f);
  expect_digits(r.messages, st.truth(), rate, "NaN");
}

// New caps are a new stream: a digit cut by the change is ended there, the
// look-ahead's tail leaves in the old format, the new stream is judged at
// its own rate.
TEST(ToneSuppress, CapsChangeMidStream) {
  for (const char* lookahead : {"0", "16000000"}) {
    SCOPED_TRACE(std::string("look-ahead ") + lookahead);
    dtmftest::Stimulus a(8000, 21);
    a.silence(100);
    dtmftest::Tone t;
    t.digit = '1';
    t.duration_ms = 80;
    a.tone(t);
    a.silence(100);
    t.digit = '2';
    t.duration_ms = 300;
    a.tone(t);
    const std::size_t cut = a.truth()[1].start + 480;  // 60 ms into '2'
    std::vector<float> first(a.samples().begin(), a.samples().begin() + long(cut));
    dtmftest::Stimulus b(16000, 22);
    b.silence(100);
    t.digit = '3';
    t.duration_ms = 80;
    b.tone(t);
    b.silence(150);

    Rig r(8000, false, {{"lookahead", lookahead}});
    r.push_all(first);
    const GstClockTime t1 = at(cut, 8000);
    r.set_caps(16000, true);
    r.push_all(b.samples(), 0, t1);
    r.eos();

    const auto starts = only(r.messages, "dtmf-event", 1), ends = only(r.messages, "dtmf-event", 0);
    ASSERT_EQ(starts.size(), 3u);
    ASSERT_EQ(ends.size(), 3u);
    EXPECT_EQ(starts[1].number, 2);
    EXPECT_NEAR(ms_of(ends[1].timestamp), ms_of(t1), 5.0) << "'2' ends with its stream";
    EXPECT_NEAR(ms_of(ends[1].duration), 60.0, 13.0);
    EXPECT_EQ(starts[2].number, 3);
    EXPECT_NEAR(ms_of(starts[2].timestamp), ms_of(t1) + ms_of(b.truth()[0].start, 16000), 5.0);
    EXPECT_NEAR(ms_of(ends[2].duration), 80.0, 13.0);
    std::size_t at8 = 0, at16 = 0;
    for (std::size_t k = 0; k < r.out_sizes.size(); ++k) (r.out_rates[k] == 8000 ? at8 : at16) += r.out_sizes[k];
    EXPECT_EQ(at8, cut) << "every 8 kHz sample left before the new caps";
    EXPECT_EQ(at16, b.samples().size());
    EXPECT_EQ(r.stat("streams"), 2u);
  }
}

// Look-ahead raised and lowered while playing: the output stays the input,
// aligned and complete; the latency follows; a decrease waits for the digit
// being removed to end.
TEST(ToneSuppress, LookaheadChangesWhilePlaying) {
  const int rate = 8000;
  dtmftest::Stimulus st(rate, 31);
  st.silence(100);
  for (char d : {'1', '2', '3', '4'}) {
    dtmftest::Tone t;
    t.digit = d;
    t.duration_ms = 80;
    st.tone(t);
    st.silence(250, 40);
  }
  const std::vector<float>& x = st.samples();
  const auto& truth = st.truth();
  const std::size_t block = 160;
  const std::size_t raise_at = (truth[1].start - 800) / block;  // silence before '2'
  const std::size_t lower_at = (truth[2].start + 320) / block;  // inside '3'
  Rig r(rate, false);
  EXPECT_EQ(gst_harness_query_latency(r.h()), 0u);
  for (std::size_t k = 0; k * block < x.size(); ++k) {
    if (k == raise_at) r.set("lookahead", "16000000");
    if (k == lower_at) {
      EXPECT_EQ(gst_harness_query_latency(r.h()), 16 * GST_MSECOND);
      r.set("lookahead", "0");
    }
    ASSERT_EQ(r.push(x, k * block, std::min(block, x.size() - k * block)), GST_FLOW_OK);
    if (k == lower_at + 1) {
      EXPECT_EQ(gst_harness_query_latency(r.h()), 16 * GST_MSECOND) << "the digit is still being removed";
    }
  }
  r.eos();
  EXPECT_EQ(gst_harness_query_latency(r.h()), 0u);
  EXPECT_EQ(r.latency_messages, 2);
  ASSERT_EQ(r.out.size(), x.size());
  expect_contiguous(r);
  const std::vector<float> in = as_pushed(x, false);
  const Suppression s = measure_suppression(in, r.out, truth, rate);
  EXPECT_EQ(s.changed_away, 0u);
  EXPECT_GE(s.min_depth_db, 40.0);
  const Suppression ahead = measure_suppression(in, r.out, {truth[1]}, rate);
  EXPECT_LE(ahead.max_leak_ms, 3.0) << "'2' with 16 ms look-ahead";
  expect_digits(r.messages, truth, rate, "look-ahead changes");
}

// suppress, report and post-messages changed between digits take effect at
// once.
TEST(ToneSuppress, ReportingAndSuppressionChangeWhilePlaying) {
  const int rate = 8000;
  dtmftest::Stimulus st(rate, 41);
  st.silence(100);
  for (char d : {'5', '6', '7', '8'}) {
    dtmftest::Tone t;
    t.digit = d;
    t.duration_ms = 80;
    st.tone(t);
    st.silence(200, 40);
  }
  const std::vector<float>& x = st.samples();
  const auto& truth = st.truth();
  const std::size_t block = 160;
  Rig r(rate, false);
  for (std::size_t k = 0; k * block < x.size(); ++k) {
    const std::size_t i = k * block;
    if (i == (truth[1].start - 400) / block * block) r.set("suppress", "false");
    if (i == (truth[2].start - 400) / block * block) {
      r.set("suppress", "true");
      r.set("report", "end");
    }
    if (i == (truth[3].start - 400) / block * block) r.set("post-messages", "false");
    ASSERT_EQ(r.push(x, i, std::min(block, x.size() - i)), GST_FLOW_OK);
  }
  r.eos();
  const std::vector<float> in = as_pushed(x, false);
  ASSERT_EQ(r.out.size(), in.size());
  for (std::size_t i = truth[1].start; i < truth[1].end + 400; ++i) ASSERT_EQ(r.out[i], in[i]) << "'6' passes";
  EXPECT_GE(measure_suppression(in, r.out, {truth[0], truth[2], truth[3]}, rate).min_depth_db, 40.0);
  const auto dtmf = only(r.messages, "dtmf-event");
  ASSERT_EQ(dtmf.size(), 5u);  // '5' and '6' start and end, '7' end only, '8' nothing
  EXPECT_EQ(dtmf[4].number, 7);
  EXPECT_FALSE(dtmf[4].start);
  EXPECT_EQ(r.stat("digits"), 4u);
}

// The LATENCY query adds the look-ahead to upstream's latency.
TEST(ToneSuppress, LatencyIsTheLookahead) {
  for (int rate : kRates) {
    Rig r(rate, true, {{"lookahead", "10000000"}});
    EXPECT_EQ(gst_harness_query_latency(r.h()), 10 * GST_MSECOND) << rate;
  }
  Rig r(8000, false);
  EXPECT_EQ(gst_harness_query_latency(r.h()), 0u);
}

namespace {

// Bursts of f1 (+ f2) at level_dbm0 each: on_ms on, off_ms off, `cycles`
// times, after lead_ms of silence and before tail_ms of silence. Spans of
// the bursts in samples go to spans.
std::vector<float> cadence(int rate, std::vector<double> freqs, double level_dbm0, double on_ms, double off_ms,
                           int cycles, double lead_ms, double tail_ms,
                           std::vector<std::pair<std::size_t, std::size_t>>* spans = nullptr) {
  const auto samples = [rate](double ms) { return std::size_t(std::lround(ms * rate / 1000.0)); };
  std::vector<float> x(samples(lead_ms + cycles * (on_ms + off_ms) - off_ms + tail_ms), 0.0f);
  for (int c = 0; c < cycles; ++c) {
    const std::size_t from = samples(lead_ms + c * (on_ms + off_ms));
    for (double f : freqs) testsig::add_sine(x, f, level_dbm0, rate, 0.7 * c + f, from, samples(on_ms));
    if (spans) spans->push_back({from, from + samples(on_ms)});
  }
  return x;
}

}  // namespace

// A US busy tone with cadence recognition: prosody-tone messages naming it,
// timed by its bursts (edges within 8 ms: the call-progress detector works
// on 4 ms sub-blocks); the tone leaves the output.
TEST(ToneSuppress, BusyToneIsReportedAndRemoved) {
  const int rate = 8000;
  std::vector<std::pair<std::size_t, std::size_t>> bursts;
  const std::vector<float> x = cadence(rate, {480, 620}, -20.0, 500, 500, 4, 300, 1000, &bursts);
  Rig r(rate, false, {{"tone-set", "call-progress"}, {"cptone-recognition", "true"}});
  r.push_all(x);
  r.eos();
  EXPECT_TRUE(only(r.messages, "dtmf-event").empty());
  std::vector<ToneMsg> simple, busy;
  for (const ToneMsg& m : only(r.messages, "prosody-tone")) (m.tone == "tone" ? simple : busy).push_back(m);
  // Each burst: band 0 (480 Hz) with band 4 (620 Hz), start and end.
  ASSERT_EQ(simple.size(), 2 * bursts.size());
  for (std::size_t b = 0; b < bursts.size(); ++b) {
    SCOPED_TRACE("burst " + std::to_string(b));
    const ToneMsg& on = simple[2 * b];
    const ToneMsg& off = simple[2 * b + 1];
    EXPECT_TRUE(on.start);
    EXPECT_FALSE(off.start);
    EXPECT_EQ(on.id, 0);
    EXPECT_EQ(on.id2, 4);
    EXPECT_NEAR(ms_of(on.timestamp), ms_of(bursts[b].first, rate), 8.0);
    EXPECT_NEAR(ms_of(off.timestamp), ms_of(bursts[b].second, rate), 8.0);
    EXPECT_NEAR(ms_of(off.duration), 500.0, 13.0);
    EXPECT_NEAR(on.level, -20.0, 1.0);
    EXPECT_EQ(on.volume, 20);
  }
  // The cadence: pause, burst, pause, burst (the 300 ms lead is too short a
  // pause), so it is matched from the second burst to the end of the last.
  ASSERT_EQ(busy.size(), 2u);
  EXPECT_EQ(busy[0].tone, "busy");
  EXPECT_EQ(busy[0].id, 2);
  EXPECT_TRUE(busy[0].start);
  EXPECT_FALSE(busy[1].start);
  EXPECT_NEAR(ms_of(busy[0].timestamp), ms_of(bursts[1].first, rate), 8.0);
  EXPECT_NEAR(ms_of(busy[1].timestamp), ms_of(bursts.back().second, rate), 8.0);
  EXPECT_NEAR(ms_of(busy[1].duration), ms_of(busy[1].timestamp - busy[0].timestamp), 1.0);
  EXPECT_EQ(r.stat("tones"), 5u);
  // Removed once confirmed (about 100 ms into the first burst, within 80 ms
  // into the later ones).
  ASSERT_EQ(r.out.size(), x.size());
  for (std::size_t b = 0; b < bursts.size(); ++b) {
    const std::size_t from = bursts[b].first + std::size_t(rate / 1000 * (b == 0 ? 150 : 100));
    const double in_db = tone_db(x, 480, rate, from, bursts[b].second - from);
    const double out_db = tone_db(r.out, 480, rate, from, bursts[b].second - from);
    EXPECT_GE(in_db - std::max(out_db, -200.0), 40.0) << "burst " << b;
  }
}

// Fax answer tone (CED, 2100 Hz) at 16 kHz: the band tone and the fax-ced
// cadence, both from its first sample to its last.
TEST(ToneSuppress, FaxAnswerToneIsReported) {
  const int rate = 16000;
  std::vector<std::pair<std::size_t, std::size_t>> spans;
  const std::vector<float> x = cadence(rate, {2100}, -15.0, 3300, 0, 1, 200, 300, &spans);
  Rig r(rate, true, {{"tone-set", "call-progress"}, {"cptone-recognition", "true"}});
  r.push_all(x);
  r.eos();
  const auto msgs = only(r.messages, "prosody-tone");
  ASSERT_EQ(msgs.size(), 4u);
  for (const ToneMsg& m : msgs) {
    SCOPED_TRACE(m.tone + (m.start ? " start" : " end"));
    if (m.tone == "tone") {
      EXPECT_EQ(m.id, 6);  // the CED band, 2085-2115 Hz
    } else {
      EXPECT_EQ(m.tone, "fax-ced");
      EXPECT_EQ(m.id, 7);
    }
    EXPECT_NEAR(ms_of(m.timestamp), ms_of(m.start ? spans[0].first : spans[0].second, rate), 8.0);
    if (!m.start) {
      EXPECT_NEAR(ms_of(m.duration), 3300.0, 13.0);
    }
    EXPECT_NEAR(m.level, -15.0, 1.0);
  }
}

// Real pipelines: parsed from a launch line, run to EOS.
TEST(ToneSuppress, LaunchLinePipelines) {
  {
    PipelineRun run = run_pipeline(
        "audiotestsrc num-buffers=100 samplesperbuffer=160 ! audio/x-raw,rate=8000,channels=1,format=S16LE ! "
        "prosodytonesuppress ! fakesink");
    EXPECT_TRUE(run.eos);
    EXPECT_EQ(run.error, "");
  }
  {
    // Wideband float with look-ahead: every sample comes out, unchanged.
    PipelineRun run = run_pipeline(
        "audiotestsrc num-buffers=50 samplesperbuffer=480 freq=300 ! "
        "audio/x-raw,rate=48000,channels=1,format=F32LE ! tee name=t "
        "t. ! queue ! appsink name=in sync=false "
        "t. ! queue ! prosodytonesuppress lookahead=16000000 ! appsink name=out sync=false");
    EXPECT_TRUE(run.eos);
    EXPECT_EQ(run.error, "");
    EXPECT_EQ(run.sinks["out"].samples.size(), 50u * 480u);
    EXPECT_EQ(run.sinks["out"].samples, run.sinks["in"].samples);
  }
}

// The 16 digits from a WAV file through filesrc ! wavparse: dtmf-event
// messages on the pipeline bus, timed by the file.
TEST(ToneSuppress, DigitsFromAFile) {
  gchar* dir = g_dir_make_tmp("tonesuppress-XXXXXX", nullptr);
  ASSERT_NE(dir, nullptr);
  const std::string path = std::string(dir) + "/digits.wav";
  auto st = sixteen_digits(8000, 60, 60, 51);
  ASSERT_TRUE(testsig::write_wav(path, st.samples(), 8000));
  PipelineRun run = run_pipeline("filesrc location=\"" + path +
                                 "\" ! wavparse ! audioconvert ! "
                                 "audio/x-raw,format=S16LE ! prosodytonesuppress ! fakesink");
  g_unlink(path.c_str());
  g_rmdir(dir);
  g_free(dir);
  EXPECT_TRUE(run.eos);
  EXPECT_EQ(run.error, "");
  std::vector<ToneMsg> msgs;
  for (const GstStructure* s : run.element_messages) msgs.push_back(parse_tone_message(s));
  expect_digits(msgs, st.truth(), 8000, "from a file");
}

// Caps outside the template are refused at negotiation, with an error.
TEST(ToneSuppress, OtherCapsAreRefused) {
  for (const char* caps : {"rate=44100,channels=1,format=S16LE", "rate=8000,channels=2,format=S16LE",
                           "rate=8000,channels=1,format=S32LE", "rate=8000,channels=1,format=S16BE"}) {
    PipelineRun run = run_pipeline(std::string("audiotestsrc num-buffers=5 ! audio/x-raw,") + caps +
                                   " ! prosodytonesuppress ! fakesink");
    EXPECT_FALSE(run.eos) << caps;
    EXPECT_NE(run.error, "") << caps;
  }
}

// In a live pipeline the look-ahead adds to the latency the pipeline
// computes.
TEST(ToneSuppress, LivePipelineLatency) {
  const auto latency_of = [](const char* lookahead) -> GstClockTime {
    const std::string d = std::string(
                              "audiotestsrc is-live=true samplesperbuffer=160 ! "
                              "audio/x-raw,rate=8000,channels=1,format=S16LE ! prosodytonesuppress lookahead=") +
                          lookahead + " ! fakesink sync=true";
    ElementPtr p(gst_parse_launch(d.c_str(), nullptr));
    if (!p) return GST_CLOCK_TIME_NONE;
    gst_element_set_state(p.get(), GST_STATE_PLAYING);
    gst_element_get_state(p.get(), nullptr, nullptr, 5 * GST_SECOND);
    GstQuery* q = gst_query_new_latency();
    GstClockTime min = GST_CLOCK_TIME_NONE;
    if (gst_element_query(p.get(), q)) gst_query_parse_latency(q, nullptr, &min, nullptr);
    gst_query_unref(q);
    gst_element_set_state(p.get(), GST_STATE_NULL);
    return min;
  };
  const GstClockTime without = latency_of("0"), with = latency_of("16000000");
  ASSERT_TRUE(GST_CLOCK_TIME_IS_VALID(without));
  ASSERT_TRUE(GST_CLOCK_TIME_IS_VALID(with));
  EXPECT_EQ(with - without, 16 * GST_MSECOND);
}

// prosodyconfmix's sink pads detect tones with the same ToneSuppressor: its
// dtmf-event messages must follow the same rules (once per digit, start and
// end, number, onset, duration) and name the pad; the digits must not
// reach the other party.
// Party 0 says x (with detect-tones=dtmf), party 1 is silent; both inputs
// end with x. What party 1 heard and the dtmf-event messages.
struct ConfMixToneRun {
  std::vector<float> heard;
  std::vector<ToneMsg> msgs;
  std::vector<std::string> pads;
};

// lookahead_ns: sink_0's tone-lookahead (the mix hears party 0 that much later).
ConfMixToneRun run_confmix_tones(const std::vector<float>& x, int rate, guint64 lookahead_ns = 0) {
  ConfMixToneRun out;
  const std::string caps = "audio/x-raw,format=F32LE,rate=" + std::to_string(rate) + ",channels=1,layout=interleaved";
  ElementPtr mix(gst_element_factory_make("prosodyconfmix", "m"));
  EXPECT_TRUE(mix);
  if (!mix) return out;
  BusPtr bus(gst_bus_new());
  gst_element_set_bus(mix.get(), bus.get());
  HarnessPtr h0(gst_harness_new_with_element(mix.get(), "sink_0", "src_0"));
  HarnessPtr h1(gst_harness_new_with_element(mix.get(), "sink_1", "src_1"));
  for (GstHarness* h : {h0.get(), h1.get()}) {
    gst_harness_set_live(h, FALSE);
    gst_harness_set_sink_caps_str(h, caps.c_str());
    gst_harness_set_src_caps_str(h, caps.c_str());
  }
  {
    PadPtr sink0(gst_element_get_static_pad(mix.get(), "sink_0"));
    gst_util_set_object_arg(G_OBJECT(sink0.get()), "detect-tones", "dtmf");
    g_object_set(sink0.get(), "tone-lookahead", lookahead_ns, nullptr);
  }
  const std::size_t block = 160;
  const std::vector<float> silence(block, 0.0f);
  std::vector<float>& heard = out.heard;
  const auto take = [&heard](GstHarness* h, bool keep) {
    while (GstBuffer* b = gst_harness_try_pull(h)) {
      PROSODY_TSAN_ACQUIRE(b);  // pushed by the mixing task's thread
      GstMapInfo map;
      gst_buffer_map(b, &map, GST_MAP_READ);
      const float* f = reinterpret_cast<const float*>(map.data);
      if (keep) heard.insert(heard.end(), f, f + map.size / 4);
      gst_buffer_unmap(b, &map);
      gst_buffer_unref(b);
    }
  };
  for (std::size_t i = 0; i < x.size(); i += block) {
    const std::size_t n = std::min(block, x.size() - i);
    GstBuffer* a = gst_buffer_new_allocate(nullptr, n * 4, nullptr);
    gst_buffer_fill(a, 0, x.data() + i, n * 4);
    GST_BUFFER_PTS(a) = at(i, rate);
    GST_BUFFER_DURATION(a) = at(n, rate);
    GstBuffer* b = gst_buffer_new_allocate(nullptr, n * 4, nullptr);
    gst_buffer_fill(b, 0, silence.data(), n * 4);
    GST_BUFFER_PTS(b) = at(i, rate);
    GST_BUFFER_DURATION(b) = at(n, rate);
    EXPECT_EQ(gst_harness_push(h0.get(), a), GST_FLOW_OK);
    EXPECT_EQ(gst_harness_push(h1.get(), b), GST_FLOW_OK);
    take(h1.get(), true);
    take(h0.get(), false);
  }
  gst_harness_push_event(h0.get(), gst_event_new_eos());
  gst_harness_push_event(h1.get(), gst_event_new_eos());
  // Non-live: the mixing task runs on its own thread; wait for its EOS.
  bool eos = false;
  for (int i = 0; i < 2000 && !eos; ++i) {
    take(h1.get(), true);
    take(h0.get(), false);
    while (GstEvent* ev = gst_harness_try_pull_event(h1.get())) {
      eos = eos || GST_EVENT_TYPE(ev) == GST_EVENT_EOS;
      gst_event_unref(ev);
    }
    if (!eos) g_usleep(1000);
  }
  EXPECT_TRUE(eos);
  take(h1.get(), true);
  while (GstMessage* m = gst_bus_pop_filtered(bus.get(), GST_MESSAGE_ELEMENT)) {
    const GstStructure* s = gst_message_get_structure(m);
    if (s && gst_structure_has_name(s, "dtmf-event")) {
      out.msgs.push_back(parse_tone_message(s));
      const char* pad = gst_structure_get_string(s, "pad");
      out.pads.push_back(pad ? pad : "");
    }
    gst_message_unref(m);
  }
  gst_bus_set_flushing(bus.get(), TRUE);  // the other messages hold the element
  h1.reset();
  h0.reset();
  gst_element_set_state(mix.get(), GST_STATE_NULL);
  return out;
}

TEST(ConfMixTones, DigitsAreReportedWithThePadAndRemoved) {
  const int rate = 8000;
  auto st = sixteen_digits(rate, 80, 100, 61);
  const std::vector<float>& x = st.samples();
  const ConfMixToneRun r = run_confmix_tones(x, rate);
  for (const std::string& p : r.pads) EXPECT_EQ(p, "sink_0");
  expect_digits(r.msgs, st.truth(), rate, "prosodyconfmix", 5.0, true);
  ASSERT_GE(r.heard.size(), x.size());
  EXPECT_GE(measure_suppression(x, r.heard, st.truth(), rate).min_depth_db, 40.0);
}

// With a tone look-ahead the conference removes digits from their start, as
// prosodytonesuppress does: at 16 ms at most 3 ms of a digit reach the other
// party (at 0 the first 9-11 ms do), and the digits are reported as before.
TEST(ConfMixTones, LookaheadRemovesTheStartOfEveryDigit) {
  const int rate = 8000;
  auto st = sixteen_digits(rate, 80, 100, 63);
  const std::vector<float>& x = st.samples();
  double leak_without = 0.0;
  for (guint64 lookahead_ms : {0u, 16u}) {
    SCOPED_TRACE("tone-lookahead " + std::to_string(lookahead_ms) + " ms");
    const ConfMixToneRun r = run_confmix_tones(x, rate, lookahead_ms * GST_MSECOND);
    expect_digits(r.msgs, st.truth(), rate, "prosodyconfmix", 5.0, true);
    // Party 0's audio reaches the mix lookahead later: compare it where it is.
    const std::size_t delay = lookahead_ms * rate / 1000;
    ASSERT_GE(r.heard.size(), x.size() + delay);
    const std::vector<float> aligned(r.heard.begin() + long(delay), r.heard.end());
    const Suppression s = measure_suppression(x, aligned, st.truth(), rate);
    std::printf("[ figures  ] prosodyconfmix, tone-lookahead %u ms: depth >= %.0f dB, leak <= %.0f ms\n",
                unsigned(lookahead_ms), std::min(s.min_depth_db, 999.0), s.max_leak_ms);
    EXPECT_GE(s.min_depth_db, 40.0);
    if (lookahead_ms == 0) leak_without = s.max_leak_ms;
    else EXPECT_LE(s.max_leak_ms, 3.0);
  }
  EXPECT_GE(leak_without, 6.0) << "without look-ahead the start of a digit is heard (what the look-ahead is for)";
}

// The inputs end 80 ms into a 300 ms digit: its end is still reported, where
// the input stopped, with the length it had.
TEST(ConfMixTones, DigitInProgressAtEosIsEnded) {
  const int rate = 8000;
  dtmftest::Stimulus st(rate, 62);
  st.silence(100.0);
  dtmftest::Tone t;
  t.digit = '9';
  t.duration_ms = 300.0;
  st.tone(t);
  const std::size_t cut = st.truth()[0].start + 80 * rate / 1000;
  const std::vector<float> x(st.samples().begin(), st.samples().begin() + long(cut));
  const ConfMixToneRun r = run_confmix_tones(x, rate);
  const auto starts = only(r.msgs, "dtmf-event", 1), ends = only(r.msgs, "dtmf-event", 0);
  ASSERT_EQ(starts.size(), 1u);
  ASSERT_EQ(ends.size(), 1u);
  EXPECT_EQ(ends[0].number, 9);
  EXPECT_NEAR(ms_of(ends[0].duration), 80.0, 13.0);
  EXPECT_NEAR(ms_of(ends[0].timestamp), ms_of(cut, rate), 13.0);
  EXPECT_EQ(r.heard.size(), x.size()) << "the extra frame is heard by no one";
}

// Timestamp jitter under 1 ms without DISCONT is not loss: nothing is
// concealed or dropped, and the buffers keep their own timestamps.
TEST(ToneSuppress, TimestampJitterIsNotLoss) {
  const int rate = 8000;
  auto st = sixteen_digits(rate, 60, 60, 71);
  const std::vector<float>& x = st.samples();
  Rig r(rate, false);
  const std::size_t block = 160;
  std::vector<GstClockTime> sent;
  for (std::size_t i = 0, k = 0; i < x.size(); i += block, ++k) {
    const GstClockTime jitter = (k % 3) * 300 * GST_USECOND;  // 0, 0.3, 0.6 ms late
    ASSERT_EQ(r.push(x, i, std::min(block, x.size() - i), 0, jitter), GST_FLOW_OK);
    sent.push_back(at(i, rate) + jitter);
  }
  r.eos();
  EXPECT_EQ(r.stat("concealed-samples"), 0u);
  EXPECT_EQ(r.stat("overlap-samples"), 0u);
  EXPECT_EQ(r.out_pts, sent);
  expect_digits(r.messages, st.truth(), rate, "jitter", 6.0);
}

// A flush forgets the stream, but a digit whose start was reported still
// gets its end, at the last sample before the flush; a GAP longer than
// 100 ms ends the stream the same way.
TEST(ToneSuppress, FlushAndLongGapEndTheDigitInProgress) {
  for (bool flush : {true, false}) {
    SCOPED_TRACE(flush ? "flush" : "long GAP event");
    const int rate = 8000;
    dtmftest::Stimulus st(rate, 81);
    st.silence(100);
    dtmftest::Tone t;
    t.digit = '9';
    t.duration_ms = 400;
    st.tone(t);
    const std::vector<float>& x = st.samples();
    const std::size_t cut = (st.truth()[0].start + 1200) / 160 * 160;  // about 150 ms into the digit
    Rig r(rate, false, {{"lookahead", "8000000"}});
    for (std::size_t i = 0; i < cut; i += 160) ASSERT_EQ(r.push(x, i, 160), GST_FLOW_OK);
    ASSERT_EQ(only(r.messages, "dtmf-event", 1).size(), 1u);
    if (flush) {
      ASSERT_TRUE(gst_harness_push_event(r.h(), gst_event_new_flush_start()));
      ASSERT_TRUE(gst_harness_push_event(r.h(), gst_event_new_flush_stop(FALSE)));
    } else {
      ASSERT_TRUE(gst_harness_push_event(r.h(), gst_event_new_gap(at(cut, rate), 500 * GST_MSECOND)));
    }
    r.collect();
    const auto ends = only(r.messages, "dtmf-event", 0);
    ASSERT_EQ(ends.size(), 1u);
    EXPECT_EQ(ends[0].number, 9);
    EXPECT_NEAR(ms_of(ends[0].timestamp), ms_of(cut, rate), 5.0);
    EXPECT_EQ(r.stat("streams"), 1u);
    if (!flush) {
      EXPECT_EQ(r.out.size(), cut) << "the look-ahead's tail came out before the gap";
    }
  }
}

// Output timestamps after a loss. Without look-ahead every buffer keeps its
// own timestamp and the output has the input's hole (a GAP buffer passes as
// a GAP buffer); with look-ahead the output runs on without a hole, every
// buffer stamped with the time of its own content.
TEST(ToneSuppress, OutputTimestampsAfterALoss) {
  const int rate = 8000;
  const std::vector<float> x = testsig::white_noise(-20.0, rate / 2, 7);
  const std::size_t block = 160, lost = 10;
  for (Loss how : {Loss::discont_jump, Loss::gap_buffer}) {
    for (const char* lookahead : {"0", "16000000"}) {
      SCOPED_TRACE(std::string(loss_name(how)) + ", look-ahead " + lookahead);
      Rig r(rate, false, {{"lookahead", lookahead}});
      push_with_loss(r, x, lost, how);
      r.eos();
      if (std::string(lookahead) != "0") {
        ASSERT_EQ(r.out.size(), x.size());
        expect_contiguous(r);
        continue;
      }
      const std::size_t buffers = x.size() / block - (how == Loss::gap_buffer ? 0 : 1);
      ASSERT_EQ(r.out_pts.size(), buffers);
      for (std::size_t k = 0; k < buffers; ++k) {
        const std::size_t input_block = how == Loss::discont_jump && k >= lost ? k + 1 : k;
        EXPECT_EQ(r.out_pts[k], at(input_block * block, rate)) << "buffer " << k;
        EXPECT_EQ(r.out_sizes[k], block);
        EXPECT_EQ(r.out_gap[k], how == Loss::gap_buffer && k == lost) << "buffer " << k;
      }
    }
  }
}

// With look-ahead nothing is lost or added at EOS, whatever the buffer size:
// the output is the input bit for bit, on contiguous timestamps that end
// where the input ended.
TEST(ToneSuppress, NothingIsLostAtEosWithLookahead) {
  for (int rate : kRates) {
    for (bool f32 : {false, true}) {
      SCOPED_TRACE(label(rate, f32));
      const std::vector<float> x = testsig::white_noise(-25.0, std::size_t(rate) * 3 / 10, 17);
      Rig r(rate, f32, {{"lookahead", "16000000"}});
      r.push_all(x, 97);  // buffers shorter than the look-ahead at every rate
      r.eos();
      const std::vector<float> in = as_pushed(x, f32);
      ASSERT_EQ(r.out.size(), in.size());
      EXPECT_EQ(r.out, in);
      expect_contiguous(r);
      ASSERT_FALSE(r.out_pts.empty());
      EXPECT_LE(std::llabs(GST_CLOCK_DIFF(at(in.size() - r.out_sizes.back(), rate), r.out_pts.back())),
                (long long)at(1, rate));
    }
  }
}

// New caps mid-stream with look-ahead: the old stream's output, its tail
// included, runs on contiguous timestamps up to the change; the new stream's
// output starts at the change, at its own rate.
TEST(ToneSuppress, CapsChangeKeepsTheTimestamps) {
  const std::vector<float> a = testsig::white_noise(-20.0, 8000 / 4, 3);
  const std::vector<float> b = testsig::white_noise(-20.0, 16000 / 4, 4);
  Rig r(8000, false, {{"lookahead", "16000000"}});
  r.push_all(a);
  const GstClockTime t1 = at(a.size(), 8000);
  r.set_caps(16000, true);
  r.push_all(b, 0, t1);
  r.eos();
  std::size_t first16 = 0;
  while (first16 < r.out_rates.size() && r.out_rates[first16] == 8000) ++first16;
  ASSERT_LT(first16, r.out_rates.size());
  std::size_t pos = 0;
  for (std::size_t k = 0; k < r.out_pts.size(); ++k) {
    if (k == first16) pos = 0;
    const int rate = r.out_rates[k];
    const GstClockTime want = (k < first16 ? 0 : t1) + at(pos, rate);
    EXPECT_LE(std::llabs(GST_CLOCK_DIFF(want, r.out_pts[k])), (long long)at(1, rate)) << "buffer " << k;
    pos += r.out_sizes[k];
  }
  EXPECT_EQ(r.out.size(), a.size() + b.size());
}

namespace {

// Reads the stats property (which takes the element's streaming lock) from
// inside every push: a push with that lock held would deadlock here.
GstPadProbeReturn read_stats_in_push(GstPad* pad, GstPadProbeInfo*, gpointer calls) {
  GstElement* element = gst_pad_get_parent_element(pad);
  GstStructure* s = nullptr;
  g_object_get(element, "stats", &s, nullptr);
  if (s) gst_structure_free(s);
  gst_object_unref(element);
  ++*static_cast<int*>(calls);
  return GST_PAD_PROBE_OK;
}

}  // namespace

// Output goes downstream with no lock of the element held: from
// generate_output, from a GAP event the look-ahead turns into audio, from a
// look-ahead decrease and from the tail at EOS.
TEST(ToneSuppress, NoLockIsHeldWhileOutputIsPushed) {
  const int rate = 8000;
  const std::vector<float> x = testsig::white_noise(-20.0, rate / 2, 9);
  Rig r(rate, false, {{"lookahead", "16000000"}});
  int calls = 0;
  PadPtr src(gst_element_get_static_pad(r.element(), "src"));
  gst_pad_add_probe(src.get(), GST_PAD_PROBE_TYPE_BUFFER, read_stats_in_push, &calls, nullptr);
  push_with_loss(r, x, 5, Loss::gap_event);
  r.set("lookahead", "8000000");
  ASSERT_EQ(r.push(x, 0, 160, GST_BUFFER_FLAG_DISCONT, at(x.size(), rate)), GST_FLOW_OK);
  r.eos();
  EXPECT_EQ(r.out.size(), x.size() + 160);
  EXPECT_EQ(calls, int(r.out_sizes.size()));
  EXPECT_GT(calls, 25);
}

// Every property reads back what was set.
TEST(ToneSuppress, PropertiesReadBackWhatWasSet) {
  ElementPtr e(gst_element_factory_make("prosodytonesuppress", nullptr));
  ASSERT_TRUE(e);
  const std::vector<std::pair<const char*, const char*>> values = {
      {"tone-set", "call-progress"},  {"report", "end"},         {"min-duration", "64ms"}, {"suppress", "false"},
      {"lookahead", "12000000"},      {"standard", "etsi"},      {"twist-normal", "6.5"},  {"twist-reverse", "2.5"},
      {"cptone-recognition", "true"}, {"post-messages", "false"}};
  for (const auto& v : values) gst_util_set_object_arg(G_OBJECT(e.get()), v.first, v.second);
  gint tone_set, report, min_duration, standard;
  gboolean suppress, cptone, post;
  guint64 lookahead;
  gdouble normal, reverse;
  g_object_get(e.get(), "tone-set", &tone_set, "report", &report, "min-duration", &min_duration, "suppress", &suppress,
               "lookahead", &lookahead, "standard", &standard, "twist-normal", &normal, "twist-reverse", &reverse,
               "cptone-recognition", &cptone, "post-messages", &post, nullptr);
  EXPECT_EQ(tone_set, 1);
  EXPECT_EQ(report, 2);
  EXPECT_EQ(min_duration, 2);
  EXPECT_FALSE(suppress);
  EXPECT_EQ(lookahead, 12 * GST_MSECOND);
  EXPECT_EQ(standard, 1);
  EXPECT_EQ(normal, 6.5);
  EXPECT_EQ(reverse, 2.5);
  EXPECT_TRUE(cptone);
  EXPECT_FALSE(post);
}
