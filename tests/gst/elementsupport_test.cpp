// What the prosody elements share (gst/prosodyelementsupport.h): the pad
// base class, tone messages, caps, samples, buffers on the timeline, times,
// the look-ahead's history and property fields.
#include "prosodyelementsupport.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace {

// ---- A pad subclass, as an element would write one ----

struct TestPad {
  ProsodyPad parent;
  int changes;
  int routing_changes;
};
struct TestPadClass {
  ProsodyPadClass parent_class;
};

GType test_pad_get_type();
G_DEFINE_TYPE(TestPad, test_pad, PROSODY_TYPE_PAD)

void test_pad_changed(ProsodyPad* pad, gboolean routing) {
  auto* t = reinterpret_cast<TestPad*>(pad);
  ++t->changes;
  if (routing) ++t->routing_changes;
}

GstStructure* test_pad_stats(ProsodyPad* pad) {
  return gst_structure_new("test-pad-stats", "index", G_TYPE_UINT, prosody_pad_get_index(pad), nullptr);
}

void test_pad_class_init(TestPadClass* klass) {
  klass->parent_class.changed = test_pad_changed;
  klass->parent_class.stats = test_pad_stats;
}

void test_pad_init(TestPad*) {}

}  // namespace

TEST(ProsodyPad, SharedPropertiesReachTheSubclass) {
  GstPad* pad = GST_PAD(g_object_new(test_pad_get_type(), "name", "sink_3", "direction", GST_PAD_SINK, nullptr));
  gst_object_ref_sink(pad);
  auto* t = reinterpret_cast<TestPad*>(pad);
  prosody_pad_set_index(PROSODY_PAD(pad), 3);
  EXPECT_EQ(prosody_pad_get_index(PROSODY_PAD(pad)), 3u);
  g_object_set(pad, "volume", -6.5, "agc", TRUE, nullptr);
  EXPECT_EQ(t->changes, 2);
  EXPECT_EQ(t->routing_changes, 0);
  gdouble volume = 0;
  gboolean agc = FALSE;
  prosody_pad_get_gain(PROSODY_PAD(pad), &volume, &agc);
  EXPECT_EQ(volume, -6.5);
  EXPECT_TRUE(agc);
  g_object_get(pad, "volume", &volume, nullptr);
  EXPECT_EQ(volume, -6.5);
  prosody_pad_changed(PROSODY_PAD(pad), TRUE);
  EXPECT_EQ(t->routing_changes, 1);
  GstStructure* s = nullptr;
  g_object_get(pad, "stats", &s, nullptr);
  ASSERT_NE(s, nullptr);
  EXPECT_TRUE(gst_structure_has_name(s, "test-pad-stats"));
  guint index = 0;
  EXPECT_TRUE(gst_structure_get_uint(s, "index", &index));
  EXPECT_EQ(index, 3u);
  gst_structure_free(s);
  gst_object_unref(pad);
}

// ---- Tone messages ----

namespace {

prosody::ToneEvent event(prosody::RecognitionType type, int code, int code2, bool end, double level) {
  prosody::ToneEvent e;
  e.type = type;
  e.code = code;
  e.code2 = code2;
  e.is_end = end;
  e.level_dbm0 = level;
  return e;
}

int int_field(const GstStructure* s, const char* name) {
  gint v = -999;
  EXPECT_TRUE(gst_structure_get_int(s, name, &v)) << name;
  return v;
}

guint64 time_field(const GstStructure* s, const char* name) {
  guint64 v = 0;
  EXPECT_TRUE(gst_structure_get_uint64(s, name, &v)) << name;
  return v;
}

}  // namespace

TEST(ToneMessages, DtmfEventHasGStreamersFields) {
  prosody_gst::ToneTimes t;
  t.timestamp = 5 * GST_SECOND;
  t.running_time = 3 * GST_SECOND;
  t.stream_time = 4 * GST_SECOND;
  t.duration = 80 * GST_MSECOND;
  GstStructure* start =
      prosody_gst::tone_event_structure(event(prosody::RecognitionType::digit, '#', 0, false, -12.4), t);
  ASSERT_NE(start, nullptr);
  EXPECT_TRUE(gst_structure_has_name(start, "dtmf-event"));
  EXPECT_EQ(int_field(start, "type"), 1);
  EXPECT_EQ(int_field(start, "number"), 11);
  EXPECT_EQ(int_field(start, "method"), 2);
  EXPECT_EQ(int_field(start, "volume"), 12);
  gboolean is_start = FALSE;
  EXPECT_TRUE(gst_structure_get_boolean(start, "start", &is_start));
  EXPECT_TRUE(is_start);
  EXPECT_EQ(time_field(start, "timestamp"), 5 * GST_SECOND);
  EXPECT_EQ(time_field(start, "running-time"), 3 * GST_SECOND);
  EXPECT_EQ(time_field(start, "stream-time"), 4 * GST_SECOND);
  EXPECT_FALSE(gst_structure_has_field(start, "duration")) << "only end messages have one";
  gst_structure_free(start);

  GstStructure* end = prosody_gst::tone_event_structure(event(prosody::RecognitionType::digit, 'D', 0, true, -45), t);
  ASSERT_NE(end, nullptr);
  EXPECT_EQ(int_field(end, "number"), 15);
  EXPECT_EQ(int_field(end, "volume"), 36) << "clamped";
  EXPECT_EQ(time_field(end, "duration"), 80 * GST_MSECOND);
  gst_structure_free(end);

  GstStructure* loud = prosody_gst::tone_event_structure(event(prosody::RecognitionType::digit, '5', 0, false, 3), t);
  EXPECT_EQ(int_field(loud, "volume"), 0) << "clamped";
  gst_structure_free(loud);
  EXPECT_EQ(prosody_gst::tone_event_structure(event(prosody::RecognitionType::digit, 'x', 0, false, -10), t), nullptr);
}

TEST(ToneMessages, ProsodyToneNamesCadencesAndBands) {
  const prosody_gst::ToneTimes t;
  GstStructure* busy = prosody_gst::tone_event_structure(event(prosody::RecognitionType::cptone, 2, 0, false, -20), t);
  EXPECT_TRUE(gst_structure_has_name(busy, "prosody-tone"));
  EXPECT_STREQ(gst_structure_get_string(busy, "tone"), "busy");
  EXPECT_EQ(int_field(busy, "id"), 2);
  EXPECT_EQ(int_field(busy, "id2"), -1);
  EXPECT_EQ(int_field(busy, "volume"), 20);
  gst_structure_free(busy);
  GstStructure* tone = prosody_gst::tone_event_structure(event(prosody::RecognitionType::tone, 0, 4, true, -20), t);
  EXPECT_STREQ(gst_structure_get_string(tone, "tone"), "tone");
  EXPECT_EQ(int_field(tone, "id"), 0);
  EXPECT_EQ(int_field(tone, "id2"), 4);
  EXPECT_EQ(time_field(tone, "duration"), GST_CLOCK_TIME_NONE);
  gst_structure_free(tone);
}

TEST(ToneMessages, RecognitionBecomesAToneEvent) {
  prosody::Recognition r;
  r.type = prosody::RecognitionType::digit;
  r.param0 = '7';
  r.is_end = true;
  r.start_sample = 1234;
  r.duration_ms = 90;
  r.level_dbm0 = -8;
  const prosody::ToneEvent e = prosody_gst::tone_event_of(r);
  EXPECT_EQ(e.type, prosody::RecognitionType::digit);
  EXPECT_EQ(e.code, '7');
  EXPECT_TRUE(e.is_end);
  EXPECT_EQ(e.start_sample, 1234u);
  EXPECT_EQ(e.duration_ms, 90u);
  EXPECT_EQ(e.level_dbm0, -8);
}

// ---- Caps ----

TEST(Caps, AnswerAtAFixedRate) {
  GstCaps* templ_caps = gst_caps_from_string(PROSODY_AUDIO_CAPS);
  GstPadTemplate* templ = gst_pad_template_new("sink", GST_PAD_SINK, GST_PAD_ALWAYS, templ_caps);
  gst_object_ref_sink(templ);
  GstPad* pad = gst_pad_new_from_template(templ, "sink");
  gst_object_ref_sink(pad);
  GstCaps* any_rate = prosody_gst::caps_at_rate(pad, 0, nullptr);
  GstCaps* at16 = prosody_gst::caps_at_rate(pad, 16000, nullptr);
  GstCaps* at8 = gst_caps_from_string("audio/x-raw,rate=8000");
  GstCaps* none = prosody_gst::caps_at_rate(pad, 16000, at8);
  GstCaps* some = prosody_gst::caps_at_rate(pad, 0, at8);
  gint rate = 0;
  EXPECT_TRUE(gst_structure_get_int(gst_caps_get_structure(at16, 0), "rate", &rate));
  EXPECT_EQ(rate, 16000);
  EXPECT_FALSE(gst_structure_get_int(gst_caps_get_structure(any_rate, 0), "rate", &rate)) << "a list";
  EXPECT_TRUE(gst_caps_is_empty(none));
  EXPECT_FALSE(gst_caps_is_empty(some));
  for (GstCaps* c : {any_rate, at16, at8, none, some, templ_caps}) gst_caps_unref(c);
  gst_object_unref(pad);
  gst_object_unref(templ);
}

TEST(Caps, OnlyMonoS16OrF32AtTheModuleRates) {
  const auto check = [](const char* text) {
    GstCaps* caps = gst_caps_from_string(text);
    GstAudioInfo info;
    const char* why = nullptr;
    const bool ok = prosody_gst::parse_audio_caps(caps, &info, &why);
    gst_caps_unref(caps);
    return ok ? std::string("ok") : std::string(why);
  };
  EXPECT_EQ(check("audio/x-raw,format=S16LE,rate=8000,channels=1,layout=interleaved"), "ok");
  EXPECT_EQ(check("audio/x-raw,format=F32LE,rate=48000,channels=1,layout=interleaved"), "ok");
  EXPECT_EQ(check("audio/x-raw,format=S16LE,rate=44100,channels=1,layout=interleaved"),
            "the rate is not 8000, 16000, 32000 or 48000 Hz");
  EXPECT_EQ(check("audio/x-raw,format=S16LE,rate=8000,channels=2,layout=interleaved,channel-mask=(bitmask)0x3"),
            "not mono S16LE or F32LE audio");
  EXPECT_EQ(check("audio/x-raw,format=S32LE,rate=8000,channels=1,layout=interleaved"), "not mono S16LE or F32LE audio");
}

// ---- Samples ----

TEST(Samples, NonFiniteValuesBecomeZero) {
  std::vector<float> x(37, 0.25f);
  x[0] = std::numeric_limits<float>::quiet_NaN();
  x[9] = std::numeric_limits<float>::infinity();
  x[36] = -std::numeric_limits<float>::infinity();
  EXPECT_EQ(prosody_gst::sanitise_samples(x.data(), x.size()), 3u);
  for (std::size_t i = 0; i < x.size(); ++i) EXPECT_EQ(x[i], (i == 0 || i == 9 || i == 36) ? 0.0f : 0.25f) << i;
  EXPECT_EQ(prosody_gst::sanitise_samples(x.data(), x.size()), 0u);
}

TEST(Samples, StoredInEitherFormatWithLibprosodysRule) {
  const std::vector<float> x = {0.5f / 32768, 1.5f / 32768, -2.5f / 32768, 2.0f, -2.0f, 1000.0f / 32768};
  GstBuffer* s16 = prosody_gst::new_audio_buffer(x.data(), x.size(), prosody::SampleFormat::s16);
  GstBuffer* f32 = prosody_gst::new_audio_buffer(x.data(), x.size(), prosody::SampleFormat::f32);
  ASSERT_EQ(gst_buffer_get_size(s16), x.size() * 2);
  std::vector<std::int16_t> got(x.size());
  gst_buffer_extract(s16, 0, got.data(), x.size() * 2);
  EXPECT_EQ(got, (std::vector<std::int16_t>{0, 2, -2, 32767, -32768, 1000}));  // half to even, saturated
  std::vector<float> same(x.size());
  gst_buffer_extract(f32, 0, same.data(), x.size() * 4);
  EXPECT_EQ(same, x);
  gst_buffer_unref(s16);
  gst_buffer_unref(f32);
}

// ---- Buffers on the timeline, times ----

TEST(TimelineBuffers, ABufferIsReleasedOnceWhenConsumed) {
  prosody_gst::Timeline t;
  GstBuffer* buf = gst_buffer_new_allocate(nullptr, 320, nullptr);
  bool freed = false;
  gst_mini_object_weak_ref(
      GST_MINI_OBJECT(buf), [](gpointer f, GstMiniObject*) { *static_cast<bool*>(f) = true; }, &freed);
  GST_BUFFER_FLAG_SET(buf, GST_BUFFER_FLAG_DISCONT);
  prosody_gst::Placement p;
  ASSERT_TRUE(prosody_gst::push_buffer(t, buf, 20 * GST_MSECOND, 8000, prosody::SampleFormat::s16, false, &p));
  EXPECT_EQ(p.start, 160);
  EXPECT_EQ(p.kept, 160u);
  prosody_gst::TimelineFrame f;
  t.take(100, f);
  t.release_taken();
  EXPECT_FALSE(freed) << "60 samples still queued";
  t.take(60, f);
  EXPECT_FALSE(freed) << "the pieces are in use until release_taken()";
  t.release_taken();
  EXPECT_TRUE(freed);
}

TEST(Times, PositionsAreRoundedSamplesOfRunningTime) {
  EXPECT_EQ(prosody_gst::position_of(GST_CLOCK_TIME_NONE, 8000), prosody_gst::Timeline::kNoPosition);
  EXPECT_EQ(prosody_gst::position_of(GST_SECOND, 8000), 8000);
  EXPECT_EQ(prosody_gst::position_of(62500, 8000), 1);  // half a sample rounds up
  EXPECT_EQ(prosody_gst::position_of(62499, 8000), 0);
  EXPECT_EQ(prosody_gst::running_time_of(48000, 48000), GST_SECOND);
  EXPECT_EQ(prosody_gst::running_time_of(-1, 8000), GST_CLOCK_TIME_NONE);
  for (std::int64_t p : {0, 1, 7, 160, 123457})
    EXPECT_EQ(prosody_gst::position_of(prosody_gst::running_time_of(p, 16000), 16000), p);
}

// ---- The look-ahead's history ----

TEST(RecentInput, KeepsTheLatestSamplesByPosition) {
  prosody_gst::RecentInput h;
  std::vector<float> x(3000);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = float(i);
  h.add(5000, x.data(), 2000);       // positions 5000..6999; the ring keeps the last 1024
  h.add(7000, nullptr, 10);          // lost
  h.add(7010, x.data() + 2000, 50);  // 7010..7059 = 2000..2049
  std::vector<float> out(200);
  h.copy(6900, 7100 - 40, out.data());
  for (std::int64_t p = 6900; p < 7060; ++p) {
    const float want = p < 7000 ? float(p - 5000) : p < 7010 ? 0.0f : float(2000 + p - 7010);
    ASSERT_EQ(out[std::size_t(p - 6900)], want) << p;
  }
}

// ---- Property fields ----

TEST(PropertyFields, EveryFundamentalTypeRoundTrips) {
  gint e = 0;
  gboolean b = FALSE;
  guint64 u64 = 0;
  gdouble d = 0;
  gint i = 0;
  guint u = 0;
  GValue v = G_VALUE_INIT;
  g_value_init(&v, GST_TYPE_FORMAT);  // an enum
  g_value_set_enum(&v, GST_FORMAT_TIME);
  prosody_gst::set_field(&e, &v);
  EXPECT_EQ(e, GST_FORMAT_TIME);
  g_value_set_enum(&v, GST_FORMAT_BYTES);
  prosody_gst::get_field(&e, &v);
  EXPECT_EQ(g_value_get_enum(&v), GST_FORMAT_TIME);
  g_value_unset(&v);
  const auto round_trip = [](GType type, auto setter, void* field, auto getter) {
    GValue a = G_VALUE_INIT, back = G_VALUE_INIT;
    g_value_init(&a, type);
    g_value_init(&back, type);
    setter(&a);
    prosody_gst::set_field(field, &a);
    prosody_gst::get_field(field, &back);
    EXPECT_EQ(getter(&a), getter(&back)) << g_type_name(type);
    g_value_unset(&a);
    g_value_unset(&back);
  };
  round_trip(
      G_TYPE_BOOLEAN, [](GValue* x) { g_value_set_boolean(x, TRUE); }, &b,
      [](GValue* x) { return g_value_get_boolean(x); });
  round_trip(
      G_TYPE_UINT64, [](GValue* x) { g_value_set_uint64(x, G_MAXUINT64 - 5); }, &u64,
      [](GValue* x) { return g_value_get_uint64(x); });
  round_trip(
      G_TYPE_DOUBLE, [](GValue* x) { g_value_set_double(x, -2.75); }, &d,
      [](GValue* x) { return g_value_get_double(x); });
  round_trip(
      G_TYPE_INT, [](GValue* x) { g_value_set_int(x, -17); }, &i, [](GValue* x) { return g_value_get_int(x); });
  round_trip(
      G_TYPE_UINT, [](GValue* x) { g_value_set_uint(x, 4000000000u); }, &u,
      [](GValue* x) { return g_value_get_uint(x); });
  EXPECT_TRUE(b);
  EXPECT_EQ(u64, G_MAXUINT64 - 5);
  EXPECT_EQ(d, -2.75);
  EXPECT_EQ(i, -17);
  EXPECT_EQ(u, 4000000000u);
}
